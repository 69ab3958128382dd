"""Invite codes and referrals (SPEC 2)."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from services.errors import (
    AlreadyRedeemed,
    InviteButtonStale,
    InviteCodeExpired,
    InviteCodeInactive,
    InviteCodeOwn,
    InviteCodeUnknown,
    ReferralCycle,
)
from services.events import EventRecorder
from storage.models import InviteCode, Referral, User
from storage.repositories.users import InviteCodeRepo, ReferralRepo, UserRepo

CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 6
CODE_RE = re.compile(rf"^[A-Za-z0-9]{{{CODE_LENGTH}}}$")
MAX_ISSUE_ATTEMPTS = 20
MAX_CHAIN_DEPTH = 10_000


def generate_code(choice: Callable[[str], str] = secrets.choice) -> str:
    """Six characters of [A-Za-z0-9] from a cryptographically secure generator."""
    return "".join(choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def looks_like_code(text: str) -> bool:
    return bool(CODE_RE.match(text))


@dataclass(frozen=True)
class RedeemResult:
    referral_id: int
    inviter: User


@dataclass(frozen=True)
class ReferralEntry:
    name: str
    phone: str | None
    joined_at: datetime


@dataclass(frozen=True)
class ReferralPage:
    entries: list[ReferralEntry]
    page: int
    pages: int
    total: int


class InviteService:
    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        events: EventRecorder,
        *,
        code_ttl: timedelta,
        page_size: int = 10,
        generate: Callable[[], str] = generate_code,
    ) -> None:
        self.session = session
        self.clock = clock
        self.events = events
        self.code_ttl = code_ttl
        self.page_size = page_size
        self.generate = generate
        self.users = UserRepo(session)
        self.codes = InviteCodeRepo(session)
        self.referrals = ReferralRepo(session)

    def is_active(self, code: InviteCode) -> bool:
        return code.revoked_at is None and code.expires_at > self.clock.now()

    async def current_code(self, user: User) -> InviteCode | None:
        code = await self.codes.current_for(user.id)
        return code if code is not None and self.is_active(code) else None

    async def ensure_code(self, user: User) -> InviteCode:
        """The user's active code, issuing a fresh one when there is none or it has expired."""
        code = await self.codes.current_for(user.id)
        if code is not None and self.is_active(code):
            return code
        return await self._issue(user, replacing=code)

    async def new_code(self, user: User, code_id: int | None) -> InviteCode:
        """Replace the code the button was shown for; a stale button (already replaced) changes nothing."""
        current = await self.codes.current_for(user.id)
        current_id = current.id if current is not None else None
        if code_id != current_id:
            raise InviteButtonStale()
        return await self._issue(user, replacing=current)

    async def delete_code(self, user: User, code_id: int) -> None:
        current = await self.codes.current_for(user.id)
        if current is None or current.id != code_id:
            raise InviteButtonStale()
        await self.codes.revoke(current, self.clock.now())

    async def _issue(self, user: User, replacing: InviteCode | None) -> InviteCode:
        now = self.clock.now()
        if replacing is not None:
            await self.codes.revoke(replacing, now)
        for _ in range(MAX_ISSUE_ATTEMPTS):
            code = InviteCode(code=self.generate(), owner_id=user.id, created_at=now, expires_at=now + self.code_ttl)
            try:
                # A savepoint, so that a clash (same code, or a concurrent issue for this owner) is retried.
                async with self.session.begin_nested():
                    self.session.add(code)
                    await self.session.flush()
            except IntegrityError:
                current = await self.codes.current_for(user.id)
                if current is not None and self.is_active(current):
                    return current  # a concurrent request issued one already
                continue
            except DBAPIError as exc:  # PostgreSQL: two issuers each waiting on the other's new code
                if "deadlock" not in str(exc).lower():
                    raise
                continue
            return code
        raise RuntimeError("could not issue a unique invite code")

    async def redeem(self, user: User, text: str) -> RedeemResult:
        """Apply someone's invite code for `user`.

        Raises AlreadyRedeemed, InviteCodeUnknown, InviteCodeOwn, InviteCodeInactive,
        InviteCodeExpired or ReferralCycle, and changes nothing then.
        """
        text = text.strip()
        if await self.referrals.of_invitee(user.id) is not None:
            raise AlreadyRedeemed()
        code = await self.codes.by_code(text) if looks_like_code(text) else None
        if code is None:
            raise InviteCodeUnknown(code=text[:16])
        if code.owner_id == user.id:
            raise InviteCodeOwn()
        if code.revoked_at is not None:
            raise InviteCodeInactive()
        if code.expires_at <= self.clock.now():
            raise InviteCodeExpired()
        if await self._invited_by_chain(code.owner_id, user.id):
            raise ReferralCycle()
        inviter = await self.users.by_id(code.owner_id)
        if inviter is None:
            raise InviteCodeUnknown(code=text)
        referral = Referral(inviter_id=inviter.id, invitee_id=user.id, code_id=code.id, created_at=self.clock.now())
        try:
            async with self.session.begin_nested():
                await self.referrals.add(referral)
        except IntegrityError:
            raise AlreadyRedeemed() from None
        await self.events.referral(inviter.id, referral.id)
        return RedeemResult(referral_id=referral.id, inviter=inviter)

    async def _invited_by_chain(self, start_id: int, ancestor_id: int) -> bool:
        """True when `ancestor_id` invited `start_id`, directly or through others."""
        seen: set[int] = set()
        current: int | None = start_id
        while current is not None and current not in seen and len(seen) < MAX_CHAIN_DEPTH:
            if current == ancestor_id:
                return True
            seen.add(current)
            referral = await self.referrals.of_invitee(current)
            current = referral.inviter_id if referral is not None else None
        return False

    async def inviter_of(self, user: User) -> User | None:
        return await self.referrals.inviter_of(user.id)

    async def invited_count(self, user: User) -> int:
        return await self.referrals.count_invited_by(user.id)

    async def referrals_page(self, user: User, page: int) -> ReferralPage:
        total = await self.referrals.count_invited_by(user.id)
        pages = max(1, -(-total // self.page_size))
        page = min(max(page, 0), pages - 1)
        rows = await self.referrals.page_invited_by(user.id, page * self.page_size, self.page_size)
        entries = [ReferralEntry(name=u.display_name, phone=u.phone, joined_at=r.created_at) for r, u in rows]
        return ReferralPage(entries=entries, page=page, pages=pages, total=total)

    async def apply_pending(self, user: User) -> RedeemResult | None:
        """Redeem the code remembered from a deep link before sign-in; returns None if there was none."""
        code, user.pending_invite_code = user.pending_invite_code, None
        if not code:
            return None
        return await self.redeem(user, code)
