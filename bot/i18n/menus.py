"""The command menu (`setMyCommands`) in every language we have."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
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
    "join",
    "leave",
    "nick",
    "dm",
    "common",
    "rooms",
    "newroom",
    "block",
    "unblock",
    "delete",
    "pause",
    "resume",
    "unread",
    "status",
    "who",
    "schedule",
    "scheduled",
    "profile",
    "top",
    "challenge",
    "report",
    "lang",
    "timezone",
    "link",
    "unlink",
    "forget_me",
]
# All a signed-out member can do; the rest of the menu comes with sign-in (a menu of this chat only).
SIGNED_OUT_COMMANDS: list[str] = ["start", "help"]
# Shown (with the user commands) only in the chats of moderators and admins; admins also see ADMIN_COMMANDS.
STAFF_COMMANDS: list[str] = ["ban", "unban", "warn", "complaints", "user", "stats", "audit", "panel"]
ADMIN_COMMANDS: list[str] = ["broadcast", "setlimit", "mod", "unmod", "code", "whoinvited"]

log = logging.getLogger(__name__)


def command_list(translator: Translator, locale: str, names: list[str]) -> list[BotCommand]:
    t = translator.texts(locale)
    return [BotCommand(command=name, description=t.plain(f"cmd-{name.replace('_', '-')}")) for name in names]


async def set_commands(bot: Bot, translator: Translator, names: list[str] = SIGNED_OUT_COMMANDS) -> None:
    """The menu of every private chat that has none of its own: what a member who has not signed in can do."""
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands(command_list(translator, translator.default, names), scope=scope)
    for locale in translator.locales:
        await bot.set_my_commands(command_list(translator, locale, names), scope=scope, language_code=locale)


async def set_chat_commands(
    bot: Bot, translator: Translator, chat_id: int, locale: str, names: list[str] = USER_COMMANDS
) -> None:
    """The menu of one chat, in the language its user chose with /lang (or their role's commands)."""
    await bot.set_my_commands(command_list(translator, locale, names), scope=BotCommandScopeChat(chat_id=chat_id))


async def set_signed_in_commands(
    bot: Bot, translator: Translator, chat_id: int, locale: str, *, staff: bool = False, admin: bool = False
) -> None:
    """The full menu of one member's chat, once signed in (and their role's commands)."""
    names = USER_COMMANDS + (STAFF_COMMANDS if staff or admin else []) + (ADMIN_COMMANDS if admin else [])
    try:
        await set_chat_commands(bot, translator, chat_id, locale, names)
    except TelegramAPIError as exc:  # the menu is a convenience: sign-in stands without it
        log.info("could not set the commands of %s: %s", chat_id, exc)


async def set_staff_commands(bot: Bot, translator: Translator, chat_id: int, *, admin: bool) -> bool:
    """The command menu of one moderator's (or admin's) private chat: user commands plus staff commands."""
    names = USER_COMMANDS + STAFF_COMMANDS + (ADMIN_COMMANDS if admin else [])
    scope = BotCommandScopeChat(chat_id=chat_id)
    try:
        await bot.set_my_commands(command_list(translator, translator.default, names), scope=scope)
        for locale in translator.locales:
            await bot.set_my_commands(command_list(translator, locale, names), scope=scope, language_code=locale)
    except TelegramAPIError as exc:  # a chat the bot never saw: the menu comes at the next start
        log.info("could not set staff commands for %s: %s", chat_id, exc)
        return False
    return True


async def clear_staff_commands(bot: Bot, translator: Translator, chat_id: int) -> None:
    """Back to the user menu for this chat (after /unmod)."""
    scope = BotCommandScopeChat(chat_id=chat_id)
    try:
        await bot.delete_my_commands(scope=scope)
        for locale in translator.locales:
            await bot.delete_my_commands(scope=scope, language_code=locale)
    except TelegramAPIError as exc:
        log.info("could not clear staff commands for %s: %s", chat_id, exc)
