"""The staff web panel on the bot's HTTP server, under /panel (issue 21).

Thin views: each request runs in one transaction (like an update's unit of work), asks
`services.panel` for the signed-in staff member (the role and ban are checked on every request)
and calls one PanelService method; every rule and permission lives there. A DomainError is shown
on the page (403 for PanelForbidden, the sign-in page for PanelSignedOut) and the transaction still
commits what the refusal recorded, as in the bot. What the bot tells members (warned, banned) goes
through the delivery queue in the same transaction, in their language.

Every answer carries a strict Content-Security-Policy (scripts and styles only from /panel/static,
no inline code), no caching, no referrer, no framing. POSTs need the session's CSRF token (a form
field, or the X-CSRF-Token header htmx sends) and, when the browser says, our own Origin.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlparse

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Texts
from bot.i18n.menus import clear_staff_commands, set_staff_commands
from bot.i18n.notices import send_notices
from handlers.reports import refresh_report_cards
from panel import charts
from services.errors import DomainError, PanelForbidden, PanelSignedOut
from services.moderation import format_duration, format_moment, parse_duration
from services.panel import SESSION_TTL, AuditFilter, Done, PanelAuth, PanelService, Staff
from services.telegram_html import html_problem, telegram_preview
from storage.repositories.delivery import OutgoingRepo

if TYPE_CHECKING:
    from bot.app import BotApp

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PANEL_APP = web.AppKey("panel_bot_app", object)
RATE_WINDOW = timedelta(seconds=10)  # sends per second: over the last 10 seconds
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


View = Callable[[web.Request, "Page"], Awaitable[web.StreamResponse]]


def cookie_name(public_url: str) -> str:
    # __Host-: only from this very host over https, path /, so a sibling subdomain cannot plant one.
    return "__Host-panel" if urlparse(public_url).scheme == "https" else "panel_session"


class Page:
    """One request's unit of work: session, services, the staff member and their texts."""

    def __init__(self, app: BotApp, session: AsyncSession, staff: Staff, browser_language: str | None) -> None:
        self.app = app
        self.session = session
        self.staff = staff
        self.services = app.ctx.services(session)  # the same container as a bot update's
        self.panel: PanelService = self.services.panel
        translator = app.ctx.translator
        # As in the bot: the language chosen with /lang, else the browser's (the bot uses Telegram's).
        self.t: Texts = translator.texts(translator.pick(staff.user.language, browser_language))
        self.role_changes: list[Done] = []

    async def tell(self, done: Done) -> None:
        """The members' notices and the edits of a complaint's cards in the staff chats (as the bot's own
        buttons leave them), queued in this transaction; a role change also updates the bot's menus after
        commit (a Bot API call: never inside the transaction)."""
        ctx = self.app.ctx
        await send_notices(self.services.outbox, ctx.translator, done.notices)
        if done.report_id is not None:
            await refresh_report_cards(
                self.services.outbox, ctx.translator, self.app.handler_config, self.services.moderation, done.report_id
            )
        if done.role_change is not None:
            self.role_changes.append(done)

    def render(self, name: str, request: web.Request, status: int = 200, **context: Any) -> web.Response:
        moderation = self.panel.moderation
        base = {
            "t": self.t,
            "_": self.t.plain,
            "preview": lambda text: Markup(telegram_preview(text or "")),
            "max_warnings": moderation.warnings_to_ban,
            "default_ban": moderation.ban_duration,
            "staff": self.staff,
            "csrf": self.staff.csrf_token,
            "lang": self.t.locale,
            "moment": format_moment,
            "duration": format_duration,
            "nav": request.match_info.route.name or "",
        }
        return aiohttp_jinja2.render_template(name, request, {**base, **context}, status=status)


def _app(request: web.Request) -> BotApp:
    return request.app[PANEL_APP]  # type: ignore[return-value]


def _browser_language(request: web.Request) -> str | None:
    return request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()[:16] or None


