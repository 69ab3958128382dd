"""Recording GMFY events in the outbox, inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from storage.repositories.events import EventOutboxRepo


@dataclass(frozen=True)
class EventTypes:
    """GMFY event type names (settings)."""

    registration: str = "registration"
    referral: str = "referral"


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
