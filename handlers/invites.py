"""/invite with its buttons, /redeem, /referrals, and the admin /code and /whoinvited."""

from __future__ import annotations

import io
from urllib.parse import quote

import segno
from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Texts, Translator
from bot.i18n.notices import notify_user
from handlers.filters import IsAdmin
from handlers.keyboards import Page, RowId, pager
from services.container import Services
from services.errors import InviteButtonStale
from services.invites import ReferralPage
from services.phones import mask_phone
from storage.models import InviteCode, User

QR_SCALE = 8
REFERRALS_LIST = "ref"


class InviteAction(CallbackData, prefix="inv"):
    action: str  # new | del | qr
    code_id: RowId


def router() -> Router:
    r = Router(name="invites")
    r.message.register(invite, Command("invite"))
    r.callback_query.register(invite_new, InviteAction.filter(F.action == "new"))
    r.callback_query.register(invite_delete, InviteAction.filter(F.action == "del"))
    r.callback_query.register(invite_qr, InviteAction.filter(F.action == "qr"))
    r.message.register(redeem, Command("redeem"))
    r.message.register(referrals, Command("referrals"))
    r.callback_query.register(referrals_page, Page.filter(F.list == REFERRALS_LIST))
    r.message.register(admin_code, Command("code"), IsAdmin())
    r.message.register(admin_who_invited, Command("whoinvited"), IsAdmin())
    return r


async def deep_link(bot: Bot, payload: str) -> str:
    me = await bot.me()
    return f"https://t.me/{me.username}?start={payload}"


def qr_png(link: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=QR_SCALE, border=2)
    return buffer.getvalue()


def _invite_view(t: Texts, code: InviteCode, link: str) -> tuple[str, InlineKeyboardMarkup]:
    share_url = f"https://t.me/share/url?url={quote(link, safe='')}&text={quote(t.plain('invite-share-text'))}"
    kb = InlineKeyboardBuilder()
    kb.button(text=t.plain("invite-btn-share"), url=share_url)
    kb.button(text=t.plain("invite-btn-qr"), callback_data=InviteAction(action="qr", code_id=code.id))
    kb.button(text=t.plain("invite-btn-new"), callback_data=InviteAction(action="new", code_id=code.id))
    kb.button(text=t.plain("invite-btn-delete"), callback_data=InviteAction(action="del", code_id=code.id))
    kb.adjust(2, 2)
    text = t("invite-card", code=code.code, link=link, expires=code.expires_at)
    return text, kb.as_markup()


def _no_code_view(t: Texts) -> tuple[str, InlineKeyboardMarkup]:
    kb = InlineKeyboardBuilder()
    kb.button(text=t.plain("invite-btn-new"), callback_data=InviteAction(action="new", code_id=0))
    return t("invite-none"), kb.as_markup()


async def invite(message: Message, user: User, services: Services, t: Texts, bot: Bot) -> None:
    code = await services.invites.ensure_code(user)
    text, markup = _invite_view(t, code, await deep_link(bot, code.code))
    await message.answer(text, reply_markup=markup, disable_web_page_preview=True)


async def invite_new(
    query: CallbackQuery, callback_data: InviteAction, user: User, services: Services, t: Texts, bot: Bot
) -> None:
    code = await services.invites.new_code(user, callback_data.code_id or None)
    text, markup = _invite_view(t, code, await deep_link(bot, code.code))
    await query.answer(t.plain("invite-new-done"))
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup, disable_web_page_preview=True)


async def invite_delete(
    query: CallbackQuery, callback_data: InviteAction, user: User, services: Services, t: Texts
) -> None:
    await services.invites.delete_code(user, callback_data.code_id)
    await query.answer(t.plain("invite-deleted"))
    if isinstance(query.message, Message):
        text, markup = _no_code_view(t)
        await query.message.edit_text(text, reply_markup=markup)


async def invite_qr(
    query: CallbackQuery, callback_data: InviteAction, user: User, services: Services, t: Texts, bot: Bot
) -> None:
    code = await services.invites.current_code(user)
    if code is None or code.id != callback_data.code_id:
        raise InviteButtonStale()
    link = await deep_link(bot, code.code)
    await query.answer()
    await bot.send_photo(
        query.from_user.id,
        BufferedInputFile(qr_png(link), filename=f"invite-{code.code}.png"),
        caption=t("invite-qr-caption", code=code.code, link=link),
    )


async def redeem(
    message: Message,
    services: Services,
    command: CommandObject,
    user: User,
    t: Texts,
    translator: Translator,
) -> None:
    if not command.args:
        await message.answer(t("invite-redeem-usage"))
        return
    result = await services.invites.redeem(user, command.args)
    await message.answer(t("invite-redeemed", inviter=result.inviter.display_name))
    await notify_user(
        services.outbox, translator, result.inviter, "invite-inviter-notice", about=user, name=user.display_name
    )


def _referrals_view(t: Texts, page: ReferralPage) -> tuple[str, InlineKeyboardMarkup | None]:
    if page.total == 0:
        return t("referrals-empty"), None
    lines = [t("referrals-title", total=page.total, page=page.page + 1, pages=page.pages)]
    for entry in page.entries:
        lines.append(
            t(
                "referrals-line",
                name=entry.name,
                phone=mask_phone(entry.phone),
                date=entry.joined_at,
            )
        )
    kb = InlineKeyboardBuilder()
    pager(kb, REFERRALS_LIST, page.page, page.pages)
    return "\n".join(lines), kb.as_markup() if page.pages > 1 else None


async def referrals(message: Message, user: User, services: Services, t: Texts) -> None:
    text, markup = _referrals_view(t, await services.invites.referrals_page(user, 0))
    await message.answer(text, reply_markup=markup)


async def referrals_page(query: CallbackQuery, callback_data: Page, user: User, services: Services, t: Texts) -> None:
    text, markup = _referrals_view(t, await services.invites.referrals_page(user, callback_data.page))
    await query.answer()
    if isinstance(query.message, Message) and query.message.text != text:
        await query.message.edit_text(text, reply_markup=markup)


async def admin_code(message: Message, command: CommandObject, services: Services, t: Texts) -> None:
    if not command.args:
        await message.answer(t("admin-user-usage", command="code"))
        return
    target = await services.users.resolve(command.args)
    code = await services.invites.current_code(target)
    await message.answer(
        t(
            "admin-code",
            user=target.display_name,
            id=target.id,
            code=code.code if code else "—",
            expires=code.expires_at if code else "—",
        )
    )


async def admin_who_invited(message: Message, command: CommandObject, services: Services, t: Texts) -> None:
    if not command.args:
        await message.answer(t("admin-user-usage", command="whoinvited"))
        return
    target = await services.users.resolve(command.args)
    inviter = await services.invites.inviter_of(target)
    if inviter is None:
        await message.answer(t("admin-invited-by-nobody", user=target.display_name, id=target.id))
    else:
        await message.answer(
            t(
                "admin-invited-by",
                user=target.display_name,
                id=target.id,
                inviter=inviter.display_name,
                inviter_id=inviter.id,
            )
        )
