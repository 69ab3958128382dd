"""The senders' rows of concurrent updates are read together (`bot.user_loader.UserLoader`), and each
update takes its row into its own session without a query, as if it had read it there."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.user_loader import UserLoader
from services.clock import FakeClock
from services.signin import TelegramProfile
from storage.db import has_work
from storage.models import User
from storage.repositories.users import UserRepo
from tests.services.helpers import record_statements, services, signed_in_user


def count_selects(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[str, Any]]:
    return record_statements(
        sessionmaker, lambda statement: statement.lstrip().upper().startswith("SELECT") and "FROM users" in statement
    )


async def test_lookups_that_come_together_are_one_statement(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    async with sessionmaker() as session:
        people = [await signed_in_user(session, clock) for _ in range(5)]
        await session.commit()
    loader = UserLoader(sessionmaker)
    selects = count_selects(sessionmaker)
    wanted = [p.telegram_id for p in people] + [people[0].telegram_id, 987_654_321]  # one twice, one unknown
    found = await asyncio.gather(*(loader.load(t) for t in wanted if t is not None))
    assert [u.telegram_id if u else None for u in found] == [*wanted[:-1], None]
    assert found[0] is not found[5]  # each to its own session
    assert loader.batches == 1  # all asked for before the loader's task ran
    assert len(selects) == 2  # all at once, then the one asked for twice again


async def test_an_adopted_row_is_changed_and_saved_without_reading_it_again(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    async with sessionmaker() as session:
        user = await signed_in_user(session, clock)
        user.is_active = False  # blocked the bot: writing again makes them reachable
        await session.commit()
    loader = UserLoader(sessionmaker)
    async with sessionmaker() as session:
        signin, _, _ = services(session, clock)
        selects = count_selects(sessionmaker)
        again = await signin.ensure_user(TelegramProfile(user.telegram_id, "handle", "Name"), read=loader.load)
        assert len(selects) == 1  # the loader's, not one in this session
        assert again in session
        assert again.is_active
        await signin.save_touch()
        await session.commit()
    async with sessionmaker() as session:
        row = await session.get(User, user.id)
        assert row is not None
        assert (row.is_active, row.first_name) == (True, "Name")


async def test_a_first_contact_is_added_when_the_loader_finds_no_row(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    loader = UserLoader(sessionmaker)
    async with sessionmaker() as session:
        signin, _, _ = services(session, FakeClock())
        new = await signin.ensure_user(TelegramProfile(123_456_789, None, "First"), read=loader.load)
        await session.commit()
    async with sessionmaker() as session:
        assert await session.get(User, new.id) is not None


async def test_a_session_that_only_adopted_a_row_has_nothing_to_commit(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    async with sessionmaker() as session:
        user = await signed_in_user(session, clock)
        await session.commit()
        assert not has_work(session)
    loader = UserLoader(sessionmaker)
    async with sessionmaker() as session:
        adopted = UserRepo(session).adopt(await loader.load(user.telegram_id) or User())
        assert not has_work(session)  # nothing ran, nothing changed: no commit needed
        adopted.nickname = "Renamed"
        assert has_work(session)
    async with sessionmaker() as session:
        await session.get(User, user.id)
        assert has_work(session)  # a statement ran: its transaction is committed
        await session.commit()
        assert not has_work(session)
