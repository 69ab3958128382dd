"""Personal data, erased on request and not kept longer than needed (SPEC 1, /forget_me).

`forget` is the one place that knows every table a member's phone, names or words can sit in; a
test (tests/e2e/test_privacy.py) lists every column of the schema as personal or not, so a new one
cannot be added without a decision here."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from storage.models import User
from storage.repositories.privacy import ErasureRepo

# Sign-in codes (with their phone) are kept a day after they were asked for: the cooldown and the
# daily caps on codes count them; after that they are purged.
PHONE_CODES_KEPT = timedelta(days=1)


class PrivacyService:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.clock = clock
        self.erasure = ErasureRepo(session)

    async def forget(self, user: User) -> None:
        """Erase what the member's account holds elsewhere than its own row (that is SignInService.forget):
        sign-in codes, requests to take the account over, linked accounts, the texts of their messages
        wherever they were copied (history, the outgoing queue, report excerpts), scheduled messages
        (cancelled), GMFY notifications and their private-chat target. Call it before the row's phone
        is cleared."""
        await self.erasure.drop_phone_codes(user.telegram_id, user.phone)
        await self.erasure.drop_takeovers(user.id)
        await self.erasure.drop_oauth(user.id)
        await self.erasure.forget_texts(user.id)
        await self.erasure.forget_outgoing(user.telegram_id, user.id)
        await self.erasure.forget_report_excerpts(user.id)
        await self.erasure.cancel_scheduled(user.id)
        await self.erasure.forget_notifications(user.id)
        await self.erasure.forget_private_target(user.id)

    async def purge_phone_codes(self) -> int:
        """Scheduler: drop sign-in codes that expired and are older than PHONE_CODES_KEPT."""
        now = self.clock.now()
        return await self.erasure.purge_phone_codes(now - PHONE_CODES_KEPT, now)
