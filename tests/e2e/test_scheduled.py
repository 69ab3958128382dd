"""Scheduled messages (/schedule) go to the chat they were scheduled in, or nowhere: never to whichever
chat their author writes to at send time. At send time they pass the checks of any message (ban,
block, the chat still being theirs); one author's pile never holds up the others'; and a text that
would arrive cut is refused up front."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from storage.models import ScheduledMessage
from tests.e2e.harness import Harness, Person
from tests.e2e.relay_double import user_id
from tests.e2e.test_relay import members
from tests.e2e.test_rooms import create_room, join

PER_USER = 3
LIMIT = 5


@pytest.fixture
def bot_settings() -> dict[str, object]:
    return {"scheduled_per_user": PER_USER, "messages_per_period": LIMIT}


async def people(tg: Harness, *names: str) -> list[Person]:
    """Members of the common chat, each called by their first name."""
    joined = await members(tg, *names)
    for person in joined:
        await person.send(f"/nick {person.first_name}")
    return joined


def got(person: Person, fragment: str) -> bool:
    return any(fragment in text for text in person.texts())


async def pending(tg: Harness) -> int:
    async with tg.app.ctx.sessionmaker() as session:
        return (
            await session.scalar(
                select(func.count()).select_from(ScheduledMessage).where(ScheduledMessage.status == "pending")
            )
            or 0
        )


async def due(tg: Harness) -> None:
    tg.clock.advance(minutes=30)
    await tg.run_jobs()


async def test_a_message_scheduled_in_a_private_chat_goes_to_that_member_only(tg: Harness) -> None:
    alice, bob, carol = await people(tg, "Alice", "Bob", "Carol")
    await alice.send("/dm Bob")
    await alice.send("/schedule in 10m meet me at 6, just you")
    assert "Scheduled for" in alice.last_text()
    await alice.send("/common")  # writing to everyone again when it falls due
    await due(tg)
    assert bob.last_text() == "🔒 Alice\nmeet me at 6, just you"
    assert not got(carol, "just you")


async def test_a_scheduled_private_message_is_dropped_once_the_peer_blocks_the_author(tg: Harness) -> None:
    alice, bob, carol = await people(tg, "Alice", "Bob", "Carol")
    await alice.send("/dm Bob")
    await alice.send("/schedule in 10m you can't escape me")
    await bob.send("/block Alice")
    await due(tg)
    assert not got(bob, "can't escape")
    assert not got(carol, "can't escape")
    assert "was not sent: Bob doesn't accept private messages from you" in alice.last_text()
    assert await pending(tg) == 0


async def test_a_message_scheduled_in_a_room_is_dropped_when_its_author_is_removed(tg: Harness) -> None:
    alice, bob, carol = await people(tg, "Alice", "Bob", "Carol")
    payload = await create_room(alice, "Chess")
    await join(alice, bob, payload)
    await bob.send("/rooms")
    await bob.press("Chess")
    await bob.send("/schedule in 10m for the chess club only")
    assert "Scheduled for" in bob.last_text()
    await alice.send("/rooms")
    await alice.press("Manage")
    await alice.press("Members")
    await alice.press("Bob")
    assert "removed you from the room Chess" in bob.last_text()
    await due(tg)
    assert not got(carol, "chess club only")  # not to the common chat, where Bob writes now
    assert not got(alice, "chess club only")
    assert "was not sent: you're no longer in the room" in bob.last_text()


async def test_a_message_scheduled_by_a_member_banned_before_it_is_due_is_not_relayed(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    alice, bob = await people(tg, "Alice", "Bob")
    await alice.send("/schedule in 10m spam from the past")
    await admin.send(f"/ban {alice.phone} 2h flooding")
    await due(tg)
    assert not got(bob, "spam from the past")
    assert "was not sent: you are banned until" in alice.last_text()
    assert await pending(tg) == 0


async def test_one_author_over_the_limit_with_a_pile_of_due_items_does_not_hold_up_others(tg: Harness) -> None:
    alice, bob, carol = await people(tg, "Alice", "Bob", "Carol")
    author = await user_id(tg, alice)
    now = tg.clock.now()
    async with tg.app.ctx.sessionmaker() as session, session.begin():  # a pile from before the per-user cap
        session.add_all(
            ScheduledMessage(author_id=author, text=f"pile {n}", due_at=now + timedelta(minutes=1), created_at=now)
            for n in range(100)
        )
    await bob.send("/schedule in 10m bob's turn")
    await due(tg)
    assert got(carol, "bob's turn")
    assert sum(1 for text in carol.texts() if "pile" in text) == LIMIT
    assert await pending(tg) == 100 - LIMIT  # Alice's rest wait for the limit's reset


async def test_pending_scheduled_messages_are_capped_per_member(tg: Harness) -> None:
    alice, _bob = await people(tg, "Alice", "Bob")
    for n in range(PER_USER):
        await alice.send(f"/schedule in {10 + n}m number {n}")
        assert "Scheduled for" in alice.last_text()
    await alice.send("/schedule in 30m one too many")
    assert f"You already have {PER_USER} scheduled messages waiting" in alice.last_text()
    assert await pending(tg) == PER_USER
    await alice.send("/scheduled")
    await alice.press("Cancel 1", alice.last())
    await alice.send("/schedule in 30m now there is room")
    assert "Scheduled for" in alice.last_text()


async def test_a_text_too_long_once_escaped_is_refused_when_scheduled_not_sent_cut(tg: Harness) -> None:
    alice, bob = await people(tg, "Alice", "Bob")
    await alice.send("/schedule in 10m " + "<>" * 600)  # 1,200 characters, 4,800 once escaped for HTML
    assert "too long to schedule" in alice.last_text()
    assert await pending(tg) == 0
    await alice.send("/schedule in 10m " + "&" * 800)  # 4,000 once escaped: fits with the name
    assert "Scheduled for" in alice.last_text()
    await due(tg)
    assert bob.last_text() == "Alice\n" + "&" * 800
