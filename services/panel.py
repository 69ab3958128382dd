"""The staff web panel (SPEC 10, issue 21): sign-in by a one-time link from the bot, sessions, and
every action the panel offers, through the services the bot's commands use.

Who may do what is decided here, never in the web layer or the templates: staff (admins and
moderators, `ModerationService.is_moderator`) see the panel; admins alone change roles, broadcast,
change the runtime limits and see or search full phone numbers (`ModerationService.may_see_phones`),
exactly as `IsAdmin` guards `/mod`, `/broadcast` and `/setlimit` in the bot. A refusal is
PanelForbidden, raised before anything changes.

Login links are `<id>.<secret>.<signature>`: the HMAC signature (a server key, never stored) refuses
a forged link without a database lookup, the row (only a hash of the secret) makes it single use and
five minutes long. A session's cookie token is likewise stored only as a hash, with the CSRF token its
forms carry. Ending a session: `/panel logout`, 12 hours, or a ban or the moderator role taken
(ModerationService ends them; every request checks the role and ban again as well).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import math
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.broadcast import Audience, BroadcastService, Progress
from services.clock import Clock
from services.errors import (
    BroadcastNotFound,
    CardOutdated,
    PanelForbidden,
    PanelLinkInvalid,
    PanelSignedOut,
    PanelStaffOnly,
    UserNotFound,
)
from services.gmfy.client import AccountBalance, UserRating
from services.gmfy.service import GmfyDisabled, GmfyService, GmfyUnavailable
from services.moderation import (
    AuditLine,
    ComplaintLine,
    HandledReport,
    ModerationService,
    Notice,
    UserCard,
    format_duration,
)
from services.phones import mask_phone
from services.relay import Limits, RelayService
from services.users import UserDirectory
from storage.models import (
    AuditEntry,
    Ban,
    Broadcast,
    PanelLogin,
    PanelSession,
    Report,
    Room,
    User,
    WarningEntry,
)
from storage.repositories.panel import (
    AuditQueries,
    MemberQueries,
    OverviewRepo,
    PanelLoginRepo,
    PanelSessionRepo,
    purge_panel_rows,
)

LINK_TTL = timedelta(minutes=5)
SESSION_TTL = timedelta(hours=12)
SEARCH_LIMIT = 50
MEMBER_ACTIONS = ("ban", "unban", "warn", "mod", "unmod")
ADMIN_ONLY_ACTIONS = frozenset({"mod", "unmod"})
REPORT_ACTIONS = ("warn", "ban", "dismiss", "delete")
# What the services write to the audit log (the filter's choices; a scan for DISTINCT would cost a
# read of the whole log on every page).
AUDIT_ACTIONS = (
    "ban", "ban_expired", "broadcast", "broadcast_cancel", "delete_message", "dismiss", "lookup", "mod",
    "panel_login", "report", "setlimit", "unban", "unmod", "warn",
)  # fmt: skip


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member a request comes from, with the role checked on this request."""

    user: User
    is_admin: bool
    session_id: int
    csrf_token: str

    @property
    def language(self) -> str | None:
        return self.user.language


@dataclass(frozen=True)
class SignedIn:
    staff: Staff
    cookie_token: str  # goes to the browser once; only its hash is stored


