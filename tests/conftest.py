"""Database targets for every storage-touching test: SQLite always, PostgreSQL when TEST_POSTGRES_URL is set.

`db` is a database at the migrations' head with no rows, for this test alone. Upgrading from empty
costs more than most tests (18 migrations: about 0.1 s of CPU, and a commit per DDL step), so it runs
once per session (per xdist worker) and each test gets a copy:
- SQLite: the migrated file is copied into the test's tmp_path.
- PostgreSQL: each worker migrates a schema of its own (a random name, created and dropped here, so
  the shared server's other data is never touched and never assumed absent); after each test its
  rows are deleted and its sequences restarted. A test that leaves the schema otherwise changed (not
  at head, or tables, columns, constraints, triggers... added or gone, or a lock held) gets the
  schema dropped and the next test a new one.
Both upgrades are real upgrades from empty, on each database, every session; `empty_db` is an empty
database for the tests that run migrations themselves (tests/services/test_scheduled_migration.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, create_sessionmaker, upgrade_to_head

# SQLITE_DRIVER=stock runs the SQLite variants on SQLAlchemy's own aiosqlite adapter instead of
# storage/sqlite_fast.py (CI runs tests/services and tests/e2e that way too); the e2e app reads it
# as its setting.
SQLITE_DRIVER = os.environ.get("SQLITE_DRIVER", "fast")

POSTGRES_SKIP_REASON = "TEST_POSTGRES_URL is not set: PostgreSQL variant skipped (CI sets it)"


@dataclass(frozen=True)
class DbTarget:
    kind: str
    url: str
    schema: str | None = None


async def _make_schema(url: str, schema: str, create: bool) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        if create:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        else:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await engine.dispose()


async def _migrate(url: str, schema: str | None = None) -> None:
    engine = create_engine(url, search_path=schema, sqlite_driver=SQLITE_DRIVER)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file upgraded from empty to head, once per session (per worker)."""
    path = tmp_path_factory.mktemp("template") / "bot.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    assert not path.with_name("bot.db-wal").exists(), "the template's WAL was not checkpointed on close"
    return path


@dataclass
class _PgSchemas:
    """This worker's migrated PostgreSQL schema (made on first use), and the ones to drop at the end."""

    url: str
    current: str | None = None
    tables: frozenset[str] = frozenset()
    shape: str | None = None
    made: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def _pg_schemas() -> Iterator[_PgSchemas | None]:
    url = os.environ.get("TEST_POSTGRES_URL")
    state = _PgSchemas(url) if url else None
    yield state
    if state is not None and state.made:

        async def drop() -> None:
            for schema in state.made:
                await _make_schema(state.url, schema, create=False)

        asyncio.run(drop())


TABLES = text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version'")
# What a test may have changed besides rows: the revision, relations (tables, indexes, sequences,
# views), columns, constraints, triggers and functions (tests/e2e/test_error_logs.py adds a CHECK).
SHAPE = text(
    """
    SELECT md5(coalesce(string_agg(x, ',' ORDER BY x), '')) FROM (
        SELECT 'v:' || version_num FROM alembic_version
        UNION ALL SELECT 'r:' || relname::text || ':' || relkind::text FROM pg_class
            WHERE relnamespace = current_schema()::regnamespace
        UNION ALL SELECT 'a:' || table_name || '.' || column_name || ':' || data_type || ':' || is_nullable
            || ':' || coalesce(column_default, '') FROM information_schema.columns
            WHERE table_schema = current_schema()
        UNION ALL SELECT 'c:' || conrelid::regclass::text || '.' || conname::text || ':' || pg_get_constraintdef(oid)
            FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
        UNION ALL SELECT 't:' || tgname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
        UNION ALL SELECT 'f:' || proname::text FROM pg_proc WHERE pronamespace = current_schema()::regnamespace
    ) AS shape(x)
    """
)


async def _pg_fresh(state: _PgSchemas) -> str:
    """The worker's schema at head with no rows: made and migrated the first time, emptied after each test."""
    if state.current is None:
        schema = f"test_{uuid.uuid4().hex[:12]}"
        await _make_schema(state.url, schema, create=True)
        state.made.append(schema)
        await _migrate(state.url, schema)
        engine = create_engine(state.url, search_path=schema)
        try:
            async with engine.connect() as conn:
                state.tables = frozenset((await conn.execute(TABLES)).scalars())
                state.shape = await conn.scalar(SHAPE)
        finally:
            await engine.dispose()
        state.current = schema
    return state.current


async def _pg_empty(state: _PgSchemas, schema: str) -> None:
    """Delete the test's rows and restart the sequences, in one transaction; if the schema is not as
    migrated (or a lock the test left keeps us waiting), forget it: the next test migrates a new one."""
    engine: AsyncEngine = create_engine(state.url, search_path=schema)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            tables = frozenset((await conn.execute(TABLES)).scalars())
            if tables != state.tables or await conn.scalar(SHAPE) != state.shape:
                raise RuntimeError("schema changed by the test")
            probe = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in sorted(tables))
            filled = list((await conn.execute(text(probe))).scalars())
            if filled:
                await conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in filled) + " CASCADE"))
            await conn.execute(
                text(
                    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false)"
                    " FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL"
                )
            )
    except Exception:
        state.current = None
        await engine.dispose()
        with contextlib.suppress(Exception):  # else dropped at the session's end
            await _drop_schema_now(state.url, schema)
            state.made.remove(schema)
        return
    await engine.dispose()


async def _drop_schema_now(url: str, schema: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def db(
    request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path, _pg_schemas: _PgSchemas | None
) -> AsyncIterator[DbTarget]:
    """A database at head with no rows, this test's alone (see the module's docstring)."""
    if request.param == "sqlite":
        path = tmp_path / "bot.db"
        shutil.copyfile(_sqlite_template, path)
        yield DbTarget("sqlite", f"sqlite+aiosqlite:///{path}")
        return
    if _pg_schemas is None:
        pytest.skip(POSTGRES_SKIP_REASON)
    schema = await _pg_fresh(_pg_schemas)
    try:
        yield DbTarget("postgres", _pg_schemas.url, schema)
    finally:
        await _pg_empty(_pg_schemas, schema)


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DbTarget]:
    """An empty database (no tables): for tests that run the migrations themselves."""
    if request.param == "sqlite":
        yield DbTarget("sqlite", f"sqlite+aiosqlite:///{tmp_path}/bot.db")
        return
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    await _make_schema(url, schema, create=True)
    try:
        yield DbTarget("postgres", url, schema)
    finally:
        await _make_schema(url, schema, create=False)


@pytest.fixture
async def sessionmaker(db: DbTarget) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The test's database (at head, see `db`) and its session factory."""
    engine = create_engine(db.url, search_path=db.schema, sqlite_driver=SQLITE_DRIVER)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A client for TEST_REDIS_URL; tests use keys of their own (a random prefix) and delete them."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set: this test needs Redis (CI sets it)")
    client = Redis.from_url(url)
    yield client
    await client.aclose()
