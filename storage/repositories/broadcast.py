"""Broadcasts and their audience."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Broadcast, User


class BroadcastRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, broadcast: Broadcast) -> Broadcast:
        self.session.add(broadcast)
        await self.session.flush()
        return broadcast

    async def get_for_update(self, broadcast_id: int) -> Broadcast | None:
        """The row locked until the transaction ends (PostgreSQL), so two presses cannot both send."""
        return await self.session.scalar(select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update())

    async def sending(self) -> list[Broadcast]:
        return list(await self.session.scalars(select(Broadcast).where(Broadcast.status == "sending")))

    async def audience(self, exclude_user_id: int) -> list[int]:
        """Telegram ids of every signed-in user who has not blocked the bot."""
        rows = await self.session.scalars(
            select(User.telegram_id)
            .where(
                User.signed_in_at.is_not(None),
                User.phone.is_not(None),
                User.is_active.is_(True),
                User.telegram_id.is_not(None),
                User.id != exclude_user_id,
            )
            .order_by(User.id)
        )
        return [int(r) for r in rows if r is not None]
