"""The end-to-end harness: the production app (same factories) polling a fake Bot API."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from bot.app import BotApp
from bot.delivery.limits import ChatPacer, RateLimiter
from bot.settings import Settings
from bot.sms import LogSmsSender
from services.clock import FakeClock
from tests.fakes.telegram import TOKEN, FakeTelegram, FakeUser

ADMIN_ID = 42


@dataclass
class Person:
    """A scripted user plus the shortcuts tests keep needing."""

    fake: FakeUser
    harness: Harness
    phone: str | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fake, name)

    async def signed_in(self, phone: str | None = None) -> Person:
        self.phone = phone or self.harness.new_phone()
        await self.fake.send("/start")
        await self.fake.send_contact(self.phone)
        assert self.fake.received("signed in") or self.fake.received("Вы вошли"), self.fake.texts()[-3:]
        return self

    async def invite_code(self) -> str:
        from sqlalchemy import select

        from storage.models import InviteCode, User

        async with self.harness.app.ctx.sessionmaker() as session:
            code = await session.scalar(
                select(InviteCode.code)
                .join(User, User.id == InviteCode.owner_id)
                .where(User.telegram_id == self.fake.id, InviteCode.revoked_at.is_(None))
            )
        assert code is not None, f"{self.fake.first_name} has no invite code"
        return code


class RecordedPause:
    """The harness' stand-in for the in-memory 429 pause (`RateLimiter.pause`, `ChatPacer.pause`): it
    records the pause instead of waiting it out. A row that got a 429 waits out retry_after on the fake
    clock (its not_before), which tests move; the limiter and the pacer run on the wall clock, which
    tests do not, so each 429 would cost its retry_after in real seconds (and a send that held a slot
    when the 429 came would wait inside a drain that the test cannot move on). In production both are
    the wall clock and end together. The waiting itself is tested on a fake clock in
    tests/services/test_spacing_limiter.py and test_redis_limiter.py."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int | None, float]] = []  # (chat, seconds); chat None: the global rate


class HarnessLimiter(RecordedPause):
    def __init__(self, limiter: RateLimiter) -> None:
        super().__init__()
        self.limiter = limiter

    async def acquire(self) -> None:
        await self.limiter.acquire()

    def pause(self, seconds: float) -> None:
        self.pauses.append((None, seconds))


class HarnessPacer(ChatPacer):
    def __init__(self, pacer: ChatPacer) -> None:
        super().__init__(burst=pacer.burst, monotonic=pacer.monotonic, margin=1.0)
        self.rate = pacer.rate
        self.pauses: list[tuple[int | None, float]] = []

    def pause(self, chat_id: int, seconds: float) -> None:
        self.pauses.append((chat_id, seconds))


@dataclass
class Harness:
    tg: FakeTelegram
    app: BotApp
    clock: FakeClock
    sms: LogSmsSender
    polling: asyncio.Task[None] | None = None
    _phones: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_001))

    def user(self, name: str, **kwargs: Any) -> Person:
        return Person(self.tg.user(name, **kwargs), self)

    def admin(self, name: str = "Admin") -> Person:
        return Person(self.tg.user(name, user_id=ADMIN_ID), self)

    @property
    def delivery_pauses(self) -> list[tuple[int | None, float]]:
        """The 429 pauses the delivery worker asked for, chats' and the global rate's (None)."""
        assert self.app.delivery is not None
        limiter, pacer = self.app.delivery.limiter, self.app.delivery.pacer
        assert isinstance(limiter, HarnessLimiter)
        assert isinstance(pacer, HarnessPacer)
        return limiter.pauses + pacer.pauses

    @property
    def answer_pauses(self) -> list[tuple[int | None, float]]:
        """The 429 pauses of the global rate asked for by answers (bot.budget): (None, seconds)."""
        assert self.app.budget is not None
        limiter = self.app.budget.limiter
        assert isinstance(limiter, HarnessLimiter)
        return limiter.pauses

    def new_phone(self) -> str:
        return f"+7916{next(self._phones):07d}"[:12]

    async def run_jobs(self) -> None:
        await self.app.scheduler.run_all_once()
        await self.deliver()

    async def settle(self) -> None:
        """After an update was taken: wait for the handlers still running (updates handled as tasks),
        then deliver what they queued."""
        while running := set(self.app.dp._handle_update_tasks):
            await asyncio.gather(*running, return_exceptions=True)
        if self.app.ctx.fan_out is not None:
            await self.app.ctx.fan_out.wait_idle()  # a big fan-out's pages (bot/fanout.py)
        await self.deliver()

    async def deliver(self) -> int:
        """Send everything due in the outgoing queue (what the background worker does in production)."""
        assert self.app.delivery is not None
        if self.app.ctx.settings.delivery_worker:
            return 0
        return await self.app.delivery.drain()


