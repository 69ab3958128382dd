"""Relaying many members' messages in one transaction (`RelayService.submit`, what the relay batch
of the bot uses) comes to the same outcomes as relaying them one by one: each message is relayed or
refused on its own, whatever the others in the batch are."""

from __future__ import annotations

import asyncio
import itertools

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import FakeClock
from services.errors import FileTooLarge, LimitReached, NotInChat, PrivateBlocked, UnsupportedMessage
from services.relay import Incoming, RelayOutcome, RelayResult, RelayService, Submission
from storage.models import Outgoing, RelayCopy, RelayMessage, User
from tests.services import helpers
from tests.services.helpers import record_statements, signed_in_user

_message_ids = itertools.count(1)


def relay_service(session: AsyncSession, clock: FakeClock, per_period: int = 2) -> RelayService:
    return helpers.relay_service(session, clock, per_period, max_file_bytes=1000)


async def members(relay: RelayService, count: int) -> list[User]:
    """Signed-in members of the common chat."""
    assert isinstance(relay.clock, FakeClock)
    people = [await signed_in_user(relay.session, relay.clock) for _ in range(count)]
    for person in people:
        await relay.join(person)
    return people


async def relay_many(relay: RelayService, items: list[tuple[User, Incoming]]) -> list[RelayOutcome]:
    return await relay.submit([Submission(user.id, incoming) for user, incoming in items])


async def relay_one(relay: RelayService, user: User, incoming: Incoming) -> RelayResult:
    (outcome,) = await relay_many(relay, [(user, incoming)])
    assert isinstance(outcome, RelayResult), outcome
    return outcome


def text(user: User, body: str, **extra: object) -> Incoming:
    assert user.telegram_id is not None
    return Incoming("text", user.telegram_id, next(_message_ids), html=body, plain=body, **extra)  # type: ignore[arg-type]


