"""Catch-all: unknown commands, stray texts and buttons nobody handles. Always the last router."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from bot.i18n import Texts
from handlers.filters import Magic


def router() -> Router:
    r = Router(name="fallback")
    r.message.register(unknown_command, Magic(F.text.startswith("/")))
    r.message.register(anything_else)
    r.callback_query.register(stale_button)
    return r


async def unknown_command(message: Message, t: Texts) -> None:
    await message.answer(t("unknown-command"))


async def anything_else(message: Message, t: Texts) -> None:
    await message.answer(t("nothing-to-do"))


async def stale_button(query: CallbackQuery, t: Texts) -> None:
    await query.answer(t.plain("button-stale"), show_alert=False)
