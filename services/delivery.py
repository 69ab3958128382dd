"""Enqueueing outgoing messages (SPEC 8), in the caller's transaction.

Services describe *what* to send; the worker in `bot/delivery/` sends it later, at the
global rate, paced per chat, retrying and keeping each recipient's order. A row that must
act on a message this queue sent before (edit, delete, reply) names that row; the worker
resolves its Telegram message id when the time comes. What a transaction queued reaches the
worker through its `Handoff` once the transaction commits (a wake-up, the express lane's rows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from storage.models import Outgoing
from storage.models.delivery import Priority
from storage.repositories.delivery import Claimed, OutgoingRepo

Markup = dict[str, Any]
Row = dict[str, Any]  # an outgoing row's column values, built for `add_rows` (no ORM object: relays build thousands)


@dataclass(frozen=True)
class ReplyTo:
    """Reply to a message in the recipient's chat: a known Telegram id, or a row of this queue."""

    message_id: int | None = None
    outgoing_id: int | None = None


class Express(Protocol):
    """This process' delivery worker taking rows straight from the transaction that queues them
    (`bot.delivery.express.ExpressLane`): they are inserted already claimed with its token, and handed over
    in memory when the transaction commits, so no claim (a write transaction of the worker) and no
    wake-up stand between a relayed message and its send. A row whose chat has older rows waiting
    goes the usual way, behind them. If the process dies, the lease runs out and any worker claims
    the row as usual."""

    token: str
    lease: timedelta

    def takes(self, chat_ids: Sequence[int]) -> list[bool]:
        """Whether it has room for a row to each of these chats (a chat may come more than once)."""
        ...


class Handoff(Protocol):
    """Where what a transaction queued goes once it commits (`bot.delivery.outbox.CommitHandoff`): the
    worker is woken for rows queued the usual way, and the express lane gets its rows. Nothing goes
    before the whole transaction commits; a savepoint that rolls back takes back the rows queued
    inside it, and only those."""

    @property
    def express(self) -> Express | None:
        """The express lane taking rows from this process' transactions, if any."""
        ...

    def queued(self, session: AsyncSession) -> None:
        """The transaction of `session` queued rows the usual way: wake the worker once it commits."""
        ...

    def queued_express(self, session: AsyncSession, rows: Sequence[Claimed]) -> None:
        """The transaction of `session` queued these rows claimed for the express lane (in id order)."""
        ...

    def after_commit(self, session: AsyncSession, callback: Callable[[], None]) -> None:
        """Call `callback` once the transaction of `session` commits (never if it rolls back)."""
        ...


