"""PostgreSQL's connection pool: a connection in steady use is not pinged before each use (the ping is
three round trips on asyncpg), one that sat idle is, and one found dead then is replaced."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, open_pool
from tests.conftest import POSTGRES_SKIP_REASON, _make_schema


@pytest.fixture
async def pg_url() -> AsyncIterator[tuple[str, str]]:
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    await _make_schema(url, schema, create=True)
    try:
        yield url, schema
    finally:
        await _make_schema(url, schema, create=False)


def count_pings(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    dialect = engine.sync_engine.dialect
    ping = dialect.do_ping
    pings: list[int] = []

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return bool(ping(dbapi_connection))

    monkeypatch.setattr(dialect, "do_ping", counted)
    return pings


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_in_steady_use_is_not_pinged(
    pg_url: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, schema = pg_url
    engine = create_engine(url, search_path=schema, ping_after_idle=3600)
    pings = count_pings(engine, monkeypatch)
    try:
        pids = {await backend_pid(engine) for _ in range(5)}
        assert len(pids) == 1  # one pooled connection, used five times
        assert pings == []
    finally:
        await engine.dispose()


async def test_an_idle_connection_found_dead_is_replaced(
    pg_url: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, schema = pg_url
    engine = create_engine(url, search_path=schema, ping_after_idle=0)  # every reuse counts as idle
    other = create_engine(url)
    pings = count_pings(engine, monkeypatch)
    try:
        first = await backend_pid(engine)
        async with other.connect() as conn:  # the server drops the pooled connection (a restart, say)
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        second = await backend_pid(engine)  # no error: the ping found it dead, a new one was made
        assert second != first
        assert pings  # the idle connection was pinged
    finally:
        await engine.dispose()
        await other.dispose()


async def test_the_pool_is_opened_before_the_first_update(pg_url: tuple[str, str]) -> None:
    """At start the pool's connections are opened at once and kept: the first updates find them."""
    url, schema = pg_url
    engine = create_engine(url, search_path=schema)
    try:
        pool = engine.sync_engine.pool
        assert pool.checkedin() == 0
        opened = await open_pool(engine)
        assert opened == pool.size() == pool.checkedin() == 5
        connects: list[int] = []
        event.listen(engine.sync_engine, "connect", lambda *_: connects.append(1))
        async with asyncio.TaskGroup() as group:  # five updates at once: no new connection
            for _ in range(5):
                group.create_task(backend_pid_held(engine))
        assert connects == []
    finally:
        await engine.dispose()


async def backend_pid_held(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        pid = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        await asyncio.sleep(0)  # hold it while the others take theirs
        return pid


async def test_sqlite_has_no_pool_to_open(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/bot.db")
    try:
        assert await open_pool(engine) == 0
    finally:
        await engine.dispose()
