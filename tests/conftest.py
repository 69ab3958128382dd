"""Database targets for every storage-touching test: SQLite always, PostgreSQL when TEST_POSTGRES_URL is set.

Each PostgreSQL test works in a schema of its own, created and dropped here, so the shared
server's other data is never touched and never assumed absent.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[DbTarget]:
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
    """A migrated database (`upgrade head`) and its session factory."""
    engine = create_engine(db.url, search_path=db.schema, sqlite_driver=SQLITE_DRIVER)
    await upgrade_to_head(engine)
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
