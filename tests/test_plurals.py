"""Every count is written with the right form of its word, in both languages (Fluent plural categories).

Each message that takes a count is either listed in AGREES (a word agrees with the number: it has
plural variants) or in LABELS (the number stands alone: "Warnings: 3", "(page 2/5)"), so a new
counted message has to choose. Each is rendered with 1, 2, 5, 11, 21 and 101."""

from __future__ import annotations

import re
from functools import cache

import pytest

from bot.i18n import Translator
from tests.test_texts import catalog

NS = (1, 2, 5, 11, 21, 101)
# Variables that hold a count.
COUNTS = {
    "count", "total", "limit", "minutes", "seconds", "hours", "members", "used", "warnings", "max", "left",
    "delivered", "blocked", "failed", "users", "signed_in", "banned", "open", "reports", "moderators", "steps",
    "invited", "length", "pending", "warnings_total", "bans", "pages", "n",
}  # fmt: skip
NOT_COUNTS = {("relay-status", "banned")}  # a moment, not a number
AGREES: dict[str, list[str]] = {
    "relay-history": ["count"],
    "panel-broadcast-audience-size": ["count"],
    "panel-complaint-reporters": ["count"],
    "panel-gmfy-badges": ["count"],
    "panel-logged-out": ["count"],
    "panel-link": ["minutes"],
    "panel-settings-limit-now": ["limit", "minutes"],
    "flood-dropped": ["count"],
    "relay-deleted": ["count"],
    "relay-setlimit-usage": ["limit", "minutes"],
    "relay-setlimit-done": ["limit", "minutes"],
    "relay-limit-reached": ["limit"],
    "relay-schedule-too-long": ["length"],
    "relay-schedule-full": ["limit"],
    "moderation-report-duplicate": ["hours"],
    "broadcast-too-long": ["length"],
    "broadcast-preview": ["count"],
    "admin-stats": ["reports", "warnings"],
    "room-title-invalid": ["limit"],
    "room-manage": ["count"],
    "gmfy-profile-challenge-line": ["steps"],
    "gmfy-challenge-mine": ["steps"],
    "signin-code-sent": ["minutes"],
    "signin-code-cooldown": ["seconds"],
    "signin-code-daily-limit": ["hours", "minutes"],
    "signin-takeover-asked": ["minutes"],
    "signin-takeover-ask": ["minutes"],
    "oauth-confirm-signin": ["minutes"],
    "oauth-confirm-takeover": ["minutes"],
    "timezone-found": ["count"],
    "unit-seconds": ["n"],
    "unit-minutes": ["n"],
    "unit-hours": ["n"],
    "unit-days": ["n"],
    "unit-weeks": ["n"],
}
# A number alone after a colon, in brackets, or "N of M": no word to agree with.
LABELS = {
    "gmfy-profile-badge-line", "gmfy-admin-outbox", "referrals-title", "moderation-warned-report",
    "moderation-warned", "report-card-warnings", "admin-warned", "admin-complaints-title", "admin-user-card",
    "admin-audit-title", "broadcast-btn-send", "broadcast-progress", "broadcast-finished", "relay-unread-common",
    "relay-unread-private", "relay-unread-room", "relay-status", "relay-who", "relay-scheduled-title",
    "relay-scheduled-left", "room-list", "room-btn-switch", "room-members", "signin-code-wrong", "me-card",
    "relay-btn-cancel", "admin-stats",
    "panel-audit-title", "panel-broadcast-counts", "panel-chart-invites", "panel-chart-messages", "panel-chart-reports",
    "panel-chart-signups", "panel-complaints-title", "panel-history", "panel-more", "relay-unread-more",
}  # fmt: skip


@cache
def texts() -> dict[str, dict[str, set[str]]]:
    return catalog()


@cache
def translator() -> Translator:
    return Translator()


def counted_messages() -> dict[str, set[str]]:
    found = {key: {n for n in names & COUNTS if (key, n) not in NOT_COUNTS} for key, names in texts()["en"].items()}
    return {key: names for key, names in found.items() if names}


def render(locale: str, key: str, var: str, n: int) -> str:
    names = texts()[locale][key]
    args: dict[str, object] = {name: 7 if name in COUNTS else "x" for name in names}
    args[var] = n
    return translator().texts(locale)(key, **args)


def shape(text: str, n: int) -> str:
    return re.sub(rf"\b{n}\b", "N", text)


def test_every_counted_message_chose_agreeing_words_or_a_label() -> None:
    undecided = sorted(key for key in counted_messages() if key not in AGREES and key not in LABELS)
    assert undecided == [], f"list these in AGREES or LABELS: {undecided}"


@pytest.mark.parametrize(("key", "var"), [(key, var) for key, names in AGREES.items() for var in names])
def test_russian_forms_follow_one_few_many(key: str, var: str) -> None:
    forms = {n: shape(render("ru", key, var, n), n) for n in NS}
    assert forms[21] == forms[101], (
        key,
        forms[21],
        forms[101],
    )  # one: 21, 101 (and 1, unless it has its own)
    assert forms[5] == forms[11], (key, forms[5])  # many: 5, 11
    assert forms[21] != forms[5], (key, forms[21])  # "21 минуту", never "21 минут"
    assert forms[1] != forms[5], (key, forms[1])


@pytest.mark.parametrize(("key", "var"), [(key, var) for key, names in AGREES.items() for var in names])
def test_english_forms_follow_one_other(key: str, var: str) -> None:
    forms = {n: shape(render("en", key, var, n), n) for n in NS}
    assert forms[1] != forms[2], (key, forms[1])
    assert forms[2] == forms[5] == forms[11] == forms[21] == forms[101], (key, forms[21])


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_every_count_is_shown(locale: str) -> None:
    for key, names in counted_messages().items():
        for var in names:
            for n in NS if key in LABELS else NS[1:]:  # "The last message" needs no 1
                assert str(n) in render(locale, key, var, n), (locale, key, var, n)


def test_the_words_themselves() -> None:
    ru = Translator().texts("ru")
    assert [ru("relay-deleted", count=n) for n in (1, 2, 5, 21)] == [
        "🗑 Удалено у всех: 1 копия.",
        "🗑 Удалено у всех: 2 копии.",
        "🗑 Удалено у всех: 5 копий.",
        "🗑 Удалено у всех: 21 копия.",
    ]
    assert ru("relay-history", count=21) == "<b>Последние 21 сообщение:</b>"
    assert ru("relay-history", count=1) == "<b>Последнее сообщение:</b>"
    assert "из 21 сообщения за этот период" in ru("relay-limit-reached", count=3, limit=21, reset="x")
    assert "из 20 сообщений за этот период" in ru("relay-limit-reached", count=3, limit=20, reset="x")
    assert "через 1 час 21 минуту" in ru("signin-code-daily-limit", hours=1, minutes=21)
    assert "в течение 5 минут" in ru("signin-code-sent", phone="x", minutes=5)
    assert "в течение 1 минуты" in ru("signin-code-sent", phone="x", minutes=1)
    en = Translator().texts("en")
    assert en("relay-history", count=1) == "<b>The last message:</b>"
    assert en("relay-deleted", count=1) == "🗑 Deleted for everyone: 1 copy."
    assert "(1 step done)" in en("gmfy-profile-challenge-line", name="x", progress=5, steps=1)
