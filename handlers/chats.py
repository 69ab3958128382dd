"""Which chats the bot serves (see `bot.chats.ChatScopeMiddleware`, which applies it to every update).

Private chats: everything. The admin chat (ADMIN_CHAT_ID): report-card buttons and the staff commands
whose answers hold no personal data, from staff. Any other group, supergroup or channel: nothing.
Members' messages there were relayed to the common chat, and staff commands posted user cards with
phone numbers to whoever was in the group.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.i18n import Texts
from handlers.admin import AUDIT_LIST, COMPLAINTS_LIST, ComplaintOpen
from handlers.keyboards import Page
from handlers.reports import ReportAction

log = logging.getLogger(__name__)

# Staff commands answered in the admin chat: their answers name members (as report cards do) but
# hold no phone, card or message text. /user, /mod and the rest stay in private chats.
ADMIN_CHAT_COMMANDS = frozenset({"ban", "unban", "warn", "complaints", "stats", "audit"})


def _prefix(factory: type[ReportAction] | type[ComplaintOpen] | type[Page], *parts: str) -> str:
    sep = factory.__separator__
    return sep.join((factory.__prefix__, *parts)) + sep


# Buttons the bot itself puts in the admin chat: report cards (and a complaint opened from /complaints
# goes to the presser's private chat), and the pages of /complaints and /audit.
ADMIN_CHAT_BUTTONS = (
    _prefix(ReportAction),
    _prefix(ComplaintOpen),
    _prefix(Page, COMPLAINTS_LIST),
    _prefix(Page, AUDIT_LIST),
)


async def leave_unserved_chat(bot: Bot, chat_id: int, t: Texts) -> None:
    """Added to a group or channel it doesn't serve: say so once, then leave."""
    me = await bot.me()
    try:
        await bot.send_message(chat_id, t("group-not-served", bot=me.username or ""))
    except TelegramAPIError as exc:  # a channel where it may not post, or already removed
        log.info("could not say goodbye in chat %s: %s", chat_id, exc)
    try:
        await bot.leave_chat(chat_id)
    except TelegramAPIError as exc:
        log.info("could not leave chat %s: %s", chat_id, exc)
