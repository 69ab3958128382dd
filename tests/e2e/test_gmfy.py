"""GMFY end to end: the real app against the fake Bot API and the in-process fake GMFY."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from storage.models import GmfyEvent, User
from tests.e2e.harness import Harness, Person
from tests.fakes.gmfy import FakeGmfy, user_json


@pytest.fixture
async def gmfy() -> AsyncIterator[FakeGmfy]:
    fake = FakeGmfy()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def bot_settings(gmfy: FakeGmfy) -> dict[str, object]:
    return {
        "gmfy_url": gmfy.url,
        "gmfy_default_rating_id": "r1",
        "gmfy_default_challenge_id": "ch1",
        "gmfy_top_page_size": 3,
        "gmfy_cache_ttl_seconds": 30,
    }


async def account_id(tg: Harness, person: Person) -> str:
    async with tg.app.ctx.sessionmaker() as session:
        uid = await session.scalar(select(User.id).where(User.telegram_id == person.id))
    assert uid is not None
    return str(uid)


def rating(user_id: str, position: int, value: float) -> dict[str, object]:
    return {"userId": user_id, "ratingId": "r1", "name": "Activity", "value": value, "position": position}


async def test_sign_in_sends_a_registration_event(tg: Harness, gmfy: FakeGmfy) -> None:
    alice = await tg.user("Alice").signed_in()
    uid = await account_id(tg, alice)
    await tg.run_jobs()
    assert gmfy.counted == [{"userId": uid, "type": "registration", "idempotenceKey": f"registration-{uid}"}]
    assert len(gmfy.requests_to("v1/events/batch/")) == 1
    assert gmfy.requests_to("v1/events/batch/")[0].headers["x-api-key"] == "test-gmfy-key"
    await tg.run_jobs()
    assert len(gmfy.events) == 1  # nothing sent twice
    async with tg.app.ctx.sessionmaker() as session:
        statuses = list(await session.scalars(select(GmfyEvent.status)))
    assert statuses == ["sent"]


async def test_events_wait_while_gmfy_is_down(tg: Harness, gmfy: FakeGmfy) -> None:
    gmfy.down = 503
    alice = await tg.user("Alice").signed_in()
    assert alice.received("signed in")  # the user's action is not affected
    await tg.run_jobs()
    assert gmfy.counted == []
    gmfy.down = None
    tg.clock.advance(minutes=15)
    await tg.run_jobs()
    assert gmfy.counted_types() == ["registration"]


async def test_a_notification_reaches_the_chat_once(tg: Harness, gmfy: FakeGmfy) -> None:
    alice = await tg.user("Alice").signed_in()
    uid = await account_id(tg, alice)
    gmfy.keep_unread = True  # GMFY keeps returning it: the fingerprint must stop a second delivery
    gmfy.unread.append({"userId": uid, "clientId": "c", "message": "You earned the <Talker> badge"})
    mark = alice.mark()
    await tg.run_jobs()
    await tg.run_jobs()
    tg.clock.advance(minutes=5)
    await tg.run_jobs()
    assert alice.texts_since(mark) == ["🔔 You earned the <Talker> badge"]
    tg.clock.advance(minutes=11)  # past the window: the same text is news again
    await tg.run_jobs()
    assert len(alice.texts_since(mark)) == 2


async def test_notification_retried_when_telegram_fails(tg: Harness, gmfy: FakeGmfy) -> None:
    from tests.fakes.telegram import error

    alice = await tg.user("Alice").signed_in()
    uid = await account_id(tg, alice)
    gmfy.unread.append({"userId": uid, "clientId": "c", "message": "Level up!"})
    failing = [True]

    def flaky(method: str, params: dict[str, object]) -> dict[str, object] | None:
        if method == "sendMessage" and failing[0]:
            return error(500, "Internal Server Error")
        return None

    tg.tg.hooks.append(flaky)
    mark = alice.mark()
    await tg.run_jobs()
    assert alice.texts_since(mark) == []
    failing[0] = False
    tg.clock.advance(minutes=1)
    await tg.run_jobs()  # GMFY no longer returns it, but we kept it
    assert alice.texts_since(mark) == ["🔔 Level up!"]


async def test_profile_renders_gmfy_data(tg: Harness, gmfy: FakeGmfy) -> None:
    alice = await tg.user("Alice").signed_in()
    uid = await account_id(tg, alice)
    gmfy.users[uid] = user_json(
        uid,
        userRatings=[rating(uid, 4, 12.5)],
        userChallenges=[
            {"userId": uid, "challengeId": "ch1", "progress": 40, "name": "Talker", "passedSteps": [{"order": 0}]}
        ],
        userBadges=[{"userId": uid, "badgeId": "b1", "name": "First post", "count": 2}],
        userAccountBalances=[{"userId": uid, "resourceKey": "coins", "amount": 150}],
    )
    await alice.send("/profile")
    text = alice.last_text()
    for fragment in ("Activity: 12.5 — place 4", "Talker: 40%", "First post ×2", "coins: 150"):
        assert fragment in text, text
    assert gmfy.requests_to(f"v1/users/{uid}/")


async def test_profile_of_a_user_gmfy_does_not_know(tg: Harness, gmfy: FakeGmfy) -> None:
    alice = await tg.user("Alice").signed_in()
    await alice.send("/profile")
    assert "No achievements yet" in alice.last_text()


async def test_top_paged_with_my_place_marked(tg: Harness, gmfy: FakeGmfy) -> None:
    alice = await tg.user("Alice").signed_in()
    uid = await account_id(tg, alice)
    others = [rating(str(9000 + i), i, 100 - i) for i in (1, 2, 3, 5)]
    gmfy.ratings["r1"] = [*others, rating(uid, 4, 96)]
    gmfy.users[uid] = user_json(uid, userRatings=[rating(uid, 4, 96)])
    await alice.send("/top")
    first = alice.last()
    assert "Activity" in (first.text or "")
    assert "1. someone — 99" in (first.text or "")
    assert "(you)" not in (first.text or "")
    assert "Your place: 4 (96)" in (first.text or "")
    assert [b["text"] for b in first.buttons] == ["Next ▶"]
    await alice.press("Next ▶")
    second = alice.last()
    assert second.message_id == first.message_id  # edited in place
    assert "▶ 4." in (second.text or "")
    assert "(you)" in (second.text or "")
    assert [b["text"] for b in second.buttons] == ["◀ Back"]
    assert gmfy.requests_to("v1/ratings/r1/top/")[-1].query == {"offset": "3", "limit": "4", "sort": "ASC"}


async def test_top_for_an_unknown_rating(tg: Harness, gmfy: FakeGmfy) -> None:
    alice = await tg.user("Alice").signed_in()
    await alice.send("/top nope")
    assert "Nothing found for “nope”" in alice.last_text()


async def test_challenge(tg: Harness, gmfy: FakeGmfy) -> None:
    alice = await tg.user("Alice").signed_in()
    uid = await account_id(tg, alice)
    gmfy.challenges["ch1"] = [
        {"userId": "9001", "challengeId": "ch1", "progress": 90, "name": "Talker"},
        {"userId": uid, "challengeId": "ch1", "progress": 40, "name": "Talker", "passedSteps": [{}, {}]},
    ]
    await alice.send("/challenge")
    text = alice.last_text()
    assert "Talker" in text
    assert "1. someone — 90%" in text
    assert "▶ 2." in text
    assert "Your progress: 40%, 2 steps done" in text


async def test_reads_degrade_when_gmfy_answers_500(tg: Harness, gmfy: FakeGmfy) -> None:
    alice = await tg.user("Alice").signed_in()
    gmfy.down = 500
    for command in ("/profile", "/top", "/challenge"):
        await alice.send(command)
        assert "not available right now" in alice.last_text(), command
    gmfy.down = None
    await alice.send("/profile")
    assert "Your achievements" in alice.last_text()


async def test_answers_are_cached_briefly(tg: Harness, gmfy: FakeGmfy) -> None:
    alice = await tg.user("Alice").signed_in()
    uid = await account_id(tg, alice)
    gmfy.users[uid] = user_json(uid, userBadges=[{"name": "First post"}])
    await alice.send("/profile")
    await alice.send("/profile")
    assert len(gmfy.requests_to(f"v1/users/{uid}/")) == 1
    gmfy.down = 500  # the cached answer still serves within the TTL
    await alice.send("/profile")
    assert "First post" in alice.last_text()
    tg.clock.advance(seconds=31)
    await alice.send("/profile")
    assert "not available right now" in alice.last_text()


async def test_admin_status(tg: Harness, gmfy: FakeGmfy) -> None:
    admin = await tg.admin().signed_in()
    gmfy.down = 503
    await tg.run_jobs()
    await admin.send("/gmfy")
    text = admin.last_text()
    assert "API unreachable: HTTP 503" in text
    assert "1 pending" in text
    assert "Last error" in text
    gmfy.down = None
    tg.clock.advance(minutes=20)
    await tg.run_jobs()
    await admin.send("/gmfy")
    text = admin.last_text()
    assert "API version: 1.4.2" in text
    assert "0 pending, 0 failed" in text


async def test_gmfy_command_is_for_admins_only(tg: Harness, gmfy: FakeGmfy) -> None:
    alice = await tg.user("Alice").signed_in()
    await alice.send("/gmfy")
    assert "don't know that command" in alice.last_text()


async def test_commands_menu_lists_gmfy_commands(tg: Harness) -> None:
    menus = {lang: cmds for (scope, lang), cmds in tg.tg.commands.items()}
    assert {"profile", "top", "challenge"} <= {c["command"] for c in menus["ru"]}
    assert "gmfy" not in {c["command"] for c in menus["en"]}
    assert any(c["description"] == "Таблица лидеров" for c in menus["ru"])
