"""Random updates at the real dispatcher: no unhandled exception, and invalid input changes nothing.

Kinds, texts, commands and callback data are random (hypothesis); the updates come from a
signed-in member who is not in the common chat and not staff, so none of them is a valid action.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.models import (
    AuditEntry,
    Ban,
    Block,
    Broadcast,
    Moderator,
    RelayMessage,
    Report,
    ScheduledMessage,
    WarningEntry,
)
from tests.e2e.harness import Harness, Person

BOT = {"id": 1, "is_bot": True, "first_name": "Bot"}
WATCHED = (AuditEntry, Ban, Block, Broadcast, Moderator, RelayMessage, Report, ScheduledMessage, WarningEntry)
STAFF_COMMANDS = ["/ban", "/unban", "/warn", "/complaints", "/user", "/stats", "/audit", "/mod", "/unmod"]
MORE_COMMANDS = ["/broadcast", "/setlimit", "/code", "/whoinvited", "/gmfy", "/delete", "/report", "/frobnicate"]
READ_ONLY = ["/me", "/help", "/status", "/who", "/unread", "/referrals"]
PREFIXES = ["gt", "inv", "lang", "join", "dm", "sch", "co", "ua", "fm", "rr", "ra", "bc", "pg", "msg", "zz"]

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300) | st.builds(
    lambda ch, n: ch * n, st.sampled_from(["x", "<", "*", "_", "я"]), st.integers(4000, 5000)
)
commands = st.builds(
    lambda name, arg: f"{name} {arg}".strip(),
    st.sampled_from(STAFF_COMMANDS + MORE_COMMANDS + READ_ONLY),
    st.text(max_size=40) | st.sampled_from(["@nobody", "+79990000000", "123", "ABC123", "4h spam"]),
)
callback_data = st.text(max_size=64) | st.builds(
    lambda prefix, parts: ":".join([prefix, *parts]),
    st.sampled_from(PREFIXES),
    st.lists(st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", max_size=12) | st.integers().map(str), max_size=5),
)


def message(person: Person, text: str) -> dict[str, Any]:
    return {
        "message_id": 10_000,
        "date": 1_700_000_000,
        "chat": {"id": person.id, "type": "private"},
        "from": person.fake.profile,
        "text": text,
    }


def update_for(person: Person) -> st.SearchStrategy[dict[str, Any]]:
    profile = person.fake.profile
    return st.one_of(
        st.builds(lambda t: {"message": message(person, t)}, texts | commands),
        st.builds(lambda t: {"edited_message": {**message(person, t), "edit_date": 1_700_000_100}}, texts),
        st.builds(
            lambda data, mid: {
                "callback_query": {
                    "id": f"fz{mid}",
                    "from": profile,
                    "chat_instance": "fuzz",
                    "data": data,
                    "message": {
                        **message(person, "old"),
                        "message_id": mid,
                        "from": {"id": 1, "is_bot": True, "first_name": "Bot"},
                    },
                }
            },
            callback_data,
            st.integers(1, 10_000),
        ),
        st.sampled_from(
            [
                {"inline_query": {"id": "iq", "from": profile, "query": "hi", "offset": ""}},
                {"poll_answer": {"poll_id": "p1", "user": profile, "option_ids": [0], "option_persistent_ids": ["a"]}},
                {
                    "my_chat_member": {
                        "chat": {"id": person.id, "type": "private"},
                        "from": profile,
                        "date": 1_700_000_000,
                        "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "Bot"}},
                        "new_chat_member": {
                            "status": "kicked",
                            "until_date": 0,
                            "user": {"id": 1, "is_bot": True, "first_name": "Bot"},
                        },
                    }
                },
                {"message": {**message(person, ""), "text": None, "dice": {"emoji": "🎲", "value": 3}}},
            ]
        ),
    )


async def counts(tg: Harness) -> dict[str, int]:
    async with tg.app.ctx.sessionmaker() as session:
        return {m.__tablename__: int(await session.scalar(select(func.count()).select_from(m)) or 0) for m in WATCHED}


@pytest.fixture
async def fuzzy(tg: Harness) -> Person:
    return await tg.user("Fuzzy").signed_in()


async def test_random_updates_are_handled_and_change_nothing(
    tg: Harness, fuzzy: Person, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    before = await counts(tg)

    # Hypothesis draws the inputs (it cannot drive an async test itself); they are replayed here in
    # order, and the first update that logs an error is named in the failure.
    drawn: list[list[dict[str, Any]]] = []

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(update_for(fuzzy), min_size=1, max_size=6))
    def draw(updates: list[dict[str, Any]]) -> None:
        drawn.append(updates)

    draw()
    assert len(drawn) >= 30
    for updates in drawn:
        for update in updates:
            update_id = await tg.tg.push_update(dict(update))
            await tg.tg.wait_processed(update_id)
            failed = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
            assert failed == [], f"{update!r:.500} -> {failed}"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert await counts(tg) == before
    await fuzzy.send("/me")  # and the bot still answers
    assert "Phone" in fuzzy.last_text() or "phone" in fuzzy.last_text()
