"""The common chat and private chats: relaying, edits, /delete, targets, /pause, /unread, /status, /who,
/schedule, and the admin /setlimit."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

from aiogram import F, Router
from aiogram.enums import ContentType
from aiogram.filters import Command, CommandObject, Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Texts, Translator
from handlers.filters import IsAdmin, Magic
from handlers.keyboards import REMOVE_KEYBOARD, MessageAction, RowId
from services.container import RelayQueue, Services
from services.errors import LimitValueInvalid
from services.relay import (
    TEXT_LIMIT,
    UNCAPTIONED_KINDS,
    Incoming,
    RelayService,
    Submission,
    Target,
    Unread,
    UnreadGroup,
)
from storage.models import RelayMessage, User

MEDIA_KINDS = {
    ContentType.TEXT: "text",
    ContentType.PHOTO: "photo",
    ContentType.VIDEO: "video",
    ContentType.VOICE: "voice",
    ContentType.AUDIO: "audio",
    ContentType.DOCUMENT: "document",
    ContentType.STICKER: "sticker",
    ContentType.ANIMATION: "animation",
    ContentType.VIDEO_NOTE: "video_note",
    ContentType.LOCATION: "location",
    ContentType.VENUE: "venue",
    ContentType.POLL: "poll",
    ContentType.DICE: "dice",
}
PREVIEW = 300
COMMON_BUTTON_TEXTS = frozenset({"💬 Common chat", "💬 Общий чат"})  # the reply keyboard's way back

# The relay handler writes through the relay batch, in a transaction of its own: the unit of work ends
# the update's before the handler runs and hands over the sender's noted refresh as `touch`
# (bot.middlewares.BatchedHandlerMiddleware).
RELAY_FLAGS = {"batched": True}


class JoinChoice(CallbackData, prefix="join"):
    yes: bool


class DmUser(CallbackData, prefix="dm"):
    user_id: RowId


class CancelScheduled(CallbackData, prefix="sch"):
    item_id: RowId


class UnreadMore(CallbackData, prefix="unr"):
    """The next page of /unread (always the reader's own oldest unread: nothing to forge)."""


class TelegramCopyStyle:
    """How copies look: the author's name on top, and buttons in the reader's language."""

    def __init__(self, translator: Translator) -> None:
        self.translator = translator
        self._labels: dict[str, tuple[str, str, str]] = {}  # locale -> the buttons' labels (dm, block, report)

    def header(self, author: User, chat: str, room: str | None = None) -> str:
        name = html.escape(author.display_name, quote=False)
        if chat == "room" and room is not None:
            return f"🏠 {html.escape(room, quote=False)} · <b>{name}</b>"
        return f"🔒 <b>{name}</b>" if chat == "private" else f"<b>{name}</b>"

    def markup(self, message_id: int, author: User, chat: str, language: str | None, kind: str) -> dict[str, Any]:
        """The buttons as the Bot API's JSON (what `InlineKeyboardMarkup.model_dump` gives), built as plain
        dicts: one markup per relayed message, so pydantic models here were a large part of relaying."""
        t = self.translator.texts(self.translator.pick(language, None))
        labels = self._labels.get(t.locale)
        if labels is None:
            labels = self._labels[t.locale] = (
                t.plain("relay-btn-dm"),
                t.plain("relay-btn-block"),
                t.plain("relay-btn-report"),
            )
        dm_label, block_label, report_label = labels
        if kind in UNCAPTIONED_KINDS:  # no caption to carry the name: the button does
            dm_label = t.plain("relay-btn-dm-name", name=author.display_name)

        def button(text: str, action: str) -> dict[str, str]:
            return {"text": text, "callback_data": MessageAction.packed(action, message_id)}

        row = [button(dm_label, "dm")]
        if chat == "private":
            row.append(button(block_label, "block"))
        row.append(button(report_label, "report"))
        return {"inline_keyboard": [row]}


class MembersMessage(Filter):
    """A signed-in member's message to relay: anything but a command, a shared contact (sign-in's) or the
    button back to the common chat. Checked before any other router: most updates are these, and each
    router and filter aiogram tries first costs time on every one of them."""

    async def __call__(self, message: Message, user: User | None = None) -> bool:
        if user is None or not user.signed_in or message.contact is not None:
            return False
        text = message.text
        return text is None or not (text.startswith("/") or text in COMMON_BUTTON_TEXTS)


def members_router() -> Router:
    """Members' messages, relayed: the first router (see MembersMessage)."""
    r = Router(name="relay-messages")
    r.message.register(relay, MembersMessage(), flags=RELAY_FLAGS)
    return r


def router() -> Router:
    r = Router(name="relay")
    # The rest of the messages that are not commands (a signed-out user's get the sign-in prompt), the button back.
    r.message.register(common, Magic(F.text.in_(COMMON_BUTTON_TEXTS)))
    r.message.register(relay, Magic(~F.text.startswith("/")), flags=RELAY_FLAGS)
    r.message.register(join, Command("join"))
    r.message.register(leave, Command("leave"))
    r.callback_query.register(join_choice, JoinChoice.filter())
    r.message.register(nick, Command("nick"))
    r.message.register(pause, Command("pause"))
    r.message.register(resume, Command("resume"))
    r.message.register(unread, Command("unread"))
    r.callback_query.register(unread_more, UnreadMore.filter())
    r.message.register(status, Command("status"))
    r.message.register(who, Command("who"))
    r.message.register(dm, Command("dm"))
    r.callback_query.register(dm_button, DmUser.filter())
    r.callback_query.register(reply_privately, MessageAction.filter(F.action == "dm"))
    r.callback_query.register(block_button, MessageAction.filter(F.action == "block"))
    r.message.register(common, Command("common"))
    r.message.register(block, Command("block"))
    r.message.register(unblock, Command("unblock"))
    r.message.register(delete, Command("delete"))
    r.message.register(schedule, Command("schedule"))
    r.message.register(scheduled, Command("scheduled"))
    r.callback_query.register(cancel_scheduled, CancelScheduled.filter())
    r.message.register(set_limit, Command("setlimit"), IsAdmin())
    r.edited_message.register(edited)
    return r


def incoming(message: Message) -> Incoming:
    kind = MEDIA_KINDS.get(ContentType(message.content_type), "unknown") if message.content_type else "unknown"
    size = None
    if message.photo:
        size = max((p.file_size or 0) for p in message.photo)
    else:
        media: Any = message.video or message.voice or message.audio or message.document or message.animation
        media = media or message.video_note or message.sticker
        size = getattr(media, "file_size", None)
    body = message.text if message.text is not None else message.caption
    return Incoming(
        kind=kind,
        origin_chat_id=message.chat.id,
        origin_message_id=message.message_id,
        html=message.html_text if body else None,
        plain=body,
        file_size=size,
        media_group_id=message.media_group_id,
        reply_to_message_id=message.reply_to_message.message_id if message.reply_to_message else None,
    )


def target_keyboard(t: Texts, target: Target) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """The input field always says where the next message goes (Telegram shows the placeholder)."""
    if target.peer is not None:
        placeholder = t.plain("relay-placeholder-private", name=target.peer.display_name)
    elif target.room is not None:
        placeholder = t.plain("relay-placeholder-room", title=target.room.title)
    else:
        return ReplyKeyboardRemove()
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=t.plain("relay-btn-common"))]],
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=placeholder[:64],
    )


