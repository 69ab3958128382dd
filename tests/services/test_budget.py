"""The outgoing budget's priorities (bot.budget.Budget) and the chats' pace shared through Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from bot.budget import Budget, Priority, RedisChatPace
from bot.delivery.limits import ChatPacer


class Slots:
    """A global limiter that hands out one slot each time the test says so, and records who got it."""

    def __init__(self) -> None:
        self.released = asyncio.Semaphore(0)
        self.paused: list[float] = []

    async def acquire(self) -> None:
        await self.released.acquire()

    def pause(self, seconds: float) -> None:
        self.paused.append(seconds)


async def test_answers_go_first_then_relays_then_bulk_and_lanes_hold_few_slots_ahead() -> None:
    slots = Slots()
    budget = Budget(slots, ChatPacer(), rate=30, ahead_seconds=0.05)
    assert budget.ahead == 2  # two slots at 30/s (the least)
    assert Budget(slots, ChatPacer(), rate=30).ahead == 5  # 0.15 s by default
    assert Budget(slots, ChatPacer(), rate=1000).ahead == 150
    order: list[str] = []

    async def send(name: str, priority: Priority) -> None:
        await budget.acquire(priority)
        order.append(name)

    tasks = [asyncio.create_task(send(f"bulk{n}", Priority.BULK)) for n in range(4)]
    await asyncio.sleep(0)  # let them queue (no time passes)
    tasks += [asyncio.create_task(send(f"relay{n}", Priority.RELAY)) for n in range(2)]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(send("answer", Priority.ANSWER)))
    await asyncio.sleep(0)
    assert budget._inside == 2  # two bulk sends hold the limiter; the rest wait in priority order
    for _ in range(7):
        slots.released.release()
        for _ in range(5):
            await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    # The two bulk sends already at the limiter go first; then the answer (it was waiting at the
    # limiter too), then relays before the remaining bulk.
    assert order[:2] == ["bulk0", "bulk1"]
    assert order.index("answer") == 2
    assert order[3:] == ["relay0", "relay1", "bulk2", "bulk3"]
    assert budget.sent == {Priority.ANSWER: 1, Priority.RELAY: 2, Priority.BULK: 4}


async def test_a_cancelled_waiter_gives_its_turn_on() -> None:
    slots = Slots()
    budget = Budget(slots, ChatPacer(), rate=30, ahead_seconds=0.05)
    waiting = [asyncio.create_task(budget.acquire(Priority.RELAY)) for _ in range(4)]
    await asyncio.sleep(0)
    waiting[2].cancel()
    for _ in range(3):
        slots.released.release()
    await asyncio.gather(*waiting[:2], waiting[3])
    assert waiting[2].cancelled()
    assert budget._inside == 0
    assert not budget._waiters


async def test_redis_pace_is_a_shared_token_bucket_per_chat_that_expires(redis: Redis) -> None:
    prefix = f"test:budget:{uuid.uuid4().hex}"
    one = RedisChatPace(redis, rate=1.0, burst=3, prefix=prefix, margin=1.0)
    two = RedisChatPace(redis, rate=1.0, burst=3, prefix=prefix, margin=1.0)
    try:
        waits = [await one.reserve(7), await two.reserve(7), await one.reserve(7), await two.reserve(7)]
        assert waits[:3] == [0.0, 0.0, 0.0]  # the burst, whichever instance sends
        assert waits[3] == pytest.approx(1.0, abs=0.05)  # then one a second, for both
        assert await one.reserve(8) == 0.0  # another chat has its own bucket
        ttl = await redis.pttl(one.key(7))
        assert 0 < ttl <= 5_000  # forgotten once full again (and a second more)
        one.pause(8, 5)
        await asyncio.gather(*one._pushes)
        assert await two.reserve(8) == pytest.approx(5.0, abs=0.05)  # a 429's pause holds every instance
    finally:
        await redis.delete(one.key(7), one.key(8))


async def test_redis_pace_reservations_made_together_are_one_script_call(redis: Redis) -> None:
    """Sends pacing at once reserve their chats' tokens in one round trip (one a send capped the sends
    at the connections over the round-trip time); a chat twice in one call takes two tokens, in order."""
    prefix = f"test:budget:{uuid.uuid4().hex}"
    pace = RedisChatPace(redis, rate=1.0, burst=3, prefix=prefix, margin=1.0)
    calls: list[int] = []
    script = pace._script

    async def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return await script(*args, **kwargs)  # type: ignore[arg-type]

    pace._script = counted  # type: ignore[assignment]
    try:
        waits = await asyncio.gather(*(pace.reserve(chat) for chat in (7, 8, 7, 7, 7, 9)))
        assert len(calls) == 1
        assert waits[:3] == [0.0, 0.0, 0.0]
        assert waits[3] == 0.0  # chat 7's burst of three...
        assert waits[4] == pytest.approx(1.0, abs=0.05)  # ...then one a second
        assert waits[5] == 0.0
    finally:
        await redis.delete(pace.key(7), pace.key(8), pace.key(9))
