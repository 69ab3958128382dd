"""`bot.batching.Coalescer`: requests that come together are handled as one batch; a caller that is
cancelled leaves the batch alone; a failed batch is retried one request at a time."""

from __future__ import annotations

import asyncio

import pytest

from bot.batching import Coalescer


class Doubler(Coalescer[int, int]):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[list[int]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def _handle(self, requests: list[int]) -> list[int]:
        self.seen.append(requests)
        self.started.set()
        await self.release.wait()
        if len(requests) > 1 and 13 in requests:
            raise ValueError("a bad request in the batch")
        if requests == [13]:
            raise ValueError("thirteen")
        return [2 * r for r in requests]


async def test_requests_that_come_together_are_one_batch() -> None:
    doubler = Doubler()
    assert await asyncio.gather(*(doubler.submit(n) for n in range(5))) == [0, 2, 4, 6, 8]
    assert doubler.seen == [[0, 1, 2, 3, 4]]


async def test_a_cancelled_caller_does_not_cancel_the_batch() -> None:
    doubler = Doubler()
    doubler.release.clear()
    first = asyncio.ensure_future(doubler.submit(1))
    second = asyncio.ensure_future(doubler.submit(2))
    await doubler.started.wait()  # both queued, then the batch started and waits
    assert doubler.seen == [[1, 2]]
    first.cancel()
    doubler.release.set()
    assert await second == 4
    with pytest.raises(asyncio.CancelledError):
        await first
    await doubler.wait_idle()
    assert doubler._drain is not None
    assert not doubler._drain.cancelled()


async def test_a_failed_batch_is_retried_one_by_one_and_only_the_bad_request_fails() -> None:
    doubler = Doubler()
    results = await asyncio.gather(*(doubler.submit(n) for n in (12, 13, 14)), return_exceptions=True)
    assert (results[0], results[2]) == (24, 28)
    assert isinstance(results[1], ValueError)
    assert str(results[1]) == "thirteen"
    assert doubler.seen == [[12, 13, 14], [12], [13], [14]]


async def test_a_drain_cancelled_at_shutdown_fails_the_waiting_callers() -> None:
    doubler = Doubler()
    doubler.release.clear()
    waiting = asyncio.ensure_future(doubler.submit(3))
    await doubler.started.wait()
    assert doubler._drain is not None
    doubler._drain.cancel()
    with pytest.raises(RuntimeError, match="stopped before this request was handled"):
        await waiting
