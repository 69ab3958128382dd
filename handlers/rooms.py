"""Rooms (SPEC 5): /newroom, the invite link (`/start room_<token>`), the owner's Approve/Decline,
/rooms (switch, manage, leave), members and kick, a new link, close."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Texts, Translator
from bot.i18n.notices import notify_user
from handlers.keyboards import Page, RowId, contact_keyboard, pager
from handlers.relay import announce_target
from services.container import Services
from services.delivery import Outbox
from services.relay import Target
from services.rooms import LINK_PREFIX, RoomEntry, RoomService
from storage.models import Room, User
from storage.models.delivery import about_member


class RoomRequest(CallbackData, prefix="rq"):
    approve: bool
    id: RowId  # room_members.id


class RoomAction(CallbackData, prefix="rm"):
    action: str  # switch | manage | members | kick | rotate | close | close_yes | leave | common
    room_id: RowId
    user_id: RowId = 0


def router() -> Router:
    r = Router(name="rooms")
    r.message.register(
        open_link, CommandStart(deep_link=True, magic=F.args.startswith(LINK_PREFIX)), flags={"public": True}
    )
    r.message.register(new_room, Command("newroom"))
    r.message.register(rooms, Command("rooms"))
    r.callback_query.register(decide, RoomRequest.filter())
    r.callback_query.register(rooms_page, Page.filter(F.list == ROOMS_LIST))
    for action, handler in ACTIONS.items():
        r.callback_query.register(handler, RoomAction.filter(F.action == action))
    return r


async def room_link(bot: Bot, rooms: RoomService, room: Room) -> str:
    me = await bot.me()
    return f"https://t.me/{me.username}?start={rooms.link_payload(room)}"


def manage_keyboard(t: Texts, room: Room) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=t.plain("room-btn-members"), callback_data=RoomAction(action="members", room_id=room.id))
    kb.button(text=t.plain("room-btn-rotate"), callback_data=RoomAction(action="rotate", room_id=room.id))
    kb.button(text=t.plain("room-btn-close"), callback_data=RoomAction(action="close", room_id=room.id))
    kb.adjust(2, 1)
    return kb.as_markup()


async def new_room(
    message: Message, command: CommandObject, user: User, services: Services, t: Texts, bot: Bot
) -> None:
    if not (command.args or "").strip():
        await message.answer(t("room-new-usage"))
        return
    room = await services.rooms.create(user, command.args or "")
    link = await room_link(bot, services.rooms, room)
    await message.answer(t("room-created", title=room.title, link=link), reply_markup=manage_keyboard(t, room))
    await announce_target(message, t, Target("room", room=room))


PENDING_ROOM = "pending_room_link"


async def open_link(
    message: Message,
    command: CommandObject,
    user: User,
    services: Services,
    translator: Translator,
    t: Texts,
    state: FSMContext,
) -> None:
    if not user.signed_in:
        # Kept until sign-in: the join request is filed the moment the user has signed in.
        await state.update_data({PENDING_ROOM: command.args or ""})
        await message.answer(t("room-sign-in-first"), reply_markup=contact_keyboard(t))
        return
    await ask_to_join(message, user, command.args or "", services.rooms, services.outbox, translator, t)


async def join_pending_room(
    message: Message,
    user: User,
    state: FSMContext,
    rooms: RoomService,
    outbox: Outbox,
    translator: Translator,
    t: Texts,
) -> None:
    """After sign-in: the room link opened before it, if any."""
    data = await state.get_data()
    token = data.pop(PENDING_ROOM, None)
    if token is None:
        return
    await state.set_data(data)
    await ask_to_join(message, user, token, rooms, outbox, translator, t)


async def ask_to_join(
    message: Message, user: User, token: str, rooms: RoomService, outbox: Outbox, translator: Translator, t: Texts
) -> None:
    asked = await rooms.request_join(user, token)
    await message.answer(t("room-requested", title=asked.room.title))
    owner_texts = translator.for_user(asked.owner)
    kb = InlineKeyboardBuilder()
    kb.button(text=owner_texts.plain("room-btn-approve"), callback_data=RoomRequest(approve=True, id=asked.request.id))
    kb.button(text=owner_texts.plain("room-btn-decline"), callback_data=RoomRequest(approve=False, id=asked.request.id))
    if asked.owner.telegram_id is not None:
        await outbox.send_text(
            asked.owner.telegram_id,
            owner_texts("room-request", name=user.display_name, title=asked.room.title),
            reply_markup=kb.as_markup().model_dump(exclude_none=True),
            batch_key=about_member(user.id),  # it names the requester: their /forget_me erases it
        )


async def decide(
    query: CallbackQuery,
    callback_data: RoomRequest,
    user: User,
    services: Services,
    translator: Translator,
    t: Texts,
) -> None:
    decision = await services.rooms.decide(user, callback_data.id, callback_data.approve)
    name, title = decision.requester.display_name, decision.room.title
    key = "room-approved" if decision.approved else "room-declined"
    if isinstance(query.message, Message):
        await query.message.edit_text(t(f"{key}-owner", name=name, title=title))
    await query.answer()
    requester = decision.requester
    if decision.approved and requester.telegram_id is not None:
        theirs = translator.for_user(requester)
        kb = InlineKeyboardBuilder()
        kb.button(
            text=theirs.plain("room-btn-write", title=title),
            callback_data=RoomAction(action="switch", room_id=decision.room.id),
        )
        markup = kb.as_markup().model_dump(exclude_none=True)
        await services.outbox.send_text(requester.telegram_id, theirs(key, title=title), reply_markup=markup)
        return
    await notify_user(services.outbox, translator, requester, key, title=title)


ROOMS_LIST = "rooms"
ROOMS_PAGE_SIZE = 8


def rooms_view(t: Texts, entries: list[RoomEntry], page: int) -> tuple[str, InlineKeyboardMarkup]:
    """One page of /rooms: a switch button and a manage (owner) or leave button per room."""
    pages = max(1, -(-len(entries) // ROOMS_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = entries[page * ROOMS_PAGE_SIZE : (page + 1) * ROOMS_PAGE_SIZE]
    kb = InlineKeyboardBuilder()
    for entry in shown:
        room, count, is_owner, current = entry.room, entry.members, entry.is_owner, entry.current
        mark = "✓ " if current else ""
        kb.button(
            text=t.plain("room-btn-switch", title=f"{mark}{room.title}", count=count),
            callback_data=RoomAction(action="switch", room_id=room.id),
        )
        side = "manage" if is_owner else "leave"
        kb.button(text=t.plain(f"room-btn-{side}"), callback_data=RoomAction(action=side, room_id=room.id))
    kb.adjust(2)
    pager(kb, ROOMS_LIST, page, pages)
    kb.row(
        InlineKeyboardButton(
            text=t.plain("relay-btn-common"), callback_data=RoomAction(action="common", room_id=0).pack()
        )
    )
    return t("room-list", count=len(entries)), kb.as_markup()


async def rooms(message: Message, user: User, services: Services, t: Texts) -> None:
    entries = await services.rooms.my_rooms(user)
    if not entries:
        await message.answer(t("room-list-empty"))
        return
    text, markup = rooms_view(t, entries, 0)
    await message.answer(text, reply_markup=markup)


async def rooms_page(query: CallbackQuery, callback_data: Page, user: User, services: Services, t: Texts) -> None:
    entries = await services.rooms.my_rooms(user)
    await query.answer()
    if isinstance(query.message, Message) and entries:
        text, markup = rooms_view(t, entries, callback_data.page)
        await query.message.edit_text(text, reply_markup=markup)


# --- the room buttons: one handler per RoomAction.action ---------------------------------------------
def _message(query: CallbackQuery) -> Message | None:
    return query.message if isinstance(query.message, Message) else None


async def switch(query: CallbackQuery, callback_data: RoomAction, user: User, services: Services, t: Texts) -> None:
    room = await services.rooms.switch(user, callback_data.room_id)
    await query.answer()
    if (message := _message(query)) is not None:
        await announce_target(message, t, Target("room", room=room))


async def back_to_common(query: CallbackQuery, user: User, services: Services, t: Texts) -> None:
    target = await services.relay.back_to_common(user)
    await query.answer()
    if (message := _message(query)) is not None:
        await announce_target(message, t, target)


async def leave(query: CallbackQuery, callback_data: RoomAction, user: User, services: Services, t: Texts) -> None:
    room = await services.rooms.leave(user, callback_data.room_id)
    await query.answer(t.plain("room-left", title=room.title), show_alert=True)


async def manage(
    query: CallbackQuery, callback_data: RoomAction, user: User, services: Services, t: Texts, bot: Bot
) -> None:
    room, members = await services.rooms.members(user, callback_data.room_id)
    link = await room_link(bot, services.rooms, room)
    await query.answer()
    if (message := _message(query)) is not None:
        await message.answer(
            t("room-manage", title=room.title, link=link, count=len(members) + 1),
            reply_markup=manage_keyboard(t, room),
        )


async def members(query: CallbackQuery, callback_data: RoomAction, user: User, services: Services, t: Texts) -> None:
    room, people = await services.rooms.members(user, callback_data.room_id)
    await query.answer()
    if (message := _message(query)) is None:
        return
    if not people:
        await message.answer(t("room-members-none", title=room.title))
        return
    kb = InlineKeyboardBuilder()
    for member in people:
        kb.button(
            text=t.plain("room-btn-kick", name=member.display_name),
            callback_data=RoomAction(action="kick", room_id=room.id, user_id=member.id),
        )
    kb.adjust(1)
    await message.answer(t("room-members", title=room.title, count=len(people)), reply_markup=kb.as_markup())


async def kick(
    query: CallbackQuery,
    callback_data: RoomAction,
    user: User,
    services: Services,
    translator: Translator,
    t: Texts,
) -> None:
    room, kicked = await services.rooms.kick(user, callback_data.room_id, callback_data.user_id)
    await query.answer(t.plain("room-kicked-owner", name=kicked.display_name, title=room.title), show_alert=True)
    await notify_user(services.outbox, translator, kicked, "room-kicked", title=room.title)


async def rotate(
    query: CallbackQuery, callback_data: RoomAction, user: User, services: Services, t: Texts, bot: Bot
) -> None:
    room = await services.rooms.rotate(user, callback_data.room_id)
    await query.answer()
    if (message := _message(query)) is not None:
        await message.answer(t("room-rotated", title=room.title, link=await room_link(bot, services.rooms, room)))


async def close(query: CallbackQuery, callback_data: RoomAction, user: User, services: Services, t: Texts) -> None:
    room, _members = await services.rooms.members(user, callback_data.room_id)  # the owner's only
    kb = InlineKeyboardBuilder()
    kb.button(text=t.plain("room-btn-close-yes"), callback_data=RoomAction(action="close_yes", room_id=room.id))
    await query.answer()
    if (message := _message(query)) is not None:
        await message.answer(t("room-close-confirm", title=room.title), reply_markup=kb.as_markup())


async def close_confirmed(
    query: CallbackQuery,
    callback_data: RoomAction,
    user: User,
    services: Services,
    translator: Translator,
    t: Texts,
) -> None:
    room, people = await services.rooms.close(user, callback_data.room_id)
    await query.answer()
    if (message := _message(query)) is not None:
        await message.edit_text(t("room-closed-owner", title=room.title))
    for member in people:
        await notify_user(services.outbox, translator, member, "room-closed-notice", title=room.title)


# RoomAction.action -> its handler (an unknown action is a stale button: the fallback router answers it).
ACTIONS: dict[str, Callable[..., Awaitable[None]]] = {
    "switch": switch,
    "common": back_to_common,
    "leave": leave,
    "manage": manage,
    "members": members,
    "kick": kick,
    "rotate": rotate,
    "close": close,
    "close_yes": close_confirmed,
}
