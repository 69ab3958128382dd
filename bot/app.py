"""Factories: settings -> bot, dispatcher and the app that runs them. Nothing happens at import."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import signal
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from aiohttp import web
from redis.asyncio import Redis

from bot import errors
from bot import moderation as moderation_wiring
from bot.broadcast import register_broadcast_jobs
from bot.budget import Budget, BudgetMiddleware, Priority, build_budget
from bot.chats import AdminChatRule, ChatScopeMiddleware, allowed_updates
from bot.context import AppContext
from bot.delivery.express import ExpressLane
from bot.delivery.limits import SendLimits
from bot.delivery.outbox import CommitHandoff, Waker
from bot.delivery.worker import DeliveryConfig, DeliveryWorker
from bot.fanout import FanOutRunner
from bot.fsm_storage import DatabaseStorage, LazyStateMiddleware
from bot.gmfy import create_gmfy_state, register_gmfy_jobs
from bot.i18n import Translator
from bot.i18n.menus import set_commands
from bot.live_counts import DatabaseRateLimits, RateLimitSharer, RateLimitStore, RedisRateLimits
from bot.liveness import PollHeartbeat, Progress
from bot.metrics import HandlerNameMiddleware, MetricsMiddleware
from bot.middlewares import BatchedHandlerMiddleware, CommitBeforeRequest, OneAtATimeMiddleware, UnitOfWorkMiddleware
from bot.oauth import install_oauth
from bot.relay import register_relay_jobs
from bot.relay_batch import RelayBatcher
from bot.scheduler import Scheduler, database_lease, instance_name
from bot.seen_updates import DatabaseSeenUpdates, RedisSeenUpdates, SeenUpdates
from bot.server import create_metrics_app, create_web_app
from bot.settings import Settings
from bot.sms import create_sms_sender, register_signin_jobs
from bot.throttle import FloodControlMiddleware, FloodGate, Gate, RedisFloodGate
from bot.user_loader import UserLoader
from handlers import get_routers
from handlers.chats import ADMIN_CHAT_BUTTONS, ADMIN_CHAT_COMMANDS, leave_unserved_chat
from handlers.config import HandlerConfig
from handlers.gate import SignInGateMiddleware
from handlers.relay import TelegramCopyStyle
from services.clock import Clock, SystemClock
from services.container import RelayQueue
from services.delivery import QueuedMessages
from services.signin import SmsSender
from storage.db import create_engine, create_sessionmaker, open_pool, upgrade_to_head
from storage.repositories.delivery import OutgoingRepo
from storage.repositories.gmfy import OutboxSenderRepo

log = logging.getLogger(__name__)


def _drop_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_drop_nul(item) for item in value]
    return value


def loads_without_nul(text: str | bytes) -> Any:
    """JSON from the Bot API (getUpdates answers, webhook bodies) with NUL characters dropped from every
    string: a name or text holding one cannot be stored in PostgreSQL (invalid byte sequence), and no
    person types it. The scan is a C-level substring test; only an answer holding one is walked."""
    raw = text.decode() if isinstance(text, bytes) else text
    if "\\u0000" not in raw:
        return json.loads(raw)
    return json.loads(raw, object_hook=lambda obj: {key: _drop_nul(value) for key, value in obj.items()})


def create_bot(settings: Settings) -> Bot:
    api = (
        TelegramAPIServer.from_base(settings.telegram_api_url.rstrip("/")) if settings.telegram_api_url else PRODUCTION
    )
    session = AiohttpSession(api=api, json_loads=loads_without_nul)
    bot = Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
    bot.session.middleware(CommitBeforeRequest())  # no update waits on Telegram holding its transaction
    return bot


def claim_limit(settings: Settings) -> int:
    """Rows claimed at once (a round, the express lane): at most what the global rate sends in a
    quarter of the lease, so every claimed row leaves long before its lease runs out (two rounds in
    flight take half of it) and a short lease returns a killed instance's rows soon."""
    return max(1, min(settings.delivery_batch_size, int(settings.delivery_rate * settings.delivery_lease_seconds / 4)))


