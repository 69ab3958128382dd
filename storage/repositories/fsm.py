"""FSM state rows (storage/models/fsm.py), one per chat and user; a row with neither state nor data goes."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import upsert
from storage.models import FsmState

EMPTY = "{}"


class FsmRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str) -> tuple[str | None, str]:
        """The state and the data (JSON) under `key`; (None, "{}") when there is none."""
        row = (await self.session.execute(select(FsmState.state, FsmState.data).where(FsmState.key == key))).first()
        return (row.state, row.data) if row is not None else (None, EMPTY)

    async def set_state(self, key: str, state: str | None) -> None:
        await self._put(key, state=state)

    async def set_data(self, key: str, data: str) -> None:
        await self._put(key, data=data)

    async def _put(self, key: str, **values: str | None) -> None:
        # One statement, race-free across instances: insert, or change only the given column.
        insert = upsert(self.session, FsmState).values(key=key, **{"state": None, "data": EMPTY, **values})
        await self.session.execute(insert.on_conflict_do_update(index_elements=[FsmState.key], set_=values))
        await self.session.execute(
            delete(FsmState)
            .where(FsmState.key == key, FsmState.state.is_(None), FsmState.data == EMPTY)
            .execution_options(synchronize_session=False)
        )
