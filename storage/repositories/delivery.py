"""Queries of the outgoing queue."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, delete, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db import padded
from storage.models import Outgoing, User
from storage.models.base import UTCDateTime
from storage.models.delivery import Priority
from storage.sqlite_fast import IN_THREAD, in_thread


@dataclass(frozen=True)
class Claimed:
    id: int
    chat_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    target_id: int | None
    target_message_id: int | None = None
    priority: int = Priority.RELAY


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed row; `status` None means: back to pending (retry later)."""

    id: int
    status: str | None
    message_id: int | None = None
    not_before: datetime | None = None
    error: str | None = None
    attempts: int | None = None


ADD_MANY_CHUNK = 2000  # rows per INSERT statement of `add_many`
# Every column but the id and `head` (set by triggers): what `add_many` inserts.
INSERTED = tuple(column.key for column in Outgoing.__table__.columns if column.key not in ("id", "head"))
# What `add_many` puts in a column its row does not name (NULL otherwise).
INSERT_DEFAULTS: dict[str, Any] = {"priority": Priority.RELAY}

_TABLE = cast(Table, Outgoing.__table__)
_ADD_RETURNING_IDS = insert(_TABLE).returning(_TABLE.c.id)
_ADD_RETURNING_IDS_IN_ORDER = insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True)

_MARK_SENT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("oid"), _TABLE.c.claim_token == bindparam("token"))
    .values(status="sent", message_id=bindparam("mid"), sent_at=bindparam("now"), claimed_until=None, claim_token=None)
)

_WAITING = (
    select(Outgoing.chat_id)
    .where(
        Outgoing.status == "pending",
        Outgoing.chat_id.in_(bindparam("chats", expanding=True)),
        or_(Outgoing.claim_token.is_(None), Outgoing.claim_token != bindparam("token")),
    )
    .distinct()
)

# The claim's statements, built once: building them (an aliased table each) cost more than running them.
_EARLIER = aliased(Outgoing)
_TARGET = aliased(Outgoing)
_FREE = or_(Outgoing.claimed_until.is_(None), Outgoing.claimed_until < bindparam("now"))
_HEADS = (  # the due head of each chat's queue, numbered per priority and sender (their turn)
    select(
        Outgoing.id,
        Outgoing.priority,
        # A row with no sender (a notice to one person) is a turn of its own.
        case(
            (Outgoing.sender_id.is_(None), 1),
            else_=func.row_number().over(partition_by=(Outgoing.priority, Outgoing.sender_id), order_by=Outgoing.id),
        ).label("turn"),
    )
    .where(
        Outgoing.status == "pending",
        Outgoing.not_before <= bindparam("now"),
        _FREE,
        ~select(_EARLIER.id)
        .where(_EARLIER.chat_id == Outgoing.chat_id, _EARLIER.status == "pending", _EARLIER.id < Outgoing.id)
        .exists(),
    )
    .subquery("heads")
)
# Relays before bulk sends; among them, round-robin between senders (each sender's first due head, then
# each one's second...), in id order within a turn: one author's fan-outs never hold up another's
# message behind all of theirs. A chat's own rows still go in id order (only its head is due).
# This statement ranks every due head (its cost grows with the queue: ~265 ms a claim at 100,000 chats);
# SQLite's claim reads the same from ix_outgoing_heads (`_due_heads`), and the tests hold the two equal.
_DUE = in_thread(select(_HEADS.c.id).order_by(_HEADS.c.priority, _HEADS.c.turn, _HEADS.c.id).limit(bindparam("limit")))
# PostgreSQL locks the rows themselves (a window's result cannot be locked), skipping those another claim
# holds: of the first candidates, twice the batch (joining every head back cost more than the window).
_CANDIDATES = (
    select(_HEADS.c.id, _HEADS.c.priority, _HEADS.c.turn)
    .order_by(_HEADS.c.priority, _HEADS.c.turn, _HEADS.c.id)
    .limit(bindparam("candidates"))
    .subquery("candidates")
)
_DUE_LOCKED = (
    select(Outgoing.id)
    .join(_CANDIDATES, _CANDIDATES.c.id == Outgoing.id)
    .order_by(_CANDIDATES.c.priority, _CANDIDATES.c.turn, Outgoing.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True, of=Outgoing)
)
_TAKE = (
    update(Outgoing)
    # Checked again: on SQLite the SELECT above holds no lock, and another round may have claimed, sent or
    # postponed a row since.
    .where(
        Outgoing.id.in_(bindparam("ids", expanding=True)),
        Outgoing.status == "pending",
        Outgoing.not_before <= bindparam("now"),
        _FREE,
    )
    .values(claimed_until=bindparam("lease_until"), claim_token=bindparam("token"))
    .execution_options(synchronize_session=False)
)
_TAKEN = (  # plain columns, not ORM objects: a batch is up to 1,000 rows
    select(
        Outgoing.id,
        Outgoing.chat_id,
        Outgoing.kind,
        Outgoing.payload,
        Outgoing.attempts,
        Outgoing.target_id,
        _TARGET.message_id,
        Outgoing.priority,
    )
    .outerjoin(_TARGET, _TARGET.id == Outgoing.target_id)
    .where(Outgoing.id.in_(bindparam("ids", expanding=True)), Outgoing.claim_token == bindparam("token"))
)