def create_express_lane(settings: Settings) -> ExpressLane:
    return ExpressLane(timedelta(seconds=settings.delivery_lease_seconds), claim_limit(settings))


def create_budget(ctx: AppContext) -> Budget:
    """The one outgoing budget (bot.budget): the global rate and every chat's pace, for the delivery
    worker and every aiogram send."""
    s = ctx.settings
    return build_budget(ctx.redis, s.delivery_rate, s.delivery_per_chat_rate, s.delivery_per_chat_burst, s.redis_prefix)


def create_delivery_worker(
    ctx: AppContext, bot: Bot, waker: Waker, express: ExpressLane | None = None, budget: Budget | None = None
) -> DeliveryWorker:
    s = ctx.settings
    budget = budget or create_budget(ctx)
    return DeliveryWorker(
        ctx.sessionmaker,
        bot,
        ctx.clock,
        SendLimits(
            limiter=budget.lane(Priority.RELAY),  # after answers, before bulk sends (see bot.budget)
            bulk_limiter=budget.lane(Priority.BULK),  # broadcasts, bulk notifications: last
            pacer=budget.pacer,
            shared_pace=budget.shared_pace,
        ),
        DeliveryConfig(
            batch_size=claim_limit(s),
            concurrency=s.delivery_concurrency,
            lease=timedelta(seconds=s.delivery_lease_seconds),
            max_attempts=s.delivery_max_attempts,
            paid_broadcast=s.paid_broadcast,
        ),
        waker=waker,
        express=express,
    )


def register_delivery_jobs(ctx: AppContext, scheduler: Scheduler) -> None:
    retention = timedelta(days=ctx.settings.delivery_retention_days)

    async def purge_delivered() -> None:
        async with ctx.sessionmaker() as session, session.begin():
            await OutgoingRepo(session).purge_finished_before(ctx.clock.now() - retention)

    async def refresh_gauges() -> None:
        async with ctx.sessionmaker() as session:
            outgoing = OutgoingRepo(session)
            now = ctx.clock.now()
            ctx.metrics.queue_depth.set(await outgoing.depth())
            oldest = await outgoing.oldest_due(now)
            ctx.metrics.queue_oldest.set((now - oldest).total_seconds() if oldest is not None else 0)
            if ctx.gmfy is not None:
                ctx.metrics.gmfy_outbox.set((await OutboxSenderRepo(session).stats()).pending)

    scheduler.every(3600, "purge_delivered", purge_delivered)
    scheduler.every(15, "refresh_gauges", refresh_gauges)


def create_rate_limit_sharer(ctx: AppContext, counted: Callable[[], int]) -> RateLimitSharer:
    """This process' 429 count, shared with every instance: through Redis when there is one, else the database."""
    store: RateLimitStore = (
        RedisRateLimits(ctx.redis, ctx.settings.redis_prefix)
        if ctx.redis is not None
        else DatabaseRateLimits(ctx.sessionmaker, instance_name())
    )
    return RateLimitSharer(counted, store, ctx.clock)


def create_seen_updates(ctx: AppContext, scheduler: Scheduler) -> SeenUpdates:
    """Webhook update ids already taken: in Redis when there is one, else in the database."""
    remember = timedelta(seconds=ctx.settings.webhook_dedup_seconds)
    if ctx.redis is not None:
        return RedisSeenUpdates(ctx.redis, ctx.settings.redis_prefix, remember)
    seen = DatabaseSeenUpdates(ctx.sessionmaker, ctx.clock, remember)
    scheduler.every(600, "purge_webhook_updates", seen.purge)
    return seen


def create_flood_gate(ctx: AppContext) -> Gate:
    """Per-user flood control: one bucket per user for all instances in Redis, else in the process."""
    s = ctx.settings

    def now() -> float:
        return ctx.clock.now().timestamp()

    if ctx.redis is not None:
        return RedisFloodGate(ctx.redis, s.redis_prefix, s.flood_rate, s.flood_burst, now)
    return FloodGate(s.flood_rate, s.flood_burst, monotonic=now)


