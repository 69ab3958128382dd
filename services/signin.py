"""Phone sign-in (SPEC 1): shared contact or an SMS code, one account per phone, takeover."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from services.errors import (
    DomainError,
    ForeignContact,
    NoPendingPhoneCode,
    PhoneCodeAttemptsExhausted,
    PhoneCodeCooldown,
    PhoneCodeDailyLimit,
    PhoneCodeExpired,
    PhoneCodesOff,
    PhoneCodeWrong,
    PhoneTakeoverExpired,
    PhoneTakeoverStale,
)
from services.events import EventRecorder
from services.invites import InviteService, RedeemResult
from services.names import anonymous_name
from services.phones import normalize_phone
from services.privacy import PrivacyService
from services.zones import guess_zone
from storage.models import InviteCode, PhoneCode, PhoneTakeover, User
from storage.repositories.signin import PhoneTakeoverRepo, QuotaKind, SignInQuotaRepo
from storage.repositories.users import InviteCodeRepo, PhoneCodeRepo, UserRepo

log = logging.getLogger(__name__)

# Reads a Telegram account's row (telegram_id -> the row, detached, or None).
ReadUser = Callable[[int], Awaitable[User | None]]

PHONE_CODE_DIGITS = 6
DAY = timedelta(days=1)


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


@dataclass(frozen=True)
class TakeoverRequested:
    """A code proved a phone bound to another Telegram account: nothing changed; that account is asked."""

    takeover_id: int
    token: str
    phone: str
    owner_telegram_id: int
    owner_language: str | None
    expires_in: timedelta


@dataclass(frozen=True)
class TakeoverAnswered:
    """The account's own Telegram answered a takeover request; `result` is set when it allowed it."""

    allowed: bool
    phone: str
    requester_telegram_id: int
    requester_language: str | None
    result: SignInResult | None = None


