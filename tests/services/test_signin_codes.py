"""Sign-in codes against an attacker with a database dump or several instances: what is stored of a
code cannot be checked without the server's key, concurrent guesses share the code's attempts, and
the daily quotas stop at their cap however many updates race for them."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from services.clock import FakeClock
from services.errors import DomainError, NoPendingPhoneCode, PhoneCodeAttemptsExhausted, PhoneCodeWrong
from services.signin import TelegramProfile
from storage.db import SQLITE_BUSY_TIMEOUT_SECONDS, create_engine, create_sessionmaker
from storage.models import PhoneCode, User
from tests.conftest import DbTarget
from tests.services.helpers import services

_telegram_ids = itertools.count(700_000)


async def code_requested(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FakeClock, phone: str = "+79160001234"
) -> tuple[User, str]:
    """A signed-out Telegram account that asked for a code; the code as the SMS carried it."""
    async with sessionmaker() as session:
        signin, _, sms = services(session, clock)
        user = await signin.ensure_user(TelegramProfile(next(_telegram_ids)))
        await signin.request_phone_code(user, phone)
        await session.commit()
    return user, sms.sent[-1][1]


async def test_a_dump_of_the_codes_table_does_not_give_the_code(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    user, code = await code_requested(sessionmaker, clock)
    async with sessionmaker() as session:  # what a database dump holds
        row = (await session.execute(select(PhoneCode))).scalar_one()
    # Before, the stored hash was sha256("salt:code"): checking the 10,000 codes took milliseconds.
    for unkeyed in (f"{row.salt}:{code}", code + row.salt, row.salt + code, code):
        assert hashlib.sha256(unkeyed.encode()).hexdigest() != row.code_hash
    assert len(code) == 6
    from services.signin import code_digest
    from tests.services.helpers import TEST_CODE_KEY

    assert user.telegram_id is not None
    assert code_digest(TEST_CODE_KEY, row.salt, user.telegram_id, row.phone, code) == row.code_hash
    assert code_digest(b"another key" * 3, row.salt, user.telegram_id, row.phone, code) != row.code_hash


@pytest.fixture
async def second_instance(db: DbTarget) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The same database through an engine of its own, as another instance of the bot has. On SQLite
    with the stock aiosqlite driver: every statement is a trip to a thread, so guesses interleave
    (this process's fast path runs small statements without yielding, one update after another)."""
    if db.kind == "sqlite":
        engine = create_async_engine(db.url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
    else:
        engine = create_engine(db.url, search_path=db.schema)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def test_concurrent_guesses_share_the_codes_attempts(
    sessionmaker: async_sessionmaker[AsyncSession], second_instance: async_sessionmaker[AsyncSession]
) -> None:
    """Ten guesses at once (another instance, flooded): only three are ever checked."""
    clock = FakeClock()
    user, code = await code_requested(sessionmaker, clock)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    ready = asyncio.Event()

    async def guess(text: str) -> object:
        async with second_instance() as session:  # each guess on a connection of its own
            signin, _, _ = services(session, clock)
            await ready.wait()
            try:
                result = await signin.verify_phone_code(user, text)
            except DomainError as exc:
                await session.commit()  # as the unit of work does: a counted attempt is kept
                return exc
            await session.commit()
            return result

    tasks = [asyncio.create_task(guess(wrong)) for _ in range(10)]
    ready.set()
    results = await asyncio.gather(*tasks)
    checked = [r for r in results if isinstance(r, PhoneCodeWrong | PhoneCodeAttemptsExhausted)]
    assert len(checked) == 3, results  # PHONE_CODE_MAX_ATTEMPTS
    assert sorted(r.args_map.get("left", 0) for r in checked) == [0, 1, 2]
    assert all(isinstance(r, NoPendingPhoneCode) for r in results if r not in checked), results
    async with sessionmaker() as session:
        row = (await session.execute(select(PhoneCode))).scalar_one()
    assert row.attempts == 3
    assert row.closed_at is not None
    assert isinstance(await guess(code), NoPendingPhoneCode)  # even the right code, afterwards


async def test_concurrent_quota_takes_stop_at_the_cap(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    from storage.repositories.signin import SignInQuotaRepo

    day = FakeClock().now().replace(hour=0, minute=0, second=0, microsecond=0)
    ready = asyncio.Event()

    async def take() -> bool:
        async with sessionmaker() as session:
            await ready.wait()  # all at once: the first ones race for the day's new row
            taken = await SignInQuotaRepo(session).take("phone:target", day, "codes", cap=5)
            await session.commit()
            return taken

    tasks = [asyncio.create_task(take()) for _ in range(12)]
    ready.set()
    assert sorted(await asyncio.gather(*tasks)) == [False] * 7 + [True] * 5


async def test_old_quotas_and_takeover_requests_are_purged(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    from storage.models import SignInQuota

    clock = FakeClock()
    await code_requested(sessionmaker, clock, "+79160001111")
    clock.advance(timedelta(days=1))
    await code_requested(sessionmaker, clock, "+79160002222")
    clock.advance(timedelta(days=1))
    async with sessionmaker() as session:
        signin, _, _ = services(session, clock)
        await signin.purge_phone_code_leftovers()
        await session.commit()
    async with sessionmaker() as session:
        days = set((await session.scalars(select(SignInQuota.day))).all())
        count = await session.scalar(select(func.count()).select_from(SignInQuota))
    assert len(days) == 1  # the day before yesterday is gone; yesterday's is kept (clocks of instances differ)
    assert count == 2  # its phone and its Telegram account
