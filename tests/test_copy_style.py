"""The buttons under relayed copies are built as plain dicts (no pydantic models per message): they
must be exactly what aiogram's own types give, and valid Bot API markup."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Translator
from handlers.keyboards import MessageAction
from handlers.relay import TelegramCopyStyle
from storage.models import User


@pytest.mark.parametrize("language", ["en", "ru", None])
@pytest.mark.parametrize(("chat", "kind"), [("common", "text"), ("private", "photo"), ("common", "sticker")])
def test_markup_is_what_aiogram_builds(language: str | None, chat: str, kind: str) -> None:
    translator = Translator()
    style = TelegramCopyStyle(translator)
    author = User(id=7, telegram_id=70, anon_name="Quiet Owl", created_at=datetime.now(UTC))
    t = translator.texts(translator.pick(language, None))
    dm = t.plain("relay-btn-dm-name", name="Quiet Owl") if kind == "sticker" else t.plain("relay-btn-dm")
    buttons = [InlineKeyboardButton(text=dm, callback_data=MessageAction(action="dm", message_id=42).pack())]
    if chat == "private":
        block = MessageAction(action="block", message_id=42).pack()
        buttons.append(InlineKeyboardButton(text=t.plain("relay-btn-block"), callback_data=block))
    report = MessageAction(action="report", message_id=42).pack()
    buttons.append(InlineKeyboardButton(text=t.plain("relay-btn-report"), callback_data=report))
    expected = InlineKeyboardMarkup(inline_keyboard=[buttons]).model_dump(exclude_none=True)

    for _ in range(2):  # the second time from the cached labels
        built = style.markup(42, author, chat, language, kind)
        assert built == expected
        InlineKeyboardMarkup.model_validate(built)


@pytest.mark.parametrize("message_id", [0, 1, 42, 2**31 - 1])
@pytest.mark.parametrize("action", ["dm", "block", "report"])
def test_packed_is_what_pack_gives(action: str, message_id: int) -> None:
    packed = MessageAction.packed(action, message_id)
    assert packed == MessageAction(action=action, message_id=message_id).pack()
    assert MessageAction.unpack(packed) == MessageAction(action=action, message_id=message_id)


@pytest.mark.parametrize(("action", "message_id"), [("dm", -1), ("dm", 2**31), ("a:b", 1)])
def test_packed_refuses_what_pack_refuses(action: str, message_id: int) -> None:
    with pytest.raises(ValueError):  # noqa: PT011  (pydantic's ValidationError or aiogram's ValueError)
        MessageAction.packed(action, message_id)
