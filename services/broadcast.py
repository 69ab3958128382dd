"""Admin broadcasts (SPEC 6): a draft the admin confirms, one queued copy per user, live progress.

The copies go through the delivery queue under the broadcast's batch key, so the queue's own
bookkeeping (sent / dropped because the user blocked the bot / failed) is the progress report.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from services.delivery import Outbox
from services.errors import (
    BroadcastAlreadyHandled,
    BroadcastEmpty,
    BroadcastHtmlInvalid,
    BroadcastNotFound,
    BroadcastTooLong,
)
from services.telegram_html import html_problem
from storage.models import AuditEntry, Broadcast, User
from storage.repositories.broadcast import BroadcastRepo
from storage.repositories.delivery import OutgoingRepo
from storage.repositories.moderation import AuditRepo

MAX_TEXT = 3500  # leaves room for the header within Telegram's 4096


@dataclass(frozen=True)
class Audience:
    """Who gets a broadcast: everyone signed in, the common chat's members, or one room's members."""

    kind: str = "all"  # all | common | room
    room_id: int | None = None

    @property
    def label(self) -> str:
        return f"room:{self.room_id}" if self.kind == "room" else self.kind


EVERYONE = Audience()


@dataclass(frozen=True)
class Draft:
    broadcast: Broadcast
    audience: int


@dataclass(frozen=True)
class Progress:
    broadcast: Broadcast
    author: User | None
    total: int
    delivered: int
    blocked: int
    failed: int
    cancelled: int = 0  # copies not sent because the broadcast was cancelled

    @property
    def pending(self) -> int:
        return max(0, self.total - self.delivered - self.blocked - self.failed - self.cancelled)

    @property
    def done(self) -> bool:
        return self.pending == 0


class BroadcastService:
    def __init__(self, session: AsyncSession, clock: Clock, outbox: Outbox) -> None:
        self.session = session
        self.clock = clock
        self.outbox = outbox
        self.repo = BroadcastRepo(session)

    async def draft(self, author: User, html: str) -> Draft:
        text = html.strip()
        if not text:
            raise BroadcastEmpty()
        if len(text) > MAX_TEXT:
            raise BroadcastTooLong(limit=MAX_TEXT, length=len(text))
        if (problem := html_problem(text)) is not None:  # Telegram would refuse every copy
            raise BroadcastHtmlInvalid(tag=problem)
        broadcast = await self.repo.add(Broadcast(author_id=author.id, text=text, created_at=self.clock.now()))
        return Draft(broadcast, len(await self.repo.audience(author.id)))

    async def show_in(self, broadcast: Broadcast, chat_id: int, message_id: int) -> None:
        """Remember the admin's message that shows this broadcast (edited with the progress)."""
        broadcast.chat_id, broadcast.progress_message_id = chat_id, message_id

    async def _draft(self, broadcast_id: int, by: User) -> Broadcast:
        broadcast = await self.repo.get_for_update(broadcast_id)
        if broadcast is None or broadcast.author_id != by.id:
            raise BroadcastNotFound()
        if broadcast.status != "draft":
            raise BroadcastAlreadyHandled(status=broadcast.status)
        return broadcast

    async def start(self, broadcast_id: int, by: User, audience: Audience = EVERYONE) -> Broadcast:
        """Queue one copy per user of the audience (everyone, the common chat, a room); a second press (or
        one after Cancel) changes nothing."""
        broadcast = await self._draft(broadcast_id, by)
        chats = await self.repo.audience(by.id, audience.kind, audience.room_id)
        await self.outbox.send_texts([(chat, broadcast.text) for chat in chats], batch_key=broadcast.batch_key)
        now = self.clock.now()
        broadcast.status, broadcast.total, broadcast.started_at = "sending", len(chats), now
        if not chats:
            broadcast.status, broadcast.finished_at = "done", now
        await AuditRepo(self.session).add(
            AuditEntry(
                actor_id=by.id,
                action="broadcast",
                reason=broadcast.text[:200],
                details={
                    "broadcast_id": broadcast.id,
                    "recipients": len(chats),
                    **({} if audience == EVERYONE else {"audience": audience.label}),
                },
                created_at=now,
            )
        )
        return broadcast

    async def cancel(self, broadcast_id: int, by: User) -> Broadcast:
        broadcast = await self._draft(broadcast_id, by)
        broadcast.status = "cancelled"
        return broadcast

    async def stop(self, broadcast_id: int, by: User) -> int:
        """Cancel a running broadcast: the copies not sent yet are dropped (a copy on the wire still goes).
        Returns how many were dropped. Raises BroadcastNotFound, BroadcastAlreadyHandled (not running)."""
        broadcast = await self.repo.get_for_update(broadcast_id)
        if broadcast is None:
            raise BroadcastNotFound()
        if broadcast.status == "draft":
            broadcast.status = "cancelled"
            return 0
        if broadcast.status != "sending":
            raise BroadcastAlreadyHandled(status=broadcast.status)
        dropped = await OutgoingRepo(self.session).drop_batch(broadcast.batch_key, "cancelled")
        now = self.clock.now()
        broadcast.status, broadcast.finished_at = "cancelled", now
        await AuditRepo(self.session).add(
            AuditEntry(
                actor_id=by.id,
                action="broadcast_cancel",
                details={"broadcast_id": broadcast.id, "dropped": dropped},
                created_at=now,
            )
        )
        return dropped

    async def progress_of(self, broadcast: Broadcast) -> Progress:
        counts = await OutgoingRepo(self.session).counts(broadcast.batch_key)
        return Progress(
            broadcast,
            await self.session.get(User, broadcast.author_id),
            broadcast.total,
            delivered=counts.get("sent", 0),
            blocked=counts.get("blocked", 0) + counts.get("dropped", 0),
            failed=counts.get("failed", 0),
            cancelled=counts.get("cancelled", 0),
        )

    async def progress(self) -> list[Progress]:
        """Where each broadcast in flight stands (the scheduler renders and publishes it)."""
        return [await self.progress_of(broadcast) for broadcast in await self.repo.sending()]

    async def publish(self, progress: Progress, text: str) -> bool:
        """Edit the admin's progress message to `text` if it changed; finish the broadcast when all are
        handled. True when an edit was queued."""
        broadcast = progress.broadcast
        if progress.done:
            broadcast.status, broadcast.finished_at = "done", self.clock.now()
        if text == broadcast.last_progress or broadcast.chat_id is None or broadcast.progress_message_id is None:
            return False
        broadcast.last_progress = text[:200]
        await self.outbox.edit_known(broadcast.chat_id, broadcast.progress_message_id, text)
        return True