def _guest_texts(request: web.Request) -> Texts:
    translator = _app(request).ctx.translator
    return translator.texts(translator.pick(None, _browser_language(request)))


def _guest_page(request: web.Request, template: str, status: int, **context: Any) -> web.Response:
    t = _guest_texts(request)
    return aiohttp_jinja2.render_template(
        template, request, {"t": t, "_": t.plain, "staff": None, "nav": "", "invalid": False, **context}, status=status
    )


def staff_view(view: View) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Signed-in staff only; POSTs with the CSRF token; one transaction; domain refusals on the page."""

    async def handler(request: web.Request) -> web.StreamResponse:
        app = _app(request)
        name = cookie_name(app.ctx.settings.panel_public_url)
        async with app.ctx.sessionmaker() as session:
            async with session.begin():
                try:
                    staff = await app.ctx.services(session).panel_auth.staff_for(request.cookies.get(name))
                except PanelSignedOut:
                    return _guest_page(request, "signed_out.html", 401)
            page = Page(app, session, staff, _browser_language(request))
            async with session.begin():
                if request.method == "POST":
                    form = await request.post()
                    token = request.headers.get("X-CSRF-Token") or str(form.get("csrf") or "")
                    try:
                        PanelAuth.check_csrf(staff, token)
                    except PanelForbidden:
                        log.warning("panel POST without a valid CSRF token from user %s", staff.user.id)
                        return page.render("error.html", request, 403, error=page.t.plain("panel-forbidden"))
                try:
                    response = await view(request, page)
                except DomainError as exc:
                    status = 403 if isinstance(exc, PanelForbidden) else 400
                    if isinstance(exc, PanelForbidden):
                        log.warning("panel: user %s refused %s %s", staff.user.id, request.method, request.path)
                    response = page.render("error.html", request, status, error=page.t.plain(exc.key, **exc.args_map))
        for done in page.role_changes:  # after commit
            target = done.target
            if target is not None and target.telegram_id is not None:
                if done.role_change:
                    await set_staff_commands(app.bot, app.ctx.translator, target.telegram_id, admin=False)
                else:
                    await clear_staff_commands(app.bot, app.ctx.translator, target.telegram_id)
        return response

    return handler


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.method == "POST":
        origin = request.headers.get("Origin")
        if origin is not None and origin != "null":
            expected = urlparse(_app(request).ctx.settings.panel_public_url)
            if origin != f"{expected.scheme}://{expected.netloc}" and urlparse(origin).netloc != request.host:
                log.warning("panel POST from a foreign origin %s", origin[:100])
                response: web.StreamResponse = web.Response(status=403, text="forbidden")
                response.headers.update(SECURITY_HEADERS)
                return response
    started = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(SECURITY_HEADERS)
        raise
    response.headers.update(SECURITY_HEADERS)
    # The server's own time for the page (bench/panel.py reads it; browsers show it in their dev tools).
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    if request.path.startswith("/panel/static/"):
        response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


# --- sign-in ------------------------------------------------------------------------------------
async def login_form(request: web.Request) -> web.Response:
    """The link from the bot shows a button; only pressing it spends the link (a link preview or a
    prefetch must not)."""
    return _guest_page(request, "login.html", 200, token=request.query.get("t", "")[:200])


async def login(request: web.Request) -> web.Response:
    app = _app(request)
    form = await request.post()
    async with app.ctx.sessionmaker() as session, session.begin():
        try:
            signed_in = await app.ctx.services(session).panel_auth.sign_in(str(form.get("t") or ""))
        except DomainError:
            log.warning("panel sign-in with a forged, used or expired link")
            return _guest_page(request, "signed_out.html", 400, invalid=True)
    public = app.ctx.settings.panel_public_url
    response = redirect("/panel/")
    secure = urlparse(public).scheme == "https"
    response.set_cookie(
        cookie_name(public),
        signed_in.cookie_token,
        max_age=int(SESSION_TTL.total_seconds()),
        path="/" if secure else "/panel",
        secure=secure,
        httponly=True,
        samesite="Strict",
    )
    return response


async def logout(request: web.Request, page: Page) -> web.StreamResponse:
    await page.services.panel_auth.sign_out(page.staff.user)
    public = page.app.ctx.settings.panel_public_url
    response = redirect("/panel/")
    response.del_cookie(cookie_name(public), path="/" if urlparse(public).scheme == "https" else "/panel")
    return response


# --- overview -----------------------------------------------------------------------------------
async def _live(page: Page, request: web.Request) -> dict[str, Any]:
    """Every instance's delivery: the queue, sends of the last RATE_WINDOW (the outgoing rows' send
    times) and 429 answers of the last hour (shared by each instance: bot/live_counts.py)."""
    outgoing = OutgoingRepo(page.session)
    now = page.app.ctx.clock.now()
    oldest = await outgoing.oldest_due(now)
    sent = await page.panel.overview_repo.sends_since(now - RATE_WINDOW)
    return {
        "queue_depth": await outgoing.depth(),
        "oldest_waiting": (now - oldest).total_seconds() if oldest is not None else 0.0,
        "sends_per_second": round(sent / RATE_WINDOW.total_seconds(), 1),
        "rate_limited_hour": await page.app.rate_limits.last_hour(),
    }


async def overview(request: web.Request, page: Page) -> web.StreamResponse:
    live = await _live(page, request)
    data = await page.panel.overview(
        page.staff, queue_depth=live["queue_depth"], oldest_waiting_seconds=live["oldest_waiting"]
    )
    return page.render(
        "overview.html",
        request,
        o=data,
        live=live,
        gmfy_on=page.app.ctx.gmfy is not None,
        chart_messages=charts.bars(data.messages_per_hour, label_every=24, label=lambda s: s[5:10]),
        chart_signups=charts.bars(data.signups_per_day, label_every=7, label=lambda s: s[5:]),
        chart_invites=charts.bars(data.invites_per_day, label_every=7, label=lambda s: s[5:]),
        chart_reports=charts.bars(data.reports_per_day, label_every=7, label=lambda s: s[5:]),
    )


async def live_fragment(request: web.Request, page: Page) -> web.StreamResponse:
    live = await _live(page, request)
    gmfy = await page.panel.overview_repo.gmfy_backlog()
    return page.render("_live.html", request, live=live, gmfy_backlog=gmfy, gmfy_on=page.app.ctx.gmfy is not None)


# --- complaints ---------------------------------------------------------------------------------
def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def _duration(value: Any) -> timedelta | None:
    text = str(value or "").strip()
    return parse_duration(text) if text else None


async def complaints(request: web.Request, page: Page) -> web.StreamResponse:
    listed = await page.panel.complaints(page.staff, _int(request.query.get("page"), 0))
    return page.render("complaints.html", request, c=listed, done=request.query.get("done"))


async def complaints_list(request: web.Request, page: Page) -> web.StreamResponse:
    """Polled by the complaints page with the stamp it shows: 204 (htmx leaves the page alone) while the
    open complaints are the same, else the list as it is now, which htmx swaps in place (handled in the
    bot or another browser, or a new one filed)."""
    if await page.panel.complaints_stamp(page.staff) == request.query.get("stamp", ""):
        return web.Response(status=204)
    listed = await page.panel.complaints(page.staff, _int(request.query.get("page"), 0))
    return page.render("_complaints.html", request, c=listed, done=None)


async def complaint_action(request: web.Request, page: Page) -> web.StreamResponse:
    form = await request.post()
    report_id = _int(request.match_info["report_id"])
    done = await page.panel.act_on_report(
        page.staff, report_id, request.match_info["action"], duration=_duration(form.get("duration"))
    )
    await page.tell(done)
    return redirect(f"/panel/complaints?{urlencode({'done': done.action})}")


# --- members ------------------------------------------------------------------------------------
async def members(request: web.Request, page: Page) -> web.StreamResponse:
    query = request.query.get("q", "")[:64]
    found = await page.panel.search(page.staff, query) if query.strip() else []
    return page.render("members.html", request, q=query, found=found, phone_of=page.panel.phone_of)


async def member(request: web.Request, page: Page) -> web.StreamResponse:
    data = await page.panel.member(page.staff, _int(request.match_info["user_id"]))
    return page.render("member.html", request, m=data, done=request.query.get("done"))


async def member_gmfy(request: web.Request, page: Page) -> web.StreamResponse:
    """The member page's GMFY part, which htmx asks for once the page is there."""
    summary = await page.panel.gmfy_summary(page.staff, _int(request.match_info["user_id"]))
    return page.render("_gmfy.html", request, g=summary)


