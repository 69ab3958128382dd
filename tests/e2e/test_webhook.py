"""The webhook as an attacker (or a flaky network) uses it: the same update delivered twice, to one
instance or two sharing the database; more updates at once than the bot handles; garbage with the
right secret; the private endpoints asked on the public port; one user flooding two instances."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import BotApp
from bot.seen_updates import RETRIED_FAILURES
from bot.server import WebhookHandler, create_metrics_app, create_web_app
from services.clock import FakeClock
from storage.models import Member, Room, User
from tests.conftest import DbTarget
from tests.e2e.harness import make_settings
from tests.fakes.telegram import FakeTelegram

SECRET = "webhook-tests-secret-of-forty-characters"
HOOK = "https://bot.example.test/telegram/hook"
PATH = "/telegram/hook"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


@dataclass
class Instance:
    app: BotApp
    http: TestClient[Any, Any]
    webhook: WebhookHandler

    async def post(self, update: dict[str, Any]) -> int:
        return (await self.http.post(PATH, json=update, headers=HEADERS)).status

    async def idle(self) -> None:
        """Wait for the updates this instance accepted (they are handled after the answer)."""
        while tasks := set(self.webhook._background_feed_update_tasks):
            await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class Cluster:
    fake: FakeTelegram
    db: DbTarget
    clock: FakeClock
    instances: list[Instance]
    message_ids: itertools.count[int]
    gates: list[asyncio.Event]

    async def start(self, **overrides: Any) -> Instance:
        settings = make_settings(
            self.fake.url, self.db.url, self.db.schema, webhook_url=HOOK, webhook_secret=SECRET, **overrides
        )
        app = await BotApp.create(settings, clock=self.clock)
        web_app, webhook = create_web_app(app)
        assert webhook is not None
        http = TestClient(TestServer(web_app))
        await http.start_server()
        instance = Instance(app, http, webhook)
        self.instances.append(instance)
        return instance

    def update(self, user_id: int, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self.message_ids),
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"},
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"update_id": self.fake.new_update_id(), "message": message}

    async def member(self, telegram_id: int) -> int:
        """A signed-in member, written straight to the database."""
        now = datetime.now(UTC)
        app = self.instances[0].app
        async with app.ctx.sessionmaker() as session, session.begin():
            user = User(
                telegram_id=telegram_id,
                anon_name=f"M{telegram_id}",
                phone=f"+1202{telegram_id % 10_000_000:07d}",
                signed_in_at=now,
                is_active=True,
                created_at=now,
            )
            session.add(user)
            await session.flush()
            session.add(Member(user_id=user.id, in_common=True, paused=False, target_kind="common"))
        return telegram_id

    async def rooms(self) -> int:
        async with self.instances[0].app.ctx.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(Room)) or 0)

    async def idle(self) -> None:
        for instance in self.instances:
            await instance.idle()

    def answers(self, chat_id: int) -> list[str]:
        return [c.params.get("text", "") for c in self.fake.calls_to("sendMessage") if c.params["chat_id"] == chat_id]


@pytest.fixture
async def cluster(db: DbTarget) -> AsyncIterator[Cluster]:
    fake = FakeTelegram()
    await fake.start()
    state = Cluster(fake, db, FakeClock(), [], itertools.count(1), [])
    try:
        yield state
    finally:
        for gate in state.gates:  # a failed test leaves no send held
            gate.set()
        for instance in state.instances:
            await instance.http.close()
            await instance.webhook.close()
            await instance.app.close()
        await fake.stop()


def shared_redis() -> dict[str, Any]:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set: this test needs Redis (CI sets it)")
    return {"redis_url": url, "redis_prefix": f"test-{uuid.uuid4().hex[:12]}"}


def hold_sends(cluster: Cluster) -> tuple[asyncio.Event, list[int]]:
    """Telegram slow to answer: sendMessage waits until the event is set. Returns the event and a
    list whose second item is the most sends ever waiting at once."""
    fake = cluster.fake
    gate = asyncio.Event()
    cluster.gates.append(gate)
    waiting = [0, 0]  # now, most
    original: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]] = fake.api_sendMessage

    async def slow(params: dict[str, Any]) -> dict[str, Any]:
        waiting[0] += 1
        waiting[1] = max(waiting)
        try:
            await gate.wait()
        finally:
            waiting[0] -= 1
        return await original(params)

    fake.api_sendMessage = slow  # type: ignore[method-assign]
    return gate, waiting


STORES = ["database", "redis"]


@pytest.mark.parametrize("store", STORES)
async def test_the_same_update_posted_twice_creates_one_room(cluster: Cluster, store: str) -> None:
    extra = shared_redis() if store == "redis" else {}
    one = await cluster.start(**extra)
    alice = await cluster.member(900_001)
    update = cluster.update(alice, "/newroom Book club")
    assert await one.post(update) == 200
    await one.idle()
    assert await one.post(update) == 200  # Telegram did not see our answer and sends it again
    await one.idle()
    assert await cluster.rooms() == 1
    assert sum("is ready" in text for text in cluster.answers(alice)) == 1
    assert ("purge_webhook_updates" in one.app.scheduler.jobs) == (store == "database")  # Redis keys expire


@pytest.mark.parametrize("store", STORES)
async def test_the_same_update_at_two_instances_at_once_is_handled_once(cluster: Cluster, store: str) -> None:
    extra = shared_redis() if store == "redis" else {}
    one, two = await cluster.start(**extra), await cluster.start(**extra)
    alice = await cluster.member(900_002)
    gate, _ = hold_sends(cluster)
    update = cluster.update(alice, "/newroom Chess")
    first = asyncio.create_task(one.post(update))  # answered once handled: held by the slow send
    await cluster.fake.wait_until(lambda: bool(one.webhook._background_feed_update_tasks), what="the first copy")
    second = await two.post(update)  # while the first copy is still being handled
    assert second == 503  # the copy is refused for now, not dropped: Telegram retries
    gate.set()
    assert await first == 200
    await cluster.idle()
    assert await two.post(update) == 200  # the retry, once the first copy is done: dropped
    await cluster.idle()
    assert await cluster.rooms() == 1
    assert sum("is ready" in text for text in cluster.answers(alice)) == 1


async def test_a_copy_whose_handling_failed_is_handled_when_sent_again(cluster: Cluster) -> None:
    one = await cluster.start()
    alice = await cluster.member(900_003)
    feed = one.app.dp.feed_update
    calls = 0

    async def crash_once(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the database went away mid-update")
        return await feed(*args, **kwargs)

    one.app.dp.feed_update = crash_once  # type: ignore[method-assign]
    update = cluster.update(alice, "/newroom Poetry")
    assert await one.post(update) == 500  # not handled: Telegram delivers it again
    await one.idle()
    assert await cluster.rooms() == 0
    assert await one.post(update) == 200  # delivered again: not taken for a duplicate of a done one
    await one.idle()
    assert await cluster.rooms() == 1


async def test_updates_past_the_bound_get_503_and_none_is_lost_after_retries(cluster: Cluster) -> None:
    bound = 4
    one = await cluster.start(updates_in_flight=bound, webhook_busy_wait_seconds=0)
    gate, waiting = hold_sends(cluster)
    users = [700_100 + n for n in range(3 * bound)]
    updates = {user: cluster.update(user, "/start") for user in users}
    posts = [asyncio.create_task(one.post(updates[user])) for user in users]  # the taken ones wait for the sends
    await cluster.fake.wait_until(lambda: sum(p.done() for p in posts) == 2 * bound, what="the refusals")
    assert [p.result() for p in posts if p.done()] == [503] * (2 * bound)
    gate.set()
    statuses = await asyncio.gather(*posts)
    assert sorted(statuses) == [200] * bound + [503] * (2 * bound)
    refused = [user for user, status in zip(users, statuses, strict=True) if status == 503]
    for _ in range(10):  # Telegram retries what got 503, later
        await one.idle()
        if not refused:
            break
        statuses = await asyncio.gather(*(one.post(updates[user]) for user in refused))
        refused = [user for user, status in zip(refused, statuses, strict=True) if status == 503]
    await one.idle()
    assert refused == []
    assert waiting[1] <= bound  # never more handled at once than the bound
    assert {user: len(cluster.answers(user)) for user in users} == dict.fromkeys(users, 1)


async def test_an_update_waits_briefly_for_a_slot_before_503(cluster: Cluster) -> None:
    one = await cluster.start(updates_in_flight=1, webhook_busy_wait_seconds=10)
    gate, _ = hold_sends(cluster)
    first = asyncio.create_task(one.post(cluster.update(700_201, "/start")))
    second = asyncio.create_task(one.post(cluster.update(700_202, "/start")))
    await cluster.fake.wait_until(lambda: len(cluster.fake.calls_to("sendMessage")) >= 1, what="the first send")
    assert not second.done()  # held, not refused
    gate.set()
    assert (await first, await second) == (200, 200)
    await one.idle()
    assert len(cluster.answers(700_202)) == 1


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe\x00garbage", b"[]", b'{"update_id": "seven"}', b'{"message": {}}', b""],
    ids=["broken", "not-utf8", "array", "bad-id", "no-id", "empty"],
)
async def test_garbage_with_the_right_secret_is_a_400_not_a_500(
    cluster: Cluster, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    one = await cluster.start()
    caplog.set_level(logging.INFO)
    answer = await one.http.post(PATH, data=body, headers={**HEADERS, "Content-Type": "application/json"})
    assert answer.status == 400  # Telegram does not retry a 4xx; it retries a 500 forever
    rejected = [r.getMessage() for r in caplog.records if "not a Telegram update" in r.getMessage()]
    assert len(rejected) == 1
    if len(body) > 4:
        assert body.decode(errors="ignore")[:6] not in rejected[0]  # the body is not logged
    assert cluster.fake.calls_to("sendMessage") == []


@pytest.mark.parametrize("path", ["/metrics", "/healthz"])
async def test_private_endpoints_are_not_on_the_public_port(cluster: Cluster, path: str) -> None:
    one = await cluster.start()
    answer = await one.http.get(path)
    assert answer.status == 404
    assert "bot_" not in await answer.text()


async def test_one_user_flooding_two_instances_is_limited_as_one(cluster: Cluster) -> None:
    extra = {**shared_redis(), "flood_rate": 1, "flood_burst": 4}
    one, two = await cluster.start(**extra), await cluster.start(**extra)
    alice = await cluster.member(900_010)
    for n in range(12):  # alternately to each instance, as Telegram spreads them
        assert await (one, two)[n % 2].post(cluster.update(alice, "/help")) == 200
        await cluster.idle()
    answers = cluster.answers(alice)
    slow_down = [a for a in answers if a.startswith("🐢")]
    assert len(answers) == 4 + 1  # the burst, then one "slow down" (two separate buckets let 8 through)
    assert len(slow_down) == 1
    cluster.clock.advance(seconds=10)  # refilled
    assert await two.post(cluster.update(alice, "/help")) == 200
    await cluster.idle()
    assert not cluster.answers(alice)[-1].startswith("🐢")


async def test_metrics_want_the_bearer_token_when_one_is_set(cluster: Cluster) -> None:
    one = await cluster.start(metrics_token="metrics-token-for-prometheus")
    async with TestClient(TestServer(create_metrics_app(one.app))) as private:
        missing = await private.get("/metrics")
        wrong = await private.get("/metrics", headers={"Authorization": "Bearer guess"})
        right = await private.get("/metrics", headers={"Authorization": "Bearer metrics-token-for-prometheus"})
        health = await private.get("/healthz")  # the container's healthcheck has no token
        assert (missing.status, wrong.status, right.status, health.status) == (401, 401, 200, 200)
        assert "bot_updates_total" in await right.text()
        assert "bot_" not in await missing.text()


async def test_an_update_that_cannot_be_claimed_is_refused_not_dropped(cluster: Cluster) -> None:
    one = await cluster.start(redis_url="redis://127.0.0.1:1/0")  # nothing listens there
    answer = await one.post(cluster.update(700_301, "/start"))
    await one.idle()
    assert answer == 503  # Telegram keeps it and delivers it again
    assert cluster.answers(700_301) == []
    assert one.webhook.slots._value == one.app.ctx.settings.updates_in_flight  # its slot came back


async def test_an_update_is_answered_once_handled_and_503_past_the_bound(cluster: Cluster) -> None:
    """The answer waits for the handling (Telegram then sends the chat's next update); one that takes
    longer than WEBHOOK_ANSWER_SECONDS gets 503 while its handling goes on, and Telegram's retry is
    refused until that handling is done, then dropped: handled once, never twice at once."""
    one = await cluster.start(webhook_answer_seconds=0.2)
    gate, _ = hold_sends(cluster)
    alice = await cluster.member(900_020)
    update = cluster.update(alice, "/newroom Quick")
    assert await one.post(update) == 503  # the send is held past the bound: still being handled
    assert await one.post(update) == 503  # Telegram's retry meanwhile
    assert one.webhook.in_flight == 1
    gate.set()
    await one.idle()
    assert await one.post(update) == 200  # the next retry: done already, dropped
    assert await cluster.rooms() == 1
    assert sum("is ready" in text for text in cluster.answers(alice)) == 1
    # Another member (alice's chat has spent its burst: her next answer keeps the chat's pace, bot.budget).
    bob = await cluster.member(900_021)
    handled = asyncio.create_task(one.post(cluster.update(bob, "/newroom Slow")))
    assert await handled == 200
    assert await cluster.rooms() == 2  # answered 200 only after the room was made


def fail_outside_the_error_router(one: Instance, text: str, times: int | None) -> list[int]:
    """The handling of a member's message `text` raises where the error router does not see it (as a
    middleware or the unit of work's commit would): `times` times, or always (None). Returns the ids
    of the updates that failed."""
    feed = one.app.dp.feed_update
    failed: list[int] = []

    async def failing(bot: Any, update: Any, **kwargs: Any) -> Any:
        if update.message is not None and update.message.text == text and (times is None or len(failed) < times):
            failed.append(update.update_id)
            raise RuntimeError("the commit failed")
        return await feed(bot, update, **kwargs)

    one.app.dp.feed_update = failing  # type: ignore[method-assign]
    return failed


def relayed_texts(cluster: Cluster, chat_id: int) -> list[str]:
    return [(m.text or "").rsplit("\n", 1)[-1] for m in cluster.fake.bot_messages(chat_id) if m.text]


@pytest.mark.parametrize("store", STORES)
async def test_an_update_that_always_fails_is_given_up_and_the_chat_moves_on(cluster: Cluster, store: str) -> None:
    """Telegram retries a 500 and holds the chat's next updates behind it: a failure outside the error
    router is retried a few times (RETRIED_FAILURES, counted across the two instances the attempts
    reach in turn), then given up with one apology and a 200."""
    extra = shared_redis() if store == "redis" else {}
    instances = [await cluster.start(**extra), await cluster.start(**extra)]
    alice, bob = await cluster.member(900_030), await cluster.member(900_031)
    failed = [fail_outside_the_error_router(instance, "poisoned", times=None) for instance in instances]
    hooks = [str(instance.http.make_url(PATH)) for instance in instances]
    delivery = cluster.fake.deliver_webhooks(hooks, secret=SECRET, retry_delay=0.01)
    sender = cluster.fake.user("Alice", user_id=alice)
    await sender.send("poisoned", wait=False)
    await sender.send("next one", wait=False)  # waits in the chat's queue behind the failing update
    await cluster.fake.wait_until(lambda: delivery.pending == 0, what="both updates answered 2xx")
    for instance in instances:
        await instance.app.delivery.drain()
    poisoned = (failed[0] + failed[1])[0]
    assert [a.status for a in delivery.answers if a.update_id == poisoned] == [500] * RETRIED_FAILURES + [200]
    assert (len(failed[0]), len(failed[1])) == (2, 2)  # round-robin: each instance saw two attempts
    assert relayed_texts(cluster, bob) == ["next one"]  # the member's next message is handled and relayed
    assert sum("Sorry, something went wrong" in text for text in cluster.answers(alice)) == 1
    assert sum(i.app.ctx.metrics.webhook_given_up._value.get() for i in instances) == 1


@pytest.mark.parametrize("store", STORES)
async def test_an_update_that_fails_once_is_handled_once_on_the_retry(cluster: Cluster, store: str) -> None:
    one = await cluster.start(**(shared_redis() if store == "redis" else {}))
    alice, bob = await cluster.member(900_040), await cluster.member(900_041)
    failed = fail_outside_the_error_router(one, "hiccup", times=1)
    delivery = cluster.fake.deliver_webhooks([str(one.http.make_url(PATH))], secret=SECRET, retry_delay=0.01)
    sender = cluster.fake.user("Alice", user_id=alice)
    await sender.send("hiccup", wait=False)
    await sender.send("after", wait=False)
    await cluster.fake.wait_until(lambda: delivery.pending == 0, what="both updates answered 2xx")
    await one.app.delivery.drain()
    assert [a.status for a in delivery.answers if a.update_id == failed[0]] == [500, 200]
    assert relayed_texts(cluster, bob) == ["hiccup", "after"]  # exactly once, in order
    assert cluster.answers(alice) == []  # no apology: it was handled
    assert one.app.ctx.metrics.webhook_given_up._value.get() == 0
