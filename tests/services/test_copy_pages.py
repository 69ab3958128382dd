"""An edit or a delete of a common-chat message reaches every reader's copy a page at a time: one
statement a page, not a query for each reader (at 100,000 readers that was 200,000 statements and as
many objects in one transaction)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import services.relay
from services.clock import FakeClock
from services.relay import Incoming, RelayResult, Submission
from storage.models import Outgoing, RelayCopy
from tests.services.helpers import record_statements, relay_service, signed_in_user

READERS = 7


async def common_message(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FakeClock
) -> tuple[int, int, dict[int, int]]:
    """An author's message relayed to READERS others: (author id, their Telegram id, reader chat -> copy's row)."""
    async with sessionmaker() as session, session.begin():
        relay = relay_service(session, clock)
        people = [await signed_in_user(session, clock) for _ in range(READERS + 1)]
        for person in people:
            await relay.join(person)
        author = people[0]
        assert author.telegram_id is not None
        (result,) = await relay.submit([Submission(author.id, Incoming("text", author.telegram_id, 1, "hi", "hi"))])
        assert isinstance(result, RelayResult)
        assert result.recipients == READERS
        copies: dict[int, int] = dict(
            (await session.execute(select(Outgoing.chat_id, Outgoing.id).where(Outgoing.kind == "text"))).all()
        )
        return author.id, author.telegram_id, copies


async def queued(sessionmaker: async_sessionmaker[AsyncSession], kind: str) -> list[Outgoing]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(Outgoing).where(Outgoing.kind == kind))).all())


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services.relay, "COPY_PAGE", 3)  # 7 readers: pages of 3, 3 and 1


async def test_an_edit_reaches_every_copy_a_page_at_a_time(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    author_id, author_chat, copies = await common_message(sessionmaker, clock)
    pages = record_statements(sessionmaker, lambda statement: "FROM relay_copies" in statement)
    readers = record_statements(sessionmaker, lambda statement: "FROM users" in statement)
    inserts = record_statements(sessionmaker, lambda statement: statement.startswith("INSERT INTO outgoing"))
    async with sessionmaker() as session, session.begin():  # a fresh session: no reader's row at hand
        relay = relay_service(session, clock)
        edited = Incoming("text", author_chat, 1, "hi, edited", "hi, edited")
        (result,) = await relay.submit([Submission(author_id, edited, edit=True)])
    assert isinstance(result, RelayResult)
    assert result.recipients == READERS
    edits = await queued(sessionmaker, "edit_text")
    assert sorted((edit.chat_id, edit.target_id) for edit in edits) == sorted(copies.items())
    assert all("hi, edited" in edit.payload["text"] for edit in edits)
    assert len(pages) == 4  # three pages and the empty one that ends them
    assert len(inserts) == 3  # one a page
    assert len(readers) <= 4  # the pages' join, and the author: not a query for each reader (7 before)


async def test_a_delete_reaches_every_copy_and_marks_them_read(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    _author_id, _author_chat, copies = await common_message(sessionmaker, clock)
    inserts = record_statements(sessionmaker, lambda statement: statement.startswith("INSERT INTO outgoing"))
    clock.advance(minutes=2)
    async with sessionmaker() as session, session.begin():
        assert await relay_service(session, clock).expire(timedelta(minutes=1)) == 1  # deleted everywhere
    deletes = await queued(sessionmaker, "delete")
    assert sorted((row.chat_id, row.target_id) for row in deletes) == sorted(copies.items())
    assert len(inserts) == 3
    async with sessionmaker() as session:
        assert set((await session.scalars(select(RelayCopy.read))).all()) == {True}
