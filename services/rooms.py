"""Rooms (SPEC 5): create, invite by link, approve or decline requests, kick, rotate the link, close.

Messages in a room travel like any relayed message (RelayService with a room target); this
service keeps who is in which room and who may do what. Only the owner manages a room.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from services.errors import (
    RoomAlreadyMember,
    RoomAlreadyRequested,
    RoomClosed,
    RoomKickedOut,
    RoomLinkInvalid,
    RoomNotFound,
    RoomNotMember,
    RoomNotYours,
    RoomOwnerStays,
    RoomRequestHandled,
    RoomTitleInvalid,
)
from services.events import EventRecorder
from storage.models import Member, Room, RoomMember, User
from storage.repositories.relay import RelayRepo
from storage.repositories.rooms import RoomRepo

LINK_PREFIX = "room_"
TITLE_MAX = 64


@dataclass(frozen=True)
class JoinRequest:
    room: Room
    owner: User
    request: RoomMember


@dataclass(frozen=True)
class Decision:
    room: Room
    requester: User
    approved: bool


@dataclass(frozen=True)
class RoomEntry:
    room: Room
    members: int
    is_owner: bool
    current: bool


class RoomService:
    def __init__(self, session: AsyncSession, clock: Clock, events: EventRecorder) -> None:
        self.session = session
        self.clock = clock
        self.events = events
        self.repo = RoomRepo(session)

    @staticmethod
    def link_payload(room: Room) -> str:
        return f"{LINK_PREFIX}{room.token}"

    async def create(self, owner: User, title: str) -> Room:
        title = " ".join(title.split())
        if not title or len(title) > TITLE_MAX:
            raise RoomTitleInvalid(limit=TITLE_MAX)
        now = self.clock.now()
        room = await self.repo.add(
            Room(title=title, owner_id=owner.id, token=secrets.token_urlsafe(12), created_at=now)
        )
        await self.repo.add_member(
            RoomMember(room_id=room.id, user_id=owner.id, status="member", requested_at=now, joined_at=now)
        )
        await self._set_target(owner, room)
        await self.events.room_created(owner.id, room.id)
        return room

    async def _owned(self, owner: User, room_id: int) -> Room:
        room = await self.repo.get(room_id)
        if room is None:
            raise RoomNotFound()
        if room.owner_id != owner.id:
            raise RoomNotYours()
        if not room.is_open:
            raise RoomClosed(title=room.title)
        return room

    async def request_join(self, user: User, payload: str) -> JoinRequest:
        """A user opened the room's link: a join request the owner approves or declines."""
        token = payload.removeprefix(LINK_PREFIX)
        room = await self.repo.by_token(token) if token else None
        if room is None:
            raise RoomLinkInvalid()
        if not room.is_open:
            raise RoomClosed(title=room.title)
        owner = await self.session.get(User, room.owner_id)
        if owner is None:
            raise RoomLinkInvalid()
        existing = await self.repo.membership(room.id, user.id)
        now = self.clock.now()
        if existing is None:
            request = await self.repo.add_member_if_absent(room.id, user.id, "pending", now)
            if request is not None:
                return JoinRequest(room, owner, request)
            existing = await self.repo.membership(room.id, user.id)  # added meanwhile, by another instance
            assert existing is not None
        if existing.status == "member":
            raise RoomAlreadyMember(title=room.title)
        if existing.status == "pending":
            raise RoomAlreadyRequested(title=room.title)
        if existing.status == "kicked":
            raise RoomKickedOut(title=room.title)
        existing.status, existing.requested_at = "pending", now  # declined or left before: ask again
        return JoinRequest(room, owner, existing)

    async def decide(self, owner: User, request_id: int, approve: bool) -> Decision:
        request = await self.repo.request(request_id, for_update=True)
        if request is None:
            raise RoomNotFound()
        room = await self._owned(owner, request.room_id)
        if request.status != "pending":
            raise RoomRequestHandled()
        requester = await self.session.get(User, request.user_id)
        if requester is None:
            raise RoomNotFound()
        if approve:
            request.status, request.joined_at = "member", self.clock.now()
            await self.events.room_joined(requester.id, room.id)
        else:
            request.status = "declined"
        return Decision(room, requester, approve)

    async def members(self, owner: User, room_id: int) -> tuple[Room, list[User]]:
        room = await self._owned(owner, room_id)
        return room, [m for m in await self.repo.members(room.id) if m.id != owner.id]

    async def kick(self, owner: User, room_id: int, user_id: int) -> tuple[Room, User]:
        room = await self._owned(owner, room_id)
        if user_id == owner.id:
            raise RoomOwnerStays()
        membership = await self.repo.membership(room.id, user_id)
        user = await self.session.get(User, user_id)
        if membership is None or membership.status != "member" or user is None:
            raise RoomNotMember()
        membership.status = "kicked"
        await self._back_to_common(room, [user_id])
        return room, user

    async def rotate(self, owner: User, room_id: int) -> Room:
        room = await self._owned(owner, room_id)
        room.token = secrets.token_urlsafe(12)  # the old link stops working
        return room

    async def close(self, owner: User, room_id: int) -> tuple[Room, list[User]]:
        """Close the room; returns the members to tell (not the owner)."""
        room = await self._owned(owner, room_id)
        members = [m for m in await self.repo.members(room.id) if m.id != owner.id]
        room.status, room.closed_at = "closed", self.clock.now()
        await self._back_to_common(room, None)
        return room, members

    async def leave(self, user: User, room_id: int) -> Room:
        room = await self.repo.get(room_id)
        membership = await self.repo.membership(room_id, user.id) if room else None
        if room is None or membership is None or membership.status != "member":
            raise RoomNotMember()
        if room.owner_id == user.id:
            raise RoomOwnerStays()
        membership.status = "left"
        await self._back_to_common(room, [user.id])
        return room

    async def switch(self, user: User, room_id: int) -> Room:
        """Make the room the user's current chat."""
        room = await self.repo.get(room_id)
        membership = await self.repo.membership(room.id, user.id) if room is not None else None
        # Membership first: the button's room id is easy to forge, and a closed room's refusal names it.
        if room is None or membership is None or membership.status != "member":
            raise RoomNotMember()
        if not room.is_open:
            raise RoomClosed(title=room.title)
        await self._set_target(user, room)
        return room

    async def my_rooms(self, user: User) -> list[RoomEntry]:
        member = await self.session.get(Member, user.id)
        current = member.target_id if member and member.target_kind == "room" else None
        return [
            RoomEntry(room, count, room.owner_id == user.id, room.id == current)
            for room, count in await self.repo.rooms_of(user.id)
        ]

    async def _set_target(self, user: User, room: Room) -> None:
        member = await RelayRepo(self.session).member(user.id, create=True)
        assert member is not None
        member.target_kind, member.target_id = "room", room.id

    async def _back_to_common(self, room: Room, user_ids: list[int] | None) -> None:
        for member in await self.repo.targeting(room.id, user_ids):
            member.target_kind, member.target_id = "common", None