class PanelAuth:
    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        moderation: ModerationService,
        *,
        key: bytes,
        link_ttl: timedelta = LINK_TTL,
        session_ttl: timedelta = SESSION_TTL,
    ) -> None:
        self.session = session
        self.clock = clock
        self.moderation = moderation
        self.key = key
        self.link_ttl = link_ttl
        self.session_ttl = session_ttl
        self.logins = PanelLoginRepo(session)
        self.sessions = PanelSessionRepo(session)

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self.key, payload.encode(), hashlib.sha256).digest())

    async def _ensure_staff(self, user: User) -> bool:
        """True for admins; raises PanelStaffOnly for members and banned staff."""
        if not await self.moderation.is_moderator(user):
            raise PanelStaffOnly()
        if await self.moderation.is_banned(user) is not None:
            raise PanelStaffOnly()
        return self.moderation.is_admin(user)

    async def issue_link(self, user: User) -> str:
        """A new login token for a staff member (`/panel`). Raises PanelStaffOnly."""
        await self._ensure_staff(user)
        now = self.clock.now()
        secret = secrets.token_urlsafe(24)
        login = await self.logins.add(
            PanelLogin(user_id=user.id, secret_hash=_digest(secret), created_at=now, expires_at=now + self.link_ttl)
        )
        payload = f"{login.id}.{secret}"
        return f"{payload}.{self._sign(payload)}"

    async def sign_in(self, token: str) -> SignedIn:
        """Spend a login token once and open a session. Raises PanelLinkInvalid (forged, used, expired,
        no longer staff): one answer for all, so a guess learns nothing."""
        parts = token.split(".")
        if len(parts) != 3 or not parts[0].isdigit() or len(token) > 200:
            raise PanelLinkInvalid()
        login_id, secret, signature = int(parts[0]), parts[1], parts[2]
        if not hmac.compare_digest(self._sign(f"{parts[0]}.{secret}"), signature):
            raise PanelLinkInvalid()
        login = await self.logins.get(login_id)
        now = self.clock.now()
        if login is None or not hmac.compare_digest(login.secret_hash, _digest(secret)):
            raise PanelLinkInvalid()
        if not await self.logins.use(login.id, now):
            raise PanelLinkInvalid()
        user = await self.moderation.users.by_id(login.user_id)
        if user is None:
            raise PanelLinkInvalid()
        try:
            is_admin = await self._ensure_staff(user)
        except PanelStaffOnly:
            raise PanelLinkInvalid() from None
        cookie_token = secrets.token_urlsafe(32)
        row = await self.sessions.add(
            PanelSession(
                user_id=user.id,
                token_hash=_digest(cookie_token),
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + self.session_ttl,
            )
        )
        await self.moderation.audit.add(
            AuditEntry(actor_id=user.id, action="panel_login", target_id=user.id, created_at=now)
        )
        return SignedIn(Staff(user, is_admin, row.id, row.csrf_token), cookie_token)

    async def staff_for(self, cookie_token: str | None) -> Staff:
        """The staff member of a session cookie, role and ban checked now. Raises PanelSignedOut."""
        if not cookie_token or len(cookie_token) > 200:
            raise PanelSignedOut()
        row = await self.sessions.live(_digest(cookie_token), self.clock.now())
        if row is None:
            raise PanelSignedOut()
        user = await self.moderation.users.by_id(row.user_id)
        if user is None:
            raise PanelSignedOut()
        try:
            is_admin = await self._ensure_staff(user)
        except PanelStaffOnly:
            await self.sessions.end_for(user.id, self.clock.now())
            raise PanelSignedOut() from None
        return Staff(user, is_admin, row.id, row.csrf_token)

    @staticmethod
    def check_csrf(staff: Staff, token: str | None) -> None:
        """Raises PanelForbidden unless `token` is this session's form token."""
        if not token or not hmac.compare_digest(staff.csrf_token, token):
            raise PanelForbidden()

    async def purge(self, keep: timedelta = timedelta(days=7)) -> int:
        """Drop links and sessions over for longer than `keep` (a scheduler job)."""
        return await purge_panel_rows(self.session, self.clock.now() - keep)

    async def sign_out(self, user: User) -> int:
        """End every panel session of this user (`/panel logout`, the panel's Sign out). How many ended."""
        return await self.sessions.end_for(user.id, self.clock.now())


# --- what the pages show ---------------------------------------------------------------------
@dataclass(frozen=True)
class Series:
    """Counts per hour or day, oldest first, with each bucket's label (`2026-12-01 14` / `2026-12-01`)."""

    labels: list[str]
    values: list[int]

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass(frozen=True)
class Overview:
    members: int
    active_today: int
    active_week: int
    bans_in_force: int
    open_reports: int
    messages_per_hour: Series
    signups_per_day: Series
    invites_per_day: Series
    reports_per_day: Series
    queue_depth: int
    oldest_waiting_seconds: float
    gmfy_backlog: int


@dataclass(frozen=True)
class Complaint:
    line: ComplaintLine
    reporters: int  # distinct members with an open report about the same member
    history: UserCard | None  # the reported member's record (phone as the viewer may see it)
    kind: str | None = None  # the reported message's kind (text, photo, ...), None: no message or gone
    deleted: bool = False  # the message was deleted everywhere already


@dataclass(frozen=True)
class Complaints:
    items: list[Complaint]
    page: int
    pages: int
    total: int
    stamp: str  # see PanelService.complaints_stamp


@dataclass(frozen=True)
class MemberPage:
    card: UserCard
    code: str | None
    inviter: User | None
    invited: list[User]
    invited_total: int
    warnings: list[WarningEntry]
    bans: list[Ban]
    reports: list[Report]
    in_common: bool
    rooms: list[Room]
    messages: int


@dataclass(frozen=True)
class GmfySummary:
    """A member's standing in GMFY for their page: `state` is "ok", "off" (no GMFY_API_KEY) or "down"
    (an error, or no answer within the panel's timeout)."""

    state: str
    ratings: list[UserRating] = field(default_factory=list)
    balances: list[AccountBalance] = field(default_factory=list)
    badges: int = 0


