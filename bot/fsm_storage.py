"""aiogram's FSM storage in the database, used when REDIS_URL is not set (with it: RedisStorage).

The in-memory storage lost what a handler kept between two updates at every restart (a room link
opened before sign-in was forgotten by the time the contact came in). Here it is a row in
`fsm_states`, which survives a restart and is shared by the instances using one PostgreSQL.

Inside an update the rows are read and written through that update's own session (its unit of work,
bot/middlewares.py): they commit or roll back with the update's work, and no second writer waits
for SQLite's one write lock held by the update. Outside one (aiogram reads the state before the
unit of work begins) a short session of its own.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, cast

from aiogram import Bot
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import _CURRENT_UNIT
from storage.repositories.fsm import FsmRepo


class DatabaseStorage(BaseStorage):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self.keys = DefaultKeyBuilder(prefix="fsm")

    @asynccontextmanager
    async def _repo(self) -> AsyncIterator[FsmRepo]:
        unit = _CURRENT_UNIT.get()
        if unit is not None:
            yield FsmRepo(unit.session)
            return
        async with self.sessionmaker() as session, session.begin():
            yield FsmRepo(session)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._repo() as repo:
            await repo.set_state(self.keys.build(key), value)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._repo() as repo:
            state, _ = await repo.get(self.keys.build(key))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._repo() as repo:
            await repo.set_data(self.keys.build(key), json.dumps(dict(data), ensure_ascii=False, sort_keys=True))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._repo() as repo:
            _, data = await repo.get(self.keys.build(key))
        return dict(json.loads(data))

    async def close(self) -> None:
        return None


class LazyStateMiddleware(FSMContextMiddleware):
    """aiogram's FSM middleware without its read of the state on every update (`raw_state`, which only
    `StateFilter` uses, and no handler here filters by state): handlers that keep data between two
    updates read it through `state` when they run, inside the update's unit of work. Reading it up front
    cost every update a statement of its own (about a quarter of a relayed message's CPU on SQLite)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        context = self.resolve_event_context(cast(Bot, data["bot"]), data)
        data["fsm_storage"] = self.storage
        if context is not None:
            data["state"] = context
        return await handler(event, data)
