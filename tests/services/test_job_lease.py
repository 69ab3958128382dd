"""Scheduler leases: with several instances on one database, each tick of a job runs once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.scheduler import Scheduler, database_lease
from services.clock import FakeClock
from storage.repositories.jobs import JobLeaseRepo


async def test_lease_is_held_by_one_holder_until_it_runs_out(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    now = clock.now()

    async def take(holder: str, at: timedelta) -> bool:
        async with sessionmaker() as session, session.begin():
            return await JobLeaseRepo(session).take("job", holder, now + at, now + at + timedelta(seconds=9))

    assert await take("a", timedelta(0))
    assert not await take("b", timedelta(seconds=1))
    assert await take("a", timedelta(seconds=2))  # the holder renews
    assert not await take("b", timedelta(seconds=10))  # renewed at 2 s: held until 11 s
    assert await take("b", timedelta(seconds=11))
    assert not await take("a", timedelta(seconds=12))


async def test_two_instances_run_each_tick_once(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    runs: list[str] = []
    instances = []
    for name in ("one", "two"):
        scheduler = Scheduler(lease=database_lease(sessionmaker, clock, name))

        async def job(name: str = name) -> None:
            runs.append(name)

        scheduler.every(10, "tick", job)
        instances.append(scheduler)
    for _ in range(3):
        for scheduler in instances:
            await scheduler.run_all_once()
        clock.advance(seconds=10)
    assert len(runs) == 3  # one run per tick, not two
    assert runs == ["one", "one", "one"]  # the holder keeps it while it is alive
    clock.advance(seconds=10)
    assert await instances[1].run_once("tick")  # "one" stopped ticking: "two" takes over after the lease
