"""Scheduler jobs of the chats: limit resets, albums, scheduled messages, paged fan-outs, message TTL."""

from __future__ import annotations

from datetime import timedelta

from bot.context import AppContext
from bot.i18n.notices import send_notices
from bot.scheduler import Scheduler


def register_relay_jobs(ctx: AppContext, scheduler: Scheduler) -> None:
    s = ctx.settings

    async def reset_limits() -> None:
        async with ctx.sessionmaker() as session, session.begin():
            await ctx.relay(session).reset_limits()

    async def flush_albums() -> None:
        async with ctx.sessionmaker() as session, session.begin():
            flushed = await ctx.relay(session).flush_albums(timedelta(seconds=s.album_settle_seconds))
        if flushed:
            ctx.kick_fan_out()  # an album to a big common chat is paged (bot/fanout.py)

    async def send_scheduled() -> None:
        async with ctx.sessionmaker() as session, session.begin():
            notices = await ctx.relay(session).send_due_scheduled()
            await send_notices(ctx.outbox(session), ctx.translator, notices)
        ctx.kick_fan_out()  # a due message to a big common chat is paged

    async def resume_fan_outs() -> None:
        """A fan-out a crashed or stopped instance was paging: resumed from its cursor once its lease
        ran out (bot/fanout.py)."""
        if ctx.fan_out is not None:
            await ctx.fan_out.resume()

    scheduler.every(30, "reset_limits", reset_limits)
    scheduler.every(max(0.5, s.album_settle_seconds / 2), "flush_albums", flush_albums)
    scheduler.every(15, "send_scheduled", send_scheduled)
    scheduler.every(10, "resume_fan_outs", resume_fan_outs)
    if s.message_ttl_seconds:
        ttl = timedelta(seconds=s.message_ttl_seconds)

        async def expire_messages() -> None:
            async with ctx.sessionmaker() as session, session.begin():
                await ctx.relay(session).expire(ttl)

        scheduler.every(60, "expire_messages", expire_messages)
