"""Forged buttons under relayed messages: `msg:<action>:<id>` and the report reasons name a relayed
message by its id, and ids are easy to guess. A member who was never sent a message may not report it
(which copies it to the admin chat), open a private chat with its author or block them (which names
them). Written as the attacker goes: Carol forges buttons for a private message between Alice and Bob."""

from __future__ import annotations

import pytest

from handlers.keyboards import MessageAction
from handlers.relay import DmUser
from handlers.reports import ReportReason
from storage.models import Block, Member, Report, WarningEntry
from tests.e2e.harness import Harness, Person, count
from tests.e2e.relay_double import db_user
from tests.fakes.telegram import ChatMessage

ADMIN_CHAT = -1001234567890
NOT_YOURS = "This button isn't for you"


@pytest.fixture
def bot_settings() -> dict[str, object]:
    return {"admin_chat_id": ADMIN_CHAT}


async def members(tg: Harness, *names: str) -> list[Person]:
    people = []
    for name in names:
        person = await tg.user(name).signed_in()
        await person.send("/join")
        await person.send(f"/nick {name}")
        people.append(person)
    return people


def relay_id_of(copy: ChatMessage) -> int:
    report = next(b["callback_data"] for b in copy.buttons if b["callback_data"].startswith("msg:report:"))
    return int(report.rsplit(":", 1)[1])


async def private_message(alice: Person, bob: Person, text: str) -> tuple[int, ChatMessage]:
    """Alice writes privately to Bob; returns the relay id and Bob's copy."""
    await alice.send("/dm Bob")
    await alice.send(text)
    copy = bob.last()
    assert text in (copy.text or "")
    await alice.send("/common")
    return relay_id_of(copy), copy


async def test_forged_buttons_for_someone_elses_private_message_are_refused(tg: Harness) -> None:
    alice, bob, carol = await members(tg, "Alice", "Bob", "Carol")
    secret = "my flat is number 12, come at 5"
    relay_id, _ = await private_message(alice, bob, secret)
    await alice.send("hello everyone")  # Carol got this one: her copy is where she presses
    carols_copy = carol.last()
    alice_name = (await db_user(tg, alice)).display_name
    mark = carol.mark()
    copies_before = len(tg.tg.calls_to("copyMessage"))

    for data in (
        MessageAction(action="report", message_id=relay_id).pack(),
        ReportReason(reason="spam", target=0, msg=relay_id).pack(),
        ReportReason(reason="abuse", target=(await db_user(tg, alice)).id, msg=relay_id).pack(),
        MessageAction(action="dm", message_id=relay_id).pack(),
        MessageAction(action="block", message_id=relay_id).pack(),
    ):
        answer = await carol.press_data(data, carols_copy)
        assert NOT_YOURS in answer.get("text", ""), (data, answer)
        assert alice_name not in answer.get("text", ""), data

    # Nothing reached the admin chat, nothing was written, and Carol learned nothing.
    assert tg.tg.bot_messages(ADMIN_CHAT) == []
    assert len(tg.tg.calls_to("copyMessage")) == copies_before
    assert await count(tg, Report) == 0
    assert await count(tg, WarningEntry) == 0
    assert await count(tg, Block) == 0
    carol_id = (await db_user(tg, carol)).id
    assert await count(tg, Member, Member.user_id == carol_id, Member.target_kind == "private") == 0
    assert [t for t in carol.texts_since(mark) if secret in t or alice_name in t] == []


async def test_the_recipient_and_the_author_may_still_use_them(tg: Harness) -> None:
    alice, bob, _ = await members(tg, "Alice", "Bob", "Carol")
    relay_id, bobs_copy = await private_message(alice, bob, "buy cheap watches")

    await bob.press("Reply privately", bobs_copy)
    assert "writing privately to <b>Alice</b>" in bob.last_text() or "writing privately to Alice" in bob.last_text()
    await bob.press("Report", bobs_copy)
    assert "Why are you reporting this?" in bob.last_text()
    await bob.press("Spam")
    assert "moderators have your report" in bob.last_text()
    assert "buy cheap watches" in " ".join(m.text or "" for m in tg.tg.bot_messages(ADMIN_CHAT))
    # Alice pressing a forged button of her own message: allowed, and refused for its own reason.
    answer = await alice.press_data(MessageAction(action="report", message_id=relay_id).pack(), alice.last())
    assert "can't report yourself" in answer["text"]


