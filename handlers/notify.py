"""Asking an account's owner to allow a sign-in that would take it over (buttons of this bot's own).

Other notices (`notify_user`, `send_notices`) are in `bot.i18n.notices`: scheduler jobs and the panel
send them too.
"""

from __future__ import annotations

from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Translator
from handlers.keyboards import TakeoverAnswer
from services.delivery import Outbox
from services.phones import mask_phone
from services.signin import TakeoverRequested


async def ask_owner(request: TakeoverRequested, outbox: Outbox, translator: Translator) -> None:
    """A sign-in would take an account from its Telegram account: the allow / deny buttons go to that
    account's own chat (through the queue: no wait on Telegram here)."""
    t = translator.texts(translator.pick(request.owner_language, None))
    kb = InlineKeyboardBuilder()
    for allow, label in ((True, "signin-takeover-btn-allow"), (False, "signin-takeover-btn-deny")):
        kb.button(
            text=t.plain(label), callback_data=TakeoverAnswer(id=request.takeover_id, token=request.token, allow=allow)
        )
    minutes = max(1, int(request.expires_in.total_seconds() // 60))
    await outbox.send_text(
        request.owner_telegram_id,
        t("signin-takeover-ask", phone=mask_phone(request.phone), minutes=minutes),
        reply_markup=kb.as_markup().model_dump(exclude_none=True),
    )
