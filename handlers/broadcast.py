"""/broadcast for admins: a preview with Send / Cancel, then the same message shows live progress."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Texts
from handlers.filters import IsAdmin
from handlers.keyboards import RowId
from services.container import Services
from storage.models import User


class BroadcastAction(CallbackData, prefix="bc"):
    action: str  # send | cancel
    id: RowId


def router() -> Router:
    r = Router(name="broadcast")
    r.message.register(draft, Command("broadcast"), IsAdmin())
    r.callback_query.register(send, BroadcastAction.filter(F.action == "send"), IsAdmin())
    r.callback_query.register(cancel, BroadcastAction.filter(F.action == "cancel"), IsAdmin())
    return r


def _confirm_keyboard(t: Texts, broadcast_id: int, audience: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=t.plain("broadcast-btn-send", count=audience),
        callback_data=BroadcastAction(action="send", id=broadcast_id),
    )
    kb.button(text=t.plain("broadcast-btn-cancel"), callback_data=BroadcastAction(action="cancel", id=broadcast_id))
    return kb.as_markup()


def command_body(message: Message) -> str:
    """The formatted text after `/broadcast` (entities kept as HTML)."""
    parts = (message.html_text or "").split(None, 1)
    return parts[1] if len(parts) > 1 else ""


async def draft(message: Message, services: Services, user: User, t: Texts) -> None:
    body = command_body(message)
    if not body.strip():
        await message.answer(t("broadcast-usage"))
        return
    prepared = await services.broadcasts.draft(user, body)
    shown = await message.answer(
        f"{t('broadcast-preview', count=prepared.audience)}\n\n{prepared.broadcast.text}",
        reply_markup=_confirm_keyboard(t, prepared.broadcast.id, prepared.audience),
    )
    await services.broadcasts.show_in(prepared.broadcast, shown.chat.id, shown.message_id)


async def send(query: CallbackQuery, callback_data: BroadcastAction, services: Services, user: User, t: Texts) -> None:
    broadcast = await services.broadcasts.start(callback_data.id, user)
    text = t("broadcast-progress", delivered=0, blocked=0, failed=0, total=broadcast.total)
    if broadcast.status == "done":
        text = t("broadcast-nobody")
    if isinstance(query.message, Message):
        await query.message.edit_text(text)
    await query.answer(t.plain("broadcast-started"))


async def cancel(
    query: CallbackQuery, callback_data: BroadcastAction, services: Services, user: User, t: Texts
) -> None:
    await services.broadcasts.cancel(callback_data.id, user)
    if isinstance(query.message, Message):
        await query.message.edit_text(t("broadcast-cancelled"))
    await query.answer()