async def test_a_button_for_a_message_that_never_existed_says_the_same(tg: Harness) -> None:
    (carol,) = await members(tg, "Carol")
    for data in (
        MessageAction(action="report", message_id=999).pack(),
        MessageAction(action="dm", message_id=999).pack(),
        MessageAction(action="block", message_id=999).pack(),
        ReportReason(reason="spam", target=0, msg=999).pack(),
        ReportReason(reason="spam", target=999, msg=0).pack(),  # a member by an id nobody has
    ):
        answer = await carol.press_data(data, carol.last())
        assert NOT_YOURS in answer.get("text", ""), data


async def test_a_forged_who_button_names_nobody_outside_the_common_chat(tg: Harness) -> None:
    """/who's buttons (`dm:<account id>`) name people in the common chat. Forged with other ids they
    walked every account: the name of each member who never joined (or left) the common chat, and a
    private chat opened with them; for accounts signed out, their name in the refusal."""
    (carol,) = await members(tg, "Carol")
    hermit = await tg.user("Hermit").signed_in()  # signed in, never joined the common chat
    await hermit.send("/nick Hermit")
    gone = await tg.user("Gone").signed_in()
    await gone.send("/join")
    gone_name = (await db_user(tg, gone)).display_name
    await gone.send("/forget_me")
    await gone.press("Yes")
    mark, answers = carol.mark(), []
    for person in (hermit, gone):
        account = await db_user(tg, person)
        answer = await carol.press_data(DmUser(user_id=account.id).pack(), carol.last())
        answers.append(answer.get("text", ""))
    seen = " ".join([*answers, *carol.texts_since(mark)])
    assert "Hermit" not in seen  # today: "You're writing privately to Hermit"
    assert gone_name not in seen
    assert all(NOT_YOURS in answer for answer in answers), answers
    carol_id = (await db_user(tg, carol)).id
    assert await count(tg, Member, Member.user_id == carol_id, Member.target_kind == "private") == 0

    # A button /who really shows still works.
    await members(tg, "Dora")
    await carol.send("/who")
    await carol.press("Dora")
    assert "Dora" in carol.last_text()


async def test_a_forged_member_report_button_reports_nobody(tg: Harness) -> None:
    """After `/report <nickname>` the reason buttons name the member by account id. Forged with other
    ids, each press reported (and so warned: three ban) a member the reporter never named, and the
    answer told which ids have an account."""
    carol, dora = await members(tg, "Carol", "Dora")
    hermit = await tg.user("Hermit").signed_in()  # never in the common chat: nobody can name them
    before = await count(tg, Report), await count(tg, WarningEntry)
    await carol.send("/report Dora")  # Carol named Dora: her buttons name Dora, for Carol only
    dora_button = next(b["callback_data"] for b in carol.last().buttons if "Spam" in b["text"])
    forged = ReportReason.unpack(dora_button)
    for target in ((await db_user(tg, hermit)).id, 999):
        for seal in ("", forged.seal):
            data = ReportReason(reason="abuse", target=target, msg=0, seal=seal).pack()
            answer = await carol.press_data(data, carol.last())
            assert NOT_YOURS in answer.get("text", ""), (target, answer)  # today: "moderators have your report"
    answer = await dora.press_data(dora_button, dora.last())  # Carol's button, pressed by someone else
    assert NOT_YOURS in answer.get("text", ""), answer
    assert (await count(tg, Report), await count(tg, WarningEntry)) == before

    await carol.press("Spam")  # her own button still works
    assert "moderators have your report" in carol.last_text()
    assert await count(tg, Report) == before[0] + 1
