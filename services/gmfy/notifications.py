"""The notification job: pull unread GMFY notifications and deliver each to its user once.

A notification has no id, so each fetched item is remembered as a (user, sha256(text)) fingerprint
row; the same item fetched again within the window is ignored. The row also carries the delivery
state, so an item whose delivery must be retried is not lost when GMFY does not return it again.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import Clock
from services.gmfy.client import GmfyError, Notification
from services.gmfy.status import GmfyStatus
from services.outgoing import OutgoingMessages
from storage.models import GmfyNotification, User
from storage.repositories.gmfy import NotificationRepo

log = logging.getLogger(__name__)

# (the user's chosen language or None, GMFY's message text) -> the HTML text to send
Renderer = Callable[[str | None, str], str]


class NotificationSource(Protocol):
    async def get_unread_notifications(self, user_id: str | None = None) -> list[Notification]: ...


@dataclass
class PollReport:
    fetched: int = 0
    queued: int = 0
    delivered: int = 0
    skipped: int = 0
    deferred: int = 0
    failed: int = 0


def fingerprint(message: str) -> str:
    return hashlib.sha256(message.encode()).hexdigest()


class NotificationPoller:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        source: NotificationSource,
        clock: Clock,
        outgoing: OutgoingMessages,
        render: Renderer,
        *,
        window: timedelta = timedelta(minutes=10),
        status: GmfyStatus | None = None,
        batch_limit: int = 200,
        max_attempts: int = 10,
        retry_base_seconds: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.source = source
        self.clock = clock
        self.outgoing = outgoing
        self.render = render
        self.window = window
        self.status = status or GmfyStatus()
        self.batch_limit = batch_limit
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.rng = rng or random.Random()

    async def run_once(self) -> PollReport:
        report = PollReport()
        await self.fetch(report)
        await self.deliver(report)
        return report

    async def fetch(self, report: PollReport) -> None:
        try:
            items = await self.source.get_unread_notifications()
        except GmfyError as exc:
            self.status.error("notifications", exc.describe(), self.clock.now())
            log.info("GMFY notifications unavailable: %s", exc.describe())
            return
        report.fetched = len(items)
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            repo = NotificationRepo(session)
            await repo.forget_older_than(now - self.window)
            for item in items:
                if not item.user_id.isdigit():
                    log.warning("GMFY notification for a user id that is not ours: %r", item.user_id[:40])
                    continue
                if await repo.remember(
                    user_id=int(item.user_id), fingerprint=fingerprint(item.message), message=item.message, now=now
                ):
                    report.queued += 1

    async def deliver(self, report: PollReport) -> None:
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            for row in await NotificationRepo(session).due(now, self.batch_limit):
                user = await session.get(User, row.user_id)
                if user is None or user.telegram_id is None or not user.is_active:
                    row.status, row.last_error = "skipped", "no reachable user"
                    report.skipped += 1
                    continue
                try:
                    text = self.render(user.language, row.message)
                    delivered = await self.outgoing.send_text(session, user.telegram_id, text)
                except Exception as exc:  # never let one message undo the others' bookkeeping
                    log.exception("delivering GMFY notification %s failed", row.id)
                    self._retry_later(row, repr(exc), report)
                    continue
                row.attempts += 1
                if delivered:
                    row.status, row.delivered_at = "delivered", now
                    report.delivered += 1
                    self.status.notifications_delivered += 1
                else:
                    row.status, row.last_error = "skipped", "recipient unreachable"
                    report.skipped += 1

    def _retry_later(self, row: GmfyNotification, error: str, report: PollReport) -> None:
        row.attempts += 1
        row.last_error = error[:2000]
        if row.attempts >= self.max_attempts:
            row.status = "failed"
            report.failed += 1
            return
        step = self.retry_base_seconds * 2.0 ** (row.attempts - 1)
        delay = step / 2 + self.rng.uniform(0, step / 2)
        row.next_attempt_at = self.clock.now() + timedelta(seconds=delay)
        report.deferred += 1
