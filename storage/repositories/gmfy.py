"""GMFY outbox claiming/marking for the sender, and the notification fingerprints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import upsert
from storage.models import GmfyEvent, GmfyNotification
from storage.sqlite_fast import in_thread

PENDING = "pending"
SENT = "sent"
FAILED = "failed"


@dataclass(frozen=True)
class ClaimedEvent:
    id: int
    user_id: int
    type: str
    idempotence_key: str | None
    attempts: int


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    failed: int
    oldest_pending_at: datetime | None
    last_error: str | None


class OutboxSenderRepo:
    """Rows are claimed with a lease (token + `claimed_until`), in one statement; on PostgreSQL the
    candidate rows are also locked with `FOR UPDATE SKIP LOCKED`, so concurrent senders never pick the
    same rows. A sender that dies keeps its rows only until the lease runs out."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    async def claim(self, *, now: datetime, token: str, lease_until: datetime, limit: int) -> list[ClaimedEvent]:
        due = (
            select(GmfyEvent.id)
            .where(
                GmfyEvent.status == PENDING,
                GmfyEvent.next_attempt_at <= now,
                or_(GmfyEvent.claimed_until.is_(None), GmfyEvent.claimed_until <= now),
            )
            .order_by(GmfyEvent.id)
            .limit(limit)
        )
        if self._postgres:
            due = due.with_for_update(skip_locked=True)
        stmt = (
            update(GmfyEvent)
            .where(GmfyEvent.id.in_(due.scalar_subquery()))
            .values(claim_token=token, claimed_until=lease_until)
            .returning(GmfyEvent.id, GmfyEvent.user_id, GmfyEvent.type, GmfyEvent.idempotence_key, GmfyEvent.attempts)
            .execution_options(synchronize_session=False)
        )
        rows = (await self.session.execute(stmt)).all()
        return sorted((ClaimedEvent(*row) for row in rows), key=lambda e: e.id)

    async def mark_sent(self, ids: list[int], now: datetime) -> int:
        """GMFY accepted these: sent, whoever holds the lease now (a late sender's success still counts)."""
        stmt = (
            update(GmfyEvent)
            .where(GmfyEvent.id.in_(ids), GmfyEvent.status == PENDING)
            .values(
                status=SENT,
                sent_at=now,
                attempts=GmfyEvent.attempts + 1,
                last_error=None,
                claim_token=None,
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )
        return int((await self.session.execute(stmt)).rowcount)  # type: ignore[attr-defined]

    async def defer(self, ids: list[int], token: str, next_attempt_at: datetime, error: str) -> None:
        await self.session.execute(
            update(GmfyEvent)
            .where(GmfyEvent.id.in_(ids), GmfyEvent.claim_token == token, GmfyEvent.status == PENDING)
            .values(
                attempts=GmfyEvent.attempts + 1,
                next_attempt_at=next_attempt_at,
                last_error=error,
                claim_token=None,
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )

    async def fail(self, ids: list[int], token: str, error: str) -> None:
        await self.session.execute(
            update(GmfyEvent)
            .where(GmfyEvent.id.in_(ids), GmfyEvent.claim_token == token, GmfyEvent.status == PENDING)
            .values(
                status=FAILED,
                attempts=GmfyEvent.attempts + 1,
                last_error=error,
                claim_token=None,
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )

    async def stats(self) -> OutboxStats:
        pending, oldest = (
            await self.session.execute(
                in_thread(
                    select(func.count(GmfyEvent.id), func.min(GmfyEvent.created_at)).where(GmfyEvent.status == PENDING)
                )
            )
        ).one()
        failed = await self.session.scalar(
            in_thread(select(func.count(GmfyEvent.id)).where(GmfyEvent.status == FAILED))
        )
        last_error = await self.session.scalar(
            select(GmfyEvent.last_error)
            .where(GmfyEvent.last_error.is_not(None))
            .order_by(GmfyEvent.next_attempt_at.desc(), GmfyEvent.id.desc())
            .limit(1)
        )
        return OutboxStats(int(pending or 0), int(failed or 0), oldest, last_error)


class NotificationRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def forget_older_than(self, cutoff: datetime) -> None:
        """Finished fingerprints older than the window are dropped: the same text may come again later."""
        await self.session.execute(
            delete(GmfyNotification).where(GmfyNotification.status != PENDING, GmfyNotification.fetched_at < cutoff)
        )

    async def remember(self, *, user_id: int, fingerprint: str, message: str, now: datetime) -> bool:
        """Queue a fetched notification unless this (user, text) is already known; True when queued."""
        values = {
            "user_id": user_id,
            "fingerprint": fingerprint,
            "message": message,
            "status": PENDING,
            "attempts": 0,
            "fetched_at": now,
            "next_attempt_at": now,
        }
        stmt = (
            upsert(self.session, GmfyNotification)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["user_id", "fingerprint"])
            .returning(GmfyNotification.id)
        )
        return (await self.session.execute(stmt)).scalar() is not None

    async def due(self, now: datetime, limit: int) -> list[GmfyNotification]:
        query = (
            select(GmfyNotification)
            .where(GmfyNotification.status == PENDING, GmfyNotification.next_attempt_at <= now)
            .order_by(GmfyNotification.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(await self.session.scalars(query))

    async def all(self) -> list[GmfyNotification]:
        return list(await self.session.scalars(select(GmfyNotification).order_by(GmfyNotification.id)))
