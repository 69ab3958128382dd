"""Who goes first in the outgoing queue: relayed copies before a broadcast, turns between authors, and
a claim that outlasts its lease (a long 429) is kept, never sent twice by another instance."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.delivery.limits import ChatPacer, SendLimits
from bot.delivery.worker import DeliveryConfig, DeliveryWorker
from services.clock import FakeClock
from storage.models import Outgoing
from tests.conftest import DbTarget
from tests.e2e.harness import Harness, start_harness, stop_harness
from tests.e2e.test_delivery import enqueue_texts, received
from tests.e2e.test_relay import members, relayed
from tests.fakes.telegram import error


async def broadcast(tg: Harness, chats: list[int], text: str) -> None:
    """Queue a broadcast as /broadcast does (services.broadcast: Outbox.send_texts)."""
    async with tg.app.ctx.sessionmaker() as session, session.begin():
        await tg.app.ctx.outbox(session).send_texts([(chat, text) for chat in chats], batch_key="broadcast:test")


def sends_to(tg: Harness, chats: set[int]) -> int:
    return sum(1 for c in tg.tg.calls if c.method == "sendMessage" and c.params.get("chat_id") in chats)


async def test_a_relayed_copy_goes_before_a_draining_broadcasts_remaining_copies(live: Harness) -> None:
    tg = live
    ann, bob, _ = await members(tg, "Ann", "Bob", "Cat")
    chats = list(range(960_000, 960_150))  # 150 copies: six seconds at 25/s
    await broadcast(tg, chats, "town hall")
    bulk = set(chats)
    await tg.tg.wait_until(lambda: sends_to(tg, bulk) >= 20, timeout=30, what="the broadcast to be under way")
    pushed_at = sends_to(tg, bulk)
    await ann.send("hello all", wait=False)
    await tg.tg.wait_until(lambda: "hello all" in "".join(relayed(bob)), timeout=30, what="Bob's copy")
    overtaken_by = sends_to(tg, bulk) - pushed_at
    # The relay's own work and a few slots; as a relay among relays it waited for the 64 broadcast sends
    # in flight before it.
    assert overtaken_by <= 15, overtaken_by
    assert sends_to(tg, bulk) < len(chats) - 50
    # Once the relays stop, the broadcast goes on to the end.
    await tg.tg.wait_until(lambda: sends_to(tg, bulk) == len(chats), timeout=30, what="the broadcast to end")


@pytest.fixture
async def stopped(db: DbTarget) -> AsyncIterator[Harness]:
    """The worker is stopped once the members are in: the queue fills, then the test drains it, two rows
    per claim."""
    harness = await start_harness(db.url, db.schema, delivery_worker=True, delivery_batch_size=2)
    try:
        yield harness
    finally:
        await stop_harness(harness)


async def test_one_busy_author_does_not_hold_up_another_authors_message(stopped: Harness) -> None:
    tg = stopped
    ann, bob, cat, dan, eve = await members(tg, "Ann", "Bob", "Cat", "Dan", "Eve")
    await tg.tg.wait_until(lambda: tg.app.delivery is not None and not tg.app.delivery.express.size, what="quiet")
    assert tg.app.delivery is not None
    await tg.app.delivery.stop()  # the queue fills up (no express lane either)
    for n in range(4):
        await ann.send(f"ann {n}")
    await bob.send("bob here")
    start = len(tg.tg.calls)
    await tg.app.delivery.drain()
    texts = [(c.params, str(c.params.get("text"))) for c in tg.tg.calls[start:] if c.method == "sendMessage"]
    copies = [params for params, text in texts if "ann " in text or "bob here" in text]
    assert len(copies) == 4 * 4 + 4
    to_ann = next(n for n, p in enumerate(copies) if p["chat_id"] == ann.id)
    # Bob's turn comes in the first claims (two rounds of two rows at once), not after all Ann's fan-outs.
    assert to_ann < 4, to_ann
    for reader in (bob, cat, dan, eve):  # every reader's copies in the order they were written
        texts = [t for t in relayed(reader) if "ann " in t or "bob here" in t]
        expected = [f"ann {n}" for n in range(4)] + ([] if reader is bob else ["bob here"])
        assert [next(e for e in expected if e in t) for t in texts] == expected


class FakeTime:
    """Monotonic time and sleep on the test's fake clock: a sleep ends once the test moved the clock
    past its end (`advance`)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.moved = asyncio.Condition()

    def monotonic(self) -> float:
        return self.clock.now().timestamp()

    async def sleep(self, seconds: float) -> None:
        until = self.monotonic() + seconds
        async with self.moved:
            await self.moved.wait_for(lambda: self.monotonic() >= until)

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds=seconds)
        async with self.moved:
            self.moved.notify_all()


class PausingLimiter:
    """No global spacing, only the 429 pause, on the fake clock (one per instance, as without Redis)."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.paused_until = 0.0

    async def acquire(self) -> None:
        while (left := self.paused_until - self.time.monotonic()) > 0:
            await self.time.sleep(left)

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.time.monotonic() + seconds)


async def eventually(predicate: Callable[[], Any], timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.01)
    return False


async def test_a_429_longer_than_the_lease_never_sends_a_copy_twice(tg: Harness) -> None:
    chats = list(range(970_000, 970_010))
    await enqueue_texts(tg, chats, ["m0", "m1"])
    storm = {"left": 1}

    def flood(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if method == "sendMessage" and params.get("chat_id") == chats[0] and storm["left"]:
            storm["left"] -= 1
            return error(429, "Too Many Requests: retry after 40", retry_after=40)
        return None

    tg.tg.hooks.append(flood)
    time = FakeTime(tg.clock)

    def instance() -> DeliveryWorker:
        return DeliveryWorker(
            tg.app.ctx.sessionmaker,
            tg.app.bot,
            tg.clock,
            SendLimits(PausingLimiter(time), ChatPacer(monotonic=time.monotonic)),
            DeliveryConfig(concurrency=1, lease=timedelta(seconds=20)),  # one send at a time: the rest wait
            sleep=time.sleep,
        )

    first, second = instance(), instance()
    draining = asyncio.create_task(first.drain())
    await tg.tg.wait_until(lambda: storm["left"] == 0, timeout=30, what="the 429")

    async def leases_fresh() -> bool:  # every claimed row's lease runs past the next few seconds
        async with tg.app.ctx.sessionmaker() as session:
            stale = await session.scalar(
                select(func.count())
                .select_from(Outgoing)
                .where(
                    Outgoing.status == "pending",
                    Outgoing.claim_token.is_not(None),
                    Outgoing.claimed_until <= tg.clock.now() + timedelta(seconds=5),
                )
            )
        return stale == 0

    for _ in range(3):  # 30 s: the first instance still waits out the pause, past its 20 s lease
        await time.advance(10)
        await eventually(leases_fresh, timeout=3)
    await second.drain()  # the other instance finds the rows held, or (if their leases ran out) sends them
    await time.advance(15)  # the pause is over
    await asyncio.wait_for(draining, 30)
    await second.drain()
    for worker in (first, second):
        await worker.stop()
    for chat in chats:
        assert received(tg, chat) == ["m0", "m1"], chat  # every copy once, in order
