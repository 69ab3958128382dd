"""Recording GMFY events in the outbox, inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from storage.repositories.events import EventOutboxRepo


@dataclass(frozen=True)
class EventTypes:
    """GMFY event type names (settings)."""

    registration: str = "registration"
    referral: str = "referral"
    message_sent: str = "message_sent"
    report_confirmed: str = "report_confirmed"
    ban: str = "ban"
    room_created: str = "room_created"
    room_joined: str = "room_joined"
    invite_created: str = "invite_created"


class EventRecorder:
    """Queues GMFY events; does nothing when the integration is off (no API key)."""

    def __init__(self, session: AsyncSession, clock: Clock, *, enabled: bool, types: EventTypes) -> None:
        self.outbox = EventOutboxRepo(session)
        self.clock = clock
        self.enabled = enabled
        self.types = types

    async def record(
        self, user_id: int, type_: str, *, idempotence_key: str | None = None, payload: dict[str, Any] | None = None
    ) -> bool:
        if not self.enabled:
            return False
        return await self.outbox.add(
            user_id=user_id, type_=type_, now=self.clock.now(), idempotence_key=idempotence_key, payload=payload
        )

    async def registration(self, user_id: int) -> None:
        # Unique per account: signing in again after /forget_me is not a second registration.
        await self.record(user_id, self.types.registration, idempotence_key=f"registration-{user_id}")

    async def referral(self, inviter_id: int, referral_id: int) -> None:
        await self.record(inviter_id, self.types.referral, idempotence_key=f"referral-{referral_id}")

    # Unique events carry an idempotence key built from the id of the row that caused them, so a
    # retried send (or a second call for the same row) is counted once by GMFY.

    async def message_sent(self, user_id: int, message_id: int | str | None = None) -> None:
        """A user's message relayed to the chat; pass the relay/message row id to make it unique."""
        key = f"message-{message_id}" if message_id is not None else None
        await self.record(user_id, self.types.message_sent, idempotence_key=key)

    async def report_confirmed(self, reporter_id: int, report_id: int) -> None:
        """A moderator confirmed a user's report: the reporter earns it once per report."""
        await self.record(reporter_id, self.types.report_confirmed, idempotence_key=f"report-{report_id}")

    async def ban(self, user_id: int, ban_id: int) -> None:
        """A user was banned (`ban_id`: the ban row)."""
        await self.record(user_id, self.types.ban, idempotence_key=f"ban-{ban_id}")

    async def room_created(self, owner_id: int, room_id: int) -> None:
        await self.record(owner_id, self.types.room_created, idempotence_key=f"room-{room_id}")

    async def room_joined(self, user_id: int, room_id: int) -> None:
        await self.record(user_id, self.types.room_joined, idempotence_key=f"room-{room_id}-join-{user_id}")

    async def invite_created(self, owner_id: int, code_id: int) -> None:
        await self.record(owner_id, self.types.invite_created, idempotence_key=f"invite-{code_id}")

    async def action(
        self, user_id: int, action: Literal["create", "remove"], type_: str, *, idempotence_key: str | None = None
    ) -> None:
        """A GMFY action event: type `<action>_<type>` (e.g. `create_subscription`)."""
        await self.record(user_id, f"{action}_{type_}", idempotence_key=idempotence_key)
