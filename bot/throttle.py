"""Per-user flood control on incoming updates (before any database work).

A token bucket per Telegram user: `burst` updates at once, refilled at `rate` per second. The
first update over the limit gets one "slow down" answer; the rest are dropped quietly until the
bucket refills, and the first update let through after that is preceded by how many messages were
not relayed meanwhile. Other users are not affected.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.i18n import Translator
from bot.metrics import Metrics

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class FloodGate:
    def __init__(self, rate: float, burst: float, monotonic: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = burst
        self.monotonic = monotonic
        self.buckets: dict[int, tuple[float, float, bool]] = {}  # user -> (tokens, at, warned)
        self.dropped: dict[int, int] = {}  # user -> messages dropped since they were last let through

    def note_dropped(self, user_id: int) -> None:
        self.dropped[user_id] = self.dropped.get(user_id, 0) + 1

    def take_dropped(self, user_id: int) -> int:
        return self.dropped.pop(user_id, 0)

    def admit(self, user_id: int) -> tuple[bool, bool]:
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
        self.dropped = {u: n for u, n in self.dropped.items() if u in self.buckets}


class FloodControlMiddleware(BaseMiddleware):
    def __init__(self, gate: FloodGate, translator: Translator, metrics: Metrics) -> None:
        self.gate = gate
        self.translator = translator
        self.metrics = metrics

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        if user is None or user.is_bot:
            return await handler(event, data)
        allowed, warn = self.gate.admit(user.id)
        if allowed:
            dropped = self.gate.take_dropped(user.id)
            if dropped and "bot" in data:  # allowed again: say what was lost before anything else
                t = self.translator.texts(self.translator.pick(None, user.language_code))
                await data["bot"].send_message(user.id, t("flood-dropped", count=dropped))
            return await handler(event, data)
        self.metrics.throttled.inc()
        if isinstance(event, Update) and event.message is not None:
            self.gate.note_dropped(user.id)
        if warn and isinstance(event, Update):
            t = self.translator.texts(self.translator.pick(None, user.language_code))
            if event.message is not None:
                await event.message.answer(t("flood-slow-down"))
            elif event.callback_query is not None:
                await event.callback_query.answer(t.plain("flood-slow-down"), show_alert=True)
        elif isinstance(event, Update) and event.callback_query is not None:
            await event.callback_query.answer()  # callback queries are always answered
        return None
