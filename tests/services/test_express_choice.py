"""Which outgoing rows the express lane takes (`Outbox.add_rows`): never one that would overtake an
earlier row of its chat, in the database or in the same batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.outbox import CommitHandoff, Waker
from services.clock import FakeClock
from services.delivery import Outbox, ReplyTo
from storage.db import create_sessionmaker
from storage.models import Outgoing
from storage.repositories.delivery import Claimed


class TakesAll:
    token = "express-test"
    lease = timedelta(seconds=60)

    def __init__(self) -> None:
        self.handed: list[Claimed] = []

    def takes(self, chat_ids: Sequence[int]) -> list[bool]:
        return [chat_id != 5 for chat_id in chat_ids]  # no room for chat 5

    def hand_over(self, rows: Sequence[Claimed]) -> None:
        self.handed.extend(rows)


async def test_a_row_that_cannot_go_express_keeps_its_chats_later_rows_behind_it(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    async with sessionmaker() as session, session.begin():
        await Outbox(session, clock).send_text(3, "older, waiting in the queue")
    lane = TakesAll()
    handoff = CommitHandoff(Waker(), lane)  # type: ignore[arg-type]
    sessionmaker = create_sessionmaker(
        sessionmaker.kw["bind"], on_commit=handoff.committed, on_rollback=handoff.rolled_back
    )
    async with sessionmaker() as session, session.begin():
        outbox = Outbox(session, clock, handoff)
        rows = [
            outbox.text_row(1, "1a: a reply to a row not sent yet", None, ReplyTo(outgoing_id=1)),
            outbox.text_row(1, "1b: behind 1a", None, None),
            outbox.text_row(2, "2a", None, None),
            outbox.text_row(2, "2b", None, None),
            outbox.text_row(3, "3: behind the older row", None, None),
            outbox.text_row(5, "5a: no room", None, None),
            outbox.text_row(5, "5b", None, None),
        ]
        ids = await outbox.add_rows(rows)
    handed = lane.handed  # once the transaction committed
    assert [row.payload["text"] for row in handed] == ["2a", "2b"]
    assert [row.id for row in handed] == [ids[2], ids[3]]
    async with sessionmaker() as session:
        claimed = await session.scalars(select(Outgoing.payload).where(Outgoing.claim_token == "express-test"))
        assert sorted(p["text"] for p in claimed) == ["2a", "2b"]
