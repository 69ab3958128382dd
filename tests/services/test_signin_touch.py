"""The per-update refresh of a user (profile fields, last seen) is noted by `ensure_user` and written
only by `save_touch`, just before the unit of work commits."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import FakeClock
from services.signin import TelegramProfile
from storage.models import User
from tests.services.helpers import services, signed_in_user


async def stored(sessionmaker: async_sessionmaker[AsyncSession], user_id: int) -> User:
    async with sessionmaker() as session:
        return (await session.execute(select(User).where(User.id == user_id))).scalar_one()


async def test_refresh_is_written_by_save_touch_only(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    async with sessionmaker() as session:
        user = await signed_in_user(session, clock)
        await session.commit()
    seen_before = (await stored(sessionmaker, user.id)).last_seen_at
    clock.advance(timedelta(minutes=5))

    async with sessionmaker() as session:
        signin, _, _ = services(session, clock)
        profile = TelegramProfile(user.telegram_id, "new_handle", "New Name")
        again = await signin.ensure_user(profile)
        assert again.first_name != "New Name"  # noted, not yet applied
        await session.flush()
        assert not session.dirty
        await signin.save_touch()
        assert again.first_name == "New Name"
        await session.commit()

    row = await stored(sessionmaker, user.id)
    assert (row.username, row.first_name) == ("new_handle", "New Name")
    assert row.last_seen_at is not None
    assert seen_before is not None
    assert row.last_seen_at > seen_before


async def test_no_write_within_the_last_seen_granularity(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    async with sessionmaker() as session:
        user = await signed_in_user(session, clock)
        await session.commit()
    clock.advance(timedelta(seconds=20))
    async with sessionmaker() as session:
        signin, _, _ = services(session, clock)
        await signin.ensure_user(TelegramProfile(user.telegram_id, user.username, user.first_name))
        assert signin.take_touch() == {}  # nothing changed: nothing for the relay batch to read or write
        await signin.ensure_user(TelegramProfile(user.telegram_id, user.username, "Renamed"))
        assert signin.take_touch() == {user.id: {"first_name": "Renamed"}}  # only what changed
        await signin.ensure_user(TelegramProfile(user.telegram_id, user.username, user.first_name))
        await signin.save_touch()
        assert not session.dirty


async def test_a_signed_out_user_keeps_no_profile_fields(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    async with sessionmaker() as session:
        signin, _, _ = services(session, clock)
        guest = await signin.ensure_user(TelegramProfile(990_001, "guest", "Guest"))
        await session.commit()
    clock.advance(timedelta(minutes=5))
    async with sessionmaker() as session:
        signin, _, _ = services(session, clock)
        await signin.ensure_user(TelegramProfile(990_001, "renamed", "Renamed"))
        await signin.save_touch()
        await session.commit()
    row = await stored(sessionmaker, guest.id)
    assert row.first_name == "Guest"  # stored at first contact only; not refreshed without a phone
