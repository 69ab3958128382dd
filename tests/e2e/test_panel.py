"""The staff web panel (issue 21) end to end: the real app and its HTTP server, staff signing in with
the link `/panel` sends, and an attacker's tries: forged and replayed links, forms without the CSRF
token, a moderator reaching for an admin's action, a session after a ban or `/panel logout`."""

from __future__ import annotations

import re
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.server import create_web_app
from storage.models import (
    AuditEntry,
    Ban,
    Broadcast,
    Moderator,
    Outgoing,
    PanelLogin,
    PanelSession,
    Report,
    User,
    WarningEntry,
)
from tests.e2e.harness import Harness, Person
from tests.fakes.telegram import ChatMessage

LINK = re.compile(r"https?://\S+/panel/login\?t=(\S+)")


class Browser:
    """One staff member's browser: its own cookies, and the form token of the last page it saw."""

    def __init__(self, web: TestClient[Any, Any]) -> None:
        self.web = web
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[SimpleCookie] = []
        self.csrf = ""

    def _headers(self) -> dict[str, str]:
        header = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"Cookie": header} if header else {}

    def _remember(self, response: Any) -> None:
        for raw in response.headers.getall("Set-Cookie", []):
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            self.set_cookies.append(jar)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    async def get(self, path: str) -> tuple[int, str, Any]:
        response = await self.web.get(path, allow_redirects=False, headers=self._headers())
        self._remember(response)
        body = await response.text()
        if found := re.search(r'name="csrf" value="([^"]+)"', body):
            self.csrf = found.group(1)
        return response.status, body, response.headers

    async def post(self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True) -> tuple[int, str, Any]:
        form = dict(data or {})
        if csrf:
            form["csrf"] = self.csrf
        response = await self.web.post(path, data=form, allow_redirects=False, headers=self._headers())
        self._remember(response)
        return response.status, await response.text(), response.headers


async def login_token(person: Person) -> str:
    await person.send("/panel")
    found = LINK.search(person.last_text())
    assert found, person.last_text()
    return found.group(1)


async def signed_in_browser(web: TestClient[Any, Any], person: Person) -> Browser:
    browser = Browser(web)
    token = await login_token(person)
    status, body, _ = await browser.get(f"/panel/login?t={token}")
    assert status == 200, body
    status, body, headers = await browser.post("/panel/login", {"t": token}, csrf=False)
    assert status == 303, body
    assert headers["Location"] == "/panel/"
    status, body, _ = await browser.get("/panel/")
    assert status == 200, body
    return browser


async def user_of(tg: Harness, person: Person) -> User:
    async with tg.app.ctx.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == person.id))
        assert user is not None
        return user


async def count(tg: Harness, model: Any, *where: Any) -> int:
    async with tg.app.ctx.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def report(tg: Harness, reporter: Person, target: Person, reason: str = "spam") -> int:
    """A member's complaint, as the Report button files it (through ModerationService)."""
    async with tg.app.ctx.sessionmaker() as session, session.begin():
        outcome = await tg.app.ctx.moderation(session).report(
            await session.get_one(User, (await user_of(tg, reporter)).id),
            await session.get_one(User, (await user_of(tg, target)).id),
            reason,
        )
        return outcome.report.id


async def make_moderator(tg: Harness, admin: Person, person: Person) -> None:
    await admin.send(f"/mod #{(await user_of(tg, person)).id}")
    assert "moderator" in admin.last_text()


async def snapshot(tg: Harness) -> tuple[int, ...]:
    """Everything panel actions change, to prove a refused one changed nothing."""
    return (
        await count(tg, Ban),
        await count(tg, WarningEntry),
        await count(tg, Moderator),
        await count(tg, Report, Report.status == "open"),
        await count(tg, Broadcast),
        await count(tg, Outgoing),
        await count(tg, AuditEntry, AuditEntry.action != "lookup"),
    )


