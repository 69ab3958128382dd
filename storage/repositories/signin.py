"""Sign-in by SMS code: daily quotas (atomic, shared by every instance) and takeovers awaiting an answer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast

from sqlalchemy import Table, bindparam, delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import Executable

from storage.db import Prebuilt, dialect_insert
from storage.models import PhoneTakeover, SignInQuota

QuotaKind = Literal["codes", "failures"]

_QUOTAS = cast(Table, SignInQuota.__table__)


def _take(kind: QuotaKind) -> Prebuilt[Executable]:
    column = _QUOTAS.c[kind]
    return Prebuilt(
        lambda dialect: (
            dialect_insert(dialect, _QUOTAS)
            .values({"subject": bindparam("subject"), "day": bindparam("day"), "codes": 0, "failures": 0, kind: 1})
            .on_conflict_do_update(
                index_elements=[_QUOTAS.c.subject, _QUOTAS.c.day],
                set_={kind: column + 1},
                where=column < bindparam("cap"),
            )
            .returning(column)
        )
    )


_TAKE = {"codes": _take("codes"), "failures": _take("failures")}


class SignInQuotaRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take(self, subject: str, day: datetime, kind: QuotaKind, cap: int) -> bool:
        """Count one more for the subject's day unless it is at `cap` already (one statement: it holds
        across concurrent updates and instances). False: the cap is reached, nothing was counted."""
        statement = _TAKE[kind](self.session)
        taken = await self.session.scalar(statement, {"subject": subject, "day": day, "cap": cap})
        return taken is not None

    async def give_back(self, subject: str, day: datetime, kind: QuotaKind) -> None:
        column = _QUOTAS.c[kind]
        await self.session.execute(
            update(_QUOTAS)
            .where(_QUOTAS.c.subject == subject, _QUOTAS.c.day == day, column > 0)
            .values({kind: column - 1})
        )

    async def purge_before(self, day: datetime) -> None:
        await self.session.execute(delete(_QUOTAS).where(_QUOTAS.c.day < day))


class PhoneTakeoverRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, takeover: PhoneTakeover) -> PhoneTakeover:
        self.session.add(takeover)
        await self.session.flush()
        return takeover

    async def get(self, takeover_id: int) -> PhoneTakeover | None:
        return await self.session.get(PhoneTakeover, takeover_id)

    async def decide(self, takeover_id: int, decision: str, now: datetime) -> bool:
        """Record the answer once: False when it was answered already (a second press, a concurrent one)."""
        decided = await self.session.scalar(
            update(PhoneTakeover)
            .where(PhoneTakeover.id == takeover_id, PhoneTakeover.decided_at.is_(None))
            .values(decided_at=now, decision=decision)
            .returning(PhoneTakeover.id)
            .execution_options(synchronize_session=False)
        )
        return decided is not None

    async def purge_before(self, moment: datetime) -> None:
        """Forget answered and expired requests older than `moment`."""
        await self.session.execute(
            delete(PhoneTakeover).where(or_(PhoneTakeover.decided_at < moment, PhoneTakeover.expires_at < moment))
        )
