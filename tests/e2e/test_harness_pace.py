"""The harness keeps each chat's pace on the pacer's own clock when it drains the queue itself
(tests/e2e/harness.py, HarnessPacer): the waits are kept and recorded, not slept on the wall clock."""

from __future__ import annotations

import time

from tests.e2e.harness import Harness, HarnessPacer
from tests.e2e.test_delivery import enqueue_texts, received


async def test_a_chats_pace_is_kept_on_the_pacers_clock_without_waiting(tg: Harness) -> None:
    assert tg.app.delivery is not None
    pacer = tg.app.delivery.pacer
    assert isinstance(pacer, HarnessPacer)
    assert pacer.virtual
    chat, other = 960_001, 960_002
    texts = [f"paced {n}" for n in range(8)]
    await enqueue_texts(tg, [chat], texts)
    await enqueue_texts(tg, [other], ["once"])
    started = time.monotonic()
    await tg.deliver()
    assert time.monotonic() - started < 5  # seven seconds of pace on the wall clock
    assert received(tg, chat) == texts
    assert received(tg, other) == ["once"]
    # A burst of three, then a second each (the rate a little slow, as production's margin).
    waits = [seconds for waited, seconds in pacer.waits if waited == chat]
    assert len(waits) == len(texts) - 3, pacer.waits
    assert sum(waits) >= (len(texts) - 3) / pacer.rate - 0.5, waits
    assert not [c for c, _ in pacer.waits if c == other]