async def test_link_signs_in_once_and_sets_a_strict_session_cookie(tg: Harness, web: TestClient[Any, Any]) -> None:
    admin = await tg.admin().signed_in()
    browser = await signed_in_browser(web, admin)
    cookie = browser.set_cookies[-1]
    (name,) = cookie.keys()
    morsel = cookie[name]
    assert morsel["httponly"]
    assert morsel["samesite"] == "Strict"
    assert int(morsel["max-age"]) == 12 * 3600
    status, body, headers = await browser.get("/panel/")
    assert status == 200
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "<script>" not in body  # no inline script: only <script src=...>
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
    assert await count(tg, AuditEntry, AuditEntry.action == "panel_login") == 1
    # No /lang chosen: the browser's language.
    response = await web.get("/panel/", headers={**browser._headers(), "Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
    assert "Обзор" in await response.text()

    # The same link again (replayed, from the chat history or a log): refused, no new session.
    token = LINK.search(admin.last_text()).group(1)  # type: ignore[union-attr]
    other = Browser(web)
    status, body, _ = await other.post("/panel/login", {"t": token}, csrf=False)
    assert status == 400
    assert "not valid" in body
    assert "Set-Cookie" not in _
    assert await count(tg, PanelSession) == 1


async def test_forged_and_expired_links_are_refused(tg: Harness, web: TestClient[Any, Any]) -> None:
    admin = await tg.admin().signed_in()
    token = await login_token(admin)
    login_id, secret, signature = token.split(".")
    browser = Browser(web)
    forgeries = [
        f"{login_id}.{secret}.{'A' * len(signature)}",  # signature guessed
        f"{int(login_id) + 1}.{secret}.{signature}",  # someone else's link id
        f"{login_id}.{secret[:-1]}{'y' if secret.endswith('x') else 'x'}.{signature}",  # secret changed
        "1.2.3",
        "",
        "x" * 5000,
    ]
    for forged in forgeries:
        status, _body, headers = await browser.post("/panel/login", {"t": forged}, csrf=False)
        assert status == 400, forged
        assert "Set-Cookie" not in headers
    tg.clock.advance(seconds=301)  # the real link, after its 5 minutes
    status, _, _ = await browser.post("/panel/login", {"t": token}, csrf=False)
    assert status == 400
    assert await count(tg, PanelSession) == 0
    status, _, _ = await browser.get("/panel/")
    assert status == 401


async def test_members_get_no_link(tg: Harness) -> None:
    bob = await tg.user("Bob").signed_in()
    await bob.send("/panel")
    assert "/panel/login" not in bob.last_text()
    assert await count(tg, AuditEntry, AuditEntry.action == "panel_login") == 0


async def test_pages_render_for_staff_in_both_languages(tg: Harness, web: TestClient[Any, Any]) -> None:
    admin = await tg.admin().signed_in()
    bob = await tg.user("Bob").signed_in()
    alice = await tg.user("Alice").signed_in()
    async with tg.app.ctx.sessionmaker() as session, session.begin():  # she chose Russian (/lang)
        (await session.get_one(User, (await user_of(tg, alice)).id)).language = "ru"
    await report(tg, alice, bob)
    browser = await signed_in_browser(web, admin)
    bob_id = (await user_of(tg, bob)).id
    for path in (
        "/panel/",
        "/panel/live",
        "/panel/complaints",
        "/panel/members?q=" + str(bob_id),
        f"/panel/members/{bob_id}",
        "/panel/audit",
        "/panel/audit?action=report&page=3",
        "/panel/broadcast",
        "/panel/settings",
    ):
        status, body, headers = await browser.get(path)
        assert status == 200, (path, body[:500])
        assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    status, body, _ = await browser.get("/panel/")
    assert "<svg" in body
    assert "Overview" in body

    await make_moderator(tg, admin, alice)
    ru = await signed_in_browser(web, alice)
    status, body, _ = await ru.get("/panel/complaints")
    assert "Жалобы" in body
    status, body, _ = await ru.get("/panel/")
    assert "Обзор" in body


async def test_complaint_actions_go_through_moderation(tg: Harness, web: TestClient[Any, Any]) -> None:
    admin = await tg.admin().signed_in()
    bob = await tg.user("Bob").signed_in()
    alice = await tg.user("Alice").signed_in()
    carol = await tg.user("Carol").signed_in()
    first = await report(tg, alice, bob)
    second = await report(tg, carol, bob)
    browser = await signed_in_browser(web, admin)
    status, body, _ = await browser.get("/panel/complaints")
    assert f"#{first}" in body
    assert "2 members complain" in body

    status, _, _headers = await browser.post(f"/panel/complaints/{first}/ban", {"duration": "2d"})
    assert status == 303
    bob_id = (await user_of(tg, bob)).id
    async with tg.app.ctx.sessionmaker() as session:
        ban = await session.scalar(select(Ban).where(Ban.user_id == bob_id))
        assert ban is not None
        assert ban.until - ban.created_at == timedelta(days=2)
    await tg.deliver()
    assert "banned" in bob.last_text().lower()
    # The bot's /user shows the ban the panel made.
    await admin.send(f"/user #{bob_id}")
    assert "Banned until: Jan 3, 3:00 PM" in admin.last_text()  # the bot writes the admin's zone (+7 916: Moscow)

    status, _, _ = await browser.post(f"/panel/complaints/{second}/dismiss")
    assert status == 303
    assert await count(tg, Report, Report.status == "open") == 0
    # A second press on a handled complaint changes nothing and says so.
    status, body, _ = await browser.post(f"/panel/complaints/{first}/warn")
    assert status == 400
    assert "already handled" in body


async def test_missing_or_wrong_csrf_token_is_refused(tg: Harness, web: TestClient[Any, Any]) -> None:
    admin = await tg.admin().signed_in()
    bob = await tg.user("Bob").signed_in()
    alice = await tg.user("Alice").signed_in()
    first = await report(tg, alice, bob)
    browser = await signed_in_browser(web, admin)
    bob_id = (await user_of(tg, bob)).id
    before = await snapshot(tg)
    for path in (f"/panel/complaints/{first}/ban", f"/panel/members/{bob_id}/warn", "/panel/settings", "/panel/logout"):
        status, _, _ = await browser.post(path, {"limit": "5", "minutes": "10"}, csrf=False)
        assert status == 403, path
        status, _, _ = await browser.post(path, {"limit": "5", "minutes": "10", "csrf": "forged"}, csrf=False)
        assert status == 403, path
    # A page from another site posting with the browser's cookie: refused by its Origin as well.
    response = await web.post(
        f"/panel/members/{bob_id}/warn",
        data={"csrf": browser.csrf},
        headers={**browser._headers(), "Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert response.status == 403
    assert await snapshot(tg) == before
    status, _, _ = await browser.get("/panel/")
    assert status == 200  # still signed in: logout without the token did nothing


async def test_moderator_cannot_take_admin_actions(tg: Harness, web: TestClient[Any, Any]) -> None:
    admin = await tg.admin().signed_in()
    mod = await tg.user("Mod").signed_in("+79165550001")
    bob = await tg.user("Bob").signed_in()
    await make_moderator(tg, admin, mod)
    browser = await signed_in_browser(web, mod)
    bob_id = (await user_of(tg, bob)).id
    before = await snapshot(tg)
    for path, data in (
        (f"/panel/members/{bob_id}/mod", {}),
        (f"/panel/members/{(await user_of(tg, mod)).id}/unmod", {}),
        ("/panel/settings", {"limit": "1", "minutes": "60"}),
        ("/panel/broadcast", {"text": "hello", "audience": "all"}),
        ("/panel/broadcast/preview", {"text": "hello", "audience": "all"}),
    ):
        status, body, _ = await browser.post(path, data)
        assert status == 403, (path, body[:300])
    status, _, _ = await browser.get("/panel/broadcast")
    assert status == 403
    assert await snapshot(tg) == before
    # Phones: masked for moderators, and a phone finds nobody.
    status, body, _ = await browser.get(f"/panel/members/{bob_id}")
    assert bob.phone is not None
    assert bob.phone not in body
    assert "***" in body
    status, body, _ = await browser.get(f"/panel/members?q={bob.phone.replace('+', '%2B')}")
    assert "Nobody found" in body
    # Admins see and search phones.
    admin_browser = await signed_in_browser(web, admin)
    status, body, _ = await admin_browser.get(f"/panel/members?q={bob.phone.replace('+', '%2B')}")
    assert bob.phone in body


async def test_ban_unmod_and_logout_end_sessions(tg: Harness, web: TestClient[Any, Any]) -> None:
    admin = await tg.admin().signed_in()
    mod = await tg.user("Mod").signed_in()
    await make_moderator(tg, admin, mod)
    browser = await signed_in_browser(web, mod)
    await admin.send(f"/unmod #{(await user_of(tg, mod)).id}")
    status, _, _ = await browser.get("/panel/")
    assert status == 401

    await make_moderator(tg, admin, mod)
    browser = await signed_in_browser(web, mod)
    await admin.send(f"/ban #{(await user_of(tg, mod)).id} 1h")
    status, _, _ = await browser.get("/panel/complaints")
    assert status == 401
    await admin.send(f"/unban #{(await user_of(tg, mod)).id}")

    browser = await signed_in_browser(web, mod)
    second = await signed_in_browser(web, mod)
    await mod.send("/panel logout")
    assert "2 sessions" in mod.last_text()
    for b in (browser, second):
        status, _, _ = await b.get("/panel/")
        assert status == 401

    admin_browser = await signed_in_browser(web, admin)
    status, _, _ = await admin_browser.post("/panel/logout")
    assert status == 303
    status, _, _ = await admin_browser.get("/panel/")
    assert status == 401
    tg.clock.advance(hours=13)  # a session ends after 12 hours on its own
    late = await signed_in_browser(web, admin)
    tg.clock.advance(hours=12, seconds=1)
    status, _, _ = await late.get("/panel/")
    assert status == 401


async def test_member_actions_audit_log_and_csv(tg: Harness, web: TestClient[Any, Any]) -> None:
    admin = await tg.admin().signed_in()
    bob = await tg.user("Bob", username="bobby").signed_in()
    alice = await tg.user("Alice").signed_in()
    browser = await signed_in_browser(web, admin)
    bob_id = (await user_of(tg, bob)).id
    alice_id = (await user_of(tg, alice)).id
    status, body, _ = await browser.get("/panel/members?q=%40bobby")
    assert f"/panel/members/{bob_id}" in body
    status, body, _ = await browser.get(f"/panel/members/{bob_id}")
    assert status == 200
    assert await count(tg, AuditEntry, AuditEntry.action == "lookup", AuditEntry.target_id == bob_id) == 1
    status, _, _ = await browser.post(f"/panel/members/{bob_id}/warn", {"seen": "0"})
    assert status == 303
    status, body, _ = await browser.post(f"/panel/members/{bob_id}/warn", {"seen": "0"})  # a stale page
    assert status == 400
    assert await count(tg, WarningEntry, WarningEntry.user_id == bob_id) == 1
    status, _, _ = await browser.post(f"/panel/members/{bob_id}/ban", {"duration": "3h", "reason": "=cmd|calc"})
    assert status == 303
    status, body, _ = await browser.get(f"/panel/members/{bob_id}")
    assert "Banned until" in body
    status, _, _ = await browser.post(f"/panel/members/{bob_id}/unban")
    assert status == 303
    status, _, _ = await browser.post(f"/panel/members/{alice_id}/mod")
    assert status == 303
    assert await count(tg, Moderator) == 1

    status, body, _ = await browser.get("/panel/audit?action=ban")
    assert body.count("<tr>") == 2  # the header and the one ban
    status, body, _ = await browser.get(f"/panel/audit?target={bob_id}")
    for action in ("lookup", "warn", "ban", "unban"):
        assert f">{action}<" in body
    response = await web.get(f"/panel/audit.csv?target={bob_id}", headers=browser._headers())
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    csv_text = await response.text()
    assert csv_text.splitlines()[0].startswith("id,time_utc,actor_id")
    assert "'=cmd|calc" in csv_text  # a formula is never a formula in a spreadsheet


async def test_settings_and_broadcast(tg: Harness, web: TestClient[Any, Any]) -> None:
    admin = await tg.admin().signed_in()
    bob = await tg.user("Bob").signed_in()
    await tg.user("Carol").signed_in()
    browser = await signed_in_browser(web, admin)
    status, _, _ = await browser.post("/panel/settings", {"limit": "7", "minutes": "30"})
    assert status == 303
    await admin.send("/setlimit")
    assert "7 messages per 30 minutes" in admin.last_text()
    status, body, _ = await browser.post("/panel/settings", {"limit": "0", "minutes": "30"})
    assert status == 400
    assert await count(tg, AuditEntry, AuditEntry.action == "setlimit") == 1

    status, body, _ = await browser.post(
        "/panel/broadcast/preview", {"text": "<b>Hi</b> <script>alert(1)</script>", "audience": "all"}
    )
    assert status == 200
    assert "<b>Hi</b>" in body
    assert "<script>" not in body
    assert "It goes to 2 members" in body
    status, _, headers = await browser.post("/panel/broadcast", {"text": "<b>News</b>", "audience": "all"})
    assert status == 303
    location = headers["Location"]
    status, body, _ = await browser.get(location)
    assert "of 2" in body
    await tg.deliver()
    assert "News" in bob.last_text()
    status, body, _ = await browser.get(location)
    assert "Delivered 2" in body
    response = await web.get(location, headers={**browser._headers(), "HX-Request": "true"})
    assert response.status == 286  # htmx stops polling a finished broadcast


async def test_cancel_a_running_broadcast(tg: Harness, web: TestClient[Any, Any]) -> None:
    admin = await tg.admin().signed_in()
    bob = await tg.user("Bob").signed_in()
    await tg.user("Carol").signed_in()
    browser = await signed_in_browser(web, admin)
    before = bob.mark()
    status, _, headers = await browser.post("/panel/broadcast", {"text": "Oops", "audience": "all"})
    location = headers["Location"]
    status, _, _ = await browser.post(f"{location}/cancel")
    assert status == 303
    await tg.deliver()
    assert "Oops" not in " ".join(bob.texts_since(before))
    status, body, _ = await browser.get(location)
    assert "Cancelled" in body
    assert "cancelled 2" in body


async def three_in_the_common_chat(tg: Harness) -> list[Person]:
    """Alice, Bob and Carol, signed in and in the common chat."""
    people = []
    for name in ("Alice", "Bob", "Carol"):
        person = await tg.user(name).signed_in()
        await person.send("/join")
        people.append(person)
    return people


async def test_reported_message_shows_and_is_deleted_everywhere_from_the_panel(
    tg: Harness, web: TestClient[Any, Any]
) -> None:
    admin = await tg.admin().signed_in()
    alice, bob, carol = await three_in_the_common_chat(tg)
    await bob.send("buy <cheap> stuff")
    alice_copy, carol_copy = alice.last(), carol.last()
    await alice.press("Report", alice_copy)
    await alice.press("Spam")
    browser = await signed_in_browser(web, admin)
    status, body, _ = await browser.get("/panel/complaints")
    assert "buy &lt;cheap&gt; stuff" in body  # the member's text, escaped once, never as markup
    report_id = int(re.search(r"/panel/complaints/(\d+)/delete", body).group(1))  # type: ignore[union-attr]
    status, _, _ = await browser.post(f"/panel/complaints/{report_id}/delete")
    assert status == 303
    await tg.deliver()
    assert alice_copy.deleted
    assert carol_copy.deleted
    status, body, _ = await browser.get("/panel/complaints")
    assert "deleted everywhere" in body
    assert await count(tg, AuditEntry, AuditEntry.action == "delete_message") == 1


def list_poll(body: str) -> str:
    """The URL the complaints list polls itself with (its hx-get)."""
    found = re.search(r'<div id="complaints" hx-get="(/panel/complaints/list\?[^"]+)"', body)
    assert found, body[:1000]
    return found.group(1).replace("&amp;", "&")


async def test_complaints_list_updates_in_place_after_changes_made_in_the_bot(
    tg: Harness, web: TestClient[Any, Any]
) -> None:
    admin = await tg.admin().signed_in()
    bob = await tg.user("Bob").signed_in()
    alice = await tg.user("Alice").signed_in()
    carol = await tg.user("Carol").signed_in()
    first = await report(tg, alice, bob)
    browser = await signed_in_browser(web, admin)
    status, body, _ = await browser.get("/panel/complaints")
    poll = list_poll(body)
    assert 'hx-swap="outerHTML"' in body
    status, body, _ = await browser.get(poll)
    assert (status, body) == (204, "")  # nothing changed: htmx leaves the page as it is

    async with tg.app.ctx.sessionmaker() as session, session.begin():  # the report card's Dismiss, in the bot
        actor = await session.get_one(User, (await user_of(tg, admin)).id)
        await tg.app.ctx.moderation(session).handle_report(actor, first, "dismiss")
    status, body, headers = await browser.get(poll)
    assert status == 200
    assert "<html" not in body  # the list alone, for htmx to swap in place of the old one
    assert f'id="report-{first}"' not in body
    assert "Open complaints: 0" in body
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    poll = list_poll(body)  # the new list polls with its own stamp
    status, _, _ = await browser.get(poll)
    assert status == 204

    second = await report(tg, carol, bob)  # a new one
    status, body, _ = await browser.get(poll)
    assert status == 200
    assert f'id="report-{second}"' in body
    assert "Open complaints: 1" in body
    assert f'id="duration-{second}" hx-preserve' in body  # a duration already chosen survives the swap


@pytest.mark.parametrize("bot_settings", [{"panel_url": "https://bot.example.test/panel"}])
async def test_behind_https_the_cookie_is_secure_and_host_only(tg: Harness, web: TestClient[Any, Any]) -> None:
    admin = await tg.admin().signed_in()
    await admin.send("/panel")
    assert "https://bot.example.test/panel/login?t=" in admin.last_text()
    browser = await signed_in_browser(web, admin)
    cookie = browser.set_cookies[-1]
    (name,) = cookie.keys()
    assert name == "__Host-panel"
    morsel = cookie[name]
    assert morsel["secure"]
    assert morsel["httponly"]
    assert morsel["path"] == "/"
    assert morsel["samesite"] == "Strict"
    # Our own origin may post (a form in the panel); another may not.
    headers = {**browser._headers(), "Origin": "https://bot.example.test"}
    response = await web.post("/panel/settings", data={"csrf": browser.csrf, "limit": "9", "minutes": "60"},
                              headers=headers, allow_redirects=False)  # fmt: skip
    assert response.status == 303


@pytest.mark.parametrize("bot_settings", [{"panel_enabled": False}])
async def test_panel_turned_off(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    await admin.send("/panel")
    assert "turned off" in admin.last_text()
    assert await count(tg, PanelLogin) == 0
    app, _ = create_web_app(tg.app)
    assert not [r for r in app.router.routes() if "panel" in str(r.resource)]


ADMIN_CHAT = -1001234567890


def admin_chat_card(tg: Harness, report_id: int) -> ChatMessage:
    cards = [m for m in tg.tg.bot_messages(ADMIN_CHAT) if f"Report #{report_id}" in (m.text or "")]
    assert len(cards) == 1, [m.text for m in tg.tg.bot_messages(ADMIN_CHAT)]
    return cards[0]


def labels(message: ChatMessage) -> list[str]:
    return [button["text"] for button in message.buttons]


@pytest.mark.parametrize("bot_settings", [{"admin_chat_id": ADMIN_CHAT}])
async def test_panel_actions_edit_the_report_cards_in_the_admin_chat(tg: Harness, web: TestClient[Any, Any]) -> None:
    tg.tg.group("Moderators", chat_id=ADMIN_CHAT)
    admin = await tg.admin().signed_in()
    alice, bob, carol = await three_in_the_common_chat(tg)
    await bob.send("first spam")
    await alice.press("Report", alice.last())
    await alice.press("Spam")
    await bob.send("second spam")
    await carol.press("Report", carol.last())
    await carol.press("Abuse")
    browser = await signed_in_browser(web, admin)
    status, body, _ = await browser.get("/panel/complaints")
    first, second = sorted(int(n) for n in set(re.findall(r"/panel/complaints/(\d+)/ban", body)))
    card = admin_chat_card(tg, first)
    assert labels(card) == ["⛔ Ban", "⚠️ Warn", "✖️ Dismiss", "🗑 Delete message"]

    status, _, _ = await browser.post(f"/panel/complaints/{first}/warn")
    assert status == 303
    await tg.deliver()
    card = admin_chat_card(tg, first)
    admin_name = (await user_of(tg, admin)).display_name
    assert f"Confirmed by {admin_name}" in (card.text or "")
    assert labels(card) == ["🗑 Delete message"]  # no more Ban / Warn / Dismiss to answer "already handled"
    assert card.edits == 1

    # Delete everywhere from the panel: the open card says so and loses its Delete button.
    status, _, _ = await browser.post(f"/panel/complaints/{second}/delete")
    assert status == 303
    await tg.deliver()
    card = admin_chat_card(tg, second)
    assert "deleted everywhere" in (card.text or "")
    assert labels(card) == ["⛔ Ban", "⚠️ Warn", "✖️ Dismiss"]
    status, _, _ = await browser.post(f"/panel/complaints/{second}/dismiss")
    await tg.deliver()
    card = admin_chat_card(tg, second)
    assert f"Dismissed by {admin_name}" in (card.text or "")
    assert "deleted everywhere" in (card.text or "")
    assert labels(card) == []


async def test_a_card_button_edits_the_other_staff_members_cards(tg: Harness, web: TestClient[Any, Any]) -> None:
    """No admin chat: every admin and moderator gets the card privately; one acting on theirs (or in the
    panel) leaves the others' cards handled too, each in its reader's language."""
    admin = await tg.admin().signed_in()
    mod = await tg.user("Mod").signed_in()
    await make_moderator(tg, admin, mod)
    async with tg.app.ctx.sessionmaker() as session, session.begin():  # the moderator reads Russian
        (await session.get_one(User, (await user_of(tg, mod)).id)).language = "ru"
    people = []
    for name in ("Alice", "Bob"):
        person = await tg.user(name).signed_in()
        await person.send("/join")
        people.append(person)
    alice, bob = people
    await bob.send("spam")
    await alice.press("Report", alice.last())
    await alice.press("Spam")
    admin_card = next(m for m in tg.tg.bot_messages(admin.id) if "Report #" in (m.text or ""))
    mod_card = next(m for m in tg.tg.bot_messages(mod.id) if "#" in (m.text or "") and m.buttons)
    await admin.press("⛔ Ban", admin_card)
    assert "banned" in admin.last_answer["text"]  # type: ignore[index]
    await tg.deliver()
    edited = tg.tg.find(mod.id, mod_card.message_id)
    assert edited is not None
    assert edited.edits == 1
    assert "Подтверждена" in (edited.text or ""), edited.text
    assert [b["text"] for b in edited.buttons] == ["🗑 Удалить сообщение"]
