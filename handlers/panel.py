"""/panel for staff in their private chat: a one-time sign-in link to the web panel; `/panel logout`
ends every panel session. Anyone else gets the unknown-command answer (the filters fail)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.i18n import Texts
from handlers.config import HandlerConfig
from handlers.filters import IsModerator, Magic
from services.container import Services
from services.panel import LINK_TTL
from storage.models import User


def router() -> Router:
    r = Router(name="panel")
    r.message.register(panel, Command("panel"), Magic(F.chat.type == ChatType.PRIVATE), IsModerator())
    return r


async def panel(
    message: Message, command: CommandObject, user: User, services: Services, config: HandlerConfig, t: Texts
) -> None:
    if (command.args or "").strip().lower() == "logout":
        ended = await services.panel_auth.sign_out(user)
        await message.answer(t("panel-logged-out", count=ended))
        return
    if config.panel_url is None:
        await message.answer(t("panel-off"))
        return
    token = await services.panel_auth.issue_link(user)
    url = f"{config.panel_url}/login?t={token}"
    await message.answer(t("panel-link", url=url, minutes=int(LINK_TTL.total_seconds() // 60)))
