"""OAuth linking in the process: /oauth/start and the callback on the bot's HTTP server, and the refresh job.

/oauth/start takes the /link button's token (once), binds its state to a fresh cookie of this browser
and redirects to the provider. The callback takes the state only with that cookie, in a transaction
of its own, so a state works once even when the exchange after it fails; then it exchanges the code,
stores the link, and gives the browser a `t.me` link back to the bot: only the Telegram account that ran
/link, opening it, is shown the provider's account, and a verified phone is offered there with yes/no
buttons (handlers/oauth.py), never applied from the browser.
"""

from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import httpx
from aiohttp import web

from bot.context import AppContext
from bot.i18n.notices import notify_user
from bot.scheduler import Scheduler
from bot.server import BOT_APP
from services.errors import OAuthFailed, OAuthStateInvalid
from services.oauth import FINISH_PREFIX, LOGIN_TTL, TokenKeys, browser_hash

if TYPE_CHECKING:
    from bot.i18n import Texts

log = logging.getLogger(__name__)

# Pages a browser must not keep or pass on: they carry one-time codes and states.
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def page(t: Texts, key: str, status: int, **args: object) -> web.Response:
    body = html.escape(t.plain(key, **args))
    document = f"<!doctype html><meta charset=utf-8><title>{body}</title><p style='font:18px sans-serif'>{body}</p>"
    return web.Response(text=document, content_type="text/html", status=status, headers=NO_STORE)


def cookie_name(public_url: str) -> str:
    # __Host-: the browser takes it only from this very host over https, so a sibling subdomain cannot plant one.
    return "__Host-oauth_browser" if urlparse(public_url).scheme == "https" else "oauth_browser"


def start_handler(ctx: AppContext) -> Callable[[web.Request], Awaitable[web.Response]]:
    assert ctx.settings.oauth_redirect_url is not None
    name = cookie_name(ctx.settings.oauth_redirect_url)
    secure = name.startswith("__Host-")

    async def start(request: web.Request) -> web.Response:
        default = ctx.translator.texts(ctx.translator.default)
        cookie = secrets.token_urlsafe(32)
        async with ctx.sessionmaker() as session, session.begin():
            service = ctx.oauth(session)
            assert service is not None
            try:
                authorize = await service.begin(request.query.get("t", ""), browser_hash(cookie))
            except OAuthStateInvalid:
                log.warning("OAuth start with a forged, expired or used token")
                return page(default, "oauth-page-state-invalid", 400)
        response = web.Response(status=302, headers={"Location": authorize, **NO_STORE})
        response.set_cookie(
            name,
            cookie,
            max_age=int(LOGIN_TTL.total_seconds()),
            path="/",
            secure=secure,
            httponly=True,
            samesite="Lax",  # Lax: the provider's redirect back (a top-level GET) carries it
        )
        return response

    return start


def callback_handler(ctx: AppContext) -> Callable[[web.Request], Awaitable[web.Response]]:
    assert ctx.settings.oauth_redirect_url is not None
    name = cookie_name(ctx.settings.oauth_redirect_url)

    async def callback(request: web.Request) -> web.Response:
        state, code, error = request.query.get("state", ""), request.query.get("code"), request.query.get("error")
        default = ctx.translator.texts(ctx.translator.default)
        cookie = request.cookies.get(name)
        if not cookie:
            log.warning("OAuth callback without the browser cookie of /oauth/start")
            return page(default, "oauth-page-other-browser", 400)
        async with ctx.sessionmaker() as session:
            service = ctx.oauth(session)
            assert service is not None
            try:
                async with session.begin():
                    user, verifier = await service.user_of(state, browser_hash(cookie))
            except OAuthStateInvalid:
                log.warning("OAuth callback with an unknown, used or expired state, or from another browser")
                return page(default, "oauth-page-state-invalid", 400)
            t = ctx.translator.texts(ctx.translator.pick(user.language, None))
            telegram_id = user.telegram_id
            if telegram_id is None:  # the account moved to another Telegram account meanwhile
                return page(t, "oauth-page-state-invalid", 400)
            async with session.begin():
                outbox = ctx.outbox(session)
                if error or not code:
                    await outbox.send_text(telegram_id, t("oauth-cancelled"))
                    return page(t, "oauth-page-failed", 400)
                try:
                    linked = await service.complete(user, verifier, code)
                except OAuthFailed as exc:
                    log.warning("OAuth exchange failed: %s", exc.args_map.get("reason"))
                    await outbox.send_text(telegram_id, t("oauth-failed"))
                    return page(t, "oauth-page-failed", 502)
                if linked.phone_error is not None:
                    await outbox.send_text(telegram_id, t(linked.phone_error.key, **linked.phone_error.args_map))
        # Nothing of the provider's account goes to Telegram from here: this browser may not be the /link
        # user's (the button's link may have been passed on, and whoever opened it first has the cookie).
        # The browser gets the link that shows it in Telegram, to the /link user only (handlers.oauth).
        # The cookie stays until it expires: a reload then says "already used", not "another browser".
        assert linked.finish is not None
        me = await request.app[BOT_APP].bot.me()  # type: ignore[attr-defined]
        return finish_page(t, f"https://t.me/{me.username}?start={FINISH_PREFIX}{linked.finish}")

    return callback


def finish_page(t: Texts, url: str) -> web.Response:
    """Linked: the way back to Telegram, where the /link user (and only they) sees and confirms it."""
    text, button = html.escape(t.plain("oauth-page-finish")), html.escape(t.plain("oauth-page-finish-button"))
    href = html.escape(url, quote=True)
    document = (
        f"<!doctype html><meta charset=utf-8><title>{text}</title><p style='font:18px sans-serif'>{text}</p>"
        f"<p style='font:18px sans-serif'><a href=\"{href}\">{button}</a></p>"
    )
    return web.Response(text=document, content_type="text/html", status=200, headers=NO_STORE)


def install_oauth(ctx: AppContext, scheduler: Scheduler) -> None:
    """Nothing happens when OAuth linking is not configured."""
    s = ctx.settings
    if not s.oauth_enabled or s.oauth_redirect_url is None or s.oauth_token_key is None:
        return
    ctx.oauth_keys = TokenKeys.parse(s.oauth_token_key.get_secret_value())
    ctx.oauth_http = httpx.AsyncClient(timeout=s.oauth_timeout_seconds)
    ctx.web_routes.append(("GET", urlparse(s.oauth_start_url).path, start_handler(ctx)))
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
