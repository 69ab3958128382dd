"""The claim (`OutgoingRepo.claim`) takes the same rows in the same order as the statement that ranks
every due head (`_DUE`: each chat's first pending row if due and not leased, relays before bulk sends,
senders taking turns, id order within a turn), whatever the queue holds: on SQLite it reads them from
the heads the triggers of migration 0031 mark, and these must follow every insert, update and delete."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Outgoing
from storage.repositories.delivery import _DUE, Outcome, OutgoingRepo

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LIMITS = (1, 2, 3, 5, 8, 17, 40, 1000)


def random_row(rng: random.Random, **values: Any) -> dict[str, Any]:
    lease = rng.choice([None, None, None, NOW - timedelta(seconds=5), NOW + timedelta(seconds=5)])
    return {
        "chat_id": rng.randint(1, 20),
        "kind": "text",
        "payload": {"text": "x"},
        "status": rng.choice(["pending"] * 8 + ["sent", "dropped"]),
        "attempts": 0,
        "not_before": NOW + timedelta(seconds=rng.choice([-60, -1, -1, -1, 0, 30])),
        "claimed_until": lease,
        "claim_token": None if lease is None else "other",
        "created_at": NOW,
        "priority": rng.choice([1, 1, 2, 0]),
        "sender_id": rng.choice([None, None, 1, 2, 2, 3, 3, 4]),
    } | values


async def change_at_random(session: AsyncSession, rng: random.Random) -> None:
    """Rows queued, sent, dropped, leased, postponed, deleted, put back, as the bot and its jobs do."""
    repo = OutgoingRepo(session)
    await repo.add_many([random_row(rng) for _ in range(rng.randint(0, 12))])
    if rng.random() < 0.3:  # one at a time, through the ORM
        await repo.add(Outgoing(**random_row(rng)))
    ids = list(await session.scalars(select(Outgoing.id)))
    if not ids:
        return
    for oid in rng.sample(ids, min(len(ids), rng.randint(0, 5))):
        await session.execute(
            update(Outgoing).where(Outgoing.id == oid).values(status=rng.choice(["sent", "failed", "dropped"]))
        )
    for oid in rng.sample(ids, min(len(ids), rng.randint(0, 3))):
        lease = rng.choice([None, NOW - timedelta(seconds=1), NOW + timedelta(seconds=20)])
        await session.execute(update(Outgoing).where(Outgoing.id == oid).values(claimed_until=lease))
    for oid in rng.sample(ids, min(len(ids), rng.randint(0, 2))):
        delay = timedelta(seconds=rng.choice([-5, 5]))
        await session.execute(update(Outgoing).where(Outgoing.id == oid).values(not_before=NOW + delay))
    if rng.random() < 0.3:
        await session.execute(delete(Outgoing).where(Outgoing.id.in_(rng.sample(ids, min(len(ids), 3)))))
    if rng.random() < 0.2:  # back to pending
        await session.execute(update(Outgoing).where(Outgoing.id == rng.choice(ids)).values(status="pending"))
    if rng.random() < 0.2:
        await repo.drop_chat(rng.randint(1, 20), "blocked")
    gaps = sorted(set(range(1, max(ids))) - set(await session.scalars(select(Outgoing.id))))
    if gaps and rng.random() < 0.3:  # an id lower than the chat's rows (ids only grow, but still)
        await session.execute(insert(Outgoing).values(id=rng.choice(gaps), **random_row(rng)))


@pytest.mark.parametrize("seed", range(6))
async def test_the_claim_takes_what_ranking_every_head_takes(
    sessionmaker: async_sessionmaker[AsyncSession], seed: int
) -> None:
    rng = random.Random(seed)
    taken = not_by_id = 0
    for _ in range(25):
        async with sessionmaker() as session, session.begin():
            await change_at_random(session, rng)
        for limit in LIMITS:
            async with sessionmaker() as session, session.begin():
                expected = list(await session.scalars(_DUE, {"now": NOW, "limit": limit}))
                claimed = await OutgoingRepo(session).claim(NOW, limit, NOW + timedelta(seconds=20), "t")
                assert [c.id for c in claimed] == expected, (seed, limit)
                taken += len(expected)
                not_by_id += expected != sorted(expected)
                await session.rollback()
        async with sessionmaker() as session, session.begin():  # some go: the next heads come up
            claimed = await OutgoingRepo(session).claim(NOW, rng.randint(1, 6), NOW + timedelta(seconds=20), "t")
            sent = [Outcome(row.id, "sent", message_id=row.id) for row in claimed if rng.random() < 0.7]
            if sent:
                await OutgoingRepo(session).mark_sent(sent, NOW, "t")
    assert taken > 150  # the queues were not empty
    assert not_by_id > 10  # and priorities and turns mattered


async def test_the_heads_are_each_chats_first_pending_row(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    rng = random.Random(42)
    for _ in range(40):
        async with sessionmaker() as session, session.begin():
            if session.get_bind().dialect.name != "sqlite":
                pytest.skip("PostgreSQL keeps no heads: its claim locks the ranked rows themselves")
            await change_at_random(session, rng)
            rows = (await session.execute(select(Outgoing.id, Outgoing.chat_id, Outgoing.status, Outgoing.head))).all()
            first: dict[int, int] = {}
            for oid, chat, status, _ in sorted(rows):
                if status == "pending":
                    first.setdefault(chat, oid)
            assert {oid for oid, _, status, head in rows if status == "pending" and head == 1} == set(first.values())
