"""Liveness: has the process made progress lately? (Readiness, whether the database and Redis answer,
is `check_health` in bot/server.py.)

Three things must move: the polling loop (each getUpdates answer), the updates being handled (none
in flight for longer than the limit) and the delivery worker (a round ends at least every second
when idle). A process where one of them stands still answers 503 on /livez, so an orchestrator
restarts it; a database outage alone does not (that is readiness).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType

from services.clock import Clock

if TYPE_CHECKING:
    from bot.app import BotApp


class Progress:
    """Updates in flight (id -> when it started) and the polling loop's last answer."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.in_flight: dict[int, datetime] = {}
        self.polled_at: datetime | None = None  # None: not polling (webhook mode, or not started)

    def started(self, update_id: int) -> None:
        self.in_flight[update_id] = self.clock.now()

    def finished(self, update_id: int) -> None:
        self.in_flight.pop(update_id, None)

    def oldest_in_flight(self) -> datetime | None:
        return min(self.in_flight.values(), default=None)


class PollHeartbeat(BaseRequestMiddleware):
    """Notes each getUpdates answer (an empty long poll too): the polling loop is alive."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        response = await make_request(bot, method)
        if isinstance(method, GetUpdates):
            self.progress.polled_at = self.progress.clock.now()
        return response


def check_liveness(app: BotApp) -> tuple[bool, dict[str, str]]:
    s = app.ctx.settings
    now = app.ctx.clock.now()
    limit = s.liveness_stale_seconds
    progress = app.ctx.progress
    checks: dict[str, str] = {}

    def age(moment: datetime | None) -> float:
        return (now - moment).total_seconds() if moment is not None else 0.0

    if progress.polled_at is not None and age(progress.polled_at) > limit:
        checks["polling"] = f"stuck: no answer for {age(progress.polled_at):.0f} s"
    else:
        checks["polling"] = "ok" if progress.polled_at is not None else "off"
    oldest = progress.oldest_in_flight()
    checks["updates"] = f"stuck: one in flight for {age(oldest):.0f} s" if age(oldest) > limit else "ok"
    worker = app.delivery
    if worker is None or not s.delivery_worker:
        checks["delivery"] = "off"
    elif not worker.running:
        checks["delivery"] = "down: not running"
    elif age(worker.stats.progressed_at) > limit:
        checks["delivery"] = f"stuck: no round ended for {age(worker.stats.progressed_at):.0f} s"
    else:
        checks["delivery"] = "ok"
    return all(v in {"ok", "off"} for v in checks.values()), checks