def handler_config(s: Settings) -> HandlerConfig:
    """The settings handlers read (they import no `bot.settings`)."""
    return HandlerConfig(
        admin_chat_id=s.admin_chat_id,
        admin_chat_language=s.admin_chat_language,
        panel_url=s.panel_public_url if s.panel_enabled and s.web_port else None,
    )


def create_dispatcher(ctx: AppContext, scheduler: Scheduler) -> Dispatcher:
    # FSM state shared by instances and kept through a restart: in Redis, else in the database
    storage = (
        RedisStorage(ctx.redis, key_builder=DefaultKeyBuilder(prefix=f"{ctx.settings.redis_prefix}:fsm"))
        if ctx.redis is not None
        else DatabaseStorage(ctx.sessionmaker)
    )
    dp = Dispatcher(
        storage=storage,
        ctx=ctx,
        config=handler_config(ctx.settings),
        translator=ctx.translator,
        clock=ctx.clock,
        scheduler=scheduler,
        relay_batch=RelayBatcher(ctx),
        user_loader=UserLoader(ctx.sessionmaker),
    )
    s = ctx.settings
    dp.update.outer_middleware(MetricsMiddleware(ctx.metrics, ctx.progress))
    admin_chat = AdminChatRule(ADMIN_CHAT_BUTTONS, ADMIN_CHAT_COMMANDS, leave_unserved_chat)
    dp.update.outer_middleware(ChatScopeMiddleware(ctx, admin_chat))  # before anything answers or writes
    if s.flood_rate > 0:
        dp.update.outer_middleware(FloodControlMiddleware(create_flood_gate(ctx), ctx.translator, ctx.metrics))
    dp.update.outer_middleware(OneAtATimeMiddleware())
    # aiogram's FSM middleware would read the state as soon as an update comes in (a statement per
    # update, and an I/O wait a user's updates could come out of in another order): the lazy one only
    # hands `state` over, read by the few handlers that use it inside the unit of work.
    dp.update.outer_middleware._middlewares.remove(dp.fsm)
    dp.update.outer_middleware(LazyStateMiddleware(storage=storage, events_isolation=dp.fsm.events_isolation))
    dp.update.outer_middleware(UnitOfWorkMiddleware(ctx, dp["user_loader"]))
    for observer in (dp.message, dp.edited_message, dp.callback_query):
        observer.middleware(HandlerNameMiddleware())
    dp.message.middleware(SignInGateMiddleware())
    dp.message.middleware(BatchedHandlerMiddleware())  # after the gate: a refused update keeps its transaction
    dp.callback_query.middleware(SignInGateMiddleware())
    dp.include_router(errors.router())
    dp.include_routers(*get_routers())
    return dp


# The garbage collector's thresholds once running (CPython's are 700, 10, 10). Under load hundreds of
# updates are in flight, each with its session, rows and frames: every collection of the older
# generations walks all of them. Young collections every 20,000 allocations instead of 700, and a
# full one after 1,000 of the middle generation's instead of 10 (after `gc.freeze()` the "25% of
# the long-lived" rule no longer holds them back): at 1,000 updates/s that took a third of the CPU.
GC_THRESHOLDS = (20_000, 20, 1_000)