class Outbox:
    def __init__(self, session: AsyncSession, clock: Clock, handoff: Handoff | None = None) -> None:
        self.session = session
        self.clock = clock
        self.repo = OutgoingRepo(session)
        self.handoff = handoff
        self.express = handoff.express if handoff is not None else None

    def _wake(self) -> None:
        if self.handoff is not None:
            self.handoff.queued(self.session)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this transaction commits: e.g. start paging what it left to page. Without
        a handoff (service tests) it is never called."""
        if self.handoff is not None:
            self.handoff.after_commit(self.session, callback)

    def _values(self, chat_id: int, kind: str, payload: dict[str, Any], **extra: Any) -> Row:
        now = self.clock.now()
        return {
            "chat_id": chat_id,
            "kind": kind,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "not_before": now,
            "created_at": now,
            "priority": Priority.RELAY,
            **extra,
        }

    def _row(self, chat_id: int, kind: str, payload: dict[str, Any], **extra: Any) -> Outgoing:
        self._wake()
        return Outgoing(**self._values(chat_id, kind, payload, **extra))

    @staticmethod
    def _reply(payload: dict[str, Any], reply_to: ReplyTo | None) -> int | None:
        if reply_to is None:
            return None
        if reply_to.message_id is not None:
            payload["reply_to_message_id"] = reply_to.message_id
            return None
        return reply_to.outgoing_id

    async def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        reply_markup: Markup | None = None,
        reply_to: ReplyTo | None = None,
        batch_key: str | None = None,
        priority: Priority = Priority.RELAY,
    ) -> Outgoing:
        payload: dict[str, Any] = {"text": text}
        if reply_markup:
            payload["reply_markup"] = reply_markup
        target = self._reply(payload, reply_to)
        return await self.repo.add(
            self._row(chat_id, "text", payload, target_id=target, batch_key=batch_key, priority=priority)
        )

    async def send_texts(
        self, messages: list[tuple[int, str]], *, batch_key: str | None = None, priority: Priority = Priority.BULK
    ) -> None:
        """Many plain texts at once (a broadcast): one flush; they go after relayed copies (`priority`)."""
        await self._queue(
            [
                self._values(chat_id, "text", {"text": text}, batch_key=batch_key, priority=priority)
                for chat_id, text in messages
            ]
        )

    def text_row(
        self,
        chat_id: int,
        text: str,
        reply_markup: Markup | None,
        reply_to: ReplyTo | None,
        batch_key: str | None = None,
    ) -> Row:
        """A `sendMessage` row, not yet added (see add_rows)."""
        payload: dict[str, Any] = {"text": text}
        if reply_markup:
            payload["reply_markup"] = reply_markup
        target = self._reply(payload, reply_to)
        return self._values(chat_id, "text", payload, target_id=target, batch_key=batch_key)

    def copy_row(
        self,
        chat_id: int,
        from_chat_id: int,
        message_id: int,
        *,
        caption: str | None = None,
        reply_markup: Markup | None = None,
        reply_to: ReplyTo | None = None,
        batch_key: str | None = None,
    ) -> Row:
        """A `copyMessage` row, not yet added: relays build thousands and add them in one go."""
        payload: dict[str, Any] = {"from_chat_id": from_chat_id, "message_id": message_id}
        if caption is not None:
            payload["caption"] = caption
        if reply_markup:
            payload["reply_markup"] = reply_markup
        target = self._reply(payload, reply_to)
        return self._values(chat_id, "copy", payload, target_id=target, batch_key=batch_key)

    def album_row(
        self, chat_id: int, from_chat_id: int, message_ids: list[int], *, batch_key: str | None = None
    ) -> Row:
        payload = {"from_chat_id": from_chat_id, "message_ids": message_ids}
        return self._values(chat_id, "album", payload, batch_key=batch_key)

    async def add_rows(self, rows: list[Row]) -> list[int]:
        """Queue rows built by `text_row`, `copy_row`, `album_row`; their ids, in order. Those the
        express lane takes go to it when the transaction commits (see Express)."""
        express = await self._for_express(rows) if self.express is not None else set()
        if len(express) < len(rows):
            self._wake()
        if express:
            assert self.express is not None
            claim = {"claimed_until": self.clock.now() + self.express.lease, "claim_token": self.express.token}
            rows = [{**row, **claim} if i in express else row for i, row in enumerate(rows)]
        ids = await self.repo.add_many(rows)
        if express:
            assert self.handoff is not None
            handed = [
                Claimed(ids[i], row["chat_id"], row["kind"], row["payload"], 0, None)
                for i, row in enumerate(rows)
                if i in express
            ]
            self.handoff.queued_express(self.session, handed)
        return ids

    async def _for_express(self, rows: list[Row]) -> set[int]:
        """Which rows the express lane takes: it has room, the row acts on no earlier row (a reply or an
        edit needs that row's Telegram id, known only once it is sent), and no older row of its chat
        waits elsewhere (per-chat order)."""
        assert self.express is not None
        candidates = [i for i, row in enumerate(rows) if row.get("target_id") is None]
        taken = dict(zip(candidates, self.express.takes([rows[i]["chat_id"] for i in candidates]), strict=True))
        chats = {rows[i]["chat_id"] for i, ok in taken.items() if ok}
        if not chats:
            return set()
        behind = await self.repo.chats_waiting(chats, self.express.token)
        chosen: set[int] = set()
        for i, row in enumerate(rows):
            if taken.get(i, False) and row["chat_id"] not in behind:
                chosen.add(i)
            else:  # this row goes the usual way: its chat's later rows here go behind it
                behind.add(row["chat_id"])
        return chosen

    async def edit_copies(self, kind: str, edits: Sequence[tuple[int, int, str, Markup | None]]) -> None:
        """Edit queued copies: `kind` "edit_text" or "edit_caption", each edit (chat id, the copy's outgoing
        id, the new text or caption, the markup). One statement for many: an edit to the common chat
        reaches every reader's copy."""
        field = "text" if kind == "edit_text" else "caption"
        rows = []
        for chat_id, target_outgoing_id, content, reply_markup in edits:
            payload: dict[str, Any] = {field: content}
            if reply_markup:
                payload["reply_markup"] = reply_markup
            rows.append(self._values(chat_id, kind, payload, target_id=target_outgoing_id))
        await self._queue(rows)

    async def delete_copies(self, targets: Sequence[tuple[int, int]]) -> None:
        """Delete queued copies, each (chat id, the copy's outgoing id), in one statement for many."""
        await self._queue([self._values(chat_id, "delete", {}, target_id=target) for chat_id, target in targets])

    async def _queue(self, rows: list[Row]) -> None:
        if rows:
            self._wake()
            await self.repo.add_many(rows)

    async def edit_known(self, chat_id: int, message_id: int, text: str, reply_markup: Markup | None = None) -> None:
        """Edit a message whose Telegram id is known (one the bot sent directly, e.g. an answer)."""
        payload: dict[str, Any] = {"text": text, "message_id": message_id}
        if reply_markup:
            payload["reply_markup"] = reply_markup
        await self.repo.add(self._row(chat_id, "edit_text", payload))

    async def delete(self, chat_id: int, target_outgoing_id: int) -> None:
        await self.repo.add(self._row(chat_id, "delete", {}, target_id=target_outgoing_id))

    async def delete_message(self, chat_id: int, message_id: int) -> None:
        await self.repo.add(self._row(chat_id, "delete", {"message_id": message_id}))


class QueuedMessages:
    """`services.outgoing.OutgoingMessages` on the delivery queue: the text is queued in the caller's
    transaction, so it is sent once the caller's bookkeeping commits (and never if it rolls back)."""

    def __init__(
        self,
        clock: Clock,
        batch_key: str | None = None,
        handoff: Handoff | None = None,
        priority: Priority = Priority.RELAY,
    ) -> None:
        self.clock = clock
        self.batch_key = batch_key
        self.handoff = handoff
        self.priority = priority  # bulk notifications go after relayed copies

    async def send_text(self, session: AsyncSession, telegram_id: int, text: str) -> bool:
        outbox = Outbox(session, self.clock, self.handoff)
        await outbox.send_text(telegram_id, text, batch_key=self.batch_key, priority=self.priority)
        return True