async def member_action(request: web.Request, page: Page) -> web.StreamResponse:
    form = await request.post()
    user_id = _int(request.match_info["user_id"])
    seen = form.get("seen")
    done = await page.panel.member_action(
        page.staff,
        user_id,
        request.match_info["action"],
        duration=_duration(form.get("duration")),
        reason=str(form.get("reason") or ""),
        seen_warnings=_int(seen) if seen is not None else None,
    )
    await page.tell(done)
    return redirect(f"/panel/members/{user_id}?{urlencode({'done': done.action})}")


# --- audit --------------------------------------------------------------------------------------
def _audit_filter(request: web.Request) -> AuditFilter:
    def number(name: str) -> int | None:
        value = request.query.get(name, "").strip().lstrip("#")
        return int(value) if value.isdigit() else None

    return AuditFilter(number("actor"), request.query.get("action", "").strip()[:32] or None, number("target"))


async def audit(request: web.Request, page: Page) -> web.StreamResponse:
    where = _audit_filter(request)
    view = await page.panel.audit(page.staff, where, _int(request.query.get("page"), 0))
    query = {k: v for k, v in (("actor", where.actor_id), ("action", where.action), ("target", where.target_id)) if v}
    return page.render("audit.html", request, a=view, where=where, query=urlencode(query))


