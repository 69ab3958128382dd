"""The chat rule, applied to every update before anything else touches it (`handlers.chats` says what
the admin chat may send; bot/app.py hands that to the middleware as an `AdminChatRule`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.types import Chat, ChatMemberRestricted, ChatMemberUpdated, TelegramObject, Update

from bot.context import AppContext
from bot.i18n import Texts
from storage.repositories.users import UserRepo

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
PRESENT = frozenset({ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.CREATOR})


@dataclass(frozen=True)
class AdminChatRule:
    """What the admin chat may send the bot, and how the bot leaves a chat it doesn't serve."""

    buttons: tuple[str, ...]  # callback-data prefixes of the buttons the bot puts there
    commands: Collection[str]  # staff commands answered there
    leave: Callable[[Bot, int, Texts], Awaitable[None]]  # say so once, then leave


def allowed_updates(dp: Dispatcher) -> list[str]:
    """The update types to ask Telegram for: those the routers handle, and `my_chat_member` (the bot
    added to a group), which ChatScopeMiddleware handles before any router."""
    return sorted({*dp.resolve_used_update_types(), "my_chat_member"})


def bot_is_in(change: ChatMemberUpdated) -> bool:
    member = change.new_chat_member
    return member.status in PRESENT or (isinstance(member, ChatMemberRestricted) and member.is_member)


class ChatScopeMiddleware(BaseMiddleware):
    """The bot works in private chats. From the admin chat it takes report-card buttons and, from staff,
    the staff commands whose answers hold no personal data; everything else from a group, supergroup or
    channel is dropped here: no relay, no answer, no account row, no transaction. Being an outer
    middleware on updates, ahead of every router, a new router cannot forget the rule. Added to a group
    it doesn't serve, the bot says so once and leaves."""

    def __init__(self, ctx: AppContext, rule: AdminChatRule) -> None:
        self.ctx = ctx
        self.rule = rule

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        if event.my_chat_member is not None:  # no router handles these (see `allowed_updates`)
            await self._membership_changed(event.my_chat_member, data["bot"])
            return None
        chat: Chat | None = data.get("event_chat")
        if chat is None or chat.type == ChatType.PRIVATE:  # private chats, and updates without a chat
            return await handler(event, data)
        if chat.id == self.ctx.settings.admin_chat_id and await self._meant_for_bot(event, data["bot"]):
            return await handler(event, data)
        return None

    async def _membership_changed(self, change: ChatMemberUpdated, bot: Bot) -> None:
        """Added to a group or channel other than the admin chat: say so once and leave. (In a private
        chat this is someone blocking or unblocking the bot: delivery learns that from 403s.)"""
        chat = change.chat
        if chat.type == ChatType.PRIVATE or chat.id == self.ctx.settings.admin_chat_id or not bot_is_in(change):
            return
        translator = self.ctx.translator
        await self.rule.leave(bot, chat.id, translator.texts(translator.pick(None, change.from_user.language_code)))

    async def _meant_for_bot(self, update: Update, bot: Bot) -> bool:
        if update.callback_query is not None:
            return (update.callback_query.data or "").startswith(self.rule.buttons)
        message = update.message
        if message is None or message.from_user is None or not (message.text or "").startswith("/"):
            return False
        assert message.text is not None
        command, _, mention = message.text.split(maxsplit=1)[0][1:].partition("@")
        if command not in self.rule.commands:
            return False
        if mention and mention.lower() != ((await bot.me()).username or "").lower():
            return False  # a command for another bot in the chat
        return await self._is_staff(message.from_user.id)

    async def _is_staff(self, telegram_id: int) -> bool:
        """Signed-in admins and moderators; anyone else in the admin chat gets no answer at all."""
        async with self.ctx.sessionmaker() as session:
            user = await UserRepo(session).by_telegram_id(telegram_id)
            return user is not None and user.signed_in and await self.ctx.moderation(session).is_moderator(user)
