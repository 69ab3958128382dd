"""Periodic jobs on APScheduler. Each job is a "do what is due at clock.now()" tick, so tests
drive jobs with a fake clock and `run_all_once()` instead of waiting on wall time."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

JobFunc = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Job:
    name: str
    seconds: float
    func: JobFunc


class Scheduler:
    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
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

    async def run_once(self, name: str) -> None:
        await self.jobs[name].func()

    async def run_all_once(self) -> None:
        """Run every job now, in registration order (tests, after moving a fake clock)."""
        for job in list(self.jobs.values()):
            await job.func()
