"""Writes that race when updates are handled at the same time (webhook mode with two instances): the
per-user message limit must neither clash on the window's new row nor lose a count, nor let more
than the limit through; a new user's first two updates must make one row, not an error."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import FakeClock
from services.signin import TelegramProfile
from storage.models import User
from storage.repositories.relay import RelayRepo
from tests.services.helpers import services, signed_in_user

START = datetime(2026, 11, 25, 11, tzinfo=UTC)


async def test_concurrent_takes_count_every_message_and_stop_at_the_limit(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        user = await signed_in_user(session, FakeClock())
        await session.commit()
    ready = asyncio.Event()

    async def take() -> int | None:
        async with sessionmaker() as session:
            await ready.wait()  # all start together: the first inserts race for the new row
            taken = await RelayRepo(session).take_from_window(user.id, START, limit=5)
            await session.commit()
            return taken

    tasks = [asyncio.create_task(take()) for _ in range(12)]
    ready.set()
    results = await asyncio.gather(*tasks)

    assert sorted(r for r in results if r is not None) == [1, 2, 3, 4, 5]
    assert results.count(None) == 7
    async with sessionmaker() as session:
        assert await RelayRepo(session).count_in_window(user.id, START) == 5


async def test_windows_are_per_user_and_per_start(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        first = await signed_in_user(session, FakeClock())
        second = await signed_in_user(session, FakeClock())
        repo = RelayRepo(session)
        assert await repo.take_from_window(first.id, START, limit=1) == 1
        assert await repo.take_from_window(first.id, START, limit=1) is None
        assert await repo.take_from_window(second.id, START, limit=1) == 1
        later = START.replace(hour=12)
        assert await repo.take_from_window(first.id, later, limit=1) == 1
        assert await repo.count_in_window(first.id, START) == 1


async def test_first_contact_handled_twice_at_once_makes_one_user(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    profile = TelegramProfile(777_000_001, "new", "New")
    both_read = asyncio.Barrier(2)

    async def first_update() -> int:
        async with sessionmaker() as session:
            await session.scalar(select(func.count()).select_from(User))  # both transactions have begun
            await both_read.wait()
            signin, _, _ = services(session, FakeClock())
            user = await signin.ensure_user(profile)
            await session.commit()
            return user.id

    ids = await asyncio.gather(first_update(), first_update())
    assert ids[0] == ids[1]
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(User).where(User.telegram_id == profile.telegram_id)
        )
    assert count == 1
