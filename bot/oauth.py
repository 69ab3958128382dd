"""OAuth linking in the process: /oauth/start and the callback on the bot's HTTP server, and the refresh job.

/oauth/start takes the /link button's token (once), binds its state to a fresh cookie of this browser
and redirects to the provider. The callback takes the state only with that cookie, in a transaction
of its own, so a state works once even when the exchange after it fails; then it exchanges the code,
stores the link, and tells the user in Telegram (through the delivery queue, in the same transaction):
a verified phone is offered there with yes/no buttons, never applied from the browser.
"""

from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import httpx
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiohttp import web

from bot.context import AppContext
from bot.scheduler import Scheduler
from handlers.notify import notify_user
from handlers.oauth import OAuthConfirm
from services.delivery import Outbox
from services.errors import OAuthFailed, OAuthStateInvalid
from services.oauth import CONFIRM_TTL, LOGIN_TTL, Linked, TokenKeys, browser_hash
from services.phones import mask_phone

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


def confirm_markup(t: Texts, nonce: str) -> dict[str, object]:
    kb = InlineKeyboardBuilder()
    kb.button(text=t.plain("oauth-btn-confirm-yes"), callback_data=OAuthConfirm(nonce=nonce, yes=True))
    kb.button(text=t.plain("oauth-btn-confirm-no"), callback_data=OAuthConfirm(nonce=nonce, yes=False))
    return kb.as_markup().model_dump(exclude_none=True)


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
                await tell_linked(outbox, telegram_id, t, linked)
        # The cookie stays until it expires: a reload then says "already used", not "another browser".
        return page(t, "oauth-page-linked-confirm" if linked.confirm else "oauth-page-linked", 200)

    return callback


async def tell_linked(outbox: Outbox, telegram_id: int, t: Texts, linked: Linked) -> None:
    """The link, then the verified phone to confirm (yes/no buttons) or why it cannot be used."""
    await outbox.send_text(
        telegram_id,
        t(
            "oauth-linked",
            name=linked.name or "—",
            phone=mask_phone(linked.phone) if linked.phone else "—",
            has_phone=1 if linked.phone else 0,
        ),
    )
    if linked.confirm is not None:
        key = "oauth-confirm-takeover" if linked.confirm.takes_over else "oauth-confirm-signin"
        minutes = int(CONFIRM_TTL.total_seconds() // 60)
        await outbox.send_text(
            telegram_id,
            t(key, phone=mask_phone(linked.confirm.phone), minutes=minutes),
            reply_markup=confirm_markup(t, linked.confirm.nonce),
        )
    elif linked.phone_error is not None:
        await outbox.send_text(telegram_id, t(linked.phone_error.key, **linked.phone_error.args_map))


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
