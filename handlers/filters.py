"""Filters shared by feature routers."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from magic_filter import MagicFilter

from services.container import Services
from storage.models import User


class Magic(Filter):
    """A magic filter (`F.text.startswith("/")`) checked in the event loop. aiogram runs a bare `F` given
    to `register` as a plain function in a worker thread (asyncio.to_thread): a thread hop for every
    update it is tried on, the costliest step of dispatching a member's message."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self.magic.resolve(event))


class IsAdmin(Filter):
    """Admins (ADMIN_IDS). Everyone else falls through to the unknown-command answer."""

    async def __call__(self, event: TelegramObject, is_admin: bool = False) -> bool:
        return is_admin


class SignedOut(Filter):
    async def __call__(self, event: TelegramObject, user: User | None = None) -> bool:
        return user is not None and not user.signed_in


class IsModerator(Filter):
    """Admins (ADMIN_IDS) and moderators (/mod). Everyone else falls through to the unknown-command answer."""

    async def __call__(
        self,
        event: TelegramObject,
        is_admin: bool = False,
        user: User | None = None,
        services: Services | None = None,
    ) -> bool:
        if is_admin:
            return True
        return user is not None and services is not None and await services.moderation.is_moderator(user)
