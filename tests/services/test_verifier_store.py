"""Where /link keeps the PKCE verifier for a day: Redis (with TTL) or the database; each state works once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import FakeClock
from services.oauth import DbVerifierStore, RedisVerifierStore, pkce_pair, s256
from storage.models import User


def test_pkce_pair_is_rfc7636_s256() -> None:
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    assert challenge == s256(verifier)
    # RFC 7636 appendix B
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce_pair()[0] != verifier


async def test_redis_store_keeps_a_day_and_gives_once(redis: Redis) -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    store = RedisVerifierStore(redis, prefix)
    await store.put("state-1", 7, "verifier-1")
    ttl = await redis.ttl(f"{prefix}:oauth:state-1")
    assert 86_000 < ttl <= 86_400
    assert await store.take("state-1") == (7, "verifier-1")
    assert await store.take("state-1") is None  # replay
    assert await store.take("never") is None


async def test_database_store_gives_once_and_not_after_a_day(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    async with sessionmaker() as session, session.begin():
        user = User(telegram_id=5, anon_name="A", created_at=clock.now())
        session.add(user)
        await session.flush()
        store = DbVerifierStore(session, clock)
        await store.put("fresh", user.id, "v1")
        await store.put("stale", user.id, "v2")
    async with sessionmaker() as session, session.begin():
        store = DbVerifierStore(session, clock)
        assert await store.take("fresh") == (user.id, "v1")
        assert await store.take("fresh") is None
    clock.advance(timedelta(days=1, seconds=1))
    async with sessionmaker() as session, session.begin():
        assert await DbVerifierStore(session, clock).take("stale") is None