CSV_HEADER = ("id", "time_utc", "actor_id", "actor", "action", "target_id", "target", "reason", "details")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


async def audit_csv(request: web.Request, page: Page) -> web.StreamResponse:
    """The filtered audit log as CSV. Built a chunk of rows at a time (each chunk written, then dropped),
    into one body: the page's own time stays what it measures, the whole export."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    async for rows in page.panel.audit_export(page.staff, _audit_filter(request)):
        writer.writerows(_csv_line(*row) for row in rows)
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


def _csv_line(
    entry_id: int,
    created_at: datetime,
    actor_id: int | None,
    actor: str | None,
    action: str,
    target_id: int | None,
    target: str | None,
    reason: str | None,
    details: dict[str, Any] | None,
) -> tuple[Any, ...]:
    return (
        entry_id,
        created_at.isoformat(),
        actor_id or "",
        _cell(actor) if actor else "",
        action,
        target_id or "",
        _cell(target) if target else "",
        _cell(reason) if reason else "",
        _cell(" ".join(f"{k}={v}" for k, v in sorted(details.items()))) if details else "",
    )


def _cell(value: str) -> str:
    """A spreadsheet must not run a cell as a formula (CSV injection): names and reasons are members' text."""
    return "'" + value if value.startswith(FORMULA_START) else value


# --- broadcast ----------------------------------------------------------------------------------
async def broadcast(request: web.Request, page: Page) -> web.StreamResponse:
    page.panel.require_admin(page.staff)
    recent = await page.panel.recent_broadcasts(page.staff)
    return page.render("broadcast.html", request, recent=recent, audiences=await page.panel.audiences(page.staff))


