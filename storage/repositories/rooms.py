"""Rooms and their members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import sqlite_write_lock_first, upsert
from storage.models import Member, Room, RoomMember, User
from storage.repositories.relay import RECIPIENT_COLUMNS, Recipient, reachable_except, recipients_of


class RoomRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, room: Room) -> Room:
        self.session.add(room)
        await self.session.flush()
        return room

    async def get(self, room_id: int) -> Room | None:
        return await self.session.get(Room, room_id)

    async def by_token(self, token: str) -> Room | None:
        return await self.session.scalar(select(Room).where(Room.token == token))

    async def membership(self, room_id: int, user_id: int) -> RoomMember | None:
        return await self.session.scalar(
            select(RoomMember).where(RoomMember.room_id == room_id, RoomMember.user_id == user_id)
        )

    async def request(self, request_id: int, for_update: bool = False) -> RoomMember | None:
        """A join request; `for_update`: locked until the transaction ends, so two decisions on it at
        once (an owner's double tap reaching two instances) come one after the other, and the second
        reads the first's (FOR UPDATE on PostgreSQL; on SQLite the write lock, taken before the read)."""
        if not for_update:
            return await self.session.get(RoomMember, request_id)
        await sqlite_write_lock_first(self.session, RoomMember, request_id)  # SQLite has no FOR UPDATE
        return await self.session.get(RoomMember, request_id, with_for_update=True, populate_existing=True)

    async def add_member(self, member: RoomMember) -> RoomMember:
        self.session.add(member)
        await self.session.flush()
        return member

    async def add_member_if_absent(self, room_id: int, user_id: int, status: str, at: datetime) -> RoomMember | None:
        """A new membership row, or None when the user has one in the room already (also one that
        another instance added at the same moment: the link opened twice)."""
        added = await self.session.scalar(
            upsert(self.session, RoomMember)
            .values(room_id=room_id, user_id=user_id, status=status, requested_at=at)
            .on_conflict_do_nothing(index_elements=[RoomMember.room_id, RoomMember.user_id])
            .returning(RoomMember.id)
        )
        return None if added is None else await self.session.get(RoomMember, added)

    async def rooms_of(self, user_id: int) -> list[tuple[Room, int]]:
        """Open rooms the user is a member of, with their member counts, newest first."""
        members = (
            select(RoomMember.room_id, func.count().label("n"))
            .where(RoomMember.status == "member")
            .group_by(RoomMember.room_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(Room, members.c.n)
            .join(RoomMember, RoomMember.room_id == Room.id)
            .join(members, members.c.room_id == Room.id)
            .where(RoomMember.user_id == user_id, RoomMember.status == "member", Room.status == "open")
            .order_by(Room.id.desc())
        )
        return [(room, int(n)) for room, n in rows.all()]

    async def members(self, room_id: int) -> list[User]:
        return list(
            await self.session.scalars(
                select(User)
                .join(RoomMember, RoomMember.user_id == User.id)
                .where(RoomMember.room_id == room_id, RoomMember.status == "member")
                .order_by(RoomMember.joined_at, User.id)
            )
        )

    async def recipients(self, room_id: int, author_id: int) -> list[Recipient]:
        """Reachable members of the room other than the author."""
        rows = await self.session.execute(
            select(*RECIPIENT_COLUMNS)
            .join(RoomMember, RoomMember.user_id == User.id)
            .outerjoin(Member, Member.user_id == User.id)
            .where(RoomMember.room_id == room_id, RoomMember.status == "member", *reachable_except(author_id))
            .order_by(User.id)
        )
        return recipients_of(rows)

    async def targeting(self, room_id: int, user_ids: list[int] | None = None) -> list[Member]:
        """Members whose current chat is this room (all, or only `user_ids`)."""
        query = select(Member).where(Member.target_kind == "room", Member.target_id == room_id)
        if user_ids is not None:
            query = query.where(Member.user_id.in_(user_ids))
        return list(await self.session.scalars(query))
