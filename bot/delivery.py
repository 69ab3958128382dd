"""The delivery worker: sends the outgoing queue at the global rate, paced per chat, in order.

Each round claims the due head of every chat's queue (a lease, and SKIP LOCKED on PostgreSQL,
so several workers and processes share the queue), sends the rows concurrently over the bot's
pooled HTTP session, then records every outcome in one transaction. Sends already on the wire
are never cancelled: a stop or cancel lets them finish and records them, and rows not yet sent
are released at once, so a restart neither loses nor repeats a delivery.

Relayed copies usually skip the claim: the relay's transaction inserts them already claimed for this
process' express lane (`ExpressLane`) and hands them over in memory when it commits; they are sent
per chat in order, under the same rate limiter and pacer, and recorded the same way.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import math
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiohttp
from aiogram import Bot
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.batching import Coalescer
from services.clock import Clock
from storage.repositories.delivery import Claimed, Outcome, OutgoingRepo

log = logging.getLogger(__name__)

# Telegram: ~30 messages/s per bot (up to 1000/s with paid broadcasts), ~1/s per private chat.
TELEGRAM_FREE_RATE = 30.0
TELEGRAM_MAX_RATE = 1000.0
PER_CHAT_RATE = 1.0
NOT_MODIFIED = "message is not modified"
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
    redis.call('SET', KEYS[1], tostring(nxt + interval * count), 'PX', 60000 + math.ceil((nxt - now) * 1000))
    return {tostring(nxt - now), tostring(interval)}
    """

    # No slot before now + ARGV[1]; slots already reserved past that stay as they are.
    PAUSE = """
    local t = redis.call('TIME')
    local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
    local pause = tonumber(ARGV[1])
    local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
    if nxt < now + pause then
        redis.call('SET', KEYS[1], tostring(now + pause), 'PX', 60000 + math.ceil(pause * 1000))
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
            if slot - now > -self.interval / 2:
                return
            # Woke up too late for this slot (a busy event loop): sending now would crowd the next
            # instance's slot, so this one is given up and a fresh one taken.

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
        if len(self.buckets) > 50_000:
            self._forget_idle(now)

    def pause(self, chat_id: int, seconds: float) -> None:
        """A 429 for `chat_id`: its next send waits `seconds` (then the pace goes on from an empty bucket)."""
        now = self.monotonic()
        tokens = min(self._tokens(chat_id, now), 1.0 - seconds * self.rate)
        self.buckets[chat_id] = (tokens, now)

    def _forget_idle(self, now: float) -> None:
        # A bucket is forgotten once it is full again (a paused chat's takes longer than a drained one's).
        self.buckets = {c: (t, at) for c, (t, at) in self.buckets.items() if now - at < (self.burst - t) / self.rate}


class Waker:
    """Set after a transaction that enqueued something commits (see storage.db.create_sessionmaker)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.wakes = 0  # how many times it was set: idle loops woken together tell one wake from the next

    def wake(self) -> None:
        self.wakes += 1
        self.event.set()


