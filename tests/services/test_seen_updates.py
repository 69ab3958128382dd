"""Webhook update ids: claimed, done, released, and a dead instance's claim running out."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.seen_updates import CLAIM_SECONDS, Claim, DatabaseSeenUpdates, RedisSeenUpdates, SeenUpdates
from services.clock import FakeClock
from storage.models import SeenUpdate

DAY = timedelta(days=1)


async def test_database_claims_hold_across_instances_and_expire(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    one, two = DatabaseSeenUpdates(sessionmaker, clock, DAY), DatabaseSeenUpdates(sessionmaker, clock, DAY)
    assert await one.claim(1) is Claim.TAKEN
    assert await two.claim(1) is Claim.BUSY  # the other instance is handling it
    await one.finish(1)
    assert await two.claim(1) is Claim.DONE

    assert await one.claim(2) is Claim.TAKEN
    await one.release(2)  # its handling failed
    assert await two.claim(2) is Claim.TAKEN  # so a redelivery is handled

    assert await one.claim(3) is Claim.TAKEN  # ...and `one` dies here
    clock.advance(seconds=CLAIM_SECONDS - 1)
    assert await two.claim(3) is Claim.BUSY
    clock.advance(seconds=2)
    assert await two.claim(3) is Claim.TAKEN  # the dead instance's claim ran out
    assert await one.claim(3) is Claim.BUSY


async def test_database_forgets_ids_after_the_dedup_window(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    seen = DatabaseSeenUpdates(sessionmaker, clock, DAY)
    for update_id in (10, 11):
        assert await seen.claim(update_id) is Claim.TAKEN
        await seen.finish(update_id)
        clock.advance(hours=12)
    assert await seen.purge() == 0
    clock.advance(hours=1)
    assert await seen.purge() == 1  # the first, done 25 hours ago
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(SeenUpdate)) == 1
    assert await seen.claim(11) is Claim.DONE


async def test_redis_claims(redis: Redis) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    one, two = RedisSeenUpdates(redis, prefix, DAY), RedisSeenUpdates(redis, prefix, DAY)
    try:
        assert await one.claim(1) is Claim.TAKEN
        assert 0 < await redis.ttl(f"{prefix}:webhook:update:1") <= CLAIM_SECONDS
        assert await two.claim(1) is Claim.BUSY
        await one.finish(1)
        assert await two.claim(1) is Claim.DONE
        assert await redis.ttl(f"{prefix}:webhook:update:1") > CLAIM_SECONDS
        assert await one.claim(2) is Claim.TAKEN
        await one.release(2)
        assert await two.claim(2) is Claim.TAKEN
    finally:
        await redis.delete(f"{prefix}:webhook:update:1", f"{prefix}:webhook:update:2")


async def failures_counted_across_instances(one: SeenUpdates, two: SeenUpdates) -> None:
    assert await one.claim(5) is Claim.TAKEN
    assert await one.fail(5) == 1  # the claim is dropped: the retry is handled, on either instance
    assert await two.claim(5) is Claim.TAKEN
    assert await one.claim(5) is Claim.BUSY
    assert await two.fail(5) == 2  # counted across instances
    assert await one.claim(5) is Claim.TAKEN
    await one.finish(5)  # given up, or handled at last
    assert await two.claim(5) is Claim.DONE


async def test_database_counts_failed_attempts(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    one, two = DatabaseSeenUpdates(sessionmaker, clock, DAY), DatabaseSeenUpdates(sessionmaker, clock, DAY)
    await failures_counted_across_instances(one, two)
    assert await one.purge() == 0  # a failed attempt's freed claim is not taken for an old id


async def test_redis_counts_failed_attempts(redis: Redis) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    try:
        await failures_counted_across_instances(
            RedisSeenUpdates(redis, prefix, DAY), RedisSeenUpdates(redis, prefix, DAY)
        )
        assert 0 < await redis.ttl(f"{prefix}:webhook:failures:5") <= DAY.total_seconds()
    finally:
        await redis.delete(f"{prefix}:webhook:update:5", f"{prefix}:webhook:failures:5")


async def test_redis_claims_of_concurrent_updates_go_together(redis: Redis) -> None:
    """Many updates at once: their claims are one pipeline, not a round trip each, and of an id
    delivered twice at the same moment only one delivery takes it."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    one = RedisSeenUpdates(redis, prefix, DAY)
    ids = [*range(100, 150), 100, 101]
    try:
        await one.finish(149)
        claims = await asyncio.gather(*(one.claim(update_id) for update_id in ids))
        assert claims[:49] == [Claim.TAKEN] * 49
        assert claims[49:] == [Claim.DONE, Claim.BUSY, Claim.BUSY]
        assert one._claims.batches <= 2  # the first alone, the rest together
        await asyncio.gather(*(one.finish(update_id) for update_id in range(100, 149)))
        assert one._finishes.batches <= 3
        assert await RedisSeenUpdates(redis, prefix, DAY).claim(120) is Claim.DONE
        assert await redis.ttl(f"{prefix}:webhook:update:120") > CLAIM_SECONDS
    finally:
        await redis.delete(*(f"{prefix}:webhook:update:{n}" for n in range(100, 150)))
