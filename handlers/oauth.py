"""/link and /unlink: an external account through OAuth2 + PKCE (a third way to prove who you are),
and the yes/no answer before a provider-verified phone signs the user in."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Texts, Translator
from bot.i18n.notices import notify_telegram_id
from handlers.notify import ask_owner
from services.container import Services
from services.errors import OAuthOff
from services.oauth import CONFIRM_TTL, FINISH_PREFIX, Linked
from services.phones import mask_phone
from storage.models import User


class OAuthConfirm(CallbackData, prefix="oc"):
    """Sign in with the verified phone? The nonce is single-use and belongs to the user it was sent to."""

    nonce: str
    yes: bool


def finish_router() -> Router:
    """`/start oc_<nonce>`: the browser's way back after the provider (before sign-in's /start)."""
    r = Router(name="oauth-finish")
    r.message.register(
        finish, CommandStart(deep_link=True, magic=F.args.startswith(FINISH_PREFIX)), flags={"public": True}
    )
    return r


def router() -> Router:
    r = Router(name="oauth")
    r.message.register(link, Command("link"), flags={"public": True})
    r.message.register(unlink, Command("unlink"), flags={"public": True})
    r.callback_query.register(confirm, OAuthConfirm.filter(), flags={"public": True})
    return r


async def link(message: Message, user: User, services: Services, t: Texts) -> None:
    if services.oauth is None:
        await message.answer(t("oauth-off"))
        return
    url = await services.oauth.start_link(user)
    kb = InlineKeyboardBuilder()
    kb.button(text=t.plain("oauth-btn-link"), url=url)
    await message.answer(t("oauth-link"), reply_markup=kb.as_markup())


async def finish(message: Message, command: CommandObject, user: User, services: Services, t: Texts) -> None:
    """The browser that finished the provider's login sent its user here: the linked account is shown, and
    its verified phone offered, only if this Telegram account is the one that ran /link."""
    if services.oauth is None:
        raise OAuthOff()
    linked = await services.oauth.reveal(user, (command.args or "").removeprefix(FINISH_PREFIX))
    await tell_linked(message, t, linked)


async def tell_linked(message: Message, t: Texts, linked: Linked) -> None:
    """The link, then the verified phone to confirm (yes/no buttons)."""
    await message.answer(
        t(
            "oauth-linked",
            name=linked.name or "—",
            phone=mask_phone(linked.phone) if linked.phone else "—",
            has_phone=1 if linked.phone else 0,
        )
    )
    if linked.confirm is not None:
        key = "oauth-confirm-takeover" if linked.confirm.takes_over else "oauth-confirm-signin"
        nonce, kb = linked.confirm.nonce, InlineKeyboardBuilder()
        kb.button(text=t.plain("oauth-btn-confirm-yes"), callback_data=OAuthConfirm(nonce=nonce, yes=True))
        kb.button(text=t.plain("oauth-btn-confirm-no"), callback_data=OAuthConfirm(nonce=nonce, yes=False))
        minutes = int(CONFIRM_TTL.total_seconds() // 60)
        await message.answer(
            t(key, phone=mask_phone(linked.confirm.phone), minutes=minutes), reply_markup=kb.as_markup()
        )


async def unlink(message: Message, user: User, services: Services, t: Texts) -> None:
    if services.oauth is None:
        await message.answer(t("oauth-off"))
        return
    await services.oauth.unlink(user)
    await message.answer(t("oauth-unlinked"))


async def confirm(
    query: CallbackQuery,
    callback_data: OAuthConfirm,
    user: User,
    services: Services,
    translator: Translator,
    t: Texts,
) -> None:
    if services.oauth is None:
        raise OAuthOff()
    chat = query.from_user.id  # the user row may move to another account below (a takeover)
    answer = await services.oauth.confirm_phone(user, callback_data.nonce, yes=callback_data.yes)
    if answer.signin is not None:
        signed = answer.signin.user
        await services.outbox.send_text(
            chat, t("oauth-signed-in", phone=mask_phone(signed.phone), name=signed.display_name)
        )
        if answer.signin.taken_over_from is not None:
            await notify_telegram_id(
                services.outbox, translator, answer.signin.taken_over_from, signed.language, "signin-taken-over"
            )
    elif answer.takeover is not None:
        await ask_owner(answer.takeover, services.outbox, translator)
        minutes = max(1, int(answer.takeover.expires_in.total_seconds() // 60))
        await services.outbox.send_text(
            chat, t("signin-takeover-asked", phone=mask_phone(answer.takeover.phone), minutes=minutes)
        )
    elif answer.error is not None:
        await services.outbox.send_text(chat, t(answer.error.key, **answer.error.args_map))
    else:
        await services.outbox.send_text(chat, t("oauth-confirm-declined"))
    await query.answer()
