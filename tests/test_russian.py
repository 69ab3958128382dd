"""The Russian texts as a native speaker would write them: no English words left, «вы» throughout,
no "(а)" endings, and no member's name or room title where Russian would have to inflect it."""

from __future__ import annotations

import re

from bot.i18n import LOCALES_DIR, Translator

# Words that stay Latin in Russian text: product names and what members type or see as is.
LATIN_OK = {
    "Telegram",
    "QR",
    "GMFY",
    "API",
    "UTC",
    "GIF",
    "username",
    "id",
    "Qz3Isl",
    "XXXXXXXXXX",
    "SMS",
    "CSV",
    "HTML",
    "logout",
}
NAMES = r"\{ \$(?:name|title|inviter|user|target|actor|by|reporter) \}"
# A name right after a word that governs a case (для Ивана, с Иваном, из «Клуба», лично Ивану, заявку Ивана…).
GOVERNED = re.compile(rf"(?i)\b(?:для|с|со|из|у|от|к|ко|о|об|про|лично|заявку|пригласил|в|во|на)\s+(?:<b>)?{NAMES}")
# A name as the subject of a verb or participle that would show a gender (Иван заблокирован, получил…).
GENDERED = re.compile(rf"{NAMES}(?:</b>)?(?: \(#\{{ \$\w+ \}}\))?\s+\w*(?:ан|ен|ён|ил|ел|ёл|ал|ол|лся|лась)\b")


def raw_texts() -> dict[str, str]:
    """key -> the Russian source text of each message."""
    found: dict[str, str] = {}
    for path in sorted(LOCALES_DIR.glob("ru/*.ftl")):
        current = None
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"^([a-z][a-z0-9_-]*) =(.*)$", line)
            if match:
                current = match[1]
                found[current] = match[2]
            elif current and (line.startswith((" ", "}", "[", "*")) or not line.strip()):
                found[current] += "\n" + line
            else:
                current = None
    return found


def prose(text: str) -> str:
    """Only what a reader sees as words: no placeables, selectors' keys, tags, commands or code."""
    text = re.sub(r"<code>.*?</code>", "", text, flags=re.S)
    text = re.sub(r"\{[^{}]*\}", " ", text)
    text = re.sub(r"^\s*\*?\[[a-z_0-9]+\]", " ", text, flags=re.M)
    text = re.sub(r"&\w+;|<[^>]+>|/[a-z_]+|@\w+|\$\w+|\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", " ", text)  # + setting names
    return text


def test_no_english_words_left_in_russian() -> None:
    leftovers = {
        key: words
        for key, text in raw_texts().items()
        if (words := [w for w in re.findall(r"[A-Za-z][A-Za-z0-9]+", prose(text)) if w not in LATIN_OK])
    }
    assert leftovers == {}


def test_members_are_addressed_with_vy_and_without_gendered_brackets() -> None:
    for key, text in raw_texts().items():
        assert not re.search(r"(?i)\b(ты|тебя|тебе|тобой|твой|твоя|твоё|твои)\b|йся\b", text), key
        assert not re.search(r"\((?:а|ла|ась|ась|на)\)", text), key


def test_no_name_or_title_in_an_inflected_position() -> None:
    texts = raw_texts()
    governed = {key: m.group(0) for key, text in texts.items() if (m := GOVERNED.search(text))}
    assert governed == {}
    gendered = {key: m.group(0) for key, text in texts.items() if (m := GENDERED.search(text))}
    assert gendered == {}


def test_the_phrases_the_issue_quoted() -> None:
    t = Translator().texts("ru")
    assert t("invite-unknown", code="X").startswith("Код «X» не найден.")
    assert t.plain("room-left", title="Клуб") == "Вы вышли из комнаты «Клуб»."  # an alert: no markup
    assert t("report-done-ban", name="Саша") == "⛔ Бан выдан: Саша."
    assert "Личный чат" in t("relay-now-private", name="Саша")
    assert "Саша" not in t("relay-now-private", name="Саша").split("Собеседник:")[0]
