"""Which paged fan-out goes next (`RelayRepo.next_paged`, bot/fanout.py pages one message at a time):
the one under way before an older one, and on PostgreSQL a page waits for another instance's page to
commit, so two messages' pages are never interleaved and every reader gets them in the same order."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import FakeClock
from storage.models import RelayMessage
from storage.repositories.relay import RelayRepo
from tests.conftest import DbTarget
from tests.services.helpers import backend_pid, signed_in_user, wait_for_lock


async def paged(sessionmaker: async_sessionmaker[AsyncSession], *cursors: int | None) -> list[int]:
    """Common-chat messages with these fan-out cursors (None: not paged), in id order; their ids."""
    clock = FakeClock()
    async with sessionmaker() as session, session.begin():
        author = await signed_in_user(session, clock)
        messages = [
            RelayMessage(author_id=author.id, chat="common", kind="text", origin_chat_id=author.telegram_id,
                         origin_message_id=n, created_at=clock.now(), fanout_cursor=cursor)
            for n, cursor in enumerate(cursors)
        ]  # fmt: skip
        for message in messages:  # one at a time: ids in this order
            session.add(message)
            await session.flush()
        return [message.id for message in messages]


async def set_cursor(session: AsyncSession, message_id: int, cursor: int | None) -> None:
    await session.execute(update(RelayMessage).where(RelayMessage.id == message_id).values(fanout_cursor=cursor))


async def test_the_fan_out_under_way_goes_before_an_older_one(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    older, under_way, newer = await paged(sessionmaker, 0, 42, 0)
    async with sessionmaker() as session:
        message = await RelayRepo(session).next_paged()
        assert message is not None
        assert message.id == under_way
        await set_cursor(session, under_way, None)  # done
        message = await RelayRepo(session).next_paged()
        assert message is not None
        assert message.id == older  # then the oldest
    assert newer > older


async def test_a_page_waits_for_another_instances_page_and_then_sees_its_cursor(
    db: DbTarget, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A message with a lower id commits after a higher one's first page began (ids are not commit
    order): the first page of the lower one must not be written beside it."""
    if db.kind == "sqlite":
        pytest.skip("SQLite lets one writer in at a time, and one process pages a file")
    lower, higher = await paged(sessionmaker, None, 0)
    async with sessionmaker() as first:  # an instance writing the first page of the higher one
        message = await RelayRepo(first).next_paged()
        assert message is not None
        assert message.id == higher
        await set_cursor(first, higher, 42)  # its page, not committed yet
        async with sessionmaker() as other, other.begin():
            await set_cursor(other, lower, 0)  # the lower one commits now, to be paged
        async with sessionmaker() as second:  # another instance, looking for a page to write
            pid = await backend_pid(second)
            task = asyncio.create_task(RelayRepo(second).next_paged())
            waited = await wait_for_lock(sessionmaker, pid, task)
            await first.commit()
            found = await task
            assert found is not None
            assert (found.id, found.fanout_cursor, waited) == (higher, 42, True)  # the one under way