async def test_a_mixed_batch_gets_each_message_its_own_outcome(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    async with sessionmaker() as session, session.begin():
        relay = relay_service(session, clock)
        ann, bob, cat, dan, eve, fay = await members(relay, 6)
        outsider = await signed_in_user(session, clock)
        await relay.open_private(dan, eve)
        await relay.block(eve, dan)  # Eve blocked Dan: his private messages to her are refused
        await relay.open_private(fay, bob)
        await relay_one(relay, cat, text(cat, "one"))
        await relay_one(relay, cat, text(cat, "two"))  # Cat is at her limit (2 an hour)
        earlier = text(ann, "earlier")
        await relay_one(relay, ann, earlier)

    async with sessionmaker() as session, session.begin():
        relay = relay_service(session, clock)
        users, _ = await relay.repo.authors_and_peers([x.id for x in (ann, bob, cat, dan, fay, outsider)])
        ann, bob, cat, dan, fay, outsider = (users[x.id] for x in (ann, bob, cat, dan, fay, outsider))
        batch = [
            (ann, text(ann, "hello all")),
            (outsider, text(outsider, "not a member")),
            (bob, Incoming("unknown", bob.telegram_id or 0, next(_message_ids))),
            (bob, Incoming("document", bob.telegram_id or 0, next(_message_ids), file_size=5000)),
            (dan, text(dan, "psst")),
            (cat, text(cat, "three")),
            (ann, earlier),  # the same update again
            (fay, text(fay, "for Bob only")),
            (ann, text(ann, "again")),  # Ann's second in this batch: her limit is 2, she has 2 now
            (ann, text(ann, "and again")),  # her third: refused
        ]
        outcomes = await relay_many(relay, batch)

    assert [type(o).__name__ for o in outcomes] == [
        "RelayResult",
        "NotInChat",
        "UnsupportedMessage",
        "FileTooLarge",
        "PrivateBlocked",
        "LimitReached",
        "RelayResult",
        "RelayResult",
        "LimitReached",
        "LimitReached",
    ]
    hello, _, _, _, blocked, cat_refused, duplicate, private, ann_refused, _ = outcomes
    assert isinstance(hello, RelayResult)
    assert hello.recipients == 5
    assert hello.chat == "common"
    assert isinstance(blocked, PrivateBlocked)
    assert isinstance(cat_refused, LimitReached)
    assert cat_refused.args_map["count"] == 2
    assert cat_refused.args_map["limit"] == 2
    assert isinstance(duplicate, RelayResult)
    assert duplicate.duplicate
    assert duplicate.message_id is None
    assert isinstance(private, RelayResult)
    assert private.chat == "private"
    assert private.recipients == 1
    assert private.peer is not None
    assert private.peer.id == bob.id
    assert isinstance(ann_refused, LimitReached)
    assert ann_refused.args_map["count"] == 2
    assert isinstance(outcomes[1], NotInChat)
    assert isinstance(outcomes[2], UnsupportedMessage)
    assert isinstance(outcomes[3], FileTooLarge)

    async with sessionmaker() as session:
        texts = list(await session.scalars(select(RelayMessage.text).order_by(RelayMessage.id)))
        assert texts == ["one", "two", "earlier", "hello all", "for Bob only"]
        assert isinstance(hello.message_id, int)
        assert isinstance(private.message_id, int)
        copies = await session.scalar(
            select(func.count()).select_from(RelayCopy).where(RelayCopy.message_id == hello.message_id)
        )
        assert copies == 5
        to_bob = await session.scalars(
            select(Outgoing.chat_id)
            .join(RelayCopy, RelayCopy.outgoing_id == Outgoing.id)
            .where(RelayCopy.message_id == private.message_id)
        )
        assert list(to_bob) == [bob.telegram_id]


async def test_an_authors_messages_in_one_batch_go_in_order_and_count_one_by_one(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    async with sessionmaker() as session, session.begin():
        relay = relay_service(session, clock, per_period=3)
        ann, bob = await members(relay, 2)
        outcomes = await relay_many(relay, [(ann, text(ann, f"m{n}")) for n in range(4)] + [(bob, text(bob, "b"))])
        assert [isinstance(o, RelayResult) for o in outcomes] == [True, True, True, False, True]
        assert (await relay.usage(ann)).used == 3
        ids = [o.message_id for o in outcomes if isinstance(o, RelayResult)]
        assert ids[:3] == sorted(ids[:3])
    async with sessionmaker() as session:
        bodies = await session.scalars(
            select(RelayMessage.text).where(RelayMessage.author_id == ann.id).order_by(RelayMessage.id)
        )
        assert list(bodies) == ["m0", "m1", "m2"]


async def test_the_same_message_relayed_twice_at_once_goes_in_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Two transactions (two instances given the same update) both find the original new; the second
    insert skips it and reports a duplicate instead of failing the batch."""
    clock = FakeClock()
    async with sessionmaker() as session, session.begin():
        ann, bob = await members(relay_service(session, clock, per_period=10), 2)
    once = text(ann, "once")

    async def relay_in_own_transaction() -> object:
        async with sessionmaker() as session, session.begin():
            author = await session.get(User, ann.id)
            assert author is not None
            (outcome,) = await relay_many(relay_service(session, clock, per_period=10), [(author, once)])
            return outcome

    outcomes = await asyncio.gather(relay_in_own_transaction(), relay_in_own_transaction())
    assert all(isinstance(o, RelayResult) for o in outcomes)
    assert sorted(o.duplicate for o in outcomes if isinstance(o, RelayResult)) == [False, True]
    async with sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(RelayMessage).where(RelayMessage.text == "once"))
        assert count == 1
        copies = await session.scalar(
            select(func.count()).select_from(RelayCopy).where(RelayCopy.recipient_id == bob.id)
        )
        assert copies == 1


async def test_the_authors_their_peers_and_member_rows_are_read_in_one_statement(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    async with sessionmaker() as session, session.begin():
        relay = relay_service(session, clock, per_period=10)
        people = await members(relay, 6)
        for author, peer in zip(people[:3], people[3:], strict=True):
            await relay.open_private(author, peer)
    reads = record_statements(
        sessionmaker, lambda s: s.lstrip().startswith("SELECT") and ("FROM users" in s or "FROM relay_members" in s)
    )
    async with sessionmaker() as session, session.begin():
        relay = relay_service(session, clock, per_period=10)
        batch = [(author.id, text(author, f"to my peer {n}")) for n, author in enumerate(people[:3])]
        outcomes = await relay.submit([Submission(user_id, incoming) for user_id, incoming in batch])
    assert [o.chat for o in outcomes if isinstance(o, RelayResult)] == ["private"] * 3
    assert [o.peer.id for o in outcomes if isinstance(o, RelayResult) and o.peer] == [p.id for p in people[3:]]
    assert len(reads) == 1, [statement for statement, _ in reads]
