"""Linking an external account with OAuth2 + PKCE, end to end against a fake provider, with the
attacks of issue 23: a flow finished in someone else's browser, replayed links and buttons, a
takeover without a "yes", a provider answering garbage."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from aiohttp.test_utils import TestClient
from cryptography.fernet import Fernet
from sqlalchemy import select

from handlers.oauth import OAuthConfirm
from services.oauth import TokenKeys
from storage.models import OAuthLink, User
from tests.e2e.harness import Harness, Person
from tests.fakes.oauth import CLIENT_ID, CLIENT_SECRET, FakeProvider

SITE = "https://bot.example.test"
CALLBACK = f"{SITE}/oauth/callback"
KEY = Fernet.generate_key().decode()


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
        "oauth_token_key": KEY,
    }


class Browser:
    """One person's web browser: its own cookies for the bot's site, and a session at the provider."""

    def __init__(self, web: TestClient[Any, Any]) -> None:
        self.web = web
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[SimpleCookie] = []

    async def open(self, url: str) -> tuple[int, str, str | None]:
        """GET a URL without following redirects: (status, body, Location)."""
        if url.startswith(SITE) or url.startswith("/"):
            path = url.removeprefix(SITE)
            header = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            response = await self.web.get(path, allow_redirects=False, headers={"Cookie": header} if header else {})
            for raw in response.headers.getall("Set-Cookie", []):
                jar: SimpleCookie = SimpleCookie()
                jar.load(raw)
                self.set_cookies.append(jar)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return response.status, await response.text(), response.headers.get("Location")
        async with httpx.AsyncClient() as client:  # the provider, where the person logs in
            answer = await client.get(url, follow_redirects=False)
        return answer.status_code, answer.text, answer.headers.get("location")

    async def to_callback(self, url: str) -> str:
        """Open a link and follow the redirects up to the callback: its path and query (not opened yet)."""
        for _ in range(5):
            if url.startswith(CALLBACK):
                location = urlparse(url)
                return f"{location.path}?{location.query}"
            status, body, location_header = await self.open(url)
            assert status == 302, (status, body)
            assert location_header is not None
            url = location_header
        raise AssertionError("too many redirects")

    async def finish(self, callback: str) -> tuple[int, str]:
        status, body, _ = await self.open(callback)
        return status, body


async def link_button(person: Person) -> str:
    await person.send("/link")
    return str(person.last().buttons[0]["url"])


async def authorize(person: Person, browser: Browser) -> str:
    """/link, then the button opened in `browser` and the login at the provider: the callback to open."""
    return await browser.to_callback(await link_button(person))


async def finish_in_telegram(person: Person, body: str) -> None:
    """The callback page's "Finish in Telegram" link (t.me/<bot>?start=oc_...), opened in `person`'s Telegram."""
    found = re.search(r"start=(oc_[A-Za-z0-9_-]+)", body)
    assert found is not None, body
    await person.send(f"/start {found.group(1)}")


async def link_row(tg: Harness, person: Person) -> OAuthLink | None:
    async with tg.app.ctx.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == person.id))
        assert user is not None
        return await session.get(OAuthLink, user.id)


async def account_of(tg: Harness, person: Person) -> User | None:
    async with tg.app.ctx.sessionmaker() as session:
        return await session.scalar(select(User).where(User.telegram_id == person.id))


async def test_link_signs_in_with_the_verified_phone_after_a_yes(
    tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]
) -> None:
    alice = tg.user("Alice")  # not signed in: linking is a third way to prove who she is
    provider.claims = {
        "sub": "u-1",
        "name": "Alice Liddell",
        "phone_number": "+79161234567",
        "phone_number_verified": True,
    }
    button = await link_button(alice)
    assert button.startswith(f"{SITE}/oauth/start?t=")  # our own server first, not the provider
    browser = Browser(web)
    status, _, authorize_url = await browser.open(button)
    assert status == 302
    assert authorize_url is not None
    query = parse_qs(urlparse(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 43
    (cookie,) = browser.set_cookies
    (name,) = cookie.keys()
    morsel = cookie[name]
    assert name.startswith("__Host-")  # https: only this host can set it
    assert morsel["httponly"]
    assert morsel["secure"]
    assert morsel["samesite"] == "Lax"
    assert morsel["path"] == "/"
    callback = await browser.to_callback(authorize_url)

    status, body = await browser.finish(callback)
    assert status == 200
    assert "Finish in Telegram" in body
    await tg.deliver()
    assert not alice.received("Your account is linked")  # only once she comes back from this browser
    await finish_in_telegram(alice, body)
    await tg.deliver()
    assert alice.received("Your account is linked (phone +7 *** *** 45 67). Name: Alice Liddell.")
    assert "Sign in to the chat with it?" in alice.last_text()
    account = await account_of(tg, alice)
    assert account is not None
    assert account.phone is None
    verifier = provider.token_requests[-1]["code_verifier"]
    assert 43 <= len(verifier) <= 128
    row = await link_row(tg, alice)
    assert row is not None
    assert row.subject == "u-1"
    assert row.access_token not in provider.access  # stored encrypted
    assert row.pending_phone is not None
    assert "4567" not in row.pending_phone

    await alice.press("Yes")
    await tg.deliver()
    assert any("Signed in with the verified phone" in text for text in alice.texts())
    await alice.send("/me")
    assert "+7 *** *** 45 67" in alice.last_text()

    status, body = await browser.finish(callback)  # the same state again, in the same browser
    assert status == 400
    assert "already used" in body


async def test_attackers_link_finished_in_the_victims_browser_changes_nothing(
    tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]
) -> None:
    """Mallory starts linking and gets the victim to finish the login at the provider: the victim's
    provider account (and verified phone) must not land on Mallory's Telegram account."""
    victim = await tg.user("Vera").signed_in("+79160000001")
    mallory = tg.user("Mallory")
    provider.claims = {"sub": "vera", "name": "Vera", "phone_number": "+79160000001", "phone_number_verified": True}
    attackers_browser = Browser(web)
    status, _, authorize_url = await attackers_browser.open(await link_button(mallory))
    assert status == 302
    assert authorize_url is not None
    before = mallory.mark()

    victims_browser = Browser(web)  # no cookie of Mallory's flow
    callback = await victims_browser.to_callback(authorize_url)
    status, body = await victims_browser.finish(callback)
    assert status == 400
    assert "different browser" in body

    other_browser = Browser(web)  # a browser with a cookie of a flow of its own (Vera linking herself)
    await victims_browser.open(await link_button(victim))
    other_browser.cookies = dict(victims_browser.cookies)
    status, body = await other_browser.finish(callback)
    assert status == 400
    assert "another browser" in body

    await tg.deliver()
    assert await link_row(tg, mallory) is None
    account = await account_of(tg, mallory)
    assert account is not None
    assert account.phone is None
    assert mallory.texts_since(before) == []
    assert provider.token_requests == []  # the victim's code was never even exchanged
    vera = await account_of(tg, victim)
    assert vera is not None
    assert vera.phone == "+79160000001"


