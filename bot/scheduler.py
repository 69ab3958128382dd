"""Periodic jobs on APScheduler. Each job is a "do what is due at clock.now()" tick, so tests
drive jobs with a fake clock and `run_all_once()` instead of waiting on wall time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import Clock
from storage.repositories.jobs import JobLeaseRepo

log = logging.getLogger(__name__)

JobFunc = Callable[[], Awaitable[object]]
# A job's lease is renewed this often (a fraction of its interval) while the job runs.
RENEW_FRACTION = 0.3


class Lease(Protocol):
    """Which instance runs a job's tick (see `DatabaseLease`)."""

    async def take(self, job: Job) -> bool:
        """May this instance run the job now?"""
        ...

    async def renew(self, job: Job) -> bool:
        """The job still runs here: keep the lease. False when another instance holds it now."""
        ...


@dataclass(frozen=True)
class Job:
    name: str
    seconds: float
    func: JobFunc


class Scheduler:
    def __init__(self, lease: Lease | None = None, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.jobs: dict[str, Job] = {}
        self.lease = lease
        self.sleep = sleep  # between lease renewals (tests pass a fake)
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
            await self._run_leased(job)  # False: another instance runs this tick
        except Exception:
            log.exception("scheduled job %s failed", job.name)

    async def _run_leased(self, job: Job) -> bool:
        """Run the job if this instance takes its lease, and hold the lease while it runs: a run longer
        than the lease must not overlap a run on another instance (a refresh token used twice)."""
        if self.lease is None:
            await job.func()
            return True
        if not await self.lease.take(job):
            return False
        run = asyncio.ensure_future(job.func())
        renewer = asyncio.create_task(self._renew_while(job, run))
        try:
            await run
        except asyncio.CancelledError:
            if renewer.done() and not renewer.cancelled() and renewer.result() is False:
                return True  # the lease was lost, the run stopped (logged by the renewer)
            raise
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        return True

    async def _renew_while(self, job: Job, run: asyncio.Future[object]) -> bool:
        """Renew the job's lease until the run ends; if another instance took it meanwhile (this one
        stood still longer than the lease), stop the run rather than overlap it. False then."""
        assert self.lease is not None
        while not run.done():
            await self.sleep(job.seconds * RENEW_FRACTION)
            if run.done():
                break
            try:
                held = await self.lease.renew(job)
            except Exception:
                log.warning("renewing the lease of job %s failed; trying again", job.name, exc_info=True)
                continue
            if not held:
                log.error("job %s lost its lease to another instance while running; stopping it", job.name)
                run.cancel()
                return False
        return True

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
        return await self._run_leased(self.jobs[name])

    async def run_all_once(self) -> None:
        """Run every job now, in registration order (tests, after moving a fake clock)."""
        for name in list(self.jobs):
            await self.run_once(name)


def instance_name() -> str:
    """Who holds a lease: host, process and a random suffix (a restarted process is a new holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[:128]


class DatabaseLease:
    """Leases in the database: a tick runs on the instance that takes the job's lease, which lasts a
    little less than the job's interval (a stopped instance's lease runs out by the next tick), and
    is renewed while the job runs."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, holder: str) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.holder = holder

    def _until(self, job: Job) -> tuple[datetime, datetime]:
        now = self.clock.now()
        return now, now + timedelta(seconds=job.seconds * 0.9)

    async def take(self, job: Job) -> bool:
        now, until = self._until(job)
        async with self.sessionmaker() as session, session.begin():
            return await JobLeaseRepo(session).take(job.name, self.holder, now, until)

    async def renew(self, job: Job) -> bool:
        _, until = self._until(job)
        async with self.sessionmaker() as session, session.begin():
            return await JobLeaseRepo(session).renew(job.name, self.holder, until)


def database_lease(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, holder: str) -> DatabaseLease:
    return DatabaseLease(sessionmaker, clock, holder)
