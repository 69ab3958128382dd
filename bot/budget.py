"""One outgoing budget for every Bot API call that puts a message in a chat.

Telegram limits a bot to about 30 messages a second overall and one a second per chat (short bursts
tolerated), whoever sends them: an answer to a command, a button's edit, a report card, the error
apology, a relayed copy, a notice, a broadcast. The delivery worker (bot.delivery) sends queued rows
through the global limiter and the chats' pacer; handlers send through aiogram's Bot. `Budget` is
both, shared: the worker takes its slots through `Budget.lane(...)` and every aiogram send through
`BudgetMiddleware` (a request middleware of the Bot's session), so there is one global rate and one
pace per chat in the process, and across instances when Redis is set (the global rate through
`RedisSpacingLimiter`, the chats' pace through `RedisChatPace`).

Priorities: an answer to a person's own action first (`Priority.ANSWER`, what aiogram sends unless
`sending_at` says otherwise), relayed copies next (`RELAY`, the worker), broadcasts and bulk notices
last (`BULK`). Answers go straight to the limiter; the other lanes hold at most `ahead` slots of it at
a time (0.15 s of the rate: 5 slots at 30/s, 150 at 1,000/s, where that is more than the worker's
sends in flight and the lane costs nothing), waiting in priority order for the rest, so an answer
waits a few slots behind a fan-out draining at the full rate, never behind the fan-out.

A 429 that happens anyway pauses the chat and the global rate for `retry_after`, and the answer is sent
again once the pause ends (`BudgetMiddleware.retries` times at most) instead of failing the handler.

Not counted: answerCallbackQuery (immediate: it only stops a button's spinner), sendChatAction,
deleteMessage, getMe and every other call that puts no message in a chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from redis.asyncio import Redis

from bot.batching import Batched
from bot.delivery.limits import ChatPacer, RateLimiter, RedisSpacingLimiter, SpacingLimiter
from storage.models.delivery import Priority

log = logging.getLogger(__name__)

__all__ = ["Budget", "BudgetMiddleware", "Lane", "Priority", "RedisChatPace", "build_budget", "sending_at"]


SEND_PRIORITY: ContextVar[Priority] = ContextVar("send_priority", default=Priority.ANSWER)


@contextlib.contextmanager
def sending_at(priority: Priority) -> Iterator[None]:
    """aiogram sends made inside this block (this task and the tasks it starts) take `priority`."""
    token = SEND_PRIORITY.set(priority)
    try:
        yield
    finally:
        SEND_PRIORITY.reset(token)


# Bot API methods that put a message in a chat or change one: each takes a slot and the chat's pace.
PACED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendAudio",
        "sendDocument",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendVideoNote",
        "sendPaidMedia",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendSticker",
        "sendInvoice",
        "sendGame",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
        "editMessageLiveLocation",
        "stopMessageLiveLocation",
        "stopPoll",
    }
)


class RedisChatPace:
    """Every chat's pace shared by all instances: a token bucket per chat in Redis (`rate` a second,
    bursts of `burst`), a Lua script on Redis' clock. A send reserves its token at once and is told
    how long to wait before it leaves; the key expires once the bucket would be full again, so idle
    chats vanish. The reservations asked for while one is on its way go together, one script call
    for all their chats (`bot.batching.Coalescer`): one round trip per send through a few connections
    capped the sends at connections / round-trip time (about 100 a second on a busy 2-core machine,
    bench.webhook); now it is a round trip per batch, and batches grow with the load."""

    # KEYS the chats' buckets (a chat may come more than once: each takes the next token); ARGV rate,
    # burst, pause (seconds: 0 takes a token, more empties the buckets for that long). Returns the
    # wait before each send may leave.
    SCRIPT = """
    local t = redis.call('TIME')
    local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
    local rate = tonumber(ARGV[1])
    local burst = tonumber(ARGV[2])
    local pause = tonumber(ARGV[3])
    local waits = {}
    for i, key in ipairs(KEYS) do
        local v = redis.call('HMGET', key, 'tokens', 'at')
        local tokens = tonumber(v[1]) or burst
        local at = tonumber(v[2]) or now
        tokens = math.min(burst, tokens + (now - at) * rate)
        local wait = 0
        if pause > 0 then
            tokens = math.min(tokens, 1 - pause * rate)
        else
            if tokens < 1 then wait = (1 - tokens) / rate end
            tokens = tokens - 1
        end
        -- tostring keeps 14 digits: a time of day in seconds would lose its last 100 microseconds
        redis.call('HSET', key, 'tokens', string.format('%.17g', tokens), 'at', string.format('%.6f', now))
        redis.call('PEXPIRE', key, math.ceil((burst - tokens) / rate * 1000) + 1000)
        waits[i] = tostring(wait)
    end
    return waits
    """

    def __init__(
        self,
        redis: Redis,
        rate: float,
        burst: float,
        prefix: str = "bot",
        margin: float = 0.95,
        connections: int = 8,
    ) -> None:
        self.redis = redis
        self.rate = rate * margin
        self.burst = burst
        self.prefix = prefix
        self._script = redis.register_script(self.SCRIPT)
        self._pushes: set[asyncio.Future[Any]] = set()
        self._reservations = Batched(self._reserve_many, max_batch=500)  # one batch on its way at a time
        # Pauses (after a 429) go alone, through a few connections: the client's pool is left to the rest.
        self._gate = asyncio.Semaphore(connections)
        self.failures = 0

    def key(self, chat_id: int) -> str:
        return f"{self.prefix}:pace:{chat_id}"

    async def reserve(self, chat_id: int) -> float:
        """Take the chat's next token; seconds to wait before the send leaves. If Redis fails, no wait
        (this process' own pace per chat still holds) and a warning."""
        return await self._reservations.submit(chat_id)

    async def _reserve_many(self, chat_ids: list[int]) -> list[float]:
        try:
            waits = await self._script(keys=[self.key(c) for c in chat_ids], args=[self.rate, self.burst, 0])
            return [float(wait) for wait in waits]
        except Exception:
            self.failures += 1
            log.warning("the chats' shared pace is unreachable in Redis; this process paces alone", exc_info=True)
            return [0.0] * len(chat_ids)

    def pause(self, chat_id: int, seconds: float) -> None:
        """A 429 for the chat: no instance sends to it for `seconds`."""
        task = asyncio.ensure_future(self._pause(chat_id, seconds))
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    async def _pause(self, chat_id: int, seconds: float) -> None:
        try:
            async with self._gate:
                await self._script(keys=[self.key(chat_id)], args=[self.rate, self.burst, seconds])
        except Exception:
            log.warning("could not share a chat's 429 pause through Redis", exc_info=True)


class Budget:
    """The global limiter and the chats' pace, shared by every sender of the process at a priority."""

    def __init__(
        self,
        limiter: RateLimiter,
        pacer: ChatPacer,
        *,
        rate: float,
        shared_pace: RedisChatPace | None = None,
        ahead_seconds: float = 0.15,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limiter = limiter
        self.pacer = pacer  # this process' pace per chat (the worker's own)
        self.shared_pace = shared_pace  # every instance's, with Redis
        self.ahead = max(2, math.ceil(rate * ahead_seconds))
        self.sleep = sleep
        self._inside = 0  # lane acquirers holding or waiting for a slot of the limiter
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []  # (priority, order, future)
        self._order = itertools.count()
        self.waiting_answers = 0
        self.sent = dict.fromkeys(Priority, 0)  # slots handed out, per priority

    def lane(self, priority: Priority) -> Lane:
        """The global limiter as one sender sees it (`RateLimiter`): the delivery worker's slots."""
        return Lane(self, priority)

    async def acquire(self, priority: Priority = Priority.ANSWER) -> None:
        """A slot of the global rate; answers first, the other lanes a few slots ahead at most."""
        if priority == Priority.ANSWER:
            self.waiting_answers += 1
            try:
                await self.limiter.acquire()
            finally:
                self.waiting_answers -= 1
            self.sent[priority] += 1
            return
        if self._inside < self.ahead and not self._waiters:
            self._inside += 1
        else:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiters, (priority, next(self._order), future))
            try:
                await future
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    self._release()  # the turn was handed over just as this waiter was cancelled
                else:
                    future.cancel()  # skipped when its turn comes
                raise
        try:
            await self.limiter.acquire()
        finally:
            self._release()
        self.sent[priority] += 1

    def _release(self) -> None:
        self._inside -= 1
        while self._waiters and self._inside < self.ahead:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)
                self._inside += 1

    async def turn(self, chat_id: int | None, priority: Priority = Priority.ANSWER) -> None:
        """Wait for the chat's pace and a slot of the global rate; the send leaves now."""
        if chat_id is not None and self.shared_pace is not None:
            wait = await self.shared_pace.reserve(chat_id)
            if wait > 0:
                await self.sleep(wait)
        if chat_id is None:
            await self.acquire(priority)
            return
        while (delay := self.pacer.delay(chat_id)) > 0:
            await self.sleep(delay)
        self.pacer.hold(chat_id)  # the token is this send's while it waits for its slot
        try:
            await self.acquire(priority)
        except BaseException:
            self.pacer.unhold(chat_id)
            raise
        self.pacer.take(chat_id)

    def pause(self, chat_id: int | None, seconds: float) -> None:
        """A 429: the chat (if any) and the global rate wait `seconds`, on every instance with Redis."""
        if chat_id is not None:
            self.pacer.pause(chat_id, seconds)
            if self.shared_pace is not None:
                self.shared_pace.pause(chat_id, seconds)
        self.limiter.pause(seconds)


