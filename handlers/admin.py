"""Moderator and admin commands: /ban /unban /warn /complaints /user /stats /audit, and /mod /unmod.

Every handler here is behind IsModerator (or IsAdmin): for anyone else the filters fail and the
fallback router answers exactly as it answers an unknown command or a stale button.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Texts, Translator
from bot.i18n.menus import clear_staff_commands, set_staff_commands
from bot.i18n.notices import notify_user, send_notices
from handlers.filters import IsAdmin, IsModerator
from handlers.keyboards import Page, RowId, pager
from handlers.reports import edit_or_log, report_card
from services.container import Services
from services.delivery import Outbox
from services.durations import leading_duration
from services.errors import NotARelayedMessage
from services.moderation import (
    MAX_DURATION,
    AuditPage,
    ComplaintPage,
    ModerationService,
    UserCard,
    looks_like_duration,
    parse_duration,
    stored_duration,
)
from services.users import UserDirectory
from storage.models import User

COMPLAINTS_LIST = "cmp"
AUDIT_LIST = "aud"


class ComplaintOpen(CallbackData, prefix="co"):
    report_id: RowId


class UserAction(CallbackData, prefix="ua"):
    """A button on a /user card; `n` is the user's warning count when the card was drawn."""

    action: str  # ban | unban | warn | mod | unmod
    user_id: RowId
    n: int = 0


def router() -> Router:
    r = Router(name="admin")
    staff = IsModerator()
    r.message.register(ban, Command("ban"), staff)
    r.message.register(unban, Command("unban"), staff)
    r.message.register(warn, Command("warn"), staff)
    r.message.register(complaints, Command("complaints"), staff)
    r.message.register(user_card, Command("user"), staff)
    r.message.register(stats, Command("stats"), staff)
    r.message.register(audit, Command("audit"), staff)
    r.message.register(mod, Command("mod"), IsAdmin())
    r.message.register(unmod, Command("unmod"), IsAdmin())
    r.callback_query.register(complaints_page, Page.filter(F.list == COMPLAINTS_LIST), staff)
    r.callback_query.register(audit_page, Page.filter(F.list == AUDIT_LIST), staff)
    r.callback_query.register(complaint_open, ComplaintOpen.filter(), staff)
    r.callback_query.register(user_card_role, UserAction.filter(F.action.in_(("mod", "unmod"))), IsAdmin())
    r.callback_query.register(user_card_action, UserAction.filter(F.action.in_(("ban", "unban", "warn"))), staff)
    return r


async def _target(
    message: Message, command: CommandObject, users: UserDirectory, moderation: ModerationService, actor: User
) -> tuple[User, list[str]] | None:
    """`<user> rest...`, or a reply to a relayed message and `rest...`; None when no user is named.
    Only admins find members by phone (ModerationService.may_see_phones)."""
    args = (command.args or "").split()
    if message.reply_to_message is not None:
        try:
            return await users.resolve_reply(message.chat.id, message.reply_to_message.message_id), args
        except NotARelayedMessage:
            if not args:
                raise
    if not args:
        return None
    return await users.resolve(args[0], by_phone=moderation.may_see_phones(actor)), args[1:]


def _reason(words: list[str]) -> str | None:
    return " ".join(words)[:500] or None


async def ban(
    message: Message,
    services: Services,
    command: CommandObject,
    user: User,
    t: Texts,
    translator: Translator,
) -> None:
    found = await _target(message, command, services.users, services.moderation, user)
    if found is None:
        await message.answer(t("admin-ban-usage"))
        return
    target, rest = found
    duration, rest = leading_duration(rest, MAX_DURATION)
    if duration is None and rest and looks_like_duration(rest[0]):
        parse_duration(rest[0])  # `99999w`: a duration, but too long (InvalidDuration)
    outcome = await services.moderation.ban(user, target, duration, _reason(rest))
    await message.answer(
        t(
            "admin-banned",
            name=target.display_name,
            id=target.id,
            until=outcome.ban.until,
            duration=outcome.ban.until - outcome.ban.created_at,
        )
    )
    await send_notices(services.outbox, translator, outcome.notices)


async def unban(
    message: Message,
    services: Services,
    command: CommandObject,
    user: User,
    t: Texts,
    translator: Translator,
) -> None:
    found = await _target(message, command, services.users, services.moderation, user)
    if found is None:
        await message.answer(t("admin-user-usage", command="unban"))
        return
    target, rest = found
    outcome = await services.moderation.unban(user, target, _reason(rest))
    await message.answer(t("admin-unbanned", name=target.display_name, id=target.id))
    await send_notices(services.outbox, translator, outcome.notices)


