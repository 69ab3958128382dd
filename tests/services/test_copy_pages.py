"""An edit or a delete of a common-chat message reaches every reader's copy a page at a time: one
statement a page, not a query for each reader (at 100,000 readers that was 200,000 statements and as
many objects in one transaction), and each page past the first in a transaction of its own
(`RelayService.copies_page`), so SQLite's write lock is held for a page at a time."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import FakeClock
from services.privacy import PrivacyService
from services.relay import Incoming, RelayResult, RelayService, Submission
from storage.models import Outgoing, RelayCopy, RelayMessage, User
from tests.conftest import DbTarget
from tests.services.helpers import backend_pid, record_statements, relay_service, signed_in_user, wait_for_lock

READERS = 10  # one of them paused
PAGE = 4  # 9 copies sent: pages of 4, 4 and 1


def relay(session: AsyncSession, clock: FakeClock) -> RelayService:
    return relay_service(session, clock, fan_out_page=PAGE)


async def common_message(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FakeClock
) -> tuple[int, int, dict[int, int]]:
    """An author's message relayed to READERS others, one of them paused: (author id, their Telegram id,
    reader chat -> copy's row).
    Relayed with pages bigger than the chat: one transaction, as a message to fewer readers than a page."""
    async with sessionmaker() as session, session.begin():
        service = relay_service(session, clock, fan_out_page=READERS + 5)
        people = [await signed_in_user(session, clock) for _ in range(READERS + 1)]
        for person in people:
            await service.join(person)
        # A reader in the middle pauses: their copy waits unread (no row to send) until /unread, between
        # two pages' copies (a delete marks each page's range read, not only the last's "the rest").
        await service.set_paused(people[5], True)
        author = people[0]
        assert author.telegram_id is not None
        (result,) = await service.submit([Submission(author.id, Incoming("text", author.telegram_id, 1, "hi", "hi"))])
        assert isinstance(result, RelayResult)
        assert (result.recipients, result.held) == (READERS - 1, 1)
        copies: dict[int, int] = dict(
            (await session.execute(select(Outgoing.chat_id, Outgoing.id).where(Outgoing.kind == "text"))).all()
        )
        return author.id, author.telegram_id, copies


async def queued(sessionmaker: async_sessionmaker[AsyncSession], kind: str) -> list[Outgoing]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(Outgoing).where(Outgoing.kind == kind).order_by(Outgoing.id))).all())


async def cursor(sessionmaker: async_sessionmaker[AsyncSession]) -> int | None:
    async with sessionmaker() as session:
        return await session.scalar(select(RelayMessage.copies_cursor))


async def page_the_rest(sessionmaker: async_sessionmaker[AsyncSession], clock: FakeClock) -> int:
    """Run `copies_page` a transaction at a time until it finds nothing; the pages done."""
    pages = 0
    while True:
        async with sessionmaker() as session, session.begin():
            if not await relay(session, clock).copies_page():
                return pages
        pages += 1


async def edit(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FakeClock, author: tuple[int, int], text: str
) -> int:
    author_id, author_chat = author
    async with sessionmaker() as session, session.begin():  # a fresh session: no reader's row at hand
        (result,) = await relay(session, clock).submit(
            [Submission(author_id, Incoming("text", author_chat, 1, text, text), edit=True)]
        )
    assert isinstance(result, RelayResult)
    return result.recipients


async def test_an_edit_reaches_a_page_at_once_and_the_rest_a_page_per_transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    author_id, author_chat, copies = await common_message(sessionmaker, clock)
    pages = record_statements(sessionmaker, lambda statement: "FROM relay_copies JOIN users" in statement)
    readers = record_statements(sessionmaker, lambda statement: "FROM users" in statement)
    inserts = record_statements(sessionmaker, lambda statement: statement.startswith("INSERT INTO outgoing"))
    assert await edit(sessionmaker, clock, (author_id, author_chat), "hi, edited") == PAGE  # the first page
    assert len(await queued(sessionmaker, "edit_text")) == PAGE
    assert await cursor(sessionmaker) is not None  # the rest is left to `copies_page`
    assert await page_the_rest(sessionmaker, clock) == 2
    assert await cursor(sessionmaker) is None
    edits = await queued(sessionmaker, "edit_text")
    assert sorted((edit.chat_id, edit.target_id) for edit in edits) == sorted(copies.items())  # each copy once
    assert all("hi, edited" in edit.payload["text"] for edit in edits)
    assert len(pages) == 3  # a statement a page: the last is short, so no empty page ends them
    assert len(inserts) == 3  # one a page
    assert len(readers) <= 6  # each page's join, and the author: not a query for each of the 9 readers


async def test_a_second_edit_while_the_first_is_paged_reaches_every_copy_with_the_newest_text(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    author_id, author_chat, copies = await common_message(sessionmaker, clock)
    await edit(sessionmaker, clock, (author_id, author_chat), "first edit")
    async with sessionmaker() as session, session.begin():
        assert await relay(session, clock).copies_page()  # the second page of the first edit
    await edit(sessionmaker, clock, (author_id, author_chat), "second edit")  # from the first copy again
    await page_the_rest(sessionmaker, clock)
    last: dict[int, str] = {}
    for row in await queued(sessionmaker, "edit_text"):
        last[row.target_id or 0] = row.payload["text"]
    assert sorted(last) == sorted(copies.values())
    assert all(text.endswith("second edit") for text in last.values())


async def test_a_delete_reaches_every_copy_and_marks_them_read(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    author_id, author_chat, copies = await common_message(sessionmaker, clock)
    await edit(sessionmaker, clock, (author_id, author_chat), "an edit left half done")  # the delete takes over
    inserts = record_statements(sessionmaker, lambda statement: statement.startswith("INSERT INTO outgoing"))
    clock.advance(minutes=2)
    async with sessionmaker() as session, session.begin():
        assert await relay(session, clock).expire(timedelta(minutes=1)) == 1  # deleted everywhere
    assert len(await queued(sessionmaker, "delete")) == PAGE
    assert await page_the_rest(sessionmaker, clock) == 2
    deletes = await queued(sessionmaker, "delete")
    assert sorted((row.chat_id, row.target_id) for row in deletes) == sorted(copies.items())
    assert len(inserts) == 3
    assert len(await queued(sessionmaker, "edit_text")) == PAGE  # the edit's first page only: no more after the delete
    async with sessionmaker() as session:  # the paused reader's copy too: nothing of it waits in /unread
        assert sorted((await session.scalars(select(RelayCopy.read))).all()) == [True] * READERS


async def test_a_deletes_count_is_every_copy_not_only_the_first_page(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    author_id, _author_chat, _copies = await common_message(sessionmaker, clock)
    async with sessionmaker() as session, session.begin():
        author = await session.get(User, author_id)
        assert author is not None
        assert await relay(session, clock).delete_own(author, 1) == READERS - 1  # /delete answers with it
    assert len(await queued(sessionmaker, "delete")) == PAGE  # the rest a page per transaction


async def edited_on_postgresql(
    sessionmaker: async_sessionmaker[AsyncSession], db: DbTarget, clock: FakeClock
) -> tuple[int, int, dict[int, int]]:
    """`common_message`, edited: its first page of copies reached, the rest left to `copies_page`. For
    races between two transactions: PostgreSQL only."""
    if db.kind == "sqlite":
        pytest.skip("SQLite lets one writer in at a time")
    author_id, author_chat, copies = await common_message(sessionmaker, clock)
    await edit(sessionmaker, clock, (author_id, author_chat), "first edit")
    return author_id, author_chat, copies


async def test_two_instances_take_one_messages_pages_in_turn(
    sessionmaker: async_sessionmaker[AsyncSession], db: DbTarget
) -> None:
    """PostgreSQL: a page locks the message's row, so a second instance's page waits for the first to
    commit and goes on from its cursor: no copy reached twice, none skipped."""
    clock = FakeClock()
    _author_id, _author_chat, copies = await edited_on_postgresql(sessionmaker, db, clock)
    async with sessionmaker() as first, sessionmaker() as second:
        await first.begin()
        assert await relay(first, clock).copies_page()  # the second page, not committed
        pid = await backend_pid(second)

        async def other() -> Any:
            result = await relay(second, clock).copies_page()
            await second.commit()
            return result

        task = asyncio.create_task(other())
        assert await wait_for_lock(sessionmaker, pid, task)  # it waits for the first page's commit
        await first.commit()
        assert await task  # then reaches the third page, not the second again
    assert await page_the_rest(sessionmaker, clock) == 0
    edits = await queued(sessionmaker, "edit_text")
    assert sorted((edit.chat_id, edit.target_id) for edit in edits) == sorted(copies.items())


async def test_forget_me_stops_an_edit_still_reaching_copies(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Else its later pages would edit the copies to the member's new name with no text, tying the two."""
    clock = FakeClock()
    author_id, author_chat, _copies = await common_message(sessionmaker, clock)
    await edit(sessionmaker, clock, (author_id, author_chat), "edited")
    assert await cursor(sessionmaker) is not None
    async with sessionmaker() as session, session.begin():
        author = await session.get(User, author_id)
        assert author is not None
        await PrivacyService(session).forget(author)
    assert await cursor(sessionmaker) is None
    assert await page_the_rest(sessionmaker, clock) == 0


