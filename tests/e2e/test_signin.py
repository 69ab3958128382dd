"""Sign-in end to end: contact, foreign contact, takeover, SMS code path, /me, /forget_me.

The code path is also attacked here the way an attacker would: guessing codes for someone else's
phone until the daily caps stop it, from one Telegram account or many, and a right code for a phone
bound to another Telegram account (it changes nothing until that account allows it)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from storage.models import User
from tests.e2e.harness import Harness, Person

COOLDOWN = timedelta(seconds=61)


async def test_start_shows_contact_button_and_gates_commands(tg: Harness) -> None:
    alice = tg.user("Alice")
    await alice.send("/start")
    welcome = alice.last()
    assert "Welcome" in (welcome.text or "")
    assert welcome.buttons[0].get("request_contact") is True
    await alice.send("/invite")
    assert "sign in first" in alice.last_text()
    await alice.send("/me")
    assert "sign in first" in alice.last_text()


async def test_sign_in_by_contact(tg: Harness) -> None:
    alice = tg.user("Alice")
    await alice.send("/start")
    await alice.send_contact("79161234567")  # Telegram sends contacts without "+"
    texts = alice.texts()
    assert any("signed in with +7 *** *** 45 67" in t for t in texts), texts
    assert any("Your invite code is" in t for t in texts)
    await alice.send("/me")
    assert "+7 *** *** 45 67" in alice.last_text()


async def test_foreign_contact_refused(tg: Harness) -> None:
    alice = tg.user("Alice")
    await alice.send("/start")
    await alice.send_contact("+79161234567", user_id=555)
    assert "someone else's contact" in alice.last_text()
    await alice.send("/me")
    assert "sign in first" in alice.last_text()


async def test_phone_takeover(tg: Harness) -> None:
    old = await tg.user("Old phone").signed_in("+79160000001")
    code = await old.invite_code()
    new = tg.user("New phone")
    await new.send("/start")
    await new.send_contact("+79160000001")
    assert "Signed in with +7 *** *** 00 01" in new.last_text()
    assert "another Telegram account" in old.last_text()
    await new.send("/invite")
    assert code in new.last_text()  # the same account, with its code
    await old.send("/me")
    assert "sign in first" in old.last_text()


async def test_sign_in_with_sms_code(tg: Harness) -> None:
    bob = tg.user("Bob")
    await bob.send("/phone +7 916 555-44-33")
    assert "sent a 6-digit code to +7 *** *** 44 33" in bob.last_text()
    phone, code = tg.sms.sent[-1]
    assert phone == "+79165554433"
    await bob.send(code)
    assert any("signed in with +7 *** *** 44 33" in text for text in bob.texts())


async def test_wrong_code_then_too_many_attempts(tg: Harness) -> None:
    bob = tg.user("Bob")
    await bob.send("/phone +79165554433")
    _, code = tg.sms.sent[-1]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    await bob.send(wrong)
    assert "Wrong code. Attempts left: 2" in bob.last_text()
    await bob.send(wrong)
    assert "Attempts left: 1" in bob.last_text()
    await bob.send(wrong)
    assert "Too many wrong attempts" in bob.last_text()
    await bob.send(code)  # even the right code no longer works
    assert "no code waiting" in bob.last_text()
    await bob.send("/me")
    assert "sign in first" in bob.last_text()


async def test_expired_code_and_cooldown(tg: Harness) -> None:
    bob = tg.user("Bob")
    await bob.send("/phone +79165554433")
    _, code = tg.sms.sent[-1]
    await bob.send("/phone +79165554433")
    assert "new one in" in bob.last_text()
    assert len(tg.sms.sent) == 1
    tg.clock.advance(timedelta(minutes=6))
    await bob.send(code)
    assert "expired" in bob.last_text()
    await bob.send("/phone +79165554433")  # cooldown is over: a new code is sent
    assert len(tg.sms.sent) == 2


async def test_invalid_phone(tg: Harness) -> None:
    bob = tg.user("Bob")
    await bob.send("/phone 12")
    assert "doesn't look like a valid phone number" in bob.last_text()
    assert tg.sms.sent == []


async def test_forget_me_with_confirmation(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    await alice.send("/forget_me")
    await alice.press("Cancel")
    assert "Nothing was deleted" in alice.last_text()
    await alice.send("/forget_me")
    confirm = alice.last()
    yes_data = confirm.buttons[0]["callback_data"]
    await alice.press("Yes, delete", confirm)
    assert "personal data is deleted" in alice.last_text()
    answer = await alice.press_data(yes_data, confirm)  # pressed again
    assert "sign in first" in answer.get("text", "")
    await alice.send("/me")
    assert "sign in first" in alice.last_text()
    await alice.send_contact(alice.phone)
    assert alice.received("signed in with")


async def test_unknown_command_and_help(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    await alice.send("/frobnicate")
    assert "don't know that command" in alice.last_text()
    await alice.send("/help")
    assert "/invite" in alice.last_text()


async def test_commands_menu_in_two_languages(tg: Harness) -> None:
    menus = {lang: cmds for (scope, lang), cmds in tg.tg.commands.items()}
    assert {c["command"] for c in menus["ru"]} >= {"start", "invite", "referrals"}
    assert any(c["description"] == "Мой профиль" for c in menus["ru"])
    assert any(c["description"] == "My profile" for c in menus["en"])


# --- the code path, attacked -------------------------------------------------------------------


def wrong_codes(tg: Harness) -> list[str]:
    """Guesses in order, as a brute force goes: 000000, 000001, ... skipping the code really sent (so
    that a lucky guess, a one-in-a-hundred-thousand chance over the run, cannot make the test flaky)."""
    sent = tg.sms.sent[-1][1] if tg.sms.sent else None
    return [f"{n:06d}" for n in range(4) if f"{n:06d}" != sent][:3]


def evaluated(person: Person, mark: int) -> int:
    """How many of the person's guesses since `mark` were actually checked against a code."""
    return sum("Wrong code" in text or "Too many wrong attempts" in text for text in person.texts_since(mark))


