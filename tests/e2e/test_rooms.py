"""Rooms end to end (SPEC 5): create, link, request, approve, decline, relay, kick, new link, close."""

from __future__ import annotations

import re

from handlers.rooms import RoomAction, RoomRequest
from tests.conftest import DbTarget
from tests.e2e.harness import Harness, Person, restart_harness
from tests.fakes.telegram import ChatMessage


async def named(tg: Harness, name: str, language_code: str = "en") -> Person:
    person = tg.user(name, language_code=language_code)
    await person.send("/start")
    await person.send_contact(tg.new_phone())
    await person.send(f"/nick {name}")
    return person


def link_payload(text: str) -> str:
    found = re.search(r"start=(room_[\w-]+)", text)
    assert found, text
    return found.group(1)


async def create_room(owner: Person, title: str = "Book club") -> str:
    await owner.send(f"/newroom {title}")
    created = next(m for m in reversed(owner.messages) if "is ready" in (m.text or ""))
    return link_payload(created.text or "")


def request_message(owner: Person, name: str) -> ChatMessage:
    return next(m for m in reversed(owner.messages) if f"{name} asks to join" in (m.text or ""))


async def join(owner: Person, person: Person, payload: str) -> None:
    await person.send(f"/start {payload}")
    assert "Asked to join" in person.last_text()
    await owner.press("Approve", request_message(owner, person.first_name))
    assert "You're in the room" in person.last_text()


async def test_room_lifecycle_create_request_approve_decline_relay(tg: Harness) -> None:
    alice = await named(tg, "Alice")
    bob = await named(tg, "Bob")
    carol = await named(tg, "Carol")
    dave = await named(tg, "Dave")
    payload = await create_room(alice)
    assert "writing in the room" in alice.last_text()

    await bob.send(f"/start {payload}")
    assert "Asked to join <Book club>" not in bob.last_text()
    assert "Asked to join the room Book club" in bob.last_text()
    await bob.send(f"/start {payload}")
    assert "already asked" in bob.last_text()
    request = request_message(alice, "Bob")
    await alice.press("Approve", request)
    assert "Bob joined Book club" in (request.text or "")
    assert "You're in the room Book club" in bob.last_text()
    await alice.press_data(RoomRequest(approve=False, id=1).pack(), request)  # pressed again, other button
    assert alice.last_answer is not None
    assert "already answered" in alice.last_answer["text"]

    await carol.send(f"/start {payload}")
    await alice.press("Decline", request_message(alice, "Carol"))
    assert "declined your request" in carol.last_text()

    await bob.send("/rooms")
    await bob.press("Book club")
    assert "writing in the room Book club" in bob.last_text()
    original = await alice.send("Welcome to the club")
    assert bob.last_text() == "🏠 Book club · Alice\nWelcome to the club"
    assert not any("Welcome to the club" in text for text in carol.texts() + dave.texts())
    await bob.send("Thanks!", reply_to=bob.last())
    answer = alice.last()
    assert answer.text == "🏠 Book club · Bob\nThanks!"
    assert answer.data["reply_to_message"]["text"] == "Welcome to the club"  # her own original
    await alice.edit(original, "Welcome, all")
    await tg.deliver()
    assert any(m.text == "🏠 Book club · Alice\nWelcome, all" for m in bob.messages)


async def test_kick_rotate_close(tg: Harness) -> None:
    alice = await named(tg, "Alice")
    bob = await named(tg, "Bob")
    carol = await named(tg, "Carol")
    payload = await create_room(alice, "Chess")
    await join(alice, bob, payload)
    await join(alice, carol, payload)

    await alice.send("/rooms")
    await alice.press("Manage")
    await alice.press("Members")
    await alice.press("Bob")
    assert alice.last_answer is not None
    assert "Bob was removed" in alice.last_answer["text"]
    assert "removed you from the room Chess" in bob.last_text()
    await bob.send("still here?")  # back in the common chat, not in the room
    assert not any("still here?" in t for t in carol.texts())
    await bob.send(f"/start {payload}")
    assert "removed you" in bob.last_text()

    await alice.send("/rooms")
    await alice.press("Manage")
    await alice.press("New link")
    new_payload = link_payload(alice.last_text())
    assert new_payload != payload
    dave = await named(tg, "Dave")
    await dave.send(f"/start {payload}")
    assert "doesn't work" in dave.last_text()
    await dave.send(f"/start {new_payload}")
    assert "Asked to join the room Chess" in dave.last_text()

    await carol.press_data(RoomAction(action="close_yes", room_id=1).pack(), carol.last())  # forged: not the owner
    assert carol.last_answer is not None
    assert "Only the room's owner" in carol.last_answer["text"]
    await alice.send("/rooms")
    await alice.press("Manage")
    await alice.press("Close the room")
    await alice.press("Yes, close it")
    assert "is closed" in alice.last_text()
    assert "was closed by its owner" in carol.last_text()
    await carol.send("/rooms")
    assert "in no rooms" in carol.last_text()
    await dave.send(f"/start {new_payload}")
    assert "is closed" in dave.last_text()


async def test_rooms_in_russian(tg: Harness) -> None:
    olga = await named(tg, "Olga", language_code="ru")
    await olga.send("/newroom Клуб <книг>")
    assert "Комната Клуб <книг> готова" in olga.texts()[-2]  # the title is escaped, shown as typed
    await olga.send("/rooms")
    assert "Ваши комнаты: 1" in olga.last_text()
    ivan = await named(tg, "Ivan", language_code="ru")
    await ivan.send("/start room_nothing")
    assert "ссылка на комнату не работает" in ivan.last_text()


