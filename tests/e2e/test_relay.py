"""The common chat end to end: several scripted users, the real bot, the delivery queue, the fake Bot API."""

from __future__ import annotations

from tests.e2e.harness import Harness, Person


async def members(tg: Harness, *names: str) -> list[Person]:
    people = []
    for name in names:
        person = await tg.user(name).signed_in()
        await person.send("/join")
        people.append(person)
    return people


def relayed(person: Person) -> list[str]:
    """What reached this person from others (copies carry the Reply privately / Report buttons)."""
    return [m.text or "" for m in person.messages if any("Report" in b.get("text", "") for b in m.buttons)]


async def test_sign_in_asks_to_join_and_join_shows_history(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    await alice.press("Join the common chat")
    assert "You're in the common chat" in alice.last_text()
    await alice.send("hello, anyone?")
    assert "Nobody else is in the common chat yet" in alice.last_text()
    bob = await tg.user("Bob").signed_in()
    await bob.send("/join")
    assert "The last message:" in bob.last_text()
    assert "hello, anyone?" in bob.last_text()


async def test_text_relayed_to_every_other_member_with_name_and_buttons(tg: Harness) -> None:
    alice, bob, carol = await members(tg, "Alice", "Bob", "Carol")
    await alice.send("/nick Alice W")
    await alice.send("Hi <all> *bold* _x_")
    for person in (bob, carol):
        copy = person.last()
        assert copy.text == "Alice W\nHi <all> *bold* _x_"
        labels = [b["text"] for b in copy.buttons]
        assert labels == ["💬 Reply privately", "⚠️ Report"]
    assert relayed(alice) == []


async def test_reply_maps_to_each_recipients_own_copy(tg: Harness) -> None:
    alice, bob, carol = await members(tg, "Alice", "Bob", "Carol")
    original = await alice.send("question?")
    bobs_copy = bob.last()
    await bob.send("answer!", reply_to=bobs_copy)
    carol_answer = carol.last()
    assert carol_answer.text is not None
    assert carol_answer.text.endswith("answer!")
    carols_copy_of_question = next(m for m in carol.messages if (m.text or "").endswith("question?"))
    assert carol_answer.data["reply_to_message"]["message_id"] == carols_copy_of_question.message_id
    alice_answer = alice.last()
    assert alice_answer.data["reply_to_message"]["message_id"] == original.message_id  # her own original


async def test_edit_mirrored_and_delete_everywhere(tg: Harness) -> None:
    alice, bob, carol = await members(tg, "Alice", "Bob", "Carol")
    original = await alice.send("tpyo")
    buttons = {id(person): person.last().buttons for person in (bob, carol)}
    await alice.edit(original, "typo fixed")
    for person in (bob, carol):
        assert person.last().text is not None
        assert person.last().text.endswith("typo fixed")
        assert person.last().edits == 1
        assert person.last().buttons == buttons[id(person)]  # the edit keeps each copy's buttons
        assert person.last().buttons
    copies = [bob.last(), carol.last()]
    await alice.send("/delete", reply_to=original)
    assert "Deleted for everyone: 2 copies." in alice.last_text()
    assert all(c.deleted for c in copies)
    await bob.send("/delete", reply_to=bob.messages[-1])
    assert "only delete your own messages" in bob.last_text()


async def test_media_is_copied_not_downloaded_and_big_files_refused(tg: Harness) -> None:
    alice, bob = await members(tg, "Alice", "Bob")
    photo = [{"file_id": "ph1", "file_unique_id": "u1", "width": 10, "height": 10, "file_size": 2000}]
    await alice.send_message({"photo": photo, "caption": "look"})
    copy = bob.last()
    assert copy.kind == "photo"
    assert copy.text == "Alice\nlook".replace("Alice", alice_name(bob))
    assert tg.tg.calls_to("copyMessage")
    assert not tg.tg.calls_to("getFile")
    await alice.send_message(
        {
            "sticker": {
                "file_id": "st",
                "file_unique_id": "s",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            }
        }
    )
    assert bob.last().kind == "sticker"
    assert bob.last().buttons[0]["text"].startswith("💬 ")  # the name rides on the button
    big = {"file_id": "doc", "file_unique_id": "d", "file_name": "big.zip", "file_size": 6 * 1024 * 1024}
    before = len(bob.messages)
    await alice.send_message({"document": big})
    assert "too large" in alice.last_text()
    assert len(bob.messages) == before


def alice_name(reader: Person) -> str:
    header = reader.last().text or ""
    return header.split("\n", 1)[0]


async def test_limit_refuses_the_21st_message_until_the_scheduler_resets(tg: Harness) -> None:
    alice, bob = await members(tg, "Alice", "Bob")
    tg.clock.set(tg.clock.now().replace(minute=10, second=0, microsecond=0))
    for n in range(20):
        await alice.send(f"message {n}")
    await alice.send("one too many")
    refusal = alice.last_text()
    assert "sent 20 of 20 messages" in refusal
    assert "resets today at 4:00 PM" in refusal  # 13:00 UTC, in Moscow (a +7 916 phone)
    assert not any("one too many" in text for text in bob.texts())
    await alice.send("/status")
    assert "20 of 20" in alice.last_text()
    tg.clock.advance(minutes=50)
    await tg.run_jobs()
    await alice.send("fresh window")
    assert bob.last_text().endswith("fresh window")


async def test_pause_unread_resume(tg: Harness) -> None:
    alice, bob = await members(tg, "Alice", "Bob")
    await bob.send("/pause")
    before = len(bob.messages)
    await alice.send("while you were away")
    await alice.send("and another")
    assert len(bob.messages) == before + 0
    await bob.send("/unread")
    digest = bob.last_text()
    assert "Common chat — 2 unread" in digest
    assert "while you were away" in digest
    await bob.send("/unread")
    assert "Nothing unread" in bob.last_text()
    await bob.send("/resume")
    await alice.send("live again")
    assert bob.last_text().endswith("live again")


async def test_private_chat_by_button_and_back(tg: Harness) -> None:
    alice, bob, carol = await members(tg, "Alice", "Bob", "Carol")
    await alice.send("public hello")
    await bob.press("Reply privately", bob.last())
    assert "writing privately" in bob.last_text()
    assert bob.last().keyboard is not None
    assert "(private)" in bob.last().keyboard["input_field_placeholder"]
    carol_before = len(carol.messages)
    await bob.send("just between us")
    assert alice.last_text().startswith("🔒")
    assert alice.last_text().endswith("just between us")
    assert len(carol.messages) == carol_before
    await alice.press("Block", alice.last())
    await bob.send("are you there?")
    assert "doesn't accept private messages" in bob.last_text()
    await bob.send("💬 Common chat")
    assert "writing to the common chat" in bob.last_text()
    await bob.send("back in public")
    assert carol.last_text().endswith("back in public")


async def test_duplicate_update_relayed_once(tg: Harness) -> None:
    alice, bob = await members(tg, "Alice", "Bob")
    original = await alice.send("only once")
    update_id = await tg.tg.push_update({"message": tg.tg.public(original)})
    await tg.tg.wait_processed(update_id)
    await tg.deliver()
    assert sum(1 for text in bob.texts() if text.endswith("only once")) == 1


async def test_schedule_and_cancel(tg: Harness) -> None:
    alice, bob = await members(tg, "Alice", "Bob")
    await alice.send("/schedule in 10m good morning")
    assert "Scheduled for" in alice.last_text()
    await alice.send("/schedule in 20m cancel me")
    await alice.send("/scheduled")
    listing = alice.last()
    assert "good morning" in (listing.text or "")
    await alice.press("Cancel 2", listing)
    tg.clock.advance(minutes=30)
    await tg.run_jobs()
    assert bob.last_text().endswith("good morning")
    assert not any("cancel me" in text for text in bob.texts())


async def test_who_and_status(tg: Harness) -> None:
    alice, bob = await members(tg, "Alice", "Bob")
    await alice.send("/who")
    assert "Seen recently" in alice.last_text()
    await alice.press(bob.texts()[0][:0] + "💬", alice.last())
    assert "writing privately" in alice.last_text()
    await alice.send("/status")
    status = alice.last_text()
    assert "Your time: 3:00 PM, Moscow (UTC+3)" in status
    assert "(private)" in status


async def test_report_button_on_a_real_copy_reaches_admins_and_delete_removes_every_copy(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    alice, bob, carol = await members(tg, "Alice", "Bob", "Carol")
    await bob.send("buy cheap stuff")
    alice_copy, carol_copy = alice.last(), carol.last()
    await alice.press("Report", alice_copy)
    await alice.press("Spam")
    assert "moderators have your report" in alice.last_text()
    card = admin.last()
    assert "buy cheap stuff" in "\n".join(admin.texts()[-3:])
    await admin.press("Delete", card)
    assert alice_copy.deleted
    assert carol_copy.deleted


async def test_banned_member_is_not_relayed_and_told_until_when(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    alice, bob = await members(tg, "Alice", "Bob")
    await admin.send(f"/ban {alice.phone} 2h flooding")
    before = len(bob.messages)
    await alice.send("can I still talk?")
    assert "banned" in alice.last_text()
    assert "until" in alice.last_text()
    assert len(bob.messages) == before


async def test_a_banned_members_edit_is_not_mirrored(tg: Harness) -> None:
    """SPEC 6: a banned user's messages are not relayed, their edits included (an edit would put new
    text on every copy)."""
    admin = await tg.admin().signed_in()
    alice, bob = await members(tg, "Alice", "Bob")
    original = await alice.send("hello all")
    await admin.send(f"/ban {alice.phone} 2h flooding")
    await alice.edit(original, "buy cheap watches")
    assert bob.last().text is not None
    assert bob.last().text.endswith("hello all")
    assert bob.last().edits == 0
