"""Filters shared by feature routers."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from storage.models import User


class IsAdmin(Filter):
    """Admins (ADMIN_IDS). Everyone else falls through to the unknown-command answer."""

    async def __call__(self, event: TelegramObject, is_admin: bool = False) -> bool:
        return is_admin


class SignedOut(Filter):
    async def __call__(self, event: TelegramObject, user: User | None = None) -> bool:
        return user is not None and not user.signed_in
