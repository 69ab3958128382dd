"""The first minute: a short menu before sign-in, the full one after (this chat only), sign-in ending
in one message (who you are, your code, the join question as buttons), names in your language."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.i18n.menus import USER_COMMANDS
from services.names import ADJECTIVES, ADJECTIVES_RU
from storage.models import User
from tests.e2e.harness import Harness, Person

ALL_PRIVATE = json.dumps({"type": "all_private_chats"})


def chat_scope(person: Person) -> str:
    return json.dumps({"type": "chat", "chat_id": person.id}, sort_keys=True)


def menu(tg: Harness, scope: str, language: str | None = None) -> list[str]:
    return [c["command"] for c in tg.tg.commands.get((scope, language), [])]


async def anon_name(tg: Harness, person: Person) -> str:
    async with tg.app.ctx.sessionmaker() as session:
        name = await session.scalar(select(User.anon_name).where(User.telegram_id == person.id))
    assert name is not None
    return name


async def test_signed_out_members_see_start_and_help_only_until_they_sign_in(tg: Harness) -> None:
    for language in (None, "en", "ru"):
        assert menu(tg, ALL_PRIVATE, language) == ["start", "help"]
    ivan = tg.user("Иван", language_code="ru")
    await ivan.send("/start")
    assert (chat_scope(ivan), None) not in tg.tg.commands
    await ivan.send_contact(tg.new_phone())
    assert menu(tg, chat_scope(ivan)) == USER_COMMANDS
    described = {c["command"]: c["description"] for c in tg.tg.commands[(chat_scope(ivan), None)]}
    assert described["timezone"] == "Мой часовой пояс"
    await ivan.send("/forget_me")
    await ivan.press("Да, удалить")
    assert menu(tg, chat_scope(ivan)) == []


async def test_an_admin_gets_the_staff_menu_at_sign_in(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    commands = menu(tg, chat_scope(admin))
    assert "ban" in commands
    assert "broadcast" in commands
    assert "timezone" in commands


async def test_sign_in_ends_in_one_message_in_russian(tg: Harness) -> None:
    ivan = tg.user("Иван", language_code="ru")
    await ivan.send("/start")
    mark = ivan.mark()
    await ivan.send_contact("+74951234567")
    (welcome,) = ivan.since(mark)
    name = await anon_name(tg, ivan)
    text = welcome.text or ""
    assert text.startswith("✅ Вы вошли с номером +7 *** *** 45 67.")
    assert f"Ваше имя в чате — {name}; сменить его можно в любой момент: /nick Новое имя." in text
    assert "Ваш код приглашения — " in text
    assert "Хотите войти в общий чат?" in text
    assert [b["text"] for b in welcome.buttons] == ["✅ Войти в общий чат", "Не сейчас"]
    await ivan.press("Войти в общий чат")
    assert "Вы в общем чате" in ivan.last_text()
    assert any(m.keyboard == {"remove_keyboard": True} for m in ivan.messages[-2:])  # the share button goes


async def test_sign_in_with_an_invite_link_is_still_one_message(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    code = await alice.invite_code()
    bob = tg.user("Bob")
    await bob.send(f"/start {code}")
    mark = bob.mark()
    await bob.send_contact(tg.new_phone())
    (welcome,) = bob.since(mark)
    text = welcome.text or ""
    assert "You're signed in with" in text
    assert "change it any time with /nick New name" in text
    assert f"Code accepted: you were invited by {await anon_name(tg, alice)}." in text
    assert "Would you like to join the common chat?" in text
    assert "joined with your invite code" in alice.last_text()


async def test_generated_names_are_in_the_members_language(tg: Harness) -> None:
    ivan = await tg.user("Иван", language_code="ru").signed_in()
    alice = await tg.user("Alice").signed_in()
    ru_adjectives = {form for pair in ADJECTIVES_RU for form in pair}
    assert (await anon_name(tg, ivan)).split()[0] in ru_adjectives
    assert (await anon_name(tg, alice)).split()[0] in ADJECTIVES
    # A Russian name is found by /dm however it is typed (SQLite folds Cyrillic case too).
    await ivan.send("/join")
    await alice.send("/join")
    await alice.send(f"/dm {(await anon_name(tg, ivan)).lower()}")
    assert "You're now writing privately to" in alice.last_text()


async def test_help_is_grouped_by_what_people_want_to_do(tg: Harness) -> None:
    ivan = await tg.user("Иван", language_code="ru").signed_in()
    await ivan.send("/help")
    text = ivan.last_text()
    for heading in ("Общаться со всеми", "Поговорить с одним человеком", "Позвать друзей", "Если что-то не так"):
        assert heading in text
    alice = await tg.user("Alice").signed_in()
    await alice.send("/help")
    assert "Talk with everyone" in alice.last_text()
