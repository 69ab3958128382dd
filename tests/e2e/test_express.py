"""The express lane (bot.delivery.ExpressLane): relayed copies go from the relay's transaction straight
to the running worker, with no claim; per-chat order holds when a row has to wait, and a stop sends the
rows not yet sent back to the queue, from where a restart delivers each exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from bot.delivery import DeliveryWorker, SpacingLimiter
from storage.models import Outgoing
from storage.repositories.delivery import OutgoingRepo
from tests.e2e.harness import Harness, Person
from tests.e2e.test_relay import members
from tests.fakes.telegram import error


@pytest.fixture
def bot_settings() -> dict[str, object]:
    """The bot (conftest's `tg`) with its delivery worker running in the background, as in production."""
    return {"delivery_worker": True, "delivery_rate": 200, "paid_broadcast": True}


def texts(tg: Harness, person: Person, marker: str) -> list[str]:
    """The bodies of the copies this person got that hold `marker` (the author's name line cut off)."""
    return [(m.text or "").split("\n", 1)[-1] for m in tg.tg.bot_messages(person.id) if marker in (m.text or "")]


async def outgoing(tg: Harness, marker: str) -> list[Outgoing]:
    async with tg.app.ctx.sessionmaker() as session:
        rows = await session.scalars(select(Outgoing).order_by(Outgoing.id))
        return [row for row in rows if marker in str(row.payload)]


async def test_relayed_copies_go_to_the_worker_without_a_claim(tg: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    alice, bob, carol = await members(tg, "Alice", "Bob", "Carol")
    claimed: list[int] = []
    claim = OutgoingRepo.claim

    async def watched(self: OutgoingRepo, *args: Any, **kwargs: Any) -> Any:
        rows = await claim(self, *args, **kwargs)
        claimed.extend(row.id for row in rows if "express" in str(row.payload))
        return rows

    monkeypatch.setattr(OutgoingRepo, "claim", watched)
    for n in range(5):
        await alice.send(f"express {n}")
    for reader in (bob, carol):
        await tg.tg.wait_until(lambda r=reader: len(texts(tg, r, "express")) == 5, timeout=5, what="the copies")
        assert texts(tg, reader, "express") == [f"express {n}" for n in range(5)]
    assert tg.app.delivery is not None
    await tg.app.delivery.express_idle()  # the sends' records are written as a group commit
    rows = await outgoing(tg, "express")
    assert len(rows) == 10
    assert claimed == []  # none of them went through a claim
    assert Counter(row.status for row in rows) == Counter({"sent": 10})
    assert all(row.claim_token is None for row in rows)


async def test_a_copy_that_must_wait_keeps_the_chats_later_copies_behind_it(tg: Harness) -> None:
    alice, bob = await members(tg, "Alice", "Bob")
    storm = {"left": 1}

    def flood(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if params.get("chat_id") == bob.id and "first" in str(params.get("text")) and storm["left"] > 0:
            storm["left"] -= 1
            return error(429, "Too Many Requests: retry after 1", retry_after=1)
        return None

    tg.tg.hooks.append(flood)
    await alice.send("first")
    await tg.tg.wait_until(lambda: storm["left"] == 0, timeout=5, what="the 429")
    await alice.send("second")  # the first waits out its retry_after: the second must not overtake it
    tg.clock.advance(seconds=2)
    await tg.tg.wait_until(
        lambda: len(texts(tg, bob, "first")) + len(texts(tg, bob, "second")) == 2, timeout=5, what="both copies"
    )
    assert [body for body in texts(tg, bob, "") if body in ("first", "second")] == ["first", "second"]


@pytest.mark.parametrize("bot_settings", [{"delivery_worker": True, "delivery_rate": 2}])  # one send a second
async def test_a_stop_sends_unsent_express_rows_back_and_a_restart_delivers_each_once(tg: Harness) -> None:
    alice, bob, carol, dan = await members(tg, "Alice", "Bob", "Carol", "Dan")
    await alice.send("slow one")
    await alice.send("slow two")
    await tg.tg.wait_until(
        lambda: sum(len(texts(tg, p, "slow")) for p in (bob, carol, dan)) >= 1, timeout=5, what="a first copy"
    )
    assert tg.app.delivery is not None
    await tg.app.delivery.stop()
    rows = await outgoing(tg, "slow")
    assert len(rows) == 6
    sent_before = sum(row.status == "sent" for row in rows)
    assert 1 <= sent_before < 6
    assert all(row.claim_token is None for row in rows)  # nothing left claimed by the stopped lane
    restarted = DeliveryWorker(tg.app.ctx.sessionmaker, tg.app.bot, tg.clock, limiter=SpacingLimiter(1000))
    await restarted.drain()
    await restarted.stop()
    for reader in (bob, carol, dan):
        assert texts(tg, reader, "slow") == ["slow one", "slow two"]
    assert Counter(row.status for row in await outgoing(tg, "slow")) == Counter({"sent": 6})


async def test_a_row_that_must_wait_sends_its_chats_rows_in_the_lane_back_behind_it(tg: Harness) -> None:
    chat = 960_001
    storm = {"left": 1}

    def flood(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if params.get("chat_id") == chat and params.get("text") == "first" and storm["left"] > 0:
            storm["left"] -= 1
            return error(429, "Too Many Requests: retry after 1", retry_after=1)
        return None

    tg.tg.hooks.append(flood)
    async with tg.app.ctx.sessionmaker() as session, session.begin():
        outbox = tg.app.ctx.outbox(session)
        await outbox.add_rows([outbox.text_row(chat, body, None, None) for body in ("first", "second")])
    await tg.tg.wait_until(lambda: storm["left"] == 0, timeout=5, what="the 429")
    tg.clock.advance(seconds=2)
    await tg.tg.wait_until(lambda: len(tg.tg.bot_messages(chat)) == 2, timeout=5, what="both rows")
    assert [m.text for m in tg.tg.bot_messages(chat)] == ["first", "second"]
    rows = await outgoing(tg, "first") + await outgoing(tg, "second")
    assert [row.claim_token for row in rows] == [None, None]


async def test_a_stop_during_a_send_waits_for_its_answer_and_records_it_once(
    tg: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = 960_002
    on_wire, answer = asyncio.Event(), asyncio.Event()
    plain_dispatch = tg.tg.dispatch

    async def held(method: str, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("text") == "held":
            on_wire.set()
            await answer.wait()  # the send stays on the wire until the test lets Telegram answer
        return await plain_dispatch(method, params)

    monkeypatch.setattr(tg.tg, "dispatch", held)
    async with tg.app.ctx.sessionmaker() as session, session.begin():
        outbox = tg.app.ctx.outbox(session)
        await outbox.add_rows([outbox.text_row(chat, "held", None, None)])
    assert tg.app.delivery is not None
    try:
        await asyncio.wait_for(on_wire.wait(), 5)
        stopping = asyncio.ensure_future(tg.app.delivery.stop())
        await asyncio.sleep(0.05)
        assert not stopping.done()  # a send on the wire is not cancelled: the stop waits for its answer
    finally:
        answer.set()
    await stopping
    (row,) = await outgoing(tg, "held")
    assert (row.status, row.claim_token) == ("sent", None)
    assert row.message_id is not None
    restarted = DeliveryWorker(tg.app.ctx.sessionmaker, tg.app.bot, tg.clock, limiter=SpacingLimiter(1000))
    assert await restarted.drain() == 0
    await restarted.stop()
    assert [m.text for m in tg.tg.bot_messages(chat)] == ["held"]
