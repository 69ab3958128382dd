"""Liveness (/livez) shows a stuck process: a delivery round that never ends, an update that never finishes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.liveness import check_liveness
from tests.e2e.harness import Harness


@pytest.fixture
def bot_settings() -> dict[str, object]:
    return {"delivery_worker": True, "liveness_stale_seconds": 120}


async def test_alive_while_everything_moves(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    await alice.send("/me")
    alive, checks = check_liveness(tg.app)
    assert alive, checks
    assert checks == {"polling": "ok", "updates": "ok", "delivery": "ok"}


async def test_a_stuck_delivery_worker_shows(tg: Harness) -> None:
    worker = tg.app.delivery
    assert worker is not None
    entered, release = asyncio.Event(), asyncio.Event()

    async def stuck_round(near_end: asyncio.Event | None = None) -> int:  # a send that never answers
        entered.set()
        await release.wait()
        return 0

    worker.run_once = stuck_round  # type: ignore[method-assign]
    worker.waker.wake()
    await asyncio.wait_for(entered.wait(), 10)
    assert check_liveness(tg.app)[1]["delivery"] == "ok"  # not yet: a round may take a while
    tg.clock.advance(timedelta(seconds=121))
    alive, checks = check_liveness(tg.app)
    assert not alive
    assert checks["delivery"].startswith("stuck: no round ended for 121 s"), checks
    release.set()


async def test_a_stuck_update_shows(tg: Harness) -> None:
    tg.app.ctx.progress.started(10**9)  # an update whose handler never returns
    tg.clock.advance(timedelta(seconds=60))
    assert check_liveness(tg.app)[1]["updates"] == "ok"
    tg.clock.advance(timedelta(seconds=61))
    alive, checks = check_liveness(tg.app)
    assert not alive
    assert checks["updates"] == "stuck: one in flight for 121 s"
    tg.app.ctx.progress.finished(10**9)
