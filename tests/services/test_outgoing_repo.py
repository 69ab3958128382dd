"""Queueing many outgoing rows at once (`OutgoingRepo.add_many`, what a fan-out uses) gives each row
its own id, in order, on SQLite (multi-row inserts, ids sorted) and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime

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
