"""Sign-in end to end: contact, foreign contact, takeover, SMS code path, /me, /forget_me."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.harness import Harness


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
    assert "sent a 4-digit code to +7 *** *** 44 33" in bob.last_text()
    phone, code = tg.sms.sent[-1]
    assert phone == "+79165554433"
    await bob.send(code)
    assert any("signed in with +7 *** *** 44 33" in text for text in bob.texts())


async def test_wrong_code_then_too_many_attempts(tg: Harness) -> None:
    bob = tg.user("Bob")
    await bob.send("/phone +79165554433")
    _, code = tg.sms.sent[-1]
    wrong = f"{(int(code) + 1) % 10000:04d}"
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
