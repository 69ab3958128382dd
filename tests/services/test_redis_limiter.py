"""The global send rate shared by instances through Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis

from bot.delivery.limits import RedisSpacingLimiter
from bot.throttle import RedisFloodGate


async def test_two_instances_take_slots_from_one_sequence(redis: Redis) -> None:
    key = f"test:limiter:{uuid.uuid4().hex}"
    one = RedisSpacingLimiter(redis, rate=100, key=key)
    two = RedisSpacingLimiter(redis, rate=100, key=key)
    try:
        await one.acquire()
        after_one = float(await redis.get(key) or 0)
        await two.acquire()
        after_two = float(await redis.get(key) or 0)
        await one.acquire()
        after_three = float(await redis.get(key) or 0)
    finally:
        await redis.delete(key)
    step = one.interval * one.block
    # Each reservation moves the one shared "next slot" on by at least a block, whoever asks: the
    # instances together never exceed the rate. (More than a block when the calls are further apart
    # than a block's time, as on a loaded machine: the next slot is then "now" on Redis' clock.)
    assert after_two - after_one >= step - 1e-4
    assert after_three - after_two >= step - 1e-4
    assert one.interval == pytest.approx(1 / 96)  # 96% of the limit
    assert RedisSpacingLimiter(redis, rate=30, key=key).interval == pytest.approx(1 / 29)  # below the next whole


async def test_pause_holds_this_instance_at_once_and_the_others_from_their_next_slot(redis: Redis) -> None:
    """A 429 on one instance: it sends nothing for retry_after (its reserved slots are dropped), and the
    shared next slot moves past the pause, so the other instances' next reservations wait for it too."""
    key = f"test:limiter:{uuid.uuid4().hex}"
    slept: dict[str, list[float]] = {"one": [], "two": []}

    def recorder(name: str) -> Callable[[float], Awaitable[None]]:
        async def sleep(seconds: float) -> None:  # records the wait instead of waiting
            slept[name].append(seconds)

        return sleep

    one = RedisSpacingLimiter(redis, rate=1000, key=key, sleep=recorder("one"))
    two = RedisSpacingLimiter(redis, rate=1000, key=key, sleep=recorder("two"))
    try:
        await one.acquire()  # reserves a block of slots
        assert one._slots
        one.pause(5.0)
        assert not one._slots
        await asyncio.gather(*one._pushes)
        seconds, micros = await redis.time()
        assert float(await redis.get(key) or 0) >= seconds + micros / 1e6 + 4.9
        await two.acquire()
    finally:
        await redis.delete(key)
    assert slept["two"]
    assert slept["two"][0] == pytest.approx(5.0, abs=0.2)
    assert one.paused_until - time.monotonic() == pytest.approx(5.0, abs=0.2)


async def test_a_send_woken_a_few_ms_late_keeps_its_slot(redis: Redis) -> None:
    """A busy event loop wakes a waiting send late: within 20 ms it still takes its slot, as the
    in-memory limiter does. (It gave the slot up past half an interval, 0.5 ms at 1,000/s: on a loaded
    machine nearly every send then missed slot after slot, and fewer than 100 a second went out.)"""
    key = f"test:limiter:{uuid.uuid4().hex}"
    clock = [1000.0]
    sleeps: list[float] = []

    async def late_sleep(seconds: float) -> None:  # wakes 5 ms after it was due
        sleeps.append(seconds)
        clock[0] += seconds + 0.005
        await asyncio.sleep(0)  # a turn of the loop, so a send that never gets its slot times out

    limiter = RedisSpacingLimiter(redis, rate=1000, key=key, monotonic=lambda: clock[0], sleep=late_sleep)
    try:
        for _ in range(3 * limiter.block):  # three blocks' worth of slots
            await asyncio.wait_for(limiter.acquire(), 5)
        reservations = float(await redis.get(key) or 0)
    finally:
        await redis.delete(key)
    assert reservations > 0
    assert len(sleeps) <= 3 * limiter.block  # at most one wait a send: no slot given up


async def test_the_shared_next_slot_and_a_pause_keep_their_microseconds(redis: Redis) -> None:
    """Lua's tostring keeps 14 digits: a time in seconds since 1970 lost its last 100 microseconds, a
    tenth of a slot at 1,000 a second. The scripts store six decimals."""
    key = f"test:limiter:{uuid.uuid4().hex}"
    limiter = RedisSpacingLimiter(redis, rate=30, key=key)
    try:
        await limiter.acquire()
        stored = (await redis.get(key) or b"").decode()
        assert len(stored.split(".")[1]) == 6, stored
        await limiter._push(3.0)  # a 429's pause, pushed to every instance
        stored = (await redis.get(key) or b"").decode()
        assert len(stored.split(".")[1]) == 6, stored
    finally:
        await redis.delete(key)


async def test_the_flood_gates_bucket_keeps_its_time_to_the_microsecond(redis: Redis) -> None:
    prefix = f"test:flood:{uuid.uuid4().hex}"
    now = 1_764_621_234.123456
    gate = RedisFloodGate(redis, prefix, rate=1.0, burst=3.0, now=lambda: now)
    try:
        assert await gate.admit(7) == (True, False)
        at = float(await redis.hget(f"{prefix}:flood:7", "at") or 0)
        assert at == pytest.approx(now, abs=1e-6)  # tostring kept 1764621234.1235
    finally:
        await redis.delete(f"{prefix}:flood:7")