async def test_brute_force_of_a_phone_stops_at_the_daily_caps(tg: Harness) -> None:
    victim = await tg.user("Victim").signed_in()
    mallory = tg.user("Mallory")
    await mallory.send("/start")
    mark = mallory.mark()
    for _ in range(20):  # a new code each minute, three guesses at each
        await mallory.send(f"/phone {victim.phone}")
        for guess in wrong_codes(tg):
            await mallory.send(guess)
        tg.clock.advance(COOLDOWN)
    assert len(tg.sms.sent) == 5  # PHONE_CODES_PER_DAY
    assert evaluated(mallory, mark) == 10  # PHONE_CODE_FAILURES_PER_DAY, not 5 codes x 3 attempts
    await mallory.send(f"/phone {victim.phone}")
    assert "You can try again in" in mallory.last_text()
    assert not victim.received("Someone is signing in")
    await mallory.send("/me")
    assert "sign in first" in mallory.last_text()
    await victim.send("/me")
    assert "Phone: +7" in victim.last_text()

    # The caps are per UTC day: the next day the number can be asked for again.
    now = tg.clock.now()
    tg.clock.set(now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1))
    await mallory.send(f"/phone {victim.phone}")
    assert "sent a 6-digit code" in mallory.last_text()
    assert len(tg.sms.sent) == 6


@pytest.mark.parametrize("spread", ["many accounts, one phone", "one account, many phones"])
async def test_daily_caps_hold_per_phone_and_per_telegram_account(tg: Harness, spread: str) -> None:
    """Spreading the guesses over Telegram accounts (one phone) or over phones (one account) does not
    get past the caps: each is counted per phone AND per Telegram account."""
    victim = await tg.user("Victim").signed_in()
    if spread.startswith("many accounts"):
        attackers = [tg.user(f"Mallory {n}") for n in range(6)]
        phones = [victim.phone] * 6
    else:
        attackers = [tg.user("Mallory")] * 6
        phones = [tg.new_phone() for _ in range(6)]
    answers = []
    for attacker, phone, wrong in zip(attackers, phones, [3, 3, 3, 1, 0, 0], strict=True):
        await attacker.send(f"/phone {phone}")
        answers.append(attacker.last_text())
        for guess in wrong_codes(tg)[:wrong]:
            await attacker.send(guess)
        tg.clock.advance(COOLDOWN)
    assert len(tg.sms.sent) == 5
    assert all("sent a 6-digit code" in answer for answer in answers[:5]), answers
    assert "You can try again in" in answers[5]
    # Ten wrong codes so far: now even the right code of a fresh, unguessed code is refused for the day.
    await attackers[4].send(tg.sms.sent[4][1])
    assert "You can try again in" in attackers[4].last_text()
    await attackers[4].send("/me")
    assert "sign in first" in attackers[4].last_text()
    assert not victim.received("Someone is signing in")


