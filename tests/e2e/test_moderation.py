"""Complaints, bans and admin moderation end to end (SPEC 6), with a stand-in for the relay."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from handlers.admin import ComplaintOpen, UserAction
from handlers.keyboards import MessageAction, Page
from handlers.reports import ReportAction, ReportReason
from storage.models import AuditEntry, Ban, Moderator, Report, WarningEntry
from tests.e2e.harness import ADMIN_ID, Harness, Person, count
from tests.e2e.relay_double import FakeRelay, db_user, user_id
from tests.fakes.telegram import ChatMessage, FakeChat

ADMIN_CHAT = -1001234567890
UNKNOWN = "I don't know that command"
STALE = "This button is no longer active."


@pytest.fixture
def bot_settings() -> dict[str, object]:
    return {"admin_chat_id": ADMIN_CHAT, "moderation_page_size": 2}


@pytest.fixture(autouse=True)
def _admin_chat_is_a_supergroup(tg: Harness) -> FakeChat:
    """As in production: the admin chat is a group, and the bot serves only its report cards there."""
    return tg.tg.group("Moderators", chat_id=ADMIN_CHAT)


async def people(tg: Harness, *names: str) -> list[Person]:
    return [await tg.user(name, username=name.lower()).signed_in() for name in names]


def admin_chat(tg: Harness) -> list[ChatMessage]:
    return tg.tg.bot_messages(ADMIN_CHAT)


def last_card(tg: Harness) -> ChatMessage:
    cards = [m for m in admin_chat(tg) if m.buttons]
    assert cards, [m.text for m in admin_chat(tg)]
    return cards[-1]


async def audit_actions(tg: Harness) -> list[str]:
    async with tg.app.ctx.sessionmaker() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def state(tg: Harness) -> tuple[int, ...]:
    """Everything moderation can change, to prove that a refused action changed nothing."""
    return (
        await count(tg, Ban),
        await count(tg, Ban, Ban.lifted_at.is_(None)),
        await count(tg, WarningEntry),
        await count(tg, WarningEntry, WarningEntry.revoked_at.is_(None)),
        await count(tg, Report, Report.status == "open"),
        await count(tg, Moderator),
        await count(tg, AuditEntry),
    )


async def test_three_reports_ban_then_scheduler_lifts_it(tg: Harness) -> None:
    bob, r1, r2, r3 = await people(tg, "Bob", "R1", "R2", "R3")
    reporter_names = {(await db_user(tg, r)).display_name for r in (r1, r2, r3)}
    await r1.send("/report @bob spam")
    assert "moderators have your report" in r1.last_text()
    assert "warning 1 of 3" in bob.last_text()
    await r2.send("/report @bob abuse")
    assert "warning 2 of 3" in bob.last_text()
    await r3.send("/report @bob other")
    assert "can't send messages until today at 7:00 PM" in bob.last_text()
    # Never who reported: no reporter's name, username or id in anything Bob got.
    for text in bob.texts():
        assert not any(name in text for name in reporter_names | {"@r1", "@r2", "@r3"}), text
    # The relay refuses while banned, with the time.
    await bob.send("am I still here?")
    assert "banned and can't send messages until today at 7:00 PM" in bob.last_text()
    # Each report reached the admin chat; the third card shows the automatic ban.
    cards = [m.text or "" for m in admin_chat(tg) if m.buttons]
    assert len(cards) == 3
    assert "Banned automatically until today at 4:00 PM"  # the admin chat reads DEFAULT_TIMEZONE (UTC) in cards[-1]

    mark = bob.mark()
    tg.clock.advance(hours=3, minutes=59)
    await tg.run_jobs()
    assert bob.texts_since(mark) == []
    tg.clock.advance(minutes=1)
    await tg.run_jobs()
    assert bob.texts_since(mark) == ["✅ Your ban is over. You can write again."]
    await tg.run_jobs()
    assert len(bob.texts_since(mark)) == 1  # told once
    assert await count(tg, Ban, Ban.lifted_at.is_(None)) == 0
    assert await audit_actions(tg) == ["report", "report", "report", "ban", "ban_expired"]


async def test_duplicate_within_24h_and_self_report_refused(tg: Harness) -> None:
    alice, _ = await people(tg, "Alice", "Bob")
    await alice.send("/report @alice spam")
    assert "can't report yourself" in alice.last_text()
    await alice.send("/report @bob spam")
    assert "moderators have your report" in alice.last_text()
    before = await state(tg)
    tg.clock.advance(hours=20)
    await alice.send("/report @bob abuse")
    assert "already reported this member in the last 24 hours" in alice.last_text()
    assert "again in 4 h" in alice.last_text()
    await alice.send("/report @bob")  # the reason choice is refused up front too
    assert "already reported" in alice.last_text()
    assert await state(tg) == before
    tg.clock.advance(hours=4)
    await alice.send("/report @bob abuse")
    assert "moderators have your report" in alice.last_text()
    assert await count(tg, Report) == 2


async def test_report_button_under_a_relayed_message(tg: Harness) -> None:
    relay = FakeRelay(tg).bind()
    alice, bob = await people(tg, "Alice", "Bob")
    relay_id, copies = await relay.relay(bob, "buy cheap watches at spam.example", alice, bob)
    await alice.press("Report", copies[alice.id])
    choice = alice.last()
    assert "Why are you reporting this?" in (choice.text or "")
    assert [b["text"] for b in choice.buttons] == ["🗑 Spam", "🤬 Abuse", "❓ Other", "Cancel"]
    spam_data = choice.buttons[0]["callback_data"]
    await alice.press("Spam", choice)
    assert "moderators have your report" in alice.last_text()
    assert "warning 1 of 3" in bob.last_text()
    # The admin chat got a copy of the original message, and the card in reply to it.
    copy_calls = tg.tg.calls_to("copyMessage")
    assert copy_calls[-1].params["from_chat_id"] == bob.id
    assert copy_calls[-1].params["chat_id"] == ADMIN_CHAT
    copied, card = admin_chat(tg)[-2:]
    assert copied.text == "buy cheap watches at spam.example"
    assert card.data["reply_to_message"]["message_id"] == copied.message_id
    assert "Report #1 · 🗑 Spam" in (card.text or "")
    assert [b["text"] for b in card.buttons] == ["⛔ Ban", "⚠️ Warn", "✖️ Dismiss", "🗑 Delete message"]
    async with tg.app.ctx.sessionmaker() as session:
        report = await session.scalar(select(Report))
    assert report is not None
    assert (report.relay_message_id, report.origin_chat_id) == (relay_id, bob.id)
    # The same reason pressed again: refused, nothing added.
    answer = await alice.press_data(spam_data, choice)
    assert "already reported" in answer["text"]
    assert await count(tg, Report) == 1
    # Bob reporting his own message is refused before any reason is asked.
    await bob.press("Report", copies[bob.id])
    assert "can't report yourself" in bob.last_answer["text"]  # type: ignore[index]
    # A forged report of a message that does not exist.
    answer = await alice.press_data(MessageAction(action="report", message_id=999).pack(), copies[alice.id])
    assert "isn't for you" in answer["text"]
    answer = await alice.press_data(ReportReason(reason="abuse", target=0, msg=999).pack(), choice)
    assert "isn't for you" in answer["text"]
    # Forged ids no table can hold (PostgreSQL's integers are 32-bit): an expired button, not an error.
    for data in ("rr:abuse:0:346155665923740", "rr:spam:-1:5", "msg:report:2147483648"):
        answer = await alice.press_data(data, choice)
        assert answer["text"] == STALE, data
    assert await count(tg, Report) == 1


async def test_report_as_a_reply_and_cancel(tg: Harness) -> None:
    relay = FakeRelay(tg).bind()
    alice, bob, carol = await people(tg, "Alice", "Bob", "Carol")
    _, copies = await relay.relay(bob, "you are all idiots", alice, carol)
    await carol.send("/report", reply_to=copies[carol.id])
    await carol.press("Cancel")
    assert "Report cancelled" in carol.last_text()
    assert await count(tg, Report) == 0
    await alice.send("/report", reply_to=copies[alice.id])
    await alice.press("Abuse")
    assert "moderators have your report" in alice.last_text()
    await carol.send("/report abuse", reply_to=copies[carol.id])
    assert "moderators have your report" in carol.last_text()
    assert "warning 2 of 3" in bob.last_text()
    await alice.send("/report", reply_to=alice.messages[0])  # a bot message that is not a relayed copy
    assert "not a member's message" in alice.last_text()
    await alice.send("/report")
    assert "Reply /report to a member's message" in alice.last_text()


async def test_admin_chat_buttons_and_double_presses(tg: Harness) -> None:
    relay = FakeRelay(tg).bind()
    admin = await tg.admin().signed_in()
    alice, bob, carol = await people(tg, "Alice", "Bob", "Carol")
    _, copies = await relay.relay(bob, "spam spam", alice, carol)
    await alice.send("/report spam", reply_to=copies[alice.id])
    first = last_card(tg)
    ban_data = first.buttons[0]["callback_data"]
    await admin.press("Ban", first)
    assert f"{(await db_user(tg, bob)).display_name} is banned" in admin.last_answer["text"]  # type: ignore[index]
    assert "banned you until today at 7:00 PM" in bob.last_text()
    admin_name = (await db_user(tg, admin)).display_name
    edited = tg.tg.find(ADMIN_CHAT, first.message_id)
    assert edited is not None
    assert f"Confirmed by {admin_name}" in (edited.text or "")
    before = await state(tg)
    for data in (
        ban_data,
        ReportAction(action="warn", report_id=1).pack(),
        ReportAction(action="dismiss", report_id=1).pack(),
    ):
        answer = await admin.press_data(data, first)
        assert "already handled" in answer["text"]
        assert "Nothing was changed" in answer["text"]
    assert await state(tg) == before

    await carol.send("/report abuse", reply_to=copies[carol.id])
    second = last_card(tg)
    second_warn = second.buttons[1]["callback_data"]
    assert "Active warnings now: 1" in (second.text or "")  # the ban used up the earlier warnings
    # A member of the admin chat who is not a moderator: nothing changes, the stale-button answer.
    answer = await alice.press_data(second.buttons[0]["callback_data"], second)
    assert answer["text"] == STALE
    assert await count(tg, Report, Report.status == "open") == 1
    await admin.press("Dismiss", second)
    assert "Report dismissed" in admin.last_answer["text"]  # type: ignore[index]
    assert await count(tg, WarningEntry, WarningEntry.revoked_at.is_(None), WarningEntry.ban_id.is_(None)) == 0
    answer = await admin.press_data(second_warn, second)  # Warn after Dismiss
    assert f"already handled (dismissed by {admin_name})" in answer["text"]

    # Delete: once only.
    relay.bind(remover=True)
    answer = await admin.press_data(ReportAction(action="del", report_id=1).pack(), first)
    assert answer["text"] == "Message deleted everywhere."
    assert tg.tg.find(alice.id, copies[alice.id].message_id).deleted  # type: ignore[union-attr]
    answer = await admin.press_data(ReportAction(action="del", report_id=1).pack(), first)
    assert "already deleted" in answer["text"]
    assert await audit_actions(tg) == ["report", "ban", "report", "dismiss", "delete_message"]


ADMIN_COMMANDS = [
    "/ban @bob",
    "/ban @bob 2h flood",
    "/unban @bob",
    "/warn @bob rude",
    "/complaints",
    "/user @bob",
    "/stats",
    "/audit",
    "/mod @bob",
    "/unmod @bob",
]


async def test_non_admin_gets_unknown_command_for_everything(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    alice, bob, mallory = await people(tg, "Alice", "Bob", "Mallory")
    await alice.send("/report @bob spam")
    await admin.send("/user @bob")
    card = admin.last()
    await admin.send("/ban @alice 1h")
    before = await state(tg)
    await mallory.send("/frobnicate")
    unknown = mallory.last_text()
    assert UNKNOWN in unknown
    for command in ADMIN_COMMANDS:
        await mallory.send(command)
        assert mallory.last_text() == unknown, command
    garbage = await mallory.press_data("zz:1", card)
    assert garbage["text"] == STALE
    bob_id = await user_id(tg, bob)
    forged = [
        ReportAction(action="ban", report_id=1),
        ReportAction(action="warn", report_id=1),
        ReportAction(action="dismiss", report_id=1),
        ReportAction(action="del", report_id=1),
        UserAction(action="ban", user_id=bob_id),
        UserAction(action="unban", user_id=await user_id(tg, alice)),
        UserAction(action="warn", user_id=bob_id, n=1),
        UserAction(action="mod", user_id=await user_id(tg, mallory)),
        UserAction(action="unmod", user_id=bob_id),
        ComplaintOpen(report_id=1),
        Page(list="cmp", page=0),
        Page(list="aud", page=0),
    ]
    mark = mallory.mark()
    for data in forged:
        answer = await mallory.press_data(data.pack(), card)
        assert answer == {**garbage, "callback_query_id": answer["callback_query_id"]}, data
    assert mallory.since(mark) == []
    assert await state(tg) == before
    # A signed-out stranger gets the same as for any unknown command.
    stranger = tg.user("Stranger")
    await stranger.send("/frobnicate")
    refused = stranger.last_text()
    await stranger.send("/ban @bob")
    assert stranger.last_text() == refused


async def test_admin_commands(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    (bob,) = await people(tg, "Bob")
    await admin.send("/ban")
    assert "Usage: /ban" in admin.last_text()
    await admin.send("/ban @nobody")
    assert "No user matches" in admin.last_text()
    await admin.send("/ban @bob 30m flooding the chat")
    assert "banned for 30 minutes, until today at 3:30 PM" in admin.last_text()
    assert "banned you until today at 3:30 PM. Reason: flooding the chat." in bob.last_text()
    await admin.send("/ban @bob 2h")
    assert "already banned until today at 3:30 PM" in admin.last_text()
    await admin.send(f"/ban {ADMIN_ID}")
    assert "can't do that" in admin.last_text()
    await admin.send("/unban @bob")
    assert "is no longer banned" in admin.last_text()
    assert "lifted your ban" in bob.last_text()
    await admin.send("/unban @bob")
    assert "is not banned" in admin.last_text()
    await admin.send("/warn @bob be nice")
    assert "warned: 1 of 3" in admin.last_text()
    assert "A moderator warned you: be nice. This is warning 1 of 3" in bob.last_text()
    await admin.send("/warn @bob")
    await admin.send("/warn @bob")
    assert "banned until today at 7:00 PM" in admin.last_text()
    await admin.send("/stats")
    stats = admin.last_text()
    assert "Members: 2 (signed in: 2)" in stats
    assert "Banned now: 1" in stats
    assert "3 warnings" in stats
    await admin.send("/audit")
    log = admin.last_text()
    assert "Moderation log: 6" in log
    assert "(page 1/3)" in log
    admin_id, bob_name, bob_id = await user_id(tg, admin), (await db_user(tg, bob)).display_name, await user_id(tg, bob)
    admin_name = (await db_user(tg, admin)).display_name
    # the third warning banned automatically
    assert f"today at 3:00 PM · bot banned {bob_name} (#{bob_id}) for 4 hours" in log
    assert f"today at 3:00 PM · {admin_name} (#{admin_id}) warned {bob_name} (#{bob_id})" in log
    await admin.press("▶")
    page2 = admin.last_text()
    assert "(page 2/3)" in page2
    assert "warned" in page2
    assert "— be nice" in page2
    await admin.press("▶")
    page3 = admin.last_text()
    assert f"{admin_name} (#{admin_id}) banned {bob_name} (#{bob_id}) for 30 minutes — flooding the chat" in page3
    assert f"{admin_name} (#{admin_id}) unbanned {bob_name}" in page3


async def test_user_card_buttons_and_complaints(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    bob, r1, r2, r3 = await people(tg, "Bob", "R1", "R2", "R3")
    await admin.send("/user @bob")
    card = admin.last()
    assert "Role: member" in (card.text or "")
    assert "Warnings: 0 of 3" in (card.text or "")
    assert [b["text"] for b in card.buttons] == ["⛔ Ban", "⚠️ Warn", "🛡 Make moderator"]
    warn_data = card.buttons[1]["callback_data"]
    await admin.press("Warn", card)
    assert "Warnings: 1 of 3" in (tg.tg.find(admin.id, card.message_id).text or "")  # type: ignore[union-attr]
    answer = await admin.press_data(warn_data, card)  # the same Warn again
    assert "out of date" in answer["text"]
    assert await count(tg, WarningEntry) == 1
    await admin.press("Ban", card)
    assert "Banned until: today at 7:00 PM" in (tg.tg.find(admin.id, card.message_id).text or "")  # type: ignore[union-attr]
    ban_data = UserAction(action="ban", user_id=await user_id(tg, bob)).pack()
    answer = await admin.press_data(ban_data, card)
    assert "already banned" in answer["text"]
    await admin.press("Unban", card)
    assert "lifted your ban" in bob.last_text()
    for reporter in (r1, r2, r3):
        await reporter.send("/report @r1 spam" if reporter is not r1 else "/report @r2 spam")
    await admin.send("/complaints")
    listing = admin.last()
    assert "Open complaints: 3" in (listing.text or "")
    assert "(page 1/2)" in (listing.text or "")
    await admin.press("▶", listing)
    assert "(page 2/2)" in (tg.tg.find(admin.id, listing.message_id).text or "")  # type: ignore[union-attr]
    await admin.press("#1")
    opened = admin.last()
    assert "Report #1" in (opened.text or "")
    assert "⛔ Ban" in [b["text"] for b in opened.buttons]
    await admin.press("Dismiss", opened)
    await admin.send("/complaints")
    assert "Open complaints: 2" in admin.last_text()


async def test_mod_and_unmod_with_command_menus(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    carol, _ = await people(tg, "Carol", "Dave")

    def menu(chat_id: int, lang: str | None) -> set[str]:
        key = (json.dumps({"type": "chat", "chat_id": chat_id}, sort_keys=True), lang)
        return {c["command"] for c in tg.tg.commands.get(key, [])}

    assert {"ban", "mod", "complaints", "audit"} <= menu(ADMIN_ID, "en")  # admins get their menu at start-up
    assert "ban" not in {c["command"] for c in tg.tg.commands[(json.dumps({"type": "all_private_chats"}), "en")]}
    await carol.send("/stats")
    assert UNKNOWN in carol.last_text()
    await admin.send("/mod @carol")
    assert "is a moderator now" in admin.last_text()
    assert "You are a moderator now" in carol.last_text()
    assert {"ban", "complaints"} <= menu(carol.id, "ru")
    assert "mod" not in menu(carol.id, "en")
    ru = tg.tg.commands[(json.dumps({"type": "chat", "chat_id": carol.id}, sort_keys=True), "ru")]
    assert any(c["description"] == "Журнал модерации" for c in ru)
    await admin.send("/mod @carol")
    assert "already a moderator" in admin.last_text()
    await carol.send("/stats")
    assert "Statistics" in carol.last_text()
    assert "Moderators: 1" in carol.last_text()
    await carol.send("/warn @dave")
    assert "warned: 1 of 3" in carol.last_text()
    await carol.send("/mod @dave")  # moderators can't make moderators
    assert UNKNOWN in carol.last_text()
    await carol.send(f"/ban {ADMIN_ID}")
    assert "can't do that" in carol.last_text()
    await admin.send("/unmod @carol")
    assert "no longer a moderator" in admin.last_text()
    assert menu(carol.id, "en") == set()
    assert menu(carol.id, "ru") == set()
    assert menu(carol.id, None) == set()
    await carol.send("/stats")
    assert UNKNOWN in carol.last_text()
    await admin.send("/unmod @carol")
    assert "is not a moderator" in admin.last_text()
    assert await audit_actions(tg) == ["mod", "warn", "unmod"]


async def test_a_moderator_cannot_lift_their_own_ban_or_dismiss_reports_against_them(tg: Harness) -> None:
    """Moderators are members too: their bans and the reports against them are for other staff. A
    banned moderator lifting their own ban, or one dismissing the reports against them (each report is
    a warning, three ban), would put them out of moderation's reach."""
    relay = FakeRelay(tg).bind()
    admin = await tg.admin().signed_in()
    mo, alice = await people(tg, "Mo", "Alice")
    await admin.send("/mod @mo")
    _, copies = await relay.relay(mo, "buy my stuff", alice)
    await alice.send("/report spam", reply_to=copies[alice.id])
    card = last_card(tg)
    dismiss = next(b["callback_data"] for b in card.buttons if "dismiss" in b["callback_data"])
    before = await state(tg)
    answer = await mo.press_data(dismiss, card)
    assert "can't do that" in answer.get("text", ""), answer  # today: "Report dismissed", warning revoked
    assert await state(tg) == before

    await admin.send("/ban @mo 1d")
    assert "banned" in admin.last_text()
    before = await state(tg)
    await mo.send("/unban @mo")
    assert "can't do that" in mo.last_text()  # today: "Mo is unbanned"
    assert await state(tg) == before
    await mo.send(f"/unban #{(await db_user(tg, mo)).id}")
    assert await state(tg) == before
