"""Complaints, warnings, bans, moderators and the audit log (SPEC 6).

Rules: one report per reporter and target per `report_cooldown` (24 h); no self-reports; each
accepted report is a warning; at `warnings_to_ban` active warnings the user is banned for
`ban_duration` (doubled for each earlier ban when `ban_escalation` is on) and the count starts
again. Admins (ADMIN_IDS) are never banned or warned. The reported user is never told who
reported. Every action writes the audit log.

Two seams are bound by the relay (the defaults below know no relayed messages):
`RelayedMessageLookup` (which member wrote a relayed message, where the original is) and
`MessageRemover` (delete a relayed message from every chat it was copied to).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services import durations
from services.clock import Clock
from services.errors import (
    AlreadyBanned,
    AlreadyModerator,
    ButtonNotForYou,
    CannotModerate,
    CardOutdated,
    DeleteUnavailable,
    InvalidDuration,
    MessageAlreadyDeleted,
    NotAModerator,
    NotARelayedMessage,
    NotBanned,
    NothingToDelete,
    ReportAlreadyHandled,
    ReportDuplicate,
    ReportNotFound,
    ReportReasonUnknown,
    ReportSelf,
    UserNotFound,
)
from services.phones import mask_phone
from storage.models import AuditEntry, Ban, Report, User, WarningEntry
from storage.repositories.moderation import (
    AuditRepo,
    BanRepo,
    ModeratorRepo,
    ReportRepo,
    UserCounts,
    WarningRepo,
)
from storage.repositories.panel import PanelSessionRepo
from storage.repositories.report_cards import ReportCardRepo
from storage.repositories.users import UserRepo

REASONS = ("spam", "abuse", "other")
REPORT_ACTIONS = ("ban", "warn", "dismiss")
EXCERPT_LENGTH = 200
MAX_ESCALATION_STEPS = 10  # 4 h doubled 10 times is about half a year: enough
MAX_DURATION = timedelta(days=3650)


def parse_duration(text: str) -> timedelta:
    """`30m`, `4h`, `2d`, `1w`, `90s`, and the Russian `30 мин`, `4ч`, `2 дня` -> timedelta. Raises InvalidDuration."""
    duration = durations.parse_duration(text, MAX_DURATION)
    if duration is None:
        raise InvalidDuration(value=text[:32])
    return duration


def looks_like_duration(text: str) -> bool:
    return durations.DURATION_RE.match(text.strip()) is not None


def stored_duration(details: dict[str, Any]) -> timedelta | None:
    """The duration an audit entry recorded (seconds; older entries only have the short form `1d 6h`)."""
    if isinstance(details.get("duration_seconds"), int):
        return timedelta(seconds=details["duration_seconds"])
    parts = [durations.parse_duration(part) for part in str(details.get("duration") or "").split()]
    if not parts or None in parts:
        return None
    return sum((p for p in parts if p is not None), timedelta(0))


def format_duration(duration: timedelta) -> str:
    """The shortest exact form: `4h`, `30m`, `2d`, `1d 6h`."""
    seconds = int(duration.total_seconds())
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts) or "0s"


def format_moment(moment: datetime) -> str:
    """UTC, for the staff web panel (the bot writes times in each member's zone: bot/i18n.py)."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# --- seams bound by the relay ----------------------------------------------------------------
@dataclass(frozen=True)
class RelayedMessage:
    """What moderation needs to know about one relayed message."""

    relay_message_id: int
    author_id: int  # users.id of the member who wrote it
    origin_chat_id: int | None = None  # where the original is (the author's chat with the bot)
    origin_message_id: int | None = None
    excerpt: str | None = None  # a short text of it (caption for media), for the admin chat


class RelayedMessageLookup(Protocol):
    async def find(self, relay_message_id: int) -> RelayedMessage | None:
        """The relayed message with this id, or None."""
        ...

    async def find_by_copy(self, chat_id: int, message_id: int) -> RelayedMessage | None:
        """The relayed message whose copy is `message_id` in `chat_id` (a reader's chat), or None."""
        ...

    async def reached(self, relay_message_id: int, user_id: int) -> bool:
        """Whether the member `user_id` (users.id) wrote this relayed message or was sent a copy of it."""
        ...


class MessageRemover(Protocol):
    async def delete_everywhere(self, relay_message_id: int) -> bool:
        """Delete every copy (and the record) of a relayed message: True if deleted now, False if already gone.

        Raises DeleteUnavailable when deleting is not possible at all.
        """
        ...


class NoRelayedMessages:
    """The lookup until the relay is wired in: knows no relayed messages."""

    def __init__(self, session: AsyncSession | None = None) -> None:
        self.session = session

    async def find(self, relay_message_id: int) -> RelayedMessage | None:
        return None

    async def find_by_copy(self, chat_id: int, message_id: int) -> RelayedMessage | None:
        return None

    async def reached(self, relay_message_id: int, user_id: int) -> bool:
        return False


class NoMessageRemover:
    """The remover until the relay is wired in: deleting is not available."""

    def __init__(self, session: AsyncSession | None = None) -> None:
        self.session = session

    async def delete_everywhere(self, relay_message_id: int) -> bool:
        raise DeleteUnavailable()


LookupFactory = Callable[[AsyncSession], RelayedMessageLookup]
RemoverFactory = Callable[[AsyncSession], MessageRemover]


# --- results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Notice:
    """A message to tell one user (rendered in their language by the bot side)."""

    telegram_id: int | None
    language: str | None
    key: str
    args: dict[str, Any] = field(default_factory=dict)
    timezone: str | None = None  # the zone its times are shown in (None: the default zone)
    about_id: int | None = None  # the member the notice names (their /forget_me erases it), if any

    @classmethod
    def to(cls, user: User, key: str, *, about: User | None = None, **args: Any) -> Notice:
        language = user.language or user.telegram_language
        return cls(user.telegram_id, language, key, args, user.timezone, about.id if about is not None else None)


@dataclass(frozen=True)
class ReportOutcome:
    report: Report
    reporter: User
    target: User
    warnings: int  # active warnings of the target after this report (0 when a ban used them up)
    ban: Ban | None
    notices: list[Notice]


@dataclass(frozen=True)
class WarnOutcome:
    target: User
    warnings: int
    ban: Ban | None
    notices: list[Notice]


@dataclass(frozen=True)
class BanOutcome:
    target: User
    ban: Ban
    notices: list[Notice]


@dataclass(frozen=True)
class HandledReport:
    report: Report
    target: User
    action: str
    ban: Ban | None
    warnings: int
    notices: list[Notice]


@dataclass(frozen=True)
class ComplaintLine:
    report: Report
    reporter: User | None
    target: User | None
    handler: User | None = None


@dataclass(frozen=True)
class ComplaintPage:
    entries: list[ComplaintLine]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class AuditLine:
    entry: AuditEntry
    actor: User | None
    target: User | None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditLine]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class UserCard:
    user: User
    phone: str  # as the viewer may see it: in full for admins, masked for everyone else
    is_admin: bool
    is_moderator: bool
    warnings: int  # active
    warnings_total: int
    reports_against: int
    bans_total: int
    ban: Ban | None