async def test_room_messages_wait_while_paused_and_show_in_unread(tg: Harness) -> None:
    alice = await named(tg, "Alice")
    bob = await named(tg, "Bob")
    payload = await create_room(alice, "Night owls")
    await join(alice, bob, payload)
    await bob.send("/pause")
    await alice.send("anyone awake?")
    assert not any("anyone awake?" in text for text in bob.texts())
    await bob.send("/unread")
    assert "Room Night owls — 1 unread" in bob.last_text()
    assert "anyone awake?" in bob.last_text()
    await alice.send("/status")
    assert "the room Night owls" in alice.last_text()


async def test_rooms_list_pages(tg: Harness) -> None:
    alice = await named(tg, "Alice")
    for n in range(10):
        await alice.send(f"/newroom Room {n}")
    await alice.send("/rooms")
    listing = alice.last()
    assert "Your rooms: 10" in (listing.text or "")
    labels = [b["text"] for b in listing.buttons]
    assert "1/2" in labels
    assert sum(1 for label in labels if label.startswith(("Room ", "✓ Room "))) == 8
    await alice.press("▶", listing)
    labels = [b["text"] for b in listing.buttons]
    assert "2/2" in labels
    assert sum(1 for label in labels if label.startswith(("Room ", "✓ Room "))) == 2


async def test_room_link_opened_before_sign_in_is_kept_through_it(tg: Harness) -> None:
    alice = await named(tg, "Alice")
    payload = await create_room(alice)
    newcomer = tg.user("Dana")
    await newcomer.send(f"/start {payload}")
    assert "room invitation" in newcomer.last_text()
    assert newcomer.last().keyboard is not None  # the share-phone button
    assert not any("asks to join" in text for text in alice.texts())
    await newcomer.send_contact(tg.new_phone())
    assert newcomer.received("signed in")
    assert "Asked to join" in newcomer.last_text()
    request = next(m for m in reversed(alice.messages) if "asks to join" in (m.text or ""))
    await alice.press("Approve", request)
    assert "You're in the room" in newcomer.last_text()


async def test_room_link_opened_before_sign_in_is_kept_through_a_restart(tg: Harness, db: DbTarget) -> None:
    """Without Redis the pending link is kept in the database (bot/fsm_storage.py), not in memory."""
    alice = await named(tg, "Alice")
    payload = await create_room(alice)
    newcomer = tg.user("Dana")
    await newcomer.send(f"/start {payload}")
    assert "room invitation" in newcomer.last_text()
    assert tg.app.ctx.redis is None
    await restart_harness(tg, db.url, db.schema)
    await newcomer.send_contact(tg.new_phone())
    assert newcomer.received("signed in")
    assert "Asked to join" in newcomer.last_text()
    assert any("asks to join" in text for text in alice.texts())


async def test_broken_room_link_before_sign_in_does_not_spoil_the_sign_in(tg: Harness) -> None:
    newcomer = tg.user("Eve")
    await newcomer.send("/start room_nosuchlink")
    await newcomer.send_contact(tg.new_phone())
    assert newcomer.received("signed in")
    assert "This room link doesn't work" in newcomer.last_text()  # told after signing in, once
    await newcomer.send("/me")
    assert "+7" in newcomer.last_text()  # the sign-in stands
    await newcomer.send("/rooms")
    assert "doesn't work" not in newcomer.last_text()


async def test_approval_has_a_write_in_the_room_button_in_the_members_language(tg: Harness) -> None:
    alice = await named(tg, "Alice")
    ivan = await tg.user("Иван", language_code="ru").signed_in()
    await ivan.send("/nick Иван")
    payload = await create_room(alice, "Книжный клуб")
    await ivan.send(f"/start {payload}")
    assert "Заявка в комнату Книжный клуб отправлена." in ivan.last_text()
    await alice.press("Approve", request_message(alice, "Иван"))
    approval = ivan.last()
    assert (approval.text or "").startswith("✅ Вы в комнате Книжный клуб. Нажмите кнопку, чтобы писать туда")
    assert [b["text"] for b in approval.buttons] == ["✍️ Писать в комнату «Книжный клуб»"]
    await ivan.press("Писать в комнату", approval)
    assert "Теперь вы пишете в комнату Книжный клуб." in ivan.last_text()
    await ivan.send("всем привет")
    assert alice.last_text().endswith("всем привет")


async def test_approval_button_in_english(tg: Harness) -> None:
    alice = await named(tg, "Alice")
    bob = await named(tg, "Bob")
    payload = await create_room(alice, "Chess")
    await bob.send(f"/start {payload}")
    await alice.press("Approve", request_message(alice, "Bob"))
    assert [b["text"] for b in bob.last().buttons] == ["✍️ Write in Chess"]
    await bob.press("Write in Chess")
    assert "writing in the room Chess" in bob.last_text()


async def test_forged_room_buttons_name_no_room_of_others(tg: Harness) -> None:
    """`rm:<action>:<room id>` names a room by its id, and ids are easy to walk. Someone who is not in a
    room must not learn its title from a forged button, open or closed."""
    alice = await named(tg, "Alice")
    mallory = await named(tg, "Mallory")
    await create_room(alice, "Surprise for Bob")
    await create_room(alice, "Plans for Carol")
    await alice.send("/rooms")
    await alice.press("Manage")
    await alice.press("Close the room")
    await alice.press("Yes, close it")
    mark, answers = mallory.mark(), []
    for room_id in (1, 2):
        for action in ("switch", "leave", "manage", "members", "kick", "rotate", "close", "close_yes"):
            await mallory.press_data(RoomAction(action=action, room_id=room_id).pack(), mallory.last())
            answers.append((mallory.last_answer or {}).get("text", ""))
    seen = " ".join([*answers, *mallory.texts_since(mark)])
    assert "Surprise" not in seen  # today: "The room Surprise for Bob is closed."
    assert "Carol" not in seen
