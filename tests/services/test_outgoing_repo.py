"""Queueing many outgoing rows at once (`OutgoingRepo.add_many`, what a fan-out uses) gives each row
its own id, in order, on SQLite (multi-row inserts, ids sorted) and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Outgoing
from storage.repositories.delivery import OutgoingRepo


def rows(first_chat: int, count: int) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    return [
        {
            "chat_id": first_chat + n,
            "kind": "text",
            "payload": {"text": f"row {n}"},
            "status": "pending",
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }
        | ({"batch_key": "k"} if n % 3 == 0 else {})  # rows need not name the same columns
        for n in range(count)
    ]


async def test_each_row_gets_its_own_id_in_order(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session, session.begin():
        repo = OutgoingRepo(session)
        assert await repo.add_many([]) == []
        before = await repo.add_many(rows(1, 3))
        ids = await repo.add_many(rows(10_000, 2_500))  # more than one statement's worth of rows
        after = await repo.add_many(rows(20_000, 2))
    assert len(set(ids)) == 2_500
    assert max(before) < min(ids)
    assert max(ids) < min(after)
    async with sessionmaker() as session:
        stored = {i: chat for i, chat in (await session.execute(select(Outgoing.id, Outgoing.chat_id))).all()}
        keys = {i: key for i, key in (await session.execute(select(Outgoing.id, Outgoing.batch_key))).all()}
    assert [stored[i] for i in ids] == list(range(10_000, 12_500))
    assert [keys[i] for i in ids[:4]] == ["k", None, None, "k"]


async def test_oldest_due_is_the_longest_wait_among_due_pending_rows(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    async with sessionmaker() as session, session.begin():
        repo = OutgoingRepo(session)
        assert await repo.oldest_due(now) is None
        waiting = rows(1, 3)
        waiting[0] |= {"not_before": now - timedelta(seconds=40)}  # due 40 s ago: the oldest wait
        waiting[1] |= {"not_before": now + timedelta(minutes=5)}  # not due yet: not waiting
        waiting[2] |= {"not_before": now - timedelta(minutes=9), "status": "sent"}  # gone already
        await repo.add_many(waiting)
    async with sessionmaker() as session:
        assert await OutgoingRepo(session).oldest_due(now) == now - timedelta(seconds=40)
