"""The bot's HTTP server: the Telegram webhook (when WEBHOOK_URL is set), /healthz, /metrics and the
staff panel under /panel (panel/web.py, unless PANEL_ENABLED=false).

The webhook answers Telegram at once and handles the update in the background (aiogram's
SimpleRequestHandler); a request without the right `X-Telegram-Bot-Api-Secret-Token` gets 401
and is logged. On shutdown the server stops taking requests first, then waits for the updates
it already accepted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from aiogram import Bot
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from sqlalchemy import text

if TYPE_CHECKING:
    from bot.app import BotApp

log = logging.getLogger(__name__)

BOT_APP = web.AppKey("bot_app", object)
HEALTH_TIMEOUT_SECONDS = 2.0
DRAIN_TIMEOUT_SECONDS = 20.0


class WebhookHandler(SimpleRequestHandler):
    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        ok = super().verify_secret(telegram_secret_token, bot)
        if not ok:
            log.warning("webhook request rejected: wrong or missing secret token")
        return ok

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
    return web.Response(body=app.ctx.metrics.render(), content_type="text/plain", charset="utf-8")


def webhook_path(url: str) -> str:
    return urlparse(url).path or "/"


def create_web_app(app: BotApp) -> tuple[web.Application, WebhookHandler | None]:
    web_app = web.Application()
    web_app[BOT_APP] = app
    web_app.router.add_get("/healthz", healthz)  # readiness (kept under its old name too)
    web_app.router.add_get("/readyz", healthz)
    web_app.router.add_get("/livez", livez)
    web_app.router.add_get("/metrics", metrics)
    s = app.ctx.settings
    handler = None
    if s.webhook_url:
        secret = s.webhook_secret.get_secret_value() if s.webhook_secret else None
        handler = WebhookHandler(dispatcher=app.dp, bot=app.bot, secret_token=secret)
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
