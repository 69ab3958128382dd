"""The `db` fixture (tests/conftest.py): every test starts at head with no rows, though the migrated
database is made once per worker (a copied SQLite file, an emptied PostgreSQL schema). The two tests
run in this order in one worker (`--dist loadfile`): the second sees nothing of the first."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import User


async def _add_user(sessionmaker: async_sessionmaker[AsyncSession], telegram_id: int) -> int:
    async with sessionmaker() as session, session.begin():
        user = User(telegram_id=telegram_id, anon_name="A", created_at=datetime.now(UTC))
        session.add(user)
        await session.flush()
        return user.id


async def test_a_test_leaves_rows_behind(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    assert await _add_user(sessionmaker, 1) == 1
    assert await _add_user(sessionmaker, 2) == 2


async def test_the_next_test_starts_empty_at_head_with_ids_from_one(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
        head = await session.scalar(text("SELECT version_num FROM alembic_version"))
    assert head is not None
    assert await _add_user(sessionmaker, 3) == 1  # sequences restarted
