"""The command menu (`setMyCommands`) in every language we have."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.i18n import Translator

# Command name -> text key of its description (locales/*/commands.ftl).
USER_COMMANDS: list[str] = [
    "start",
    "help",
    "me",
    "invite",
    "redeem",
    "referrals",
    "profile",
    "top",
    "challenge",
    "lang",
    "forget_me",
]


def command_list(translator: Translator, locale: str, names: list[str]) -> list[BotCommand]:
    t = translator.texts(locale)
    return [BotCommand(command=name, description=t.plain(f"cmd-{name.replace('_', '-')}")) for name in names]


async def set_commands(bot: Bot, translator: Translator, names: list[str] = USER_COMMANDS) -> None:
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands(command_list(translator, translator.default, names), scope=scope)
    for locale in translator.locales:
        await bot.set_my_commands(command_list(translator, locale, names), scope=scope, language_code=locale)


async def set_chat_commands(
    bot: Bot, translator: Translator, chat_id: int, locale: str, names: list[str] = USER_COMMANDS
) -> None:
    """The menu of one chat, in the language its user chose with /lang (or their role's commands)."""
    await bot.set_my_commands(command_list(translator, locale, names), scope=BotCommandScopeChat(chat_id=chat_id))
