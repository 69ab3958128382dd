"""The GMFY event outbox (written in the action's transaction)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import upsert
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
        """Queue one event; a unique event whose key is already queued is not queued again (also when
        another transaction queues it at the same moment: one statement, ON CONFLICT DO NOTHING)."""
        values = {
            "user_id": user_id,
            "type": type_,
            "idempotence_key": idempotence_key,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        if idempotence_key is None:  # nothing to clash on (NULLs are distinct)
            await self.session.execute(insert(GmfyEvent).values(**values))
            return True
        added = await self.session.execute(
            upsert(self.session, GmfyEvent)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[GmfyEvent.idempotence_key])
            .returning(GmfyEvent.id)
        )
        return added.scalar() is not None

    async def for_user(self, user_id: int) -> list[GmfyEvent]:
        return list(await self.session.scalars(select(GmfyEvent).where(GmfyEvent.user_id == user_id)))
