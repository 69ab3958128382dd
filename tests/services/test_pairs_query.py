"""Statements over many (first, second) pairs (`storage.db.PairsQuery`) are built for a few bucket sizes
only, padded with the last pair, and still find exactly the pairs asked for."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import FakeClock
from storage.db import PairsQuery, padded, pairs_bucket, pairs_in
from storage.models import Block
from storage.repositories.relay import RelayRepo
from storage.repositories.users import UserRepo
from tests.services.helpers import signed_in_user


def test_counts_fall_into_a_few_buckets() -> None:
    assert [pairs_bucket(n) for n in (0, 1, 2, 3, 4, 5, 9, 100, 200, 256, 257, 600)] == [
        1, 1, 2, 4, 4, 8, 16, 128, 256, 256, 512, 768,
    ]  # fmt: skip
    built: list[int] = []

    def build(count: int) -> object:
        built.append(count)
        return select(Block.id).where(pairs_in(Block.blocker_id, Block.blocked_id, count))

    query = PairsQuery(build)  # type: ignore[arg-type]
    for n in range(1, 201):
        _, parameters = query([(i, i + 1) for i in range(n)])
        assert len(parameters) == 2 * pairs_bucket(n)
        assert (parameters[f"a{n - 1}"], parameters[f"b{n - 1}"]) == (n - 1, n)
    assert built == [1, 2, 4, 8, 16, 32, 64, 128, 256]


async def test_padded_statements_find_exactly_the_blocks(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    async with sessionmaker() as session:
        users = [await signed_in_user(session, clock) for _ in range(8)]
        ids = [u.id for u in users]
        blocks = {(ids[0], ids[1]), (ids[2], ids[3]), (ids[5], ids[7])}
        session.add_all(Block(blocker_id=a, blocked_id=b, created_at=clock.now()) for a, b in blocks)
        await session.commit()
    async with sessionmaker() as session:
        repo = RelayRepo(session)
        asked = [(a, b) for a in ids for b in ids if a != b]  # 56 pairs: a bucket of 64
        for n in (1, 3, 5, 17, len(asked)):
            wanted = asked[:n]
            assert await repo.blocked_pairs(wanted) == blocks & set(wanted)


async def test_in_lists_are_padded_to_a_few_lengths_and_find_the_same_rows(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """IN lists go out padded (`storage.db.padded`): every length from 1 to 200 is one of 9 statements
    (on PostgreSQL each length is a statement to prepare per connection), and the rows found are the same."""
    assert padded([]) == []
    assert padded([7, 8, 9]) == [7, 8, 9, 9]
    assert {len(padded(range(n))) for n in range(1, 201)} == {1, 2, 4, 8, 16, 32, 64, 128, 256}
    clock = FakeClock()
    async with sessionmaker() as session, session.begin():
        users = [await signed_in_user(session, clock) for _ in range(5)]
    async with sessionmaker() as session:
        found = await UserRepo(session).by_telegram_ids([users[n].telegram_id for n in (0, 1, 4)])
    assert sorted(u.id for u in found) == sorted(users[n].id for n in (0, 1, 4))
