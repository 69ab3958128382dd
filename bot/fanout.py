"""The common chat's big fan-outs, enqueued a page at a time (`RelayService.fan_out_page`).

A common-chat message to more readers than a page (FAN_OUT_PAGE) is decided and recorded in the
transaction that relays it, marked to be paged; once that commits, the relay batch (or the job that
relayed it) kicks this runner, which enqueues its copies page after page, each page in a transaction
of its own: SQLite's write lock is held for one page at a time, so other writers (members' messages,
/join, the delivery worker's marks) go in between, and only one page is in memory. The messages are
paged one at a time, oldest first, so every reader gets them in order. A page commits with the
message's cursor and lease; a crashed or stopped instance's fan-out is resumed from the cursor by the
`resume_fan_outs` job of any instance once its lease ran out. A page that fails is tried again by that
job; one that failed GIVE_UP_AFTER times running is given up (`RelayService.fan_out_failed`), so one
message that cannot be paged does not hold up the common chat's next ones for ever.

An edit or a delete of a message with more copies than a page reaches the first page in its own
transaction, and the rest here, a page per transaction, taking turns with the fan-outs' pages
(`RelayService.copies_page`; no lease: a page locks the message's row, so two instances take its
pages in turn).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.metrics import Metrics
from services.relay import RelayService

log = logging.getLogger(__name__)

GIVE_UP_AFTER = 5  # failed attempts at one page before its fan-out is given up


@dataclass(frozen=True)
class _Kind:
    """What is paged: a page of it, the message whose page is under way, counting a failed page."""

    name: str
    page: Callable[[RelayService, FanOutRunner], Awaitable[bool]]
    current: Callable[[RelayService], int | None]
    failed: Callable[[RelayService, int], Awaitable[bool]]
    given_up: str  # what is lost, for the log
    counter: Callable[[Metrics], Counter]  # counts the messages given up


class FanOutRunner:
    """One per process: pages what is to be paged, in a task of its own (`kick`), until nothing is left
    that this instance may page."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        relay: Callable[[AsyncSession], RelayService],
        owner: str,
        lease: timedelta,
        metrics: Metrics | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.relay = relay
        self.owner = owner  # who holds a message's lease while this instance pages it
        self.lease = lease
        self.metrics = metrics
        self.pages = 0  # pages enqueued by this process (tests and the bench read it)
        # Awaited after each page's commit, with the pages so far: a seam for tests (a crash, a writer
        # between two pages).
        self.after_page: Callable[[int], Awaitable[None]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def kick(self) -> None:
        """Something was marked to be paged and committed: page it (now, or right after the run on)."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self._again = False
            try:
                await self.run()
            except Exception:
                # The page rolled back (its failure counted): `resume_fan_outs` tries it again.
                log.exception("paging a fan-out failed; it is resumed from its cursor by resume_fan_outs")
                return
            if not self._again:
                return

    async def run(self) -> int:
        """Page until nothing is left that this instance may page (another may hold a fan-out's lease):
        the fan-outs' pages and those of the edits and deletes still reaching big messages' copies take
        turns, so a busy common chat's fan-outs never hold a delete up for long; the pages done."""
        done = 0
        kinds = [_FAN_OUTS, _COPIES]
        while kinds:
            for kind in list(kinds):
                if await self._page(kind):
                    done += 1
                else:
                    kinds.remove(kind)
        return done

    async def _page(self, kind: _Kind) -> bool:
        """One page of `kind` in a transaction of its own; False when none is left. A page that fails
        is counted, and raised unless its message is given up (then True)."""
        relay: RelayService | None = None
        try:
            async with self.sessionmaker() as session, session.begin():
                relay = self.relay(session)
                if not await kind.page(relay, self):
                    # Nothing left, or another instance holds the lease of the fan-out under way: that
                    # one goes on with it and the messages behind it (its run ends only when it finds
                    # nothing left, or when it loses to a third); the next message here would break the
                    # order, so these pages end.
                    return False
        except Exception:
            message_id = kind.current(relay) if relay is not None else None
            if message_id is None or not await self._failed(kind, message_id):
                raise  # tried again by resume_fan_outs
            log.exception(
                "%s of relayed message %s given up after %s failed attempts at one page: %s",
                kind.name,
                message_id,
                GIVE_UP_AFTER,
                kind.given_up,
            )
            if self.metrics is not None:
                kind.counter(self.metrics).inc()
            return True
        self.pages += 1
        if self.after_page is not None:
            await self.after_page(self.pages)
        return True

    async def _failed(self, kind: _Kind, message_id: int) -> bool:
        """A page of this message failed and rolled back: count it, in a transaction of its own; True
        when the rest is given up (GIVE_UP_AFTER failures at one page running)."""
        try:
            async with self.sessionmaker() as session, session.begin():
                return await kind.failed(self.relay(session), message_id)
        except Exception:
            log.warning("counting a failed page of relayed message %s failed", message_id, exc_info=True)
            return False

    async def resume(self) -> None:
        """The `resume_fan_outs` job: page what is left (a crashed instance's once its lease ran out),
        and wait until it is done."""
        self.kick()
        await self.wait_idle()

    async def wait_idle(self) -> None:
        """Until the runner has nothing left to do (tests); at once when called from the run itself
        (`after_page`), which would otherwise wait for itself."""
        while self._task is not None and not self._task.done() and asyncio.current_task() is not self._task:
            await asyncio.gather(self._task, return_exceptions=True)

    async def stop(self) -> None:
        """Stop paging (shutdown): the page under way rolls back; the lease runs out and any instance
        resumes the fan-out from its cursor."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


_FAN_OUTS = _Kind(
    "fan-out",
    lambda relay, runner: relay.fan_out_page(runner.owner, runner.lease),
    lambda relay: relay.paging,
    lambda relay, message_id: relay.fan_out_failed(message_id, GIVE_UP_AFTER),
    "the readers past its cursor get no copy; the common chat's next messages go on",
    lambda metrics: metrics.fan_outs_given_up,
)
_COPIES = _Kind(
    "edit or delete",
    lambda relay, runner: relay.copies_page(),
    lambda relay: relay.reaching,
    lambda relay, message_id: relay.copies_failed(message_id, GIVE_UP_AFTER),
    "the copies past its cursor keep the message as it was",
    lambda metrics: metrics.copies_given_up,
)
