"""Per-update wiring: one user's updates one at a time, one unit of work (session + services + current
user + texts), its commit before every Bot API call. (The sign-in gate is the handlers' own: handlers/gate.py.)"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.dispatcher.flags import get_flag
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import TelegramObject
from aiogram.types import User as TgUser
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import AppContext
from bot.user_loader import UserLoader
from services.errors import DomainError
from services.signin import SignInService, TelegramProfile
from storage.db import has_work
from storage.models import User

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class OneAtATimeMiddleware(BaseMiddleware):
    """Updates are handled as concurrent tasks (polling and webhook alike); a user's own updates wait
    for each other here, in the order they arrived, so a burst (fast typing, an album's parts) is
    relayed in order and never races itself in the database. Other users are not held up."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}  # user -> (lock, updates holding or waiting)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        if tg_user is None:
            return await handler(event, data)
        key = tg_user.id
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:  # FIFO: waiters are woken in the order they came
                return await handler(event, data)
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    @property
    def users_in_flight(self) -> int:
        return len(self._locks)


# The unit of work of the update being handled, for the Bot API calls its handler makes (one per task
# context: each update is handled in a task of its own).
_CURRENT_UNIT: ContextVar[UnitOfWork | None] = ContextVar("current_unit_of_work", default=None)


class UnitOfWork:
    """The update's transaction. For a handler that writes elsewhere (flagged `batched`), `release()`
    ends it early (BatchedHandlerMiddleware): it commits, so the handler can wait on other
    transactions (the relay batch) without holding SQLite's write lock or PostgreSQL's row locks, and
    hands over the user's noted refresh (profile, last seen: see `SignInService.ensure_user`) for that
    other transaction to write. The update may go on using the session (a new transaction begins with
    its next statement)."""

    def __init__(self, session: AsyncSession, signin: SignInService) -> None:
        self.session = session
        self.signin = signin
        self.task = asyncio.current_task()  # the update's own task: the only one that may commit here
        self.committed_early = False  # work was committed before a Bot API call: it stands whatever follows

    async def release(self) -> dict[int, dict[str, Any]]:
        touch = self.signin.take_touch()
        await commit_if_begun(self.session)
        return touch

    @contextmanager
    def current(self) -> Iterator[UnitOfWork]:
        """Within this block, Bot API calls made in this context commit this unit first (CommitBeforeRequest)."""
        token = _CURRENT_UNIT.set(self)
        try:
            yield self
        finally:
            _CURRENT_UNIT.reset(token)

    async def commit_before_network(self) -> None:
        """Commit what the update did so far, before it waits on Telegram: a transaction held across a
        network call holds SQLite's one write lock (every other update's writes wait) or PostgreSQL's
        row locks, and whoever gets the message could not yet read what it is about (a report card
        before its report). Only from the update's own task (a task it started, such as the express
        lane's, inherits the context but must not touch the session), and not inside a savepoint
        (the block that opened it ends it)."""
        if asyncio.current_task() is not self.task or self.session.in_nested_transaction():
            return
        if await commit_if_begun(self.session):
            self.committed_early = True


class CommitBeforeRequest(BaseRequestMiddleware):
    """A middleware of the Bot's session: every Bot API call an update's handler makes (answers, edits,
    report cards, callback answers) first commits the update's transaction if it did anything
    (`UnitOfWork.commit_before_network`). One place, so no handler can forget it. Calls made outside
    an update (the delivery worker, scheduler jobs) pass straight through."""

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        unit = _CURRENT_UNIT.get()
        if unit is not None:
            await unit.commit_before_network()
        return await make_request(bot, method)


async def commit_if_begun(session: AsyncSession) -> bool:
    """Commit, unless no statement ran and nothing changed: then there is nothing to commit (the
    sender's row was read by the batched loader). Most relayed messages' units of work are such.
    True when it committed."""
    if not has_work(session):
        return False
    await session.commit()
    return True


class UnitOfWorkMiddleware(BaseMiddleware):
    """Opens one transaction per update; commits on success or on a domain refusal, else rolls back."""

    def __init__(self, ctx: AppContext, users: UserLoader | None = None) -> None:
        self.ctx = ctx
        self.users = users  # the senders' rows read in batches; without it, one query per update

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        ctx = self.ctx
        async with ctx.sessionmaker() as session:
            data["session"] = session
            services = data["services"] = ctx.services(session)  # each service built on first use
            tg_user: TgUser | None = data.get("event_from_user")
            user: User | None = None
            signin = services.signin
            if tg_user is not None and not tg_user.is_bot:
                user = await signin.ensure_user(
                    TelegramProfile(tg_user.id, tg_user.username, tg_user.first_name, tg_user.language_code),
                    read=self.users.load if self.users is not None else None,
                )
            data["user"] = user
            unit = data["unit_of_work"] = UnitOfWork(session, signin)
            data["is_admin"] = tg_user is not None and tg_user.id in ctx.settings.admin_ids
            data["t"] = ctx.translator.for_user(user, tg_user.language_code if tg_user else None)
            try:
                with unit.current():
                    result = await handler(event, data)
            except DomainError:
                await signin.save_touch()
                await commit_if_begun(session)
                raise
            except BaseException:
                await session.rollback()
                raise
            await signin.save_touch()
            await commit_if_begun(session)
            return result


BATCHED = "batched"  # the flag of a handler whose writes go through a batch's transaction (handlers.relay)


class BatchedHandlerMiddleware(BaseMiddleware):
    """A handler flagged `batched` (`flags={"batched": True}`) hands its work to a batch that writes in a
    transaction of its own (bot/relay_batch.py). Before it runs, the update's unit of work commits
    what it began (the handler then waits on the batch holding no lock) and gives the sender's noted
    refresh to the handler as `touch`, for the batch to write along. The handler manages no
    transaction; an inner middleware, after the sign-in gate, as flags are known only there."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if get_flag(data, BATCHED):
            unit: UnitOfWork = data["unit_of_work"]
            data["touch"] = await unit.release()
        return await handler(event, data)