# SQLite: the heads of chats' queues are marked (`Outgoing.head`, kept by triggers) and indexed by
# (priority, sender_id, id) (ix_outgoing_heads, named: left to itself, SQLite looked for the priorities
# in ix_outgoing_queue, reading every pending row). A sender's turns are its due heads in id order, so of
# each (priority, sender) only the first `limit` due heads can be taken: read those, and rank them here.
# The distinct priorities and senders are found by hopping along the index (one seek each), not by
# reading it. What it reads grows with the senders (up to `limit` heads each), not with the queue.
_HEAD_ROWS = "FROM outgoing INDEXED BY ix_outgoing_heads WHERE status = 'pending' AND head = 1"
_NEXT_PRIORITY = text(f"SELECT min(priority) {_HEAD_ROWS} AND priority > :after")
_SENDERS = text(
    f"""WITH RECURSIVE senders(sender) AS (
        SELECT min(sender_id) {_HEAD_ROWS} AND priority = :priority AND sender_id IS NOT NULL
        UNION ALL
        SELECT (SELECT min(sender_id) {_HEAD_ROWS} AND priority = :priority AND sender_id > senders.sender)
        FROM senders WHERE senders.sender IS NOT NULL
    ) SELECT sender FROM senders WHERE sender IS NOT NULL"""
)
_NO_SENDER = text(f"SELECT 1 {_HEAD_ROWS} AND priority = :priority AND sender_id IS NULL LIMIT 1")
_DUE_HEAD_ROWS = (
    f"{_HEAD_ROWS} AND priority = :priority AND not_before <= :now AND (claimed_until IS NULL OR claimed_until < :now)"
)
_ARMS = 100  # senders per statement (SQLite allows 500 SELECTs in a compound one)


def _due_heads_of(senders: Sequence[int | None]) -> Any:
    """The first :limit due heads of each of these senders (None: rows with no sender) at :priority, in id
    order per sender; (sender_id, id) rows. Run in aiosqlite's thread: it can read up to `limit` rows a
    sender, and every leased head on the way."""
    arms = []
    for n, sender in enumerate(senders):
        which = "sender_id IS NULL" if sender is None else f"sender_id = :s{n}"
        arms.append(f"SELECT * FROM (SELECT sender_id, id {_DUE_HEAD_ROWS} AND {which} ORDER BY id LIMIT :limit)")
    # `now` as the columns store it (a bare datetime would be compared as another string).
    return text(f"SELECT {IN_THREAD} * FROM ({' UNION ALL '.join(arms)})").bindparams(
        bindparam("now", type_=UTCDateTime())
    )


