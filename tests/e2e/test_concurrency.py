"""Updates handled concurrently, as production polling and webhook mode handle them: a burst from one
user (an impatient typist, an album's parts) is relayed in order, counted exactly against the limit;
other users are not held up by it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import DbTarget
from tests.e2e.harness import Harness, start_harness, stop_harness
from tests.e2e.test_relay import members, relayed


@pytest.fixture
async def concurrent(db: DbTarget) -> AsyncIterator[Harness]:
    harness = await start_harness(db.url, db.schema, handle_as_tasks=True, messages_per_period=5)
    try:
        yield harness
    finally:
        await stop_harness(harness)


async def test_a_burst_from_one_user_is_relayed_up_to_the_limit_and_counted(concurrent: Harness) -> None:
    tg = concurrent
    alice, bob = await members(tg, "Alice", "Bob")
    for n in range(8):  # pushed at once: the bot takes them in one batch and handles them together
        await alice.send(f"burst {n}", wait=False)
    await alice.send("/status")  # taken after the burst; waits for every handler still running
    refusals = [t for t in alice.texts() if "sent 5 of 5 messages" in t]
    assert len(refusals) == 3, alice.texts()[-10:]
    assert [text.split("\n", 1)[1] for text in relayed(bob)] == [f"burst {n}" for n in range(5)]
    assert "5 of 5" in alice.last_text()
