"""Hostile updates of every kind at the real dispatcher: no handler error, nothing reaches the common
chat or a group, and the bot still relays afterwards.

What an attacker (or an odd client) can make Telegram send: a bot account or a stranger with no user
row as the sender, messages in groups, supergroups, channels and the admin chat, ids far out of the
usual range, empty, oversized and control-character texts, contacts of other people, buttons on
messages that no longer exist or carry no message at all, the bot added to groups. Hypothesis draws
the updates; they are replayed in order and the first one that logs an error is named.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.models import AuditEntry, Ban, Block, Report, ScheduledMessage, WarningEntry
from tests.e2e.harness import Harness, Person
from tests.fakes.telegram import BOT_ID

ADMIN_CHAT = -1_001_000_000_777
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Community", "username": "community_bot"}
WATCHED = (AuditEntry, Ban, Block, Report, ScheduledMessage, WarningEntry)
PHONE = re.compile(r"\+?\d[\d \-]{9,}")


@pytest.fixture
def bot_settings() -> dict[str, object]:
    return {"admin_chat_id": ADMIN_CHAT}


big_ids = st.sampled_from([0, 1, -1, 2**31, 2**52, -(2**52), 10**15]) | st.integers(1, 2**52)
hostile_texts = st.one_of(
    st.just(""),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["x", "<", "&", "я", "\u202e", "\x00", "\n"]), st.integers(4000, 9000)
    ),
    st.sampled_from(["\x00\x01\x02", "\u200b" * 50, "<b>unclosed", "&amp;&lt;", "/start \x00", "\r\n\r\n"]),
)
commands = st.builds(
    lambda name, arg: f"{name} {arg}".strip(),
    st.sampled_from(
        [
            "/start",
            "/join",
            "/leave",
            "/me",
            "/user",
            "/ban",
            "/warn",
            "/complaints",
            "/report",
            "/phone",
            "/code",
            "/link",
            "/forget_me",
            "/schedule",
            "/unread",
            "/newroom",
            "/dm",
            "/stats",
            "/audit",
            "/broadcast",
            "/nick",
        ]
    ),
    st.text(max_size=60) | st.sampled_from(["+79161234567", "@nobody", "2 4h spam", "-1", str(2**63), "in 10m hi"]),
)


def chats(person: dict[str, Any], private: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    own = [{"id": person["id"], "type": "private", "first_name": person["first_name"]}] if private else []
    return st.sampled_from(
        [
            *own,
            {"id": -4_000_000_001, "type": "group", "title": "Some group"},
            {"id": -1_002_000_000_002, "type": "supergroup", "title": "Some supergroup"},
            {"id": ADMIN_CHAT, "type": "supergroup", "title": "Staff"},
            {"id": -1_003_000_000_003, "type": "channel", "title": "Some channel"},
        ]
    )


def message_bodies(person: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.builds(lambda t: {"text": t}, hostile_texts),
        st.builds(
            lambda t: {"text": t, "entities": [{"type": "bot_command", "offset": 0, "length": len(t.split()[0])}]},
            commands,
        ),
        st.builds(
            lambda phone, uid: {
                "contact": {"phone_number": phone, "first_name": "X", **({"user_id": uid} if uid else {})}
            },
            st.sampled_from(["+79161234567", "", "not a phone", "+1" + "9" * 30, "\x00"]),
            st.sampled_from([None, person["id"], 12345, 2**52]),
        ),
        st.builds(
            lambda size: {
                "photo": [{"file_id": "p", "file_unique_id": "pu", "width": 1, "height": 1, "file_size": size}]
            },
            big_ids,
        ),
        st.builds(
            lambda size, name: {
                "document": {"file_id": "d", "file_unique_id": "du", "file_size": size, "file_name": name}
            },
            big_ids,
            hostile_texts,
        ),
        st.just({"dice": {"emoji": "🎲", "value": 6}}),
        st.just({"location": {"latitude": 0.0, "longitude": 0.0}}),
        st.just({"new_chat_members": [BOT_USER]}),
        st.just({"left_chat_member": BOT_USER}),
        st.just(
            {
                "sticker": {
                    "file_id": "s",
                    "file_unique_id": "su",
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                }
            }
        ),
    )


def updates(senders: list[dict[str, Any]], member: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """From `senders` anywhere; from `member` (in the common chat, so a private message of theirs
    would rightly be relayed) only in groups, channels and the admin chat."""

    def for_sender(person: dict[str, Any], private: bool = True) -> st.SearchStrategy[dict[str, Any]]:
        message = st.builds(
            lambda chat, body, mid: {"message_id": mid, "date": 1_700_000_000, "chat": chat, "from": person, **body},
            chats(person, private),
            message_bodies(person),
            big_ids,
        )
        callback = st.builds(
            lambda data, held, chat, mid: {
                "callback_query": {
                    "id": f"h{mid}",
                    "from": person,
                    "chat_instance": "hostile",
                    "data": data,
                    **(
                        {"message": {"message_id": mid, "date": held, "chat": chat, "from": BOT_USER, "text": "old"}}
                        if held is not None
                        else {"inline_message_id": "gone"}
                    ),
                }
            },
            st.text(max_size=64)
            | st.builds(
                lambda p, rest: f"{p}:{rest}",
                st.sampled_from(
                    ["dm", "rr", "ra", "fm", "co", "rep", "report", "join", "room", "ban", "mod", "oa", "sc"]
                ),
                st.text("0123456789:-abcxyz", max_size=30),
            ),
            st.sampled_from([1_700_000_000, 0, None]),  # date 0: an inaccessible (deleted) message
            chats(person, private),
            big_ids,
        )
        added = st.builds(
            lambda chat, status: {
                "my_chat_member": {
                    "chat": chat,
                    "from": person,
                    "date": 1_700_000_000,
                    "old_chat_member": {"status": "left", "user": BOT_USER},
                    "new_chat_member": {
                        "status": status,
                        "user": BOT_USER,
                        **({"until_date": 0} if status == "kicked" else {}),
                    },
                }
            },
            chats(person, private),
            st.sampled_from(["member", "kicked", "left"]),
        )
        return st.one_of(
            message.map(lambda m: {"message": m}),
            message.map(lambda m: {"edited_message": {**m, "edit_date": 1_700_000_100}}),
            callback,
            added,
        )

    channel_post = st.builds(
        lambda t, mid: {
            "channel_post": {
                "message_id": mid,
                "date": 1_700_000_000,
                "chat": {"id": -1_003_000_000_003, "type": "channel", "title": "Some channel"},
                "sender_chat": {"id": -1_003_000_000_003, "type": "channel", "title": "Some channel"},
                "text": t,
            }
        },
        hostile_texts,
        big_ids,
    )
    anonymous_admin = st.builds(
        lambda t: {
            "message": {
                "message_id": 5,
                "date": 1_700_000_000,
                "chat": {"id": ADMIN_CHAT, "type": "supergroup", "title": "Staff"},
                "sender_chat": {"id": ADMIN_CHAT, "type": "supergroup", "title": "Staff"},
                "text": t,
            }
        },
        hostile_texts | commands,
    )
    return st.one_of(
        *(for_sender(s) for s in senders), for_sender(member, private=False), channel_post, anonymous_admin
    )


async def counts(tg: Harness) -> dict[str, int]:
    async with tg.app.ctx.sessionmaker() as session:
        return {m.__tablename__: int(await session.scalar(select(func.count()).select_from(m)) or 0) for m in WATCHED}


async def test_hostile_updates_cause_no_error_and_leak_nothing(tg: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    alice = await tg.user("Alice").signed_in()
    await alice.send("/join")
    watcher: Person = await tg.user("Watcher").signed_in()
    await watcher.send("/join")
    loner = await tg.user("Loner").signed_in()  # signed in, not in the common chat
    stranger = tg.user("Stranger").profile  # never wrote to the bot: no user row
    bot_account = {"id": 2**40, "is_bot": True, "first_name": "OtherBot", "username": "other_bot"}
    far_out = {"id": 2**52, "is_bot": False, "first_name": "\u202eFar\x00", "language_code": "zz"}
    before = await counts(tg)
    seen = watcher.mark()

    drawn: list[dict[str, Any]] = []

    @settings(max_examples=400, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(updates([stranger, bot_account, far_out, loner.profile], member=alice.profile))
    def draw(update: dict[str, Any]) -> None:
        drawn.append(update)

    draw()
    assert len(drawn) >= 300
    kinds = {next(iter(u)) for u in drawn}
    assert {"message", "edited_message", "callback_query", "my_chat_member", "channel_post"} <= kinds
    for update in drawn:
        update_id = await tg.tg.push_update(dict(update))
        await tg.tg.wait_processed(update_id)
        failed = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert failed == [], f"{update!r:.600} -> {failed}"

    # Nothing from the groups, the channel or the admin chat reached the common chat.
    assert watcher.texts_since(seen) == [], [m.data for m in watcher.since(seen)]
    assert await counts(tg) == before
    # Nothing personal was posted to a group: no phone numbers, only the "I work in private chats" notice.
    for chat_id, messages in tg.tg.chats.items():
        if chat_id >= 0:
            continue
        posted = [m.text or "" for m in messages if m.from_bot and not m.deleted]
        assert not any(PHONE.search(text) for text in posted), (chat_id, posted)
        if chat_id != ADMIN_CHAT:
            assert all("private chat" in text for text in posted), (chat_id, posted)

    await alice.send("still here")  # and the bot still relays
    assert watcher.last_text().endswith("still here")
