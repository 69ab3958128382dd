"""Reports, warnings, bans, moderators and the audit log."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import padded, sqlite_write_lock_first, upsert
from storage.models import AuditEntry, Ban, Moderator, Report, User, WarningEntry
from storage.sqlite_fast import in_thread


class ReportRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, report: Report) -> Report:
        self.session.add(report)
        await self.session.flush()
        return report

    async def by_id(self, report_id: int) -> Report | None:
        return await self.session.get(Report, report_id)

    async def latest_between(self, reporter_id: int, target_id: int, since: datetime) -> Report | None:
        """The reporter's newest report of the target made after `since`."""
        return await self.session.scalar(
            select(Report)
            .where(Report.reporter_id == reporter_id, Report.target_id == target_id, Report.created_at > since)
            .order_by(Report.created_at.desc(), Report.id.desc())
            .limit(1)
        )

    async def count_open(self) -> int:
        return (
            await self.session.scalar(
                in_thread(select(func.count()).select_from(Report).where(Report.status == "open"))
            )
            or 0
        )

    async def count_since(self, since: datetime) -> int:
        query = in_thread(select(func.count()).select_from(Report).where(Report.created_at >= since))
        return await self.session.scalar(query) or 0

    async def count_against(self, target_id: int) -> int:
        query = select(func.count()).select_from(Report).where(Report.target_id == target_id)
        return await self.session.scalar(query) or 0

    async def page_open(self, offset: int, limit: int) -> list[Report]:
        return list(
            await self.session.scalars(
                select(Report)
                .where(Report.status == "open")
                .order_by(Report.created_at.desc(), Report.id.desc())
                .offset(offset)
                .limit(limit)
            )
        )

    async def close(self, report_id: int, status: str, handled_by: int | None, now: datetime) -> bool:
        """Move an open report to `status`; False when it was no longer open (someone else was faster)."""
        result = await self.session.execute(
            update(Report)
            .where(Report.id == report_id, Report.status == "open")
            .values(status=status, handled_by=handled_by, handled_at=now)
            .execution_options(synchronize_session="fetch")
        )
        return bool(getattr(result, "rowcount", 0))


class WarningRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, warning: WarningEntry) -> WarningEntry:
        self.session.add(warning)
        await self.session.flush()
        return warning

    @staticmethod
    def _active(user_id: int) -> Any:
        return (WarningEntry.user_id == user_id) & WarningEntry.revoked_at.is_(None) & WarningEntry.ban_id.is_(None)

    async def count_active(self, user_id: int) -> int:
        query = select(func.count()).select_from(WarningEntry).where(self._active(user_id))
        return await self.session.scalar(query) or 0

    async def count_all(self, user_id: int) -> int:
        query = select(func.count()).select_from(WarningEntry).where(WarningEntry.user_id == user_id)
        return await self.session.scalar(query) or 0

    async def count_since(self, since: datetime) -> int:
        query = in_thread(select(func.count()).select_from(WarningEntry).where(WarningEntry.created_at >= since))
        return await self.session.scalar(query) or 0

    async def use_up(self, user_id: int, ban_id: int) -> None:
        """Mark the user's active warnings as spent on this ban: the count starts again from zero."""
        await self.session.execute(update(WarningEntry).where(self._active(user_id)).values(ban_id=ban_id))

    async def revoke_for_report(self, report_id: int, now: datetime) -> bool:
        """Revoke the warning a report gave, if it still counts (not yet spent on a ban)."""
        result = await self.session.execute(
            update(WarningEntry)
            .where(
                WarningEntry.report_id == report_id,
                WarningEntry.revoked_at.is_(None),
                WarningEntry.ban_id.is_(None),
            )
            .values(revoked_at=now)
        )
        return bool(getattr(result, "rowcount", 0))


# Built once: the relay batch asks it for every batch.
_ACTIVE_AMONG = (
    select(Ban.user_id, func.max(Ban.until))
    .where(
        Ban.user_id.in_(bindparam("ids", expanding=True)),
        Ban.lifted_at.is_(None),
        Ban.until > bindparam("now", type_=Ban.until.type),
    )
    .group_by(Ban.user_id)
)


# The first key of the PostgreSQL advisory lock that `BanRepo.hold` takes (the second is the user id).
_MODERATION_LOCK = 0x6D6F64  # "mod"
_HOLD = text("SELECT pg_advisory_xact_lock(:space, :user_id)")


class BanRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def hold(self, user_id: int) -> None:
        """Until this transaction ends, no other transaction moderates this user: two staff members
        (or two reports) at once on two instances would both read "not banned" or "two warnings" and
        both ban. On PostgreSQL an advisory lock (a lock of its own: no row is locked, so it waits on
        nothing else). SQLite lets one writer at a time in: the transaction takes the write lock here,
        before its reads, so a second one reads after the first committed."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(_HOLD, {"space": _MODERATION_LOCK, "user_id": user_id})
        else:
            await sqlite_write_lock_first(self.session, User, user_id)

    async def add(self, ban: Ban) -> Ban:
        self.session.add(ban)
        await self.session.flush()
        return ban

    async def active_for(self, user_id: int, now: datetime) -> Ban | None:
        return await self.session.scalar(
            select(Ban)
            .where(Ban.user_id == user_id, Ban.lifted_at.is_(None), Ban.until > now)
            .order_by(Ban.until.desc())
            .limit(1)
        )

    async def active_among(self, user_ids: Collection[int], now: datetime) -> dict[int, datetime]:
        """The users among these under a ban now, with when their last ban in force ends."""
        if not user_ids:
            return {}
        rows = await self.session.execute(_ACTIVE_AMONG, {"ids": padded(user_ids), "now": now})
        return {user_id: until for user_id, until in rows.all()}

    async def count_for(self, user_id: int) -> int:
        return await self.session.scalar(select(func.count()).select_from(Ban).where(Ban.user_id == user_id)) or 0

    async def count_active(self, now: datetime) -> int:
        query = in_thread(select(func.count()).select_from(Ban).where(Ban.lifted_at.is_(None), Ban.until > now))
        return await self.session.scalar(query) or 0

    async def due(self, now: datetime, limit: int = 500) -> list[tuple[Ban, User]]:
        """Bans whose time is over but which are not marked lifted yet, with their users."""
        rows = await self.session.execute(
            select(Ban, User)
            .join(User, User.id == Ban.user_id)
            .where(Ban.lifted_at.is_(None), Ban.until <= now)
            .order_by(Ban.until, Ban.id)
            .limit(limit)
        )
        return [(ban, user) for ban, user in rows.all()]

    async def lift(self, ban_id: int, now: datetime, lifted_by: int | None) -> bool:
        """Mark one ban lifted; False when another worker (or an admin) did it first."""
        result = await self.session.execute(
            update(Ban)
            .where(Ban.id == ban_id, Ban.lifted_at.is_(None))
            .values(lifted_at=now, lifted_by=lifted_by)
            .execution_options(synchronize_session="fetch")
        )
        return bool(getattr(result, "rowcount", 0))


class ModeratorRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> Moderator | None:
        return await self.session.scalar(select(Moderator).where(Moderator.user_id == user_id))

    async def add(self, moderator: Moderator) -> Moderator:
        self.session.add(moderator)
        await self.session.flush()
        return moderator

    async def grant(self, user_id: int, granted_by: int | None, at: datetime) -> bool:
        """Make the user a moderator; False when they are one already (also when another instance
        granted it at the same moment)."""
        added = await self.session.scalar(
            upsert(self.session, Moderator)
            .values(user_id=user_id, granted_by=granted_by, granted_at=at)
            .on_conflict_do_nothing(index_elements=[Moderator.user_id])
            .returning(Moderator.id)
        )
        return added is not None

    async def remove(self, moderator: Moderator) -> None:
        await self.session.delete(moderator)
        await self.session.flush()

    async def all_users(self) -> list[User]:
        return list(
            await self.session.scalars(
                select(User).join(Moderator, Moderator.user_id == User.id).order_by(Moderator.granted_at)
            )
        )

    async def count(self) -> int:
        return await self.session.scalar(in_thread(select(func.count()).select_from(Moderator))) or 0


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry: AuditEntry) -> AuditEntry:
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def count(self) -> int:
        return await self.session.scalar(in_thread(select(func.count()).select_from(AuditEntry))) or 0

    async def page(self, offset: int, limit: int) -> list[AuditEntry]:
        return list(
            await self.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).offset(offset).limit(limit))
        )

    async def for_target(self, target_id: int) -> list[AuditEntry]:
        return list(
            await self.session.scalars(
                select(AuditEntry).where(AuditEntry.target_id == target_id).order_by(AuditEntry.id)
            )
        )


class UserCounts:
    """Small counters over users for /stats."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def total(self) -> int:
        return await self.session.scalar(in_thread(select(func.count()).select_from(User))) or 0

    async def signed_in(self) -> int:
        query = in_thread(select(func.count()).select_from(User).where(User.phone.is_not(None)))
        return await self.session.scalar(query) or 0

    async def names(self, ids: set[int]) -> dict[int, User]:
        if not ids:
            return {}
        return {u.id: u for u in await self.session.scalars(select(User).where(User.id.in_(ids)))}
