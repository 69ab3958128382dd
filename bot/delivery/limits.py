"""Send limits: the global rate (one process, or every instance through Redis) and the per-chat pace.

Telegram allows ~30 messages/s per bot (up to 1000/s with paid broadcasts) and ~1/s per private chat.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis

log = logging.getLogger(__name__)

TELEGRAM_FREE_RATE = 30.0
TELEGRAM_MAX_RATE = 1000.0
PER_CHAT_RATE = 1.0
WINDOW = 1.0 + 1e-6  # the one-second window of the global limit, counted strictly


def spaced_cap(rate: float, margin: float) -> int:
    """Sends a second to aim for under a limit of `rate`: a little under it (`margin`), below the next
    whole number (29 for 30), at least one. Requests reach Telegram with jitter, and a one-second
    window must never overflow."""
    return max(1, min(round(rate * margin), math.ceil(rate) - 1))


class RateLimiter(Protocol):
    async def acquire(self) -> None: ...

    def pause(self, seconds: float) -> None:
        """A 429 came back: no send leaves for `seconds`, slots already handed out included."""
        ...


class SharedPace(Protocol):
    """Every chat's pace shared by all instances (bot.budget.RedisChatPace)."""

    async def reserve(self, chat_id: int) -> float: ...

    def pause(self, chat_id: int, seconds: float) -> None: ...


class SpacingLimiter:
    """Global rate without bursts: sends are spaced 1/rate apart, and at the moment of sending no
    one-second window may hold more than the limit.

    When the event loop wakes a send late, the next ones may make up for it, but only for the last
    `catch_up` seconds of delay (20 ms: a handful of sends at 1,000/s, less than one at 30/s);
    older delay is given up, so a busy moment never turns into a burst that Telegram's flood
    control would answer with 429."""

    def __init__(
        self,
        rate: float,
        monotonic: Callable[[], float] = time.monotonic,
        margin: float = 0.96,
        catch_up: float = 0.02,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.cap = spaced_cap(rate, margin)
        self.interval = 1.0 / self.cap
        self.monotonic = monotonic
        self.catch_up = catch_up
        self.sleep = sleep
        self.next_slot = 0.0
        self.paused_until = 0.0
        self.recent: collections.deque[float] = collections.deque()

    async def acquire(self) -> None:
        while True:
            now = self.monotonic()
            if now < self.paused_until:
                await self.sleep(self.paused_until - now)
                continue
            slot = max(now - self.catch_up, self.next_slot)
            self.next_slot = slot + self.interval
            if slot <= now:
                break
            await self.sleep(slot - now)
            woke = self.monotonic()
            if woke < self.paused_until:
                continue  # a 429 came while this send waited for its slot: it waits out the pause too
            if woke - slot <= self.catch_up:
                break
            # Woke up well after the slot (the event loop was busy): every send that waited through
            # that moment would go at once, so this slot is given up and a fresh one taken.
        while True:
            now = self.monotonic()
            # A send leaves the window a microsecond after its second is over (no rounding at the edge).
            while self.recent and now - self.recent[0] > WINDOW:
                self.recent.popleft()
            if len(self.recent) < self.cap:
                break
            await self.sleep(WINDOW + 1e-6 - (now - self.recent[0]))
        self.recent.append(now)

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.monotonic() + seconds)
        self.next_slot = max(self.next_slot, self.paused_until)


