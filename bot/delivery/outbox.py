"""From the transactions that queue messages (`services.delivery.Outbox`) to the worker, after commit.

`CommitHandoff` is the `services.delivery.Handoff` of this process: an outbox tells it what its
transaction queued, and the session's commit and rollback hooks (`storage.db.create_sessionmaker`)
tell it how the transaction ended. Only when the whole transaction commits is the worker woken (the
`Waker`) and the express lane handed its rows; a savepoint that rolls back takes back the express
rows queued inside it, and only those (the rows queued before it, or in savepoints released before
it, still go).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from bot.delivery.express import ExpressLane
from storage.repositories.delivery import Claimed


class Waker:
    """Set after a transaction that enqueued something commits (see CommitHandoff)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.wakes = 0  # how many times it was set: idle loops woken together tell one wake from the next

    def wake(self) -> None:
        self.wakes += 1
        self.event.set()


@dataclass
class _Queued:
    """What one transaction queued so far."""

    wake: bool = False  # rows the usual way: the worker is woken on commit
    # Express rows, each batch with the innermost savepoint it was queued in (None: outside any).
    express: list[tuple[SessionTransaction | None, Sequence[Claimed]]] = field(default_factory=list)
    then: list[Callable[[], None]] = field(default_factory=list)  # called after the commit


class CommitHandoff:
    """One per process: hands what each transaction queued to the worker when, and only if, it commits."""

    def __init__(self, waker: Waker, express: ExpressLane | None = None) -> None:
        self.waker = waker
        self._express = express
        # Per session, only while its transaction has queued something; an abandoned session's entry
        # goes with it.
        self._queued: weakref.WeakKeyDictionary[Session, _Queued] = weakref.WeakKeyDictionary()

    @property
    def express(self) -> ExpressLane | None:
        return self._express

    def _of(self, session: AsyncSession) -> _Queued:
        sync = session.sync_session
        queued = self._queued.get(sync)
        if queued is None:
            queued = self._queued[sync] = _Queued()
        return queued

    def queued(self, session: AsyncSession) -> None:
        self._of(session).wake = True

    def queued_express(self, session: AsyncSession, rows: Sequence[Claimed]) -> None:
        self._of(session).express.append((session.sync_session.get_nested_transaction(), rows))

    def after_commit(self, session: AsyncSession, callback: Callable[[], None]) -> None:
        then = self._of(session).then
        if callback not in then:
            then.append(callback)

    # --- the session's hooks ---------------------------------------------------------------
    def committed(self, session: Session) -> None:
        """After a commit: a savepoint's release changes nothing (the transaction goes on); the whole
        transaction's wakes the worker and hands the express rows over."""
        if session.in_nested_transaction() or not self._queued:
            return
        queued = self._queued.pop(session, None)
        if queued is None:
            return
        if queued.wake:
            self.waker.wake()
        if queued.express and self._express is not None:
            self._express.hand_over([row for _, rows in queued.express for row in rows])
        for callback in queued.then:
            callback()

    def rolled_back(self, session: Session, transaction: SessionTransaction) -> None:
        """After a rollback: the whole transaction's forgets everything it queued; a savepoint's, the
        express rows queued inside it (the rows' inserts are gone with it)."""
        if not self._queued:
            return
        if not transaction.nested:
            self._queued.pop(session, None)
            return
        queued = self._queued.get(session)
        if queued is not None:
            queued.express = [(at, rows) for at, rows in queued.express if not _within(at, transaction)]


def _within(savepoint: SessionTransaction | None, outer: SessionTransaction) -> bool:
    """Whether `savepoint` is `outer` or nested inside it."""
    while savepoint is not None:
        if savepoint is outer:
            return True
        savepoint = savepoint.parent
    return False