def make_settings(fake_url: str, database_url: str, schema: str | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "database_url": database_url,
        "database_schema": schema,
        "telegram_api_url": fake_url,
        "admin_ids": [ADMIN_ID],
        "gmfy_api_key": "test-gmfy-key",
        "gmfy_url": "http://127.0.0.1:9/",
        # The queue is drained by the harness after each update (deterministic); tests of the
        # background worker itself turn it back on.
        "delivery_worker": False,
        # Scripted users type faster than people and the fake clock stands still: flood control is
        # tested on its own (test_production.py).
        "flood_rate": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def start_harness(
    database_url: str,
    schema: str | None,
    *,
    handle_as_tasks: bool = False,
    pace_answers: bool = False,
    **overrides: Any,
) -> Harness:
    """The app polling the fake. Updates are handled one by one unless `handle_as_tasks` (what
    production polling and webhook mode do: each update in a task of its own, concurrently); answers
    keep their chats' pace only with `pace_answers` (the global rate always)."""
    tg = FakeTelegram()
    await tg.start()
    clock = FakeClock()
    sms = LogSmsSender()
    app = await BotApp.create(make_settings(tg.url, database_url, schema, **overrides), clock=clock, sms=sms)
    if app.delivery is not None:  # before polling starts the worker (see RecordedPause)
        app.delivery.limiter = HarnessLimiter(app.delivery.limiter)
        app.delivery.pacer = HarnessPacer(app.delivery.pacer)
        if app.budget is not None:  # answers' 429 pauses recorded too (bot.budget)
            app.budget.limiter = HarnessLimiter(app.budget.limiter)
            # Scripted users type faster than people (as flood_rate 0 above): their answers wait for no
            # chat's pace (a second each after a burst of three, on the wall clock) unless a test asks,
            # and then share the worker's pacer as in production.
            app.budget.pacer = app.delivery.pacer if pace_answers else ChatPacer(rate=1e9, burst=1e9)
    harness = Harness(tg, app, clock, sms)
    tg.after_processed = harness.settle
    harness.polling = asyncio.create_task(
        app.run_polling(handle_signals=False, handle_as_tasks=handle_as_tasks, polling_timeout=5)
    )
    await tg.wait_until(lambda: tg.polls > 0, what="the bot to start polling")
    return harness


async def restart_harness(harness: Harness, database_url: str, schema: str | None, **overrides: Any) -> None:
    """Stop the app and start a new one on the same database and fake Bot API (chats and all), as a
    restart of the process would: nothing kept in its memory survives."""
    await harness.app.dp.stop_polling()
    await harness.tg.release_pollers()
    if harness.polling is not None:
        await asyncio.wait_for(harness.polling, 10)
    await harness.app.close()
    harness.tg.closing = False
    settings = make_settings(harness.tg.url, database_url, schema, **overrides)
    harness.app = await BotApp.create(settings, clock=harness.clock, sms=harness.sms)
    polls = harness.tg.polls
    harness.polling = asyncio.create_task(harness.app.run_polling(handle_signals=False, polling_timeout=5))
    await harness.tg.wait_until(lambda: harness.tg.polls > polls, what="the restarted bot to poll")


async def stop_harness(harness: Harness) -> None:
    await harness.app.dp.stop_polling()
    await harness.tg.release_pollers()
    if harness.polling is not None:
        await asyncio.wait_for(harness.polling, 10)
    await harness.app.close()
    await harness.tg.stop()


async def count(tg: Harness, model: Any, *where: Any) -> int:
    """Rows of `model` (matching `where`) in the app's database."""
    from sqlalchemy import func, select

    async with tg.app.ctx.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0
