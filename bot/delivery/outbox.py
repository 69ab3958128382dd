"""From the transactions that queue messages to the worker: the wake-up after a commit."""

from __future__ import annotations

import asyncio


class Waker:
    """Set after a transaction that enqueued something commits (see storage.db.create_sessionmaker)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.wakes = 0  # how many times it was set: idle loops woken together tell one wake from the next

    def wake(self) -> None:
        self.wakes += 1
        self.event.set()
