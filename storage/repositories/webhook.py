"""Webhook update ids already taken (see bot/seen_updates.py for the protocol)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import upsert
from storage.models import SeenUpdate


class SeenUpdateRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, update_id: int, now: datetime, stale_before: datetime) -> bool | None:
        """Take `update_id` for handling: True when taken (new, or a claim older than `stale_before`
        left by an instance that died), None when it was handled already, False while another
        request holds a live claim."""
        inserted = await self.session.execute(
            upsert(self.session, SeenUpdate)
            .values(update_id=update_id, done=False, at=now)
            .on_conflict_do_nothing(index_elements=[SeenUpdate.update_id])
        )
        if getattr(inserted, "rowcount", 0):
            return True
        taken_over = await self.session.execute(
            update(SeenUpdate)
            .where(SeenUpdate.update_id == update_id, SeenUpdate.done.is_(False), SeenUpdate.at < stale_before)
            .values(at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken_over, "rowcount", 0):
            return True
        done = await self.session.scalar(select(SeenUpdate.done).where(SeenUpdate.update_id == update_id))
        return None if done else False

    async def finish(self, update_id: int, now: datetime) -> None:
        await self.session.execute(
            update(SeenUpdate)
            .where(SeenUpdate.update_id == update_id)
            .values(done=True, at=now)
            .execution_options(synchronize_session=False)
        )

    async def fail(self, update_id: int, free_at: datetime) -> int:
        """One more failed attempt: the claim is freed (its time set to `free_at`, older than any live
        claim, so the next `claim` takes it over) and the failures so far are returned (0 when the id
        is not claimed: done meanwhile, or purged)."""
        failures = await self.session.scalar(
            update(SeenUpdate)
            .where(SeenUpdate.update_id == update_id, SeenUpdate.done.is_(False))
            .values(failures=SeenUpdate.failures + 1, at=free_at)
            .returning(SeenUpdate.failures)
            .execution_options(synchronize_session=False)
        )
        return int(failures or 0)

    async def release(self, update_id: int) -> None:
        await self.session.execute(
            delete(SeenUpdate)
            .where(SeenUpdate.update_id == update_id, SeenUpdate.done.is_(False))
            .execution_options(synchronize_session=False)
        )

    async def purge_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(SeenUpdate).where(SeenUpdate.at < cutoff).execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)
