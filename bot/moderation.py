"""Moderation on the bot side: telling users about warnings and bans, the job that lifts bans,
and the staff command menus at start-up."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Bot

from bot.context import AppContext
from bot.i18n.menus import set_staff_commands
from bot.i18n.notices import send_notices

if TYPE_CHECKING:
    from bot.app import BotApp

log = logging.getLogger(__name__)

LIFT_BANS_JOB = "lift_bans"
PURGE_PANEL_JOB = "purge_panel"


async def lift_bans(ctx: AppContext, bot: Bot) -> int:
    """Scheduler tick: lift every ban whose time is over and tell the users. Returns how many were told."""
    async with ctx.sessionmaker() as session, session.begin():
        notices = await ctx.moderation(session).lift_expired_bans(ctx.clock.now())
        await send_notices(ctx.outbox(session), ctx.translator, notices)
    return len(notices)


async def set_staff_menus(ctx: AppContext, bot: Bot) -> None:
    """Admin commands in the menu of every admin and moderator (chat scope), at start-up."""
    async with ctx.sessionmaker() as session:
        moderators = await ctx.moderation(session).staff()
    admins = set(ctx.settings.admin_ids)
    for telegram_id in sorted(admins):
        await set_staff_commands(bot, ctx.translator, telegram_id, admin=True)
    for user in moderators:
        if user.telegram_id is not None and user.telegram_id not in admins:
            await set_staff_commands(bot, ctx.translator, user.telegram_id, admin=False)


def install(app: BotApp) -> None:
    """Register the moderation jobs (lift bans, drop old panel sign-ins) and the start-up menus."""
    ctx, bot = app.ctx, app.bot

    async def lift_bans_tick() -> None:
        await lift_bans(ctx, bot)

    async def staff_menus_on_startup() -> None:
        await set_staff_menus(ctx, bot)

    async def purge_panel() -> None:
        async with ctx.sessionmaker() as session, session.begin():
            await ctx.panel_auth(session).purge()

    app.scheduler.every(ctx.settings.ban_check_seconds, LIFT_BANS_JOB, lift_bans_tick)
    app.scheduler.every(3600, PURGE_PANEL_JOB, purge_panel)
    app.dp.startup.register(staff_menus_on_startup)