async def warn(
    message: Message,
    services: Services,
    command: CommandObject,
    user: User,
    t: Texts,
    translator: Translator,
) -> None:
    found = await _target(message, command, services.users, services.moderation, user)
    if found is None:
        await message.answer(t("admin-user-usage", command="warn"))
        return
    target, rest = found
    outcome = await services.moderation.warn(user, target, _reason(rest))
    if outcome.ban is not None:
        await message.answer(t("admin-warned-banned", name=target.display_name, id=target.id, until=outcome.ban.until))
    else:
        await message.answer(
            t(
                "admin-warned",
                name=target.display_name,
                id=target.id,
                count=outcome.warnings,
                max=services.moderation.warnings_to_ban,
            )
        )
    await send_notices(services.outbox, translator, outcome.notices)


# --- /complaints ------------------------------------------------------------------------------
def _complaints_view(t: Texts, page: ComplaintPage) -> tuple[str, InlineKeyboardMarkup | None]:
    if page.total == 0:
        return t("admin-complaints-empty"), None
    lines = [t("admin-complaints-title", total=page.total, page=page.page + 1, pages=page.pages)]
    kb = InlineKeyboardBuilder()
    for entry in page.entries:
        report = entry.report
        lines.append(
            t(
                "admin-complaints-line",
                id=report.id,
                target=entry.target.display_name if entry.target else "—",
                target_id=report.target_id,
                reason=t.plain(f"report-reason-{report.reason}"),
                date=report.created_at,
            )
        )
        kb.button(text=f"#{report.id}", callback_data=ComplaintOpen(report_id=report.id))
    kb.adjust(5)
    pager(kb, COMPLAINTS_LIST, page.page, page.pages)
    return "\n".join(lines), kb.as_markup()


async def complaints(message: Message, services: Services, t: Texts) -> None:
    text, markup = _complaints_view(t, await services.moderation.complaints_page(0))
    await message.answer(text, reply_markup=markup)


async def complaints_page(query: CallbackQuery, callback_data: Page, services: Services, t: Texts) -> None:
    text, markup = _complaints_view(t, await services.moderation.complaints_page(callback_data.page))
    await query.answer()
    if isinstance(query.message, Message) and query.message.text != text:
        await edit_or_log(query, text, markup)


async def complaint_open(
    query: CallbackQuery, callback_data: ComplaintOpen, services: Services, t: Texts, bot: Bot
) -> None:
    line = await services.moderation.complaint(callback_data.report_id)
    text, markup = report_card(t, line, deleted=await services.moderation.reported_message_deleted(line.report))
    await query.answer()
    card = await bot.send_message(query.from_user.id, text, reply_markup=markup)
    await services.moderation.remember_card(line.report.id, query.from_user.id, card.message_id)


# --- /user -------------------------------------------------------------------------------------
def _card_view(t: Texts, card: UserCard, viewer_is_admin: bool, max_warnings: int) -> tuple[str, InlineKeyboardMarkup]:
    """The card as the service drew it for the viewer (the phone is already full or masked)."""
    u = card.user
    role = "admin" if card.is_admin else "moderator" if card.is_moderator else "member"
    text = t(
        "admin-user-card",
        name=u.display_name,
        id=u.id,
        telegram_id=str(u.telegram_id or "—"),
        username=f"@{u.username}" if u.username else "—",
        phone=card.phone,
        role=t.plain(f"admin-role-{role}"),
        warnings=card.warnings,
        max=max_warnings,
        warnings_total=card.warnings_total,
        reports=card.reports_against,
        bans=card.bans_total,
        ban=card.ban.until if card.ban else "—",
    )
    kb = InlineKeyboardBuilder()
    if card.ban is None:
        kb.button(text=t.plain("admin-btn-ban"), callback_data=UserAction(action="ban", user_id=u.id))
    else:
        kb.button(text=t.plain("admin-btn-unban"), callback_data=UserAction(action="unban", user_id=u.id))
    kb.button(
        text=t.plain("admin-btn-warn"), callback_data=UserAction(action="warn", user_id=u.id, n=card.warnings_total)
    )
    if viewer_is_admin and not card.is_admin:
        action = "unmod" if card.is_moderator else "mod"
        kb.button(text=t.plain(f"admin-btn-{action}"), callback_data=UserAction(action=action, user_id=u.id))
    kb.adjust(3)
    return text, kb.as_markup()


async def user_card(
    message: Message,
    command: CommandObject,
    user: User,
    services: Services,
    t: Texts,
    is_admin: bool,
) -> None:
    found = await _target(message, command, services.users, services.moderation, user)
    if found is None:
        await message.answer(t("admin-user-usage", command="user"))
        return
    card = await services.moderation.look_up(user, found[0])
    text, markup = _card_view(t, card, is_admin, services.moderation.warnings_to_ban)
    await message.answer(text, reply_markup=markup)


