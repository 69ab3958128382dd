"""The express lane: rows a transaction queued, handed to this process' worker when it commits."""

from __future__ import annotations

import collections
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from storage.repositories.delivery import Claimed


class ExpressLane:
    """Rows handed to this process' worker by the transaction that queued them, per chat in order
    (`services.delivery.Express`: inserted already claimed with `token`, handed over on commit).

    It takes rows only while the worker runs, at most `limit` at a time (all sent well within the
    lease at the global rate) and `per_chat` per chat (a chat is paced at about one a second)."""

    def __init__(self, lease: timedelta, limit: int, per_chat: int = 2) -> None:
        self.token = "express-" + secrets.token_hex(8)
        self.lease = lease
        self.limit = limit
        self.per_chat = per_chat
        self.open = False
        self.queues: dict[int, collections.deque[Claimed]] = {}
        self.size = 0
        self.arrived: Callable[[set[int]], None] = lambda chats: None  # the worker starts those chats' sends
        self.monotonic = time.monotonic
        self._held_back: dict[int, float] = {}  # chat -> when a row of it had to wait (see hold_back)

    def hold_back(self, chat_id: int) -> None:
        """A row of this chat was not sent (a retry later): for a lease's time the chat's rows go the
        usual way, behind it. (A transaction that checked the chat before that row was put back may
        still hand rows over: `held_back` tells the worker to send them back too.)"""
        self._held_back[chat_id] = self.monotonic()
        if len(self._held_back) > 10_000:
            now = self.monotonic()
            self._held_back = {c: at for c, at in self._held_back.items() if now - at < self.lease.total_seconds()}

    def held_back(self, chat_id: int) -> bool:
        at = self._held_back.get(chat_id)
        return at is not None and self.monotonic() - at < self.lease.total_seconds()

    def takes(self, chat_ids: Sequence[int]) -> list[bool]:
        room = self.limit - self.size if self.open else 0
        counts: dict[int, int] = {}
        taken: list[bool] = []
        for chat_id in chat_ids:
            held = counts.get(chat_id, 0) + len(self.queues.get(chat_id, ()))
            ok = room > 0 and held < self.per_chat and not self.held_back(chat_id)
            if ok:
                room -= 1
                counts[chat_id] = counts.get(chat_id, 0) + 1
            taken.append(ok)
        return taken

    def hand_over(self, rows: Sequence[Claimed]) -> None:
        """Rows of a transaction that committed (in id order)."""
        for row in rows:
            self.queues.setdefault(row.chat_id, collections.deque()).append(row)
        self.size += len(rows)
        self.arrived({row.chat_id for row in rows})

    def take_back(self, chat_id: int) -> list[Claimed]:
        """The chat's rows not sent (they go back to the queue in the database); the chat is forgotten."""
        rows = list(self.queues.pop(chat_id, ()))
        self.size -= len(rows)
        return rows
