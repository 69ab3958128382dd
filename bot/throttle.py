"""Per-user flood control on incoming updates (before any database work).

A token bucket per Telegram user: `burst` updates at once, refilled at `rate` per second. The
first update over the limit gets one "slow down" answer; the rest are dropped quietly until the
bucket refills, and the first update let through after that is preceded by how many messages were
not relayed meanwhile. Other users are not affected. With REDIS_URL the buckets live in Redis (one Lua
script per update), so a user whose updates Telegram spreads over several instances is limited
as one; without it, in the process.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.i18n import Translator
from bot.metrics import Metrics

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class Gate(Protocol):
    async def admit(self, user_id: int) -> tuple[bool, bool]:
        """(let it through, tell the user to slow down)"""
        ...


class FloodGate:
    """The buckets in this process."""

    def __init__(self, rate: float, burst: float, monotonic: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = burst
        self.monotonic = monotonic
        self.buckets: dict[int, tuple[float, float, bool]] = {}  # user -> (tokens, at, warned)

    async def admit(self, user_id: int) -> tuple[bool, bool]:
        """(let it through, tell the user to slow down)"""
        now = self.monotonic()
        tokens, at, warned = self.buckets.get(user_id, (self.burst, now, False))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self.buckets[user_id] = (tokens - 1.0, now, False)
            if len(self.buckets) > 100_000:
                self._forget_full(now)
            return True, False
        self.buckets[user_id] = (tokens, now, True)
        return False, not warned

    def _forget_full(self, now: float) -> None:
        full = self.burst / self.rate
        self.buckets = {u: v for u, v in self.buckets.items() if now - v[1] < full}


# KEYS[1]: the user's bucket; ARGV: rate, burst, now (seconds). Returns {let through, warn}.
# Time comes from the callers (the app's clock); a caller whose clock is behind the bucket's refills
# nothing and does not move it back, so instances a little out of step never add tokens twice.
FLOOD_SCRIPT = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'warned')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
local warned = tonumber(state[3]) or 0
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate)
  at = now
end
local allowed, warn = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed, warned = 1, 0
else
  if warned == 0 then warn = 1 end
  warned = 1
end
-- tostring keeps 14 digits: a time of day in seconds would lose its last 100 microseconds
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.6f', at), 'warned', warned)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, warn}
"""


class RedisFloodGate:
    """The buckets in Redis, shared by every instance. If Redis fails, updates go through (logged):
    flood control is not worth refusing everyone over."""

    def __init__(self, redis: Redis, prefix: str, rate: float, burst: float, now: Callable[[], float]) -> None:
        self.prefix = prefix
        self.rate = rate
        self.burst = burst
        self.now = now
        self.script = redis.register_script(FLOOD_SCRIPT)

    async def admit(self, user_id: int) -> tuple[bool, bool]:
        try:
            allowed, warn = await self.script(
                keys=[f"{self.prefix}:flood:{user_id}"], args=[repr(self.rate), repr(self.burst), repr(self.now())]
            )
        except RedisError as exc:
            log.warning("flood control skipped: Redis failed (%s)", type(exc).__name__)
            return True, False
        return bool(allowed), bool(warn)


class FloodControlMiddleware(BaseMiddleware):
    def __init__(self, gate: Gate, translator: Translator, metrics: Metrics) -> None:
        self.gate = gate
        self.translator = translator
        self.metrics = metrics
        # user -> messages dropped since last let through; counted here, so by the instance that dropped them
        self.dropped: dict[int, int] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        if user is None or user.is_bot:
            return await handler(event, data)
        allowed, warn = await self.gate.admit(user.id)
        if allowed:
            dropped = self.dropped.pop(user.id, 0)
            if dropped and "bot" in data:  # allowed again: say what was lost before anything else
                t = self.translator.texts(self.translator.pick(None, user.language_code))
                await data["bot"].send_message(user.id, t("flood-dropped", count=dropped))
            return await handler(event, data)
        self.metrics.throttled.inc()
        if isinstance(event, Update) and event.message is not None:
            if len(self.dropped) > 100_000:  # a flood of flooders: forget the counts, never the limit
                self.dropped.clear()
            self.dropped[user.id] = self.dropped.get(user.id, 0) + 1
        if warn and isinstance(event, Update):
            t = self.translator.texts(self.translator.pick(None, user.language_code))
            if event.message is not None:
                await event.message.answer(t("flood-slow-down"))
            elif event.callback_query is not None:
                await event.callback_query.answer(t.plain("flood-slow-down"), show_alert=True)
        elif isinstance(event, Update) and event.callback_query is not None:
            await event.callback_query.answer()  # callback queries are always answered
        return None
