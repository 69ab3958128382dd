"""Relay queries: members, relayed messages and their copies, blocks, limits, scheduled messages."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Result, Table, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.elements import ColumnElement

from storage.db import (
    PairsQuery,
    Prebuilt,
    dialect_insert,
    get_row,
    padded,
    pairs_in,
    sqlite_write_lock_first,
    upsert,
)
from storage.models import (
    Block,
    LimitWindow,
    Member,
    Outgoing,
    RelayCopy,
    RelayMessage,
    RuntimeSetting,
    ScheduledMessage,
    User,
)


class Recipient(NamedTuple):
    """Who gets a copy: just what the fan-out needs (a common chat has thousands: no ORM objects)."""

    id: int  # users.id
    telegram_id: int
    language: str | None
    paused: bool


# The language a copy's buttons speak: the one chosen with /lang, else the reader's Telegram language.
RECIPIENT_COLUMNS = (User.id, User.telegram_id, func.coalesce(User.language, User.telegram_language), Member.paused)


def recipients_of(rows: Result[int, int | None, str | None, bool | None]) -> list[Recipient]:
    """Rows of RECIPIENT_COLUMNS (the queries ask for reachable users only: a Telegram id is there)."""
    return [
        Recipient(user_id, telegram_id, language, bool(paused))
        for user_id, telegram_id, language, paused in rows
        if telegram_id is not None
    ]


def reachable_except(author_id: int | None) -> tuple[ColumnElement[bool], ...]:
    """Users a relayed message can go to: signed in, with a chat, not blocked the bot, not the author."""
    reachable = (User.phone.is_not(None), User.telegram_id.is_not(None), User.is_active.is_(True))
    return reachable if author_id is None else (User.id != author_id, *reachable)


# Statements of the relay batch's every round, built once: building one and computing its cache key
# each time cost about a third of running it (IN lists expand at execution).
_TARGETS = aliased(Member)
# The authors with their member rows, and the peers they write to privately with theirs.
_AUTHORS_AND_PEERS = (
    select(User, Member)
    .outerjoin(Member, Member.user_id == User.id)
    .where(
        or_(
            User.id.in_(bindparam("ids", expanding=True)),
            User.id.in_(
                select(_TARGETS.target_id).where(
                    _TARGETS.user_id.in_(bindparam("ids", expanding=True)), _TARGETS.target_kind == "private"
                )
            ),
        )
    )
)
_PAGING = select(RelayMessage.id).where(RelayMessage.fanout_cursor.is_not(None)).limit(1)
# The fan-out under way first (a page of it is out), then the oldest: ids are not commit order on
# PostgreSQL (a message with a lower id may commit after one above it began to be paged), and one
# message's pages must not be interleaved with another's, or readers would get the two in different
# orders (docs/PERFORMANCE.md, "Paged fan-outs").
_NEXT_PAGED = (
    select(RelayMessage)
    .where(RelayMessage.fanout_cursor.is_not(None))
    .order_by((RelayMessage.fanout_cursor > 0).desc(), RelayMessage.id)
    .limit(1)
)
_PAGING_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('bot-fan-out:' || coalesce(current_schema(), '')))")
ADD_COPIES_CHUNK = 5000  # copies per INSERT statement of `add_copies`
_COPY_TARGETS = (
    select(RelayCopy.id, User.telegram_id, User.language, RelayCopy.outgoing_id)
    .join(User, User.id == RelayCopy.recipient_id)
    .where(
        RelayCopy.message_id == bindparam("message_id"),
        RelayCopy.id > bindparam("after"),
        RelayCopy.id <= bindparam("upto"),
        RelayCopy.outgoing_id.is_not(None),
        User.telegram_id.is_not(None),
    )
    .order_by(RelayCopy.id)
    .limit(bindparam("limit"))
)
_LAST_COPY = select(func.max(RelayCopy.id)).where(RelayCopy.message_id == bindparam("message_id"))
MAX_ID = 2**31 - 1  # the highest id an Integer column holds (PostgreSQL's int4)
_COPY_COLUMNS = cast(Table, RelayCopy.__table__).c
_COPIES_READ = (
    update(cast(Table, RelayCopy.__table__))
    .where(_COPY_COLUMNS.message_id == bindparam("of_message"), _COPY_COLUMNS.id > bindparam("after"))
    .values(read=True)
)
_COPIES_READ_UPTO = _COPIES_READ.where(_COPY_COLUMNS.id <= bindparam("upto"))
_COPY_TARGETS_COUNT = (
    select(func.count())
    .select_from(RelayCopy)
    .join(User, User.id == RelayCopy.recipient_id)
    .where(
        RelayCopy.message_id == bindparam("message_id"),
        RelayCopy.outgoing_id.is_not(None),
        User.telegram_id.is_not(None),
    )
)
_NEXT_COPIES = select(RelayMessage.id).where(RelayMessage.copies_cursor.is_not(None)).order_by(RelayMessage.id).limit(1)
_RUNTIME = select(RuntimeSetting).where(RuntimeSetting.key.in_(bindparam("keys", expanding=True)))


_ADD_MESSAGES_ONCE = Prebuilt(
    lambda dialect: (
        dialect_insert(dialect, RelayMessage)
        .on_conflict_do_nothing(index_elements=[RelayMessage.origin_chat_id, RelayMessage.origin_message_id])
        .returning(RelayMessage)
    )
)
# On the tables, not the mapped classes: the session then runs them as plain Core statements, without
# the ORM's bulk-insert bookkeeping for every row (no objects come back from these).
_WINDOWS = cast(Table, LimitWindow.__table__)
_TAKE_FROM_WINDOWS = Prebuilt(
    lambda dialect: (
        dialect_insert(dialect, _WINDOWS)
        .on_conflict_do_update(
            index_elements=[_WINDOWS.c.user_id, _WINDOWS.c.window_start],
            set_={"count": _WINDOWS.c.count + 1},
            where=_WINDOWS.c.count < bindparam("limit"),
        )
        .returning(_WINDOWS.c.user_id, _WINDOWS.c.count)
    )
)
_ADD_COPIES = insert(cast(Table, RelayCopy.__table__))
_EXISTING_ORIGINS = PairsQuery(
    lambda count: select(RelayMessage.origin_chat_id, RelayMessage.origin_message_id).where(
        pairs_in(RelayMessage.origin_chat_id, RelayMessage.origin_message_id, count)
    )
)
_BLOCKED_PAIRS = PairsQuery(
    lambda count: select(Block.blocker_id, Block.blocked_id).where(pairs_in(Block.blocker_id, Block.blocked_id, count))
)


class CopyTarget(NamedTuple):
    copy_id: int
    chat_id: int
    language: str | None
    outgoing_id: int


class RelayRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # members
    async def member(self, user_id: int, create: bool = False) -> Member | None:
        """The user's member row; with `create`, made if absent (race-proof: another instance may make
        it at the same moment, e.g. /join handled twice: the row either made here or theirs)."""
        member = await get_row(self.session, Member, user_id)
        if member is None and create:
            await self.session.execute(
                upsert(self.session, Member)
                .values(user_id=user_id, in_common=False, paused=False, target_kind="common")
                .on_conflict_do_nothing(index_elements=[Member.user_id])
            )
            member = await self.session.get(Member, user_id, populate_existing=True)
            assert member is not None
        return member

    async def authors_and_peers(self, user_ids: Collection[int]) -> tuple[dict[int, User], dict[int, Member]]:
        """These users and those they write to privately, with their member rows, in one query (kept in
        the session while the caller holds them: `member()`, `target()` then need none)."""
        if not user_ids:
            return {}, {}
        users: dict[int, User] = {}
        members: dict[int, Member] = {}
        for user, member in await self.session.execute(_AUTHORS_AND_PEERS, {"ids": padded(user_ids)}):
            users[user.id] = user
            if member is not None:
                members[member.user_id] = member
        return users, members

    async def common_recipients(self, author_id: int | None, limit: int | None = None) -> list[Recipient]:
        """Signed-in, reachable members of the common chat other than the author (None: everyone), by
        users.id; the first `limit` of them if given."""
        rows = await self.session.execute(
            select(*RECIPIENT_COLUMNS)
            .join(Member, Member.user_id == User.id)
            .where(Member.in_common.is_(True), *reachable_except(author_id))
            .order_by(User.id)
            .limit(limit)
        )
        return recipients_of(rows)

    async def common_page(self, author_id: int, after: int, limit: int, joined_by: datetime) -> list[Recipient]:
        """A page of a paged fan-out's readers: members of the common chat now (reachable, not the
        author) who were in it when the message was sent (joined by `joined_by`), users.id above
        `after`, the first `limit` by users.id (a keyset page: the primary key's range)."""
        rows = await self.session.execute(
            select(*RECIPIENT_COLUMNS)
            .join(Member, Member.user_id == User.id)
            .where(
                User.id > after,
                Member.in_common.is_(True),
                or_(Member.joined_at.is_(None), Member.joined_at <= joined_by),
                *reachable_except(author_id),
            )
            .order_by(User.id)
            .limit(limit)
        )
        return recipients_of(rows)

    async def count_common(self) -> int:
        return (
            await self.session.scalar(select(func.count()).select_from(Member).where(Member.in_common.is_(True))) or 0
        )

    async def find_by_name(self, name: str) -> User | None:
        lowered = name.strip().lower()
        return await self.session.scalar(
            select(User).where(
                User.phone.is_not(None),
                or_(func.lower(User.nickname) == lowered, func.lower(User.anon_name) == lowered),
            )
        )

    async def name_taken(self, name: str, except_user: int) -> bool:
        lowered = name.strip().lower()
        found = await self.session.scalar(
            select(User.id).where(
                User.id != except_user,
                or_(func.lower(User.nickname) == lowered, func.lower(User.anon_name) == lowered),
            )
        )
        return found is not None

    async def recently_seen(self, since: datetime, limit: int) -> list[User]:
        return list(
            await self.session.scalars(
                select(User)
                .join(Member, Member.user_id == User.id)
                .where(User.last_seen_at >= since, User.phone.is_not(None), Member.in_common.is_(True))
                .order_by(User.last_seen_at.desc())
                .limit(limit)
            )
        )

    # messages
    async def add_message(self, message: RelayMessage) -> RelayMessage:
        self.session.add(message)
        await self.session.flush()
        return message

    async def add_messages_once(self, values: list[dict[str, Any]]) -> list[RelayMessage]:
        """Insert relayed messages (column values), skipping any whose original is in already (the same
        update handled at the same time elsewhere); returns those inserted, in the session."""
        if not values:
            return []
        return list(await self.session.scalars(_ADD_MESSAGES_ONCE(self.session), values))

    async def message(self, message_id: int) -> RelayMessage | None:
        return await self.session.get(RelayMessage, message_id)

    async def by_origin(self, chat_id: int, message_id: int) -> RelayMessage | None:
        return await self.session.scalar(
            select(RelayMessage).where(
                RelayMessage.origin_chat_id == chat_id, RelayMessage.origin_message_id == message_id
            )
        )

    async def existing_origins(self, origins: Collection[tuple[int, int]]) -> set[tuple[int, int]]:
        """Which of these (chat id, message id) originals were relayed already."""
        if not origins:
            return set()
        rows = await self.session.execute(*_EXISTING_ORIGINS(origins))
        return {(chat, message) for chat, message in rows.all() if chat is not None and message is not None}

    async def by_copy(self, chat_id: int, message_id: int) -> RelayMessage | None:
        """The relayed message a reader sees as `message_id` in their chat."""
        return await self.session.scalar(
            select(RelayMessage)
            .join(RelayCopy, RelayCopy.message_id == RelayMessage.id)
            .join(Outgoing, Outgoing.id == RelayCopy.outgoing_id)
            .where(Outgoing.chat_id == chat_id, Outgoing.message_id == message_id)
            .limit(1)
        )

    async def has_copy(self, message_id: int, recipient_id: int) -> bool:
        """Whether this member was sent (or holds unread) a copy of the message."""
        found = await self.session.scalar(
            select(RelayCopy.id)
            .where(RelayCopy.message_id == message_id, RelayCopy.recipient_id == recipient_id)
            .limit(1)
        )
        return found is not None

    async def copy_targets(self, message_id: int, after: int, limit: int, upto: int | None = None) -> list[CopyTarget]:
        """Up to `limit` of a message's queued copies with an id above `after` (and up to `upto`), in id
        order: where each went (the reader's chat, their language, the copy's outgoing row). Plain rows,
        no objects: a common-chat message has a copy for every reader."""
        bounds = {"message_id": message_id, "after": after, "upto": MAX_ID if upto is None else upto}
        rows = await self.session.execute(_COPY_TARGETS, {**bounds, "limit": limit})
        return [
            CopyTarget(copy_id, chat_id or 0, language, outgoing_id or 0)
            for copy_id, chat_id, language, outgoing_id in rows
        ]

    async def count_copy_targets(self, message_id: int) -> int:
        """How many queued copies `copy_targets` would page through."""
        return int(await self.session.scalar(_COPY_TARGETS_COUNT, {"message_id": message_id}) or 0)

    async def mark_copies_read(self, message_id: int, after: int, upto: int | None) -> None:
        """The message's copies with an id above `after` and up to `upto` (None: all of them) read (it is
        gone: nothing of it stays unread), in one statement."""
        if upto is None:
            await self.session.execute(_COPIES_READ, {"of_message": message_id, "after": after})
        else:
            await self.session.execute(_COPIES_READ_UPTO, {"of_message": message_id, "after": after, "upto": upto})

    # edits and deletes reaching a big message's copies (services/relay.py `copies_page`)
    async def locked(self, message_id: int) -> RelayMessage | None:
        """The message, locked until the transaction ends and read as it is now (FOR UPDATE on
        PostgreSQL, which waits for a page of it under way elsewhere; on SQLite the write lock, taken
        before the read). Lock before changing it: changed first, a write would overwrite what a
        transaction it waited for committed."""
        await sqlite_write_lock_first(self.session, RelayMessage, message_id)
        return await self.session.get(RelayMessage, message_id, with_for_update=True, populate_existing=True)

    async def last_copy_id(self, message_id: int) -> int | None:
        """The message's newest copy (an edit reaches the copies up to it: later ones carry its text)."""
        return await self.session.scalar(_LAST_COPY, {"message_id": message_id})

    async def next_copies_job(self) -> int | None:
        """A message whose edit or delete still has copies to reach (the oldest), if any."""
        return await self.session.scalar(_NEXT_COPIES)

    async def copies_failed(self, message_id: int) -> int | None:
        """A page of this message's edit or delete failed (rolled back): the failed attempts at it so far,
        counted in the caller's transaction; None if nothing is left to reach."""
        return await self._page_failed(message_id, RelayMessage.copies_cursor, RelayMessage.copies_failures)

    async def give_up_copies(self, message_id: int) -> None:
        await self.session.execute(
            update(RelayMessage)
            .where(RelayMessage.id == message_id)
            .values(copies_cursor=None, copies_failures=0)
            .execution_options(synchronize_session=False)
        )

    async def copies_for(self, message_id: int, recipient_ids: Collection[int] | None = None) -> dict[int, int]:
        """recipient users.id -> outgoing id of their copy (of these recipients only, if given: a page)."""
        query = select(RelayCopy.recipient_id, RelayCopy.outgoing_id).where(
            RelayCopy.message_id == message_id, RelayCopy.outgoing_id.is_not(None)
        )
        if recipient_ids is not None:
            query = query.where(RelayCopy.recipient_id.in_(list(recipient_ids)))
        rows = await self.session.execute(query)
        return {recipient: outgoing for recipient, outgoing in rows.all() if outgoing is not None}

    async def add_copies(self, copies: list[dict[str, Any]]) -> None:
        """Copies (message_id, recipient_id, outgoing_id, read) in one statement, without ORM objects."""
        for start in range(0, len(copies), ADD_COPIES_CHUNK):  # see OutgoingRepo.add_many
            await self.session.execute(_ADD_COPIES, copies[start : start + ADD_COPIES_CHUNK])

    # paged fan-outs (services/relay.py `fan_out_page`)
    async def paging(self) -> bool:
        """Whether a fan-out is being paged (the common chat's next message then waits behind it)."""
        return await self.session.scalar(_PAGING) is not None

    async def next_paged(self) -> RelayMessage | None:
        """The message to page next (one fan-out at a time): the one under way, else the oldest. Run
        first in a page's transaction: on PostgreSQL it waits for any other instance's page to commit
        (an advisory lock per schema, held to the end of the transaction), so it sees that page's
        cursor, and two instances never start two messages' first pages side by side (their readers
        would get the two in different orders). SQLite lets one writer in at a time, and only one
        process pages a file."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(_PAGING_LOCK)
        return await self.session.scalar(_NEXT_PAGED, execution_options={"populate_existing": True})

    async def take_fan_out(self, message_id: int, cursor: int, owner: str, now: datetime, until: datetime) -> bool:
        """Take (or renew) the lease of a paged message at `cursor`, unless another instance holds it or
        moved it on meanwhile: False then. Run first in a page's transaction, it locks the row
        (PostgreSQL; on SQLite the transaction holds the write lock from here on)."""
        result = await self.session.execute(
            update(RelayMessage)
            .where(
                RelayMessage.id == message_id,
                RelayMessage.fanout_cursor == cursor,
                or_(
                    RelayMessage.fanout_owner.is_(None),
                    RelayMessage.fanout_owner == owner,
                    RelayMessage.fanout_until < now,
                ),
            )
            .values(fanout_owner=owner, fanout_until=until)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def advance_fan_out(self, message_id: int, cursor: int | None) -> None:
        """A page done (its lease taken by `take_fan_out` in this transaction): the cursor moves on; None:
        the fan-out is done, and its lease goes. Failed attempts count again from nought."""
        values: dict[str, Any] = {"fanout_cursor": cursor, "fanout_failures": 0}
        if cursor is None:
            values.update(fanout_owner=None, fanout_until=None)
        await self.session.execute(
            update(RelayMessage)
            .where(RelayMessage.id == message_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def fan_out_failed(self, message_id: int) -> int | None:
        """A page of this message failed (its transaction rolled back): the failed attempts at its
        current page so far, counted in the caller's transaction; None if it is no longer paged."""
        return await self._page_failed(message_id, RelayMessage.fanout_cursor, RelayMessage.fanout_failures)

    async def _page_failed(
        self, message_id: int, cursor: InstrumentedAttribute[int | None], failures: InstrumentedAttribute[int]
    ) -> int | None:
        """One more failed attempt in the `failures` column, while `cursor` says a page is still to do."""
        return await self.session.scalar(
            update(RelayMessage)
            .where(RelayMessage.id == message_id, cursor.is_not(None))
            .values({failures: failures + 1})
            .returning(failures)
            .execution_options(synchronize_session=False)
        )

    async def history(self, chat: str, limit: int) -> list[tuple[RelayMessage, User]]:
        rows = await self.session.execute(
            select(RelayMessage, User)
            .join(User, User.id == RelayMessage.author_id)
            .where(RelayMessage.chat == chat, RelayMessage.deleted_at.is_(None))
            .order_by(RelayMessage.id.desc())
            .limit(limit)
        )
        return list(reversed([(m, u) for m, u in rows.all()]))

    async def unread(self, recipient_id: int, limit: int) -> list[tuple[RelayCopy, RelayMessage, User]]:
        """The reader's oldest `limit` unread copies, with their messages and authors."""
        rows = await self.session.execute(
            select(RelayCopy, RelayMessage, User)
            .join(RelayMessage, RelayMessage.id == RelayCopy.message_id)
            .join(User, User.id == RelayMessage.author_id)
            .where(RelayCopy.recipient_id == recipient_id, RelayCopy.read.is_(False))
            .order_by(RelayMessage.id)
            .limit(limit)
        )
        return [(c, m, u) for c, m, u in rows.all()]

    async def count_unread(self, recipient_id: int) -> int:
        query = (
            select(func.count())
            .select_from(RelayCopy)
            .where(RelayCopy.recipient_id == recipient_id, RelayCopy.read.is_(False))
        )
        return await self.session.scalar(query) or 0

    async def mark_read(self, recipient_id: int, copy_ids: list[int]) -> None:
        if copy_ids:
            await self.session.execute(
                update(RelayCopy)
                .where(RelayCopy.recipient_id == recipient_id, RelayCopy.id.in_(copy_ids))
                .values(read=True)
            )

    async def pending_album_groups(self, before: datetime) -> list[str]:
        rows = await self.session.execute(
            select(RelayMessage.media_group_id)
            .where(RelayMessage.media_group_id.is_not(None), RelayMessage.album_flushed.is_(False))
            .group_by(RelayMessage.media_group_id)
            .having(func.max(RelayMessage.created_at) <= before)
        )
        return [group for (group,) in rows.all() if group]

    async def album(self, media_group_id: str) -> list[RelayMessage]:
        return list(
            await self.session.scalars(
                select(RelayMessage)
                .where(RelayMessage.media_group_id == media_group_id)
                .order_by(RelayMessage.origin_message_id)
            )
        )

    async def expired(self, before: datetime, limit: int = 500) -> list[RelayMessage]:
        return list(
            await self.session.scalars(
                select(RelayMessage)
                .where(RelayMessage.created_at < before, RelayMessage.deleted_at.is_(None))
                .order_by(RelayMessage.id)
                .limit(limit)
            )
        )

    # blocks
    async def is_blocked(self, blocker_id: int, blocked_id: int) -> bool:
        found = await self.session.scalar(
            select(Block.id).where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id)
        )
        return found is not None

    async def blocked_pairs(self, pairs: Collection[tuple[int, int]]) -> set[tuple[int, int]]:
        """Which of these (blocker, blocked) pairs are blocks."""
        if not pairs:
            return set()
        rows = await self.session.execute(*_BLOCKED_PAIRS(pairs))
        return {(blocker, blocked) for blocker, blocked in rows.all()}

    async def add_block(self, blocker_id: int, blocked_id: int, at: datetime) -> None:
        """Block, unless already blocked (a block made at the same moment by another instance counts)."""
        await self.session.execute(
            upsert(self.session, Block)
            .values(blocker_id=blocker_id, blocked_id=blocked_id, created_at=at)
            .on_conflict_do_nothing(index_elements=[Block.blocker_id, Block.blocked_id])
        )

    async def remove_block(self, blocker_id: int, blocked_id: int) -> bool:
        result = await self.session.execute(
            delete(Block).where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id)
        )
        return bool(getattr(result, "rowcount", 0))

    # limits
    async def count_in_window(self, user_id: int, start: datetime) -> int:
        return (await self.counts_in_window([user_id], start)).get(user_id, 0)

    async def counts_in_window(self, user_ids: Collection[int], start: datetime) -> dict[int, int]:
        rows = await self.session.execute(
            select(LimitWindow.user_id, LimitWindow.count).where(
                LimitWindow.user_id.in_(user_ids), LimitWindow.window_start == start
            )
        )
        return {user_id: count for user_id, count in rows.all()}

    async def take_from_window(self, user_id: int, start: datetime, limit: int) -> int | None:
        """Count one message if the window holds fewer than `limit`: the new count, or None at the limit."""
        return (await self.take_from_windows([user_id], start, limit)).get(user_id)

    async def take_from_windows(self, user_ids: Collection[int], start: datetime, limit: int) -> dict[int, int]:
        """Count one message for each user (once each) whose window holds fewer than `limit`: their new
        counts; users at the limit are left out. One atomic statement, so concurrent messages of one
        user (webhook mode, several instances) neither clash on the new row nor lose a count. Rows go
        in user order, so two such statements lock them in the same order (no deadlock on PostgreSQL)."""
        if not user_ids:
            return {}
        values = [
            {"user_id": user_id, "window_start": start, "count": 1, "limit": limit} for user_id in sorted(set(user_ids))
        ]
        # Parameters apart from the statement: one compiled statement, cached, for any number of users
        # (SQLAlchemy still sends them as one multi-row INSERT).
        rows = await self.session.execute(_TAKE_FROM_WINDOWS(self.session), values)
        return {user_id: count for user_id, count in rows.all()}

    async def drop_windows_before(self, start: datetime) -> int:
        result = await self.session.execute(delete(LimitWindow).where(LimitWindow.window_start < start))
        return int(getattr(result, "rowcount", 0) or 0)

    # runtime settings
    async def runtime_many(self, keys: tuple[str, ...]) -> dict[str, str]:
        rows = await self.session.scalars(_RUNTIME, {"keys": padded(keys)})
        return {row.key: row.value for row in rows}

    async def runtime(self, key: str) -> str | None:
        row = await self.session.get(RuntimeSetting, key)
        return row.value if row is not None else None

    async def set_runtime(self, key: str, value: str) -> None:
        insert = upsert(self.session, RuntimeSetting).values(key=key, value=value)
        await self.session.execute(
            insert.on_conflict_do_update(index_elements=[RuntimeSetting.key], set_={"value": insert.excluded.value})
        )
        row = self.session.identity_map.get((RuntimeSetting, (key,), None))
        if row is not None:  # a row this session read before: it shows the new value
            await self.session.refresh(row)

    # scheduled
    async def add_scheduled(self, item: ScheduledMessage) -> ScheduledMessage:
        self.session.add(item)
        await self.session.flush()
        return item

    async def scheduled_of(self, author_id: int) -> list[ScheduledMessage]:
        return list(
            await self.session.scalars(
                select(ScheduledMessage)
                .where(ScheduledMessage.author_id == author_id, ScheduledMessage.status == "pending")
                .order_by(ScheduledMessage.due_at)
            )
        )

    async def scheduled(self, item_id: int) -> ScheduledMessage | None:
        return await self.session.get(ScheduledMessage, item_id)

    async def pending_scheduled_count(self, author_id: int) -> int:
        return (
            await self.session.scalar(
                select(func.count())
                .select_from(ScheduledMessage)
                .where(ScheduledMessage.author_id == author_id, ScheduledMessage.status == "pending")
            )
            or 0
        )

    async def due_scheduled(
        self, now: datetime, window_start: datetime, per_period: int, limit: int = 100
    ) -> list[ScheduledMessage]:
        """Pending items that are due, oldest first, but none of an author who has used up the message
        limit of the window that began at `window_start`: theirs wait for the reset, and never fill
        the page ahead of everyone else's."""
        at_limit = (
            select(LimitWindow.user_id)
            .where(
                LimitWindow.user_id == ScheduledMessage.author_id,
                LimitWindow.window_start == window_start,
                LimitWindow.count >= per_period,
            )
            .exists()
        )
        query = (
            select(ScheduledMessage)
            .where(ScheduledMessage.status == "pending", ScheduledMessage.due_at <= now, ~at_limit)
            .order_by(ScheduledMessage.due_at, ScheduledMessage.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=ScheduledMessage, skip_locked=True)
        return list(await self.session.scalars(query))
