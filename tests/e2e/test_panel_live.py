"""The panel's live delivery figures count every instance, not only the one serving the page: sends per
second from the outgoing rows every worker marks sent, 429 answers from what each instance shares
(Redis when there is one, else the database). A second instance here is its rows and its own count."""

from __future__ import annotations

import os
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.app import create_rate_limit_sharer
from services.delivery import Outbox
from tests.e2e.harness import Harness
from tests.e2e.test_panel import signed_in_browser
from tests.fakes.telegram import error


@pytest.fixture(params=["database", "redis"])
def bot_settings(request: pytest.FixtureRequest) -> dict[str, object]:
    if request.param == "database":
        return {}
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set: no Redis to share the 429 count through (CI sets it)")
    return {"redis_url": url, "redis_prefix": f"test-{uuid.uuid4().hex[:12]}"}


def figures(body: str) -> dict[str, str]:
    return {label: value for value, label in re.findall(r"<b>([^<]*)</b><span>([^<]*)</span>", body)}


async def sent_by_another_worker(tg: Harness, count: int, seconds_ago: float) -> None:
    """Rows another instance's worker sent (its own claim token), `seconds_ago`."""
    now = tg.clock.now()
    async with tg.app.ctx.sessionmaker() as session, session.begin():
        for n in range(count):
            row = await Outbox(session, tg.clock).send_text(990_000 + n, "elsewhere")
            row.status, row.sent_at, row.message_id = "sent", now - timedelta(seconds=seconds_ago), n + 1
            row.claim_token = "other-instance"


async def test_live_figures_count_every_instance(tg: Harness, web: TestClient[Any, Any]) -> None:
    admin = await tg.admin().signed_in()
    bob = await tg.user("Bob").signed_in()
    carol = await tg.user("Carol").signed_in()
    browser = await signed_in_browser(web, admin)
    await tg.deliver()

    # This instance: two sends, and one 429 from Telegram before one of them went.
    storm = {"left": 1}

    def flood(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if method == "sendMessage" and storm["left"] > 0:
            storm["left"] -= 1
            return error(429, "Too Many Requests: retry after 1", retry_after=1)
        return None

    tg.tg.hooks.append(flood)
    async with tg.app.ctx.sessionmaker() as session, session.begin():
        outbox = Outbox(session, tg.clock)
        await outbox.send_text(bob.id, "one")
        await outbox.send_text(carol.id, "two")
    await tg.deliver()
    tg.clock.advance(seconds=1)
    await tg.deliver()
    assert tg.app.delivery is not None
    assert tg.app.delivery.stats.rate_limited == 1

    # Another instance: 2 of its 429s an hour and more ago, 5 since; 38 sends in the last 10 s, 100 before.
    other_count = {"n": 2}
    other = create_rate_limit_sharer(tg.app.ctx, lambda: other_count["n"])
    await other.share()
    tg.clock.advance(minutes=61)
    other_count["n"] += 5
    await other.share()
    await sent_by_another_worker(tg, 38, seconds_ago=4)
    await sent_by_another_worker(tg, 100, seconds_ago=40)

    status, body, _ = await browser.get("/panel/live")
    assert status == 200
    live = figures(body)
    # The two sends here were an hour ago now: only the other worker's 38 in the last 10 seconds.
    assert live["sends per second"] == "3.8"
    # 5 from the other instance within the hour; this one's 1 (not shared yet) is not lost either.
    assert live["429 answers in the last hour"] == "6"
    assert await tg.app.rate_limits.share() == 1
    status, body, _ = await browser.get("/panel/live")
    assert figures(body)["429 answers in the last hour"] == "6"  # shared now, counted once

    # This instance's own sends count too, the moment they are marked sent.
    async with tg.app.ctx.sessionmaker() as session, session.begin():
        outbox = Outbox(session, tg.clock)
        for n in range(12):
            await outbox.send_text(bob.id if n % 2 else carol.id, f"m{n}")
    await tg.deliver()
    status, body, _ = await browser.get("/panel/live")
    assert figures(body)["sends per second"] == "5.0"  # (38 + 12) / 10 s
    status, body, _ = await browser.get("/panel/")
    assert "429 answers in the last hour" in body
