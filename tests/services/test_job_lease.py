"""Scheduler leases: with several instances on one database, each tick of a job runs once."""

from __future__ import annotations

import asyncio
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


class Steps:
    """A sleep that returns only when the test says so (`tick`): the lease renewer's clock."""

    def __init__(self) -> None:
        self.asleep: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.asleep.put_nowait(future)
        await future

    async def tick(self) -> None:
        """Wake the sleeper, and wait until it sleeps again (its renewal is done)."""
        (await self.asleep.get()).set_result(None)
        self.asleep.put_nowait(await self.asleep.get())


async def test_a_job_longer_than_its_lease_holds_it_while_it_runs(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A job that outlives its lease (9 s for a 10 s job) is not started again on another instance
    while it runs: the running instance renews the lease. Once it ends, the lease runs out as usual."""
    clock = FakeClock()
    steps = Steps()
    runs: list[str] = []
    started, finish = asyncio.Event(), asyncio.Event()

    async def long_refresh() -> None:
        runs.append("one")
        started.set()
        await finish.wait()

    async def refresh() -> None:
        runs.append("two")

    one = Scheduler(lease=database_lease(sessionmaker, clock, "one"), sleep=steps.sleep)
    two = Scheduler(lease=database_lease(sessionmaker, clock, "two"), sleep=steps.sleep)
    one.every(10, "oauth_refresh", long_refresh)
    two.every(10, "oauth_refresh", refresh)
    running = asyncio.create_task(one.run_once("oauth_refresh"))
    await started.wait()
    for _ in range(3):
        clock.advance(seconds=10)  # past the lease taken (or last renewed) 10 s ago
        await steps.tick()  # one's renewer wakes and renews
        assert not await two.run_once("oauth_refresh")
    finish.set()
    assert await running
    assert runs == ["one"]
    clock.advance(seconds=10)
    assert await two.run_once("oauth_refresh")  # one stopped: two takes over once the lease runs out
    assert runs == ["one", "two"]


async def test_a_run_that_lost_its_lease_is_stopped(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """If the running instance stood still past its lease and another took the job, the first stops its
    run at the next renewal instead of overlapping it."""
    clock = FakeClock()
    steps = Steps()
    stopped = asyncio.Event()

    async def long_refresh() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stopped.set()
            raise

    one = Scheduler(lease=database_lease(sessionmaker, clock, "one"), sleep=steps.sleep)
    one.every(10, "oauth_refresh", long_refresh)
    running = asyncio.create_task(one.run_once("oauth_refresh"))
    renewer = await steps.asleep.get()  # the job runs, its renewer waits for its next turn
    clock.advance(seconds=10)
    async with sessionmaker() as session, session.begin():
        now = clock.now()
        assert await JobLeaseRepo(session).take("oauth_refresh", "two", now, now + timedelta(seconds=9))
    renewer.set_result(None)
    assert await asyncio.wait_for(running, 5)
    assert stopped.is_set()