async def test_start_link_works_once_briefly_and_only_signed(
    tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]
) -> None:
    alice = tg.user("Alice")
    provider.claims = {"sub": "a"}
    button = await link_button(alice)
    first, replay = Browser(web), Browser(web)
    status, _, _ = await first.open(button)
    assert status == 302
    status, body, _ = await replay.open(button)  # the same token again, in another browser
    assert status == 400
    assert "already used" in body
    assert replay.cookies == {}

    token = parse_qs(urlparse(button).query)["t"][0]
    state, expires, signature = token.split(".")
    forged = f"{SITE}/oauth/start?t={state}.{int(expires) + 3600}.{signature}"  # a longer life, same signature
    status, _, _ = await Browser(web).open(forged)
    assert status == 400
    for garbage in ("", "x", f"{state}.{expires}.ü", "..", f"{state}.-1.{signature}"):
        status, _, _ = await Browser(web).open(f"{SITE}/oauth/start?t={garbage}")
        assert status == 400, garbage

    late = await link_button(alice)
    tg.clock.advance(minutes=11)
    status, _, _ = await Browser(web).open(late)
    assert status == 400

    status, _, _ = await first.open(button)  # nor can the browser that started it start it again
    assert status == 400
    assert await link_row(tg, alice) is None


async def test_expired_flow_and_pkce_mismatch_refused(
    tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]
) -> None:
    bob = await tg.user("Bob").signed_in()
    provider.claims = {"sub": "u-2", "name": "Bob"}
    browser = Browser(web)
    old = await authorize(bob, browser)
    tg.clock.advance(minutes=16)
    status, _ = await browser.finish(old)
    assert status == 400
    assert await link_row(tg, bob) is None

    first_browser, second_browser = Browser(web), Browser(web)
    first, second = await authorize(bob, first_browser), await authorize(bob, second_browser)
    state_of_first = parse_qs(urlparse(first).query)["state"][0]
    code_of_second = parse_qs(urlparse(second).query)["code"][0]
    status, _ = await first_browser.finish(f"/oauth/callback?state={state_of_first}&code={code_of_second}")
    assert status == 502  # the provider recomputed the challenge from our verifier: no match
    assert provider.token_requests[-1]["code_verifier"]
    await tg.deliver()
    assert "could not be linked" in bob.last_text()
    assert await link_row(tg, bob) is None


