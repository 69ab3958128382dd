"""Building services on a real session, as the unit-of-work middleware does."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.sms import LogSmsSender
from services.clock import FakeClock
from services.events import EventRecorder, EventTypes
from services.invites import InviteService, generate_code
from services.relay import plain_relay
from services.signin import SignInService, TelegramProfile
from storage.models import User

TEST_CODE_KEY = b"k" * 32  # the server's HMAC key for sign-in codes, in service tests
_telegram_ids = itertools.count(500_000)
_phones = itertools.count(2_000_001)


def services(
    session: AsyncSession, clock: FakeClock, generate: Callable[[], str] = generate_code
) -> tuple[SignInService, InviteService, LogSmsSender]:
    events = EventRecorder(session, clock, enabled=True, types=EventTypes())
    invites = InviteService(session, clock, events, code_ttl=timedelta(days=30), generate=generate)
    sms = LogSmsSender()
    signin = SignInService(
        session,
        clock,
        events,
        invites,
        sms,
        default_region="RU",
        code_ttl=timedelta(minutes=5),
        max_attempts=3,
        cooldown=timedelta(seconds=60),
        code_key=TEST_CODE_KEY,
    )
    return signin, invites, sms


relay_service = plain_relay  # the relay on a session, with plain copies and events recorded


async def signed_in_user(session: AsyncSession, clock: FakeClock, generate: Callable[[], str] = generate_code) -> User:
    signin, _, _ = services(session, clock, generate)
    user = await signin.ensure_user(TelegramProfile(next(_telegram_ids)))
    result = await signin.sign_in_with_contact(user, user.telegram_id, f"+7916{next(_phones):07d}")
    return result.user


def record_statements(
    sessionmaker: async_sessionmaker[AsyncSession], matches: Callable[[str], bool]
) -> list[tuple[str, Any]]:
    """From now on, every statement the sessionmaker's engine sends that `matches`, with its parameters."""
    bind: Any = sessionmaker.kw["bind"]
    seen: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if matches(statement):
            seen.append((statement, parameters))

    event.listen(bind.sync_engine, "before_cursor_execute", before)
    return seen


async def wait_for_lock(sessionmaker: async_sessionmaker[AsyncSession], pid: int, task: asyncio.Task[Any]) -> bool:
    """PostgreSQL: until the connection `pid` waits for a lock (True), or `task` ended without waiting
    (False); polled from a connection of its own, a transaction per look (pg_stat_activity is read once
    per transaction), for at most about 10 s."""
    for _ in range(1000):
        if task.done():
            return False
        async with sessionmaker() as watcher, watcher.begin():
            waiting = await watcher.scalar(
                text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
        if waiting == "Lock":
            return True
        await asyncio.sleep(0.01)
    raise AssertionError(f"connection {pid} neither waited for a lock nor finished")


async def backend_pid(session: AsyncSession) -> int:
    """PostgreSQL: the server process of this session's connection (its transaction begins)."""
    return int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)
