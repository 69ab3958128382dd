"""The GMFY event outbox (written in the action's transaction)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import GmfyEvent


class EventOutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        user_id: int,
        type_: str,
        now: datetime,
        idempotence_key: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> bool:
        """Queue one event; a unique event whose key is already queued is not queued again."""
        if idempotence_key is not None:
            existing = await self.session.scalar(
                select(GmfyEvent.id).where(GmfyEvent.idempotence_key == idempotence_key)
            )
            if existing is not None:
                return False
        self.session.add(
            GmfyEvent(
                user_id=user_id,
                type=type_,
                idempotence_key=idempotence_key,
                payload=payload,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        await self.session.flush()
        return True

    async def for_user(self, user_id: int) -> list[GmfyEvent]:
        return list(await self.session.scalars(select(GmfyEvent).where(GmfyEvent.user_id == user_id)))
