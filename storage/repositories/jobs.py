"""Leases on scheduler jobs, so each tick of a job runs on one instance only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JobLease


class JobLeaseRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """True when `holder` now holds the lease on `name` until `until` (it was free, expired or ours)."""
        result = await self.session.execute(
            update(JobLease)
            .where(JobLease.name == name, or_(JobLease.until <= now, JobLease.holder == holder))
            .values(holder=holder, until=until)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0):
            return True
        try:
            async with self.session.begin_nested():
                self.session.add(JobLease(name=name, holder=holder, until=until))
        except IntegrityError:  # another instance holds it
            return False
        return True

    async def renew(self, name: str, holder: str, until: datetime) -> bool:
        """Extend `holder`'s lease on `name` to `until`; False when it is no longer theirs."""
        result = await self.session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.holder == holder)
            .values(until=until)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))
