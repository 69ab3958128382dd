"""`storage.db.get_row`: a row the session holds comes back without a statement, as `session.get` gives
it; a row it does not hold, or holds expired, is read."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import FakeClock
from storage.db import get_row
from storage.models import Member, User
from tests.services.helpers import record_statements, signed_in_user


async def test_held_rows_need_no_statement_others_are_read(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    async with sessionmaker() as session:
        user = await signed_in_user(session, clock)
        session.add(Member(user_id=user.id, in_common=True, paused=False, target_kind="common"))
        await session.commit()
    selects = record_statements(sessionmaker, lambda statement: statement.lstrip().upper().startswith("SELECT"))
    async with sessionmaker() as session:
        member = await get_row(session, Member, user.id)  # not held: read
        assert member is not None
        assert len(selects) == 1
        gets = 0
        plain_get = session.get

        async def counted_get(*args: Any, **kwargs: Any) -> Any:
            nonlocal gets
            gets += 1
            return await plain_get(*args, **kwargs)

        session.get = counted_get  # type: ignore[method-assign]
        assert await get_row(session, Member, user.id) is member  # held: no statement, not even session.get
        assert gets == 0
        assert await get_row(session, User, user.id) is not None  # another model, same key: read
        assert len(selects) == 2
        assert await get_row(session, Member, user.id + 1000) is None  # no such row: read
        assert len(selects) == 3
        session.expire(member)
        again = await get_row(session, Member, user.id)  # held but expired: read again, as session.get does
        assert again is member
        assert len(selects) == 4
        assert gets == 3
