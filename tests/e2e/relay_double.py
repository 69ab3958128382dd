"""A stand-in for the relay in moderation tests: it "relays" a message by putting a copy with a
Report button into a reader's chat, and answers the two seams moderation asks the relay about."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from handlers.keyboards import MessageAction
from services.moderation import RelayedMessage
from storage.models import User
from tests.e2e.harness import Harness, Person
from tests.fakes.telegram import ChatMessage


@dataclass
class FakeRelay:
    harness: Harness
    messages: dict[int, RelayedMessage] = field(default_factory=dict)
    copies: dict[tuple[int, int], int] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    readers: dict[int, set[int]] = field(default_factory=dict)  # relay id -> users.id of the readers
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def bind(self, *, remover: bool = False) -> FakeRelay:
        ctx = self.harness.app.ctx
        ctx.relay_lookup = lambda session: self
        if remover:
            ctx.message_remover = lambda session: self
        return self

    # the seams
    async def find(self, relay_message_id: int) -> RelayedMessage | None:
        return self.messages.get(relay_message_id)

    async def find_by_copy(self, chat_id: int, message_id: int) -> RelayedMessage | None:
        relay_id = self.copies.get((chat_id, message_id))
        return self.messages.get(relay_id) if relay_id is not None else None

    async def reached(self, relay_message_id: int, user_id: int) -> bool:
        message = self.messages.get(relay_message_id)
        return message is not None and (
            message.author_id == user_id or user_id in self.readers.get(relay_message_id, set())
        )

    async def delete_everywhere(self, relay_message_id: int) -> bool:
        if relay_message_id in self.deleted:
            return False
        self.deleted.add(relay_message_id)
        for (chat_id, message_id), relay_id in self.copies.items():
            if relay_id == relay_message_id and (copy := self.harness.tg.find(chat_id, message_id)) is not None:
                copy.deleted = True
        return True

    # scripting
    async def relay(self, author: Person, text: str, *readers: Person) -> tuple[int, dict[int, ChatMessage]]:
        """`author` wrote `text`; each reader got a copy with a Report button. Returns the relay id and copies."""
        tg = self.harness.tg
        origin = tg.add_message(author.id, False, {"from": author.fake.profile, "text": text})
        relay_id = next(self._ids)
        self.messages[relay_id] = RelayedMessage(
            relay_id, await user_id(self.harness, author), author.id, origin.message_id, text
        )
        copies: dict[int, ChatMessage] = {}
        for reader in readers:
            markup: dict[str, Any] = {
                "inline_keyboard": [
                    [{"text": "🚩 Report", "callback_data": MessageAction(action="report", message_id=relay_id).pack()}]
                ]
            }
            copy = tg.add_message(reader.id, True, {"text": f"{author.first_name}: {text}", "reply_markup": markup})
            self.copies[(reader.id, copy.message_id)] = relay_id
            self.readers.setdefault(relay_id, set()).add(await user_id(self.harness, reader))
            copies[reader.id] = copy
        return relay_id, copies


async def db_user(harness: Harness, person: Person) -> User:
    async with harness.app.ctx.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == person.id))
    assert user is not None, person.first_name
    return user


async def user_id(harness: Harness, person: Person) -> int:
    return (await db_user(harness, person)).id
