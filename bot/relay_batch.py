"""Members' messages relayed in batches: one transaction for all the messages that came in meanwhile.

Relaying one message takes a dozen statements (author, target, duplicates, blocks, limit, the
message, its copies); each costs a round trip and, on SQLite, time holding the one write lock while
every other update waits. Here the relay handler hands its message over and awaits the outcome;
whatever arrived while the previous batch was being written goes out together as the next batch
(`RelayService.relay_many`), banned authors refused first (`ModerationService.bans_among`), and
the authors' last-seen refreshes written along. There is no timer: one message alone is handled at
once, and the batch grows only with the load. A batch that fails for an unexpected reason is
retried one message at a time, so one bad message fails alone.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from bot.context import AppContext
from services.errors import DomainError
from services.relay import Incoming, RelayOutcome, RelayResult

log = logging.getLogger(__name__)


@dataclass
class _Item:
    user_id: int
    incoming: Incoming
    touch: dict[int, dict[str, Any]]  # the author's refresh the update noted (SignInService.take_touch)
    done: asyncio.Future[RelayOutcome]


class RelayBatcher:
    def __init__(self, ctx: AppContext, max_batch: int = 200) -> None:
        self.ctx = ctx
        self.max_batch = max_batch
        self._queue: list[_Item] = []
        self._drain: asyncio.Task[None] | None = None
        self._batch: list[_Item] = []  # being written
        self.batches = 0  # how many batches were written (bench and tests read it)

    async def relay(
        self, user_id: int, incoming: Incoming, touch: dict[int, dict[str, Any]] | None = None
    ) -> RelayResult:
        """Relay a member's message (users.id `user_id`) and write the author's `touch`; raises the
        refusal as `RelayService.relay` does, or Banned. The caller must not hold a write transaction:
        the batch waits for SQLite's write lock."""
        item = _Item(user_id, incoming, touch or {}, asyncio.get_running_loop().create_future())
        self._queue.append(item)
        if self._drain is None or self._drain.done():
            self._drain = asyncio.create_task(self._run())
            self._drain.add_done_callback(self._fail_leftovers)
        outcome = await asyncio.shield(item.done)  # a cancelled update does not cancel the batch
        if isinstance(outcome, DomainError):
            raise outcome
        return outcome

    async def _run(self) -> None:
        while self._queue:
            self._batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            batch = self._batch
            try:
                outcomes = await self._write(batch)
            except Exception:
                log.exception("a relay batch of %d failed; relaying them one by one", len(batch))
                for item in batch:
                    try:
                        (outcome,) = await self._write([item])
                    except Exception as exc:
                        item.done.set_exception(exc)
                    else:
                        item.done.set_result(outcome)
                continue
            for item, outcome in zip(batch, outcomes, strict=True):
                item.done.set_result(outcome)

    def _fail_leftovers(self, drain: asyncio.Task[None]) -> None:
        """The drain was cancelled (shutdown), even before it started: no update waits forever for a
        batch that will not be written. (After a normal end the queue may already hold the next
        drain's items: they are left alone.)"""
        if not drain.cancelled() and drain.exception() is None:
            return
        leftovers, self._batch, self._queue = [*self._batch, *self._queue], [], []
        for item in leftovers:
            if not item.done.done():
                item.done.set_exception(RuntimeError("relaying stopped before this message was written"))

    async def wait_idle(self) -> None:
        """Until the batch being written (and those queued behind it) are done: before the engine closes."""
        if self._drain is not None:
            await asyncio.gather(self._drain, return_exceptions=True)

    async def _write(self, batch: list[_Item]) -> list[RelayOutcome]:
        self.batches += 1
        self.ctx.metrics.relay_batch.observe(len(batch))
        async with self.ctx.sessionmaker() as session, session.begin():
            banned = await self.ctx.moderation(session).bans_among({item.user_id for item in batch})
            allowed = [(item.user_id, item.incoming) for item in batch if item.user_id not in banned]
            relayed = iter(await self.ctx.relay(session).relay_by_id(allowed))  # in the batch's order
            await self.ctx.signin(session).save_touches({k: v for item in batch for k, v in item.touch.items()})
            return [banned[item.user_id] if item.user_id in banned else next(relayed) for item in batch]
