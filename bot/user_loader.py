"""The users of concurrent updates read in one statement.

Every update starts by reading its sender's row (`SignInService.ensure_user`); under load that is
one statement per update, the costliest step after aiogram's own dispatch. Here the unit of work
asks for the row and the lookups that came in meanwhile are read together (`bot.batching.Coalescer`)
in a short session of their own; each update then takes its row into its own session without a
query (`UserRepo.adopt`). An update whose sender has no row yet gets None and adds it as before.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.batching import Coalescer
from storage.db import without_begin
from storage.models import User
from storage.repositories.users import UserRepo


class UserLoader(Coalescer[int, User | None]):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], max_batch: int = 200) -> None:
        super().__init__(max_batch)
        self.sessionmaker = sessionmaker

    async def load(self, telegram_id: int) -> User | None:
        """The row of this Telegram account, detached (for one session to adopt), or None."""
        return await self.submit(telegram_id)

    async def _handle(self, requests: list[int]) -> list[User | None]:
        found: list[User | None] = [None] * len(requests)
        remaining = list(enumerate(requests))
        # The read ends with the block's commit (nothing to write: on SQLite no statement at all), so
        # the session holds no connection when it closes (see storage.db.AppAsyncSession). On
        # PostgreSQL the read runs without BEGIN and COMMIT (`without_begin`): one round trip, not three.
        async with self.sessionmaker() as session, session.begin():
            await without_begin(session)
            repo = UserRepo(session)
            while remaining:  # an account asked for twice gets two objects: each goes to its own session
                first: dict[int, int] = {}
                later: list[tuple[int, int]] = []
                for i, telegram_id in remaining:
                    if telegram_id in first:
                        later.append((i, telegram_id))
                    else:
                        first[telegram_id] = i
                for user in await repo.by_telegram_ids(list(first)):
                    assert user.telegram_id is not None
                    found[first[user.telegram_id]] = user
                session.expunge_all()
                remaining = later
        return found
