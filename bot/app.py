"""Factories: settings -> bot, dispatcher and the app that runs them. Nothing happens at import."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlalchemy.orm import Session

from bot import errors
from bot import moderation as moderation_wiring
from bot.broadcast import register_broadcast_jobs
from bot.commands import set_commands
from bot.context import AppContext
from bot.delivery import ChatPacer, DeliveryWorker, SpacingLimiter, Waker
from bot.gmfy import create_gmfy_state, register_gmfy_jobs
from bot.i18n import Translator
from bot.middlewares import SignInGateMiddleware, UnitOfWorkMiddleware
from bot.relay import register_relay_jobs
from bot.scheduler import Scheduler
from bot.settings import Settings
from bot.sms import HttpSmsSender, LogSmsSender
from handlers import get_routers
from handlers.relay import TelegramCopyStyle
from services.clock import Clock, SystemClock
from services.delivery import WAKE_FLAG, QueuedMessages
from services.signin import SmsSender
from storage.db import create_engine, create_sessionmaker, upgrade_to_head
from storage.repositories.delivery import OutgoingRepo

log = logging.getLogger(__name__)


def create_bot(settings: Settings) -> Bot:
    session = None
    if settings.telegram_api_url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url.rstrip("/")))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def create_sms_sender(settings: Settings) -> SmsSender:
    return HttpSmsSender(settings.sms_sender_url) if settings.sms_sender_url else LogSmsSender()


def wake_after_enqueue(waker: Waker) -> Callable[[Session], None]:
    def on_commit(session: Session) -> None:
        if session.info.pop(WAKE_FLAG, False):
            waker.wake()

    return on_commit


def create_delivery_worker(ctx: AppContext, bot: Bot, waker: Waker) -> DeliveryWorker:
    s = ctx.settings
    return DeliveryWorker(
        ctx.sessionmaker,
        bot,
        ctx.clock,
        limiter=SpacingLimiter(s.delivery_rate),
        pacer=ChatPacer(s.delivery_per_chat_rate, s.delivery_per_chat_burst),
        waker=waker,
        batch_size=s.delivery_batch_size,
        concurrency=s.delivery_concurrency,
        max_attempts=s.delivery_max_attempts,
    )


def register_delivery_jobs(ctx: AppContext, scheduler: Scheduler) -> None:
    retention = timedelta(days=ctx.settings.delivery_retention_days)

    async def purge_delivered() -> None:
        async with ctx.sessionmaker() as session, session.begin():
            await OutgoingRepo(session).purge_finished_before(ctx.clock.now() - retention)

    scheduler.every(3600, "purge_delivered", purge_delivered)


def create_dispatcher(ctx: AppContext, scheduler: Scheduler) -> Dispatcher:
    dp = Dispatcher(ctx=ctx, settings=ctx.settings, translator=ctx.translator, clock=ctx.clock, scheduler=scheduler)
    dp.update.outer_middleware(UnitOfWorkMiddleware(ctx))
    dp.message.middleware(SignInGateMiddleware())
    dp.callback_query.middleware(SignInGateMiddleware())
    dp.include_router(errors.router())
    dp.include_routers(*get_routers())
    return dp


class BotApp:
    """The whole process: build with `create()`, then `run_polling()`; `close()` releases everything."""

    def __init__(self, ctx: AppContext, bot: Bot, dp: Dispatcher, scheduler: Scheduler) -> None:
        self.ctx = ctx
        self.bot = bot
        self.dp = dp
        self.scheduler = scheduler
        self.delivery: DeliveryWorker | None = None
        dp.startup.register(self._on_startup)
        dp.shutdown.register(self._on_shutdown)
        moderation_wiring.install(self)

    @classmethod
    async def create(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        sms: SmsSender | None = None,
    ) -> BotApp:
        engine = create_engine(settings.database_url, search_path=settings.database_schema)
        if settings.migrate_on_start:
            await upgrade_to_head(engine)
        clock = clock or SystemClock()
        waker = Waker()
        ctx = AppContext(
            settings=settings,
            clock=clock,
            engine=engine,
            sessionmaker=create_sessionmaker(engine, on_commit=wake_after_enqueue(waker)),
            translator=Translator(),
            sms=sms or create_sms_sender(settings),
            gmfy=create_gmfy_state(settings, clock),
        )
        ctx.copy_style = TelegramCopyStyle(ctx.translator)
        ctx.relay_lookup = ctx.relay  # moderation finds relayed messages and deletes them through the relay
        ctx.message_remover = ctx.relay
        scheduler = Scheduler()
        register_relay_jobs(ctx, scheduler)
        register_broadcast_jobs(ctx, scheduler)
        bot = create_bot(settings)
        register_gmfy_jobs(ctx, scheduler, QueuedMessages(ctx.clock, batch_key="gmfy-notifications"))
        app = cls(ctx, bot, create_dispatcher(ctx, scheduler), scheduler)
        app.delivery = create_delivery_worker(ctx, bot, waker)
        register_delivery_jobs(ctx, scheduler)
        return app

    async def _on_startup(self, bot: Bot) -> None:
        me = await bot.me()
        log.info("bot @%s started", me.username)
        await set_commands(bot, self.ctx.translator)
        self.scheduler.start()
        if self.delivery is not None and self.ctx.settings.delivery_worker:
            self.delivery.start()

    async def _on_shutdown(self) -> None:
        self.scheduler.shutdown()
        if self.delivery is not None:
            await self.delivery.stop()

    async def run_polling(self, **kwargs: Any) -> None:
        await self.bot.delete_webhook(drop_pending_updates=False)
        await self.dp.start_polling(self.bot, close_bot_session=False, **kwargs)

    async def close(self) -> None:
        self.scheduler.shutdown()
        if self.delivery is not None:
            await self.delivery.stop()
        close = getattr(self.ctx.sms, "close", None)
        if close is not None:
            await close()
        if self.ctx.gmfy is not None:
            await self.ctx.gmfy.client.close()
        await self.bot.session.close()
        await self.ctx.engine.dispose()
