"""The scheduler job that shows each running broadcast's progress in the admin's message."""

from __future__ import annotations

from bot.context import AppContext
from bot.scheduler import Scheduler

BROADCAST_PROGRESS_JOB = "broadcast_progress"


async def publish_progress(ctx: AppContext) -> int:
    """One pass: render every running broadcast's counts; returns how many edits were queued."""
    edits = 0
    async with ctx.sessionmaker() as session, session.begin():
        service = ctx.broadcasts(session)
        for progress in await service.progress():
            locale = ctx.translator.pick(progress.author.language if progress.author else None, None)
            t = ctx.translator.texts(locale)
            key = "broadcast-finished" if progress.done else "broadcast-progress"
            text = t(
                key,
                delivered=progress.delivered,
                blocked=progress.blocked,
                failed=progress.failed,
                total=progress.total,
            )
            edits += await service.publish(progress, text)
    return edits


def register_broadcast_jobs(ctx: AppContext, scheduler: Scheduler) -> None:
    async def tick() -> None:
        await publish_progress(ctx)

    scheduler.every(ctx.settings.broadcast_progress_seconds, BROADCAST_PROGRESS_JOB, tick)
