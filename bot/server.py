"""The bot's HTTP servers: the public one (the Telegram webhook when WEBHOOK_URL is set, the OAuth
callback, the staff panel under /panel: panel/web.py) on WEB_HOST:WEB_PORT, and the private one
(/healthz, /metrics) on METRICS_HOST:METRICS_PORT, localhost by default: the health and load of the
bot are nobody else's business.

The webhook checks the `X-Telegram-Bot-Api-Secret-Token` (401 and a log line if wrong), parses the
update (400 if it is not one: Telegram would retry a 500 forever), takes one of
UPDATES_IN_FLIGHT slots (503 when none frees within WEBHOOK_BUSY_WAIT_SECONDS: Telegram retries
later), claims the update id (bot/seen_updates.py: a duplicate is dropped, or 503 while the first
copy is being handled), handles the update and only then answers 200. On shutdown the server stops
taking requests first, then waits for the updates it already accepted.

Why answer after handling: Telegram sends a chat's next update only after the webhook answered the
one before, so a member's burst (fast typing, an album's parts) reaches the bot one update at a time
and is handled in the order sent, whichever instance behind a balancer gets each. Answering at once
let two instances handle one member's updates in parallel (a burst relayed as [1, 0, 2]); a per-user
lock in Redis would not help, as two updates that reach two instances at once take it in either
order. "Handled" includes the relay batch (bot/relay_batch.py): the relay handler awaits the commit
of the message and its copies. The wait is bounded (WEBHOOK_ANSWER_SECONDS, well under Telegram's
patience): past it the answer is 503 while the handling goes on, and Telegram's retry is answered 503
(the claim is busy) until the first attempt is done, then 200 and dropped (done). An update whose
handling failed outside the error router (which answers and logs handler errors itself: the
database down, a middleware or the unit of work's commit raising) is released and answered 500, so
Telegram's retry handles it anew; the failed attempts are counted across instances
(bot/seen_updates.py), and once an update has failed more than RETRIED_FAILURES times it is given up:
logged (ids and the exception, no text of the update), counted in `bot_webhook_updates_given_up`,
the user gets the apology once (private chats only), and it is answered 200, marked done. Else
Telegram would send it again forever, and the chat's next updates would wait behind it for good.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from sqlalchemy import text

from bot.seen_updates import RETRIED_FAILURES, Claim, SeenUpdates

if TYPE_CHECKING:
    from bot.app import BotApp
    from bot.i18n import Translator
    from bot.metrics import Metrics

log = logging.getLogger(__name__)

BOT_APP = web.AppKey("bot_app", object)
HEALTH_TIMEOUT_SECONDS = 2.0
DRAIN_TIMEOUT_SECONDS = 20.0


class WebhookHandler(SimpleRequestHandler):
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        secret_token: str | None,
        seen: SeenUpdates,
        in_flight: int,
        busy_wait: float,
        answer_within: float = 20.0,
        metrics: Metrics | None = None,
        translator: Translator | None = None,
    ) -> None:
        super().__init__(dispatcher=dispatcher, bot=bot, secret_token=secret_token)
        self.seen = seen
        self.metrics = metrics
        self.translator = translator
        # Counted from the request to the end of the update's handling (answered long before):
        # Telegram's max_connections bounds requests, not the handling they leave behind.
        self.slots = asyncio.Semaphore(in_flight)
        self.busy_wait = busy_wait
        self.answer_within = answer_within

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        ok = super().verify_secret(telegram_secret_token, bot)
        if not ok:
            log.warning("webhook request rejected: wrong or missing secret token")
        return ok

    async def handle(self, request: web.Request) -> web.Response:
        bot = self.bot
        if not self.verify_secret(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), bot):
            return web.Response(body="Unauthorized", status=401)
        try:
            update = Update.model_validate(await request.json(loads=bot.session.json_loads), context={"bot": bot})
        except ValueError as exc:  # not JSON, not UTF-8, or not an update (pydantic's errors are ValueErrors)
            log.warning("webhook request rejected: not a Telegram update (%s)", type(exc).__name__)
            return web.Response(body="Bad Request", status=400)
        if not await self._take_slot():
            log.warning("webhook busy: %s updates in flight, update %s refused (503)", self.in_flight, update.update_id)
            return web.Response(body="Busy", status=503)
        handed_over = False  # the slot goes with the update to its task, or back here
        try:
            try:
                claim = await self.seen.claim(update.update_id)
            except Exception as exc:  # the database or Redis is down: Telegram keeps it and asks again
                log.warning("webhook: update %s not claimed (%s), refused (503)", update.update_id, type(exc).__name__)
                return web.Response(body="Unavailable", status=503)
            if claim is not Claim.TAKEN:
                log.info("webhook: update %s delivered again (%s)", update.update_id, claim.value)
                if claim is Claim.BUSY:
                    return web.Response(body="Busy", status=503)
                return web.json_response({})
            task = asyncio.create_task(self._handle_update(bot, update))
            handed_over = True
        finally:
            if not handed_over:
                self.slots.release()
        self._background_feed_update_tasks.add(task)
        task.add_done_callback(self._background_feed_update_tasks.discard)
        try:  # shielded: a timeout, or the request going away, leaves the handling running
            handled = await asyncio.wait_for(asyncio.shield(task), self.answer_within)
        except TimeoutError:
            log.warning(
                "webhook: update %s still being handled after %.1f s, answered 503",
                update.update_id,
                self.answer_within,
            )
            return web.Response(body="Still handling", status=503)
        if not handled:
            return web.Response(body="Failed", status=500)
        return web.json_response({})

    @property
    def in_flight(self) -> int:
        return len(self._background_feed_update_tasks)

    async def _take_slot(self) -> bool:
        if not self.slots.locked():
            await self.slots.acquire()  # free: returns at once
            return True
        if self.busy_wait <= 0:
            return False
        try:
            await asyncio.wait_for(self.slots.acquire(), self.busy_wait)
        except TimeoutError:
            return False
        return True

    async def _handle_update(self, bot: Bot, update: Update) -> bool:
        """True when done with (handled, or given up: the id is marked done), False when it failed and
        Telegram should send it again (the claim is dropped)."""
        try:
            try:
                result = await self.dispatcher.feed_update(bot, update, **self.data)
                if isinstance(result, TelegramMethod):
                    await self.dispatcher.silent_call_request(bot=bot, result=result)
            except asyncio.CancelledError:
                await self._settle(self.seen.release, update.update_id)
                raise
            except Exception as exc:  # what the error router did not take (it answers and logs handler errors)
                return await self._failed(bot, update, exc)
            await self._settle(self.seen.finish, update.update_id)
            return True
        finally:
            self.slots.release()

    async def _failed(self, bot: Bot, update: Update, exc: Exception) -> bool:
        try:
            failures = await self.seen.fail(update.update_id)
        except Exception as error:  # the claim runs out by itself (bot/seen_updates.py); Telegram retries
            log.warning("webhook: update %s failure not counted (%s)", update.update_id, type(error).__name__)
            failures = 0
        if failures <= RETRIED_FAILURES:
            log.error(
                "webhook: update %s failed (attempt %s), answered 500",
                update.update_id,
                failures or "?",
                exc_info=exc,
            )
            return False
        log.error(
            "webhook: update %s failed %s times, given up (answered 200): type=%s",
            update.update_id,
            failures,
            update.event_type,
            exc_info=exc,
        )
        if self.metrics is not None:
            self.metrics.webhook_given_up.inc()
        await self._settle(self.seen.finish, update.update_id)
        await self._apologise(bot, update)
        return True

    async def _apologise(self, bot: Bot, update: Update) -> None:
        """The apology of the error router, sent once for an update given up, in a private chat only."""
        if self.translator is None:
            return
        user = getattr(update.event, "from_user", None)
        chat = update.message.chat if update.message is not None else None
        if update.callback_query is not None and update.callback_query.message is not None:
            chat = update.callback_query.message.chat
        if user is None or chat is None or chat.type != "private":
            return
        t = self.translator.texts(self.translator.pick(None, user.language_code))
        try:
            await bot.send_message(chat.id, t("error-apology"))
        except Exception as error:  # Telegram or the budget refused: the update is given up all the same
            log.info("webhook: no apology for update %s (%s)", update.update_id, type(error).__name__)

    @staticmethod
    async def _settle(step: Callable[[int], Awaitable[None]], update_id: int) -> None:
        try:
            await step(update_id)
        except Exception as exc:  # the claim runs out by itself (bot/seen_updates.py)
            log.warning("webhook: update %s not marked (%s)", update_id, type(exc).__name__)

    async def close(self) -> None:
        """Wait for the updates already accepted (the bot session is closed by the app, not here)."""
        tasks = set(self._background_feed_update_tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=DRAIN_TIMEOUT_SECONDS)


async def check_health(app: BotApp) -> tuple[bool, dict[str, str]]:
    checks: dict[str, str] = {}

    async def database() -> None:
        async with app.ctx.engine.connect() as connection:
            await connection.execute(text("select 1"))

    try:
        await asyncio.wait_for(database(), HEALTH_TIMEOUT_SECONDS)
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not healthy", with the reason
        checks["database"] = f"down: {type(exc).__name__}"
    redis = app.ctx.redis
    if redis is None:
        checks["redis"] = "off"
    else:
        try:
            await asyncio.wait_for(redis.ping(), HEALTH_TIMEOUT_SECONDS)
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"down: {type(exc).__name__}"
    return all(v in {"ok", "off"} for v in checks.values()), checks


async def healthz(request: web.Request) -> web.Response:
    healthy, checks = await check_health(request.app[BOT_APP])  # type: ignore[arg-type]
    return web.json_response({"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503)


async def livez(request: web.Request) -> web.Response:
    """Liveness: 503 when the polling loop, an update or the delivery worker stood still (bot/liveness.py)."""
    from bot.liveness import check_liveness

    alive, checks = check_liveness(request.app[BOT_APP])  # type: ignore[arg-type]
    return web.json_response({"status": "ok" if alive else "stuck", **checks}, status=200 if alive else 503)


async def metrics(request: web.Request) -> web.Response:
    app: Any = request.app[BOT_APP]
    token = app.ctx.settings.metrics_token
    if token is not None:  # for a metrics server opened beyond localhost (Prometheus elsewhere)
        given = request.headers.get("Authorization", "")
        if not secrets.compare_digest(given.encode(), f"Bearer {token.get_secret_value()}".encode()):
            log.warning("metrics request rejected: wrong or missing bearer token")
            return web.Response(body="Unauthorized", status=401, headers={"WWW-Authenticate": "Bearer"})
    return web.Response(body=app.ctx.metrics.render(), content_type="text/plain", charset="utf-8")


def webhook_path(url: str) -> str:
    return urlparse(url).path or "/"


def create_web_app(app: BotApp) -> tuple[web.Application, WebhookHandler | None]:
    """The public server: the webhook (when WEBHOOK_URL is set) and routes such as the OAuth callback."""
    web_app = web.Application()
    web_app[BOT_APP] = app
    s = app.ctx.settings
    handler = None
    if s.webhook_url:
        assert app.seen_updates is not None, "BotApp.create builds it in webhook mode"
        secret = s.webhook_secret.get_secret_value() if s.webhook_secret else None
        handler = WebhookHandler(
            dispatcher=app.dp,
            bot=app.bot,
            secret_token=secret,
            seen=app.seen_updates,
            in_flight=s.updates_in_flight,
            busy_wait=s.webhook_busy_wait_seconds,
            answer_within=s.webhook_answer_seconds,
            metrics=app.ctx.metrics,
            translator=app.ctx.translator,
        )
        handler.register(web_app, path=webhook_path(s.webhook_url))
    for method, path, route in app.ctx.web_routes:
        web_app.router.add_route(method, path, route)
    if s.panel_enabled:
        from panel.web import create_panel_app

        web_app.router.add_get("/panel", panel_home)
        web_app.add_subapp("/panel", create_panel_app(app))
    return web_app, handler


async def panel_home(request: web.Request) -> web.Response:
    return web.Response(status=301, headers={"Location": "/panel/"})


def create_metrics_app(app: BotApp) -> web.Application:
    """The private server (METRICS_HOST:METRICS_PORT): /readyz (also /healthz), /livez and /metrics."""
    web_app = web.Application()
    web_app[BOT_APP] = app
    web_app.router.add_get("/healthz", healthz)  # readiness (kept under its old name too)
    web_app.router.add_get("/readyz", healthz)
    web_app.router.add_get("/livez", livez)
    web_app.router.add_get("/metrics", metrics)
    return web_app
