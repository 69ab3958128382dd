"""Webhook updates delivered twice are handled once, across instances.

Telegram delivers an update again when it did not get our answer (a timeout, a lost connection,
an instance that died), so the same `update_id` can arrive twice, at two instances. Each request
first claims its update id:

- new id: claimed "in progress" for CLAIM_SECONDS, handled, then marked "done" and remembered for
  `WEBHOOK_DEDUP_SECONDS` (Telegram keeps an undelivered update for a day);
- done already: answered 200 and dropped;
- in progress elsewhere: answered 503, so Telegram asks again later. The first attempt may still
  fail: if its handling raises, the claim is dropped and the retry is handled; if its instance dies,
  the claim runs out after CLAIM_SECONDS and the retry is handled then.
- failed: each failed attempt is counted (`fail`, across instances) and the claim dropped, so the
  retry is handled; after RETRIED_FAILURES the webhook gives up on the update (bot/server.py) and
  marks it done, or Telegram would send it again forever, holding the chat's next updates. Marking an id "done" at
  once (before handling) would lose the update in both cases; marking it only after handling
  would let a duplicate that arrives meanwhile run in parallel.

Kept in Redis (`SET NX` with a TTL) when REDIS_URL is set, else in the `webhook_updates` table
(rows purged by the scheduler), which holds across instances sharing PostgreSQL. In Redis the
claims (and the "done" marks) of concurrent updates go together in one pipeline: one round trip
for the lot instead of one per update (bot/batching.py).
"""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.batching import Batched
from services.clock import Clock
from storage.repositories.webhook import SeenUpdateRepo

# Longer than any handler runs; how long an update whose instance died stays refused (503).
CLAIM_SECONDS = 120
# Failed attempts answered 500 (Telegram retries: a transient database error heals); the next failure
# gives the update up (answered 200, so the chat's next updates flow).
RETRIED_FAILURES = 3


class Claim(enum.Enum):
    TAKEN = "taken"  # handle it
    DONE = "done"  # handled already: drop it
    BUSY = "busy"  # being handled elsewhere: ask Telegram to retry


class SeenUpdates(Protocol):
    async def claim(self, update_id: int) -> Claim: ...

    async def finish(self, update_id: int) -> None:
        """The update was handled: remember it as done."""

    async def fail(self, update_id: int) -> int:
        """Handling failed: count the attempt and forget the claim, so a redelivery is handled. Returns
        the failed attempts so far, on every instance."""

    async def release(self, update_id: int) -> None:
        """Handling was cut short (shutdown): forget the claim, so a redelivery is handled."""


class RedisSeenUpdates:
    def __init__(self, redis: Redis, prefix: str, remember: timedelta) -> None:
        self.redis = redis
        self.prefix = prefix
        self.remember = remember
        self._claims = Batched(self._claim_many, max_batch=500)
        self._finishes = Batched(self._finish_many, max_batch=500)

    def _key(self, update_id: int) -> str:
        return f"{self.prefix}:webhook:update:{update_id}"

    def _failures_key(self, update_id: int) -> str:
        return f"{self.prefix}:webhook:failures:{update_id}"

    async def claim(self, update_id: int) -> Claim:
        return await self._claims.submit(update_id)

    async def finish(self, update_id: int) -> None:
        await self._finishes.submit(update_id)

    async def _claim_many(self, update_ids: list[int]) -> list[Claim]:
        """Concurrent updates' claims in one pipeline (`SET NX` each, in arrival order: of one id claimed
        twice in a batch, the first takes it), and the states of those already claimed in a second."""
        keys = [self._key(update_id) for update_id in update_ids]
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(key, b"busy", nx=True, ex=CLAIM_SECONDS)
            taken = await pipe.execute()
        refused = [key for key, ok in zip(keys, taken, strict=True) if not ok]
        states: dict[str, bytes | None] = {}
        if refused:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in refused:
                    pipe.get(key)
                states = dict(zip(refused, await pipe.execute(), strict=True))
        # A refused id whose key is gone meanwhile is BUSY: let Telegram ask again.
        return [
            Claim.TAKEN if ok else Claim.DONE if states[key] == b"done" else Claim.BUSY
            for key, ok in zip(keys, taken, strict=True)
        ]

    async def _finish_many(self, update_ids: list[int]) -> list[None]:
        """Concurrent updates' "done" marks in one pipeline."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for update_id in update_ids:
                pipe.set(self._key(update_id), b"done", ex=self.remember)
            await pipe.execute()
        return [None] * len(update_ids)

    async def fail(self, update_id: int) -> int:
        failures = self._failures_key(update_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(failures)
            pipe.expire(failures, self.remember)
            pipe.delete(self._key(update_id))
            counted, *_ = await pipe.execute()
        return int(counted)

    async def release(self, update_id: int) -> None:
        await self.redis.delete(self._key(update_id))


class DatabaseSeenUpdates:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, remember: timedelta) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.remember = remember

    async def claim(self, update_id: int) -> Claim:
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            taken = await SeenUpdateRepo(session).claim(update_id, now, now - timedelta(seconds=CLAIM_SECONDS))
        return Claim.TAKEN if taken else Claim.DONE if taken is None else Claim.BUSY

    async def finish(self, update_id: int) -> None:
        async with self.sessionmaker() as session, session.begin():
            await SeenUpdateRepo(session).finish(update_id, self.clock.now())

    async def fail(self, update_id: int) -> int:
        free_at = self.clock.now() - timedelta(seconds=CLAIM_SECONDS + 1)  # taken over by the next claim
        async with self.sessionmaker() as session, session.begin():
            return await SeenUpdateRepo(session).fail(update_id, free_at)

    async def release(self, update_id: int) -> None:
        async with self.sessionmaker() as session, session.begin():
            await SeenUpdateRepo(session).release(update_id)

    async def purge(self) -> int:
        """Forget ids handled longer ago than they are remembered (a scheduler job)."""
        async with self.sessionmaker() as session, session.begin():
            return await SeenUpdateRepo(session).purge_before(self.clock.now() - self.remember)