def target_name(t: Texts, target: Target) -> str:
    if target.peer is not None:
        return t("relay-target-private", name=target.peer.display_name)
    if target.room is not None:
        return t("relay-target-room", title=target.room.title)
    return t("relay-target-common")


def render_line(t: Texts, author: User, message: RelayMessage) -> str:
    """One line of history or /unread: name, time, and the text (safe HTML) or the kind of media."""
    body = message.text or ""
    if message.kind != "text":
        body = f"{t('relay-media-' + message.kind)} {body}".strip()
    if len(body) > PREVIEW:  # cut plain text, never inside markup
        body = html.escape(html.unescape(re.sub(r"<[^>]+>", "", body))[:PREVIEW]) + "…"
    return f"{t('relay-line', name=author.display_name, time=t.clock_time(message.created_at))} {body}"


async def join(message: Message, user: User, services: Services, t: Texts) -> None:
    history = await services.relay.join(user)
    await message.answer(t("relay-joined"), reply_markup=REMOVE_KEYBOARD)  # the sign-in keyboard goes
    if history:
        lines = [render_line(t, author, item) for item, author in history]
        await message.answer(t("relay-history", count=len(lines)) + "\n" + "\n".join(lines))


async def join_choice(
    query: CallbackQuery, callback_data: JoinChoice, user: User, services: Services, t: Texts
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        if callback_data.yes:
            await join(query.message, user, services, t)
        else:
            await query.message.answer(t("relay-join-later"), reply_markup=REMOVE_KEYBOARD)


async def leave(message: Message, user: User, services: Services, t: Texts) -> None:
    await services.relay.leave(user)
    await message.answer(t("relay-left"))


async def nick(message: Message, command: CommandObject, user: User, services: Services, t: Texts) -> None:
    if not command.args:
        await message.answer(t("relay-nick-usage", name=user.display_name))
        return
    name = await services.relay.set_nick(user, command.args)
    await message.answer(t("relay-nick-set", name=name))


async def pause(message: Message, user: User, services: Services, t: Texts) -> None:
    await services.relay.set_paused(user, True)
    await message.answer(t("relay-paused"))


async def resume(message: Message, user: User, services: Services, t: Texts) -> None:
    await services.relay.set_paused(user, False)
    await message.answer(t("relay-resumed"))


def _unread_title(t: Texts, group: UnreadGroup, count: int) -> str:
    if group.peer is not None:
        return t("relay-unread-private", name=group.peer.display_name, count=count)
    if group.room is not None:
        return t("relay-unread-room", title=group.room, count=count)
    return t("relay-unread-common", count=count)


def _length(text: str) -> int:
    """An upper bound of Telegram's count: the HTML is never shorter than the text its entities leave,
    and UTF-16 units are never fewer than characters."""
    return len(text.encode("utf-16-le")) // 2


def unread_page(t: Texts, unread: Unread, limit: int = TEXT_LIMIT) -> tuple[str, list[int]]:
    """As many of the unread messages as fit in one Telegram message, in order, and the copies shown;
    a closing line says how many are left."""
    reserve = _length(t("relay-unread-more", count=unread.total)) + 2  # the closing line, at most this long
    blocks: list[str] = []
    shown: list[int] = []
    used = reserve
    for group in unread.groups:
        lines: list[str] = []
        for item in group.items:
            line = render_line(t, item.author, item.message)
            cost = _length(line) + 1
            if not lines:  # the group's title (with a count no longer than the group's) and a blank line
                cost += _length(_unread_title(t, group, len(group.items))) + 2
            if used + cost > limit and shown:
                break
            lines.append(line)
            shown.append(item.copy_id)
            used += cost
        if lines:
            blocks.append("\n".join([_unread_title(t, group, len(lines)), *lines]))
        if len(lines) < len(group.items):
            break
    left = unread.total - len(shown)
    if left > 0:
        blocks.append(t("relay-unread-more", count=left))
    return "\n\n".join(blocks), shown


async def unread(message: Message, user: User, services: Services, t: Texts) -> None:
    await _send_unread(message, user, services.relay, t)


async def unread_more(query: CallbackQuery, user: User, services: Services, t: Texts) -> None:
    await query.answer()
    # Only into the presser's own chat with the bot: the page is theirs.
    if isinstance(query.message, Message) and query.message.chat.id == query.from_user.id:
        await _send_unread(query.message, user, services.relay, t)


async def _send_unread(message: Message, user: User, relay: RelayService, t: Texts) -> None:
    """One page of /unread (Telegram refuses a message over its length limit), with a button for the
    next while more is left. Only what was sent is marked read: a page Telegram refused stays unread."""
    found = await relay.unread(user)
    if not found.groups:
        await message.answer(t("relay-unread-none"))
        await relay.mark_read(user, found.gone)
        return
    text, shown = unread_page(t, found)
    more = None
    if len(shown) < found.total:
        kb = InlineKeyboardBuilder()
        kb.button(text=t.plain("relay-btn-unread-more"), callback_data=UnreadMore())
        more = kb.as_markup()
    await message.answer(text, reply_markup=more)
    await relay.mark_read(user, [*found.gone, *shown])


async def status(message: Message, user: User, services: Services, t: Texts) -> None:
    s = await services.relay.status(user)
    card = await services.moderation.user_card(user)
    ban = card.ban
    target = target_name(t, s.target)
    await message.answer(
        t(
            "relay-status",
            now=t.clock_time(s.now),
            zone=t.zone_label(),
            members=s.members,
            common=1 if s.in_common else 0,
            paused=1 if s.paused else 0,
            target=target,
            used=s.usage.used,
            limit=s.usage.limit,
            reset=s.usage.resets_at,
            warnings=card.warnings,
            banned=ban.until if ban else "—",
            has_ban=1 if ban else 0,
        )
    )


async def who(message: Message, user: User, services: Services, t: Texts) -> None:
    people = [p for p in await services.relay.who() if p.id != user.id]
    if not people:
        await message.answer(t("relay-who-none"))
        return
    kb = InlineKeyboardBuilder()
    for person in people:
        kb.button(text=t.plain("relay-btn-dm-name", name=person.display_name), callback_data=DmUser(user_id=person.id))
    kb.adjust(2)
    await message.answer(t("relay-who", count=len(people)), reply_markup=kb.as_markup())


async def announce_target(message: Message, t: Texts, target: Target) -> None:
    if target.peer is not None:
        text = t("relay-now-private", name=target.peer.display_name)
    elif target.room is not None:
        text = t("relay-now-room", title=target.room.title)
    else:
        text = t("relay-now-common")
    await message.answer(text, reply_markup=target_keyboard(t, target))


async def dm(message: Message, command: CommandObject, user: User, services: Services, t: Texts) -> None:
    if not command.args:
        await message.answer(t("relay-dm-usage"))
        return
    await announce_target(message, t, await services.relay.open_private_by_name(user, command.args))


async def dm_button(query: CallbackQuery, callback_data: DmUser, user: User, services: Services, t: Texts) -> None:
    target = await services.relay.open_private_from_who(user, callback_data.user_id)
    await query.answer()
    if isinstance(query.message, Message):
        await announce_target(query.message, t, target)


async def reply_privately(
    query: CallbackQuery, callback_data: MessageAction, user: User, services: Services, t: Texts
) -> None:
    target = await services.relay.open_private_with_author(user, callback_data.message_id)
    await query.answer()
    if isinstance(query.message, Message):
        await announce_target(query.message, t, target)


async def common(message: Message, user: User, services: Services, t: Texts) -> None:
    await announce_target(message, t, await services.relay.back_to_common(user))


async def block(message: Message, command: CommandObject, user: User, services: Services, t: Texts) -> None:
    if command.args:
        peer = await services.relay.block_by_name(user, command.args)
    elif message.reply_to_message is not None:
        found = await services.relay.find_by_copy(message.chat.id, message.reply_to_message.message_id)
        if found is None:
            await message.answer(t("relay-block-usage"))
            return
        peer = await services.relay.block_author(user, found.relay_message_id)
    else:
        await message.answer(t("relay-block-usage"))
        return
    await message.answer(t("relay-blocked", name=peer.display_name))


async def block_button(
    query: CallbackQuery, callback_data: MessageAction, user: User, services: Services, t: Texts
) -> None:
    peer = await services.relay.block_author(user, callback_data.message_id)
    await query.answer(t.plain("relay-blocked", name=peer.display_name), show_alert=True)


async def unblock(message: Message, command: CommandObject, user: User, services: Services, t: Texts) -> None:
    if not command.args:
        await message.answer(t("relay-unblock-usage"))
        return
    peer = await services.relay.unblock_by_name(user, command.args)
    await message.answer(t("relay-unblocked", name=peer.display_name))


async def delete(message: Message, user: User, services: Services, t: Texts) -> None:
    if message.reply_to_message is None:
        await message.answer(t("relay-delete-usage"))
        return
    count = await services.relay.delete_own(user, message.reply_to_message.message_id)
    await message.answer(t("relay-deleted", count=count))


async def schedule(message: Message, command: CommandObject, user: User, services: Services, t: Texts) -> None:
    if not command.args:
        await message.answer(t("relay-schedule-usage"))
        return
    item = await services.relay.schedule(user, command.args, t.tz)
    await message.answer(t("relay-scheduled-ok", when=item.due_at))


async def scheduled(message: Message, user: User, services: Services, t: Texts) -> None:
    items = await services.relay.scheduled(user)
    if not items:
        await message.answer(t("relay-scheduled-none"))
        return
    kb = InlineKeyboardBuilder()
    lines = [t("relay-scheduled-title", count=len(items))]
    for n, item in enumerate(items, 1):
        excerpt = html.escape(html.unescape(item.text)[:80], quote=False)  # never cut inside an entity
        lines.append(f"{n}. {t.moment(item.due_at)} — {excerpt}")
        kb.button(text=t.plain("relay-btn-cancel", n=n), callback_data=CancelScheduled(item_id=item.id))
    kb.adjust(3)
    await message.answer("\n".join(lines), reply_markup=kb.as_markup())


async def cancel_scheduled(
    query: CallbackQuery, callback_data: CancelScheduled, user: User, services: Services, t: Texts
) -> None:
    await services.relay.cancel_scheduled(user, callback_data.item_id)
    await query.answer(t.plain("relay-scheduled-cancelled"))
    if isinstance(query.message, Message):
        items = await services.relay.scheduled(user)
        text = t("relay-scheduled-cancelled") if not items else t("relay-scheduled-left", count=len(items))
        await query.message.edit_text(text)


async def set_limit(message: Message, command: CommandObject, services: Services, t: Texts) -> None:
    parts = (command.args or "").split()
    if not parts:
        limits = await services.relay.limits()
        await message.answer(
            t("relay-setlimit-usage", limit=limits.per_period, minutes=int(limits.period.total_seconds() // 60))
        )
        return
    try:
        per_period = int(parts[0])
        period = timedelta(minutes=int(parts[1].rstrip("m"))) if len(parts) > 1 else None
    except ValueError:
        raise LimitValueInvalid() from None
    limits = await services.relay.set_limits(per_period, period)
    await message.answer(
        t("relay-setlimit-done", limit=limits.per_period, minutes=int(limits.period.total_seconds() // 60))
    )


async def relay(
    message: Message,
    user: User,
    relay_batch: RelayQueue,
    touch: dict[int, dict[str, Any]],
    t: Texts,
) -> None:
    result = await relay_batch.relay(user.id, incoming(message), touch)
    if result.duplicate or result.message_id is None:
        return
    if result.recipients == 0 and result.held == 0:
        key = "relay-peer-unreachable" if result.peer is not None else "relay-nobody"
        await message.answer(t("room-nobody" if result.chat == "room" else key))


async def edited(message: Message, user: User | None, services: Services) -> None:
    if user is not None:  # the service decides whether the edit is mirrored (signed in, not banned)
        await services.relay.submit([Submission(user.id, incoming(message), edit=True)])
