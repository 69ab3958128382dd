"""429 answers from Telegram counted across every instance, for the panel's live delivery figures.

Each instance's delivery worker counts its own 429s (DeliveryStats.rate_limited, in memory). A
`RateLimitSharer` per process adds what its worker counted since the last time to a store every
instance shares, every few seconds: Redis when REDIS_URL is set (a counter per minute, gone after two
hours), else the database (a row per share, `rate_limit_hits`). The panel adds up the last hour's
(sends per second need no such thing: every instance's sends are in the outgoing rows' `sent_at`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import Clock
from storage.repositories.panel import RateLimitHitsRepo

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
SHARE_EVERY = 5.0  # seconds: how stale another instance's 429s may be on the panel


class RateLimitStore(Protocol):
    async def add(self, hits: int, now: datetime) -> None:
        """`hits` more 429 answers, counted by this instance up to `now`."""
        ...

    async def last_hour(self, now: datetime) -> int:
        """Every instance's 429 answers in the hour before `now`."""
        ...


class DatabaseRateLimits:
    """Without Redis: a row per share (only when there were 429s), rows older than two hours dropped."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], instance: str) -> None:
        self.sessionmaker = sessionmaker
        self.instance = instance[:64]

    async def add(self, hits: int, now: datetime) -> None:
        async with self.sessionmaker() as session, session.begin():
            repo = RateLimitHitsRepo(session)
            await repo.add(self.instance, hits, now)
            await repo.purge_before(now - 2 * HOUR)

    async def last_hour(self, now: datetime) -> int:
        async with self.sessionmaker() as session:
            return await RateLimitHitsRepo(session).since(now - HOUR)


class RedisRateLimits:
    """With Redis: one counter per minute (`<prefix>:delivery:429:<minute>`), read back 60 at a time."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def _key(self, minute: int) -> str:
        return f"{self.prefix}:delivery:429:{minute}"

    async def add(self, hits: int, now: datetime) -> None:
        key = self._key(int(now.timestamp() // 60))
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incrby(key, hits)
            pipe.expire(key, int(2 * HOUR.total_seconds()))
            await pipe.execute()

    async def last_hour(self, now: datetime) -> int:
        minute = int(now.timestamp() // 60)
        values = await self.redis.mget([self._key(m) for m in range(minute - 59, minute + 1)])
        return sum(int(v) for v in values if v is not None)


class RateLimitSharer:
    """Hands this process' 429 count to the shared store, a difference at a time."""

    def __init__(self, counted: Callable[[], int], store: RateLimitStore, clock: Clock) -> None:
        self.counted = counted  # the delivery worker's own count, since the process started
        self.store = store
        self.clock = clock
        self.shared = 0
        self._task: asyncio.Task[None] | None = None

    def unshared(self) -> int:
        """Counted here but not in the store yet (the panel adds it for the instance that serves it)."""
        return max(0, self.counted() - self.shared)

    async def share(self) -> int:
        """Add what was counted since the last share to the store; how many."""
        total = self.counted()
        hits = total - self.shared
        if hits > 0:
            await self.store.add(hits, self.clock.now())
        self.shared = total
        return max(0, hits)

    async def last_hour(self) -> int:
        """Every instance's 429s in the last hour, this one's not yet shared included."""
        return await self.store.last_hour(self.clock.now()) + self.unshared()

    def start(self, every: float = SHARE_EVERY) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(every), name="rate-limit-sharer")

    async def _run(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.share()
            except Exception:  # the store is down: counted again next time, nothing is lost meanwhile
                log.warning("could not share the 429 count", exc_info=True)

    async def stop(self) -> None:
        """Stop sharing, after a last share of what was counted."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.share()
