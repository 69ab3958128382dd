"""Rows made on first use, made by two transactions at once (two instances handling two updates of one
user, or two admins): one row, and neither update fails, as first contact already is
(test_concurrent_writes.py). Both transactions read first, then both write, then both commit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import FakeClock
from services.errors import DomainError
from services.events import EventRecorder, EventTypes
from services.rooms import RoomService
from storage.models import Block, Member, Moderator, RoomMember, RuntimeSetting, User
from storage.repositories.moderation import ModeratorRepo
from storage.repositories.relay import RelayRepo
from tests.services.helpers import signed_in_user


async def users(sessionmaker: async_sessionmaker[AsyncSession], n: int) -> list[User]:
    async with sessionmaker() as session:
        made = [await signed_in_user(session, FakeClock()) for _ in range(n)]
        await session.commit()
    return made


async def twice_at_once(
    sessionmaker: async_sessionmaker[AsyncSession], work: Callable[[AsyncSession, int], Awaitable[Any]]
) -> list[Any]:
    """`work` in two transactions that have both begun (read) before either writes; each result, or
    the domain error it raised (anything else fails the test)."""
    both_read = asyncio.Barrier(2)

    async def one(n: int) -> Any:
        async with sessionmaker() as session:
            await session.scalar(select(func.count()).select_from(User))
            await both_read.wait()
            try:
                result = await work(session, n)
            except DomainError as refused:
                await session.commit()  # a refusal still commits, as the unit of work does
                return refused
            await session.commit()
            return result

    return list(await asyncio.gather(one(0), one(1)))


async def count(sessionmaker: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def test_join_twice_at_once_makes_one_member_row(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    (alice,) = await users(sessionmaker, 1)

    async def join(session: AsyncSession, _: int) -> bool:
        member = await RelayRepo(session).member(alice.id, create=True)
        assert member is not None
        member.in_common = True
        return member.in_common

    assert await twice_at_once(sessionmaker, join) == [True, True]
    assert await count(sessionmaker, Member, Member.user_id == alice.id) == 1


async def test_room_link_opened_twice_at_once_makes_one_request(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner, guest = await users(sessionmaker, 2)
    clock = FakeClock()

    def rooms(session: AsyncSession) -> RoomService:
        return RoomService(session, clock, EventRecorder(session, clock, enabled=False, types=EventTypes()))

    async with sessionmaker() as session:
        room = await rooms(session).create(owner, "Book club")
        payload = RoomService.link_payload(room)
        await session.commit()

    async def open_link(session: AsyncSession, _: int) -> Any:
        return await rooms(session).request_join(guest, payload)

    results = await twice_at_once(sessionmaker, open_link)
    names = sorted(type(r).__name__ for r in results)
    assert names == ["JoinRequest", "RoomAlreadyRequested"]
    assert await count(sessionmaker, RoomMember, RoomMember.user_id == guest.id) == 1


async def test_room_switch_twice_at_once_makes_one_member_row(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    (owner,) = await users(sessionmaker, 1)
    clock = FakeClock()

    def rooms(session: AsyncSession) -> RoomService:
        return RoomService(session, clock, EventRecorder(session, clock, enabled=False, types=EventTypes()))

    async with sessionmaker() as session:
        room = await rooms(session).create(owner, "Book club")
        await session.execute(Member.__table__.delete().where(Member.user_id == owner.id))
        await session.commit()

    async def switch(session: AsyncSession, _: int) -> Any:
        return await rooms(session).switch(owner, room.id)

    await twice_at_once(sessionmaker, switch)
    assert await count(sessionmaker, Member, Member.user_id == owner.id, Member.target_kind == "room") == 1


async def test_block_twice_at_once_makes_one_block(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    alice, bob = await users(sessionmaker, 2)

    async def block(session: AsyncSession, _: int) -> None:
        repo = RelayRepo(session)
        if not await repo.is_blocked(alice.id, bob.id):
            await repo.add_block(alice.id, bob.id, FakeClock().now())

    await twice_at_once(sessionmaker, block)
    assert await count(sessionmaker, Block, Block.blocker_id == alice.id) == 1


async def test_moderator_granted_twice_at_once_is_granted_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin, bob = await users(sessionmaker, 2)

    async def grant(session: AsyncSession, _: int) -> bool:
        return await ModeratorRepo(session).grant(bob.id, admin.id, FakeClock().now())

    assert sorted(await twice_at_once(sessionmaker, grant)) == [False, True]
    assert await count(sessionmaker, Moderator, Moderator.user_id == bob.id) == 1


async def test_runtime_setting_set_twice_at_once_keeps_one_row(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async def set_limit(session: AsyncSession, n: int) -> None:
        await RelayRepo(session).set_runtime("race_limit", str(10 + n))

    await twice_at_once(sessionmaker, set_limit)
    assert await count(sessionmaker, RuntimeSetting, RuntimeSetting.key == "race_limit") == 1
    async with sessionmaker() as session:
        assert await RelayRepo(session).runtime("race_limit") in {"10", "11"}


@pytest.mark.parametrize("value", ["5", "7"])
async def test_runtime_setting_read_then_set_shows_the_new_value(
    sessionmaker: async_sessionmaker[AsyncSession], value: str
) -> None:
    async with sessionmaker() as session:
        repo = RelayRepo(session)
        await repo.set_runtime("limit", "1")
        assert await repo.runtime("limit") == "1"
        await repo.set_runtime("limit", value)
        assert await repo.runtime("limit") == value
