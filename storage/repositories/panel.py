"""The staff panel's rows (login links, sessions) and the read-only queries behind its pages."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, func, literal, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    AuditEntry,
    Ban,
    GmfyEvent,
    InviteCode,
    Member,
    Outgoing,
    PanelLogin,
    PanelSession,
    RateLimitHits,
    Referral,
    RelayMessage,
    Report,
    Room,
    RoomMember,
    User,
    UTCDateTime,
    WarningEntry,
)
from storage.sqlite_fast import in_thread


class PanelLoginRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, login: PanelLogin) -> PanelLogin:
        self.session.add(login)
        await self.session.flush()
        return login

    async def get(self, login_id: int) -> PanelLogin | None:
        return await self.session.get(PanelLogin, login_id)

    async def use(self, login_id: int, now: datetime) -> bool:
        """Mark the link used; False when it was used (or expired) already: of two clicks, one wins."""
        result: Any = await self.session.execute(
            update(PanelLogin)
            .where(PanelLogin.id == login_id, PanelLogin.used_at.is_(None), PanelLogin.expires_at > now)
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)


async def purge_panel_rows(session: AsyncSession, before: datetime) -> int:
    """Login links and sessions that ended (expired, used, signed out) before `before`."""
    removed = 0
    for query in (
        delete(PanelLogin).where(PanelLogin.expires_at < before),
        delete(PanelSession).where(or_(PanelSession.expires_at < before, PanelSession.ended_at < before)),
    ):
        result: Any = await session.execute(query)
        removed += int(result.rowcount or 0)
    return removed


class PanelSessionRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: PanelSession) -> PanelSession:
        self.session.add(row)
        await self.session.flush()
        return row

    async def live(self, token_hash: str, now: datetime) -> PanelSession | None:
        return await self.session.scalar(
            select(PanelSession).where(
                PanelSession.token_hash == token_hash, PanelSession.ended_at.is_(None), PanelSession.expires_at > now
            )
        )

    async def end_for(self, user_id: int, now: datetime) -> int:
        """End every open session of this user (logout everywhere, a ban, the moderator role taken)."""
        result: Any = await self.session.execute(
            update(PanelSession)
            .where(PanelSession.user_id == user_id, PanelSession.ended_at.is_(None))
            .values(ended_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)


class OverviewRepo:
    """Counts by time for the overview page; each is one indexed statement."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _scalar(self, query: Select[Any]) -> int:
        return int(await self.session.scalar(in_thread(query)) or 0)  # counts that scan: not in the event loop

    async def members(self) -> int:
        return await self._scalar(select(func.count()).select_from(User).where(User.signed_in_at.is_not(None)))

    async def active_since(self, since: datetime) -> int:
        return await self._scalar(select(func.count()).select_from(User).where(User.last_seen_at >= since))

    async def bans_in_force(self, now: datetime) -> int:
        return await self._scalar(select(func.count()).select_from(Ban).where(Ban.lifted_at.is_(None), Ban.until > now))

    async def open_reports(self) -> int:
        return await self._scalar(select(func.count()).select_from(Report).where(Report.status == "open"))

    async def counts_between(self, column: Any, edges: Sequence[datetime]) -> list[int]:
        """How many rows have `column` in each [edges[i], edges[i+1]), in one statement: a range count
        on the column's index per bucket. (Grouping by an expression of the timestamp makes the database
        evaluate and sort it for every row: ten times slower over a million messages.)"""
        if len(edges) < 2:
            return []
        buckets = union_all(
            *(
                select(
                    literal(i).label("n"), literal(a, UTCDateTime()).label("a"), literal(b, UTCDateTime()).label("b")
                )
                for i, (a, b) in enumerate(itertools.pairwise(edges))
            )
        ).cte("buckets")
        count = (
            select(func.count())
            .select_from(column.class_)
            .where(column >= buckets.c.a, column < buckets.c.b)
            .correlate(buckets)
            .scalar_subquery()
        )
        rows = await self.session.execute(in_thread(select(buckets.c.n, count).order_by(buckets.c.n)))
        return [int(n or 0) for _, n in rows.all()]

    async def open_reports_stamp(self) -> str:
        """Changes whenever a complaint is filed or handled: how many are open and the newest open one."""
        count, newest = (
            await self.session.execute(select(func.count(), func.max(Report.id)).where(Report.status == "open"))
        ).one()
        return f"{count}-{newest or 0}"

    async def messages_between(self, edges: Sequence[datetime]) -> list[int]:
        return await self.counts_between(RelayMessage.created_at, edges)

    async def signups_between(self, edges: Sequence[datetime]) -> list[int]:
        return await self.counts_between(User.signed_in_at, edges)

    async def invites_between(self, edges: Sequence[datetime]) -> list[int]:
        return await self.counts_between(Referral.created_at, edges)

    async def reports_between(self, edges: Sequence[datetime]) -> list[int]:
        return await self.counts_between(Report.created_at, edges)

    async def gmfy_backlog(self) -> int:
        return await self._scalar(select(func.count()).select_from(GmfyEvent).where(GmfyEvent.status == "pending"))

    async def sends_since(self, since: datetime) -> int:
        """Messages sent since `since` by every instance's delivery worker (a range on ix_outgoing_sent_at)."""
        return await self._scalar(select(func.count()).select_from(Outgoing).where(Outgoing.sent_at >= since))