async def _due_heads(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """What `_DUE` returns (the same ids in the same order), on SQLite, without ranking every head."""
    ids: list[int] = []
    priority = await session.scalar(_NEXT_PRIORITY, {"after": -(2**31)})
    while priority is not None and len(ids) < limit:
        senders: list[int | None] = list(await session.scalars(_SENDERS, {"priority": priority}))
        if await session.scalar(_NO_SENDER, {"priority": priority}) is not None:
            senders.insert(0, None)
        heads: dict[int | None, list[int]] = {}
        for start in range(0, len(senders), _ARMS):
            arms = senders[start : start + _ARMS]
            values: dict[str, Any] = {f"s{n}": sender for n, sender in enumerate(arms) if sender is not None}
            values.update(priority=priority, now=now, limit=limit - len(ids))
            for sender, oid in (await session.execute(_due_heads_of(arms), values)).all():
                heads.setdefault(sender, []).append(oid)
        # A sender's n-th due head by id is its n-th turn; a row with no sender is a turn of its own.
        ranked = [
            (1 if sender is None else turn, oid)
            for sender, oids in heads.items()
            for turn, oid in enumerate(sorted(oids), start=1)
        ]
        ranked.sort()
        ids.extend(oid for _, oid in ranked[: limit - len(ids)])
        priority = await session.scalar(_NEXT_PRIORITY, {"after": priority})
    return ids


class OutgoingRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: Outgoing) -> Outgoing:
        self.session.add(row)
        await self.session.flush()
        return row

    async def add_many(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert rows given as column values (unset columns are NULL) in as few statements as the
        driver allows; their ids, in order. Core, not the ORM's unit of work: a fan-out to the common
        chat is thousands of rows."""
        if not rows:
            return []
        sqlite = self.session.get_bind().dialect.name == "sqlite"
        ids: list[int] = []
        for start in range(0, len(rows), ADD_MANY_CHUNK):
            # A chunk at a time: SQLAlchemy prepares the parameters of all the rows it is given at once
            # (payloads as JSON, dates), a second copy of a fan-out's rows held until the end.
            chunk = rows[start : start + ADD_MANY_CHUNK]
            values = [{key: row.get(key, INSERT_DEFAULTS.get(key)) for key in INSERTED} for row in chunk]
            if sqlite:
                # Asked to keep RETURNING in parameter order, SQLAlchemy sends SQLite one INSERT per row. A
                # multi-row INSERT numbers its rows in order (rowid = max + 1; this transaction holds the
                # write lock), so the ids it returns, sorted, are the rows' ids in order.
                ids.extend(sorted((await self.session.execute(_ADD_RETURNING_IDS, values)).scalars()))
            else:
                ids.extend((await self.session.execute(_ADD_RETURNING_IDS_IN_ORDER, values)).scalars())
        return ids

    async def chats_waiting(self, chat_ids: Collection[int], token: str) -> set[int]:
        """Of these chats, those with pending rows other than the ones claimed with `token`."""
        return set(await self.session.scalars(_WAITING, {"chats": padded(chat_ids), "token": token}))

    async def claim(self, now: datetime, limit: int, lease_until: datetime, token: str) -> list[Claimed]:
        """Take the due head of each chat's queue (earlier rows of a chat go first: order per recipient),
        relays before bulk sends, taking turns between senders; returned in that order.

        Several workers share the queue: rows are locked with SKIP LOCKED (PostgreSQL) and leased.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            ids = list(await self.session.scalars(_DUE_LOCKED, {"now": now, "limit": limit, "candidates": 2 * limit}))
        else:
            ids = await _due_heads(self.session, now, limit)
        if not ids:
            return []
        await self.session.execute(_TAKE, {"ids": padded(ids), "now": now, "lease_until": lease_until, "token": token})
        rows = await self.session.execute(_TAKEN, {"ids": padded(ids), "token": token})
        place = {oid: n for n, oid in enumerate(ids)}
        return sorted((Claimed(*row) for row in rows.all()), key=lambda c: place[c.id])

    async def mark_sent(self, sent: Sequence[Outcome], now: datetime, token: str) -> None:
        """Rows sent (each with its Telegram message id), in one executemany (Core, not per-row ORM)."""
        await self.session.execute(
            _MARK_SENT, [{"oid": o.id, "mid": o.message_id, "token": token, "now": now} for o in sent]
        )

    async def finish(self, outcomes: Sequence[Outcome], now: datetime, token: str) -> None:
        for outcome in outcomes:
            values: dict[str, Any] = {"claimed_until": None, "claim_token": None}
            if outcome.status is not None:
                values["status"] = outcome.status
            if outcome.status == "sent":
                values["sent_at"] = now
                values["message_id"] = outcome.message_id
            if outcome.not_before is not None:
                values["not_before"] = outcome.not_before
            if outcome.error is not None:
                values["last_error"] = outcome.error[:2000]
            if outcome.attempts is not None:
                values["attempts"] = outcome.attempts
            await self.session.execute(
                update(Outgoing)
                .where(Outgoing.id == outcome.id, Outgoing.claim_token == token)
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    async def renew(self, ids: Sequence[int], token: str, lease_until: datetime) -> list[int]:
        """Extend the lease of rows still claimed with `token` and not sent; the ids renewed (a row
        missing was recorded meanwhile, or its lease ran out and another worker claimed it)."""
        if not ids:
            return []
        return list(
            await self.session.scalars(
                update(Outgoing)
                .where(Outgoing.id.in_(padded(ids)), Outgoing.claim_token == token, Outgoing.status == "pending")
                .values(claimed_until=lease_until)
                .returning(Outgoing.id)
                .execution_options(synchronize_session=False)
            )
        )

    async def release(self, ids: Sequence[int], token: str) -> None:
        if ids:
            await self.session.execute(
                update(Outgoing)
                .where(Outgoing.id.in_(ids), Outgoing.claim_token == token)
                .values(claimed_until=None, claim_token=None)
                .execution_options(synchronize_session=False)
            )

    async def drop_batch(self, batch_key: str, reason: str) -> int:
        """Drop the rows of one batch (a broadcast) not sent yet; a row on the wire right now still goes."""
        result = await self.session.execute(
            update(Outgoing)
            .where(Outgoing.batch_key == batch_key, Outgoing.status == "pending")
            .values(status="dropped", last_error=reason, claimed_until=None, claim_token=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def drop_chat(self, chat_id: int, reason: str) -> int:
        """A recipient who blocked the bot: their pending rows are dropped, and they are marked inactive."""
        result = await self.session.execute(
            update(Outgoing)
            .where(Outgoing.chat_id == chat_id, Outgoing.status == "pending")
            .values(status="dropped", last_error=reason, claimed_until=None, claim_token=None)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            update(User)
            .where(User.telegram_id == chat_id)
            .values(is_active=False)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def by_message(self, chat_id: int, message_id: int) -> Outgoing | None:
        return await self.session.scalar(
            select(Outgoing).where(Outgoing.chat_id == chat_id, Outgoing.message_id == message_id).limit(1)
        )

    async def depth(self) -> int:
        return (
            await self.session.scalar(
                in_thread(select(func.count()).select_from(Outgoing).where(Outgoing.status == "pending"))
            )
            or 0
        )

    async def oldest_due(self, now: datetime) -> datetime | None:
        """When the longest-waiting message that is due became due (None: nothing waits)."""
        return await self.session.scalar(
            select(func.min(Outgoing.not_before)).where(Outgoing.status == "pending", Outgoing.not_before <= now)
        )

    async def counts(self, batch_key: str) -> dict[str, int]:
        rows = await self.session.execute(
            select(Outgoing.status, Outgoing.last_error, func.count())
            .where(Outgoing.batch_key == batch_key)
            .group_by(Outgoing.status, Outgoing.last_error)
        )
        counts: dict[str, int] = {}
        for status, error, n in rows.all():
            key = status
            if status == "dropped" and (error or "").startswith(("blocked", "cancelled")):
                key = "blocked" if (error or "").startswith("blocked") else "cancelled"
            counts[key] = counts.get(key, 0) + int(n)
        return counts

    async def purge_finished_before(self, moment: datetime) -> int:
        result = await self.session.execute(
            delete(Outgoing).where(
                Outgoing.status != "pending",
                or_(Outgoing.sent_at < moment, and_(Outgoing.sent_at.is_(None), Outgoing.created_at < moment)),
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