async def test_code_for_a_taken_phone_changes_nothing_until_its_account_allows_it(tg: Harness) -> None:
    owner = await tg.user("Owner").signed_in()
    invite = await owner.invite_code()
    newcomer = tg.user("Newcomer")
    await newcomer.send(f"/phone {owner.phone}")
    await newcomer.send(tg.sms.sent[-1][1])  # the right code (a SIM swap, a lucky guess)
    assert "asked that account to allow this sign-in" in newcomer.last_text()
    ask = owner.last()
    assert "Someone is signing in with your phone" in (ask.text or "")
    assert [button["text"] for button in ask.buttons] == ["✅ Allow, it's me", "⛔ Deny"]
    allow = ask.buttons[0]["callback_data"]

    async def nothing_changed() -> None:
        await newcomer.send("/me")
        assert "sign in first" in newcomer.last_text()
        await owner.send("/invite")
        assert invite in owner.last_text()

    await nothing_changed()
    # Forged presses: by the newcomer, by another member, with a made-up token, with another id.
    mallory = await tg.user("Mallory").signed_in()
    prefix, takeover_id, token, flag = allow.split(":")
    for presser, data in (
        (newcomer, allow),
        (mallory, allow),
        (owner, f"{prefix}:{takeover_id}:AAAAAAAAAAAAAAAA:{flag}"),
        (owner, f"{prefix}:{int(takeover_id) + 1}:{token}:{flag}"),
    ):
        answer = await presser.press_data(data, ask)
        assert "no longer active" in answer.get("text", "") or "sign in first" in answer.get("text", ""), answer
    await nothing_changed()

    await owner.press("Deny", ask)
    assert "denied this sign-in" in newcomer.last_text()
    answer = await owner.press_data(allow, ask)  # replayed after the answer
    assert "no longer active" in answer.get("text", "")
    await nothing_changed()

    # A new code, and this time the owner allows it: the newcomer's Telegram account gets the account.
    tg.clock.advance(COOLDOWN)
    await newcomer.send(f"/phone {owner.phone}")
    await newcomer.send(tg.sms.sent[-1][1])
    ask = owner.last()
    allow = ask.buttons[0]["callback_data"]
    await owner.press("Allow", ask)
    assert "Signed in with" in newcomer.last_text()
    assert "this one is signed out" in (owner.tg.find(owner.id, ask.message_id).text or "")  # type: ignore[union-attr]
    await newcomer.send("/invite")
    assert invite in newcomer.last_text()  # the same account
    await owner.send("/me")
    assert "sign in first" in owner.last_text()
    for presser in (owner, newcomer):  # pressed again, by the old Telegram account or the new one
        answer = await presser.press_data(allow, ask)
        assert "no longer active" in answer.get("text", "") or "sign in first" in answer.get("text", ""), answer
    await newcomer.send("/invite")
    assert invite in newcomer.last_text()


async def test_takeover_request_expires(tg: Harness) -> None:
    owner = await tg.user("Owner").signed_in()
    newcomer = tg.user("Newcomer")
    await newcomer.send(f"/phone {owner.phone}")
    await newcomer.send(tg.sms.sent[-1][1])
    ask = owner.last()
    tg.clock.advance(timedelta(hours=1, seconds=1))  # PHONE_TAKEOVER_CONFIRM_SECONDS
    answer = await owner.press("Allow", ask)
    assert "expired" in answer.get("text", "")
    await owner.send("/me")
    assert "Phone: +7" in owner.last_text()
    await newcomer.send("/me")
    assert "sign in first" in newcomer.last_text()


async def test_code_sign_in_on_a_free_phone_is_immediate(tg: Harness) -> None:
    bob = tg.user("Bob")
    await bob.send("/phone +79165554499")
    await bob.send(tg.sms.sent[-1][1])
    assert any("signed in with +7 *** *** 44 99" in text for text in bob.texts())


async def test_phone_is_not_offered_without_an_sms_sender(tg: Harness) -> None:
    tg.app.ctx.sms = None  # what BotApp builds without SMS_SENDER_URL or SMS_DEV_LOG_CODES
    bob = tg.user("Bob")
    await bob.send("/phone +79165554433")
    assert "isn't available here" in bob.last_text()
    assert bob.last().keyboard is not None  # the contact button instead
    assert tg.sms.sent == []
    await bob.send("123456")  # a bare 6-digit text is not taken for a code
    assert "no code waiting" not in bob.last_text()
    await bob.send("/help")
    assert "/phone" not in bob.last_text()
    await bob.send("/start")
    await bob.send_contact("+79165554433")
    assert bob.received("signed in with")


async def test_help_mentions_phone_only_when_offered(tg: Harness) -> None:
    bob = tg.user("Bob")
    await bob.send("/help")
    assert "/phone" in bob.last_text()


async def test_contact_from_a_bot_or_a_chat_changes_nothing(tg: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    contact = {"phone_number": "+79160000123", "first_name": "X", "user_id": 777}
    updates = [
        {  # a bot account shares a contact: there is no user row for a bot
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": 777, "type": "private", "first_name": "Botty"},
                "from": {"id": 777, "is_bot": True, "first_name": "Botty"},
                "contact": contact,
            }
        },
        {  # a contact posted on behalf of a chat: no from_user at all
            "message": {
                "message_id": 2,
                "date": 1_700_000_000,
                "chat": {"id": -100_777, "type": "supergroup", "title": "Group"},
                "sender_chat": {"id": -100_777, "type": "supergroup", "title": "Group"},
                "contact": contact,
            }
        },
    ]
    for update in updates:
        update_id = await tg.tg.push_update(update)
        await tg.tg.wait_processed(update_id)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    async with tg.app.ctx.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(User).where(User.phone.is_not(None))) == 0
    alice = tg.user("Alice")  # and the bot still signs people in
    await alice.send_contact("+79160000124")
    assert alice.received("signed in with")
