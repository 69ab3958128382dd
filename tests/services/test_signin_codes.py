"""Sign-in codes against an attacker with a database dump or several instances: what is stored of a
code cannot be checked without the server's key, concurrent guesses share the code's attempts, and
the daily quotas stop at their cap however many updates race for them."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.sms import HttpSmsSender, LogSmsSender, create_sms_sender, phone_code_key
from services.clock import FakeClock
from services.errors import DomainError, NoPendingPhoneCode, PhoneCodeAttemptsExhausted, PhoneCodeWrong
from services.signin import TelegramProfile
from storage.models import PhoneCode, User
from tests.fakes.telegram import TOKEN
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
    assert len(code) == 6
    # Before, the stored hash was sha256("salt:code"): checking the million codes took a second.
    for unkeyed in (f"{row.salt}:{code}", code + row.salt, row.salt + code, code):
        assert hashlib.sha256(unkeyed.encode()).hexdigest() != row.code_hash
    from services.signin import code_digest
    from tests.services.helpers import TEST_CODE_KEY

    assert user.telegram_id is not None
    assert code_digest(TEST_CODE_KEY, row.salt, user.telegram_id, row.phone, code) == row.code_hash
    assert code_digest(b"another key" * 3, row.salt, user.telegram_id, row.phone, code) != row.code_hash


async def test_concurrent_guesses_share_the_codes_attempts(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Ten guesses at once (several instances, or one flooded): only three are ever checked."""
    clock = FakeClock()
    user, code = await code_requested(sessionmaker, clock)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    ready = asyncio.Event()

    async def guess(text: str) -> object:
        async with sessionmaker() as session:
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


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, bot_token=TOKEN, **values)  # type: ignore[call-arg,arg-type]


async def test_phone_codes_need_a_sender_or_the_loud_dev_flag(caplog: pytest.LogCaptureFixture) -> None:
    assert create_sms_sender(settings()) is None  # no gateway: /phone is not offered
    with caplog.at_level(logging.WARNING, logger="bot.sms"):
        sender = create_sms_sender(settings(sms_dev_log_codes=True))
    assert isinstance(sender, LogSmsSender)
    assert "anyone who can read it can sign in as anyone" in caplog.text
    http = create_sms_sender(settings(sms_sender_url="http://127.0.0.1:9/sms", sms_dev_log_codes=True))
    assert isinstance(http, HttpSmsSender)
    await http.close()


def test_code_key_is_the_secret_or_derived_from_the_bot_token() -> None:
    derived = phone_code_key(settings())
    assert derived == phone_code_key(settings())  # every instance, every restart: codes stay valid
    assert len(derived) == 32
    assert TOKEN.encode() not in derived
    secret = "s" * 32
    assert phone_code_key(settings(phone_code_secret=secret)) not in (derived, secret.encode())
    with pytest.raises(ValidationError, match="at least 32 characters"):
        settings(phone_code_secret="short")
