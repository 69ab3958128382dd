"""The outbox sender: a scheduler tick that ships due GMFY events in batches of up to 100.

Per tick it claims a batch (lease + SKIP LOCKED, committed at once), posts it to `v1/events/batch/`,
then marks it in a new transaction: sent; or, on a transient failure, back to pending with
exponential backoff and jitter (honouring Retry-After) and the tick stops; or, on a permanent 4xx,
failed with GMFY's answer kept. A crash between send and mark leaves the rows claimed until the
lease runs out; they are then sent again (unique events carry idempotence keys, so GMFY counts
them once).
"""

from __future__ import annotations

import logging
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import Clock
from services.gmfy.client import MAX_BATCH, Event, GmfyPermanentError, GmfyTransientError
from services.gmfy.status import GmfyStatus
from storage.repositories.gmfy import ClaimedEvent, OutboxSenderRepo

log = logging.getLogger(__name__)


class EventSink(Protocol):
    async def create_batch_events(self, events: list[Event]) -> None: ...


@dataclass(frozen=True)
class OutboxPolicy:
    batch_size: int = MAX_BATCH
    max_batches_per_run: int = 50
    backoff_base_seconds: float = 5.0
    backoff_max_seconds: float = 600.0
    lease_seconds: float = 60.0


@dataclass
class SendReport:
    batches: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0


def backoff_seconds(attempt: int, policy: OutboxPolicy, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": half the step fixed, half random. `attempt` counts from 1."""
    step = min(policy.backoff_max_seconds, policy.backoff_base_seconds * 2.0 ** max(0, attempt - 1))
    return float(step / 2 + rng.uniform(0, step / 2))


def to_wire(event: ClaimedEvent) -> Event:
    return Event(user_id=str(event.user_id), type=event.type, idempotence_key=event.idempotence_key)


class OutboxSender:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        sink: EventSink,
        clock: Clock,
        policy: OutboxPolicy | None = None,
        *,
        status: GmfyStatus | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.sink = sink
        self.clock = clock
        self.policy = policy or OutboxPolicy()
        self.status = status or GmfyStatus()
        self.rng = rng or random.Random()
        # After a transient failure this sender pauses as a whole (one probe per backoff step),
        # instead of trying every remaining batch against a GMFY that is down.
        self.paused_until: datetime | None = None
        self.failures = 0

    async def claim(self) -> tuple[str, list[ClaimedEvent]]:
        token = secrets.token_hex(8)
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            batch = await OutboxSenderRepo(session).claim(
                now=now,
                token=token,
                lease_until=now + timedelta(seconds=self.policy.lease_seconds),
                limit=min(self.policy.batch_size, MAX_BATCH),
            )
        return token, batch

    async def run_once(self) -> SendReport:
        report = SendReport()
        if self.paused_until is not None and self.clock.now() < self.paused_until:
            return report
        for _ in range(self.policy.max_batches_per_run):
            token, batch = await self.claim()
            if not batch:
                break
            report.batches += 1
            ids = [event.id for event in batch]
            try:
                await self.sink.create_batch_events([to_wire(event) for event in batch])
            except GmfyTransientError as exc:
                await self._defer(batch, token, exc)
                report.deferred += len(batch)
                break  # GMFY is struggling: leave the rest for a later tick
            except GmfyPermanentError as exc:
                now = self.clock.now()
                async with self.sessionmaker() as session, session.begin():
                    await OutboxSenderRepo(session).fail(ids, token, exc.describe())
                self.status.error("events", exc.describe(), now)
                log.warning(
                    "GMFY refused a batch of %d events: %s",
                    len(batch),
                    exc.describe(),
                    extra={"events": len(batch), "reason": exc.describe()},
                )
                report.failed += len(batch)
                continue
            now = self.clock.now()
            async with self.sessionmaker() as session, session.begin():
                await OutboxSenderRepo(session).mark_sent(ids, now)
            self.status.last_sent_at = now
            self.failures = 0
            self.paused_until = None
            self.status.events_sent += len(batch)
            report.sent += len(batch)
        return report

    async def _defer(self, batch: list[ClaimedEvent], token: str, exc: GmfyTransientError) -> None:
        now = self.clock.now()
        self.failures += 1
        attempt = max(max(event.attempts for event in batch) + 1, self.failures)
        delay = backoff_seconds(attempt, self.policy, self.rng)
        if exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        self.paused_until = now + timedelta(seconds=delay)
        async with self.sessionmaker() as session, session.begin():
            await OutboxSenderRepo(session).defer(
                [event.id for event in batch], token, now + timedelta(seconds=delay), exc.describe()
            )
        self.status.error("events", exc.describe(), now)
        log.info(
            "GMFY unavailable (%s); %d events retry in %.1f s",
            exc.describe(),
            len(batch),
            delay,
            extra={"events": len(batch), "retry_in_seconds": delay, "reason": exc.describe()},
        )
