"""Personal data, erased on request (SPEC 1, /forget_me).

`forget` is the one place that knows every table a member's phone, names or words can sit in; a
test (tests/e2e/test_privacy.py) lists every column of the schema as personal or not, so a new one
cannot be added without a decision here."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import User
from storage.repositories.privacy import ErasureRepo


class PrivacyService:
    def __init__(self, session: AsyncSession) -> None:
        self.erasure = ErasureRepo(session)

    async def forget(self, user: User) -> None:
        """Erase what the member's account holds elsewhere than its own row (that is SignInService.forget):
        sign-in codes, requests to take the account over, linked accounts, the texts of their messages
        wherever they were copied (history, the outgoing queue, report excerpts), scheduled messages
        (cancelled), GMFY notifications, their private-chat target and web panel sessions. Call it
        before the row's phone is cleared."""
        await self.erasure.drop_phone_codes(user.telegram_id, user.phone)
        await self.erasure.drop_takeovers(user.id)
        await self.erasure.drop_oauth(user.id)
        await self.erasure.drop_panel_access(user.id)
        await self.erasure.forget_texts(user.id)
        await self.erasure.forget_outgoing(user.telegram_id, user.id)
        await self.erasure.forget_report_excerpts(user.id)
        await self.erasure.cancel_scheduled(user.id)
        await self.erasure.forget_notifications(user.id)
        await self.erasure.forget_private_target(user.id)
