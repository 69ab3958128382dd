"""Round trips the relay's hot path saves (issue #22, PostgreSQL): the message limit read at most once
per LimitsCache.ttl per process (a change made here seen at once, one made elsewhere within the ttl),
and the one-statement units (the batched user loader, the delivery's sent-marks) sent without BEGIN
and COMMIT on PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.worker import SentMarks
from bot.user_loader import UserLoader
from services.clock import FakeClock
from services.delivery import Outbox
from services.errors import LimitReached
from services.relay import Incoming, LimitsCache, RelayResult, RelayService, Submission
from storage.models import Outgoing, User
from storage.repositories.delivery import Outcome, OutgoingRepo
from tests.services import helpers
from tests.services.helpers import record_statements, services, signed_in_user

_message_ids = itertools.count(1)


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def relay_service(session: AsyncSession, clock: FakeClock, cache: LimitsCache) -> RelayService:
    return helpers.relay_service(session, clock, limits_cache=cache)


def text(user: User) -> Incoming:
    assert user.telegram_id is not None
    n = next(_message_ids)
    return Incoming("text", user.telegram_id, n, html=f"m{n}", plain=f"m{n}")


async def test_the_limit_is_read_once_per_ttl_and_a_change_here_is_seen_at_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    here, elsewhere = Monotonic(), Monotonic()
    cache, other_instance = LimitsCache(ttl=2.0, monotonic=here), LimitsCache(ttl=2.0, monotonic=elsewhere)
    async with sessionmaker() as session, session.begin():
        relay = relay_service(session, clock, cache)
        people = [await signed_in_user(session, clock) for _ in range(3)]
        for person in people:
            await relay.join(person)
    reads = record_statements(sessionmaker, lambda statement: "FROM runtime_settings" in statement)

    async def send(author: User, limits: LimitsCache) -> Any:
        async with sessionmaker() as session, session.begin():
            (outcome,) = await relay_service(session, clock, limits).submit([Submission(author.id, text(author))])
            return outcome

    assert isinstance(await send(people[0], cache), RelayResult)
    assert isinstance(await send(people[1], cache), RelayResult)
    assert isinstance(await send(people[1], other_instance), RelayResult)
    assert len(reads) == 2  # once per process within the ttl (before: once per batch, three here)

    async with sessionmaker() as session, session.begin():  # /setlimit 1 in this process
        await relay_service(session, clock, cache).set_limits(1, None)
    assert isinstance(await send(people[1], cache), LimitReached)  # seen at once here: Bob sent one already
    assert isinstance(await send(people[2], other_instance), RelayResult)  # elsewhere, the old limit...
    assert isinstance(await send(people[2], other_instance), RelayResult)
    elsewhere.now += 2.0
    assert isinstance(await send(people[2], other_instance), LimitReached)  # ...until the ttl is over


async def test_a_limit_read_while_setlimit_commits_is_not_served_after_it(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """/setlimit drops the process' cached limit before its transaction commits; a relay batch of the
    process reading meanwhile sees the old committed limit. That value must not be served after the
    commit: neither one the batch put before the commit, nor one it read before and put after."""
    clock = FakeClock()
    cache = LimitsCache(ttl=2.0, monotonic=Monotonic())  # the clock never moves: only drops refresh it

    async def batch_limit() -> int:
        async with sessionmaker() as session, session.begin():
            return (await relay_service(session, clock, cache)._cached_limits()).per_period

    assert await batch_limit() == 100
    async with sessionmaker() as session:  # /setlimit 5; a batch reads and puts before the commit
        await relay_service(session, clock, cache).set_limits(5, None)
        assert await batch_limit() == 100  # the old committed value, and put back in the cache
        await session.commit()
    assert await batch_limit() == 5

    async with sessionmaker() as session:  # /setlimit 7; a batch reads before the commit, puts after it
        await relay_service(session, clock, cache).set_limits(7, None)
        async with sessionmaker() as reading, reading.begin():
            relay = relay_service(reading, clock, cache)
            read = relay.repo.runtime_many

            async def read_then_commit(keys: Any) -> Any:
                values = await read(keys)
                await session.commit()
                return values

            relay.repo.runtime_many = read_then_commit  # type: ignore[method-assign]
            assert (await relay._cached_limits()).per_period == 5
    assert await batch_limit() == 7


@pytest.fixture
def begins(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """BEGINs asyncpg sends (SQLAlchemy's begin event fires in autocommit too, where nothing is sent)."""
    import asyncpg.transaction

    sent: list[str] = []
    start = asyncpg.transaction.Transaction.start

    async def counted(self: Any) -> Any:
        sent.append("BEGIN")
        return await start(self)

    monkeypatch.setattr(asyncpg.transaction.Transaction, "start", counted)
    return sent


def postgres_only(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    if sessionmaker.kw["bind"].dialect.name != "postgresql":
        pytest.skip("BEGIN round trips are asyncpg's")


async def test_the_user_loader_reads_without_begin_on_postgres(
    sessionmaker: async_sessionmaker[AsyncSession], begins: list[str]
) -> None:
    postgres_only(sessionmaker)
    clock = FakeClock()
    async with sessionmaker() as session:
        people = [await signed_in_user(session, clock) for _ in range(3)]
        await session.commit()
    begins.clear()
    loader = UserLoader(sessionmaker)
    found = await asyncio.gather(*(loader.load(p.telegram_id) for p in people if p.telegram_id is not None))
    assert [u.id if u else None for u in found] == [p.id for p in people]
    assert begins == []  # one SELECT, one round trip (before: BEGIN, SELECT, COMMIT)
    async with sessionmaker() as session, session.begin():  # the pooled connection is back to transactions
        await session.get(User, people[0].id)
    assert begins == ["BEGIN"]


async def test_sent_marks_are_written_without_begin_on_postgres(
    sessionmaker: async_sessionmaker[AsyncSession], begins: list[str]
) -> None:
    postgres_only(sessionmaker)
    clock = FakeClock()
    async with sessionmaker() as session, session.begin():
        outbox = Outbox(session, clock)
        ids = await outbox.add_rows([outbox.text_row(1000 + n, f"t{n}", None, None) for n in range(3)])
        claimed = await OutgoingRepo(session).claim(clock.now(), 10, clock.now() + timedelta(minutes=1), "tok")
    assert sorted(c.id for c in claimed) == sorted(ids)
    begins.clear()
    marks = SentMarks(sessionmaker, clock, interval=0)
    await asyncio.gather(*(marks.mark("tok", Outcome(i, "sent", message_id=10 + i)) for i in ids))
    assert begins == []  # one UPDATE, one round trip (before: BEGIN, UPDATE, COMMIT)
    async with sessionmaker() as session:
        rows = (await session.execute(select(Outgoing.status, Outgoing.message_id).order_by(Outgoing.id))).all()
    assert [tuple(row) for row in rows] == [("sent", 10 + i) for i in sorted(ids)]


async def test_a_batch_of_touches_is_one_statement(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The relay batch writes its authors' refreshes (last seen, profile) together: the rows read in one
    statement if the session no longer holds them, one UPDATE for all of them, also when their sets
    of columns differ (the ORM's flush sent one a row)."""
    clock = FakeClock()
    async with sessionmaker() as session:
        people = [await signed_in_user(session, clock) for _ in range(4)]
        await session.commit()
    clock.advance(timedelta(minutes=5))
    updates = record_statements(sessionmaker, lambda statement: statement.lstrip().upper().startswith("UPDATE USERS"))
    reads = record_statements(
        sessionmaker, lambda statement: statement.lstrip().upper().startswith("SELECT") and "FROM users" in statement
    )
    async with sessionmaker() as session, session.begin():
        signin, _, _ = services(session, clock)
        touches: dict[int, dict[str, Any]] = {p.id: {"last_seen_at": clock.now()} for p in people[:3]}
        touches[people[3].id] = {"last_seen_at": clock.now(), "first_name": "Renamed"}
        await signin.save_touches(touches)
        assert len(reads) == 1  # the users the session did not hold, in one statement (not one each)
    assert len(updates) == 1  # the three with last seen only and the one with a new name too
    async with sessionmaker() as session:
        rows = {u.id: u for u in (await session.scalars(select(User).where(User.id.in_([p.id for p in people]))))}
    assert all(rows[p.id].last_seen_at == clock.now() for p in people)
    assert rows[people[3].id].first_name == "Renamed"


async def test_touches_are_written_in_id_order_in_one_statement(
    sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two instances' relay batches touching A and B in opposite orders take the rows' locks in one
    order (by id, in one statement), so they cannot deadlock; in arrival order, a statement per set
    of columns, one could lock B then wait for A while the other locked A and waited for B."""
    clock = FakeClock()
    async with sessionmaker() as session:
        people = [await signed_in_user(session, clock) for _ in range(3)]
        await session.commit()
    clock.advance(timedelta(minutes=5))
    written: list[list[int]] = []
    async with sessionmaker() as session, session.begin():
        execute = session.execute

        async def recording(statement: Any, params: Any = None, **kwargs: Any) -> Any:
            if isinstance(params, list):  # an executemany: the rows it writes, in order
                written.append([row["touched_id"] for row in params])
            return await execute(statement, params, **kwargs)

        monkeypatch.setattr(session, "execute", recording)
        signin, _, _ = services(session, clock)
        touches: dict[int, dict[str, Any]] = {p.id: {"last_seen_at": clock.now()} for p in reversed(people)}
        touches[people[0].id]["first_name"] = "Renamed"  # another set of columns, and arriving last
        await signin.save_touches(touches)
    assert written == [sorted(p.id for p in people)]
    async with sessionmaker() as session:
        rows = {u.id: u for u in (await session.scalars(select(User).where(User.id.in_([p.id for p in people]))))}
    assert all(rows[p.id].last_seen_at == clock.now() for p in people)
    assert [rows[p.id].first_name == "Renamed" for p in people] == [True, False, False]
