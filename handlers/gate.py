"""The sign-in gate: until signed in, a member is answered with the sign-in prompt (what they see is the
handlers' concern, so it lives here; bot/app.py puts it on the message and button observers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, TelegramObject

from handlers.keyboards import contact_keyboard
from storage.models import User

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class SignInGateMiddleware(BaseMiddleware):
    """Until signed in, every handler not flagged `public` answers with the sign-in prompt instead."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("user")
        if get_flag(data, "public") or (user is not None and user.signed_in):
            return await handler(event, data)
        t = data["t"]
        if isinstance(event, Message):
            await event.answer(t("signin-required"), reply_markup=contact_keyboard(t))
        elif isinstance(event, CallbackQuery):
            await event.answer(t.plain("signin-required-short"), show_alert=True)
        return None
