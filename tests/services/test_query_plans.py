"""The relay batch's lookups of many (chat, message) and (blocker, blocked) pairs at once find them by
index, not by scanning: their cost must not grow with the history (SQLite answers a row-value
`(a, b) IN (...)` with a scan of the whole index). Checked with SQLite's own query plans."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories.relay import RelayRepo
from tests.conftest import DbTarget
from tests.services.helpers import record_statements


async def plans_of(sessionmaker: async_sessionmaker[AsyncSession], run: Any, table: str) -> list[str]:
    seen = record_statements(sessionmaker, lambda statement: f"FROM {table}" in statement)
    async with sessionmaker() as session:
        await run(RelayRepo(session))
        assert seen, f"no query of {table}"
        statement, parameters = seen[0]
        connection = await session.connection()
        plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", tuple(parameters))
        return [str(row[3]) for row in plan.all()]


@pytest.mark.parametrize(
    ("table", "run"),
    [
        ("relay_messages", lambda repo: repo.existing_origins({(10 + n, 100 + n) for n in range(50)})),
        ("relay_blocks", lambda repo: repo.blocked_pairs({(10 + n, 20 + n) for n in range(50)})),
    ],
)
async def test_pairs_are_looked_up_by_index(
    db: DbTarget, sessionmaker: async_sessionmaker[AsyncSession], table: str, run: Any
) -> None:
    if db.kind != "sqlite":
        pytest.skip("query plans are checked on SQLite (the row-value scan is SQLite's)")
    plan = await plans_of(sessionmaker, run, table)
    assert any(step.startswith("SEARCH") for step in plan), plan
    assert not any(step.startswith("SCAN") and table in step for step in plan), plan


@pytest.mark.parametrize("run", [lambda repo: repo.paging(), lambda repo: repo.next_paged()])
async def test_the_fan_out_being_paged_is_found_by_its_partial_index(
    db: DbTarget, sessionmaker: async_sessionmaker[AsyncSession], run: Any
) -> None:
    """Every relay batch with a common-chat message asks whether a fan-out is being paged
    (`RelayRepo.paging`): the partial index of the few messages with a cursor answers, whatever the
    history's length."""
    if db.kind != "sqlite":
        pytest.skip("query plans are checked on SQLite")
    plan = await plans_of(sessionmaker, run, "relay_messages")
    assert any("ix_relay_messages_fanout" in step for step in plan), plan


async def test_a_page_of_readers_is_a_range_of_the_primary_key(
    db: DbTarget, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """`RelayRepo.common_page` reads a page after the cursor (a keyset page), not the chat from the start."""
    from datetime import UTC, datetime

    if db.kind != "sqlite":
        pytest.skip("query plans are checked on SQLite")
    plan = await plans_of(sessionmaker, lambda repo: repo.common_page(1, 5000, 1000, datetime.now(UTC)), "users")
    assert any(step.startswith("SEARCH users USING INTEGER PRIMARY KEY (rowid>?)") for step in plan), plan
