"""Broadcasts and their audience."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Broadcast, Member, Room, RoomMember, User


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

    def _audience(self, exclude_user_id: int, kind: str, room_id: int | None) -> Select[Any]:
        query = select(User.telegram_id).where(
            User.signed_in_at.is_not(None),
            User.phone.is_not(None),
            User.is_active.is_(True),
            User.telegram_id.is_not(None),
            User.id != exclude_user_id,
        )
        if kind == "common":
            query = query.join(Member, Member.user_id == User.id).where(Member.in_common.is_(True))
        elif kind == "room":
            query = query.join(RoomMember, RoomMember.user_id == User.id).where(
                RoomMember.room_id == room_id, RoomMember.status == "member"
            )
        return query

    async def audience(self, exclude_user_id: int, kind: str = "all", room_id: int | None = None) -> list[int]:
        """Telegram ids of every signed-in user who has not blocked the bot (`kind="all"`), of those in the
        common chat (`"common"`), or of a room's members (`"room"`)."""
        rows = await self.session.scalars(self._audience(exclude_user_id, kind, room_id).order_by(User.id))
        return [int(r) for r in rows if r is not None]

    async def audience_size(self, exclude_user_id: int, kind: str = "all", room_id: int | None = None) -> int:
        query = self._audience(exclude_user_id, kind, room_id).subquery()
        return int(await self.session.scalar(select(func.count()).select_from(query)) or 0)

    async def open_rooms(self, limit: int = 200) -> list[Room]:
        return list(
            await self.session.scalars(select(Room).where(Room.status == "open").order_by(Room.title).limit(limit))
        )

    async def get(self, broadcast_id: int) -> Broadcast | None:
        return await self.session.get(Broadcast, broadcast_id)

    async def recent(self, limit: int) -> list[Broadcast]:
        return list(await self.session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)))
