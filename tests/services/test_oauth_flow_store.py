"""Where /link keeps a flow: Redis (with TTL) or the database. Each state is started by one browser,
once, and finished by that browser, once; another browser neither finishes nor spoils it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import FakeClock
from services.oauth import DbFlowStore, RedisFlowStore, browser_hash, pkce_pair, s256
from storage.models import User

MINE, THEIRS = browser_hash("my-cookie"), browser_hash("their-cookie")


def test_pkce_pair_is_rfc7636_s256() -> None:
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    assert challenge == s256(verifier)
    # RFC 7636 appendix B
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce_pair()[0] != verifier


async def test_redis_store_binds_once_and_gives_only_to_that_browser(redis: Redis) -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    store = RedisFlowStore(redis, prefix)
    try:
        await store.put("state-1", 7, "verifier-1")
        assert 0 < await redis.ttl(f"{prefix}:oauth:state-1") <= 600  # minutes, not a day
        assert await store.take("state-1", MINE) is None  # not started: no browser may finish it
        assert await store.bind("state-1", MINE) == (7, "verifier-1")
        assert await store.bind("state-1", THEIRS) is None  # the start link replayed
        assert await store.bind("state-1", MINE) is None
        assert await store.take("state-1", THEIRS) is None  # another browser...
        assert await store.take("state-1", MINE) == (7, "verifier-1")  # ...spoiled nothing
        assert await store.take("state-1", MINE) is None  # replay
        assert await store.bind("never", MINE) is None
    finally:
        keys = [key async for key in redis.scan_iter(f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)


async def test_database_store_binds_once_and_gives_once(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    async with sessionmaker() as session, session.begin():
        user = User(telegram_id=5, anon_name="A", created_at=clock.now())
        session.add(user)
        await session.flush()
        store = DbFlowStore(session, clock)
        for state in ("fresh", "stale", "unstarted"):
            await store.put(state, user.id, f"v-{state}")
    async with sessionmaker() as session, session.begin():
        store = DbFlowStore(session, clock)
        assert await store.bind("fresh", MINE) == (user.id, "v-fresh")
        assert await store.bind("fresh", THEIRS) is None
        assert await store.bind("stale", MINE) == (user.id, "v-stale")
    async with sessionmaker() as session, session.begin():
        store = DbFlowStore(session, clock)
        assert await store.take("fresh", THEIRS) is None
        assert await store.take("unstarted", MINE) is None
        assert await store.take("fresh", MINE) == (user.id, "v-fresh")
        assert await store.take("fresh", MINE) is None
    clock.advance(timedelta(minutes=16))
    async with sessionmaker() as session, session.begin():
        store = DbFlowStore(session, clock)
        assert await store.take("stale", MINE) is None
        assert await store.bind("unstarted", MINE) is None  # the start link is out of date
