"""The outgoing queue against the fake Bot API: rate, 429, 403, 400, 5xx, order, crash and restart."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from bot.delivery.limits import SendLimits, SpacingLimiter
from bot.delivery.worker import DeliveryConfig, DeliveryWorker
from services.delivery import Outbox
from storage.models import Outgoing, User
from tests.e2e.harness import Harness
from tests.fakes.telegram import error


async def enqueue_texts(tg: Harness, chats: list[int], texts: list[str]) -> None:
    async with tg.app.ctx.sessionmaker() as session, session.begin():
        outbox = Outbox(session, tg.clock)
        for text in texts:
            for chat in chats:
                await outbox.send_text(chat, text)


def received(tg: Harness, chat: int) -> list[str]:
    return [m.text or "" for m in tg.tg.bot_messages(chat)]


async def statuses(tg: Harness) -> Counter[str]:
    async with tg.app.ctx.sessionmaker() as session:
        return Counter(await session.scalars(select(Outgoing.status)))


async def test_429_waits_retry_after_and_keeps_order(tg: Harness) -> None:
    chats = [900_001, 900_002, 900_003]
    storm = {"left": 4}

    def flood(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if method == "sendMessage" and storm["left"] > 0:
            storm["left"] -= 1
            return error(429, "Too Many Requests: retry after 5", retry_after=5)
        return None

    tg.tg.hooks.append(flood)
    await enqueue_texts(tg, chats, [f"m{i}" for i in range(5)])
    await tg.deliver()
    assert (await statuses(tg))["pending"] > 0  # waiting out retry_after, nothing dropped
    for _ in range(2):  # the storm's last 429 pushes one chat back once more
        tg.clock.advance(seconds=5)
        await tg.deliver()
    for chat in chats:
        assert received(tg, chat) == [f"m{i}" for i in range(5)]
    assert (await statuses(tg)) == Counter({"sent": 15})
    pauses = tg.delivery_pauses  # each 429 paused its chat and the global rate for retry_after
    assert sorted(p for p in pauses if p[0] is None) == [(None, 5.0)] * 4
    assert {chat for chat, _ in pauses if chat is not None} == set(chats)
    assert all(seconds == 5.0 for _, seconds in pauses)


async def test_blocked_user_marked_inactive_and_skipped(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    bob = await tg.user("Bob").signed_in()
    bob.block_bot()
    before = len(tg.tg.calls)
    await enqueue_texts(tg, [alice.id, bob.id], ["one", "two", "three"])
    await tg.deliver()
    assert received(tg, alice.id)[-3:] == ["one", "two", "three"]
    assert "one" not in received(tg, bob.id)
    tries = [c for c in tg.tg.calls[before:] if c.method == "sendMessage" and c.params["chat_id"] == bob.id]
    assert len(tries) == 1  # the 403, then the rest dropped without trying
    async with tg.app.ctx.sessionmaker() as session:
        assert (await session.scalar(select(User.is_active).where(User.telegram_id == bob.id))) is False
    bob.unblock_bot()
    await bob.send("/me")  # writing again makes the user active again
    async with tg.app.ctx.sessionmaker() as session:
        assert (await session.scalar(select(User.is_active).where(User.telegram_id == bob.id))) is True


async def test_bad_request_recorded_and_skipped(tg: Harness) -> None:
    await enqueue_texts(tg, [900_010], ["x" * 5000, "fine"])
    await tg.deliver()
    assert received(tg, 900_010) == ["fine"]
    async with tg.app.ctx.sessionmaker() as session:
        failed = await session.scalar(select(Outgoing).where(Outgoing.status == "failed"))
    assert failed is not None
    assert "too long" in (failed.last_error or "")


async def test_server_errors_retried_with_backoff(tg: Harness) -> None:
    failures = {"left": 2}

    def flaky(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if method == "sendMessage" and failures["left"] > 0:
            failures["left"] -= 1
            return error(502, "Bad Gateway")
        return None

    tg.tg.hooks.append(flaky)
    await enqueue_texts(tg, [900_020], ["a", "b"])
    for _ in range(3):
        await tg.deliver()
        tg.clock.advance(minutes=10)
    assert received(tg, 900_020) == ["a", "b"]


async def test_cancelled_worker_mid_fanout_then_restart_delivers_exactly_once(tg: Harness) -> None:
    chats = list(range(910_000, 910_300))
    await enqueue_texts(tg, chats, ["hello", "again"])
    stop_after = 120
    seen = {"n": 0}
    halfway = asyncio.Event()

    def count(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        seen["n"] += 1
        if seen["n"] == stop_after:
            halfway.set()
        return None

    tg.tg.hooks.append(count)
    settings = tg.app.ctx.settings
    worker = DeliveryWorker(
        tg.app.ctx.sessionmaker,
        tg.app.bot,
        tg.clock,
        SendLimits(SpacingLimiter(2000)),
        DeliveryConfig(batch_size=100, concurrency=16),
    )
    task = asyncio.create_task(worker.drain())
    await asyncio.wait_for(halfway.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The sends already answered are recorded by the marks' own task, which the cancel leaves alone;
    # with the stock SQLite driver none of them may be written yet.
    await worker.marks.wait_idle()
    partial = await statuses(tg)
    assert 0 < partial["sent"] < 600
    restarted = DeliveryWorker(
        tg.app.ctx.sessionmaker, tg.app.bot, tg.clock, SendLimits(SpacingLimiter(settings.delivery_rate * 100))
    )
    await restarted.drain()
    for chat in chats:
        assert received(tg, chat) == ["hello", "again"]
    assert (await statuses(tg)) == Counter({"sent": 600})


@pytest.fixture
def bot_settings() -> dict[str, object]:
    return {}


async def test_background_worker_wakes_after_commit(db: object) -> None:
    from tests.conftest import DbTarget
    from tests.e2e.harness import start_harness, stop_harness

    assert isinstance(db, DbTarget)
    harness = await start_harness(db.url, db.schema, delivery_worker=True, delivery_rate=200, paid_broadcast=True)
    try:
        await enqueue_texts(harness, [920_001, 920_002], ["woken"])
        await harness.tg.wait_until(
            lambda: received(harness, 920_001) == ["woken"] and received(harness, 920_002) == ["woken"],
            timeout=5,
            what="the background worker to deliver",
        )
    finally:
        await stop_harness(harness)


async def test_global_rate_is_respected(tg: Harness) -> None:
    """30/s by default: 45 messages to 45 chats leave in even spacing, never more than the limit in
    any one-second window (measured where the limiter lets each send go; arrival times at the fake
    depend on how busy the machine is, departure times do not)."""
    chats = list(range(930_000, 930_045))
    departures: list[float] = []

    class Recording(SpacingLimiter):
        async def acquire(self) -> None:
            await super().acquire()
            departures.append(self.monotonic())

    worker = DeliveryWorker(tg.app.ctx.sessionmaker, tg.app.bot, tg.clock, SendLimits(Recording(30)))
    await enqueue_texts(tg, chats, ["paced"])
    await worker.drain()
    assert len(tg.tg.calls_to("sendMessage")) == 45
    assert len(departures) == 45
    windows = [sum(1 for t in departures if start <= t < start + 1.0) for start in departures]
    assert max(windows) <= 30
    assert departures[-1] - departures[0] >= 44 / 30  # spaced, not a burst


async def test_a_lone_message_costs_the_worker_two_claims_at_most(db: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """At low load each send used to cost four claims (write transactions): both idle loops woke and
    claimed, and the round's early claim of the next one found nothing. Now one loop claims the row,
    and one more claim after the round looks for what became due (plus the idle loops' periodic look)."""
    from storage.repositories.delivery import OutgoingRepo
    from tests.conftest import DbTarget
    from tests.e2e.harness import start_harness, stop_harness

    claims = 0
    claim = OutgoingRepo.claim

    async def counted(self: OutgoingRepo, *args: Any, **kwargs: Any) -> Any:
        nonlocal claims
        claims += 1
        return await claim(self, *args, **kwargs)

    assert isinstance(db, DbTarget)
    monkeypatch.setattr(OutgoingRepo, "claim", counted)
    harness = await start_harness(db.url, db.schema, delivery_worker=True, delivery_rate=200, paid_broadcast=True)
    try:
        lone = 8
        for n in range(lone):
            await enqueue_texts(harness, [940_001], [f"lone {n}"])
            await harness.tg.wait_until(
                lambda n=n: len(received(harness, 940_001)) == n + 1, timeout=5, what="the lone message"
            )
    finally:
        await stop_harness(harness)
    assert received(harness, 940_001) == [f"lone {n}" for n in range(lone)]
    assert claims <= 2 * lone + 6, claims  # + each loop's first look and their once-a-second looks


def paid(tg: Harness) -> list[tuple[str, object]]:
    return [(c.method, c.params.get("allow_paid_broadcast")) for c in tg.tg.calls if c.method in SENDS]


SENDS = {"sendMessage", "copyMessage", "copyMessages", "editMessageText"}


@pytest.mark.parametrize("bot_settings", [{"delivery_rate": 100, "paid_broadcast": True}])
async def test_paid_broadcast_sends_new_messages_with_allow_paid_broadcast(tg: Harness) -> None:
    await enqueue_texts(tg, [950_001, 950_002], ["paid"])
    async with tg.app.ctx.sessionmaker() as session, session.begin():
        outbox = Outbox(session, tg.clock)
        await outbox.add_rows([outbox.copy_row(950_003, 950_001, 1)])
    await tg.deliver()
    calls = paid(tg)
    assert ("sendMessage", True) in calls
    assert ("copyMessage", True) in calls
    assert {flag for _, flag in calls} == {True}


async def test_without_paid_broadcast_sends_ask_for_nothing_paid(tg: Harness) -> None:
    await enqueue_texts(tg, [950_011], ["free"])
    await tg.deliver()
    assert paid(tg) == [("sendMessage", None)]