class Lane:
    """`RateLimiter` of one priority over a `Budget` (what the delivery worker is given)."""

    def __init__(self, budget: Budget, priority: Priority) -> None:
        self.budget = budget
        self.priority = priority

    async def acquire(self) -> None:
        await self.budget.acquire(self.priority)

    def pause(self, seconds: float) -> None:
        self.budget.limiter.pause(seconds)


class BudgetMiddleware(BaseRequestMiddleware):
    """Every aiogram call that puts a message in a chat takes the chat's pace and a global slot from
    the budget, at the priority of `SEND_PRIORITY` (answers unless set lower). A 429 pauses the chat and
    the global rate, and the call is made again once the pause is over."""

    def __init__(self, budget: Budget, retries: int = 3) -> None:
        self.budget = budget
        self.retries = retries
        self.retried = 0  # answers sent again after a 429

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        if method.__api_method__ not in PACED_METHODS:
            return await make_request(bot, method)
        chat = getattr(method, "chat_id", None)
        chat_id = chat if isinstance(chat, int) else None  # an @username or an inline message: the global rate
        priority = SEND_PRIORITY.get()
        attempt = 0
        while True:
            await self.budget.turn(chat_id, priority)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                self.budget.pause(chat_id, float(exc.retry_after))
                if attempt >= self.retries:
                    raise
                attempt += 1
                self.retried += 1
                log.warning(
                    "429 for an answer to chat %s: sent again after %ss",
                    chat_id,
                    exc.retry_after,
                    extra={"chat_id": chat_id, "retry_after": exc.retry_after, "method": method.__api_method__},
                )


def build_budget(redis: Redis | None, rate: float, per_chat_rate: float, per_chat_burst: float, prefix: str) -> Budget:
    """The budget of a process: with Redis, the global rate and every chat's pace are shared by all
    instances; alone, the process spaces its own sends."""
    if redis is None:
        return Budget(SpacingLimiter(rate), ChatPacer(per_chat_rate, per_chat_burst), rate=rate)
    return Budget(
        RedisSpacingLimiter(redis, rate, key=f"{prefix}:delivery:next-slot"),
        ChatPacer(per_chat_rate, per_chat_burst),
        rate=rate,
        shared_pace=RedisChatPace(redis, per_chat_rate, per_chat_burst, prefix=prefix),
    )