async def test_provider_down_changes_nothing(tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]) -> None:
    carol = await tg.user("Carol").signed_in()
    browser = Browser(web)
    callback = await authorize(carol, browser)
    provider.down = 503
    status, _ = await browser.finish(callback)
    assert status == 502
    await tg.deliver()
    assert "could not be linked" in carol.last_text()
    assert await link_row(tg, carol) is None


async def test_userinfo_that_is_not_json_gives_a_clear_page_and_changes_nothing(
    tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]
) -> None:
    carol = await tg.user("Carol").signed_in()
    provider.userinfo_text = "<html><body>Service temporarily unavailable</body></html>"
    browser = Browser(web)
    status, body = await browser.finish(await authorize(carol, browser))
    assert status == 502
    assert "could not be linked" in body
    await tg.deliver()
    assert "could not be linked" in carol.last_text()
    assert await link_row(tg, carol) is None


async def test_takeover_through_oauth_waits_for_a_yes(
    tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]
) -> None:
    """The provider vouches for Olga's phone on Mallory's Telegram account (Mallory got Olga to open
    her /link button, or it is Olga's own new account): nothing moves until that account says yes."""
    olga = await tg.user("Olga").signed_in("+79160000002")
    mallory = tg.user("Mallory")
    eve = await tg.user("Eve").signed_in()
    provider.claims = {"sub": "olga", "name": "Olga", "phone_number": "+79160000002", "phone_number_verified": True}
    browser = Browser(web)
    status, body = await browser.finish(await authorize(mallory, browser))
    assert status == 200  # today: a 500, the notice went to a telegram_id that was already gone
    await finish_in_telegram(mallory, body)
    await tg.deliver()
    ask = mallory.last()
    assert "already has an account in the chat" in (ask.text or "")
    assert await _phone_of(tg, olga) == "+79160000002"
    assert await _phone_of(tg, mallory) is None

    yes = next(b["callback_data"] for b in ask.buttons if "Yes" in b["text"])
    nonce = OAuthConfirm.unpack(yes).nonce
    await eve.press_data(yes, eve.last())  # someone else's button, forged into Eve's chat
    assert eve.last_answer is not None
    assert "expired" in eve.last_answer["text"]
    other = nonce[:-1] + ("B" if nonce.endswith("A") else "A")  # always another nonce
    await eve.press_data(OAuthConfirm(nonce=other, yes=True).pack(), eve.last())
    await mallory.press_data(OAuthConfirm(nonce="ü" * 5, yes=True).pack(), ask)  # not even ASCII
    assert mallory.last_answer is not None
    assert "expired" in mallory.last_answer["text"]
    await mallory.press_data(OAuthConfirm(nonce="x" * 22, yes=True).pack(), ask)  # a guessed nonce
    assert mallory.last_answer is not None
    assert "expired" in mallory.last_answer["text"]

    await mallory.press("No", ask)
    await tg.deliver()
    assert "phone was not used" in mallory.last_text()
    await mallory.press("Yes", ask)  # after the no, the yes is dead
    assert mallory.last_answer is not None
    assert "expired" in mallory.last_answer["text"]
    await tg.deliver()
    assert await _phone_of(tg, olga) == "+79160000002"
    assert await _phone_of(tg, mallory) is None
    assert not olga.received("another Telegram account")