@dataclass(frozen=True)
class ModerationStats:
    users: int
    signed_in: int
    banned_now: int
    open_reports: int
    reports_24h: int
    warnings_24h: int
    moderators: int


class ModerationService:
    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        *,
        admin_ids: frozenset[int] = frozenset(),
        warnings_to_ban: int = 3,
        ban_duration: timedelta = timedelta(hours=4),
        ban_escalation: bool = False,
        report_cooldown: timedelta = timedelta(hours=24),
        page_size: int = 10,
        lookup: RelayedMessageLookup | None = None,
        remover: MessageRemover | None = None,
        button_key: bytes | None = None,
    ) -> None:
        self.session = session
        # Signs the member named by a `/report <name>` reason button (`member_report_seal`); without one
        # (tests that build the service alone) a random key: buttons then last as long as the process.
        self.button_key = button_key or secrets.token_bytes(32)
        self.clock = clock
        self.admin_ids = admin_ids
        self.warnings_to_ban = warnings_to_ban
        self.ban_duration = ban_duration
        self.ban_escalation = ban_escalation
        self.report_cooldown = report_cooldown
        self.page_size = page_size
        self.lookup: RelayedMessageLookup = lookup or NoRelayedMessages(session)
        self.remover: MessageRemover = remover or NoMessageRemover(session)
        self.users = UserRepo(session)
        self.reports = ReportRepo(session)
        self.warnings = WarningRepo(session)
        self.bans = BanRepo(session)
        self.moderators = ModeratorRepo(session)
        self.audit = AuditRepo(session)
        self.counts = UserCounts(session)
        self.panel_sessions = PanelSessionRepo(session)
        self.cards = ReportCardRepo(session)

    # --- who is who ----------------------------------------------------------------------
    def is_admin(self, user: User | None) -> bool:
        return user is not None and user.telegram_id is not None and user.telegram_id in self.admin_ids

    def may_see_phones(self, viewer: User | None) -> bool:
        """Full phone numbers, and finding members by phone, are for admins; moderators see them masked
        (a phone is enough to find a person outside the chat, and moderators are members, too)."""
        return self.is_admin(viewer)

    async def is_moderator(self, user: User | None) -> bool:
        """Admins and members granted /mod."""
        if user is None:
            return False
        return self.is_admin(user) or await self.moderators.get(user.id) is not None

    async def staff(self) -> list[User]:
        """Moderators from the database (admins are the ADMIN_IDS setting)."""
        return await self.moderators.all_users()

    # --- bans as the relay sees them -------------------------------------------------------
    async def is_banned(self, user: User) -> Ban | None:
        """The ban in force for `user` now, or None."""
        return await self.bans.active_for(user.id, self.clock.now())

    # --- reports -----------------------------------------------------------------------
    async def relayed_for(self, user: User, relay_message_id: int) -> RelayedMessage:
        """The relayed message a button of `user`'s names: only one they wrote or were sent a copy of.

        Button data names messages by id, and ids are easy to guess: a forged button would otherwise
        copy someone else's private message to the admin chat, or tell whose it is. Raises
        ButtonNotForYou for any other id, whether or not such a message exists.
        """
        if not await self.lookup.reached(relay_message_id, user.id):
            raise ButtonNotForYou()
        found = await self.lookup.find(relay_message_id)
        if found is None:
            raise ButtonNotForYou()
        return found

    async def find_relayed_copy(self, chat_id: int, message_id: int) -> RelayedMessage:
        found = await self.lookup.find_by_copy(chat_id, message_id)
        if found is None:
            raise NotARelayedMessage()
        return found

    async def member(self, user_id: int) -> User:
        """The account with this id. Raises UserNotFound."""
        user = await self.users.by_id(user_id)
        if user is None:
            raise UserNotFound(ref=f"#{user_id}")
        return user

    async def author_of(self, message: RelayedMessage) -> User:
        author = await self.users.by_id(message.author_id)
        if author is None:
            raise NotARelayedMessage()
        return author

    async def check_can_report(self, reporter: User, target: User) -> None:
        """Raises ReportSelf or ReportDuplicate when a report would be refused (nothing is written)."""
        if reporter.id == target.id:
            raise ReportSelf()
        now = self.clock.now()
        previous = await self.reports.latest_between(reporter.id, target.id, now - self.report_cooldown)
        if previous is not None:
            wait = previous.created_at + self.report_cooldown - now
            raise ReportDuplicate(hours=max(1, math.ceil(wait.total_seconds() / 3600)))

    async def report_message(self, reporter: User, relay_message_id: int, reason: str) -> ReportOutcome:
        """Report the author of a relayed message the reporter wrote or received, keeping the message as
        evidence. Raises ButtonNotForYou for any other message (see `relayed_for`)."""
        message = await self.relayed_for(reporter, relay_message_id)
        return await self.report(reporter, await self.author_of(message), reason, message)

    def member_report_seal(self, reporter: User, target: User) -> str:
        """What a `/report <nickname>` reason button carries besides the member's account id: a MAC of
        the reporter and the target, so the button names only the member this reporter named."""
        mac = hmac.digest(self.button_key, f"report-member:{reporter.id}:{target.id}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac[:9]).decode("ascii")

    async def report_member(self, reporter: User, target_id: int, reason: str, seal: str = "") -> ReportOutcome:
        """A reason pressed after `/report <nickname>`: the button names the member by account id, sealed
        for this reporter (`member_report_seal`). Ids are easy to walk: a forged one would report (and
        warn) members the reporter never named, and tell which ids have an account. Any id without its
        seal, or naming no signed-in member, is answered as a forged button (ButtonNotForYou)."""
        target = await self.users.by_id(target_id)
        if target is None or not target.signed_in:
            raise ButtonNotForYou()
        if not hmac.compare_digest(self.member_report_seal(reporter, target).encode(), seal.encode()):
            raise ButtonNotForYou()
        return await self.report(reporter, target, reason)

    async def report(
        self, reporter: User, target: User, reason: str, evidence: RelayedMessage | None = None
    ) -> ReportOutcome:
        """Accept a report: it is a warning for the target; enough warnings ban them.

        Raises ReportReasonUnknown, ReportSelf, ReportDuplicate (before writing anything).
        The notices never name the reporter.
        """
        if reason not in REASONS:
            raise ReportReasonUnknown()
        await self.bans.hold(target.id)  # before reading: another report or ban of the target waits
        await self.check_can_report(reporter, target)
        now = self.clock.now()
        excerpt = None
        if evidence is not None and evidence.excerpt:
            excerpt = evidence.excerpt[:EXCERPT_LENGTH]
        report = await self.reports.add(
            Report(
                reporter_id=reporter.id,
                target_id=target.id,
                reason=reason,
                relay_message_id=evidence.relay_message_id if evidence else None,
                origin_chat_id=evidence.origin_chat_id if evidence else None,
                origin_message_id=evidence.origin_message_id if evidence else None,
                excerpt=excerpt,
                status="open",
                created_at=now,
            )
        )
        await self._audit(
            reporter,
            "report",
            target,
            reason,
            report_id=report.id,
            relay_message_id=report.relay_message_id,
        )
        if self.is_admin(target):  # reports of admins reach the admin chat but never warn or ban them
            return ReportOutcome(report, reporter, target, 0, None, [])
        await self.warnings.add(WarningEntry(user_id=target.id, report_id=report.id, reason=reason, created_at=now))
        warnings, ban = await self._after_warning(target)
        if ban is not None:
            notices = [Notice.to(target, "moderation-banned-auto", until=ban.until)]
        else:
            notices = [
                Notice.to(target, "moderation-warned-report", reason=reason, count=warnings, max=self.warnings_to_ban)
            ]
        return ReportOutcome(report, reporter, target, warnings, ban, notices)

    async def _after_warning(self, target: User) -> tuple[int, Ban | None]:
        """Ban automatically once the active warnings reach the threshold (not while already banned)."""
        warnings = await self.warnings.count_active(target.id)
        if warnings < self.warnings_to_ban or await self.is_banned(target) is not None:
            return warnings, None
        ban = await self._ban(None, target, await self.default_duration(target), None, auto=True, warnings=warnings)
        return 0, ban

    async def default_duration(self, target: User) -> timedelta:
        """BAN_DURATION, doubled for each earlier ban of the same user when BAN_ESCALATION is on."""
        if not self.ban_escalation:
            return self.ban_duration
        earlier = await self.bans.count_for(target.id)
        return self.ban_duration * (1 << min(earlier, MAX_ESCALATION_STEPS))

    # --- moderator actions --------------------------------------------------------------
    def _check_target(self, actor: User, target: User) -> None:
        if actor.id == target.id or self.is_admin(target):
            raise CannotModerate()

    async def warn(self, actor: User, target: User, reason: str | None, *, report_id: int | None = None) -> WarnOutcome:
        """A moderator's warning; counts towards an automatic ban like a report does."""
        self._check_target(actor, target)
        await self.bans.hold(target.id)
        now = self.clock.now()
        await self.warnings.add(
            WarningEntry(user_id=target.id, report_id=report_id, by_user_id=actor.id, reason=reason, created_at=now)
        )
        await self._audit(actor, "warn", target, reason, report_id=report_id)
        warnings, ban = await self._after_warning(target)
        if ban is not None:
            notices = [Notice.to(target, "moderation-banned-auto", until=ban.until)]
        else:
            notices = [
                Notice.to(
                    target,
                    "moderation-warned",
                    reason=reason or "",
                    has_reason=1 if reason else 0,
                    count=warnings,
                    max=self.warnings_to_ban,
                )
            ]
        return WarnOutcome(target, warnings, ban, notices)

    async def ban(
        self, actor: User, target: User, duration: timedelta | None, reason: str | None, *, report_id: int | None = None
    ) -> BanOutcome:
        """Ban `target` for `duration` (default: BAN_DURATION, escalated). Raises CannotModerate, AlreadyBanned."""
        self._check_target(actor, target)
        await self.bans.hold(target.id)  # before reading: two bans at once make one
        current = await self.is_banned(target)
        if current is not None:
            raise AlreadyBanned(until=current.until)
        ban = await self._ban(
            actor, target, duration or await self.default_duration(target), reason, report_id=report_id
        )
        notice = Notice.to(target, "moderation-banned", until=ban.until, reason=reason or "—")
        return BanOutcome(target, ban, [notice])

    async def _ban(
        self, actor: User | None, target: User, duration: timedelta, reason: str | None, **details: Any
    ) -> Ban:
        now = self.clock.now()
        ban = await self.bans.add(
            Ban(
                user_id=target.id,
                until=now + duration,
                reason=reason,
                by_user_id=actor.id if actor else None,
                created_at=now,
            )
        )
        await self.warnings.use_up(target.id, ban.id)
        await self.panel_sessions.end_for(target.id, now)  # a banned moderator's panel closes at once
        await self._audit(
            actor,
            "ban",
            target,
            reason,
            ban_id=ban.id,
            duration=format_duration(duration),
            duration_seconds=int(duration.total_seconds()),
            until=ban.until.isoformat(),
            **details,
        )
        return ban

    async def unban(self, actor: User, target: User, reason: str | None = None) -> BanOutcome:
        """Lift the ban in force now. Raises CannotModerate (one's own ban is for other staff to lift),
        NotBanned."""
        if actor.id == target.id:
            raise CannotModerate()
        ban = await self.is_banned(target)
        if ban is None or not await self.bans.lift(ban.id, self.clock.now(), actor.id):
            raise NotBanned()
        await self._audit(actor, "unban", target, reason, ban_id=ban.id)
        return BanOutcome(target, ban, [Notice.to(target, "moderation-unbanned")])

    async def lift_expired_bans(self, now: datetime | None = None) -> list[Notice]:
        """Mark bans whose time is over as lifted; returns whom to tell. Safe to run concurrently."""
        now = now or self.clock.now()
        notices: list[Notice] = []
        for ban, user in await self.bans.due(now):
            if not await self.bans.lift(ban.id, now, None):
                continue  # another run lifted it first
            await self._audit(None, "ban_expired", user, None, ban_id=ban.id)
            if await self.is_banned(user) is None:
                notices.append(Notice.to(user, "moderation-ban-over"))
        return notices

    # --- reports in the admin chat and /complaints ----------------------------------------
    async def _open_report(self, report_id: int) -> Report:
        report = await self.reports.by_id(report_id)
        if report is None:
            raise ReportNotFound()
        if report.status != "open":
            handler = await self.users.by_id(report.handled_by) if report.handled_by else None
            raise ReportAlreadyHandled(status=report.status, by=handler.display_name if handler else "—")
        return report

    async def handle_report(
        self, actor: User, report_id: int, action: str, *, duration: timedelta | None = None
    ) -> HandledReport:
        """Ban (for `duration`, default BAN_DURATION), warn or dismiss from a report card or the panel. A
        report is handled once: later presses raise ReportAlreadyHandled and change nothing."""
        if action not in REPORT_ACTIONS:
            raise ReportNotFound()
        report = await self._open_report(report_id)
        target = await self.users.by_id(report.target_id)
        if target is None:
            raise ReportNotFound()
        if action != "dismiss":
            self._check_target(actor, target)
        elif actor.id == target.id:  # a report against oneself is for other staff (it revokes a warning)
            raise CannotModerate()
        if action == "ban" and (current := await self.is_banned(target)) is not None:
            raise AlreadyBanned(until=current.until)
        status = "dismissed" if action == "dismiss" else "confirmed"
        if not await self.reports.close(report.id, status, actor.id, self.clock.now()):
            raise ReportAlreadyHandled(status=status, by="—")
        await self.session.refresh(report)
        reason = f"#{report.id} {report.reason}"
        if action == "dismiss":
            revoked = await self.warnings.revoke_for_report(report.id, self.clock.now())
            await self._audit(actor, "dismiss", target, None, report_id=report.id, warning_revoked=revoked)
            return HandledReport(report, target, action, None, await self.warnings.count_active(target.id), [])
        if action == "warn":
            warned = await self.warn(actor, target, reason, report_id=report.id)
            return HandledReport(report, target, action, warned.ban, warned.warnings, warned.notices)
        banned = await self.ban(actor, target, duration, reason, report_id=report.id)
        return HandledReport(report, target, action, banned.ban, 0, banned.notices)

    async def delete_reported_message(self, actor: User, report_id: int) -> Report:
        """Delete the reported message everywhere (through the relay). Raises NothingToDelete,
        DeleteUnavailable, MessageAlreadyDeleted."""
        report = await self.reports.by_id(report_id)
        if report is None:
            raise ReportNotFound()
        if report.relay_message_id is None:
            raise NothingToDelete()
        if not await self.remover.delete_everywhere(report.relay_message_id):
            raise MessageAlreadyDeleted()
        await self._audit(
            actor, "delete_message", await self.users.by_id(report.target_id), None, report_id=report.id,
            relay_message_id=report.relay_message_id,
        )  # fmt: skip
        return report

    async def remember_card(self, report_id: int, chat_id: int, message_id: int) -> None:
        """A card of this report was posted in a staff chat: an action taken elsewhere edits it."""
        await self.cards.add(report_id, chat_id, message_id, self.clock.now())

    async def cards_of(self, report_id: int) -> list[tuple[int, int]]:
        """(chat_id, message_id) of every card of this report in the staff chats."""
        return await self.cards.of(report_id)

    async def reported_message_deleted(self, report: Report) -> bool:
        """Whether the reported message was deleted everywhere (False for a report of a member)."""
        return report.relay_message_id is not None and await self.cards.message_deleted(report.relay_message_id)

    async def complaint(self, report_id: int) -> ComplaintLine:
        report = await self.reports.by_id(report_id)
        if report is None:
            raise ReportNotFound()
        people = await self.counts.names({i for i in (report.reporter_id, report.target_id, report.handled_by) if i})
        return ComplaintLine(
            report,
            people.get(report.reporter_id),
            people.get(report.target_id),
            people.get(report.handled_by) if report.handled_by else None,
        )

    def _pages(self, total: int, page: int) -> tuple[int, int]:
        pages = max(1, math.ceil(total / self.page_size))
        return pages, min(max(page, 0), pages - 1)

    async def complaints_page(self, page: int) -> ComplaintPage:
        """Open reports, newest first."""
        total = await self.reports.count_open()
        pages, page = self._pages(total, page)
        reports = await self.reports.page_open(page * self.page_size, self.page_size)
        people = await self.counts.names({r.reporter_id for r in reports} | {r.target_id for r in reports})
        entries = [ComplaintLine(r, people.get(r.reporter_id), people.get(r.target_id)) for r in reports]
        return ComplaintPage(entries, page, pages, total)

    # --- moderators -------------------------------------------------------------------
    async def grant_moderator(self, actor: User, target: User) -> None:
        """Raises AlreadyModerator (also for admins)."""
        if self.is_admin(target) or not await self.moderators.grant(target.id, actor.id, self.clock.now()):
            raise AlreadyModerator(name=target.display_name)
        await self._audit(actor, "mod", target, None)

    async def revoke_moderator(self, actor: User, target: User) -> None:
        """Raises NotAModerator."""
        moderator = await self.moderators.get(target.id)
        if moderator is None:
            raise NotAModerator(name=target.display_name)
        await self.moderators.remove(moderator)
        await self.panel_sessions.end_for(target.id, self.clock.now())
        await self._audit(actor, "unmod", target, None)

    # --- cards, stats, audit ------------------------------------------------------------
    async def look_up(self, viewer: User, user: User) -> UserCard:
        """A staff member's /user: the card as `viewer` may see it, and a line in the audit log (so walking
        through the members shows there)."""
        card = await self.user_card(user, viewer=viewer)
        await self._audit(viewer, "lookup", user, None, phone="full" if self.may_see_phones(viewer) else "masked")
        return card

    async def user_card(self, user: User, *, viewer: User | None = None) -> UserCard:
        """`user`'s card; the phone in full only when `viewer` is an admin."""
        return UserCard(
            user=user,
            phone=(user.phone or "—") if self.may_see_phones(viewer) else mask_phone(user.phone),
            is_admin=self.is_admin(user),
            is_moderator=await self.is_moderator(user),
            warnings=await self.warnings.count_active(user.id),
            warnings_total=await self.warnings.count_all(user.id),
            reports_against=await self.reports.count_against(user.id),
            bans_total=await self.bans.count_for(user.id),
            ban=await self.is_banned(user),
        )

    async def warn_from_card(self, actor: User, target: User, seen_warnings: int) -> WarnOutcome:
        """A Warn button on a user card: only if nothing was added since the card was shown (a double
        press changes nothing). Raises CardOutdated."""
        await self.bans.hold(target.id)  # a double press reaching two instances at once
        if await self.warnings.count_all(target.id) != seen_warnings:
            raise CardOutdated()
        return await self.warn(actor, target, None)

    async def stats(self) -> ModerationStats:
        now = self.clock.now()
        day_ago = now - timedelta(hours=24)
        return ModerationStats(
            users=await self.counts.total(),
            signed_in=await self.counts.signed_in(),
            banned_now=await self.bans.count_active(now),
            open_reports=await self.reports.count_open(),
            reports_24h=await self.reports.count_since(day_ago),
            warnings_24h=await self.warnings.count_since(day_ago),
            moderators=await self.moderators.count(),
        )

    async def audit_page(self, page: int) -> AuditPage:
        """The audit log, newest first."""
        total = await self.audit.count()
        pages, page = self._pages(total, page)
        entries = await self.audit.page(page * self.page_size, self.page_size)
        ids = {e.actor_id for e in entries if e.actor_id} | {e.target_id for e in entries if e.target_id}
        people = await self.counts.names(ids)
        lines = [
            AuditLine(
                e,
                people.get(e.actor_id) if e.actor_id else None,
                people.get(e.target_id) if e.target_id else None,
            )
            for e in entries
        ]
        return AuditPage(lines, page, pages, total)

    async def _audit(
        self, actor: User | None, action: str, target: User | None, reason: str | None, **details: Any
    ) -> None:
        await self.audit.add(
            AuditEntry(
                actor_id=actor.id if actor else None,
                action=action,
                target_id=target.id if target else None,
                reason=reason,
                details={k: v for k, v in details.items() if v is not None} or None,
                created_at=self.clock.now(),
            )
        )
