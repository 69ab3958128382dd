"""Telling another user something (inviter, taken-over account, moderation notices), in their language.

Everything goes through the durable delivery queue, in the transaction of the action itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.i18n import Translator
from services.delivery import Outbox
from services.moderation import Notice
from storage.models import User


async def notify_user(outbox: Outbox, translator: Translator, user: User, key: str, **args: Any) -> bool:
    if user.telegram_id is None:
        return False
    await notify_telegram_id(outbox, translator, user.telegram_id, user.language, key, **args)
    return True


async def notify_telegram_id(
    outbox: Outbox, translator: Translator, telegram_id: int, language: str | None, key: str, **args: Any
) -> None:
    t = translator.texts(translator.pick(language, None))
    await outbox.send_text(telegram_id, t(key, **args))


async def send_notices(outbox: Outbox, translator: Translator, notices: Iterable[Notice]) -> None:
    """Tell each user their notice in their language: the one place moderation talks to users."""
    for notice in notices:
        if notice.telegram_id is not None:
            await notify_telegram_id(outbox, translator, notice.telegram_id, notice.language, notice.key, **notice.args)