class RateLimitHitsRepo:
    """429 answers each instance counted (bot/live_counts.py, when there is no Redis)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, instance: str, hits: int, now: datetime) -> None:
        self.session.add(RateLimitHits(counted_at=now, instance=instance, hits=hits))
        await self.session.flush()

    async def since(self, since: datetime) -> int:
        return int(
            await self.session.scalar(select(func.sum(RateLimitHits.hits)).where(RateLimitHits.counted_at > since)) or 0
        )

    async def purge_before(self, before: datetime) -> None:
        await self.session.execute(delete(RateLimitHits).where(RateLimitHits.counted_at < before))


class MemberQueries:
    """Finding members for the panel's search and drawing their page."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_name(self, text: str, limit: int) -> list[User]:
        """Nicknames, generated names and @usernames that start with `text` (case as typed), newest first."""
        pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return list(
            await self.session.scalars(
                select(User)
                .where(
                    or_(
                        User.nickname.like(pattern, escape="\\"),
                        User.anon_name.like(pattern, escape="\\"),
                        User.username.like(pattern.removeprefix("@"), escape="\\"),
                    )
                )
                .order_by(User.id.desc())
                .limit(limit)
            )
        )

    async def invited_by(self, inviter_id: int, limit: int) -> list[User]:
        return list(
            await self.session.scalars(
                select(User)
                .join(Referral, Referral.invitee_id == User.id)
                .where(Referral.inviter_id == inviter_id)
                .order_by(Referral.id.desc())
                .limit(limit)
            )
        )

    async def count_invited_by(self, inviter_id: int) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).select_from(Referral).where(Referral.inviter_id == inviter_id)
            )
            or 0
        )

    async def inviter_of(self, invitee_id: int) -> User | None:
        return await self.session.scalar(
            select(User).join(Referral, Referral.inviter_id == User.id).where(Referral.invitee_id == invitee_id)
        )

    async def current_code(self, owner_id: int) -> str | None:
        return await self.session.scalar(
            select(InviteCode.code).where(InviteCode.owner_id == owner_id, InviteCode.revoked_at.is_(None))
        )

    async def warnings_of(self, user_id: int, limit: int) -> list[WarningEntry]:
        return list(
            await self.session.scalars(
                select(WarningEntry)
                .where(WarningEntry.user_id == user_id)
                .order_by(WarningEntry.id.desc())
                .limit(limit)
            )
        )

    async def bans_of(self, user_id: int, limit: int) -> list[Ban]:
        return list(
            await self.session.scalars(select(Ban).where(Ban.user_id == user_id).order_by(Ban.id.desc()).limit(limit))
        )

    async def in_common_chat(self, user_id: int) -> bool:
        member = await self.session.get(Member, user_id)
        return bool(member is not None and member.in_common)

    async def rooms_of(self, user_id: int, limit: int = 50) -> list[Room]:
        """The rooms this member is in (owners are members of their rooms)."""
        return list(
            await self.session.scalars(
                select(Room)
                .join(RoomMember, RoomMember.room_id == Room.id)
                .where(RoomMember.user_id == user_id, RoomMember.status == "member")
                .order_by(Room.title)
                .limit(limit)
            )
        )

    async def messages_of(self, user_id: int) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).select_from(RelayMessage).where(RelayMessage.author_id == user_id)
            )
            or 0
        )

    async def reports_against(self, user_id: int, limit: int) -> list[Report]:
        return list(
            await self.session.scalars(
                select(Report).where(Report.target_id == user_id).order_by(Report.id.desc()).limit(limit)
            )
        )

    async def message_kinds(self, relay_ids: Sequence[int]) -> dict[int, tuple[str, bool]]:
        """Each relayed message's kind (text, photo, ...) and whether it was deleted."""
        if not relay_ids:
            return {}
        rows = await self.session.execute(
            select(RelayMessage.id, RelayMessage.kind, RelayMessage.deleted_at).where(RelayMessage.id.in_(relay_ids))
        )
        return {int(i): (str(kind), deleted is not None) for i, kind, deleted in rows.all()}

    async def reporters_of(self, target_ids: Sequence[int]) -> dict[int, int]:
        """How many distinct members reported each of these (open reports)."""
        if not target_ids:
            return {}
        rows = await self.session.execute(
            select(Report.target_id, func.count(func.distinct(Report.reporter_id)))
            .where(Report.target_id.in_(target_ids), Report.status == "open")
            .group_by(Report.target_id)
        )
        return {int(t): int(n) for t, n in rows.all()}


