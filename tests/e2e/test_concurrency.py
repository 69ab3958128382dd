"""Updates handled concurrently, as production polling and webhook mode handle them: a burst from one
user (an impatient typist, an album's parts) is relayed in order, counted exactly against the limit;
other users are not held up by it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from services.errors import DomainError
from services.relay import Incoming, RelayResult
from tests.conftest import DbTarget
from tests.e2e.harness import Harness, start_harness, stop_harness
from tests.e2e.relay_double import user_id
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


async def test_messages_of_many_users_at_once_are_written_in_batches_and_each_relayed_once(
    concurrent: Harness,
) -> None:
    tg = concurrent
    people = await members(tg, "Ann", "Ben", "Cid", "Dee", "Eli", "Flo", "Gus", "Hal")
    batcher = tg.app.dp["relay_batch"]
    before = batcher.batches
    for person in people:  # pushed at once: handled concurrently, written together
        await person.send(f"from {person.first_name}", wait=False)
    await people[0].send("/status")  # taken after the others; waits for every handler still running
    assert 0 < batcher.batches - before < len(people)
    scraped = tg.app.ctx.metrics.render().decode()
    assert "bot_relay_batch_messages_count" in scraped
    assert f"bot_relay_batch_messages_sum {float(len(people))}" in scraped  # every message in some batch
    for reader in people:
        got = sorted(text.split("\n", 1)[1] for text in relayed(reader))
        assert got == sorted(f"from {p.first_name}" for p in people if p is not reader), reader.first_name


async def test_a_batch_that_fails_is_retried_message_by_message(concurrent: Harness) -> None:
    tg = concurrent
    ann, ben = await members(tg, "Ann", "Ben")
    batcher = tg.app.dp["relay_batch"]
    before = batcher.batches
    fine = Incoming("text", ann.id, 900_001, html="fine", plain="fine")
    broken = Incoming("text", ben.id, 2**70, html="broken", plain="broken")  # no database takes this id
    outcomes = await asyncio.gather(
        batcher.relay(await user_id(tg, ann), fine),
        batcher.relay(await user_id(tg, ben), broken),
        return_exceptions=True,
    )
    assert batcher.batches - before == 3  # the two together, then each alone
    assert isinstance(outcomes[0], RelayResult)
    assert outcomes[0].recipients == 1
    assert isinstance(outcomes[1], Exception)
    assert not isinstance(outcomes[1], DomainError)
    await tg.deliver()
    assert [text.split("\n", 1)[1] for text in relayed(ben)] == ["fine"]
    assert relayed(ann) == []


async def test_a_stopped_batch_leaves_no_update_waiting(concurrent: Harness) -> None:
    tg = concurrent
    (ann,) = await members(tg, "Ann")
    batcher = tg.app.dp["relay_batch"]
    waiting = asyncio.ensure_future(batcher.relay(await user_id(tg, ann), Incoming("text", ann.id, 900_002)))
    await asyncio.sleep(0)  # one turn of the loop: the update hands its message over, the drain is due
    assert batcher._drain is not None
    assert not batcher._drain.done()
    batcher._drain.cancel()  # shutdown before the batch was written
    with pytest.raises(RuntimeError, match="stopped before"):
        await asyncio.wait_for(waiting, 10)  # not forever
