"""Phone sign-in (SPEC 1): shared contact or an SMS code, one account per phone, takeover."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from services.errors import (
    DomainError,
    ForeignContact,
    NoPendingPhoneCode,
    PhoneCodeAttemptsExhausted,
    PhoneCodeCooldown,
    PhoneCodeExpired,
    PhoneCodeWrong,
)
from services.events import EventRecorder
from services.invites import InviteService, RedeemResult
from services.names import anonymous_name
from services.phones import normalize_phone
from storage.db import get_row
from storage.models import InviteCode, PhoneCode, User
from storage.repositories.relay import RelayRepo
from storage.repositories.users import InviteCodeRepo, PhoneCodeRepo, UserRepo

log = logging.getLogger(__name__)

# Reads a Telegram account's row (telegram_id -> the row, detached, or None).
ReadUser = Callable[[int], Awaitable[User | None]]

PHONE_CODE_DIGITS = 4


class SmsSender(Protocol):
    """Delivers a sign-in code; must not block the caller for long (see bot/sms.py)."""

    async def send_code(self, phone: str, code: str) -> None: ...


@dataclass(frozen=True)
class TelegramProfile:
    telegram_id: int
    username: str | None = None
    first_name: str | None = None
    language_code: str | None = None


@dataclass
class SignInResult:
    user: User
    first_time: bool
    code: InviteCode | None = None
    taken_over_from: int | None = None  # Telegram id that lost the account
    redeemed: RedeemResult | None = None
    redeem_error: DomainError | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PhoneCodeSent:
    phone: str
    expires_in: timedelta


def hash_code(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


LAST_SEEN_GRANULARITY = timedelta(minutes=1)


class SignInService:
    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        events: EventRecorder,
        invites: InviteService,
        sms: SmsSender,
        *,
        default_region: str,
        code_ttl: timedelta,
        max_attempts: int,
        cooldown: timedelta,
    ) -> None:
        self.session = session
        self.clock = clock
        self.events = events
        self.invites = invites
        self.sms = sms
        self.default_region = default_region
        self.code_ttl = code_ttl
        self.max_attempts = max_attempts
        self.cooldown = cooldown
        self.users = UserRepo(session)
        self._touch: tuple[User, dict[str, Any]] | None = None
        self.codes = InviteCodeRepo(session)
        self.phone_codes = PhoneCodeRepo(session)

    async def ensure_user(self, profile: TelegramProfile, read: ReadUser | None = None) -> User:
        """The row for this Telegram account, created on first contact; refreshed on each update.

        `read` reads the row elsewhere (the bot's batched loader: a detached row, taken into this
        session without a query); by default it is read in this session.

        The refresh (profile fields, last seen) is only noted here and written by `save_touch` at the
        end of the update's unit of work: a write taken at the start would hold SQLite's one write
        lock through the whole handler."""
        now = self.clock.now()
        if read is None:
            user = await self.users.by_telegram_id(profile.telegram_id)
        else:
            found = await read(profile.telegram_id)
            user = self.users.adopt(found) if found is not None else None
        if user is None:
            user = await self.users.add_first_contact(
                User(
                    telegram_id=profile.telegram_id,
                    username=profile.username,
                    first_name=profile.first_name,
                    anon_name=anonymous_name(secrets.randbelow),
                    language=None,
                    is_active=True,
                    created_at=now,
                    last_seen_at=now,
                )
            )
            return user
        if not user.is_active:
            user.is_active = True  # reachable again: recipients lists must see it in this very update
        touch: dict[str, Any] = {}
        if user.phone is not None:  # personal data is kept only while signed in
            # Only what changed: most updates then have nothing to write, and no row to read for it.
            if user.username != profile.username:
                touch["username"] = profile.username
            if user.first_name != profile.first_name:
                touch["first_name"] = profile.first_name
        if user.last_seen_at is None or now - user.last_seen_at >= LAST_SEEN_GRANULARITY:
            touch["last_seen_at"] = now  # not on every update: one write a minute is enough for /who
        self._touch = (user, touch)
        return user

    async def save_touch(self) -> None:
        """Write what `ensure_user` noted (called just before the unit of work commits)."""
        await self.save_touches(self.take_touch())

    def take_touch(self) -> dict[int, dict[str, Any]]:
        """Hand over what `ensure_user` noted (users.id -> fields, empty when nothing), to be written by
        `save_touches` in another transaction (the relay batch's); nothing is left to `save_touch`."""
        touch, self._touch = self._touch, None
        if touch is None:
            return {}
        user, fields = touch
        return {user.id: fields} if fields else {}

    async def save_touches(self, touches: dict[int, dict[str, Any]]) -> None:
        """Write noted refreshes (users.id -> fields) in this session."""
        for user_id, fields in touches.items():
            user = await get_row(self.session, User, user_id)  # no query for a user the session holds
            if user is None:
                continue
            if user.phone is None:  # signed out meanwhile: personal data is not kept
                fields = {name: value for name, value in fields.items() if name not in ("username", "first_name")}
            for name, value in fields.items():
                if getattr(user, name) != value:
                    setattr(user, name, value)

    async def remember_invite_code(self, user: User, code: str) -> None:
        """Keep a deep-link invite code until sign-in finishes."""
        user.pending_invite_code = code[:16]

    async def sign_in_with_contact(self, user: User, contact_user_id: int | None, phone: str) -> SignInResult:
        """Bind the shared phone to this Telegram account. Raises ForeignContact or InvalidPhone."""
        if contact_user_id is None or contact_user_id != user.telegram_id:
            raise ForeignContact()
        return await self._bind_phone(user, normalize_phone(phone, self.default_region, international=True))

    async def sign_in_with_verified_phone(self, user: User, phone: str) -> SignInResult:
        """A phone another trusted party verified (an OAuth provider's userinfo): the same binding as a
        shared contact, takeover included. Raises InvalidPhone."""
        return await self._bind_phone(user, normalize_phone(phone, self.default_region, international=True))

    async def request_phone_code(self, user: User, raw_phone: str) -> PhoneCodeSent:
        """Send a 4-digit code to the phone. Raises InvalidPhone or PhoneCodeCooldown."""
        phone = normalize_phone(raw_phone, self.default_region)
        now = self.clock.now()
        assert user.telegram_id is not None
        for previous in (
            await self.phone_codes.latest_for(user.telegram_id),
            await self.phone_codes.latest_for_phone(phone),
        ):
            if previous is not None and previous.created_at + self.cooldown > now:
                wait = previous.created_at + self.cooldown - now
                raise PhoneCodeCooldown(seconds=max(1, int(wait.total_seconds()) + 1))
        await self.phone_codes.close_open_for(user.telegram_id, now)
        code = f"{secrets.randbelow(10**PHONE_CODE_DIGITS):0{PHONE_CODE_DIGITS}d}"
        salt = secrets.token_hex(16)
        await self.phone_codes.add(
            PhoneCode(
                telegram_id=user.telegram_id,
                phone=phone,
                code_hash=hash_code(code, salt),
                salt=salt,
                attempts=0,
                created_at=now,
                expires_at=now + self.code_ttl,
            )
        )
        await self.sms.send_code(phone, code)
        return PhoneCodeSent(phone=phone, expires_in=self.code_ttl)

    async def verify_phone_code(self, user: User, text: str) -> SignInResult:
        """Check a typed code. Raises NoPendingPhoneCode, PhoneCodeExpired, PhoneCodeWrong or
        PhoneCodeAttemptsExhausted; a wrong code counts an attempt (and that is kept)."""
        assert user.telegram_id is not None
        now = self.clock.now()
        pending = await self.phone_codes.latest_for(user.telegram_id)
        if pending is None or pending.closed_at is not None:
            raise NoPendingPhoneCode()
        if pending.expires_at <= now:
            pending.closed_at = now
            raise PhoneCodeExpired()
        if not hmac.compare_digest(hash_code(text.strip(), pending.salt), pending.code_hash):
            pending.attempts += 1
            if pending.attempts >= self.max_attempts:
                pending.closed_at = now
                raise PhoneCodeAttemptsExhausted()
            raise PhoneCodeWrong(left=self.max_attempts - pending.attempts)
        pending.closed_at = now
        return await self._bind_phone(user, pending.phone)

    async def _bind_phone(self, user: User, phone: str) -> SignInResult:
        now = self.clock.now()
        owner = await self.users.by_phone(phone)
        if owner is not None and owner.id == user.id:
            return SignInResult(user=user, first_time=False, code=await self.invites.current_code(user))
        if owner is not None:
            return await self._take_over(user, owner)
        first_time = user.signed_in_at is None
        user.phone = phone
        user.signed_in_at = user.signed_in_at or now
        await self.session.flush()
        result = SignInResult(user=user, first_time=first_time)
        result.code = await self.invites.ensure_code(user)
        if first_time:
            await self.events.registration(user.id)
            try:
                result.redeemed = await self.invites.apply_pending(user)
            except DomainError as exc:
                result.redeem_error = exc
        return result

    async def _take_over(self, current: User, owner: User) -> SignInResult:
        """This Telegram account proves the phone of another account: it becomes that account."""
        telegram_id = current.telegram_id
        previous_telegram_id = owner.telegram_id
        pending, language = current.pending_invite_code, current.language
        # The row this Telegram account had stays, unbound (its history intact), until its phone signs in again.
        current.telegram_id = None
        current.pending_invite_code = None
        await self.session.flush()
        owner.telegram_id = telegram_id
        owner.language = owner.language or language
        owner.pending_invite_code = owner.pending_invite_code or pending
        owner.is_active = True
        await self.session.flush()
        log.info("account %s taken over by another Telegram account", owner.id)
        return SignInResult(
            user=owner,
            first_time=False,
            code=await self.invites.ensure_code(owner),
            taken_over_from=previous_telegram_id,
        )

    async def forget(self, user: User) -> None:
        """Delete personal data; the account needs a new sign-in to be used again."""
        now = self.clock.now()
        user.phone = None
        user.signed_in_at = None
        user.username = None
        user.first_name = None
        user.nickname = None
        user.pending_invite_code = None
        user.anon_name = anonymous_name(secrets.randbelow)
        code = await self.codes.current_for(user.id)
        if code is not None:
            await self.codes.revoke(code, now)
        await RelayRepo(self.session).forget_author(user.id)  # what they wrote stays, anonymous and textless
        await self.session.flush()
