"""Users, invite codes, referrals and sign-in codes."""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Boolean, Table, Update, bindparam, case, delete, func, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage.db import padded
from storage.models import InviteCode, PhoneCode, Referral, User

# Built once: the batched sender lookup runs on every update (see bot/user_loader.py).
_BY_TELEGRAM_IDS = select(User).where(User.telegram_id.in_(bindparam("ids", expanding=True)))
_BY_IDS = select(User).where(User.id.in_(bindparam("ids", expanding=True)))


@functools.lru_cache(maxsize=16)
def _touch_statement(names: tuple[str, ...], every_row: bool) -> Update:
    """UPDATE users SET these columns of the row `touched_id` (parameters `new_<column>`). Unless every row
    writes every one of them, each column is written only where `set_<column>` is true, and kept as
    stored elsewhere (the newest committed value under READ COMMITTED, not one this session read)."""
    table = cast(Table, User.__table__)
    values: dict[str, Any] = {}
    for name in names:
        new = bindparam(f"new_{name}", type_=table.c[name].type)
        values[name] = new if every_row else case((bindparam(f"set_{name}", type_=Boolean()), new), else_=table.c[name])
    return update(table).where(table.c.id == bindparam("touched_id")).values(values)


class UserRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def write_touches(self, users: Sequence[User], fields: Sequence[Mapping[str, Any]]) -> None:
        """Write these held users' refreshed columns (profile, last seen) with one statement (asyncpg: one
        round trip for all the rows), rows in id order, and show them in the users as stored. The ORM's
        flush sent an UPDATE a row on PostgreSQL (it checks each row's count, which asyncpg's executemany
        does not report): a relay batch of 60 authors seen a minute ago was 60 round trips.

        One statement, rows sorted by id: the row locks are taken in id order, as every other batch
        takes them, so two instances' batches touching A and B in opposite orders cannot deadlock (rows
        in arrival order, a statement per set of columns, could). A column the caller changed and did
        not write yet (pending) is left to the ORM's flush."""
        rows: list[tuple[int, dict[str, Any]]] = []
        for user, changed in zip(users, fields, strict=True):
            state = inspect(user)
            own = {k: v for k, v in changed.items() if not state.attrs[k].history.has_changes()}
            for name, value in changed.items():
                if name in own:
                    set_committed_value(user, name, value)
                else:
                    setattr(user, name, value)
            if own:
                rows.append((user.id, own))
        if not rows:
            return
        rows.sort(key=lambda row: row[0])
        names = tuple(sorted({name for _, own in rows for name in own}))
        every_row = all(len(own) == len(names) for _, own in rows)
        parameters: list[dict[str, Any]] = []
        for user_id, own in rows:
            row: dict[str, Any] = {"touched_id": user_id}
            for name in names:
                row[f"new_{name}"] = own.get(name)
                if not every_row:
                    row[f"set_{name}"] = name in own
            parameters.append(row)
        await self.session.execute(_touch_statement(names, every_row), parameters)

    async def by_id(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def by_telegram_id(self, telegram_id: int) -> User | None:
        return await self.session.scalar(select(User).where(User.telegram_id == telegram_id))

    async def by_telegram_ids(self, telegram_ids: list[int]) -> list[User]:
        return list((await self.session.scalars(_BY_TELEGRAM_IDS, {"ids": padded(telegram_ids)})).all())

    async def held_or_read(self, user_ids: Collection[int]) -> dict[int, User]:
        """These users: those the session holds (not expired) without a query, the rest in one."""
        found: dict[int, User] = {}
        missing: list[int] = []
        for user_id in user_ids:
            held = self.session.identity_map.get((User, (user_id,), None))
            if held is not None and not inspect(held).expired:
                found[user_id] = held
            else:
                missing.append(user_id)
        if missing:
            for user in await self.session.scalars(_BY_IDS, {"ids": padded(missing)}):
                found[user.id] = user
        return found

    def adopt(self, user: User) -> User:
        """A row read by another session (and detached from it), taken into this one without a query."""
        self.session.add(user)
        return user

    async def by_phone(self, phone: str, *, lock: bool = False) -> User | None:
        """The account with this phone. `lock`: its row locked until the transaction ends (PostgreSQL;
        one waits for a transaction writing it), and read as now committed even if the session holds it."""
        statement = select(User).where(User.phone == phone)
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(statement)

    async def by_username(self, username: str) -> User | None:
        return await self.session.scalar(select(User).where(func.lower(User.username) == username.lower()))

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user

    async def add_first_contact(self, user: User) -> User:
        """Add the row of a Telegram account seen for the first time, or, when another transaction added
        it meanwhile (two first updates handled at once, e.g. by two instances), return that row."""
        try:
            async with self.session.begin_nested():
                self.session.add(user)
        except IntegrityError:
            assert user.telegram_id is not None
            existing = await self.by_telegram_id(user.telegram_id)
            if existing is None:
                raise
            return existing
        return user

    async def delete(self, user: User) -> None:
        await self.session.delete(user)
        await self.session.flush()

    async def mark_inactive(self, telegram_id: int) -> None:
        await self.session.execute(update(User).where(User.telegram_id == telegram_id).values(is_active=False))

    async def count_signed_in(self) -> int:
        return await self.session.scalar(select(func.count()).select_from(User).where(User.phone.is_not(None))) or 0


class InviteCodeRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current_for(self, owner_id: int) -> InviteCode | None:
        """The owner's one non-revoked code (it may have expired)."""
        return await self.session.scalar(
            select(InviteCode).where(InviteCode.owner_id == owner_id, InviteCode.revoked_at.is_(None))
        )

    async def by_code(self, code: str) -> InviteCode | None:
        return await self.session.scalar(select(InviteCode).where(InviteCode.code == code))

    async def by_id(self, code_id: int) -> InviteCode | None:
        return await self.session.get(InviteCode, code_id)

    async def exists(self, code: str) -> bool:
        return await self.session.scalar(select(InviteCode.id).where(InviteCode.code == code)) is not None

    async def revoke(self, code: InviteCode, now: datetime) -> None:
        code.revoked_at = now
        await self.session.flush()


class ReferralRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_invitee(self, invitee_id: int) -> Referral | None:
        return await self.session.scalar(select(Referral).where(Referral.invitee_id == invitee_id))

    async def inviter_of(self, invitee_id: int) -> User | None:
        return await self.session.scalar(
            select(User).join(Referral, Referral.inviter_id == User.id).where(Referral.invitee_id == invitee_id)
        )

    async def count_invited_by(self, inviter_id: int) -> int:
        query = select(func.count()).select_from(Referral).where(Referral.inviter_id == inviter_id)
        return await self.session.scalar(query) or 0

    async def page_invited_by(self, inviter_id: int, offset: int, limit: int) -> list[tuple[Referral, User]]:
        rows = await self.session.execute(
            select(Referral, User)
            .join(User, User.id == Referral.invitee_id)
            .where(Referral.inviter_id == inviter_id)
            .order_by(Referral.created_at.desc(), Referral.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [(ref, user) for ref, user in rows.all()]

    async def add(self, referral: Referral) -> Referral:
        self.session.add(referral)
        await self.session.flush()
        return referral


@dataclass(frozen=True)
class PhoneCodeAttempt:
    """A code with the attempt just counted on it (`attempts` includes this one)."""

    id: int
    phone: str
    code_hash: str
    salt: str
    attempts: int


class PhoneCodeRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest_for(self, telegram_id: int) -> PhoneCode | None:
        return await self.session.scalar(
            select(PhoneCode).where(PhoneCode.telegram_id == telegram_id).order_by(PhoneCode.id.desc()).limit(1)
        )

    async def latest_for_phone(self, phone: str) -> PhoneCode | None:
        return await self.session.scalar(
            select(PhoneCode).where(PhoneCode.phone == phone).order_by(PhoneCode.id.desc()).limit(1)
        )

    async def purge_before(self, created_before: datetime, now: datetime) -> None:
        """Drop codes that expired and were asked for before `created_before`."""
        await self.session.execute(
            delete(PhoneCode).where(PhoneCode.created_at < created_before, PhoneCode.expires_at < now)
        )

    async def close_open_for(self, telegram_id: int, now: datetime) -> None:
        await self.session.execute(
            update(PhoneCode)
            .where(PhoneCode.telegram_id == telegram_id, PhoneCode.closed_at.is_(None))
            .values(closed_at=now)
        )

    async def take_attempt(self, telegram_id: int, now: datetime, max_attempts: int) -> PhoneCodeAttempt | None:
        """Count one attempt on this account's newest code, if it is open, unexpired and has attempts
        left; None otherwise. One statement: concurrent guesses (other instances too) never get more
        than `max_attempts` between them, and the code is compared only after its attempt is counted."""
        newest = select(func.max(PhoneCode.id)).where(PhoneCode.telegram_id == telegram_id).scalar_subquery()
        row = (
            await self.session.execute(
                update(PhoneCode)
                .where(
                    PhoneCode.id == newest,
                    PhoneCode.closed_at.is_(None),
                    PhoneCode.expires_at > now,
                    PhoneCode.attempts < max_attempts,
                )
                .values(attempts=PhoneCode.attempts + 1)
                .returning(PhoneCode.id, PhoneCode.phone, PhoneCode.code_hash, PhoneCode.salt, PhoneCode.attempts)
                .execution_options(synchronize_session=False)
            )
        ).one_or_none()
        return None if row is None else PhoneCodeAttempt(*row)

    async def close(self, code_id: int, now: datetime) -> bool:
        """Close an open code; False when it was closed already (by a concurrent guess, say)."""
        closed = await self.session.scalar(
            update(PhoneCode)
            .where(PhoneCode.id == code_id, PhoneCode.closed_at.is_(None))
            .values(closed_at=now)
            .returning(PhoneCode.id)
            .execution_options(synchronize_session=False)
        )
        return closed is not None

    async def newest_for(self, telegram_id: int) -> PhoneCode | None:
        """`latest_for`, read afresh even when the session holds the row (after `take_attempt`)."""
        return await self.session.scalar(
            select(PhoneCode)
            .where(PhoneCode.telegram_id == telegram_id)
            .order_by(PhoneCode.id.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        )

    async def add(self, code: PhoneCode) -> PhoneCode:
        self.session.add(code)
        await self.session.flush()
        return code