@dataclass(frozen=True)
class AuditFilter:
    actor_id: int | None = None
    action: str | None = None
    target_id: int | None = None


@dataclass(frozen=True)
class AuditView:
    lines: list[AuditLine]
    page: int
    pages: int
    total: int
    actions: list[str]


@dataclass(frozen=True)
class Done:
    """An action's outcome for the page, and whom the bot tells (in their language, after commit)."""

    action: str
    target: User | None
    notices: list[Notice]
    role_change: bool | None = None  # True: made moderator, False: role taken (the bot's menus follow)
    report_id: int | None = None  # a complaint handled: its cards in the staff chats show it


def _edges(last_start: datetime, step: timedelta, buckets: int) -> list[datetime]:
    """`buckets` + 1 bucket edges, the last bucket starting at `last_start`."""
    first = last_start - step * (buckets - 1)
    return [first + step * i for i in range(buckets + 1)]


class PanelService:
    """Every page and action of the panel for one staff member; the permission checks live here."""

    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        moderation: ModerationService,
        users: UserDirectory,
        relay: RelayService,
        broadcasts: BroadcastService,
        *,
        page_size: int = 20,
        gmfy: GmfyService | None = None,
        gmfy_timeout: float = 2.0,
    ) -> None:
        self.session = session
        self.clock = clock
        self.moderation = moderation
        self.users = users
        self.relay = relay
        self.broadcasts = broadcasts
        self.page_size = page_size
        self.gmfy = gmfy
        self.gmfy_timeout = gmfy_timeout
        self.overview_repo = OverviewRepo(session)
        self.members = MemberQueries(session)
        self.audit_queries = AuditQueries(session)

    @staticmethod
    def require_admin(staff: Staff) -> None:
        if not staff.is_admin:
            raise PanelForbidden()

    def _pages(self, total: int, page: int) -> tuple[int, int]:
        pages = max(1, math.ceil(total / self.page_size))
        return pages, min(max(page, 0), pages - 1)

    # --- overview --------------------------------------------------------------------------
    async def overview(self, staff: Staff, *, queue_depth: int, oldest_waiting_seconds: float) -> Overview:
        now = self.clock.now().astimezone(UTC)
        repo = self.overview_repo
        hours = _edges(now.replace(minute=0, second=0, microsecond=0), timedelta(hours=1), 7 * 24)
        days = _edges(now.replace(hour=0, minute=0, second=0, microsecond=0), timedelta(days=1), 30)

        def labels(edges: list[datetime], form: str) -> list[str]:
            return [edge.strftime(form) for edge in edges[:-1]]

        return Overview(
            members=await repo.members(),
            active_today=await repo.active_since(now - timedelta(days=1)),
            active_week=await repo.active_since(now - timedelta(days=7)),
            bans_in_force=await repo.bans_in_force(now),
            open_reports=await repo.open_reports(),
            messages_per_hour=Series(labels(hours, "%Y-%m-%d %H"), await repo.messages_between(hours)),
            signups_per_day=Series(labels(days, "%Y-%m-%d"), await repo.signups_between(days)),
            invites_per_day=Series(labels(days, "%Y-%m-%d"), await repo.invites_between(days)),
            reports_per_day=Series(labels(days, "%Y-%m-%d"), await repo.reports_between(days)),
            queue_depth=queue_depth,
            oldest_waiting_seconds=oldest_waiting_seconds,
            gmfy_backlog=await repo.gmfy_backlog(),
        )

    # --- complaints --------------------------------------------------------------------------
    async def complaints(self, staff: Staff, page: int) -> Complaints:
        listed = await self.moderation.complaints_page(page)
        reporters = await self.members.reporters_of([e.report.target_id for e in listed.entries])
        kinds = await self.members.message_kinds(
            [e.report.relay_message_id for e in listed.entries if e.report.relay_message_id]
        )
        items = []
        cards: dict[int, UserCard] = {}
        for entry in listed.entries:
            target = entry.target
            if target is not None and target.id not in cards:
                cards[target.id] = await self.moderation.user_card(target, viewer=staff.user)
            kind, deleted = kinds.get(entry.report.relay_message_id or 0, (None, False))
            items.append(
                Complaint(
                    entry,
                    reporters.get(entry.report.target_id, 0),
                    cards.get(target.id) if target else None,
                    kind,
                    deleted,
                )
            )
        return Complaints(items, listed.page, listed.pages, listed.total, await self.complaints_stamp(staff))

    async def complaints_stamp(self, staff: Staff) -> str:
        """A short value that changes when the open complaints do (filed, or handled in the bot or elsewhere)."""
        return await self.overview_repo.open_reports_stamp()

    async def act_on_report(self, staff: Staff, report_id: int, action: str, duration: timedelta | None = None) -> Done:
        """Warn, ban (for `duration`, default BAN_DURATION), dismiss, or delete the message everywhere: the
        same ModerationService calls as the report card's buttons."""
        if action not in REPORT_ACTIONS:
            raise PanelForbidden()
        if action == "delete":
            report = await self.moderation.delete_reported_message(staff.user, report_id)
            return Done("delete", await self.moderation.users.by_id(report.target_id), [], report_id=report.id)
        handled: HandledReport = await self.moderation.handle_report(staff.user, report_id, action, duration=duration)
        return Done(action, handled.target, handled.notices, report_id=handled.report.id)

    # --- members ---------------------------------------------------------------------------
    async def search(self, staff: Staff, query: str) -> list[User]:
        """By `#id`, Telegram id, `@username`, invite code, phone (admins only: for anyone else a phone
        finds nobody, as in the bot) or the start of a nickname."""
        query = query.strip()[:64]
        if not query:
            return []
        found: list[User] = []
        with contextlib.suppress(UserNotFound):
            found.append(await self.users.resolve(query, by_phone=self.moderation.may_see_phones(staff.user)))
        if not query.startswith("+"):
            for user in await self.members.by_name(query, SEARCH_LIMIT):
                if all(user.id != other.id for other in found):
                    found.append(user)
        return found[:SEARCH_LIMIT]

    def phone_of(self, staff: Staff, user: User) -> str:
        """The phone as this staff member may see it (in full for admins)."""
        return (user.phone or "—") if self.moderation.may_see_phones(staff.user) else mask_phone(user.phone)

    async def member(self, staff: Staff, user_id: int) -> MemberPage:
        """A member's page; opening it is written to the audit log like `/user`."""
        user = await self.moderation.member(user_id)
        card = await self.moderation.look_up(staff.user, user)
        return MemberPage(
            card=card,
            code=await self.members.current_code(user.id),
            inviter=await self.members.inviter_of(user.id),
            invited=await self.members.invited_by(user.id, 20),
            invited_total=await self.members.count_invited_by(user.id),
            warnings=await self.members.warnings_of(user.id, 20),
            bans=await self.members.bans_of(user.id, 20),
            reports=await self.members.reports_against(user.id, 20),
            in_common=await self.members.in_common_chat(user.id),
            rooms=await self.members.rooms_of(user.id),
            messages=await self.members.messages_of(user.id),
        )

    async def gmfy_summary(self, staff: Staff, user_id: int) -> GmfySummary:
        """The member's GMFY ratings, points (balances) and badges, waiting at most `gmfy_timeout`: GMFY
        off or not answering is a state to show, never an error page."""
        if self.gmfy is None or not self.gmfy.enabled:
            return GmfySummary("off")
        try:
            async with asyncio.timeout(self.gmfy_timeout):
                profile = await self.gmfy.profile_of(user_id)
        except (GmfyUnavailable, TimeoutError):
            return GmfySummary("down")
        except GmfyDisabled:
            return GmfySummary("off")
        badges = sum(badge.count or 1 for badge in profile.user_badges)
        return GmfySummary("ok", profile.user_ratings, profile.user_account_balances, badges)

    async def member_action(
        self,
        staff: Staff,
        user_id: int,
        action: str,
        *,
        duration: timedelta | None = None,
        reason: str | None = None,
        seen_warnings: int | None = None,
    ) -> Done:
        """The `/user` card's actions: ban, unban, warn (for everyone on staff), mod and unmod (admins).
        Raises PanelForbidden before anything changes for a role that may not."""
        if action not in MEMBER_ACTIONS:
            raise PanelForbidden()
        if action in ADMIN_ONLY_ACTIONS:
            self.require_admin(staff)
        target = await self.moderation.member(user_id)
        reason = (reason or "").strip()[:500] or None
        if action == "ban":
            return Done(action, target, (await self.moderation.ban(staff.user, target, duration, reason)).notices)
        if action == "unban":
            return Done(action, target, (await self.moderation.unban(staff.user, target, reason)).notices)
        if action == "warn":
            if seen_warnings is not None and await self.moderation.warnings.count_all(target.id) != seen_warnings:
                raise CardOutdated()
            return Done(action, target, (await self.moderation.warn(staff.user, target, reason)).notices)
        if action == "mod":
            await self.moderation.grant_moderator(staff.user, target)
            return Done(action, target, [Notice.to(target, "admin-you-are-moderator")], role_change=True)
        await self.moderation.revoke_moderator(staff.user, target)
        return Done(action, target, [Notice.to(target, "admin-you-are-not-moderator")], role_change=False)

    # --- audit -------------------------------------------------------------------------------
    async def audit(self, staff: Staff, where: AuditFilter, page: int) -> AuditView:
        q = self.audit_queries
        total = await q.count(where.actor_id, where.action, where.target_id)
        pages, page = self._pages(total, page)
        entries = await q.page(where.actor_id, where.action, where.target_id, page * self.page_size, self.page_size)
        return AuditView(await self._audit_lines(entries), page, pages, total, list(AUDIT_ACTIONS))

    def audit_export(
        self, staff: Staff, where: AuditFilter, limit: int = 100_000
    ) -> AsyncIterator[list[tuple[Any, ...]]]:
        """Every matching line, newest first, for the CSV export (at most `limit`), a chunk at a time:
        (id, created_at, actor_id, actor name, action, target_id, target name, reason, details)."""
        return self.audit_queries.export(where.actor_id, where.action, where.target_id, limit)

    async def _audit_lines(self, entries: list[AuditEntry]) -> list[AuditLine]:
        ids = {e.actor_id for e in entries if e.actor_id} | {e.target_id for e in entries if e.target_id}
        people = await self.moderation.counts.names(ids)
        return [
            AuditLine(
                e, people.get(e.actor_id) if e.actor_id else None, people.get(e.target_id) if e.target_id else None
            )
            for e in entries
        ]

    # --- runtime limits ------------------------------------------------------------------------
    async def limits(self, staff: Staff) -> Limits:
        return await self.relay.limits()

    async def set_limits(self, staff: Staff, per_period: int, period: timedelta) -> Limits:
        """`/setlimit` from the panel (admins). Raises PanelForbidden, LimitValueInvalid."""
        self.require_admin(staff)
        before = await self.relay.limits()
        limits = await self.relay.set_limits(per_period, period)
        await self.moderation.audit.add(
            AuditEntry(
                actor_id=staff.user.id,
                action="setlimit",
                details={
                    "limit": limits.per_period,
                    "period": format_duration(limits.period),
                    "was": f"{before.per_period}/{format_duration(before.period)}",
                },
                created_at=self.clock.now(),
            )
        )
        return limits

    # --- broadcasts -----------------------------------------------------------------------------
    @staticmethod
    def parse_audience(spec: str) -> Audience:
        """`all`, `common` or `room:<id>`; anything else is refused (PanelForbidden)."""
        if spec in ("all", "common"):
            return Audience(spec)
        kind, _, room = spec.partition(":")
        if kind == "room" and room.isdigit():
            return Audience("room", int(room))
        raise PanelForbidden()

    async def audiences(self, staff: Staff) -> list[tuple[str, str | None]]:
        """The audiences to choose from: (`spec`, room title or None)."""
        self.require_admin(staff)
        rooms = await self.broadcasts.repo.open_rooms()
        return [("all", None), ("common", None), *((f"room:{room.id}", room.title) for room in rooms)]

    async def audience_size(self, staff: Staff, spec: str) -> int:
        self.require_admin(staff)
        audience = self.parse_audience(spec)
        return await self.broadcasts.repo.audience_size(staff.user.id, audience.kind, audience.room_id)

    async def send_broadcast(self, staff: Staff, html: str, spec: str) -> Broadcast:
        """Draft and start at once (the panel shows the preview live as the admin types). Admins only."""
        self.require_admin(staff)
        audience = self.parse_audience(spec)
        draft = await self.broadcasts.draft(staff.user, html)
        return await self.broadcasts.start(draft.broadcast.id, staff.user, audience)

    async def broadcast_progress(self, staff: Staff, broadcast_id: int) -> Progress:
        self.require_admin(staff)
        broadcast = await self.broadcasts.repo.get(broadcast_id)
        if broadcast is None:
            raise BroadcastNotFound()
        progress = await self.broadcasts.progress_of(broadcast)
        if broadcast.status == "sending" and progress.done:
            broadcast.status, broadcast.finished_at = "done", self.clock.now()
        return progress

    async def cancel_broadcast(self, staff: Staff, broadcast_id: int) -> int:
        """Stop a running broadcast (any admin may: it is an emergency brake). Admins only."""
        self.require_admin(staff)
        return await self.broadcasts.stop(broadcast_id, staff.user)

    async def recent_broadcasts(self, staff: Staff, limit: int = 10) -> list[Broadcast]:
        self.require_admin(staff)
        return await self.broadcasts.repo.recent(limit)