class RedisSpacingLimiter:
    """The global rate shared by every instance through Redis: one slot sequence for all of them.

    A Lua script hands out slots 1/rate apart on Redis' own clock (instances need not agree on
    time); each instance waits for its slot. Reserving slots in small blocks keeps Redis round
    trips well under the send rate. A 429 pauses this instance at once and pushes the shared
    sequence past the pause, so every instance's next reservation lands after it.
    """

    SCRIPT = """
    local t = redis.call('TIME')
    local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
    local interval = tonumber(ARGV[1])
    local count = tonumber(ARGV[2])
    local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
    if nxt < now then nxt = now end
    -- tostring keeps 14 digits: a time of day in seconds would lose its last 100 microseconds
    local expire = 60000 + math.ceil((nxt - now) * 1000)
    redis.call('SET', KEYS[1], string.format('%.6f', nxt + interval * count), 'PX', expire)
    return {tostring(nxt - now), tostring(interval)}
    """

    # No slot before now + ARGV[1]; slots already reserved past that stay as they are.
    PAUSE = """
    local t = redis.call('TIME')
    local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
    local pause = tonumber(ARGV[1])
    local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
    if nxt < now + pause then
        redis.call('SET', KEYS[1], string.format('%.6f', now + pause), 'PX', 60000 + math.ceil(pause * 1000))
    end
    return 1
    """

    def __init__(
        self,
        redis: Redis,
        rate: float,
        key: str = "bot:delivery:next-slot",
        margin: float = 0.96,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        catch_up: float = 0.02,
    ) -> None:
        self.redis = redis
        cap = spaced_cap(rate, margin)
        self.interval = 1.0 / cap
        self.key = key
        self.monotonic = monotonic
        self.sleep = sleep
        self.paused_until = 0.0  # local monotonic time: this instance's own pause (its 429s)
        self._script = redis.register_script(self.SCRIPT)
        self._pause_script = redis.register_script(self.PAUSE)
        self._lock = asyncio.Lock()
        self._slots: collections.deque[float] = collections.deque()  # local monotonic times of our slots
        self.block = max(1, min(20, cap // 50))  # ~20 ms of the shared rate at a time
        self.catch_up = max(self.interval / 2, catch_up)  # how late a send may still take its slot
        self._pushes: set[asyncio.Future[None]] = set()

    async def acquire(self) -> None:
        while True:
            pause = self.paused_until - self.monotonic()
            if pause > 0:
                await self.sleep(pause)
                continue
            async with self._lock:
                if not self._slots:
                    wait, interval = await self._script(keys=[self.key], args=[self.interval, self.block])
                    base = self.monotonic() + float(wait)
                    self._slots.extend(base + n * float(interval) for n in range(self.block))
                slot = self._slots.popleft()
            now = self.monotonic()
            if slot > now:
                await self.sleep(slot - now)
                now = self.monotonic()
            if now < self.paused_until:
                continue  # a 429 came while this send waited for its slot: it waits out the pause too
            if now - slot <= self.catch_up:
                return
            # Woke up well after this slot (a busy event loop): sending now would crowd the slots
            # after it, so this one is given up and a fresh one taken. Up to `catch_up` late is
            # allowed, as in SpacingLimiter: half an interval (0.5 ms at 1,000/s) was less than a
            # loaded machine's usual lateness, so almost every send gave up its slot, took another and
            # missed that too (bench.webhook on a busy 2-core machine: sends waited 1.6 s each for the
            # rate, under 100 a second went out).

    def pause(self, seconds: float) -> None:
        """After a 429 every instance holds back: this one at once (its reserved slots are dropped),
        the others from their next reservation on (the shared next slot moves past the pause)."""
        self.paused_until = max(self.paused_until, self.monotonic() + seconds)
        self._slots.clear()
        task = asyncio.ensure_future(self._push(seconds))
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    async def _push(self, seconds: float) -> None:
        try:
            await self._pause_script(keys=[self.key], args=[seconds])
        except Exception:
            log.warning("could not share a 429 pause through Redis", exc_info=True)


# Full buckets are forgotten once more than this many chats are kept (a full bucket and a forgotten one
# pace alike): at 1/s per chat that is about what a fan-out at 1,000/s keeps refilling at any moment,
# so the pacer holds a few thousand buckets, not one per member of a 100,000-member chat.
FORGET_ABOVE = 5_000


class ChatPacer:
    """Per-chat token buckets (1/s, short bursts tolerated); idle buckets are forgotten.

    A token is taken when the request actually leaves (after the global limiter's wait), not when
    the row is picked up, so two sends to one chat are never closer than the pace allows; the
    refill runs a little slow (`margin`) to absorb network jitter between request and arrival.
    """

    def __init__(
        self,
        rate: float = PER_CHAT_RATE,
        burst: float = 3.0,
        monotonic: Callable[[], float] = time.monotonic,
        margin: float = 0.95,
    ):
        self.rate = rate * margin
        self.burst = burst
        self.monotonic = monotonic
        self.buckets: dict[int, tuple[float, float]] = {}  # chat -> (tokens, at)
        self.held: dict[int, int] = {}  # chat -> sends that passed `delay` and wait for a global slot
        self._sweep_at = FORGET_ABOVE  # forget full buckets once this many are kept (see `take`)

    def _tokens(self, chat_id: int, now: float) -> float:
        tokens, at = self.buckets.get(chat_id, (self.burst, now))
        return min(self.burst, tokens + (now - at) * self.rate)

    def delay(self, chat_id: int) -> float:
        """How long to wait before the next send to `chat_id` (takes nothing; held tokens count as taken)."""
        tokens = self._tokens(chat_id, self.monotonic()) - self.held.get(chat_id, 0)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def hold(self, chat_id: int) -> None:
        """A send to `chat_id` passed `delay` and waits for its global slot: no other sender (an answer
        and a relayed copy to one chat) may pass on the same token meanwhile. `take` or `unhold` ends it."""
        self.held[chat_id] = self.held.get(chat_id, 0) + 1

    def unhold(self, chat_id: int) -> None:
        left = self.held.get(chat_id, 0) - 1
        if left > 0:
            self.held[chat_id] = left
        else:
            self.held.pop(chat_id, None)

    def take(self, chat_id: int) -> None:
        """A send to `chat_id` leaves now (its hold, if any, ends)."""
        now = self.monotonic()
        if chat_id in self.held:
            self.unhold(chat_id)
        self.buckets[chat_id] = (self._tokens(chat_id, now) - 1.0, now)
        if len(self.buckets) > self._sweep_at:
            self._forget_idle(now)
            # The next sweep once as many again were added: each costs its size, so a fan-out to
            # 100,000 chats (all of them refilling at once) costs two looks per bucket, not a sweep per send.
            self._sweep_at = max(FORGET_ABOVE, 2 * len(self.buckets))

    def pause(self, chat_id: int, seconds: float) -> None:
        """A 429 for `chat_id`: its next send waits `seconds` (then the pace goes on from an empty bucket)."""
        now = self.monotonic()
        tokens = min(self._tokens(chat_id, now), 1.0 - seconds * self.rate)
        self.buckets[chat_id] = (tokens, now)

    def _forget_idle(self, now: float) -> None:
        # A bucket is forgotten once it is full again (a paused chat's takes longer than a drained one's).
        self.buckets = {c: (t, at) for c, (t, at) in self.buckets.items() if now - at < (self.burst - t) / self.rate}


@dataclass
class SendLimits:
    """What every send waits for: the global rate, then the chat's pace."""

    limiter: RateLimiter
    pacer: ChatPacer = field(default_factory=ChatPacer)
    shared_pace: SharedPace | None = None  # with Redis: every instance's pace for each chat
    # The global rate as bulk rows (broadcasts) take it: after relayed copies waiting for it
    # (bot.budget's BULK lane). None: the same as `limiter`.
    bulk_limiter: RateLimiter | None = None
