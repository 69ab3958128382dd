"""Requests from concurrent updates handled together, one statement or transaction for the lot.

Each update hands its request over and awaits its own result. There is no timer: a request that
finds nothing running is handled at once, alone; whatever arrives while a batch is being handled
goes out together as the next one, so batches grow only with the load. A batch that fails for an
unexpected reason is retried one request at a time, so one bad request fails alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

RequestT = TypeVar("RequestT")
ResultT = TypeVar("ResultT")


class Coalescer(Generic[RequestT, ResultT]):
    """Subclasses say how a batch is handled (`_handle`: one result per request, in order)."""

    def __init__(self, max_batch: int = 200) -> None:
        self.max_batch = max_batch
        self._queue: list[tuple[RequestT, asyncio.Future[ResultT]]] = []
        self._batch: list[tuple[RequestT, asyncio.Future[ResultT]]] = []  # being handled
        self._drain: asyncio.Task[None] | None = None
        self.batches = 0  # how many batches were handled (bench and tests read it)

    @property
    def name(self) -> str:
        """What the logs call it."""
        return type(self).__name__

    async def _handle(self, requests: list[RequestT]) -> list[ResultT]:
        raise NotImplementedError

    async def submit(self, request: RequestT) -> ResultT:
        # The future is the caller's own: a cancelled update cancels it and nothing else (the request
        # stays in the batch, whose result is then dropped), as a shield would, without its two callbacks.
        return await self.enqueue(request)

    def enqueue(self, request: RequestT) -> asyncio.Future[ResultT]:
        """Hand a request over without waiting: its result comes in the future returned."""
        future: asyncio.Future[ResultT] = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        if self._drain is None or self._drain.done():
            self._drain = asyncio.create_task(self._run())
            self._drain.add_done_callback(self._fail_leftovers)
        return future

    async def _pause(self) -> None:
        """Before each batch is taken (subclasses may let more requests gather)."""

    async def _run(self) -> None:
        while self._queue:
            await self._pause()
            self._batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            batch = self._batch
            try:
                results = await self._counted([request for request, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _fail(batch[0][1], exc)
                    continue
                log.exception("%s: a batch of %d failed; handling them one by one", self.name, len(batch))
                for request, future in batch:
                    try:
                        (result,) = await self._counted([request])
                    except Exception as alone:
                        _fail(future, alone)
                    else:
                        _settle(future, result)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                _settle(future, result)

    async def _counted(self, requests: list[RequestT]) -> list[ResultT]:
        self.batches += 1
        return await self._handle(requests)

    def _fail_leftovers(self, drain: asyncio.Task[None]) -> None:
        """The drain was cancelled (shutdown), even before it started: no update waits forever for a
        batch that will not be handled. (After a normal end the queue may already hold the next
        drain's requests: they are left alone.)"""
        if not drain.cancelled() and drain.exception() is None:
            return
        leftovers, self._batch, self._queue = [*self._batch, *self._queue], [], []
        for _, future in leftovers:
            _fail(future, RuntimeError(f"{self.name} stopped before this request was handled"))

    async def wait_idle(self) -> None:
        """Until the batch being handled (and those queued behind it) are done: before the engine closes."""
        if self._drain is not None:
            await asyncio.gather(self._drain, return_exceptions=True)


class Batched(Coalescer[RequestT, ResultT]):
    """A Coalescer whose batches go to a function (one result per request, in order)."""

    def __init__(self, handle: Callable[[list[RequestT]], Awaitable[list[ResultT]]], max_batch: int = 200) -> None:
        super().__init__(max_batch)
        self.handle = handle

    @property
    def name(self) -> str:
        return getattr(self.handle, "__qualname__", type(self).__name__)

    async def _handle(self, requests: list[RequestT]) -> list[ResultT]:
        return await self.handle(requests)


# A request's future is done already only if its caller was cancelled meanwhile: its outcome is dropped.


def _settle(future: asyncio.Future[ResultT], result: ResultT) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
