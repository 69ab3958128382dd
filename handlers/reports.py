"""Reporting a member (Report button under relayed messages, /report) and the report cards in
the admin chat with Ban / Warn / Dismiss / Delete."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyParameters
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Texts, Translator
from bot.i18n.notices import send_notices
from handlers.config import HandlerConfig
from handlers.filters import IsModerator
from handlers.keyboards import MessageAction, RowId
from services.container import Services
from services.delivery import Outbox
from services.moderation import REASONS, ComplaintLine, ModerationService, RelayedMessage, ReportOutcome
from storage.models import User

log = logging.getLogger(__name__)

# What people type after /report, in every language we speak.
REASON_WORDS = {
    "spam": "spam",
    "спам": "spam",
    "abuse": "abuse",
    "оскорбление": "abuse",
    "оскорбления": "abuse",
    "other": "other",
    "другое": "other",
}


class ReportReason(CallbackData, prefix="rr"):
    """The reporter's reason choice; `msg` is the relayed message (0: a report of a member, `target`,
    sealed for the reporter by `seal`: ModerationService.member_report_seal)."""

    reason: str  # spam | abuse | other | cancel
    target: RowId
    msg: RowId
    seal: str = ""


class ReportAction(CallbackData, prefix="ra"):
    """A button on a report card (admin chat, /complaints)."""

    action: str  # ban | warn | dismiss | del
    report_id: RowId


def router() -> Router:
    r = Router(name="reports")
    r.callback_query.register(report_button, MessageAction.filter(F.action == "report"))
    r.message.register(report_command, Command("report"))
    r.callback_query.register(report_reason, ReportReason.filter())
    r.callback_query.register(
        report_card_action, ReportAction.filter(F.action.in_(("ban", "warn", "dismiss"))), IsModerator()
    )
    r.callback_query.register(report_card_delete, ReportAction.filter(F.action == "del"), IsModerator())
    return r


# --- the reporter's side ---------------------------------------------------------------------
def reasons_keyboard(t: Texts, target_id: int, relay_message_id: int, seal: str = "") -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for reason in (*REASONS, "cancel"):
        kb.button(
            text=t.plain(f"report-reason-{reason}"),
            callback_data=ReportReason(reason=reason, target=target_id, msg=relay_message_id, seal=seal),
        )
    kb.adjust(3, 1)
    return kb.as_markup()


async def report_button(
    query: CallbackQuery, callback_data: MessageAction, user: User, services: Services, t: Texts, bot: Bot
) -> None:
    message = await services.moderation.relayed_for(user, callback_data.message_id)
    target = await services.moderation.author_of(message)
    await services.moderation.check_can_report(user, target)
    await query.answer()
    reply_to = query.message.message_id if isinstance(query.message, Message) else None
    await bot.send_message(
        query.from_user.id,
        t("report-choose-reason"),
        reply_markup=reasons_keyboard(t, target.id, message.relay_message_id),
        reply_parameters=ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None,
    )


async def report_command(
    message: Message,
    services: Services,
    command: CommandObject,
    user: User,
    t: Texts,
    bot: Bot,
    translator: Translator,
    config: HandlerConfig,
) -> None:
    args = (command.args or "").split()
    relayed: RelayedMessage | None = None
    if message.reply_to_message is not None:
        relayed = await services.moderation.find_relayed_copy(message.chat.id, message.reply_to_message.message_id)
        target = await services.moderation.author_of(relayed)
    elif args:
        target = await services.users.resolve_member(args.pop(0))  # a nickname: never a phone or an id
    else:
        await message.answer(t("report-usage"))
        return
    reason = REASON_WORDS.get(args[0].lower()) if args else None
    if reason is None:
        await services.moderation.check_can_report(user, target)
        if relayed is not None:
            markup = reasons_keyboard(t, target.id, relayed.relay_message_id)
        else:
            markup = reasons_keyboard(t, target.id, 0, services.moderation.member_report_seal(user, target))
        await message.answer(t("report-choose-reason"), reply_markup=markup)
        return
    outcome = await services.moderation.report(user, target, reason, relayed)
    await message.answer(t("report-accepted"))
    await _after_report(services.outbox, bot, translator, config, services.moderation, outcome)


async def report_reason(
    query: CallbackQuery,
    services: Services,
    callback_data: ReportReason,
    user: User,
    t: Texts,
    bot: Bot,
    translator: Translator,
    config: HandlerConfig,
) -> None:
    if callback_data.reason == "cancel":
        await query.answer()
        await edit_or_log(query, t("report-cancelled"), None)
        return
    if callback_data.msg:
        outcome = await services.moderation.report_message(user, callback_data.msg, callback_data.reason)
    else:
        outcome = await services.moderation.report_member(
            user, callback_data.target, callback_data.reason, callback_data.seal
        )
    await query.answer(t.plain("report-accepted"))
    await edit_or_log(query, t("report-accepted"), None)
    await _after_report(services.outbox, bot, translator, config, services.moderation, outcome)


async def _after_report(
    outbox: Outbox,
    bot: Bot,
    translator: Translator,
    config: HandlerConfig,
    moderation: ModerationService,
    outcome: ReportOutcome,
) -> None:
    await send_notices(outbox, translator, outcome.notices)
    line = ComplaintLine(outcome.report, outcome.reporter, outcome.target)
    chats = [config.admin_chat_id] if config.admin_chat_id else await _staff_chats(moderation)
    await post_report(bot, admin_texts(translator, config), chats, line, moderation, outcome)


async def _staff_chats(moderation: ModerationService) -> list[int]:
    """Without an admin chat, every admin and moderator gets the card privately."""
    ids = sorted(moderation.admin_ids)
    ids += [u.telegram_id for u in await moderation.staff() if u.telegram_id and u.telegram_id not in ids]
    return ids


def admin_texts(translator: Translator, config: HandlerConfig) -> Texts:
    return translator.texts(config.admin_chat_language or translator.default)


# --- the report card ---------------------------------------------------------------------
def report_card(
    t: Texts,
    line: ComplaintLine,
    *,
    with_excerpt: bool = True,
    outcome: ReportOutcome | None = None,
    deleted: bool = False,
) -> tuple[str, InlineKeyboardMarkup | None]:
    report = line.report
    parts = [
        t(
            "report-card",
            id=report.id,
            reason=t.plain(f"report-reason-{report.reason}"),
            target=line.target.display_name if line.target else "—",
            target_id=report.target_id,
            reporter=line.reporter.display_name if line.reporter else "—",
            reporter_id=report.reporter_id,
            date=report.created_at,
        )
    ]
    if with_excerpt and report.excerpt:
        parts.append(t("report-card-excerpt", excerpt=report.excerpt))
    if outcome is not None and outcome.ban is not None:
        parts.append(t("report-card-auto-ban", until=outcome.ban.until))
    elif outcome is not None:
        parts.append(t("report-card-warnings", count=outcome.warnings))
    if report.status != "open":
        by = line.handler.display_name if line.handler else "—"
        parts.append(t("report-card-handled", status=report.status, by=by))
    if deleted:
        parts.append(t("report-card-deleted"))
    kb = InlineKeyboardBuilder()
    if report.status == "open":
        for action in ("ban", "warn", "dismiss"):
            kb.button(
                text=t.plain(f"report-btn-{action}"), callback_data=ReportAction(action=action, report_id=report.id)
            )
    if report.relay_message_id is not None and not deleted:
        kb.button(text=t.plain("report-btn-del"), callback_data=ReportAction(action="del", report_id=report.id))
    kb.adjust(3, 1)
    markup = kb.as_markup() if kb.buttons else None
    return "\n".join(parts), markup


async def post_report(
    bot: Bot,
    t: Texts,
    chats: list[int],
    line: ComplaintLine,
    moderation: ModerationService,
    outcome: ReportOutcome | None = None,
) -> None:
    """The card in each staff chat, under a copy of the reported message when it still exists; each card
    is remembered, so that an action taken elsewhere (the panel, another card) edits it."""
    report = line.report
    for chat_id in chats:
        copied: int | None = None
        if report.origin_chat_id is not None and report.origin_message_id is not None:
            try:
                copied = (await bot.copy_message(chat_id, report.origin_chat_id, report.origin_message_id)).message_id
            except TelegramAPIError as exc:  # the original was deleted: the excerpt stands in
                log.info("could not copy reported message %s: %s", report.id, exc)
        text, markup = report_card(t, line, with_excerpt=copied is None, outcome=outcome)
        try:
            card = await bot.send_message(
                chat_id,
                text,
                reply_markup=markup,
                reply_parameters=ReplyParameters(message_id=copied, allow_sending_without_reply=True)
                if copied
                else None,
            )
        except TelegramAPIError as exc:
            log.warning("could not post report %s to %s: %s", report.id, chat_id, exc)
            continue
        await moderation.remember_card(report.id, chat_id, card.message_id)


async def refresh_report_cards(
    outbox: Outbox,
    translator: Translator,
    config: HandlerConfig,
    moderation: ModerationService,
    report_id: int,
    *,
    skip: tuple[int, int] | None = None,
) -> int:
    """Edit every card of this report in the staff chats (but `skip`, the one just edited in place) to the
    report's state now: handled and by whom, the message deleted. Through the delivery queue, in the
    caller's transaction, so that it happens only if the action commits. A staff member's private chat
    gets their language, the admin chat its own. How many edits were queued."""
    cards = [card for card in await moderation.cards_of(report_id) if card != skip]
    if not cards:
        return 0
    line = await moderation.complaint(report_id)
    deleted = await moderation.reported_message_deleted(line.report)
    for chat_id, message_id in cards:
        owner = await moderation.users.by_telegram_id(chat_id) if chat_id > 0 else None
        t = translator.for_user(owner) if owner is not None else admin_texts(translator, config)
        text, markup = report_card(t, line, deleted=deleted)
        await outbox.edit_known(chat_id, message_id, text, markup.model_dump(exclude_none=True) if markup else None)
    return len(cards)


async def edit_or_log(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, reply_markup=markup)
        except TelegramAPIError as exc:  # not modified, too old: the action itself stands
            log.info("could not edit %s: %s", query.message.message_id, exc)


async def report_card_action(
    query: CallbackQuery,
    services: Services,
    callback_data: ReportAction,
    user: User,
    t: Texts,
    translator: Translator,
    config: HandlerConfig,
) -> None:
    handled = await services.moderation.handle_report(user, callback_data.report_id, callback_data.action)
    await query.answer(t.plain(f"report-done-{callback_data.action}", name=handled.target.display_name))
    line = await services.moderation.complaint(handled.report.id)
    text, markup = report_card(
        t, line, with_excerpt=True, deleted=await services.moderation.reported_message_deleted(line.report)
    )
    await edit_or_log(query, text, markup)
    await send_notices(services.outbox, translator, handled.notices)
    await refresh_report_cards(
        services.outbox, translator, config, services.moderation, handled.report.id, skip=_pressed(query)
    )


async def report_card_delete(
    query: CallbackQuery,
    callback_data: ReportAction,
    user: User,
    services: Services,
    t: Texts,
    translator: Translator,
    config: HandlerConfig,
) -> None:
    moderation = services.moderation
    report = await moderation.delete_reported_message(user, callback_data.report_id)
    await query.answer(t.plain("report-done-del"))
    text, markup = report_card(t, await moderation.complaint(report.id), deleted=True)
    await edit_or_log(query, text, markup)
    await refresh_report_cards(services.outbox, translator, config, moderation, report.id, skip=_pressed(query))


def _pressed(query: CallbackQuery) -> tuple[int, int] | None:
    """The card whose button was pressed (edited in place, not through the queue)."""
    if isinstance(query.message, Message):
        return query.message.chat.id, query.message.message_id
    return None
