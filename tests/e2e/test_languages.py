"""Both languages on a few screens, and /lang."""

from __future__ import annotations

import json

from tests.e2e.harness import Harness


async def test_russian_telegram_gets_russian_texts(tg: Harness) -> None:
    ivan = tg.user("Иван", language_code="ru")
    await ivan.send("/start")
    assert "Добро пожаловать" in ivan.last_text()
    assert ivan.last().buttons[0]["text"] == "📱 Поделиться номером"
    await ivan.send_contact(tg.new_phone())
    assert any("Вы вошли с номером" in text for text in ivan.texts())
    await ivan.send("/redeem abcdef")
    assert "Кода «abcdef» нет" in ivan.last_text()


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
