"""Scheduler job of personal data: old sign-in codes (and the phones in them) are purged."""

from __future__ import annotations

from bot.context import AppContext
from bot.scheduler import Scheduler
from services.privacy import PrivacyService

PURGE_PHONE_CODES_JOB = "purge_phone_codes"


def register_privacy_jobs(ctx: AppContext, scheduler: Scheduler) -> None:
    async def purge_phone_codes() -> None:
        async with ctx.sessionmaker() as session, session.begin():
            await PrivacyService(session, ctx.clock).purge_phone_codes()

    scheduler.every(3600, PURGE_PHONE_CODES_JOB, purge_phone_codes)
