"""/lang: the language of every answer and of the command menu; /timezone: the zone times are shown in."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Texts, Translator
from bot.i18n.menus import ADMIN_COMMANDS, STAFF_COMMANDS, USER_COMMANDS, set_chat_commands
from services.container import Services
from storage.models import User


class Language(CallbackData, prefix="lang"):
    code: str


class TimeZone(CallbackData, prefix="tz"):
    name: str


def router() -> Router:
    r = Router(name="preferences")
    r.message.register(choose_language, Command("lang"), flags={"public": True})
    r.callback_query.register(set_language, Language.filter(), flags={"public": True})
    r.message.register(choose_timezone, Command("timezone"))
    r.callback_query.register(set_timezone, TimeZone.filter())
    return r


def _zone_buttons(t: Texts, zones: list[str]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for name in zones:
        kb.button(text=t.zone_label(name), callback_data=TimeZone(name=name))
    kb.adjust(2)
    return kb.as_markup()


async def choose_timezone(message: Message, command: CommandObject, user: User, services: Services, t: Texts) -> None:
    """`/timezone`: the zone now and buttons for the likely ones; `/timezone Новосибирск`: a search by city."""
    query = (command.args or "").strip()
    if query:
        zones = services.profile.find_zones(query)
        await message.answer(t("timezone-found", count=len(zones)), reply_markup=_zone_buttons(t, zones))
        return
    zones = services.profile.likely_zones(user, t.translator.default_timezone)
    await message.answer(
        t("timezone-current", zone=t.zone_label(), time=t.clock_time(t.translator.clock.now())),
        reply_markup=_zone_buttons(t, zones),
    )


async def set_timezone(
    query: CallbackQuery, callback_data: TimeZone, user: User, services: Services, translator: Translator
) -> None:
    await services.profile.set_timezone(user, callback_data.name)
    t = translator.for_user(user)
    text = t("timezone-set", zone=t.zone_label(), time=t.clock_time(translator.clock.now()))
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text)


async def choose_language(message: Message, t: Texts, translator: Translator) -> None:
    kb = InlineKeyboardBuilder()
    for code in translator.locales:
        kb.button(text=translator.texts(code).plain("lang-name"), callback_data=Language(code=code))
    await message.answer(t("lang-choose"), reply_markup=kb.as_markup())


async def set_language(
    query: CallbackQuery,
    callback_data: Language,
    user: User,
    services: Services,
    translator: Translator,
    bot: Bot,
    is_admin: bool = False,
) -> None:
    code = await services.profile.set_language(user, callback_data.code)
    t = translator.texts(code, user.timezone)
    await query.answer(t.plain("lang-set"))
    if isinstance(query.message, Message):
        await query.message.edit_text(t("lang-set"))
    names = USER_COMMANDS
    if is_admin or await services.moderation.is_moderator(user):
        names = USER_COMMANDS + STAFF_COMMANDS + (ADMIN_COMMANDS if is_admin else [])
    await set_chat_commands(bot, translator, query.from_user.id, code, names)
