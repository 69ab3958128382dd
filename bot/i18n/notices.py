"""Telling another user something (inviter, taken-over account, moderation notices), in their language.

Everything goes through the durable delivery queue, in the transaction of the action itself. Used by
handlers, scheduler jobs and the panel alike (the one place outside handlers that handlers may share).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.i18n import Translator
from services.delivery import Outbox
from services.moderation import Notice
from storage.models import User
from storage.models.delivery import about_member


async def notify_user(
    outbox: Outbox, translator: Translator, user: User, key: str, *, about: User | None = None, **args: Any
) -> bool:
    """`about`: the member the notice names (their name is in it), whose /forget_me erases it."""
    if user.telegram_id is None:
        return False
    batch_key = about_member(about.id) if about is not None else None
    await outbox.send_text(user.telegram_id, translator.for_user(user)(key, **args), batch_key=batch_key)
    return True


async def notify_telegram_id(
    outbox: Outbox,
    translator: Translator,
    telegram_id: int,
    language: str | None,
    key: str,
    timezone: str | None = None,
    *,
    about: User | None = None,
    **args: Any,
) -> None:
    t = translator.texts(translator.pick(language, None), timezone)
    batch_key = about_member(about.id) if about is not None else None
    await outbox.send_text(telegram_id, t(key, **args), batch_key=batch_key)


async def send_notices(outbox: Outbox, translator: Translator, notices: Iterable[Notice]) -> None:
    """Tell each user their notice in their language: the one place moderation talks to users."""
    for notice in notices:
        if notice.telegram_id is not None:
            t = translator.texts(translator.pick(notice.language, None), notice.timezone)
            batch_key = about_member(notice.about_id) if notice.about_id is not None else None
            await outbox.send_text(notice.telegram_id, t(notice.key, **notice.args), batch_key=batch_key)