async def user_card_action(
    query: CallbackQuery,
    services: Services,
    callback_data: UserAction,
    user: User,
    t: Texts,
    translator: Translator,
    is_admin: bool,
) -> None:
    target = await services.moderation.member(callback_data.user_id)
    if callback_data.action == "ban":
        notices = (await services.moderation.ban(user, target, None, None)).notices
    elif callback_data.action == "unban":
        notices = (await services.moderation.unban(user, target)).notices
    else:
        notices = (await services.moderation.warn_from_card(user, target, callback_data.n)).notices
    await query.answer(t.plain(f"admin-done-{callback_data.action}", name=target.display_name))
    text, markup = _card_view(
        t, await services.moderation.user_card(target, viewer=user), is_admin, services.moderation.warnings_to_ban
    )
    await edit_or_log(query, text, markup)
    await send_notices(services.outbox, translator, notices)


async def user_card_role(
    query: CallbackQuery,
    services: Services,
    callback_data: UserAction,
    user: User,
    t: Texts,
    bot: Bot,
    translator: Translator,
) -> None:
    target = await services.moderation.member(callback_data.user_id)
    await _set_role(
        services.outbox, bot, translator, services.moderation, user, target, grant=callback_data.action == "mod"
    )
    await query.answer(t.plain(f"admin-done-{callback_data.action}", name=target.display_name))
    text, markup = _card_view(
        t, await services.moderation.user_card(target, viewer=user), True, services.moderation.warnings_to_ban
    )
    await edit_or_log(query, text, markup)


# --- /mod /unmod ----------------------------------------------------------------------------
async def _set_role(
    outbox: Outbox,
    bot: Bot,
    translator: Translator,
    moderation: ModerationService,
    actor: User,
    target: User,
    *,
    grant: bool,
) -> None:
    if grant:
        await moderation.grant_moderator(actor, target)
        if target.telegram_id is not None:
            await set_staff_commands(bot, translator, target.telegram_id, admin=False)
        await notify_user(outbox, translator, target, "admin-you-are-moderator")
    else:
        await moderation.revoke_moderator(actor, target)
        if target.telegram_id is not None:
            await clear_staff_commands(bot, translator, target.telegram_id)
        await notify_user(outbox, translator, target, "admin-you-are-not-moderator")


async def mod(
    message: Message,
    services: Services,
    command: CommandObject,
    user: User,
    t: Texts,
    bot: Bot,
    translator: Translator,
) -> None:
    found = await _target(message, command, services.users, services.moderation, user)
    if found is None:
        await message.answer(t("admin-user-usage", command="mod"))
        return
    await _set_role(services.outbox, bot, translator, services.moderation, user, found[0], grant=True)
    await message.answer(t("admin-mod-granted", name=found[0].display_name, id=found[0].id))


async def unmod(
    message: Message,
    services: Services,
    command: CommandObject,
    user: User,
    t: Texts,
    bot: Bot,
    translator: Translator,
) -> None:
    found = await _target(message, command, services.users, services.moderation, user)
    if found is None:
        await message.answer(t("admin-user-usage", command="unmod"))
        return
    await _set_role(services.outbox, bot, translator, services.moderation, user, found[0], grant=False)
    await message.answer(t("admin-mod-revoked", name=found[0].display_name, id=found[0].id))


# --- /stats /audit ----------------------------------------------------------------------------
async def stats(message: Message, services: Services, t: Texts) -> None:
    s = await services.moderation.stats()
    await message.answer(
        t(
            "admin-stats",
            users=s.users,
            signed_in=s.signed_in,
            banned=s.banned_now,
            open=s.open_reports,
            reports=s.reports_24h,
            warnings=s.warnings_24h,
            moderators=s.moderators,
        )
    )


def _audit_view(t: Texts, page: AuditPage) -> tuple[str, InlineKeyboardMarkup | None]:
    if page.total == 0:
        return t("admin-audit-empty"), None
    lines = [t("admin-audit-title", total=page.total, page=page.page + 1, pages=page.pages)]
    for line in page.entries:
        entry = line.entry
        details = entry.details or {}
        lines.append(
            t(
                "admin-audit-line",
                date=entry.created_at,
                actor=line.actor.display_name if line.actor else t.plain("admin-audit-bot"),
                actor_id=entry.actor_id or 0,
                action=entry.action,
                target=line.target.display_name if line.target else "—",
                target_id=str(entry.target_id or "—"),
                reason=entry.reason or "",
                has_reason=1 if entry.reason else 0,
                duration=stored_duration(details) or "",
                has_duration=1 if stored_duration(details) else 0,
            )
        )
    kb = InlineKeyboardBuilder()
    pager(kb, AUDIT_LIST, page.page, page.pages)
    return "\n".join(lines), kb.as_markup() if page.pages > 1 else None


async def audit(message: Message, services: Services, t: Texts) -> None:
    text, markup = _audit_view(t, await services.moderation.audit_page(0))
    await message.answer(text, reply_markup=markup)


async def audit_page(query: CallbackQuery, callback_data: Page, services: Services, t: Texts) -> None:
    text, markup = _audit_view(t, await services.moderation.audit_page(callback_data.page))
    await query.answer()
    if isinstance(query.message, Message) and query.message.text != text:
        await edit_or_log(query, text, markup)
