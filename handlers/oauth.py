"""/link and /unlink: an external account through OAuth2 + PKCE (a third way to prove who you are)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Texts
from services.oauth import OAuthService
from storage.models import User


def router() -> Router:
    r = Router(name="oauth")
    r.message.register(link, Command("link"), flags={"public": True})
    r.message.register(unlink, Command("unlink"), flags={"public": True})
    return r


async def link(message: Message, user: User, oauth: OAuthService | None, t: Texts) -> None:
    if oauth is None:
        await message.answer(t("oauth-off"))
        return
    url = await oauth.start_link(user)
    kb = InlineKeyboardBuilder()
    kb.button(text=t.plain("oauth-btn-link"), url=url)
    await message.answer(t("oauth-link"), reply_markup=kb.as_markup())


async def unlink(message: Message, user: User, oauth: OAuthService | None, t: Texts) -> None:
    if oauth is None:
        await message.answer(t("oauth-off"))
        return
    await oauth.unlink(user)
    await message.answer(t("oauth-unlinked"))