def code_digest(key: bytes, salt: str, telegram_id: int, phone: str, code: str) -> str:
    """What is stored of a code: an HMAC keyed by the server's secret (a database dump alone cannot be
    checked against the million possible codes), bound to the account and phone it was sent for."""
    return hmac.new(key, f"code:{salt}:{telegram_id}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def phone_digest(key: bytes, phone: str) -> str:
    """A phone as stored where it only needs to be recognised (daily quotas, takeover requests)."""
    return hmac.new(key, f"phone:{phone}".encode(), hashlib.sha256).hexdigest()


def start_of_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


LAST_SEEN_GRANULARITY = timedelta(minutes=1)


def _language(language_code: str | None) -> str | None:
    """`ru` from Telegram's `ru-RU`: what a member's texts are rendered in when others' actions reach them."""
    code = (language_code or "").split("-")[0].lower()
    return code[:8] or None


class _PhoneTaken(Exception):
    """Another account bound the phone between our read and our write (`_bind_phone`), or, for a proven
    phone, since the caller's read: the caller takes that account over (contact) or asks it (code, OAuth)."""

    def __init__(self, owner: User) -> None:
        super().__init__()
        self.owner = owner


class SignInService:
    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        events: EventRecorder,
        invites: InviteService,
        sms: SmsSender | None,
        *,
        default_region: str,
        code_ttl: timedelta,
        max_attempts: int,
        cooldown: timedelta,
        code_key: bytes,
        codes_per_day: int = 5,
        failures_per_day: int = 10,
        takeover_confirm: timedelta = timedelta(hours=1),
        default_timezone: str = "UTC",
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
        self.code_key = code_key
        self.codes_per_day = codes_per_day
        self.failures_per_day = failures_per_day
        self.takeover_confirm = takeover_confirm
        self.default_timezone = default_timezone
        self.quotas = SignInQuotaRepo(session)
        self.takeovers = PhoneTakeoverRepo(session)
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
                    anon_name=anonymous_name(secrets.randbelow, _language(profile.language_code)),
                    language=None,
                    telegram_language=_language(profile.language_code),
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
        language = _language(profile.language_code)
        if language is not None and user.telegram_language != language:
            touch["telegram_language"] = language  # others' notices to them speak it too
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
        if not touches:
            return
        # The relay batch's authors may be gone from the session's (weak) identity map once the relay
        # is done with them: read again in one statement, not one a user.
        held = await self.users.held_or_read(list(touches))
        users: list[User] = []
        changes: list[dict[str, Any]] = []
        for user_id, fields in touches.items():
            user = held.get(user_id)
            if user is None:
                continue
            if user.phone is None:  # signed out meanwhile: personal data is not kept
                fields = {name: value for name, value in fields.items() if name not in ("username", "first_name")}
            changed = {name: value for name, value in fields.items() if getattr(user, name) != value}
            if changed:
                users.append(user)
                changes.append(changed)
        if users:
            await self.users.write_touches(users, changes)  # one statement for the lot, not one a user

    async def remember_invite_code(self, user: User, code: str) -> None:
        """Keep a deep-link invite code until sign-in finishes."""
        user.pending_invite_code = code[:16]

    async def sign_in_with_contact(self, user: User, contact_user_id: int | None, phone: str) -> SignInResult:
        """Bind the shared phone to this Telegram account. Raises ForeignContact or InvalidPhone."""
        if contact_user_id is None or contact_user_id != user.telegram_id:
            raise ForeignContact()
        phone = normalize_phone(phone, self.default_region, international=True)
        try:
            return await self._bind_phone(user, phone)
        except _PhoneTaken as taken:  # as a moment later: Telegram verified the phone, the account is taken over
            return await self._take_over(user, taken.owner)

    async def sign_in_with_verified_phone(self, user: User, phone: str) -> SignInResult | TakeoverRequested:
        """A phone an OAuth provider verified. Like a code, and unlike a shared contact (which Telegram
        itself verified for this very Telegram account), it never takes an account bound to another
        Telegram account on its own: that account is asked (TakeoverRequested). The browser that
        finished the provider's login need not be this Telegram user's. Raises InvalidPhone."""
        return await self._bind_proven_phone(user, normalize_phone(phone, self.default_region, international=True))

    @property
    def phone_codes_offered(self) -> bool:
        """Whether `/phone` is offered: only with an SMS sender (a real one, or the log behind its flag)."""
        return self.sms is not None

    async def request_phone_code(self, user: User, raw_phone: str) -> PhoneCodeSent:
        """Send a 6-digit code to the phone. Raises PhoneCodesOff, InvalidPhone, PhoneCodeCooldown or
        PhoneCodeDailyLimit (this phone, or this Telegram account, had its codes for today)."""
        if self.sms is None:
            raise PhoneCodesOff()
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
        await self._take_quota(self._subjects(user.telegram_id, phone), "codes", self.codes_per_day, now)
        await self.phone_codes.close_open_for(user.telegram_id, now)
        code = f"{secrets.randbelow(10**PHONE_CODE_DIGITS):0{PHONE_CODE_DIGITS}d}"
        salt = secrets.token_hex(16)
        await self.phone_codes.add(
            PhoneCode(
                telegram_id=user.telegram_id,
                phone=phone,
                code_hash=code_digest(self.code_key, salt, user.telegram_id, phone, code),
                salt=salt,
                attempts=0,
                created_at=now,
                expires_at=now + self.code_ttl,
            )
        )
        await self.sms.send_code(phone, code)
        return PhoneCodeSent(phone=phone, expires_in=self.code_ttl)

    async def verify_phone_code(self, user: User, text: str) -> SignInResult | TakeoverRequested:
        """Check a typed code. Raises NoPendingPhoneCode, PhoneCodeExpired, PhoneCodeWrong,
        PhoneCodeAttemptsExhausted or PhoneCodeDailyLimit; a wrong code counts an attempt on the code
        and a failure for the day (and that is kept). A right code for a phone bound to another
        Telegram account changes nothing: that account is asked (TakeoverRequested)."""
        telegram_id = user.telegram_id
        assert telegram_id is not None
        now = self.clock.now()
        # The attempt is counted before the code is compared, in one statement: concurrent guesses
        # (several instances) share the code's attempts instead of each reading "none used yet".
        attempt = await self.phone_codes.take_attempt(telegram_id, now, self.max_attempts)
        if attempt is None:
            pending = await self.phone_codes.newest_for(telegram_id)
            if pending is None or pending.closed_at is not None:
                raise NoPendingPhoneCode()
            await self.phone_codes.close(pending.id, now)
            if pending.expires_at <= now:
                raise PhoneCodeExpired()
            raise PhoneCodeAttemptsExhausted()
        subjects = self._subjects(telegram_id, attempt.phone)
        try:
            # Counted as a failure up front, given back when right: concurrent guesses cannot outrun the cap.
            await self._take_quota(subjects, "failures", self.failures_per_day, now)
        except PhoneCodeDailyLimit:
            await self.phone_codes.close(attempt.id, now)
            raise
        typed = code_digest(self.code_key, attempt.salt, telegram_id, attempt.phone, text.strip())
        if not hmac.compare_digest(typed, attempt.code_hash):
            if attempt.attempts >= self.max_attempts:
                await self.phone_codes.close(attempt.id, now)
                raise PhoneCodeAttemptsExhausted()
            raise PhoneCodeWrong(left=self.max_attempts - attempt.attempts)
        for subject in subjects:
            await self.quotas.give_back(subject, start_of_day(now), "failures")
        if not await self.phone_codes.close(attempt.id, now):
            raise NoPendingPhoneCode()  # a concurrent right guess used it
        return await self._bind_proven_phone(user, attempt.phone)

    async def answer_takeover(self, user: User, takeover_id: int, token: str, allow: bool) -> TakeoverAnswered:
        """The answer of the account a code sign-in would take over, from its own Telegram account.
        Raises PhoneTakeoverStale (not this account's request, answered already, the phone or the
        requester changed since) or PhoneTakeoverExpired; either way nothing changes."""
        now = self.clock.now()
        takeover = await self.takeovers.get(takeover_id)
        if (
            takeover is None
            or not hmac.compare_digest(takeover.token.encode(), token.encode())
            or takeover.owner_id != user.id
            or takeover.owner_telegram_id != user.telegram_id
            or takeover.decided_at is not None
        ):
            raise PhoneTakeoverStale()
        if takeover.expires_at <= now:
            await self.takeovers.decide(takeover.id, "expired", now)
            raise PhoneTakeoverExpired()
        if user.phone is None or not hmac.compare_digest(
            phone_digest(self.code_key, user.phone), takeover.phone_digest
        ):
            await self.takeovers.decide(takeover.id, "void", now)  # signed out or another phone since
            raise PhoneTakeoverStale()
        requester = await self.users.by_telegram_id(takeover.requester_telegram_id)
        language = requester.language if requester is not None else None
        if not allow:
            if not await self.takeovers.decide(takeover.id, "denied", now):
                raise PhoneTakeoverStale()
            return TakeoverAnswered(False, user.phone, takeover.requester_telegram_id, language)
        if requester is None or requester.signed_in:
            await self.takeovers.decide(takeover.id, "void", now)  # signed in some other way meanwhile
            raise PhoneTakeoverStale()
        if not await self.takeovers.decide(takeover.id, "allowed", now):
            raise PhoneTakeoverStale()  # a concurrent press answered it
        self._touch = None  # the presser's profile must not be written onto the row it just gave away
        phone = user.phone
        result = await self._take_over(requester, user)
        return TakeoverAnswered(True, phone, takeover.requester_telegram_id, language, result)

    async def purge_phone_code_leftovers(self) -> None:
        """Forget quotas of past days, takeover requests answered or expired a day ago, and codes (with
        their phones) asked for a day ago: until then the cooldown may still count them."""
        now = self.clock.now()
        await self.phone_codes.purge_before(now - DAY, now)
        await self.quotas.purge_before(start_of_day(now) - DAY)
        await self.takeovers.purge_before(now - DAY)

    def _subjects(self, telegram_id: int, phone: str) -> tuple[str, str]:
        return f"tg:{telegram_id}", f"phone:{phone_digest(self.code_key, phone)}"

    async def _take_quota(self, subjects: tuple[str, ...], kind: QuotaKind, cap: int, now: datetime) -> None:
        """One more for each subject today, or none at all: raises PhoneCodeDailyLimit at a cap."""
        day = start_of_day(now)
        taken: list[str] = []
        for subject in subjects:
            if not await self.quotas.take(subject, day, kind, cap):
                for given in taken:
                    await self.quotas.give_back(given, day, kind)
                minutes = max(1, int(((day + DAY - now).total_seconds() + 59) // 60))
                raise PhoneCodeDailyLimit(hours=minutes // 60, minutes=minutes % 60)
            taken.append(subject)

    async def _bind_proven_phone(self, user: User, phone: str) -> SignInResult | TakeoverRequested:
        """A code proved the phone. A code never takes over an account bound to another Telegram account
        on its own: that account's confirmation is asked, and nothing changes until it allows it.

        Confirmation and no waiting period: an account whose owner is away (asleep, no longer reading
        the bot) is exactly the one a waiting period would hand over to a lucky or SIM-swapping guesser.
        Whoever really has the phone and lost the old Telegram account shares the contact instead:
        Telegram itself has verified that phone, and that takes the account over at once."""
        owner = await self.users.by_phone(phone)
        if owner is None or owner.id == user.id or owner.telegram_id is None:
            try:  # nobody else's Telegram account would lose it
                return await self._bind_phone(user, phone, proven=True)
            except _PhoneTaken:  # another account bound it meanwhile: that account is asked, as a moment later
                return await self._bind_proven_phone(user, phone)
        assert user.telegram_id is not None
        now = self.clock.now()
        takeover = await self.takeovers.add(
            PhoneTakeover(
                owner_id=owner.id,
                owner_telegram_id=owner.telegram_id,
                requester_telegram_id=user.telegram_id,
                phone_digest=phone_digest(self.code_key, phone),
                token=secrets.token_urlsafe(12),
                created_at=now,
                expires_at=now + self.takeover_confirm,
            )
        )
        log.info("code sign-in on account %s waits for its Telegram account to allow it", owner.id)
        return TakeoverRequested(
            takeover_id=takeover.id,
            token=takeover.token,
            phone=phone,
            owner_telegram_id=owner.telegram_id,
            owner_language=owner.language,
            expires_in=self.takeover_confirm,
        )

    async def _bind_phone(self, user: User, phone: str, *, proven: bool = False) -> SignInResult:
        """Bind the phone to this account, or take over the account that has it. With `proven` (a code or
        an OAuth provider proved the phone, not Telegram for this very account) an account bound to
        another Telegram account is never taken: raises _PhoneTaken, and its owner is asked. The caller
        read the phone's owner before, but another account's binding may have committed since (READ
        COMMITTED shows it to this read). Its row is locked and read afresh: the caller may have read it
        when no Telegram account had it, and another may have taken it since."""
        now = self.clock.now()
        owner = await self.users.by_phone(phone, lock=proven)
        if owner is not None and owner.id == user.id:
            return SignInResult(user=user, first_time=False, code=await self.invites.current_code(user))
        if owner is not None:
            if proven and owner.telegram_id is not None and owner.telegram_id != user.telegram_id:
                raise _PhoneTaken(owner)
            return await self._take_over(user, owner)
        first_time = user.signed_in_at is None
        try:
            async with self.session.begin_nested():
                user.phone = phone
                user.signed_in_at = user.signed_in_at or now
                user.timezone = user.timezone or guess_zone(phone, self.default_timezone)
                await self.session.flush()
        except IntegrityError:  # another account bound this phone at the same moment (another instance)
            await self.session.refresh(user)
            owner = await self.users.by_phone(phone)
            if owner is None:
                raise
            raise _PhoneTaken(owner) from None
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
        await PrivacyService(self.session).forget(user)  # everything but the row itself
        now = self.clock.now()
        user.phone = None
        user.signed_in_at = None
        user.username = None
        user.first_name = None
        user.nickname = None
        user.timezone = None  # guessed from the phone, so it goes with it
        user.pending_invite_code = None
        user.anon_name = anonymous_name(secrets.randbelow, user.language or user.telegram_language)
        code = await self.codes.current_for(user.id)
        if code is not None:
            await self.codes.revoke(code, now)
        await self.session.flush()
