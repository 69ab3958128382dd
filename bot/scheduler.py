"""Periodic jobs on APScheduler. Each job is a "do what is due at clock.now()" tick, so tests
drive jobs with a fake clock and `run_all_once()` instead of waiting on wall time."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import Clock
from storage.repositories.jobs import JobLeaseRepo

log = logging.getLogger(__name__)

JobFunc = Callable[[], Awaitable[object]]
# Asked before each run: may this instance run the job now? (see `database_lease`)
Lease = Callable[["Job"], Awaitable[bool]]


@dataclass(frozen=True)
class Job:
    name: str
    seconds: float
    func: JobFunc


class Scheduler:
    def __init__(self, lease: Lease | None = None) -> None:
        self.jobs: dict[str, Job] = {}
        self.lease = lease
        self._aps: AsyncIOScheduler | None = None

    def every(self, seconds: float, name: str, func: JobFunc) -> None:
        """Register `func` to run every `seconds` (one instance at a time; missed runs coalesce)."""
        if name in self.jobs:
            raise ValueError(f"job {name!r} registered twice")
        self.jobs[name] = Job(name, seconds, func)
        if self._aps is not None:
            self._add(self.jobs[name])

    def _add(self, job: Job) -> None:
        assert self._aps is not None
        self._aps.add_job(
            self._run,
            "interval",
            seconds=job.seconds,
            args=[job],
            id=job.name,
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )

    async def _run(self, job: Job) -> None:
        try:
            if self.lease is not None and not await self.lease(job):
                return  # another instance runs this tick
            await job.func()
        except Exception:
            log.exception("scheduled job %s failed", job.name)

    @property
    def running(self) -> bool:
        return self._aps is not None and self._aps.running

    def start(self) -> None:
        if self.running:
            return
        self._aps = AsyncIOScheduler(timezone=UTC)
        for job in self.jobs.values():
            self._add(job)
        self._aps.start()

    def shutdown(self) -> None:
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
        self._aps = None

    async def run_once(self, name: str) -> bool:
        """Run one job now unless another instance holds its lease; True when it ran."""
        job = self.jobs[name]
        if self.lease is not None and not await self.lease(job):
            return False
        await job.func()
        return True

    async def run_all_once(self) -> None:
        """Run every job now, in registration order (tests, after moving a fake clock)."""
        for name in list(self.jobs):
            await self.run_once(name)


def instance_name() -> str:
    """Who holds a lease: host, process and a random suffix (a restarted process is a new holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[:128]


def database_lease(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, holder: str) -> Lease:
    """Leases in the database: a tick runs on the instance that takes the job's lease, which lasts a
    little less than the job's interval (a stopped instance's lease runs out by the next tick)."""

    async def lease(job: Job) -> bool:
        now = clock.now()
        async with sessionmaker() as session, session.begin():
            return await JobLeaseRepo(session).take(job.name, holder, now, now + timedelta(seconds=job.seconds * 0.9))

    return lease
