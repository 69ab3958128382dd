"""Both languages on a few screens, and /lang."""

from __future__ import annotations

import json

from tests.e2e.harness import ADMIN_ID, Harness, Person


async def test_russian_telegram_gets_russian_texts(tg: Harness) -> None:
    ivan = tg.user("Иван", language_code="ru")
    await ivan.send("/start")
    assert "Добро пожаловать" in ivan.last_text()
    assert ivan.last().buttons[0]["text"] == "📱 Поделиться номером"
    await ivan.send_contact(tg.new_phone())
    assert any("Вы вошли с номером" in text for text in ivan.texts())
    await ivan.send("/redeem abcdef")
    assert "Код «abcdef» не найден." in ivan.last_text()


async def test_lang_switches_answers_and_menu(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    await alice.send("/lang")
    await alice.press("Русский")
    assert "по-русски" in alice.last_text()
    await alice.send("/frobnicate")
    assert "Я не знаю такой команды" in alice.last_text()
    scope = json.dumps({"type": "chat", "chat_id": alice.id}, sort_keys=True)
    menu = tg.tg.commands[(scope, None)]
    assert any(c["description"] == "Мой профиль" for c in menu)
    await alice.send("/lang")
    await alice.press("English")
    await alice.send("/frobnicate")
    assert "don't know that command" in alice.last_text()


async def test_forged_language_changes_nothing(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    await alice.send("/lang")
    answer = await alice.press_data("lang:xx", alice.last())
    assert "don't speak that language" in answer["text"]
    await alice.send("/frobnicate")
    assert "don't know that command" in alice.last_text()


async def test_counts_take_the_right_word_forms_in_both_languages(tg: Harness) -> None:
    ivan = await tg.user("Иван", language_code="ru").signed_in()
    alice = await tg.user("Alice").signed_in()
    await alice.send("/join")
    await alice.send("first")
    await ivan.send("/join")
    assert any("Последнее сообщение:" in text for text in ivan.texts()[-3:])
    for n in range(4):
        await alice.send(f"more {n}")
    await ivan.send("/leave")
    await ivan.send("/join")
    assert any("Последние 5 сообщений:" in text for text in ivan.texts()[-3:])
    original = await ivan.send("привет всем")
    await ivan.send("/delete", reply_to=original)
    assert "Удалено у всех: 1 копия." in ivan.last_text()
    original = await alice.send("hello")
    await alice.send("/delete", reply_to=original)
    assert "Deleted for everyone: 1 copy." in alice.last_text()
    admin = await Person(tg.tg.user("Админ", user_id=ADMIN_ID, language_code="ru"), tg).signed_in()
    await admin.send("/setlimit 21 1")
    assert "Теперь лимит для всех — 21 сообщение за 1 минуту." in admin.last_text()
    await admin.send("/setlimit")
    assert "Сейчас: 21 сообщение за 1 минуту." in admin.last_text()


async def test_copies_carry_buttons_in_the_readers_telegram_language(tg: Harness) -> None:
    """A Russian-speaking member who never used /lang gets the copy's buttons in Russian."""
    ivan = await tg.user("Иван", language_code="ru").signed_in()
    await ivan.send("/join")
    nina = await tg.user("Nina").signed_in()
    await nina.send("/join")
    await nina.send("hello")
    labels = [b["text"] for b in ivan.last().buttons]
    assert labels == ["💬 Ответить лично", "⚠️ Пожаловаться"], labels
    await ivan.send("привет")
    assert [b["text"] for b in nina.last().buttons] == ["💬 Reply privately", "⚠️ Report"]