async def test_takeover_through_oauth_with_a_yes_moves_the_account(
    tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]
) -> None:
    olga = await tg.user("Olga").signed_in("+79160000003")
    new_olga = tg.user("Olga's new account")
    provider.claims = {"sub": "olga", "name": "Olga", "phone_number": "+79160000003", "phone_number_verified": True}
    browser = Browser(web)
    status, body = await browser.finish(await authorize(new_olga, browser))
    assert status == 200
    await finish_in_telegram(new_olga, body)
    await tg.deliver()
    ask = new_olga.last()

    tg.clock.advance(minutes=16)
    await new_olga.press("Yes", ask)  # too late
    assert new_olga.last_answer is not None
    assert "expired" in new_olga.last_answer["text"]
    assert await _phone_of(tg, new_olga) is None

    status, body = await browser.finish(await authorize(new_olga, browser))
    assert status == 200
    await finish_in_telegram(new_olga, body)
    await tg.deliver()
    ask = new_olga.last()
    await new_olga.press("Yes", ask)
    await tg.deliver()
    # A provider's phone never moves an account off its Telegram account by itself: Olga is asked.
    assert "asked that account to allow this sign-in" in new_olga.last_text()
    assert await _phone_of(tg, new_olga) is None
    assert await _phone_of(tg, olga) == "+79160000003"
    await olga.press("Allow", olga.last())
    await tg.deliver()
    assert "signed in" in new_olga.last_text().lower()
    assert await _phone_of(tg, new_olga) == "+79160000003"
    assert await account_of(tg, olga) is None or await _phone_of(tg, olga) is None

    mark = new_olga.mark()
    await new_olga.press("Yes", ask)  # pressed twice
    assert new_olga.last_answer is not None
    assert "expired" in new_olga.last_answer["text"]
    await tg.deliver()
    assert new_olga.texts_since(mark) == []


async def test_forwarded_start_link_cannot_take_the_victims_account(
    tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]
) -> None:
    """The attacker runs /link and forwards the start link unopened: the victim's browser gets the
    cookie and finishes with her verified phone. The "Yes" never reaches the attacker (only the
    browser has the way to it), so her own Telegram account is never even asked."""
    victim = await tg.user("Vera").signed_in("+79160000007")
    attacker = tg.user("Mallory")
    provider.claims = {"sub": "vera", "name": "Vera", "phone_number": "+79160000007", "phone_number_verified": True}
    victims_browser = Browser(web)
    forwarded = await link_button(attacker)
    before, asked = attacker.mark(), victim.mark()
    status, body = await victims_browser.finish(await victims_browser.to_callback(forwarded))
    assert status == 200
    await tg.deliver()
    assert not any(m.buttons for m in attacker.since(before))  # no "Yes" to press
    assert not any("already has an account" in text for text in attacker.texts_since(before))
    await finish_in_telegram(victim, body)  # the victim taps the page's link in her own Telegram
    await tg.deliver()
    assert "not for this Telegram account" in victim.last_text()
    assert not any("Someone is signing in with your phone" in text for text in victim.texts_since(asked))
    assert await _phone_of(tg, attacker) is None
    assert await _phone_of(tg, victim) == "+79160000007"
    await victim.send("/me")
    assert "+7" in victim.last_text()  # still signed in, same account


async def _phone_of(tg: Harness, person: Person) -> str | None:
    account = await account_of(tg, person)
    return account.phone if account is not None else None