def freeze_startup_heap() -> None:
    """Take what start-up allocated (modules, aiogram's types, SQLAlchemy's mappers: most of the heap)
    out of the garbage collector's sight, and collect less often (GC_THRESHOLDS). A full collection
    otherwise walks all of it, stalling the event loop for ~150 ms every few seconds under load: the
    delivery worker loses its send slots and every update waits. Cycles are still collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class BotApp:
    """The whole process: build with `create()`, then `run_polling()`; `close()` releases everything."""

    def __init__(self, ctx: AppContext, bot: Bot, dp: Dispatcher, scheduler: Scheduler) -> None:
        self.ctx = ctx
        self.bot = bot
        self.dp = dp
        self.scheduler = scheduler
        self.delivery: DeliveryWorker | None = None
        self.budget: Budget | None = None
        self.handler_config = handler_config(ctx.settings)  # what handlers read; the panel renders cards with it
        self.rate_limits = create_rate_limit_sharer(ctx, self._rate_limited)
        self.seen_updates: SeenUpdates | None = None  # webhook mode
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
        engine = create_engine(
            settings.database_url, search_path=settings.database_schema, sqlite_driver=settings.sqlite_driver
        )
        if settings.migrate_on_start:
            await upgrade_to_head(engine)
        clock = clock or SystemClock()
        waker = Waker()
        express = create_express_lane(settings)
        handoff = CommitHandoff(waker, express)
        ctx = AppContext(
            settings=settings,
            clock=clock,
            engine=engine,
            sessionmaker=create_sessionmaker(engine, on_commit=handoff.committed, on_rollback=handoff.rolled_back),
            translator=Translator(clock=clock, default_timezone=settings.default_timezone),
            sms=sms or create_sms_sender(settings),
            gmfy=create_gmfy_state(settings, clock),
            redis=Redis.from_url(settings.redis_url) if settings.redis_url else None,
            progress=Progress(clock),
            handoff=handoff,
        )
        ctx.copy_style = TelegramCopyStyle(ctx.translator)
        ctx.relay_lookup = ctx.relay  # moderation finds relayed messages and deletes them through the relay
        ctx.message_remover = ctx.relay
        holder = instance_name()  # of this process' job leases and fan-out leases
        ctx.fan_out = FanOutRunner(
            ctx.sessionmaker, ctx.relay, holder, timedelta(seconds=settings.delivery_lease_seconds), ctx.metrics
        )
        scheduler = Scheduler(lease=database_lease(ctx.sessionmaker, clock, holder))
        register_relay_jobs(ctx, scheduler)
        register_broadcast_jobs(ctx, scheduler)
        register_signin_jobs(ctx, scheduler)
        install_oauth(ctx, scheduler)
        bot = create_bot(settings)
        register_gmfy_jobs(
            ctx,
            scheduler,
            QueuedMessages(ctx.clock, batch_key="gmfy-notifications", handoff=handoff, priority=Priority.BULK),
        )
        app = cls(ctx, bot, create_dispatcher(ctx, scheduler), scheduler)
        app.budget = create_budget(ctx)
        bot.session.middleware(BudgetMiddleware(app.budget))  # every send takes its turn (bot.budget)
        app.delivery = create_delivery_worker(ctx, bot, waker, express, app.budget)
        ctx.metrics.watch_delivery(app.delivery.stats)
        register_delivery_jobs(ctx, scheduler)
        if settings.webhook_url:
            app.seen_updates = create_seen_updates(ctx, scheduler)
        return app

    def _rate_limited(self) -> int:
        """This process' 429 answers so far (its delivery worker's count)."""
        return self.delivery.stats.rate_limited if self.delivery is not None else 0

    async def _on_startup(self, bot: Bot) -> None:
        me = await bot.me()
        log.info("bot @%s started", me.username, extra={"bot_username": me.username, "bot_id": me.id})
        await set_commands(bot, self.ctx.translator)
        self.scheduler.start()
        if self.delivery is not None and self.ctx.settings.delivery_worker:
            self.delivery.start()
            self.rate_limits.start()

    async def _on_shutdown(self) -> None:
        self.scheduler.shutdown()
        if self.delivery is not None:
            await self.delivery.stop()
        await self.rate_limits.stop()

    async def open_connections(self) -> None:
        """The database pool's connections and a Redis connection opened before the first update
        (see storage.db.open_pool): the first second of traffic otherwise pays for them."""
        await open_pool(self.ctx.engine)
        if self.ctx.redis is not None:
            await self.ctx.redis.ping()

    async def run(self) -> None:
        """Webhook mode when WEBHOOK_URL is set, else long polling. The public HTTP server (the webhook,
        the OAuth callback) listens on WEB_HOST:WEB_PORT unless WEB_PORT is 0; /healthz and /metrics
        on METRICS_HOST:METRICS_PORT unless METRICS_PORT is 0. SIGTERM/SIGINT stop it gracefully: no
        new updates, the accepted ones finish, the delivery round in progress ends."""
        s = self.ctx.settings
        await self.open_connections()
        freeze_startup_heap()
        web_app, webhook = create_web_app(self)
        runner = web.AppRunner(web_app, access_log=None)
        metrics_runner = web.AppRunner(create_metrics_app(self), access_log=None)
        if s.web_port:
            await runner.setup()
            try:
                await web.TCPSite(runner, s.web_host, s.web_port).start()
                log.info("HTTP server on %s:%s", s.web_host, s.web_port, extra={"host": s.web_host, "port": s.web_port})
            except OSError as exc:
                if webhook is not None:
                    raise  # the webhook cannot work without it
                # Polling works without the server (only the OAuth callback is missing): say so, go on.
                log.warning("HTTP server not started on %s:%s: %s (set WEB_PORT)", s.web_host, s.web_port, exc)
        if s.metrics_port:
            await metrics_runner.setup()
            try:
                await web.TCPSite(metrics_runner, s.metrics_host, s.metrics_port).start()
                log.info("health (/readyz, /livez) and /metrics on %s:%s", s.metrics_host, s.metrics_port)
            except OSError as exc:  # the bot works without them: say so, go on
                log.warning(
                    "metrics server not started on %s:%s: %s (set METRICS_PORT)", s.metrics_host, s.metrics_port, exc
                )
        try:
            if webhook is None:
                await self.run_polling()
                return
            assert s.webhook_url is not None
            await self.dp.emit_startup(bot=self.bot, **self.dp.workflow_data)
            await self.bot.set_webhook(
                s.webhook_url,
                secret_token=s.webhook_secret.get_secret_value() if s.webhook_secret else None,
                allowed_updates=allowed_updates(self.dp),
                max_connections=min(100, s.updates_in_flight),
            )
            log.info("webhook mode: %s", s.webhook_url, extra={"mode": "webhook"})
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
            log.info("stopping: no new updates; finishing the accepted ones")
            await runner.shutdown()  # stop accepting; the webhook handler waits for accepted updates
            await webhook.close()
            await self.dp.emit_shutdown(bot=self.bot, **self.dp.workflow_data)
        finally:
            await runner.cleanup()
            await metrics_runner.cleanup()

    async def run_polling(self, **kwargs: Any) -> None:
        self.bot.session.middleware(PollHeartbeat(self.ctx.progress))
        await self.bot.delete_webhook(drop_pending_updates=False)
        kwargs.setdefault("tasks_concurrency_limit", self.ctx.settings.updates_in_flight)
        kwargs.setdefault("allowed_updates", allowed_updates(self.dp))
        await self.dp.start_polling(self.bot, close_bot_session=False, **kwargs)

    async def close(self) -> None:
        self.scheduler.shutdown()
        await self.dp["user_loader"].wait_idle()
        await self.dp["relay_batch"].wait_idle()
        if self.ctx.fan_out is not None:
            await self.ctx.fan_out.stop()  # a page under way rolls back; its lease runs out, and it is resumed
        if self.delivery is not None:
            await self.delivery.stop()
        await self.rate_limits.stop()
        close = getattr(self.ctx.sms, "close", None)
        if close is not None:
            await close()
        if self.ctx.gmfy is not None:
            await self.ctx.gmfy.client.close()
        await self.bot.session.close()
        if self.ctx.redis is not None:
            await self.ctx.redis.aclose()
        if self.ctx.oauth_http is not None:
            await self.ctx.oauth_http.aclose()
        await self.ctx.engine.dispose()


def _relay_queue(batcher: RelayBatcher) -> RelayQueue:
    return batcher  # mypy checks here that the relay handler's `relay_batch: RelayQueue` is what it gets