class AuditQueries:
    """The audit log filtered by who, what and whom."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _where(actor_id: int | None, action: str | None, target_id: int | None) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if actor_id is not None:
            where.append(AuditEntry.actor_id == actor_id)
        if action:
            where.append(AuditEntry.action == action)
        if target_id is not None:
            where.append(AuditEntry.target_id == target_id)
        return where

    async def count(self, actor_id: int | None, action: str | None, target_id: int | None) -> int:
        where = self._where(actor_id, action, target_id)
        return int(await self.session.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0)

    async def page(
        self, actor_id: int | None, action: str | None, target_id: int | None, offset: int, limit: int
    ) -> list[AuditEntry]:
        where = self._where(actor_id, action, target_id)
        return list(
            await self.session.scalars(
                select(AuditEntry).where(*where).order_by(AuditEntry.id.desc()).offset(offset).limit(limit)
            )
        )

    def _export_query(self, where: list[ColumnElement[bool]]) -> Select[Any]:
        actor, target = aliased(User), aliased(User)
        return (
            select(
                AuditEntry.id,
                AuditEntry.created_at,
                AuditEntry.actor_id,
                func.coalesce(actor.nickname, actor.anon_name),
                AuditEntry.action,
                AuditEntry.target_id,
                func.coalesce(target.nickname, target.anon_name),
                AuditEntry.reason,
                AuditEntry.details,
            )
            .outerjoin(actor, actor.id == AuditEntry.actor_id)
            .outerjoin(target, target.id == AuditEntry.target_id)
            .where(*where)
            .order_by(AuditEntry.id.desc())
            .limit(bindparam("size"))
        )

    async def export(
        self, actor_id: int | None, action: str | None, target_id: int | None, limit: int, chunk: int = 2000
    ) -> AsyncIterator[list[tuple[Any, ...]]]:
        """Rows for the CSV, newest first, `chunk` at a time, as plain tuples with the names joined in: (id,
        created_at, actor_id, actor name, action, target_id, target name, reason, details). Each chunk is
        one statement that goes on below the last id seen (an index range, never an OFFSET), run as Core
        on the connection: no ORM rows, and the rows of a chunk are gone before the next is read (ten
        thousand rows held at once got promoted by the garbage collector and made a full collection)."""
        where = self._where(actor_id, action, target_id)
        first, after = self._export_query(where), self._export_query([*where, AuditEntry.id < bindparam("last")])
        connection = await self.session.connection()
        last: int | None = None
        left = limit
        while left > 0:
            size = min(chunk, left)
            query, params = (first, {"size": size}) if last is None else (after, {"size": size, "last": last})
            rows = [tuple(row) for row in (await connection.execute(query, params)).all()]
            if rows:
                yield rows
            if len(rows) < size:
                return
            last, left = rows[-1][0], left - len(rows)
