"""/start, sign-in by contact or SMS code, /me, /forget_me, /help."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart, Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Texts, Translator
from bot.i18n.menus import clear_staff_commands, set_signed_in_commands
from bot.i18n.notices import notify_telegram_id, notify_user
from handlers.filters import Magic, SignedOut
from handlers.keyboards import REMOVE_KEYBOARD, TakeoverAnswer, contact_keyboard
from handlers.notify import ask_owner
from handlers.relay import JoinChoice
from handlers.rooms import join_pending_room
from services.container import Services
from services.delivery import Outbox
from services.invites import RedeemResult
from services.moderation import ModerationService
from services.phones import mask_phone
from services.rooms import RoomService
from services.signin import SignInResult, TakeoverAnswered, TakeoverRequested
from storage.models import User

PHONE_CODE_PATTERN = r"^\s*\d{6}\s*$"


class ForgetMe(CallbackData, prefix="fm"):
    confirm: bool


class HasAccount(Filter):
    """The sender has a row: not a bot account, not a message sent on behalf of a chat (no from_user)."""

    async def __call__(self, event: TelegramObject, user: User | None = None) -> bool:
        return user is not None


class PhoneCodesOffered(Filter):
    """`/phone` is on (an SMS sender is configured): only then is a bare 6-digit text a sign-in code."""

    async def __call__(self, event: TelegramObject, services: Services | None = None) -> bool:
        return services is not None and services.signin.phone_codes_offered


def router() -> Router:
    r = Router(name="signin")
    r.message.register(start, CommandStart(), flags={"public": True})
    r.message.register(contact, Magic(F.contact), HasAccount(), flags={"public": True})
    r.message.register(phone, Command("phone"), HasAccount(), flags={"public": True})
    r.message.register(
        phone_code,
        SignedOut(),
        PhoneCodesOffered(),
        Magic(F.text.regexp(PHONE_CODE_PATTERN)),
        flags={"public": True},
    )
    r.message.register(help_, Command("help"), flags={"public": True})
    r.message.register(me, Command("me"))
    r.message.register(forget_me, Command("forget_me"))
    r.callback_query.register(forget_me_answer, ForgetMe.filter())
    r.callback_query.register(takeover_answer, TakeoverAnswer.filter())
    return r


async def start(
    message: Message,
    services: Services,
    command: CommandObject,
    user: User,
    t: Texts,
    bot: Bot,
    translator: Translator,
    is_admin: bool = False,
) -> None:
    payload = (command.args or "").strip()
    if not user.signed_in:
        if payload:
            await services.signin.remember_invite_code(user, payload)
        await message.answer(t("start-welcome", has_code=1 if payload else 0), reply_markup=contact_keyboard(t))
        return
    if payload:
        result = await services.invites.redeem(user, payload)
        await _announce_redeem(message, services.outbox, result, user, t, translator)
        return
    await message.answer(t("start-welcome-back", name=user.display_name), reply_markup=REMOVE_KEYBOARD)
    await _full_menu(message, user, t, bot, services.moderation, is_admin)


async def contact(
    message: Message,
    user: User,
    services: Services,
    t: Texts,
    bot: Bot,
    translator: Translator,
    state: FSMContext,
    is_admin: bool = False,
) -> None:
    assert message.contact is not None
    result = await services.signin.sign_in_with_contact(user, message.contact.user_id, message.contact.phone_number)
    await _announce_sign_in(
        message, result, services.outbox, t, bot, translator, state, services.rooms, services.moderation, is_admin
    )


async def phone(message: Message, command: CommandObject, user: User, services: Services, t: Texts) -> None:
    if not services.signin.phone_codes_offered:
        await message.answer(t("signin-phone-off"), reply_markup=contact_keyboard(t))
        return
    if user.signed_in:
        await message.answer(t("signin-already", phone=mask_phone(user.phone)))
        return
    if not command.args:
        await message.answer(t("signin-phone-usage"))
        return
    sent = await services.signin.request_phone_code(user, command.args)
    minutes = max(1, int(sent.expires_in.total_seconds() // 60))
    await message.answer(t("signin-code-sent", phone=mask_phone(sent.phone), minutes=minutes))


async def phone_code(
    message: Message,
    user: User,
    services: Services,
    t: Texts,
    bot: Bot,
    translator: Translator,
    state: FSMContext,
    is_admin: bool = False,
) -> None:
    result = await services.signin.verify_phone_code(user, message.text or "")
    if isinstance(result, TakeoverRequested):
        await ask_owner(result, services.outbox, translator)
        minutes = max(1, int(result.expires_in.total_seconds() // 60))
        await message.answer(t("signin-takeover-asked", phone=mask_phone(result.phone), minutes=minutes))
        return
    await _announce_sign_in(
        message, result, services.outbox, t, bot, translator, state, services.rooms, services.moderation, is_admin
    )


async def takeover_answer(
    query: CallbackQuery,
    callback_data: TakeoverAnswer,
    user: User,
    services: Services,
    t: Texts,
    translator: Translator,
) -> None:
    answered = await services.signin.answer_takeover(user, callback_data.id, callback_data.token, callback_data.allow)
    await _tell_requester(answered, services.outbox, translator)
    text = t("signin-takeover-allowed-owner" if answered.allowed else "signin-takeover-denied-owner")
    await query.answer()
    if isinstance(query.message, Message):
        await services.outbox.edit_known(query.message.chat.id, query.message.message_id, text)


async def _tell_requester(answered: TakeoverAnswered, outbox: Outbox, translator: Translator) -> None:
    t = translator.texts(translator.pick(answered.requester_language, None))
    if answered.result is None:
        text = t("signin-takeover-denied", phone=mask_phone(answered.phone))
    else:
        text = t("signin-done", phone=mask_phone(answered.phone), name=answered.result.user.display_name)
    await outbox.send_text(answered.requester_telegram_id, text)


async def _announce_sign_in(
    message: Message,
    result: SignInResult,
    outbox: Outbox,
    t: Texts,
    bot: Bot,
    translator: Translator,
    state: FSMContext,
    rooms: RoomService,
    moderation: ModerationService,
    is_admin: bool,
) -> None:
    """The first sign-in ends in one message: who you are, your invite code, and the join question."""
    user = result.user
    t = translator.for_user(user)  # the zone was just guessed from the phone
    if result.first_time:
        parts = [
            t(
                "signin-welcome",
                phone=mask_phone(user.phone),
                name=user.display_name,
                code=result.code.code if result.code is not None else "—",
            )
        ]
        if result.redeemed is not None:
            parts.append(t("invite-redeemed", inviter=result.redeemed.inviter.display_name))
        elif result.redeem_error is not None:
            reason = t.plain(result.redeem_error.key, **result.redeem_error.args_map)
            parts.append(t("signin-pending-code-failed", reason=reason))
        parts.append(t("relay-join-ask"))
        ask = InlineKeyboardBuilder()
        ask.button(text=t.plain("relay-btn-join-yes"), callback_data=JoinChoice(yes=True))
        ask.button(text=t.plain("relay-btn-join-no"), callback_data=JoinChoice(yes=False))
        await message.answer("\n\n".join(parts), reply_markup=ask.as_markup())
    else:
        await message.answer(
            t("signin-done", phone=mask_phone(user.phone), name=user.display_name), reply_markup=REMOVE_KEYBOARD
        )
    if result.redeemed is not None:
        await notify_user(outbox, translator, result.redeemed.inviter, "invite-inviter-notice", name=user.display_name)
    if result.taken_over_from is not None:
        await notify_telegram_id(outbox, translator, result.taken_over_from, user.language, "signin-taken-over")
    await _full_menu(message, user, t, bot, moderation, is_admin)
    await join_pending_room(message, user, state, rooms, outbox, translator, t)


async def _full_menu(
    message: Message, user: User, t: Texts, bot: Bot, moderation: ModerationService, is_admin: bool
) -> None:
    staff = is_admin or await moderation.is_moderator(user)
    await set_signed_in_commands(bot, t.translator, message.chat.id, t.locale, staff=staff, admin=is_admin)


async def _announce_redeem(
    message: Message, outbox: Outbox, result: RedeemResult, user: User, t: Texts, translator: Translator
) -> None:
    await message.answer(t("invite-redeemed", inviter=result.inviter.display_name))
    await notify_user(outbox, translator, result.inviter, "invite-inviter-notice", about=user, name=user.display_name)


async def help_(
    message: Message,
    user: User | None,
    services: Services,
    t: Texts,
    bot: Bot,
    is_admin: bool = False,
) -> None:
    if user is not None and user.signed_in:
        await message.answer(t("help-text"))
        await _full_menu(
            message, user, t, bot, services.moderation, is_admin
        )  # members signed in before menus were per chat
        return
    await message.answer(t("help-text-signed-out", phone=1 if services.signin.phone_codes_offered else 0))


async def me(message: Message, user: User, services: Services, t: Texts) -> None:
    code = await services.invites.current_code(user)
    inviter = await services.invites.inviter_of(user)
    await message.answer(
        t(
            "me-card",
            name=user.display_name,
            phone=mask_phone(user.phone),
            code=code.code if code else "—",
            inviter=inviter.display_name if inviter else "—",
            invited=await services.invites.invited_count(user),
        )
    )


def _forget_keyboard(t: Texts) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=t.plain("forget-yes"), callback_data=ForgetMe(confirm=True))
    kb.button(text=t.plain("forget-no"), callback_data=ForgetMe(confirm=False))
    return kb.as_markup()


async def forget_me(message: Message, t: Texts) -> None:
    await message.answer(t("forget-confirm"), reply_markup=_forget_keyboard(t))


async def forget_me_answer(
    query: CallbackQuery,
    callback_data: ForgetMe,
    user: User | None,
    services: Services,
    t: Texts,
    bot: Bot,
) -> None:
    if user is None or not user.signed_in:  # a forged or odd press (a bot account, no row): nothing to forget
        await query.answer(t.plain("signin-required-short"), show_alert=True)
        return
    key = "forget-done" if callback_data.confirm else "forget-cancelled"
    if callback_data.confirm:
        await services.signin.forget(user)
        await clear_staff_commands(bot, t.translator, query.from_user.id)  # back to /start and /help
    edited = False
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(t(key))
            edited = True
        except TelegramBadRequest:  # deleted, or not the bot's: the erasure stands, the answer goes on the button
            pass
    await query.answer(None if edited else t.plain(key), show_alert=not edited)
