"""Telling another user something right away (inviter, taken-over account), in their language."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.i18n import Translator
from services.moderation import Notice
from storage.models import User

log = logging.getLogger(__name__)


async def notify_user(bot: Bot, translator: Translator, user: User, key: str, **args: Any) -> bool:
    if user.telegram_id is None:
        return False
    return await notify_telegram_id(bot, translator, user.telegram_id, user.language, key, **args)


async def notify_telegram_id(
    bot: Bot, translator: Translator, telegram_id: int, language: str | None, key: str, **args: Any
) -> bool:
    t = translator.texts(translator.pick(language, None))
    try:
        await bot.send_message(telegram_id, t(key, **args))
    except TelegramAPIError as exc:  # blocked, deactivated, ...: the action itself stands
        log.info("could not notify %s: %s", telegram_id, exc)
        return False
    return True


async def send_notices(bot: Bot, translator: Translator, notices: Iterable[Notice]) -> None:
    """Tell each user their notice in their language: the one place moderation talks to users.
    The delivery queue takes this over when it lands (blocked users are skipped, not retried, here)."""
    for notice in notices:
        if notice.telegram_id is not None:
            await notify_telegram_id(bot, translator, notice.telegram_id, notice.language, notice.key, **notice.args)
