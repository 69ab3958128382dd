"""The panel in a real browser: the distribution's headless Chromium driven by Playwright, against the
bot's own HTTP server. From the link `/panel` sends to the overview, the complaints, a ban, the member
page showing it, and the bot's `/user` showing it too; the complaints list updating in place. No script
may break the page's CSP.

`.ci/run` installs Chromium (`apt-get install chromium`); without it the test is skipped and says so.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.server import create_web_app
from services.moderation import format_moment
from storage.models import Ban, User
from tests.e2e.harness import Harness
from tests.e2e.test_panel import LINK, report, user_of

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in CI containers
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)")


@pytest.fixture
async def site(tg: Harness) -> AsyncIterator[str]:
    app, _ = create_web_app(tg.app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_link_overview_complaints_ban_member_page_and_user_command(tg: Harness, site: str, browser: Any) -> None:
    admin = await tg.admin().signed_in()
    bob = await tg.user("Bob").signed_in()
    alice = await tg.user("Alice").signed_in()
    carol = await tg.user("Carol").signed_in()
    dave = await tg.user("Dave").signed_in()
    about_bob = await report(tg, alice, bob)
    about_dave = await report(tg, carol, dave)
    await admin.send("/panel")
    token = LINK.search(admin.last_text()).group(1)  # type: ignore[union-attr]

    page = await browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    await page.goto(f"{site}/panel/login?t={token}")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{site}/panel/")
    assert await page.locator("h1").inner_text() == "Overview"
    assert await page.locator("svg.chart").count() == 4
    assert "open complaints" in await page.locator(".figures").first.inner_text()
    await page.wait_for_function("() => window.htmx !== undefined")  # the vendored htmx ran under the CSP

    await page.get_by_role("link", name="Complaints").click()
    await page.wait_for_url(f"{site}/panel/complaints")
    complaint = page.locator(f"#report-{about_bob}")
    bob_row = await user_of(tg, bob)
    assert bob_row.display_name in await complaint.inner_text()
    await complaint.locator("select[name=duration]").select_option("1d")
    await complaint.get_by_role("button", name="Ban").click()
    await page.wait_for_url(re.compile(r".*/panel/complaints\?done=ban"))
    assert "Banned." in await page.locator("p.ok").inner_text()

    # The list updates in place: a complaint filed in the bot shows up without a reload, and a ban
    # duration already chosen on another complaint stays chosen.
    await page.locator(f"#duration-{about_dave}").select_option("7d")
    about_carol = await report(tg, alice, carol)
    # What the tab coming back into view does (htmx asks at once instead of within 10 s).
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    await page.locator(f"#report-{about_carol}").wait_for()
    assert "Open complaints: 2" in await page.locator("h1").inner_text()
    assert await page.locator(f"#duration-{about_dave}").input_value() == "7d"
    assert page.url.endswith("/panel/complaints?done=ban")  # no reload, no navigation

    await page.goto(f"{site}/panel/members?q=%23{bob_row.id}")
    await page.get_by_role("link", name=bob_row.display_name).click()
    await page.wait_for_url(f"{site}/panel/members/{bob_row.id}")
    ban_state = await page.locator("#ban-state").inner_text()
    assert ban_state.startswith("Banned until")

    async with tg.app.ctx.sessionmaker() as session:
        ban = await session.get_one(Ban, 1)
        assert ban.user_id == bob_row.id
        assert (await session.get_one(User, bob_row.id)).id == ban.user_id
    assert format_moment(ban.until) in ban_state
    await admin.send(f"/user #{bob_row.id}")
    # the bot's own card shows the panel's ban, in the admin's zone (a +7 916 phone: Moscow)
    assert "Banned until: tomorrow at 3:00 PM" in admin.last_text()

    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    await page.close()