@pytest.mark.parametrize("second", ["delete", "edit"])
async def test_a_delete_or_an_edit_waiting_for_a_page_under_way_still_reaches_every_copy(
    sessionmaker: async_sessionmaker[AsyncSession], db: DbTarget, second: str
) -> None:
    """PostgreSQL: an edit's second page is under way (not committed) on one instance when a delete (or
    another edit) comes on another: it waits for the page, then starts from the first copy and writes
    its own cursor. Changed before it locked the row, the ORM left an unchanged-looking cursor out of
    its UPDATE, the page's cursor stayed, and the copies between were skipped."""
    clock = FakeClock()
    author_id, author_chat, copies = await edited_on_postgresql(sessionmaker, db, clock)
    async with sessionmaker() as paging, sessionmaker() as other:
        await paging.begin()
        assert await relay(paging, clock).copies_page()  # the second page, not committed
        author = await other.get(User, author_id)  # read before the page commits
        message = await other.scalar(select(RelayMessage))
        assert author is not None
        assert message is not None
        pid = await backend_pid(other)

        async def then() -> Any:
            service = relay(other, clock)
            if second == "delete":
                result: Any = await service.delete_own(author, 1)
            else:
                result = await service.submit(
                    [Submission(author_id, Incoming("text", author_chat, 1, "last", "last"), edit=True)]
                )
            await other.commit()
            return result

        task = asyncio.create_task(then())
        assert await wait_for_lock(sessionmaker, pid, task)
        await paging.commit()
        await task
    await page_the_rest(sessionmaker, clock)
    if second == "delete":
        deletes = await queued(sessionmaker, "delete")
        assert sorted((row.chat_id, row.target_id) for row in deletes) == sorted(copies.items())
        async with sessionmaker() as session:
            assert sorted((await session.scalars(select(RelayCopy.read))).all()) == [True] * READERS
    else:
        last: dict[int, str] = {}
        for row in await queued(sessionmaker, "edit_text"):
            last[row.target_id or 0] = row.payload["text"]
        assert sorted(last) == sorted(copies.values())
        assert all(text.endswith("last") for text in last.values())


async def test_a_page_that_keeps_failing_is_given_up_after_the_set_attempts(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    author_id, author_chat, _copies = await common_message(sessionmaker, clock)
    await edit(sessionmaker, clock, (author_id, author_chat), "edited")
    async with sessionmaker() as session:
        message_id = await session.scalar(select(RelayMessage.id))
    assert message_id is not None
    given_up = []
    for _ in range(3):
        async with sessionmaker() as session, session.begin():
            given_up.append(await relay(session, clock).copies_failed(message_id, 3))
    assert given_up == [False, False, True]
    assert await cursor(sessionmaker) is None  # the rest is given up
    async with sessionmaker() as session, session.begin():
        assert await relay(session, clock).copies_failed(message_id, 3) is False  # nothing left to count
