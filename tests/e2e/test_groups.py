"""Groups, supergroups and channels: the bot serves private chats only, and in the admin chat only what is
meant for it (report-card buttons, staff commands whose answers hold no personal data).

Written as the attacks go: members and staff writing in a group the bot is in, staff commands typed in a
group, buttons pressed there, and someone adding the bot to a group of their own.
"""

from __future__ import annotations

import pytest

from handlers.admin import UserAction
from handlers.reports import ReportAction
from storage.models import AuditEntry, Ban, RelayMessage, User, WarningEntry
from tests.e2e.harness import Harness, Person, count
from tests.e2e.relay_double import user_id
from tests.fakes.telegram import BOT_USERNAME, FakeChat

ADMIN_CHAT = -1001234567890


@pytest.fixture
def bot_settings() -> dict[str, object]:
    return {"admin_chat_id": ADMIN_CHAT}


async def members(tg: Harness, *names: str) -> list[Person]:
    """Signed in, in the common chat."""
    people = []
    for name in names:
        person = await tg.user(name, username=name.lower()).signed_in()
        await person.send("/join")
        people.append(person)
    return people


def staff_chat(tg: Harness) -> FakeChat:
    return tg.tg.group("Moderators", chat_id=ADMIN_CHAT)


async def test_a_members_message_in_a_group_is_not_relayed(tg: Harness) -> None:
    alice, bob = await members(tg, "Alice", "Bob")
    group = tg.tg.group("Neighbours")
    marks = alice.mark(), bob.mark()
    users = await count(tg, User)

    await alice.send("this was meant for the neighbours only", chat=group)
    await alice.send("/join", chat=group)  # commands are not answered there either
    await alice.send("/status", chat=group)
    stranger = tg.user("Stranger")
    await stranger.send("hello bot", chat=group)
    await stranger.send("/start", chat=group)

    assert (alice.since(marks[0]), bob.since(marks[1])) == ([], [])
    assert group.messages == []
    assert await count(tg, RelayMessage) == 0
    assert await count(tg, User) == users  # the stranger got no account row either


async def test_staff_talk_in_the_admin_chat_is_not_relayed(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    await admin.send("/join")
    bob, carol = await members(tg, "Bob", "Carol")
    staff = staff_chat(tg)
    marks = bob.mark(), carol.mark()

    await admin.send(f"Bob keeps posting ads; his number is {bob.phone}", chat=staff)
    await admin.send("/ban", chat=staff)  # a staff command, but the usage answer is all it gets
    await carol.send("what are you talking about?", chat=staff)  # a member who found their way in

    assert (bob.since(marks[0]), carol.since(marks[1])) == ([], [])
    assert await count(tg, RelayMessage) == 0
    assert [t for t in staff.texts() if bob.phone in t] == []
    assert len(staff.messages) == 1
    assert "Usage: /ban" in staff.texts()[0]


async def test_the_admin_chat_takes_only_what_is_meant_for_the_bot(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    (bob,) = await members(tg, "Bob")
    staff = staff_chat(tg)

    await admin.send("/stats", chat=staff)
    assert "Statistics" in staff.texts()[-1]
    await admin.send(f"/stats@{BOT_USERNAME}", chat=staff)
    assert len(staff.messages) == 2
    await admin.send("/stats@some_other_bot", chat=staff)  # for another bot in the chat
    await bob.send("/stats", chat=staff)  # not staff: no answer, not even "unknown command"
    await bob.send("/complaints", chat=staff)
    await admin.send("/frobnicate", chat=staff)
    await admin.send("/me", chat=staff)  # answers with the admin's own phone: not in a group
    assert len(staff.messages) == 2


async def test_staff_commands_in_a_group_post_nothing(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    (bob, carol) = await members(tg, "Bob", "Carol")
    await admin.send("/mod @carol")
    group = tg.tg.group("Neighbours")
    staff = staff_chat(tg)
    audit = await count(tg, AuditEntry)

    for chat in (group, staff):
        for who in (admin, carol):
            await who.send("/user @bob", chat=chat)
            await who.send(f"/user {bob.phone}", chat=chat)
    for command in ("/ban @bob", "/warn @bob", "/stats", "/audit", "/complaints"):
        await admin.send(command, chat=group)

    assert group.messages == []
    assert staff.messages == []
    assert await count(tg, Ban) == 0
    assert await count(tg, WarningEntry) == 0
    assert await count(tg, AuditEntry) == audit  # no lookup happened
    everything = [m.text or "" for chat in tg.tg.chats.values() for m in chat if m.from_bot]
    assert [t for t in everything if bob.phone in t] == []


async def test_buttons_pressed_in_a_group_are_ignored(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    (bob,) = await members(tg, "Bob")
    group = tg.tg.group("Neighbours")
    bob_id = await user_id(tg, bob)
    old = tg.tg.add_message(group.id, True, {"text": "an old message of the bot's"})
    staff = staff_chat(tg)
    old_in_staff = tg.tg.add_message(staff.id, True, {"text": "an old card"})

    answer = await admin.press_data(UserAction(action="ban", user_id=bob_id).pack(), old)
    assert answer == {}
    answer = await admin.press_data(UserAction(action="ban", user_id=bob_id).pack(), old_in_staff)
    assert answer == {}  # user-card buttons belong to private chats
    answer = await admin.press_data(ReportAction(action="ban", report_id=1).pack(), old)
    assert answer == {}
    assert await count(tg, Ban) == 0
    assert group.messages == [old]
    assert staff.messages == [old_in_staff]


async def test_added_to_a_group_it_says_so_once_and_leaves(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    users = await count(tg, User)
    group = tg.tg.group("Alice's friends", bot_is_member=False)

    await group.add_bot(by=alice)
    assert len(group.messages) == 1
    assert "private chat" in group.texts()[0]
    assert f"@{BOT_USERNAME}" in group.texts()[0]
    assert group.left()
    assert len([c for c in tg.tg.calls_to("leaveChat") if c.params["chat_id"] == group.id]) == 1

    # Added again, as an administrator this time, by someone without an account: the same, once more.
    stranger = tg.user("Stranger")
    await group.add_bot(by=stranger, status="administrator")
    assert len(group.messages) == 2
    assert group.left()
    assert await count(tg, User) == users

    # A channel: it tries to say so (channels may refuse), and leaves.
    channel = tg.tg.group("News", chat_type="channel", bot_is_member=False)
    await channel.add_bot(by=alice, status="administrator")
    assert channel.left()


async def test_added_to_the_admin_chat_it_stays_quiet(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    staff = tg.tg.group("Moderators", chat_id=ADMIN_CHAT, bot_is_member=False)
    await staff.add_bot(by=admin, status="administrator")
    assert staff.messages == []
    assert not staff.left()
    await admin.send("/stats", chat=staff)
    assert "Statistics" in staff.texts()[-1]


async def test_the_bot_asks_telegram_for_being_added_to_groups(tg: Harness) -> None:
    # No router handles my_chat_member (the chat rule does, before them): without asking for it by
    # name, Telegram would never send it and the bot would stay in every group it is added to.
    asked = tg.tg.calls_to("getUpdates")[-1].params.get("allowed_updates")
    assert isinstance(asked, list)
    assert "my_chat_member" in asked
    assert "message" in asked
    assert "callback_query" in asked
