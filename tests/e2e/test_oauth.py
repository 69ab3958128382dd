"""Linking an external account with OAuth2 + PKCE, end to end against a fake provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.server import create_web_app
from storage.models import OAuthLink, User
from tests.e2e.harness import Harness, Person
from tests.fakes.oauth import CLIENT_ID, CLIENT_SECRET, FakeProvider

CALLBACK = "https://bot.example.test/oauth/callback"


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    fake = FakeProvider()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def bot_settings(provider: FakeProvider) -> dict[str, object]:
    return {
        "oauth_authorize_url": f"{provider.url}/authorize",
        "oauth_token_url": f"{provider.url}/token",
        "oauth_userinfo_url": f"{provider.url}/userinfo",
        "oauth_revoke_url": f"{provider.url}/revoke",
        "oauth_client_id": CLIENT_ID,
        "oauth_client_secret": CLIENT_SECRET,
        "oauth_redirect_url": CALLBACK,
        "oauth_token_key": "a long secret that only this test knows",
    }


@pytest.fixture
async def web(tg: Harness) -> AsyncIterator[TestClient[Any, Any]]:
    app, _ = create_web_app(tg.app)
    async with TestClient(TestServer(app)) as client:
        yield client


async def authorize(person: Person) -> str:
    """/link, then what the browser does at the provider: returns the callback path with code + state."""
    await person.send("/link")
    button = person.last().buttons[0]
    async with httpx.AsyncClient() as browser:
        redirect = await browser.get(button["url"], follow_redirects=False)
    assert redirect.status_code == 302
    location = urlparse(redirect.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    return f"{location.path}?{location.query}"


async def link_row(tg: Harness, person: Person) -> OAuthLink | None:
    async with tg.app.ctx.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == person.id))
        assert user is not None
        return await session.get(OAuthLink, user.id)


async def test_link_signs_in_with_the_verified_phone(
    tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]
) -> None:
    alice = tg.user("Alice")  # not signed in: linking is a third way to prove who she is
    provider.claims = {
        "sub": "u-1",
        "name": "Alice Liddell",
        "phone_number": "+79161234567",
        "phone_number_verified": True,
    }
    await alice.send("/link")
    url = alice.last().buttons[0]["url"]
    query = parse_qs(urlparse(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 43
    callback = await authorize(alice)

    page = await web.get(callback)
    assert page.status == 200
    assert "Linked" in await page.text()
    await tg.deliver()
    assert alice.received("Your account is linked (phone +7 *** *** 45 67). Name: Alice Liddell.")
    assert any("Signed in with the verified phone" in text for text in alice.texts())
    verifier = provider.token_requests[-1]["code_verifier"]
    assert 43 <= len(verifier) <= 128
    row = await link_row(tg, alice)
    assert row is not None
    assert row.subject == "u-1"
    assert row.access_token not in provider.access  # stored encrypted
    await alice.send("/me")
    assert "+7 *** *** 45 67" in alice.last_text()

    replay = await web.get(callback)  # the same state again
    assert replay.status == 400
    assert "already used" in await replay.text()


async def test_expired_verifier_and_pkce_mismatch_refused(
    tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]
) -> None:
    bob = await tg.user("Bob").signed_in()
    provider.claims = {"sub": "u-2", "name": "Bob"}
    old = await authorize(bob)
    tg.clock.advance(hours=25)
    page = await web.get(old)
    assert page.status == 400
    assert await link_row(tg, bob) is None

    first, second = await authorize(bob), await authorize(bob)
    state_of_first = parse_qs(urlparse(first).query)["state"][0]
    code_of_second = parse_qs(urlparse(second).query)["code"][0]
    mixed = await web.get(f"/oauth/callback?state={state_of_first}&code={code_of_second}")
    assert mixed.status == 502  # the provider recomputed the challenge from our verifier: no match
    assert provider.token_requests[-1]["code_verifier"]
    await tg.deliver()
    assert "could not be linked" in bob.last_text()
    assert await link_row(tg, bob) is None


async def test_provider_down_changes_nothing(tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]) -> None:
    carol = await tg.user("Carol").signed_in()
    callback = await authorize(carol)
    provider.down = 503
    page = await web.get(callback)
    assert page.status == 502
    await tg.deliver()
    assert "could not be linked" in carol.last_text()
    assert await link_row(tg, carol) is None


async def test_tokens_refreshed_then_a_refused_refresh_unlinks(
    tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]
) -> None:
    dave = await tg.user("Dave").signed_in()
    provider.claims = {"sub": "u-4", "name": "Dave"}
    provider.expires_in = 600
    await web.get(await authorize(dave))
    before = await link_row(tg, dave)
    assert before is not None
    tg.clock.advance(minutes=6)  # within 5 minutes of expiry
    await tg.run_jobs()
    after = await link_row(tg, dave)
    assert after is not None
    assert after.refreshed_at is not None
    assert after.access_token != before.access_token
    assert provider.token_requests[-1]["grant_type"] == "refresh_token"

    provider.revoke_all()
    tg.clock.advance(minutes=6)
    await tg.run_jobs()
    assert await link_row(tg, dave) is None
    assert "was unlinked" in dave.last_text()


async def test_unlink_revokes_and_deletes(tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]) -> None:
    erin = await tg.user("Erin").signed_in()
    provider.claims = {"sub": "u-5"}
    await web.get(await authorize(erin))
    await tg.deliver()
    assert "Your account is linked" in erin.last_text()
    await erin.send("/unlink")
    assert "unlinked" in erin.last_text()
    assert len(provider.revoked) == 2  # refresh and access token
    assert await link_row(tg, erin) is None
    await erin.send("/unlink")
    assert "No external account is linked" in erin.last_text()
