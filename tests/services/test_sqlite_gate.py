"""The SQLite write gate (storage/sqlite_fast.py): concurrent writers take turns in the event loop,
a failed or finished transaction hands the gate on, and a writer that waits longer than the busy
timeout gets SQLite's own "database is locked"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.db import create_engine
from storage.sqlite_fast import OneHopDBAPI, one_hop_dbapi


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/gate.db")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        await conn.execute(text("INSERT INTO counter (id, n) VALUES (1, 0)"))
    yield engine
    await engine.dispose()


def gate_of(engine: AsyncEngine) -> asyncio.Lock:
    dbapi = engine.dialect.dbapi
    assert isinstance(dbapi, OneHopDBAPI)
    return dbapi.write_gate()


async def test_concurrent_read_then_write_transactions_all_succeed(engine: AsyncEngine) -> None:
    async def bump() -> None:
        async with engine.begin() as conn:
            n = (await conn.execute(text("SELECT n FROM counter WHERE id = 1"))).scalar_one()
            await asyncio.sleep(0)  # let the others interleave between the read and the write
            await conn.execute(text("UPDATE counter SET n = n + 1 WHERE id = 1"))
            assert n >= 0

    await asyncio.gather(*(bump() for _ in range(40)))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT n FROM counter"))).scalar_one() == 40
    assert not gate_of(engine).locked()


async def test_the_gate_is_held_from_the_first_write_to_the_commit(engine: AsyncEngine) -> None:
    gate = gate_of(engine)
    async with engine.connect() as conn:
        await conn.execute(text("SELECT n FROM counter"))
        assert not gate.locked()  # reads take nothing
        await conn.execute(text("UPDATE counter SET n = 5"))
        assert gate.locked()
        await conn.commit()
        assert not gate.locked()
        await conn.execute(text("UPDATE counter SET n = 6"))
        await conn.rollback()
        assert not gate.locked()
        assert (await conn.execute(text("SELECT n FROM counter"))).scalar_one() == 5


async def test_a_failed_write_hands_the_gate_on(engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO counter (id, n) VALUES (1, 1)"))
    assert not gate_of(engine).locked()
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE counter SET n = 7"))
    assert not gate_of(engine).locked()


async def test_a_writer_waiting_past_the_busy_timeout_is_told_the_database_is_locked(tmp_path: Path) -> None:
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path}/locked.db", module=one_hop_dbapi(), connect_args={"timeout": 0.2}
    )
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        async with engine.connect() as holder:
            await holder.execute(text("INSERT INTO t (n) VALUES (1)"))  # holds the gate, not committed
            with pytest.raises(OperationalError, match="database is locked"):
                async with engine.begin() as waiter:
                    await waiter.execute(text("INSERT INTO t (n) VALUES (2)"))
            await holder.commit()
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1
    finally:
        await engine.dispose()
