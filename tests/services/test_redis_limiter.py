"""The global send rate shared by instances through Redis."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from bot.delivery import RedisSpacingLimiter


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


async def test_pause_pushes_every_instance_back(redis: Redis) -> None:
    key = f"test:limiter:{uuid.uuid4().hex}"
    one = RedisSpacingLimiter(redis, rate=100, key=key)
    try:
        await one.acquire()
        before = float(await redis.get(key) or 0)
        await one._push(5.0)
        after = float(await redis.get(key) or 0)
    finally:
        await redis.delete(key)
    assert after - before == pytest.approx(5.0, abs=1e-4)
