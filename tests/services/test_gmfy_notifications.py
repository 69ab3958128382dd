"""The notification poller: fingerprints, skip on unreachable users, retry after a failed send, GMFY down."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import FakeClock
from services.gmfy.client import GmfyTransientError, Notification
from services.gmfy.notifications import NotificationPoller
from storage.models import User
from storage.repositories.gmfy import NotificationRepo

Sessions = async_sessionmaker[AsyncSession]


class Source:
    def __init__(self) -> None:
        self.items: list[Notification] = []
        self.down = False

    async def get_unread_notifications(self, user_id: str | None = None) -> list[Notification]:
        if self.down:
            raise GmfyTransientError("down", status=503)
        return list(self.items)


class Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.unreachable: set[int] = set()
        self.failing = False

    async def send_text(self, session: AsyncSession, telegram_id: int, text: str) -> bool:
        if self.failing:
            raise RuntimeError("the queue could not be written")
        if telegram_id in self.unreachable:
            return False
        self.sent.append((telegram_id, text))
        return True


async def make_users(sessionmaker: Sessions, clock: FakeClock) -> tuple[int, int]:
    async with sessionmaker() as session, session.begin():
        a = User(telegram_id=501, anon_name="A", language="ru", created_at=clock.now())
        b = User(telegram_id=502, anon_name="B", created_at=clock.now())
        session.add_all([a, b])
        await session.flush()
        return a.id, b.id


def poller(sessionmaker: Sessions, source: Source, outbox: Outbox, clock: FakeClock) -> NotificationPoller:
    return NotificationPoller(
        sessionmaker,
        source,
        clock,
        outbox,
        lambda lang, msg: f"[{lang}] {msg}",
        window=timedelta(minutes=10),
        max_attempts=3,
    )


async def test_each_notification_once_within_the_window(sessionmaker: Sessions) -> None:
    clock = FakeClock()
    a, b = await make_users(sessionmaker, clock)
    source, outbox = Source(), Outbox()
    source.items = [
        Notification(user_id=str(a), message="hi"),
        Notification(user_id=str(a), message="hi"),  # the same item twice in one answer
        Notification(user_id=str(b), message="hi"),
        Notification(user_id="999999", message="nobody"),
        Notification(user_id="ext-7", message="not ours"),
    ]
    job = poller(sessionmaker, source, outbox, clock)
    report = await job.run_once()
    assert outbox.sent == [(501, "[ru] hi"), (502, "[None] hi")]
    assert (report.delivered, report.skipped) == (2, 1)
    clock.advance(minutes=9)
    await job.run_once()
    assert len(outbox.sent) == 2
    clock.advance(minutes=2)
    await job.run_once()
    assert len(outbox.sent) == 4  # after the window the same text is delivered again


async def test_unreachable_is_skipped_and_a_failed_send_is_retried(sessionmaker: Sessions) -> None:
    clock = FakeClock()
    a, b = await make_users(sessionmaker, clock)
    source, outbox = Source(), Outbox()
    source.items = [Notification(user_id=str(a), message="one"), Notification(user_id=str(b), message="two")]
    outbox.unreachable.add(502)
    outbox.failing = True
    job = poller(sessionmaker, source, outbox, clock)
    report = await job.run_once()
    assert report.deferred == 2
    source.items = []
    source.down = True  # GMFY down: pending deliveries still go
    outbox.failing = False
    clock.advance(seconds=4)
    assert (await job.run_once()).delivered == 0  # the first retry waits 5-10 s
    clock.advance(seconds=7)
    report = await job.run_once()
    assert (report.delivered, report.skipped) == (1, 1)
    assert outbox.sent == [(501, "[ru] one")]
    assert job.status.last_error is not None
    assert "503" in job.status.last_error


async def test_gives_up_after_max_attempts(sessionmaker: Sessions) -> None:
    clock = FakeClock()
    a, _ = await make_users(sessionmaker, clock)
    source, outbox = Source(), Outbox()
    source.items = [Notification(user_id=str(a), message="x")]
    outbox.failing = True
    job = poller(sessionmaker, source, outbox, clock)
    await job.run_once()
    source.items = []  # GMFY returns an item once
    for _ in range(4):
        clock.advance(minutes=1)
        await job.run_once()
    async with sessionmaker() as session:
        rows = await NotificationRepo(session).all()
    assert [(r.status, r.attempts) for r in rows] == [("failed", 3)]