async def broadcast_preview(request: web.Request, page: Page) -> web.StreamResponse:
    page.panel.require_admin(page.staff)
    form = await request.post()
    text = str(form.get("text") or "")
    audience = await page.panel.audience_size(page.staff, str(form.get("audience") or "all"))
    return page.render(
        "_preview.html", request, preview=Markup(telegram_preview(text)), audience=audience, problem=html_problem(text)
    )


async def broadcast_send(request: web.Request, page: Page) -> web.StreamResponse:
    form = await request.post()
    started = await page.panel.send_broadcast(
        page.staff, str(form.get("text") or ""), str(form.get("audience") or "all")
    )
    return redirect(f"/panel/broadcast/{started.id}")


async def broadcast_status(request: web.Request, page: Page) -> web.StreamResponse:
    progress = await page.panel.broadcast_progress(page.staff, _int(request.match_info["broadcast_id"]))
    if not request.headers.get("HX-Request"):
        return page.render("broadcast_status.html", request, p=progress)
    # 286 tells htmx to stop polling: the broadcast is over.
    return page.render("_progress.html", request, 200 if progress.broadcast.status == "sending" else 286, p=progress)


async def broadcast_cancel(request: web.Request, page: Page) -> web.StreamResponse:
    broadcast_id = _int(request.match_info["broadcast_id"])
    await page.panel.cancel_broadcast(page.staff, broadcast_id)
    return redirect(f"/panel/broadcast/{broadcast_id}")


# --- settings -----------------------------------------------------------------------------------
async def settings_page(request: web.Request, page: Page) -> web.StreamResponse:
    limits = await page.panel.limits(page.staff)
    return page.render("settings.html", request, limits=limits, done=request.query.get("done"))


async def settings_save(request: web.Request, page: Page) -> web.StreamResponse:
    form = await request.post()
    minutes = _int(form.get("minutes"), -1)
    await page.panel.set_limits(page.staff, _int(form.get("limit"), -1), timedelta(minutes=minutes))
    return redirect("/panel/settings?done=1")


def create_panel_app(app: BotApp) -> web.Application:
    """The /panel sub-application; the bot's server mounts it (bot/server.py)."""
    panel = web.Application(middlewares=[security_headers])
    panel[PANEL_APP] = app
    aiohttp_jinja2.setup(
        panel,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    r = panel.router
    r.add_get("/login", login_form, name="login")
    r.add_post("/login", login)
    r.add_post("/logout", staff_view(logout))
    r.add_get("/", staff_view(overview), name="overview")
    r.add_get("/live", staff_view(live_fragment))
    r.add_get("/complaints", staff_view(complaints), name="complaints")
    r.add_get("/complaints/list", staff_view(complaints_list))
    r.add_post(r"/complaints/{report_id:\d+}/{action}", staff_view(complaint_action))
    r.add_get("/members", staff_view(members), name="members")
    r.add_get(r"/members/{user_id:\d+}", staff_view(member), name="member")
    r.add_get(r"/members/{user_id:\d+}/gmfy", staff_view(member_gmfy))
    r.add_post(r"/members/{user_id:\d+}/{action}", staff_view(member_action))
    r.add_get("/audit", staff_view(audit), name="audit")
    r.add_get("/audit.csv", staff_view(audit_csv))
    r.add_get("/broadcast", staff_view(broadcast), name="broadcast")
    r.add_post("/broadcast/preview", staff_view(broadcast_preview))
    r.add_post("/broadcast", staff_view(broadcast_send))
    r.add_get(r"/broadcast/{broadcast_id:\d+}", staff_view(broadcast_status), name="broadcast_status")
    r.add_post(r"/broadcast/{broadcast_id:\d+}/cancel", staff_view(broadcast_cancel))
    r.add_get("/settings", staff_view(settings_page), name="settings")
    r.add_post("/settings", staff_view(settings_save))
    r.add_static("/static", HERE / "static", name="static")
    return panel
