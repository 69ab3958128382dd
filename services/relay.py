"""The common chat and private chats (SPEC 3, 4): who gets a message, limits, replies, edits, deletes,
unread, scheduled messages. Outgoing copies go through the delivery queue (services/delivery.py) in
the same transaction, so a relayed message and all its copies are recorded together or not at all."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services import durations
from services.clock import Clock
from services.delivery import Markup, Outbox, ReplyTo, Row
from services.errors import (
    Banned,
    ButtonNotForYou,
    CannotMessageSelf,
    DomainError,
    FileTooLarge,
    LimitReached,
    LimitValueInvalid,
    MemberNotFound,
    MessageGone,
    NickInvalid,
    NickTaken,
    NotInChat,
    NotSignedIn,
    NotYourMessage,
    PrivateBlocked,
    RoomNotMember,
    ScheduledNotFound,
    ScheduleFull,
    ScheduleInvalid,
    ScheduleTooLong,
    TooOldToDelete,
    UnsupportedMessage,
)
from services.events import EventRecorder, EventTypes
from services.moderation import Notice, RelayedMessage
from storage.db import get_row
from storage.models import Member, RelayMessage, Room, ScheduledMessage, User
from storage.repositories.moderation import BanRepo
from storage.repositories.relay import Recipient, RelayRepo
from storage.repositories.rooms import RoomRepo

# Telegram limits (TELEGRAM.md)
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
DELETE_WINDOW = timedelta(hours=48)
CAPTIONED_KINDS = {"photo", "video", "audio", "document", "animation", "voice"}
UNCAPTIONED_KINDS = {"sticker", "video_note", "location", "venue", "poll", "contact", "dice"}
NICK_RE = re.compile(r"^[\w][\w .\-]{1,30}[\w.]$")
LIMIT_KEY = "messages_per_period"
PERIOD_KEY = "limit_period_seconds"
EXCERPT = 200
SCHEDULED_EXCERPT = 40  # of a dropped scheduled message, in the notice to its author
SCHEDULED_PAGE = 100
# What tells the author of a scheduled message why it was dropped, by the refusal `_decide` came to
# (Banned and PrivateBlocked carry arguments: `_scheduled_outcome`).
SCHEDULED_DROPPED: dict[type[DomainError], str] = {
    MemberNotFound: "relay-scheduled-dropped-peer",
    RoomNotMember: "relay-scheduled-dropped-room",
    NotInChat: "relay-scheduled-dropped-common",
}
UNREAD_AT_ONCE = 100  # messages /unread reads for one page: more than fit in one Telegram message


@dataclass(frozen=True)
class Incoming:
    """A member's message as the handler read it (no aiogram types here)."""

    kind: str
    origin_chat_id: int
    origin_message_id: int
    html: str | None = None  # text or caption as safe HTML
    plain: str | None = None
    file_size: int | None = None
    media_group_id: str | None = None
    reply_to_message_id: int | None = None  # the message replied to, in the author's chat


class CopyStyle(Protocol):
    """Presentation of copies (names and buttons), implemented on the bot side."""

    def header(self, author: User, chat: str, room: str | None = None) -> str: ...

    def markup(self, message_id: int, author: User, chat: str, language: str | None, kind: str) -> dict[str, Any]: ...


class PlainCopyStyle:
    """Names only, no buttons (service tests); the bot uses handlers.relay.TelegramCopyStyle."""

    def header(self, author: User, chat: str, room: str | None = None) -> str:
        return f"<b>{html.escape(author.display_name, quote=False)}</b>"

    def markup(self, message_id: int, author: User, chat: str, language: str | None, kind: str) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class Limits:
    per_period: int
    period: timedelta


