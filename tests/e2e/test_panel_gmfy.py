"""A member page's GMFY part: the member's ratings and points from the GMFY API (the fake GMFY server),
asked for after the page came, with a short timeout; GMFY off, down or silent is said plainly."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web as aioweb
from aiohttp.test_utils import TestClient, TestServer

from tests.e2e.harness import Harness
from tests.e2e.test_panel import signed_in_browser, user_of
from tests.fakes.gmfy import FakeGmfy, user_json


@pytest.fixture
async def gmfy() -> AsyncIterator[FakeGmfy]:
    fake = FakeGmfy()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def bot_settings(request: pytest.FixtureRequest, gmfy: FakeGmfy) -> dict[str, object]:
    silent = "silent_gmfy" in request.fixturenames
    url = request.getfixturevalue("silent_gmfy")[0] if silent else gmfy.url
    return {"gmfy_url": url, "gmfy_cache_ttl_seconds": 0, "panel_gmfy_timeout_seconds": 0.5}


async def test_member_page_shows_gmfy_ratings_and_points(
    tg: Harness, web: TestClient[Any, Any], gmfy: FakeGmfy
) -> None:
    admin = await tg.admin().signed_in()
    bob = await tg.user("Bob").signed_in()
    bob_id = (await user_of(tg, bob)).id
    gmfy.users[str(bob_id)] = user_json(
        str(bob_id),
        userRatings=[
            {"userId": str(bob_id), "ratingId": "r1", "name": "Activity", "value": 42, "position": 3},
            {"userId": str(bob_id), "ratingId": "r2", "name": "Helpfulness", "value": 7},
        ],
        userAccountBalances=[{"userId": str(bob_id), "resourceKey": "points", "amount": 120}],
        userBadges=[{"userId": str(bob_id), "badgeId": "b1", "name": "First post", "count": 2}],
    )
    browser = await signed_in_browser(web, admin)
    status, body, _ = await browser.get(f"/panel/members/{bob_id}")
    assert status == 200
    assert f'hx-get="/panel/members/{bob_id}/gmfy"' in body  # the page does not wait for GMFY
    assert "Activity" not in body
    status, body, _ = await browser.get(f"/panel/members/{bob_id}/gmfy")
    assert status == 200
    assert "Activity: 42, place 3" in body
    assert "Helpfulness: 7" in body
    assert "points: 120" in body
    assert "2 badges" in body
    assert gmfy.requests_to(f"v1/users/{bob_id}/")

    # Nobody GMFY knows of yet: said so, not an error.
    carol = await tg.user("Carol").signed_in()
    status, body, _ = await browser.get(f"/panel/members/{(await user_of(tg, carol)).id}/gmfy")
    assert status == 200
    assert "No ratings or points yet" in body

    gmfy.down = 503
    status, body, _ = await browser.get(f"/panel/members/{bob_id}/gmfy")
    assert status == 200
    assert "not available right now" in body
    status, _, _ = await browser.get(f"/panel/members/{bob_id}")
    assert status == 200  # the member page itself never depends on GMFY


@pytest.fixture
async def silent_gmfy() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A GMFY that takes the request and answers only when told to."""
    answer = asyncio.Event()

    async def slow(request: aioweb.Request) -> aioweb.Response:
        await answer.wait()
        return aioweb.json_response(user_json("0"))

    app = aioweb.Application()
    app.router.add_route("*", "/{tail:.*}", slow)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/")), answer
    answer.set()
    await server.close()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_a_silent_gmfy_costs_the_panel_its_short_timeout_only(
    tg: Harness, web: TestClient[Any, Any], silent_gmfy: tuple[str, asyncio.Event]
) -> None:
    admin = await tg.admin().signed_in()
    bob = await tg.user("Bob").signed_in()
    browser = await signed_in_browser(web, admin)
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, body, _ = await browser.get(f"/panel/members/{(await user_of(tg, bob)).id}/gmfy")
    assert status == 200
    assert "not available right now" in body
    assert loop.time() - started < 5  # PANEL_GMFY_TIMEOUT_SECONDS (0.5 here), not GMFY_TIMEOUT_SECONDS (10)


@pytest.mark.parametrize("bot_settings", [{"gmfy_api_key": None}])
async def test_member_page_says_when_gmfy_is_off(tg: Harness, web: TestClient[Any, Any]) -> None:
    admin = await tg.admin().signed_in()
    bob = await tg.user("Bob").signed_in()
    browser = await signed_in_browser(web, admin)
    status, body, _ = await browser.get(f"/panel/members/{(await user_of(tg, bob)).id}/gmfy")
    assert status == 200
    assert re.search(r"Gamification is not enabled", body)
