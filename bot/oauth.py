"""OAuth linking in the process: the HTTP callback the provider redirects to, and the refresh job.

The callback takes the state first, in a transaction of its own, so a state works once even when
the exchange after it fails; then it exchanges the code, stores the link, and tells the user in
Telegram (through the delivery queue, in the same transaction). The browser gets a short page.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import httpx
from aiohttp import web

from bot.context import AppContext
from bot.scheduler import Scheduler
from handlers.notify import notify_user
from services.errors import OAuthFailed, OAuthStateInvalid
from services.phones import mask_phone

if TYPE_CHECKING:
    from bot.i18n import Texts

log = logging.getLogger(__name__)


def page(t: Texts, key: str, status: int, **args: object) -> web.Response:
    body = html.escape(t.plain(key, **args))
    document = f"<!doctype html><meta charset=utf-8><title>{body}</title><p style='font:18px sans-serif'>{body}</p>"
    return web.Response(text=document, content_type="text/html", status=status)


def callback_handler(ctx: AppContext) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def callback(request: web.Request) -> web.Response:
        state, code, error = request.query.get("state", ""), request.query.get("code"), request.query.get("error")
        default = ctx.translator.texts(ctx.translator.default)
        async with ctx.sessionmaker() as session:
            service = ctx.oauth(session)
            assert service is not None
            try:
                async with session.begin():
                    user, verifier = await service.user_of(state)
            except OAuthStateInvalid:
                log.warning("OAuth callback with an unknown, used or expired state")
                return page(default, "oauth-page-state-invalid", 400)
            t = ctx.translator.texts(ctx.translator.pick(user.language, None))
            async with session.begin():
                outbox = ctx.outbox(session)
                assert user.telegram_id is not None
                if error or not code:
                    await outbox.send_text(user.telegram_id, t("oauth-cancelled"))
                    return page(t, "oauth-page-failed", 400)
                try:
                    linked = await service.complete(user, verifier, code)
                except OAuthFailed as exc:
                    log.warning("OAuth exchange failed: %s", exc.args_map.get("reason"))
                    await outbox.send_text(user.telegram_id, t("oauth-failed"))
                    return page(t, "oauth-page-failed", 502)
                await outbox.send_text(
                    user.telegram_id,
                    t(
                        "oauth-linked",
                        name=linked.name or "—",
                        phone=mask_phone(linked.phone) if linked.phone else "—",
                        has_phone=1 if linked.phone else 0,
                    ),
                )
                if linked.signin is not None:
                    signed = linked.signin.user
                    await outbox.send_text(
                        user.telegram_id, t("oauth-signed-in", phone=mask_phone(signed.phone), name=signed.display_name)
                    )
                elif linked.signin_error is not None:
                    await outbox.send_text(user.telegram_id, t(linked.signin_error.key, **linked.signin_error.args_map))
        return page(t, "oauth-page-linked", 200)

    return callback


def install_oauth(ctx: AppContext, scheduler: Scheduler) -> None:
    """Nothing happens when OAuth linking is not configured."""
    s = ctx.settings
    if not s.oauth_enabled or s.oauth_redirect_url is None:
        return
    ctx.oauth_http = httpx.AsyncClient(timeout=s.oauth_timeout_seconds)
    ctx.web_routes.append(("GET", urlparse(s.oauth_redirect_url).path or "/", callback_handler(ctx)))

    async def refresh_tokens() -> None:
        async with ctx.sessionmaker() as session, session.begin():
            service = ctx.oauth(session)
            if service is None:
                return
            _refreshed, unlinked = await service.refresh_due()
            outbox = ctx.outbox(session)
            for gone in unlinked:
                await notify_user(outbox, ctx.translator, gone.user, "oauth-refresh-refused")

    scheduler.every(s.oauth_refresh_seconds, "oauth_refresh", refresh_tokens)