class LimitsCache:
    """The message limit as last read from `runtime_settings`, shared by a process' relay services: the
    relay batch takes from the limit for every batch, and reading the two settings was a statement
    (a round trip on PostgreSQL) each time for values that change once in a blue moon. A value is
    used for `ttl` seconds; a change made in this process (`/setlimit`, the panel) drops it at once,
    one made by another instance is seen within `ttl`.

    The change drops it twice, when written and once committed: meanwhile another relay batch of the
    process reads the old committed value, which must not outlive the commit. A value read before a
    drop is not put (`generation`): a batch that read the old value before the commit and puts it after
    the commit's drop would otherwise serve it for another `ttl`."""

    def __init__(self, ttl: float = 2.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.monotonic = monotonic
        self._value: tuple[Limits, float] | None = None  # the limits and when they were read
        self.generation = 0  # drops so far: taken before a read, given to `put`

    def get(self) -> Limits | None:
        if self._value is None or self.monotonic() - self._value[1] >= self.ttl:
            return None
        return self._value[0]

    def put(self, limits: Limits, generation: int) -> None:
        """Keep limits read when `generation` was taken, unless dropped since (they may be old)."""
        if generation == self.generation:
            self._value = (limits, self.monotonic())

    def drop(self) -> None:
        self._value = None
        self.generation += 1


@dataclass(frozen=True)
class LimitUsage:
    used: int
    limit: int
    resets_at: datetime


@dataclass(frozen=True)
class RelayResult:
    message_id: int | None
    recipients: int
    held: int
    chat: str
    peer: User | None = None
    duplicate: bool = False
    # Enqueued page by page once this transaction commits (`RelayService.fan_out_page`; the caller
    # starts the paging): `recipients` is then the readers seen so far, at least a page.
    paged: bool = False


@dataclass(frozen=True)
class Target:
    chat: str  # common | private | room
    peer: User | None = None
    room: Room | None = None


RelayOutcome = RelayResult | DomainError  # what relaying one message came to: relayed, or the refusal


@dataclass(frozen=True)
class Submission:
    """One item for `RelayService.submit`, the one way into relaying, its author by users.id: a member's
    message as it came in (`incoming`: a live message or an album's part), its edit (`incoming` with
    `edit`), or a due scheduled item (`scheduled`)."""

    author_id: int
    incoming: Incoming | None = None
    scheduled: ScheduledMessage | None = None
    edit: bool = False


@dataclass(frozen=True)
class HeldRows:
    """The rows a batch reads up front and holds while it runs: its authors, those they write to
    privately, and all their member rows (`RelayRepo.authors_and_peers`, one query). The session's
    identity map keeps only objects someone refers to: while this is held, `target()`, `member()`, the
    checks and the fan-out find them there and need no query each."""

    users: dict[int, User]
    members: dict[int, Member]


@dataclass
class _Accepted:
    """An item of a round that passed the checks so far."""

    index: int
    user: User
    item: Submission
    target: Target = Target("common")  # set when the chat is decided
    reply_to: RelayMessage | None = None

    @property
    def incoming(self) -> Incoming | None:
        return self.item.incoming

    @property
    def origin(self) -> tuple[int, int] | None:
        """The original (chat id, message id) of a member's message: the same update twice is relayed once."""
        incoming = self.item.incoming
        return (incoming.origin_chat_id, incoming.origin_message_id) if incoming is not None else None


@dataclass(frozen=True)
class UnreadItem:
    copy_id: int  # the reader's copy: what `mark_read` takes
    author: User
    message: RelayMessage


@dataclass
class UnreadGroup:
    chat: str
    peer: User | None
    room: str | None = None  # the room's title
    items: list[UnreadItem] = field(default_factory=list)


@dataclass(frozen=True)
class Unread:
    groups: list[UnreadGroup]  # the oldest unread messages, grouped by chat
    total: int  # unread messages in all, these included
    gone: list[int] = field(default_factory=list)  # copies of messages deleted meanwhile: read with the page


@dataclass(frozen=True)
class Status:
    now: datetime
    members: int
    in_common: bool
    paused: bool
    target: Target
    usage: LimitUsage


def window_start(moment: datetime, period: timedelta) -> datetime:
    """Fixed windows aligned to the epoch, so every reset happens at a predictable time."""
    seconds = int(period.total_seconds())
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


MAX_SCHEDULE_AHEAD = timedelta(days=30)


def parse_when(text: str, now: datetime, zone: tzinfo = UTC) -> tuple[datetime, str]:
    """`18:30 text` (the next 18:30 on the wall clock in `zone`), or `in 10m text` / `через 10 мин текст`
    / `2ч текст` (units in English or Russian). The moment in UTC and the text. Raises ScheduleInvalid."""
    delayed = durations.split_duration(text)
    if delayed is not None:
        delta, body = delayed
        if delta <= timedelta(0) or delta > MAX_SCHEDULE_AHEAD:
            raise ScheduleInvalid()
        return now + delta, body
    at = durations.split_clock_time(text)
    if at is not None:
        return durations.next_local(at[0], now, zone), at[1]
    raise ScheduleInvalid()


def _plain(body_html: str | None) -> str | None:
    """A stored message's HTML as plain text (what `_compose` cuts when the copy is too long)."""
    return html.unescape(re.sub(r"<[^>]+>", "", body_html)) if body_html else None


class RelayService:
    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        outbox: Outbox,
        events: EventRecorder,
        style: CopyStyle,
        *,
        limits: Limits,
        history_size: int = 20,
        max_file_bytes: int = 5 * 1024 * 1024,
        scheduled_per_user: int = 20,
        fan_out_page: int = 1000,
        limits_cache: LimitsCache | None = None,
        kick: Callable[[], None] | None = None,
    ) -> None:
        self.session = session
        self.limits_cache = limits_cache
        self._limits_written = False  # this session changed the limits: its reads skip the cache
        self.clock = clock
        self.outbox = outbox
        self.events = events
        self.style = style
        self.default_limits = limits
        self.history_size = history_size
        self.max_file_bytes = max_file_bytes
        self.scheduled_per_user = scheduled_per_user
        # A common-chat message to more readers is enqueued page by page, and an edit or a delete
        # reaches more copies page by page.
        self.page_size = fan_out_page
        self.kick = kick  # starts the paging of what a committed transaction left to page (bot/fanout.py)
        self.repo = RelayRepo(session)
        self.paging: int | None = None  # the message `fan_out_page` is paging (its failures are counted)
        self.reaching: int | None = None  # the message whose copies `copies_page` is reaching (the same)

    # --- membership -------------------------------------------------------------------------
    async def join(self, user: User) -> list[tuple[RelayMessage, User]]:
        """Enter the common chat; returns the last messages to show."""
        member = await self.repo.member(user.id, create=True)
        assert member is not None
        if not member.in_common:
            member.in_common = True
            member.joined_at = self.clock.now()
        return await self.repo.history("common", self.history_size)

    async def leave(self, user: User) -> None:
        member = await self.repo.member(user.id)
        if member is None or not member.in_common:
            raise NotInChat()
        member.in_common = False
        if member.target_kind == "common":
            member.paused = False

    async def set_paused(self, user: User, paused: bool) -> None:
        member = await self.repo.member(user.id, create=True)
        assert member is not None
        member.paused = paused

    async def set_nick(self, user: User, name: str) -> str:
        name = " ".join(name.split())
        if not NICK_RE.match(name) or "<" in name or ">" in name:
            raise NickInvalid()
        if await self.repo.name_taken(name, user.id):
            raise NickTaken(name=name)
        user.nickname = name
        return name

    # --- targets ----------------------------------------------------------------------------
    async def target(self, user: User) -> Target:
        member = await self.repo.member(user.id)
        if member is not None and member.target_kind == "room" and member.target_id is not None:
            room = await self.session.get(Room, member.target_id)
            if room is not None and room.is_open and await RoomRepo(self.session).membership(room.id, user.id):
                return Target("room", room=room)
            member.target_kind, member.target_id = "common", None
            return Target("common")
        if member is None or member.target_kind != "private" or member.target_id is None:
            return Target("common")
        peer = await get_row(self.session, User, member.target_id)
        if peer is None or not peer.signed_in:
            member.target_kind, member.target_id = "common", None
            return Target("common")
        return Target("private", peer)

    async def open_private(self, user: User, peer: User) -> Target:
        if peer.id == user.id:
            raise CannotMessageSelf()
        if not peer.signed_in:
            raise MemberNotFound(name=peer.display_name)
        if await self.repo.is_blocked(peer.id, user.id):
            raise PrivateBlocked(name=peer.display_name)
        member = await self.repo.member(user.id, create=True)
        assert member is not None
        member.target_kind, member.target_id = "private", peer.id
        return Target("private", peer)

    async def open_private_by_name(self, user: User, name: str) -> Target:
        peer = await self.repo.find_by_name(name)
        if peer is None:
            raise MemberNotFound(name=name[:64])
        return await self.open_private(user, peer)

    async def open_private_from_who(self, user: User, peer_id: int) -> Target:
        """A /who button (`dm:<account id>`): only someone /who can list, a signed-in member of the common
        chat (where their name is shown anyway). Button data is easy to forge: any other id is refused
        alike (ButtonNotForYou), so walking the ids names nobody who keeps out of the common chat."""
        peer = await get_row(self.session, User, peer_id)
        member = await self.repo.member(peer_id) if peer is not None else None
        if peer is None or not peer.signed_in or member is None or not member.in_common:
            raise ButtonNotForYou()
        return await self.open_private(user, peer)

    async def open_private_with_author(self, user: User, relay_message_id: int) -> Target:
        return await self.open_private(user, await self._author_for_button(user, relay_message_id))

    async def _author_for_button(self, user: User, relay_message_id: int) -> User:
        """The author of a message a button of `user`'s names: only one they wrote or were sent a copy
        of (button data is easy to forge, and the answer names the author). Raises ButtonNotForYou."""
        message = await self.repo.message(relay_message_id)
        if message is None or not await self._reached(message, user.id):
            raise ButtonNotForYou()
        author = await self.session.get(User, message.author_id)
        if author is None:
            raise MessageGone()
        return author

    async def _reached(self, message: RelayMessage, user_id: int) -> bool:
        return message.author_id == user_id or await self.repo.has_copy(message.id, user_id)

    async def back_to_common(self, user: User) -> Target:
        member = await self.repo.member(user.id, create=True)
        assert member is not None
        member.target_kind, member.target_id = "common", None
        return Target("common")

    async def block(self, user: User, peer: User) -> User:
        if peer.id == user.id:
            raise CannotMessageSelf()
        if not await self.repo.is_blocked(user.id, peer.id):
            await self.repo.add_block(user.id, peer.id, self.clock.now())
        # The blocked person's target stays on us: their next private message is refused, never made public.
        return peer

    async def block_author(self, user: User, relay_message_id: int) -> User:
        return await self.block(user, await self._author_for_button(user, relay_message_id))

    async def block_by_name(self, user: User, name: str) -> User:
        peer = await self.repo.find_by_name(name)
        if peer is None:
            raise MemberNotFound(name=name[:64])
        return await self.block(user, peer)

    async def unblock_by_name(self, user: User, name: str) -> User:
        peer = await self.repo.find_by_name(name)
        if peer is None or not await self.repo.remove_block(user.id, peer.id):
            raise MemberNotFound(name=name[:64])
        return peer

    # --- limits -----------------------------------------------------------------------------
    async def limits(self) -> Limits:
        values = await self.repo.runtime_many((LIMIT_KEY, PERIOD_KEY))  # one query, even when both are unset
        per_period, period = values.get(LIMIT_KEY), values.get(PERIOD_KEY)
        return Limits(
            per_period=int(per_period) if per_period else self.default_limits.per_period,
            period=timedelta(seconds=int(period)) if period else self.default_limits.period,
        )

    async def set_limits(self, per_period: int, period: timedelta | None) -> Limits:
        if (
            per_period < 1
            or per_period > 100_000
            or (period is not None and not 60 <= period.total_seconds() <= 86400 * 7)
        ):
            raise LimitValueInvalid()
        if self.limits_cache is not None:
            if not self._limits_written:
                event.listen(self.session.sync_session, "after_commit", self._drop_committed_limits)
            self.limits_cache.drop()
        self._limits_written = True
        await self.repo.set_runtime(LIMIT_KEY, str(per_period))
        if period is not None:
            await self.repo.set_runtime(PERIOD_KEY, str(int(period.total_seconds())))
        return await self.limits()

    def _drop_committed_limits(self, session: Session) -> None:
        """After this session's commit (not a savepoint's release): the new limits are visible to others."""
        if self.limits_cache is not None and not session.in_nested_transaction():
            self.limits_cache.drop()

    async def _cached_limits(self) -> Limits:
        """The limits for the relay's hot path: from the process' cache while it is fresh (see LimitsCache).
        Not from a session that changed them (its own uncommitted values must not be shared)."""
        cache = None if self._limits_written else self.limits_cache
        limits = cache.get() if cache is not None else None
        if limits is None:
            generation = cache.generation if cache is not None else 0
            limits = await self.limits()
            if cache is not None:
                cache.put(limits, generation)
        return limits

    async def usage(self, user: User) -> LimitUsage:
        limits = await self.limits()
        start = window_start(self.clock.now(), limits.period)
        used = await self.repo.count_in_window(user.id, start)
        return LimitUsage(used, limits.per_period, start + limits.period)

    async def _take_from_limits(self, user_ids: list[int]) -> dict[int, LimitReached]:
        """Count one message for each of these users (each once); the refusals of those at the limit."""
        if not user_ids:
            return {}
        limits = await self._cached_limits()
        start = window_start(self.clock.now(), limits.period)
        taken = await self.repo.take_from_windows(user_ids, start, limits.per_period)
        refused = [user_id for user_id in user_ids if user_id not in taken]
        if not refused:
            return {}
        counts = await self.repo.counts_in_window(refused, start)
        reset = start + limits.period
        return {
            user_id: LimitReached(count=counts.get(user_id, limits.per_period), limit=limits.per_period, reset=reset)
            for user_id in refused
        }

    async def reset_limits(self) -> int:
        """Scheduler: forget the counters of windows that ended (the reset is visible at the period end)."""
        limits = await self.limits()
        return await self.repo.drop_windows_before(window_start(self.clock.now(), limits.period))

    # --- relaying: the one way in ---------------------------------------------------------
    async def submit(self, items: Sequence[Submission]) -> list[RelayOutcome]:
        """The one way into relaying: members' messages (live ones, albums' parts), their edits, and due
        scheduled items, many at once (the relay batch's, a scheduler page) or one. For each, in the
        items' order, what it came to: a RelayResult, or the refusal (a DomainError, not raised). Every
        rule that refuses is decided in `_decide`, for all the items of a round together, so a few
        statements serve the whole lot instead of a dozen per message. An author who comes more than
        once is handled in rounds, so each round sees the messages and counts of the one before."""
        held = await self._hold({item.author_id for item in items})
        bans = await self._bans({item.author_id for item in items})
        outcomes: dict[int, RelayOutcome] = {}
        limited: dict[int, LimitReached] = {}  # authors a scheduled item of found at the limit
        remaining = list(enumerate(items))
        while remaining:
            authors: set[int] = set()
            batch: list[tuple[int, Submission]] = []
            later: list[tuple[int, Submission]] = []
            for i, item in remaining:
                (later if item.author_id in authors else batch).append((i, item))
                authors.add(item.author_id)
            accepted = await self._decide(batch, held, bans, limited, outcomes)
            await self._write(accepted, outcomes)
            remaining = later
        return [outcomes[i] for i in range(len(items))]

    async def _hold(self, author_ids: Collection[int]) -> HeldRows:
        users, members = await self.repo.authors_and_peers(author_ids)
        return HeldRows(users, members)

    async def _bans(self, user_ids: Collection[int]) -> dict[int, Banned]:
        """The refusal of each of these users who is banned now (SPEC 6: a banned user's messages are
        not relayed): one query for a whole batch."""
        found = await BanRepo(self.session).active_among(user_ids, self.clock.now())
        return {user_id: Banned(until=until) for user_id, until in found.items()}

    async def _decide(
        self,
        items: list[tuple[int, Submission]],
        held: HeldRows,
        bans: Mapping[int, Banned],
        limited: dict[int, LimitReached],
        outcomes: dict[int, RelayOutcome],
    ) -> list[_Accepted]:
        """Every refusal of relaying, in this order, each decided here and nowhere else: signed in,
        banned, kind and size, duplicate update, the chat (membership; for a scheduled item, the chat
        it was scheduled for still being the author's), block, limit. Items of distinct authors; the
        refusals go into `outcomes`, the rest come back to be written. An edit passes the first two
        only (it changes a message that was relayed already)."""
        checked: list[_Accepted] = []
        edits: list[_Accepted] = []
        for i, item in items:
            user = held.users.get(item.author_id)
            if user is None or not user.signed_in:
                outcomes[i] = NotSignedIn()
            elif item.scheduled is not None and item.author_id in limited:
                outcomes[i] = limited[item.author_id]  # the rest of this author's pile waits for the reset
            elif item.author_id in bans:
                outcomes[i] = bans[item.author_id]
            elif item.edit:
                edits.append(_Accepted(i, user, item))  # no more checks: the message was relayed already
            elif item.incoming is not None and item.incoming.kind == "unknown":
                outcomes[i] = UnsupportedMessage()
            elif item.incoming is not None and (item.incoming.file_size or 0) > self.max_file_bytes:
                outcomes[i] = FileTooLarge(limit_mb=self.max_file_bytes // (1024 * 1024))
            else:
                checked.append(_Accepted(i, user, item))
        relayed = await self.repo.existing_origins({a.origin for a in checked if a.origin is not None})
        targeted: list[_Accepted] = []
        for a in checked:
            if a.origin in relayed:
                outcomes[a.index] = RelayResult(None, 0, 0, "common", duplicate=True)
                continue
            target = await self._target_of(a)
            if isinstance(target, DomainError):
                outcomes[a.index] = target
                continue
            a.target = target
            targeted.append(a)
        blocked = await self.repo.blocked_pairs({(a.target.peer.id, a.user.id) for a in targeted if a.target.peer})
        allowed: list[_Accepted] = []
        for a in targeted:
            if a.target.peer is not None and (a.target.peer.id, a.user.id) in blocked:
                outcomes[a.index] = PrivateBlocked(name=a.target.peer.display_name)
            else:
                allowed.append(a)
        refusals = await self._take_from_limits([a.user.id for a in allowed])
        accepted: list[_Accepted] = []
        for a in allowed:
            refusal = refusals.get(a.user.id)
            if refusal is None:
                accepted.append(a)
                continue
            outcomes[a.index] = refusal
            if a.item.scheduled is not None:
                limited[a.user.id] = refusal
        return accepted + edits

    async def _target_of(self, a: _Accepted) -> Target | DomainError:
        """Where the message goes, or why it cannot: a member's message goes to the chat they write to
        now, a scheduled item to the chat it was scheduled for, if it is still theirs (MemberNotFound:
        the peer is gone; RoomNotMember: the room closed or they left it); the common chat only while
        they are in it (NotInChat)."""
        scheduled = a.item.scheduled
        if scheduled is None:
            target = await self.target(a.user)
        elif scheduled.chat == "private":
            peer = await get_row(self.session, User, scheduled.peer_id) if scheduled.peer_id is not None else None
            if peer is None or not peer.signed_in or not peer.is_active:
                return MemberNotFound(name="")
            target = Target("private", peer)
        elif scheduled.chat == "room":
            room = await self.session.get(Room, scheduled.room_id) if scheduled.room_id is not None else None
            membership = await RoomRepo(self.session).membership(room.id, a.user.id) if room is not None else None
            if room is None or not room.is_open or membership is None or membership.status != "member":
                return RoomNotMember()
            target = Target("room", room=room)
        else:
            target = Target("common")
        if target.chat == "common":
            member = await self.repo.member(a.user.id)
            if member is None or not member.in_common:
                return NotInChat()
        return target

    async def _write(self, accepted: list[_Accepted], outcomes: dict[int, RelayOutcome]) -> None:
        """Insert the messages, record their events, queue their copies (or mirror an edit on the copies);
        their results into `outcomes`."""
        for a in accepted:
            if a.item.edit:
                assert a.incoming is not None
                outcomes[a.index] = await self._edit(a.user, a.incoming)
        accepted = [a for a in accepted if not a.item.edit]
        for a in accepted:
            if a.incoming is not None:
                a.reply_to = await self._reply_target(a.user, a.incoming.reply_to_message_id)
        live = [a for a in accepted if a.incoming is not None]
        inserted = dict(zip([a.index for a in live], await self._insert_messages(live), strict=True))
        for a in accepted:
            if a.item.scheduled is not None:
                inserted[a.index] = await self.repo.add_message(RelayMessage(**self._message_values(a)))
                a.item.scheduled.status = "sent"
        fan_out: list[tuple[User, RelayMessage, str | None, list[int] | None]] = []
        for a in accepted:
            message = inserted[a.index]
            if message is None:  # the same update handled concurrently
                outcomes[a.index] = RelayResult(None, 0, 0, a.target.chat, duplicate=True)
                continue
            if a.item.scheduled is None:  # as before the one door: a scheduled message records no event
                await self.events.message_sent(a.user.id, message.id)
            if a.incoming is None or not a.incoming.media_group_id:  # album parts wait for flush_albums
                fan_out.append((a.user, message, a.incoming.plain if a.incoming else None, None))
        counts = dict(zip([m.id for _, m, _, _ in fan_out], await self._fan_out_many(fan_out), strict=True))
        for a in accepted:
            message = inserted[a.index]
            if message is not None:
                sent, held = counts.get(message.id, (0, 0))
                paged = message.fanout_cursor is not None
                outcomes[a.index] = RelayResult(message.id, sent, held, a.target.chat, a.target.peer, paged=paged)

    def _message_values(self, a: _Accepted) -> dict[str, Any]:
        incoming, scheduled = a.incoming, a.item.scheduled
        return {
            "author_id": a.user.id,
            "chat": a.target.chat,
            "peer_id": a.target.peer.id if a.target.peer else None,
            "room_id": a.target.room.id if a.target.room else None,
            "origin_chat_id": incoming.origin_chat_id if incoming else None,
            "origin_message_id": incoming.origin_message_id if incoming else None,
            "kind": incoming.kind if incoming else "text",
            "text": incoming.html if incoming else scheduled.text if scheduled else None,
            "media_group_id": incoming.media_group_id if incoming else None,
            "reply_to_id": a.reply_to.id if a.reply_to else None,
            "created_at": self.clock.now(),
        }

    async def _insert_messages(self, accepted: list[_Accepted]) -> list[RelayMessage | None]:
        """Insert members' messages in one statement; None for one whose original another update
        (another process) inserted meanwhile."""
        inserted = await self.repo.add_messages_once([self._message_values(a) for a in accepted])
        by_origin = {(m.origin_chat_id, m.origin_message_id): m for m in inserted}
        return [by_origin.get(a.origin) if a.origin is not None else None for a in accepted]

    async def _recipients(self, author: User, message: RelayMessage) -> list[Recipient]:
        if message.chat == "private" and message.peer_id is not None:
            peer = await get_row(self.session, User, message.peer_id)
            if peer is None or peer.telegram_id is None or not peer.signed_in or not peer.is_active:
                return []
            member = await self.repo.member(peer.id)
            language = peer.language or peer.telegram_language
            return [Recipient(peer.id, peer.telegram_id, language, bool(member and member.paused))]
        if message.chat == "room" and message.room_id is not None:
            return await RoomRepo(self.session).recipients(message.room_id, author.id)
        return await self.repo.common_recipients(author.id)

    async def _fan_out_many(
        self, items: list[tuple[User, RelayMessage, str | None, list[int] | None]]
    ) -> list[tuple[int, int]]:
        """Queue the copies of these messages (author, message, plain text, an album's parts' message ids
        or None); per message, how many were queued and how many held for paused readers. An album goes
        as its header (name and buttons) and the album below it. The common chat's readers are read
        once for all: if there are more than a page of them, or a fan-out is being paged already, a
        common-chat message is not enqueued here but marked to be paged (`fan_out_page`), and its
        count is the readers seen so far (at least a page)."""
        common: list[Recipient] | None = None
        paged: bool | None = None  # whether this batch's common-chat messages are paged
        rows: list[Row] = []
        copies: list[tuple[int, int, int | None]] = []  # message id, reader's users.id, index of the row or None
        counts: list[tuple[int, int]] = []
        for author, message, plain, album in items:
            if message.chat == "common":
                if common is None:
                    # A page and two: the author and one more tell whether a message has more than a page.
                    common = await self.repo.common_recipients(None, limit=self.page_size + 2)
                    paged = len(common) > self.page_size + 1 or await self.repo.paging()
                if paged:
                    message.fanout_cursor = 0  # `fan_out_page` enqueues it, in order behind any before it
                    counts.append((sum(1 for reader in common if reader.id != author.id), 0))
                    continue
                recipients = [reader for reader in common if reader.id != author.id]
            else:
                recipients = await self._recipients(author, message)
            counts.append(await self._build_copies(author, message, plain, album, recipients, rows, copies))
        await self._insert_copies(rows, copies)
        return counts

    async def _build_copies(
        self,
        author: User,
        message: RelayMessage,
        plain: str | None,
        album: list[int] | None,
        recipients: list[Recipient],
        rows: list[Row],
        copies: list[tuple[int, int, int | None]],
        page: bool = False,
    ) -> tuple[int, int]:
        """The outgoing rows and copies of one message to these readers, added to `rows` and `copies`;
        how many were queued and how many held for paused readers. `page`: the readers are a page of
        a paged fan-out (the copies a reply needs are read for them only)."""
        reply_targets: dict[int, int] = {}
        if message.reply_to_id:
            readers = [reader.id for reader in recipients] if page else None
            reply_targets = await self.repo.copies_for(message.reply_to_id, readers)
        original = await self.repo.message(message.reply_to_id) if message.reply_to_id else None
        header = self.style.header(author, message.chat, await self._room_title(message))
        kind = "album" if album is not None else message.kind
        markups: dict[str | None, dict[str, Any]] = {}
        sent = held = 0
        first = len(rows)
        for recipient in recipients:
            if recipient.paused:
                copies.append((message.id, recipient.id, None))
                held += 1
                continue
            markup = markups.get(recipient.language)
            if markup is None:
                markup = markups[recipient.language] = self.style.markup(
                    message.id, author, message.chat, recipient.language, kind
                )
            reply = self._reply_for(recipient, original, reply_targets)
            copies.append((message.id, recipient.id, len(rows)))
            if album is not None:
                assert message.origin_chat_id is not None
                rows.append(self.outbox.text_row(recipient.telegram_id, header, markup, reply))
                rows.append(self.outbox.album_row(recipient.telegram_id, message.origin_chat_id, album))
            else:
                rows.append(self._copy_row(recipient.telegram_id, message, header, plain, markup, reply))
            sent += 1
        for row in rows[first:]:  # the claim takes turns between authors (OutgoingRepo.claim)
            row["sender_id"] = author.id
        return sent, held

    async def _insert_copies(self, rows: list[Row], copies: list[tuple[int, int, int | None]]) -> None:
        row_ids = await self.outbox.add_rows(rows)
        await self.repo.add_copies(
            [
                {
                    "message_id": message_id,
                    "recipient_id": reader_id,
                    "outgoing_id": row_ids[row] if row is not None else None,
                    "read": row is not None,  # a paused reader's copy waits unread for /unread
                }
                for message_id, reader_id, row in copies
            ]
        )

    async def fan_out_page(self, owner: str, lease: timedelta) -> bool:
        """Enqueue the next page of the paged fan-out (one at a time: the oldest message still being
        paged goes first, so every reader gets the common chat's messages in order), in the caller's
        transaction, which should hold nothing else: the page's readers (`RelayRepo.common_page`:
        members now who were members when it was sent), their rows and copies, and the cursor moved
        past them. The message was decided already (`_decide`); only its readers are read here. The
        lease (`owner`, until now + `lease`) keeps other instances off while this one pages it; a
        crashed instance's is taken over once it ran out, from the cursor: each page is committed with
        the cursor, so no reader gets a copy twice or none. False when there is nothing to page, or
        another instance holds the lease."""
        message = await self.repo.next_paged()
        if message is None or message.fanout_cursor is None:
            return False
        self.paging = message.id
        now = self.clock.now()
        cursor = message.fanout_cursor
        if not await self.repo.take_fan_out(message.id, cursor, owner, now, now + lease):
            return False
        await self.session.refresh(message)  # as it is now that this transaction holds it (deleted meanwhile?)
        author = await get_row(self.session, User, message.author_id)
        if author is None or message.deleted_at is not None:
            await self.repo.advance_fan_out(message.id, None)  # deleted meanwhile: no more copies
            return True
        readers = await self.repo.common_page(author.id, cursor, self.page_size, message.created_at)
        album = None
        if message.media_group_id:
            album = [part.origin_message_id or 0 for part in await self.repo.album(message.media_group_id)]
        plain = _plain(message.text)
        rows: list[Row] = []
        copies: list[tuple[int, int, int | None]] = []
        await self._build_copies(author, message, plain, album, readers, rows, copies, page=True)
        await self._insert_copies(rows, copies)
        done = len(readers) < self.page_size
        await self.repo.advance_fan_out(message.id, None if done else readers[-1].id)
        return True

    async def fan_out_failed(self, message_id: int, give_up_after: int) -> bool:
        """A page of this message failed and rolled back (`paging` tells which message): count the
        failure, in the caller's transaction; after `give_up_after` failed attempts at the same page,
        give the fan-out up (the readers past its cursor get no copy), so the common chat's next
        messages, which wait behind it, go on. True when given up."""
        failures = await self.repo.fan_out_failed(message_id)
        if failures is None or failures < give_up_after:
            return False
        await self.repo.advance_fan_out(message_id, None)
        return True

    async def _room_title(self, message: RelayMessage) -> str | None:
        room = await self.session.get(Room, message.room_id) if message.room_id is not None else None
        return room.title if room is not None else None

    @staticmethod
    def _reply_for(recipient: Recipient, original: RelayMessage | None, targets: dict[int, int]) -> ReplyTo | None:
        if original is None:
            return None
        if original.author_id == recipient.id and original.origin_message_id is not None:
            return ReplyTo(message_id=original.origin_message_id)  # the author's own original
        outgoing = targets.get(recipient.id)
        return ReplyTo(outgoing_id=outgoing) if outgoing is not None else None

    def _copy_row(
        self,
        chat_id: int,
        message: RelayMessage,
        header: str,
        plain: str | None,
        markup: dict[str, Any],
        reply: ReplyTo | None,
    ) -> Row:
        if message.kind == "text" or message.origin_chat_id is None:
            return self.outbox.text_row(chat_id, self._compose(header, message.text, plain, TEXT_LIMIT), markup, reply)
        assert message.origin_message_id is not None
        caption = None
        if message.kind in CAPTIONED_KINDS:
            caption = self._compose(header, message.text, plain, CAPTION_LIMIT)
        return self.outbox.copy_row(
            chat_id,
            message.origin_chat_id,
            message.origin_message_id,
            caption=caption,
            reply_markup=markup,
            reply_to=reply,
        )

    @staticmethod
    def _compose(header: str, body_html: str | None, plain: str | None, limit: int) -> str:
        if not body_html:
            return header
        text = f"{header}\n{body_html}"
        if len(text) <= limit:
            return text
        room = max(0, limit - len(header) - 10)
        return f"{header}\n{html.escape((plain or '')[:room])}…"

    async def _reply_target(self, user: User, reply_to_message_id: int | None) -> RelayMessage | None:
        if reply_to_message_id is None or user.telegram_id is None:
            return None
        return await self.repo.by_copy(user.telegram_id, reply_to_message_id) or await self.repo.by_origin(
            user.telegram_id, reply_to_message_id
        )

    async def flush_albums(self, settle: timedelta = timedelta(seconds=1)) -> int:
        """Scheduler: albums whose last part came in more than `settle` ago go out as albums. Their parts
        passed `submit`'s checks when they came in; the copies are queued as any message's are."""
        groups = await self.repo.pending_album_groups(self.clock.now() - settle)
        albums: list[tuple[User, RelayMessage, str | None, list[int] | None]] = []
        for group in groups:
            parts = await self.repo.album(group)
            first = parts[0]
            author = await self.session.get(User, first.author_id)
            for part in parts:
                part.album_flushed = True
            if author is None or first.origin_chat_id is None:
                continue
            albums.append((author, first, None, [p.origin_message_id or 0 for p in parts]))
        await self._fan_out_many(albums)
        return len(groups)

    # --- edits and deletes ------------------------------------------------------------------
    async def _edit(self, user: User, incoming: Incoming) -> RelayResult:
        """Mirror an edited original on every copy (`submit` with `edit`); the result counts the copies
        that get the edit in this transaction (a page: `_reach_copies`)."""
        found = await self.repo.by_origin(incoming.origin_chat_id, incoming.origin_message_id)
        if found is None or found.author_id != user.id:
            return RelayResult(None, 0, 0, "common")
        message = await self.repo.locked(found.id)  # as it is now: a delete may have come meanwhile
        if message is None or message.deleted_at is not None:
            return RelayResult(None, 0, 0, "common")
        message.text = incoming.html
        message.edited_at = self.clock.now()
        if message.kind not in CAPTIONED_KINDS and message.kind != "text":
            return RelayResult(message.id, 0, 0, message.chat)
        count = await self._reach_copies(message, user, 0)  # from the first copy: an earlier edit's rest is this one's
        return RelayResult(message.id, count, 0, message.chat)

    async def delete_own(self, user: User, reply_to_message_id: int | None) -> int:
        """`/delete` as a reply to one's own message: every copy goes. Raises NotYourMessage, TooOldToDelete."""
        message = await self._reply_target(user, reply_to_message_id)
        if message is None or message.author_id != user.id:
            raise NotYourMessage()
        if message.deleted_at is not None:
            raise MessageGone()
        if self.clock.now() - message.created_at > DELETE_WINDOW:
            raise TooOldToDelete()
        return await self._delete_everywhere(message)

    async def _delete_everywhere(self, message: RelayMessage) -> int:
        """Delete a message from every copy; the copies it reaches, now or page by page (0 if another
        transaction deleted it meanwhile)."""
        # The row locked first (`RelayRepo.locked`): on PostgreSQL that waits for a page of its fan-out
        # under way (`fan_out_page` holds the row from `take_fan_out` to its commit), or of an edit's
        # (`copies_page`), so the copies read below include that page's, and every later page sees it
        # deleted and stops. Read before it, the copies would miss that page's.
        locked = await self.repo.locked(message.id)
        if locked is None or locked.deleted_at is not None:
            return 0
        locked.deleted_at = self.clock.now()
        locked.text = None
        reached = await self._reach_copies(locked, None, 0)
        if locked.copies_cursor is None:
            return reached
        return await self.repo.count_copy_targets(locked.id)

    async def _reach_copies(self, message: RelayMessage, author: User | None, after: int) -> int:
        """A page of the message's copies past copy id `after` get its delete (`deleted_at` set) or its
        edit (its text now, under `author`'s header), in this transaction: memory and each statement stay
        the size of a page, whatever the number of readers. A full page leaves the rest to
        `copies_page`, a page per transaction from `copies_cursor` (bot/fanout.py, kicked once this
        transaction commits), so SQLite's write lock is never held for a hundred thousand copies. The
        copies reached."""
        editing = message.deleted_at is None
        until = message.copies_until if editing and after else None  # a page past an edit's first
        page = await self.repo.copy_targets(message.id, after, self.page_size, until)
        upto = page[-1].copy_id if len(page) == self.page_size else None  # None: the last page
        if upto is not None and editing:
            if not after:  # the edit's first page: it goes up to the copies there are now
                message.copies_until = await self.repo.last_copy_id(message.id)
            if message.copies_until is not None and upto >= message.copies_until:
                upto = None
        if not editing:
            await self.repo.mark_copies_read(message.id, after, upto)
            await self.outbox.delete_copies([(target.chat_id, target.outgoing_id) for target in page])
        elif page and author is not None:
            header = self.style.header(author, message.chat, await self._room_title(message))
            plain = _plain(message.text)
            if message.kind == "text":
                kind, content = "edit_text", self._compose(header, message.text, plain, TEXT_LIMIT)
            else:
                kind, content = "edit_caption", self._compose(header, message.text, plain, CAPTION_LIMIT)
            markups: dict[str | None, Markup | None] = {}  # the buttons differ only by the reader's language
            for target in page:
                if target.language not in markups:
                    markups[target.language] = self.style.markup(
                        message.id, author, message.chat, target.language, message.kind
                    )
            await self.outbox.edit_copies(
                kind, [(t.chat_id, t.outgoing_id, content, markups[t.language]) for t in page]
            )
        message.copies_cursor = upto
        message.copies_failures = 0
        if upto is not None and self.kick is not None:
            self.outbox.after_commit(self.kick)
        return len(page)

    async def copies_page(self) -> bool:
        """The next page of an edit or a delete still reaching a big message's copies (`_reach_copies`),
        in the caller's transaction, which should hold nothing else; any instance may run it (a crashed
        one's page is simply done again: it did not commit). False when none is left."""
        message_id = await self.repo.next_copies_job()
        if message_id is None:
            return False
        self.reaching = message_id
        # Locked and read as it is now: on PostgreSQL this waits for a page of it under way elsewhere,
        # so two instances never reach one page twice.
        message = await self.repo.locked(message_id)
        if message is None or message.copies_cursor is None:
            return True  # done meanwhile
        author = await get_row(self.session, User, message.author_id)
        if message.deleted_at is None and (author is None or message.text is None):
            await self.repo.give_up_copies(message_id)  # the author is gone, or forgot their texts
            return True
        await self._reach_copies(message, author, message.copies_cursor)
        return True

    async def copies_failed(self, message_id: int, give_up_after: int) -> bool:
        """A page of this message's edit or delete failed and rolled back (`reaching` tells which): count
        the failure, in the caller's transaction; after `give_up_after` at the same page, give the rest
        up. True when given up."""
        failures = await self.repo.copies_failed(message_id)
        if failures is None or failures < give_up_after:
            return False
        await self.repo.give_up_copies(message_id)
        return True

    async def expire(self, ttl: timedelta) -> int:
        """Scheduler: messages older than the TTL are deleted from every copy and from history."""
        now = self.clock.now()
        expired = await self.repo.expired(now - ttl)
        for message in expired:
            if now - message.created_at <= DELETE_WINDOW:
                await self._delete_everywhere(message)
            else:  # too old for Telegram to delete: gone from history only, and no edit goes on
                message.deleted_at, message.text, message.copies_cursor = now, None, None
        return len(expired)

    # --- unread, status, who ----------------------------------------------------------------
    async def unread(self, user: User, limit: int = UNREAD_AT_ONCE) -> Unread:
        """The oldest `limit` messages the member has not read, grouped by chat (the common chat first),
        and how many are unread in all. Nothing is marked read here: the caller marks what it could
        show, with `gone` (`mark_read`), so what did not fit, or was not sent, stays for the next
        /unread; and no write waits on the sending."""
        while True:
            rows = await self.repo.unread(user.id, limit)
            gone = [copy.id for copy, message, _author in rows if message.deleted_at is not None]
            if len(gone) < limit:
                break
            await self.repo.mark_read(user.id, gone)  # a whole batch deleted meanwhile: nothing to show of it
        groups: dict[tuple[str, int | None], UnreadGroup] = {}
        for copy, message, author in rows:
            if message.deleted_at is not None:
                continue
            key = (message.chat, author.id if message.chat == "private" else message.room_id)
            if key not in groups:
                peer = author if message.chat == "private" else None
                groups[key] = UnreadGroup(message.chat, peer, await self._room_title(message))
            groups[key].items.append(UnreadItem(copy.id, author, message))
        ordered = sorted(groups.values(), key=lambda g: (g.chat != "common", g.chat, g.peer.id if g.peer else 0))
        total = await self.repo.count_unread(user.id) - len(gone) if groups else 0
        return Unread(ordered, total, gone)

    async def mark_read(self, user: User, copy_ids: Sequence[int]) -> None:
        """Mark these copies of the member's read (those /unread showed)."""
        await self.repo.mark_read(user.id, list(copy_ids))

    async def status(self, user: User) -> Status:
        member = await self.repo.member(user.id)
        return Status(
            now=self.clock.now(),
            members=await self.repo.count_common(),
            in_common=bool(member and member.in_common),
            paused=bool(member and member.paused),
            target=await self.target(user),
            usage=await self.usage(user),
        )

    async def who(self, within: timedelta = timedelta(minutes=15), limit: int = 20) -> list[User]:
        return await self.repo.recently_seen(self.clock.now() - within, limit)

    # --- scheduled --------------------------------------------------------------------------
    async def schedule(self, user: User, text: str, zone: tzinfo = UTC) -> ScheduledMessage:
        """Schedule a text for the chat the user writes to now: it goes there when due, or nowhere.
        Raises ScheduleInvalid, NotInChat, PrivateBlocked, ScheduleTooLong (the copy, name included,
        would be over Telegram's length), ScheduleFull (SCHEDULED_PER_USER items already wait)."""
        due, body = parse_when(text, self.clock.now(), zone)
        if not body:
            raise ScheduleInvalid()
        target = await self.target(user)
        if target.chat == "common":
            member = await self.repo.member(user.id)
            if member is None or not member.in_common:
                raise NotInChat()
        if target.peer is not None and await self.repo.is_blocked(target.peer.id, user.id):
            raise PrivateBlocked(name=target.peer.display_name)
        escaped = html.escape(body, quote=False)
        header = self.style.header(user, target.chat, target.room.title if target.room else None)
        length = len(header) + 1 + len(escaped)  # what the copy carries (`_compose`)
        if length > TEXT_LIMIT:
            raise ScheduleTooLong(length=length, limit=TEXT_LIMIT)
        if await self.repo.pending_scheduled_count(user.id) >= self.scheduled_per_user:
            raise ScheduleFull(limit=self.scheduled_per_user)
        return await self.repo.add_scheduled(
            ScheduledMessage(
                author_id=user.id,
                chat=target.chat,
                peer_id=target.peer.id if target.peer else None,
                room_id=target.room.id if target.room else None,
                text=escaped,
                due_at=due,
                status="pending",
                created_at=self.clock.now(),
            )
        )

    async def scheduled(self, user: User) -> list[ScheduledMessage]:
        return await self.repo.scheduled_of(user.id)

    async def cancel_scheduled(self, user: User, item_id: int) -> None:
        item = await self.repo.scheduled(item_id)
        if item is None or item.author_id != user.id or item.status != "pending":
            raise ScheduledNotFound()
        item.status = "cancelled"

    async def send_due_scheduled(self, pages: int = 10) -> list[Notice]:
        """Scheduler: relay the scheduled messages that are due, each to the chat it was scheduled for,
        through `submit` like any message: one whose author is banned, or whose chat is gone (the peer
        left or blocked them, the room closed or they left it, they left the common chat), is dropped,
        and the notices telling those authors are returned. The limit applies as for any message: an
        author at it keeps theirs pending until the reset, without holding up others'."""
        limits = await self.limits()
        notices: list[Notice] = []
        for _ in range(pages):
            start = window_start(self.clock.now(), limits.period)
            due = await self.repo.due_scheduled(self.clock.now(), start, limits.per_period, SCHEDULED_PAGE)
            outcomes = await self.submit([Submission(item.author_id, scheduled=item) for item in due])
            for item, outcome in zip(due, outcomes, strict=True):
                notice = await self._scheduled_outcome(item, outcome)
                if notice is not None:
                    notices.append(notice)
            if len(due) < SCHEDULED_PAGE:
                break
        return notices

    async def _scheduled_outcome(self, item: ScheduledMessage, outcome: RelayOutcome) -> Notice | None:
        """What `submit` made of a due item, for its author: sent (`_write` marked it), pending (at the
        limit: it goes when the limit resets), or dropped, with the notice telling them why."""
        if isinstance(outcome, RelayResult | LimitReached):
            return None
        item.status = "failed"
        author = await get_row(self.session, User, item.author_id)
        if author is None or isinstance(outcome, NotSignedIn):
            return None
        plain = html.unescape(item.text)
        excerpt = plain if len(plain) <= SCHEDULED_EXCERPT else plain[:SCHEDULED_EXCERPT] + "…"
        if isinstance(outcome, Banned):
            return Notice.to(author, "relay-scheduled-dropped-banned", excerpt=excerpt, **outcome.args_map)
        if isinstance(outcome, PrivateBlocked):
            peer = await get_row(self.session, User, item.peer_id) if item.peer_id is not None else None
            return Notice.to(author, "relay-scheduled-dropped-private", about=peer, excerpt=excerpt, **outcome.args_map)
        key = SCHEDULED_DROPPED.get(type(outcome))  # a new refusal of `_decide` adds its notice there
        return Notice.to(author, key, excerpt=excerpt) if key is not None else None

    # --- moderation seams -------------------------------------------------------------------
    async def find(self, relay_message_id: int) -> RelayedMessage | None:
        message = await self.repo.message(relay_message_id)
        return self._relayed(message)

    async def find_by_copy(self, chat_id: int, message_id: int) -> RelayedMessage | None:
        return self._relayed(await self.repo.by_copy(chat_id, message_id))

    async def reached(self, relay_message_id: int, user_id: int) -> bool:
        message = await self.repo.message(relay_message_id)
        return message is not None and await self._reached(message, user_id)

    async def delete_everywhere(self, relay_message_id: int) -> bool:
        message = await self.repo.message(relay_message_id)
        if message is None or message.deleted_at is not None:
            return False
        await self._delete_everywhere(message)
        return True

    @staticmethod
    def _relayed(message: RelayMessage | None) -> RelayedMessage | None:
        if message is None:
            return None
        excerpt = re.sub(r"<[^>]+>", "", message.text)[:EXCERPT] if message.text else None
        return RelayedMessage(
            relay_message_id=message.id,
            author_id=message.author_id,
            origin_chat_id=message.origin_chat_id,
            origin_message_id=message.origin_message_id,
            excerpt=html.unescape(excerpt) if excerpt else None,
        )


def plain_relay(
    session: AsyncSession, clock: Clock, per_period: int = 100, *, events: bool = True, **options: Any
) -> RelayService:
    """A relay with plain copies (`PlainCopyStyle`), an outbox of its own and `per_period` messages an
    hour: for service tests and benchmarks (the bot builds its relay in bot/context.py)."""
    return RelayService(
        session,
        clock,
        Outbox(session, clock),
        EventRecorder(session, clock, enabled=events, types=EventTypes()),
        PlainCopyStyle(),
        limits=Limits(per_period, timedelta(hours=1)),
        **options,
    )
