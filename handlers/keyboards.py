"""Keyboards and callback-data factories shared by several features."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from bot.i18n import Texts

REMOVE_KEYBOARD = ReplyKeyboardRemove()

# A row's id in callback data (0: none). Forged data naming a row no table can hold (ids are 32-bit
# integers on PostgreSQL) fails the button's filter, and is answered as an expired button, instead of
# reaching the database.
ROW_ID_MAX = 2**31 - 1
RowId = Annotated[int, Field(ge=0, le=ROW_ID_MAX)]


def contact_keyboard(t: Texts) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=t.plain("signin-share-button"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


class Page(CallbackData, prefix="pg"):
    """A page button of a paged list; `list` names the list (`ref` = referrals, ...)."""

    list: str
    page: int


def pager(builder: InlineKeyboardBuilder, list_name: str, page: int, pages: int) -> None:
    """Adds a row ◀ n/m ▶ when there is more than one page."""
    if pages <= 1:
        return
    row: list[InlineKeyboardButton] = []
    if page > 0:
        row.append(InlineKeyboardButton(text="◀", callback_data=Page(list=list_name, page=page - 1).pack()))
    row.append(InlineKeyboardButton(text=f"{page + 1}/{pages}", callback_data=Page(list=list_name, page=page).pack()))
    if page < pages - 1:
        row.append(InlineKeyboardButton(text="▶", callback_data=Page(list=list_name, page=page + 1).pack()))
    builder.row(*row)


class MessageAction(CallbackData, prefix="msg"):
    """A button under a relayed copy (`report`, and the relay's own actions); `message_id` is the relay's id."""

    action: str
    message_id: RowId

    @classmethod
    def packed(cls, action: str, message_id: int) -> str:
        """What `MessageAction(action=..., message_id=...).pack()` gives, without building and dumping a
        model: every relayed copy carries two or three of these buttons."""
        sep = cls.__separator__
        if sep in action or not 0 <= message_id <= ROW_ID_MAX:
            return cls(action=action, message_id=message_id).pack()  # refused there, as before
        return f"{cls.__prefix__}{sep}{action}{sep}{message_id}"


TAKEOVER_TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"


class TakeoverAnswer(CallbackData, prefix="pto"):
    """The account's own Telegram allows or denies a sign-in (a code, a provider's phone) that would take it over."""

    id: RowId
    token: Annotated[str, Field(pattern=TAKEOVER_TOKEN_PATTERN)]
    allow: bool
