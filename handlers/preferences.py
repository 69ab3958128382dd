"""/lang: the language of every answer and of the command menu."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.commands import ADMIN_COMMANDS, STAFF_COMMANDS, USER_COMMANDS, set_chat_commands
from bot.i18n import Texts, Translator
from services.moderation import ModerationService
from services.profile import ProfileService
from storage.models import User


class Language(CallbackData, prefix="lang"):
    code: str


def router() -> Router:
    r = Router(name="preferences")
    r.message.register(choose_language, Command("lang"), flags={"public": True})
    r.callback_query.register(set_language, Language.filter(), flags={"public": True})
    return r


async def choose_language(message: Message, t: Texts, translator: Translator) -> None:
    kb = InlineKeyboardBuilder()
    for code in translator.locales:
        kb.button(text=translator.texts(code).plain("lang-name"), callback_data=Language(code=code))
    await message.answer(t("lang-choose"), reply_markup=kb.as_markup())


async def set_language(
    query: CallbackQuery,
    callback_data: Language,
    user: User,
    profile: ProfileService,
    translator: Translator,
    bot: Bot,
    moderation: ModerationService,
    is_admin: bool = False,
) -> None:
    code = await profile.set_language(user, callback_data.code)
    t = translator.texts(code)
    await query.answer(t.plain("lang-set"))
    if isinstance(query.message, Message):
        await query.message.edit_text(t("lang-set"))
    names = USER_COMMANDS
    if is_admin or await moderation.is_moderator(user):
        names = USER_COMMANDS + STAFF_COMMANDS + (ADMIN_COMMANDS if is_admin else [])
    await set_chat_commands(bot, translator, query.from_user.id, code, names)
