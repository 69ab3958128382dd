"""Small statements run in the event loop's thread, the rest in aiosqlite's (storage/sqlite_fast.py):
which thread runs what, and a write that finds another process holding SQLite's lock waits for it in
aiosqlite's thread without blocking the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.dialects.postgresql import dialect as postgresql_dialect
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from services.clock import SystemClock
from services.moderation import ModerationService
from storage import sqlite_fast
from storage.db import create_engine, upgrade_to_head
from storage.models import User
from storage.repositories.delivery import OutgoingRepo
from storage.repositories.gmfy import OutboxSenderRepo
from storage.repositories.panel import OverviewRepo
from storage.sqlite_fast import IN_THREAD, INLINE_MAX_VALUES, in_thread, one_hop_dbapi


def trace_threads(engine: AsyncEngine) -> list[tuple[str, bool]]:
    """(statement, ran in the event loop's thread) for every statement SQLite runs from now on."""
    seen: list[tuple[str, bool]] = []
    loop_thread = threading.get_ident()

    def traced(dbapi_connection: Any, *_: Any) -> None:
        raw: sqlite3.Connection = dbapi_connection._connection._conn
        raw.set_trace_callback(lambda sql: seen.append((sql, threading.get_ident() == loop_thread)))

    event.listen(engine.sync_engine, "checkout", traced)
    return seen


def ran(seen: list[tuple[str, bool]], head: str) -> list[bool]:
    return [inline for sql, inline in seen if sql.lstrip().upper().startswith(head)]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/inline.db")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
    yield engine
    await engine.dispose()


async def test_small_statements_and_commits_run_inline_bulk_and_deletes_in_the_thread(engine: AsyncEngine) -> None:
    seen = trace_threads(engine)
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (n) VALUES (:n)"), [{"n": n} for n in range(10)])
        await conn.execute(text("UPDATE t SET n = n + 1 WHERE id = 1"))
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 10
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (n) VALUES (:n)"), [{"n": n} for n in range(INLINE_MAX_VALUES + 1)])
        await conn.execute(text("DELETE FROM t WHERE n > 5"))
    assert ran(seen, "SELECT") == [True]
    assert ran(seen, "UPDATE") == [True]
    assert ran(seen, "INSERT") == [True] * 10 + [False] * (INLINE_MAX_VALUES + 1)
    assert ran(seen, "DELETE") == [False]
    assert ran(seen, "COMMIT") == [True, True]


class CheckpointSpy:
    """Records the checkpoints `storage.sqlite_fast` runs on a connection of its own (and in which thread)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.threads: list[int] = []
        self.ran = threading.Event()
        plain = sqlite_fast._checkpoint

        def spied(database: str) -> None:
            plain(database)
            self.threads.append(threading.get_ident())
            self.ran.set()

        monkeypatch.setattr(sqlite_fast, "_checkpoint", spied)

    async def wait(self) -> None:
        assert await asyncio.to_thread(self.ran.wait, 5), "no checkpoint ran"
        self.ran.clear()


async def test_sqlite_does_not_checkpoint_in_a_commit_a_checkpoint_runs_on_its_own_now_and_then(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_fast, "CHECKPOINT_EVERY", 3)
    spy = CheckpointSpy(monkeypatch)
    seen = trace_threads(engine)
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one() == 0
        for n in range(6):
            await conn.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})
            await conn.commit()
            if n % 3 == 2:  # the third commit of three
                await spy.wait()
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 6
    assert len(spy.threads) == 2  # one every 3 commits
    assert threading.get_ident() not in spy.threads  # in a worker thread, not the event loop's
    assert ran(seen, "PRAGMA WAL_CHECKPOINT") == []  # and not on a pooled connection: none waits behind it


@pytest.fixture
def outsider(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """Another process' connection to the same file (its own sqlite3 connection, not the engine's)."""
    holder = sqlite3.connect(tmp_path / "inline.db", isolation_level=None, check_same_thread=False)
    yield holder
    holder.close()


async def ticks_while(work: asyncio.Future[Any]) -> int:
    """How many times the event loop ran another task (every 10 ms) while `work` was not done."""
    ticks = 0
    while not work.done():
        await asyncio.sleep(0.01)
        ticks += 1
    return ticks


async def test_a_write_waits_for_another_process_lock_in_the_thread(
    engine: AsyncEngine, outsider: sqlite3.Connection
) -> None:
    seen = trace_threads(engine)
    outsider.execute("BEGIN IMMEDIATE")  # holds SQLite's write lock
    outsider.execute("INSERT INTO t (n) VALUES (1)")

    async def write() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (n) VALUES (2)"))

    work = asyncio.ensure_future(write())
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, outsider.execute, "COMMIT")
    ticks = await ticks_while(work)
    await work
    assert ticks >= 10  # the loop ran on while the write waited 0.3 s for the lock
    assert ran(seen, "INSERT") == [True, False]  # tried once inline (busy), then waited in the thread
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT n FROM t ORDER BY id"))).scalars().all() == [1, 2]


async def test_past_the_busy_timeout_the_write_is_told_the_database_is_locked(
    tmp_path: Path, outsider: sqlite3.Connection
) -> None:
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path}/inline.db", module=one_hop_dbapi(), connect_args={"timeout": 0.2}
    )
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        outsider.execute("BEGIN IMMEDIATE")

        async def write() -> None:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (n) VALUES (1)"))

        work = asyncio.ensure_future(write())
        ticks = await ticks_while(work)
        with pytest.raises(OperationalError, match="database is locked"):
            await work
        assert ticks >= 5  # waited the busy timeout (0.2 s) off the event loop
        outsider.execute("ROLLBACK")
        async with engine.begin() as conn:  # the busy timeout was given back after the inline try
            await conn.execute(text("INSERT INTO t (n) VALUES (2)"))
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
        assert busy == 200
    finally:
        await engine.dispose()


async def test_a_grown_wal_is_checkpointed_before_the_commit_count_comes_round(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_fast, "WAL_CHECK_EVERY", 1)
    wal = tmp_path / "inline.db-wal"
    monkeypatch.setattr(sqlite_fast, "WAL_CHECKPOINT_BYTES", wal.stat().st_size + 64 * 1024)  # 16 pages more
    spy = CheckpointSpy(monkeypatch)
    async with engine.connect() as conn:
        for n in range(2):  # a few pages each: under the mark
            await conn.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})
            await conn.commit()
        assert spy.threads == []
        await conn.execute(text("INSERT INTO t (n) VALUES (:n)"), [{"n": n} for n in range(20_000)])  # ~40 pages
        await conn.commit()
        await spy.wait()  # at once
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 20_002
    assert len(spy.threads) == 1


async def test_counts_that_scan_a_table_run_in_the_thread(tmp_path: Path) -> None:
    """/stats's counts and the queue depths read for /metrics scan tables: at 100,000 members inline
    they would stall every update for milliseconds. Other reads still run inline."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/stats.db")
    await upgrade_to_head(engine)
    seen = trace_threads(engine)
    async with AsyncSession(engine) as session:
        stats = await ModerationService(session, SystemClock()).stats()
        assert stats.users == 0
        assert await OutgoingRepo(session).depth() == 0
        assert (await OutboxSenderRepo(session).stats()).pending == 0
        overview = OverviewRepo(session)  # the panel's overview, served by the same process
        assert await overview.members() == 0
        now = datetime.now(UTC)
        assert await overview.signups_between([now - timedelta(days=1), now]) == [0]
        assert await session.scalar(select(User.id).where(User.id == 1)) is None
    counts = [inline for sql, inline in seen if "count(" in sql.lower()]
    assert len(counts) >= 10
    assert [inline for sql, inline in seen if sql.startswith("WITH buckets")] == [False]
    assert not any(counts)
    assert [inline for sql, inline in seen if sql.startswith("SELECT users.id")] == [True]
    await engine.dispose()


def test_in_thread_marks_sqlite_only() -> None:
    query = in_thread(select(func.count()).select_from(User))
    assert IN_THREAD in str(query.compile(dialect=sqlite_dialect()))
    assert IN_THREAD not in str(query.compile(dialect=postgresql_dialect()))


async def test_the_stock_driver_is_sqlalchemys_own(tmp_path: Path) -> None:
    """SQLITE_DRIVER=stock: SQLAlchemy's own aiosqlite adapter, nothing of storage/sqlite_fast.py."""
    fast = create_engine(f"sqlite+aiosqlite:///{tmp_path}/fast.db")
    stock = create_engine(f"sqlite+aiosqlite:///{tmp_path}/stock.db", sqlite_driver="stock")
    assert isinstance(fast.dialect.dbapi, sqlite_fast.OneHopDBAPI)
    assert not isinstance(stock.dialect.dbapi, sqlite_fast.OneHopDBAPI)
    async with stock.begin() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
    with pytest.raises(ValueError, match="unknown SQLite driver"):
        create_engine(f"sqlite+aiosqlite:///{tmp_path}/x.db", sqlite_driver="turbo")
    await fast.dispose()
    await stock.dispose()
