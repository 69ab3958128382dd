"""One outgoing budget for every send: answers to commands, button edits and relayed copies share
Telegram's limits (the global rate and each chat's pace), answers first. Against a fake Bot API with
flood control (429 past 30 sends in any second overall, or past one a second per chat after a short
burst)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.budget import Priority
from tests.conftest import DbTarget
from tests.e2e.harness import Harness, start_harness, stop_harness
from tests.e2e.test_delivery import enqueue_texts
from tests.e2e.test_relay import members, relayed
from tests.fakes.telegram import FloodControl, error

NAMES = [f"M{n:02d}" for n in range(20)]


@pytest.fixture
async def paced(db: DbTarget) -> AsyncIterator[Harness]:
    """The usual harness (the queue drained after each update), answers keeping their chats' pace."""
    harness = await start_harness(db.url, db.schema, pace_answers=True)
    try:
        yield harness
    finally:
        await stop_harness(harness)


async def test_answers_and_a_fan_out_together_provoke_no_429(live: Harness, caplog: pytest.LogCaptureFixture) -> None:
    tg = live
    people = await members(tg, *NAMES)
    await tg.tg.wait_until(lambda: tg.app.delivery is not None and not tg.app.delivery.express.size, what="quiet")
    flood = FloodControl(global_rate=30, per_chat_rate=1.0, burst=3)
    tg.tg.hooks.append(flood)
    caplog.set_level(logging.WARNING)
    marks = {p.id: p.mark() for p in people}
    for n in range(15):  # messages and commands at once, as a busy chat sends them
        await people[n].send(f"message {n}", wait=False)
        await people[(n + 7) % len(people)].send("/status", wait=False)
        await people[(n + 3) % len(people)].send("/help", wait=False)
    copies = 15 * (len(people) - 1)

    def delivered() -> int:
        return sum(len([t for t in relayed(p) if "message " in t]) for p in people)

    await tg.tg.wait_until(lambda: delivered() >= copies or bool(flood.rejected), timeout=60, what="the fan-out")
    await tg.tg.wait_all_processed()
    assert flood.rejected == [], flood.rejected[:10]
    assert delivered() == copies
    commanders = {(n + 7) % len(people) for n in range(15)} | {(n + 3) % len(people) for n in range(15)}
    for n in commanders:  # every command answered
        person = people[n]
        since = person.since(marks[person.id])
        answers = [m for m in since if not any("Report" in b.get("text", "") for b in m.buttons)]
        assert answers, person.first_name
    # No handler failed (bot.errors logs each), none on flood control.
    failures = [r.getMessage() for r in caplog.records if r.name == "bot.errors" or "Flood" in r.getMessage()]
    assert failures == []


async def test_an_answer_during_a_fan_out_goes_before_the_fan_outs_remaining_copies(live: Harness) -> None:
    tg = live
    ann = await tg.user("Ann").signed_in()
    assert tg.app.budget is not None
    chats = list(range(940_000, 940_150))  # 150 copies: five seconds at 30/s
    await enqueue_texts(tg, chats, ["fan-out"])

    def copies() -> int:
        return sum(1 for c in tg.tg.calls if c.method == "sendMessage" and c.params.get("chat_id") in set(chats))

    await tg.tg.wait_until(lambda: copies() >= 30, timeout=30, what="the fan-out to be under way")
    answers_before = tg.app.budget.sent[Priority.ANSWER]
    mark = ann.mark()
    pushed_at = copies()
    await ann.send("/status", wait=False)
    await tg.tg.wait_until(lambda: len(ann.since(mark)) > 0, timeout=30, what="the answer")
    overtaken_by = copies() - pushed_at
    # A slot or two and the handler's own work; behind the fan-out it would wait for the worker's 64 sends in flight.
    assert overtaken_by <= 15, overtaken_by
    assert copies() < len(chats) - 50
    assert tg.app.budget.sent[Priority.ANSWER] > answers_before  # the answer took its slot in the budget
    await tg.tg.wait_until(lambda: copies() == len(chats), timeout=30, what="the fan-out to end")


async def test_an_answer_that_gets_a_429_is_sent_again_after_the_pause(
    paced: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    tg = paced
    ann = await tg.user("Ann").signed_in()
    storm = {"left": 1}

    def flood(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if method == "sendMessage" and params.get("chat_id") == ann.id and storm["left"]:
            storm["left"] -= 1
            return error(429, "Too Many Requests: retry after 3", retry_after=3)
        return None

    tg.tg.hooks.append(flood)
    mark = ann.mark()
    await ann.send("/help")
    assert len(ann.since(mark)) == 1  # the answer, once, after the pause
    assert storm["left"] == 0
    assert tg.answer_pauses == [(None, 3.0)]  # the global rate paused for retry_after...
    assert tg.delivery_pauses == [(ann.id, 3.0)]  # ...and the chat (the worker's pacer, shared)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