class ExpressLane:
    """Rows handed to this process' worker by the transaction that queued them, per chat in order
    (`services.delivery.Express`: inserted already claimed with `token`, handed over on commit).

    It takes rows only while the worker runs, at most `limit` at a time (all sent well within the
    lease at the global rate) and `per_chat` per chat (a chat is paced at about one a second)."""

    def __init__(self, lease: timedelta, limit: int, per_chat: int = 2) -> None:
        self.token = "express-" + secrets.token_hex(8)
        self.lease = lease
        self.limit = limit
        self.per_chat = per_chat
        self.open = False
        self.queues: dict[int, collections.deque[Claimed]] = {}
        self.size = 0
        self.arrived: Callable[[set[int]], None] = lambda chats: None  # the worker starts those chats' sends
        self.monotonic = time.monotonic
        self._held_back: dict[int, float] = {}  # chat -> when a row of it had to wait (see hold_back)

    def hold_back(self, chat_id: int) -> None:
        """A row of this chat was not sent (a retry later): for a lease's time the chat's rows go the
        usual way, behind it. (A transaction that checked the chat before that row was put back may
        still hand rows over: `held_back` tells the worker to send them back too.)"""
        self._held_back[chat_id] = self.monotonic()
        if len(self._held_back) > 10_000:
            now = self.monotonic()
            self._held_back = {c: at for c, at in self._held_back.items() if now - at < self.lease.total_seconds()}

    def held_back(self, chat_id: int) -> bool:
        at = self._held_back.get(chat_id)
        return at is not None and self.monotonic() - at < self.lease.total_seconds()

    def takes(self, chat_ids: Sequence[int]) -> list[bool]:
        room = self.limit - self.size if self.open else 0
        counts: dict[int, int] = {}
        taken: list[bool] = []
        for chat_id in chat_ids:
            held = counts.get(chat_id, 0) + len(self.queues.get(chat_id, ()))
            ok = room > 0 and held < self.per_chat and not self.held_back(chat_id)
            if ok:
                room -= 1
                counts[chat_id] = counts.get(chat_id, 0) + 1
            taken.append(ok)
        return taken

    def hand_over(self, rows: Sequence[Claimed]) -> None:
        """Rows of a transaction that committed (in id order)."""
        for row in rows:
            self.queues.setdefault(row.chat_id, collections.deque()).append(row)
        self.size += len(rows)
        self.arrived({row.chat_id for row in rows})

    def take_back(self, chat_id: int) -> list[Claimed]:
        """The chat's rows not sent (they go back to the queue in the database); the chat is forgotten."""
        rows = list(self.queues.pop(chat_id, ()))
        self.size -= len(rows)
        return rows


class _SentMarks(Coalescer[Outcome, None]):
    """Express sends recorded as a group commit: one statement for those answered meanwhile."""

    def __init__(self, worker: DeliveryWorker, token: str) -> None:
        super().__init__(max_batch=1000)
        self.worker = worker
        self.token = token

    async def _handle(self, requests: list[Outcome]) -> list[None]:
        async with self.worker.sessionmaker() as session, session.begin():
            await self.worker._mark_sent(session, requests, self.token)
        return [None] * len(requests)


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    rate_limited: int = 0
    blocked: int = 0
    failed: int = 0
    progressed_at: datetime | None = None  # when a round last ended (or the worker started): liveness


class DeliveryWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bot: Bot,
        clock: Clock,
        *,
        limiter: RateLimiter,
        pacer: ChatPacer | None = None,
        waker: Waker | None = None,
        batch_size: int = 500,
        concurrency: int = 64,
        lease: timedelta = timedelta(seconds=60),
        max_attempts: int = 8,
        idle_seconds: float = 1.0,
        parallel_rounds: int = 2,
        mark_interval: float = 0.005,
        on_outcomes: Callable[[list[Outcome]], None] | None = None,
        express: ExpressLane | None = None,
        paid_broadcast: bool = False,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.bot = bot
        self.clock = clock
        self.limiter = limiter
        self.pacer = pacer or ChatPacer()
        self.waker = waker or Waker()
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.lease = lease
        self.max_attempts = max_attempts
        self.idle_seconds = idle_seconds
        self.parallel_rounds = parallel_rounds
        self.mark_interval = mark_interval
        self.on_outcomes = on_outcomes
        self.paid_broadcast = paid_broadcast  # new messages may go past the free rate, for Stars
        self.stats = DeliveryStats()
        self.shared_pace: SharedPace | None = None  # the chats' pace across instances (bot.budget.RedisChatPace)
        self.api = BotApi(bot, pool=concurrency)
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._rng = random.Random()
        self._answered_wake = -1  # the last wake an idle loop went to claim for
        self.express = express or ExpressLane(lease, limit=batch_size)
        self.express.arrived = self._express_arrived
        self._express_runners: dict[int, asyncio.Task[None]] = {}  # chat -> the task sending its rows
        self._express_on_wire: set[int] = set()  # chats whose runner awaits a send's answer
        self._express_gate = asyncio.Semaphore(concurrency)
        self._express_marks = _SentMarks(self, self.express.token)

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self.run(), name="delivery-worker")
            self.stats.progressed_at = self.clock.now()
            self.express.open = True

    async def stop(self) -> None:
        """Finish the round in progress and the express sends on the wire, then stop; express rows not
        sent go back to the queue."""
        self._stopping = True
        self.express.open = False
        self.waker.wake()
        if self._task is not None:
            await self._task
            self._task = None
        await self._stop_express()
        await self.api.close()

    async def _stop_express(self) -> None:
        """Runners waiting (for the gate or the chat's pace) are cancelled; one with a send on the wire
        is not: it records the outcome and then ends, seeing the worker stop."""
        runners = list(self._express_runners.items())
        for chat_id, runner in runners:
            if chat_id not in self._express_on_wire:
                runner.cancel()
        await asyncio.gather(*(runner for _, runner in runners), return_exceptions=True)
        await self._express_marks.wait_idle()

    async def run(self) -> None:
        # Two rounds overlap, so one sends while the other records its results and claims the next rows.
        await asyncio.gather(*(self._loop() for _ in range(self.parallel_rounds)))

    async def _loop(self, until_idle: bool = False, max_rounds: int | None = None) -> int:
        """Rounds one after another, pipelined: the next round claims its rows while the current one
        sends its last few, so the rate does not dip while results are recorded and rows claimed.
        Returns the rows handled; with `until_idle` it ends after a round that found nothing due."""
        handled = 0
        rounds = 0
        previous: asyncio.Task[int] | None = None
        try:
            while (until_idle or not self._stopping) and (max_rounds is None or rounds < max_rounds):
                self.waker.event.clear()
                near_end = asyncio.Event()
                # A round that found nothing while the previous one still held rows proves nothing:
                # those rows' successors become due when it ends, so the loop goes on without idling.
                overlapped = previous is not None and not previous.done()
                current = asyncio.create_task(self._guarded_round(near_end, log_errors=not until_idle))
                rounds += 1
                near = asyncio.ensure_future(near_end.wait())
                try:
                    await asyncio.wait({current, near}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    near.cancel()
                if previous is not None:
                    handled += await previous  # at most two rounds of one loop at a time
                previous = current
                if current.done() and current.result() == 0 and not overlapped:
                    if until_idle:
                        break
                    await self._idle()
        finally:
            if previous is not None:
                handled += await asyncio.shield(previous)
        return handled

    async def _idle(self) -> None:
        """Until new rows are committed (the waker) or `idle_seconds` pass (rows due later: retries,
        paced rows). The idle loops are all woken by one commit; only the first goes to claim (the
        others' claims would find nothing: a write transaction each for nothing), the rest wait on."""
        while not self._stopping:
            try:
                await asyncio.wait_for(self.waker.event.wait(), self.idle_seconds)
            except TimeoutError:
                return
            if self._answered_wake != self.waker.wakes:
                self._answered_wake = self.waker.wakes
                return
            self.waker.event.clear()  # another loop claims for this wake

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _guarded_round(self, near_end: asyncio.Event, log_errors: bool = True) -> int:
        try:
            return await self.run_once(near_end)
        except Exception:
            if not log_errors:
                raise
            log.exception("delivery round failed")
            return 0
        finally:
            near_end.set()
            self.stats.progressed_at = self.clock.now()

    async def drain(self, max_rounds: int = 10_000) -> int:
        """Run rounds until nothing is due (tests and benchmarks); returns rows handled. Express sends
        under way are waited for first (they are not counted)."""
        await self.express_idle()
        return sum(
            await asyncio.gather(
                *(self._loop(until_idle=True, max_rounds=max_rounds) for _ in range(self.parallel_rounds))
            )
        )

    # --- the express lane ----------------------------------------------------------------
    async def express_idle(self) -> None:
        """Until the express lane has sent and recorded everything it was handed."""
        while self._express_runners:
            await asyncio.gather(*self._express_runners.values(), return_exceptions=True)
        await self._express_marks.wait_idle()

    def _express_arrived(self, chat_ids: set[int]) -> None:
        for chat_id in chat_ids:
            if chat_id not in self._express_runners:
                self._express_runners[chat_id] = asyncio.create_task(self._express_chat(chat_id))

    async def _express_chat(self, chat_id: int) -> None:
        """Send a chat's express rows one after another; each is recorded before the next goes (so a
        crash never leaves a later row recorded and an earlier one not). A row that was not sent (a
        retry later, a blocked chat) sends the chat's other rows back to the queue, behind it."""
        queue = self.express.queues[chat_id]
        try:
            while queue and not self._stopping and not self.express.held_back(chat_id):
                item = queue[0]
                async with self._express_gate:
                    await self._pace(chat_id)
                    # On the wire, a send is never cancelled (see _stop_express), so it is awaited here
                    # and not shielded in a task of its own.
                    self._express_on_wire.add(chat_id)
                    try:
                        outcome = await self._send(item)
                    finally:
                        self._express_on_wire.discard(chat_id)
                queue.popleft()
                self.express.size -= 1
                if not await self._express_record(item, outcome):
                    break
        except Exception:
            # Recording failed (the database): the row stays claimed until its lease runs out, then it is
            # claimed the usual way; the chat's other rows go back to the queue now.
            log.exception("express sends to chat %s failed", chat_id)
        finally:
            del self._express_runners[chat_id]
            rest = self.express.take_back(chat_id)
            if rest:
                await asyncio.shield(self._express_release(rest))

    async def _express_record(self, item: Claimed, outcome: Outcome) -> bool:
        """Record an express send's outcome; whether the chat's next rows may follow."""
        if self.on_outcomes is not None:
            self.on_outcomes([outcome])
        if outcome.status == "sent":
            await self._express_marks.submit(outcome)
            return True
        self.express.hold_back(item.chat_id)
        blocked = {item.chat_id} if outcome.error == "blocked" else set()
        async with self.sessionmaker() as session, session.begin():
            await self._finish(OutgoingRepo(session), [outcome], blocked, self.express.token)
        return False

    async def _express_release(self, rows: list[Claimed]) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                await OutgoingRepo(session).release([row.id for row in rows], self.express.token)
        except Exception:
            log.exception("releasing %d express rows failed; their lease runs out instead", len(rows))
        self.waker.wake()  # the usual rounds send them now

    # --- one round -----------------------------------------------------------------------
    async def run_once(self, near_end: asyncio.Event | None = None) -> int:
        """Claim due rows, send them, record the outcomes; returns rows handled. `near_end` is set when
        all but the last few rows have passed the rate limiter (the loop then claims the next round)."""
        token = secrets.token_hex(8)
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            claimed = await OutgoingRepo(session).claim(now, self.batch_size, now + self.lease, token)
        if not claimed:
            return 0
        outcomes: dict[int, Outcome] = {}
        inflight: set[asyncio.Future[None]] = set()
        gate = asyncio.Semaphore(self.concurrency)

        finished = asyncio.Event()  # a send has an outcome to record

        async def send(item: Claimed) -> None:
            outcomes[item.id] = await self._send(item)
            finished.set()

        async def one(item: Claimed) -> None:
            async with gate:
                await self._pace(item.chat_id)  # at most one row per chat is in flight (head of its queue)
                passed_limiter()
                future = asyncio.ensure_future(send(item))
                inflight.add(future)
                await asyncio.shield(future)  # once on the wire, a send is never cancelled

        low_water = min(len(claimed) - 1, max(self.concurrency, len(claimed) // 4))
        # A round no larger than the sends in flight at once gains nothing from claiming the next one
        # early: its rows' successors are due only once it ends, and at low load that early claim found
        # nothing, a write transaction per send for nothing (near_end is then set when the round ends).
        pipelined = len(claimed) > self.concurrency
        passed = 0

        def passed_limiter() -> None:
            nonlocal passed
            passed += 1
            if near_end is not None and pipelined and passed >= len(claimed) - low_water:
                near_end.set()

        marked: set[int] = set()  # sent rows already recorded (see _flush_sent)
        stop = asyncio.Event()
        flusher = asyncio.create_task(self._flush_sent_until(stop, finished, outcomes, marked, token))
        tasks = [asyncio.create_task(one(item)) for item in claimed]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            stop.set()
            await asyncio.shield(asyncio.gather(flusher, return_exceptions=True))
            await asyncio.shield(self._settle(claimed, outcomes, inflight, marked, token))
        return len(claimed)

    async def _flush_sent_until(
        self, stop: asyncio.Event, finished: asyncio.Event, outcomes: dict[int, Outcome], marked: set[int], token: str
    ) -> None:
        """Record sends while the round goes on, as a group commit: as soon as a send has an answer,
        every answered send not yet recorded is written in one statement (while it is written, more
        answers gather for the next one; `mark_interval` is only the least gap between writes). If
        this process dies, only the sends of that last moment (and those on the wire) are unrecorded
        and sent again."""
        while not stop.is_set():
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(finished.wait())]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
            finished.clear()
            ready = [o for oid, o in list(outcomes.items()) if o.status == "sent" and oid not in marked]
            if not ready or stop.is_set():
                continue
            try:
                async with self.sessionmaker() as session, session.begin():
                    await self._mark_sent(session, ready, token)
            except Exception:
                log.exception("recording sent messages failed; the round's end records them")
                continue
            marked.update(o.id for o in ready)
            if self.mark_interval > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.mark_interval)

    async def _mark_sent(self, session: AsyncSession, sent: list[Outcome], token: str) -> None:
        await OutgoingRepo(session).mark_sent(sent, self.clock.now(), token)

    async def _settle(
        self,
        claimed: list[Claimed],
        outcomes: dict[int, Outcome],
        inflight: set[asyncio.Future[None]],
        marked: set[int],
        token: str,
    ) -> None:
        if inflight:
            await asyncio.gather(*inflight, return_exceptions=True)
        done = [outcomes[c.id] for c in claimed if c.id in outcomes]
        unsent = [c.id for c in claimed if c.id not in outcomes]
        blocked = {c.chat_id for c in claimed if c.id in outcomes and outcomes[c.id].error == "blocked"}
        async with self.sessionmaker() as session, session.begin():
            repo = OutgoingRepo(session)
            sent = [o for o in done if o.status == "sent" and o.id not in marked]
            if sent:
                await self._mark_sent(session, sent, token)
            await repo.release(unsent, token)
            await self._finish(repo, [o for o in done if o.status != "sent"], blocked, token)
        if self.on_outcomes is not None:
            self.on_outcomes(done)

    async def _finish(self, repo: OutgoingRepo, unsent: list[Outcome], blocked: set[int], token: str) -> None:
        """Record outcomes other than sent (a retry later, failed, dropped); the chats that blocked the
        bot lose all their pending rows (and the user is marked inactive)."""
        await repo.finish(unsent, self.clock.now(), token)
        for chat_id in blocked:
            await repo.drop_chat(chat_id, "blocked: bot was blocked by the user")

    async def _pace(self, chat_id: int) -> None:
        """Wait for the chat's pace and the global rate; the send to it leaves now."""
        if self.shared_pace is not None:  # every instance's pace for the chat (Redis)
            wait = await self.shared_pace.reserve(chat_id)
            if wait > 0:
                await asyncio.sleep(wait)
        delay = self.pacer.delay(chat_id)
        while delay > 0:  # an answer to the chat may take the token meanwhile: checked again
            await asyncio.sleep(delay)
            delay = self.pacer.delay(chat_id)
        self.pacer.hold(chat_id)
        try:
            await self.limiter.acquire()
        except BaseException:
            self.pacer.unhold(chat_id)
            raise
        self.pacer.take(chat_id)

    # --- one send ------------------------------------------------------------------------
    async def _send(self, item: Claimed) -> Outcome:
        try:
            method, payload = self._request(item)
            answer = await self.api.call(method, payload)
        except _Unsendable as exc:
            self.stats.failed += 1
            return Outcome(item.id, "failed", error=str(exc), attempts=item.attempts)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            return self._retry(item, f"{type(exc).__name__}: {exc}")
        if answer.get("ok"):
            self.stats.sent += 1
            return Outcome(item.id, "sent", message_id=self._message_id(item, answer.get("result")))
        code = int(answer.get("error_code") or 0)
        description = str(answer.get("description") or "")
        if code == 429:
            self.stats.rate_limited += 1
            retry_after = float((answer.get("parameters") or {}).get("retry_after") or 1)
            # Telegram does not say whether the chat's pace or the bot's overall rate was exceeded:
            # both wait it out (the row itself waits in the queue until not_before).
            self.pacer.pause(item.chat_id, retry_after)
            if self.shared_pace is not None:
                self.shared_pace.pause(item.chat_id, retry_after)
            self.limiter.pause(retry_after)
            log.warning(
                "429 for chat %s: retry after %ss",
                item.chat_id,
                retry_after,
                extra={"chat_id": item.chat_id, "retry_after": retry_after},
            )
            return Outcome(item.id, None, not_before=self.clock.now() + timedelta(seconds=retry_after))
        if code == 403:
            self.stats.blocked += 1
            log.info(
                "chat %s is unreachable: %s",
                item.chat_id,
                description,
                extra={"chat_id": item.chat_id, "reason": description},
            )
            return Outcome(item.id, "dropped", error="blocked", attempts=item.attempts + 1)
        if code == 400 and NOT_MODIFIED in description:
            self.stats.sent += 1
            return Outcome(item.id, "sent", message_id=item.target_message_id)
        if 400 <= code < 500:
            self.stats.failed += 1
            return Outcome(item.id, "failed", error=f"{code}: {description}", attempts=item.attempts + 1)
        return self._retry(item, f"{code}: {description}")

    def _retry(self, item: Claimed, error: str) -> Outcome:
        attempts = item.attempts + 1
        if attempts >= self.max_attempts:
            self.stats.failed += 1
            return Outcome(item.id, "failed", error=error, attempts=attempts)
        self.stats.retried += 1
        backoff = min(300.0, 2.0**attempts) * (0.5 + self._rng.random() / 2)
        return Outcome(
            item.id, None, not_before=self.clock.now() + timedelta(seconds=backoff), error=error, attempts=attempts
        )

    @staticmethod
    def _message_id(item: Claimed, result: Any) -> int | None:
        if isinstance(result, dict) and "message_id" in result:
            return int(result["message_id"])
        if isinstance(result, list) and result and isinstance(result[0], dict):
            return int(result[0]["message_id"])  # copyMessages: the album's first message
        return item.target_message_id if item.kind in {"edit_text", "edit_caption", "delete"} else None

    def _request(self, item: Claimed) -> tuple[str, dict[str, Any]]:
        """The Bot API method and JSON body for a row (texts and captions are HTML)."""
        p = item.payload
        body: dict[str, Any] = {"chat_id": item.chat_id}
        if p.get("reply_markup"):
            body["reply_markup"] = p["reply_markup"]
        reply_to = self._reply_to(item)
        if reply_to is not None:
            body["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
        if item.kind == "text":
            body.update(text=p["text"], parse_mode="HTML", link_preview_options={"is_disabled": True})
            if self.paid_broadcast:
                body["allow_paid_broadcast"] = True
            return "sendMessage", body
        if item.kind == "copy":
            body.update(from_chat_id=p["from_chat_id"], message_id=p["message_id"])
            if "caption" in p:
                body.update(caption=p["caption"], parse_mode="HTML")
            if self.paid_broadcast:
                body["allow_paid_broadcast"] = True
            return "copyMessage", body
        if item.kind == "album":  # copyMessages has no allow_paid_broadcast (nor have edits and deletes)
            body.update(from_chat_id=p["from_chat_id"], message_ids=p["message_ids"])
            return "copyMessages", body
        body["message_id"] = self._target(item)
        if item.kind == "edit_text":
            body.update(text=p["text"], parse_mode="HTML", link_preview_options={"is_disabled": True})
            return "editMessageText", body
        if item.kind == "edit_caption":
            body.update(caption=p["caption"], parse_mode="HTML")
            return "editMessageCaption", body
        if item.kind == "delete":
            body.pop("reply_markup", None)
            return "deleteMessage", body
        raise _Unsendable(f"unknown outgoing kind {item.kind}")

    @staticmethod
    def _reply_to(item: Claimed) -> int | None:
        reply_to = item.payload.get("reply_to_message_id")
        if reply_to is None and item.kind in {"text", "copy"} and item.target_id is not None:
            reply_to = item.target_message_id
        return int(reply_to) if reply_to is not None else None

    @staticmethod
    def _target(item: Claimed) -> int:
        target = item.payload.get("message_id") if item.target_id is None else item.target_message_id
        if target is None:
            raise _Unsendable("the message to act on was never sent")
        return int(target)


class BotApi:
    """A lean Bot API caller for the delivery hot path: JSON in, JSON out, over one pooled session
    (aiogram's typed methods cost more CPU per call than the HTTP request itself)."""

    def __init__(self, bot: Bot, *, pool: int = 100, timeout: float = 30.0) -> None:
        self.bot = bot
        self.pool = pool
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.pool), timeout=self.timeout, json_serialize=json.dumps
            )
        url = self.bot.session.api.api_url(self.bot.token, method)
        async with self._session.post(url, json=payload) as response:
            answer = await response.json(content_type=None)
        if not isinstance(answer, dict):
            raise ValueError(f"unexpected answer from {method}: {answer!r:.200}")
        return answer

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _Unsendable(Exception):
    """A row that can never be sent (its target message was never delivered, an unknown kind)."""