async def test_tokens_refreshed_then_a_refused_refresh_unlinks(
    tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]
) -> None:
    dave = await tg.user("Dave").signed_in()
    provider.claims = {"sub": "u-4", "name": "Dave"}
    provider.expires_in = 600
    browser = Browser(web)
    await browser.finish(await authorize(dave, browser))
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
    browser = Browser(web)
    _, body = await browser.finish(await authorize(erin, browser))
    await finish_in_telegram(erin, body)
    await tg.deliver()
    assert "Your account is linked" in erin.last_text()
    await erin.send("/unlink")
    assert "unlinked" in erin.last_text()
    assert len(provider.revoked) == 2  # refresh and access token
    assert await link_row(tg, erin) is None
    await erin.send("/unlink")
    assert "No external account is linked" in erin.last_text()


async def test_rotated_key_still_reads_tokens_stored_with_the_old_one(
    tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]
) -> None:
    frank = await tg.user("Frank").signed_in()
    provider.claims = {"sub": "u-6"}
    provider.expires_in = 600
    browser = Browser(web)
    await browser.finish(await authorize(frank, browser))
    stored = await link_row(tg, frank)
    assert stored is not None
    assert stored.refresh_token is not None

    new = Fernet.generate_key().decode()
    tg.app.ctx.oauth_keys = TokenKeys.parse(f"{new},{KEY}")  # what a restart with OAUTH_TOKEN_KEY=NEW,OLD gives
    tg.clock.advance(minutes=6)
    await tg.run_jobs()  # the refresh reads the old refresh token...
    refreshed = await link_row(tg, frank)
    assert refreshed is not None
    assert refreshed.refreshed_at is not None
    assert refreshed.refresh_token is not None
    assert TokenKeys.parse(new).cipher().decrypt(refreshed.refresh_token.encode())  # ...and stores with the new key
    await frank.send("/unlink")
    assert len(provider.revoked) == 2  # both tokens read for the revocation


async def test_forwarded_start_link_gives_the_attacker_nothing_of_the_victims(
    tg: Harness, provider: FakeProvider, web: TestClient[Any, Any]
) -> None:
    """Mallory runs /link and sends her button's link, unopened, to Vera, who is not in the chat. Vera's
    browser opens it first, so the cookie is Vera's, and Vera logs in at the provider. The flow still
    belongs to Mallory's Telegram account: Mallory must learn nothing of Vera's provider account (her
    name, her phone, whether it has an account here), and must not sign in with Vera's phone."""
    vera = tg.user("Vera")
    mallory = tg.user("Mallory")
    provider.claims = {
        "sub": "vera",
        "name": "Vera Victimova",
        "phone_number": "+79160000008",
        "phone_number_verified": True,
    }
    forwarded = await link_button(mallory)
    before = mallory.mark()
    victims_browser = Browser(web)
    status, body = await victims_browser.finish(await victims_browser.to_callback(forwarded))
    assert status == 200
    await tg.deliver()
    seen = "\n".join(mallory.texts_since(before))
    leaked = "Victimova" in seen  # checked below, after the Yes
    leaked = leaked or "00 08" in seen
    for message in [m for m in mallory.messages if m.buttons]:  # any "Yes" Mallory got: she presses it
        for button in message.buttons:
            if "Yes" in str(button.get("text")):
                await mallory.press_data(str(button["callback_data"]), message)
    await tg.deliver()
    assert await _phone_of(tg, mallory) is None  # today: signed in with Vera's phone after her own "Yes"
    assert not leaked  # today: "Name: Vera Victimova", "+7 *** *** 00 08"

    finish = re.search(r"start=(oc_[A-Za-z0-9_-]+)", body)
    if finish is not None:  # Vera taps the page's "finish in Telegram" in her own Telegram
        await vera.send(f"/start {finish.group(1)}")
        await tg.deliver()
        assert "not for this Telegram account" in vera.last_text()
    assert await _phone_of(tg, vera) is None
    assert await _phone_of(tg, mallory) is None
    assert "Victimova" not in "\n".join(mallory.texts_since(before))
