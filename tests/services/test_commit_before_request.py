"""CommitBeforeRequest: a Bot API call made while an update's unit of work holds a transaction commits
it first; a task the update started (which inherits its context) never commits the update's session,
and neither does a call inside a savepoint."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiogram.methods import GetMe
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import CommitBeforeRequest, UnitOfWork
from storage.models import User

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class Recorder:
    """Stands in for the HTTP request: notes how many users another connection could read by then."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self.seen: list[int] = []

    async def __call__(self, bot: Any, method: Any) -> Any:
        async with self.sessionmaker() as other:
            self.seen.append(await other.scalar(select(func.count()).select_from(User)) or 0)
        return None


def unit_of_work(session: AsyncSession) -> UnitOfWork:
    return UnitOfWork(session, signin=None)  # type: ignore[arg-type]  # release() is not used here


async def test_a_call_commits_the_units_work_first_but_not_from_another_task_nor_in_a_savepoint(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    request = Recorder(sessionmaker)
    middleware = CommitBeforeRequest()
    async with sessionmaker() as session:
        unit = unit_of_work(session)
        with unit.current():
            session.add(User(anon_name="first", created_at=NOW))
            await session.flush()
            # A task started by the update inherits its context, but must leave its session alone.
            await asyncio.create_task(middleware(request, None, GetMe()))  # type: ignore[arg-type]
            async with session.begin_nested():
                session.add(User(anon_name="nested", created_at=NOW))
                await session.flush()
                await middleware(request, None, GetMe())  # type: ignore[arg-type]
            await middleware(request, None, GetMe())  # type: ignore[arg-type]
        await middleware(request, None, GetMe())  # type: ignore[arg-type]  # outside the update: passes through
    assert request.seen == [0, 0, 2, 2]
