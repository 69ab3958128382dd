"""The GMFY outbox sender against the in-process fake GMFY, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import FakeClock
from services.events import EventRecorder, EventTypes
from services.gmfy.client import Event, GmfyClient
from services.gmfy.outbox import OutboxPolicy, OutboxSender, backoff_seconds
from storage.models import GmfyEvent
from storage.repositories.gmfy import OutboxSenderRepo
from tests.fakes.gmfy import API_KEY, FakeGmfy

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def gmfy() -> AsyncIterator[FakeGmfy]:
    fake = FakeGmfy()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def client(gmfy: FakeGmfy) -> AsyncIterator[GmfyClient]:
    async with GmfyClient(gmfy.url, API_KEY, timeout=5) as c:
        yield c


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def queue(sessionmaker: Sessions, clock: FakeClock, n: int, *, start: int = 0) -> None:
    async with sessionmaker() as session, session.begin():
        events = EventRecorder(session, clock, enabled=True, types=EventTypes())
        for i in range(start, start + n):
            await events.message_sent(user_id=1 + i % 7, message_id=i)


async def rows(sessionmaker: Sessions) -> list[GmfyEvent]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(GmfyEvent).order_by(GmfyEvent.id)))


def sender(sessionmaker: Sessions, sink: object, clock: FakeClock, **policy: float) -> OutboxSender:
    return OutboxSender(sessionmaker, sink, clock, OutboxPolicy(**policy), rng=random.Random(1))  # type: ignore[arg-type]


async def test_gmfy_down_then_back_everything_arrives_once_in_batches(
    sessionmaker: Sessions, gmfy: FakeGmfy, client: GmfyClient, clock: FakeClock
) -> None:
    await queue(sessionmaker, clock, 250)
    worker = sender(sessionmaker, client, clock)
    gmfy.down = 503
    report = await worker.run_once()
    assert (report.batches, report.deferred, report.sent) == (1, 100, 0)
    assert len(gmfy.requests) == 1  # one probe, not every batch
    assert await worker.run_once() == type(report)()  # paused while backing off
    assert len(gmfy.requests) == 1
    stored = await rows(sessionmaker)
    assert all(r.status == "pending" for r in stored)
    assert "HTTP 503" in (stored[0].last_error or "")
    assert stored[0].next_attempt_at > clock.now()

    clock.advance(minutes=3)
    gmfy.down = 502
    await worker.run_once()  # still down: backs off further
    assert worker.paused_until is not None
    first_pause = worker.paused_until - clock.now()

    gmfy.down = None
    clock.advance(minutes=30)
    report = await worker.run_once()
    assert report.sent == 250
    assert [len(b) for b in gmfy.batches] == [100, 100, 50]
    keys = [e["idempotenceKey"] for e in gmfy.events]
    assert len(keys) == len(set(keys)) == 250
    assert all(r.status == "sent" and r.sent_at is not None for r in await rows(sessionmaker))
    assert first_pause > timedelta(seconds=0)
    assert await worker.run_once() == type(report)()  # nothing left
    assert len(gmfy.batches) == 3


async def test_a_400_for_one_batch_marks_it_failed_and_the_rest_goes(
    sessionmaker: Sessions, gmfy: FakeGmfy, client: GmfyClient, clock: FakeClock
) -> None:
    await queue(sessionmaker, clock, 150)
    refused: list[int] = []

    def refuse_first(method: str, path: str, body: object) -> web.Response | None:
        if path == "v1/events/batch/" and not refused:
            refused.append(1)
            return web.json_response({"detail": "unknown event type message_sent"}, status=400)
        return None

    gmfy.hooks.append(refuse_first)
    worker = sender(sessionmaker, client, clock)
    report = await worker.run_once()
    assert (report.failed, report.sent) == (100, 50)
    stored = await rows(sessionmaker)
    failed = [r for r in stored if r.status == "failed"]
    assert len(failed) == 100
    assert "HTTP 400" in (failed[0].last_error or "")
    assert "unknown event type" in (failed[0].last_error or "")
    clock.advance(hours=2)
    assert (await worker.run_once()).batches == 0  # failed rows are not retried
    async with sessionmaker() as session:
        stats = await OutboxSenderRepo(session).stats()
    assert (stats.pending, stats.failed) == (0, 100)
    assert "unknown event type" in (stats.last_error or "")


async def test_429_retry_after_is_honoured(
    sessionmaker: Sessions, gmfy: FakeGmfy, client: GmfyClient, clock: FakeClock
) -> None:
    await queue(sessionmaker, clock, 3)
    gmfy.hooks.append(lambda m, p, b: web.Response(status=429, headers={"Retry-After": "900"}))
    worker = sender(sessionmaker, client, clock, backoff_base_seconds=1)
    await worker.run_once()
    stored = await rows(sessionmaker)
    assert stored[0].next_attempt_at >= clock.now() + timedelta(seconds=900)
    gmfy.hooks.clear()
    clock.advance(seconds=899)
    assert (await worker.run_once()).batches == 0
    clock.advance(seconds=2)
    assert (await worker.run_once()).sent == 3


async def test_crash_between_send_and_mark_resends_with_idempotence_keys(
    sessionmaker: Sessions, gmfy: FakeGmfy, client: GmfyClient, clock: FakeClock
) -> None:
    async with sessionmaker() as session, session.begin():
        events = EventRecorder(session, clock, enabled=True, types=EventTypes())
        await events.registration(1)
        await events.referral(1, 17)
        await events.report_confirmed(2, 5)

    class Crashing:
        async def create_batch_events(self, batch: list[Event]) -> None:
            await client.create_batch_events(batch)
            raise RuntimeError("process killed after GMFY answered")

    with pytest.raises(RuntimeError):
        await sender(sessionmaker, Crashing(), clock, lease_seconds=60).run_once()
    assert len(gmfy.events) == 3
    assert all(r.status == "pending" and r.claim_token for r in await rows(sessionmaker))

    restarted = sender(sessionmaker, client, clock, lease_seconds=60)
    assert (await restarted.run_once()).batches == 0  # the dead sender's lease still holds
    clock.advance(seconds=61)
    assert (await restarted.run_once()).sent == 3
    assert len(gmfy.events) == 6  # sent twice on the wire...
    assert all(e.get("idempotenceKey") for e in gmfy.events)
    assert sorted(gmfy.counted_types()) == ["referral", "registration", "report_confirmed"]  # ...counted once
    assert all(r.status == "sent" for r in await rows(sessionmaker))


async def test_two_workers_at_once_never_send_the_same_event(
    sessionmaker: Sessions, gmfy: FakeGmfy, client: GmfyClient, clock: FakeClock
) -> None:
    await queue(sessionmaker, clock, 1000)

    async def interleave() -> None:
        for _ in range(5):
            await asyncio.sleep(0)  # yield to the other worker mid-request (no wall-clock wait)

    gmfy.before_batch = interleave
    async with GmfyClient(gmfy.url, API_KEY) as other_client:
        a = sender(sessionmaker, client, clock, batch_size=50)
        b = sender(sessionmaker, other_client, clock, batch_size=50)
        ra, rb = await asyncio.gather(a.run_once(), b.run_once())
    assert ra.sent + rb.sent == 1000
    keys = [e["idempotenceKey"] for e in gmfy.events]
    assert len(keys) == len(set(keys)) == 1000
    assert all(len(batch) == 50 for batch in gmfy.batches)
    assert all(r.status == "sent" for r in await rows(sessionmaker))
    if sessionmaker.kw["bind"].dialect.name == "postgresql":
        assert ra.sent > 0
        assert rb.sent > 0  # really concurrent: both claimed batches


async def test_restart_loses_nothing(
    sessionmaker: Sessions, gmfy: FakeGmfy, client: GmfyClient, clock: FakeClock
) -> None:
    await queue(sessionmaker, clock, 120)
    first = sender(sessionmaker, client, clock, max_batches_per_run=1)
    assert (await first.run_once()).sent == 100
    second = sender(sessionmaker, client, clock)  # a new process
    await queue(sessionmaker, clock, 5, start=1000)
    assert (await second.run_once()).sent == 25
    assert len(gmfy.events) == 125


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    policy = OutboxPolicy(backoff_base_seconds=5, backoff_max_seconds=600)
    rng = random.Random(3)
    for attempt, step in [(1, 5), (2, 10), (3, 20), (8, 600), (30, 600)]:
        values = [backoff_seconds(attempt, policy, rng) for _ in range(50)]
        assert all(step / 2 <= v <= step for v in values)
        assert len(set(values)) > 1  # jitter


async def test_recorder_types_and_keys(sessionmaker: Sessions, clock: FakeClock) -> None:
    types = EventTypes(ban="user_banned")
    async with sessionmaker() as session, session.begin():
        events = EventRecorder(session, clock, enabled=True, types=types)
        await events.ban(3, 9)
        await events.ban(3, 9)  # the same ban again: queued once
        await events.room_created(3, 4)
        await events.room_joined(5, 4)
        await events.invite_created(3, 8)
        await events.message_sent(3)
        await events.action(3, "create", "subscription")
        off = EventRecorder(session, clock, enabled=False, types=types)
        await off.ban(4, 10)
    stored = [(r.user_id, r.type, r.idempotence_key) for r in await rows(sessionmaker)]
    assert stored == [
        (3, "user_banned", "ban-9"),
        (3, "room_created", "room-4"),
        (5, "room_joined", "room-4-join-5"),
        (3, "invite_created", "invite-8"),
        (3, "message_sent", None),
        (3, "create_subscription", None),
    ]
