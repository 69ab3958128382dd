"""One outgoing budget for every send: answers to commands, button edits and relayed copies share
Telegram's limits (the global rate and each chat's pace), answers first. Against a fake Bot API with
flood control (429 past 30 sends in any second overall, or past one a second per chat after a short
burst)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from tests.conftest import DbTarget
from tests.e2e.harness import Harness, start_harness, stop_harness
from tests.e2e.test_relay import members, relayed
from tests.fakes.telegram import FloodControl

NAMES = [f"M{n:02d}" for n in range(20)]


@pytest.fixture
async def live(db: DbTarget) -> AsyncIterator[Harness]:
    """The background worker on (as in production) and updates handled concurrently."""
    harness = await start_harness(db.url, db.schema, delivery_worker=True, handle_as_tasks=True)
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
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or "Flood" in r.getMessage()]
    assert failures == []
