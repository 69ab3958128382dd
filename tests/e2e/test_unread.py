"""/unread past Telegram's length limit: pages, each under it, and only what was sent is marked read."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.models import RelayCopy, User
from tests.e2e.harness import Harness, Person
from tests.fakes.telegram import ChatMessage, FakeTelegram, error, parse_html

MISSED = 90  # about 60 of these filled one message
LINE = re.compile(r"missed #(\d+) ")


@pytest.fixture
def bot_settings() -> dict[str, object]:
    return {"messages_per_period": 500}


async def away_while(tg: Harness, count: int) -> tuple[Person, Person]:
    alice = await tg.user("Alice").signed_in()
    bob = await tg.user("Bob").signed_in()
    for person in (alice, bob):
        await person.send("/join")
    await bob.send("/pause")
    for n in range(count):
        await alice.send(f"missed #{n} " + "a long line of chatter that Bob was not there to read " * 2)
    return alice, bob


async def unread_copies(tg: Harness, person: Person) -> int:
    async with tg.app.ctx.sessionmaker() as session:
        query = (
            select(func.count())
            .select_from(RelayCopy)
            .join(User, User.id == RelayCopy.recipient_id)
            .where(User.telegram_id == person.id, RelayCopy.read.is_(False))
        )
        return await session.scalar(query) or 0


def numbers(page: ChatMessage) -> list[int]:
    return [int(n) for n in LINE.findall(page.text or "")]


async def test_unread_past_the_length_limit_comes_in_pages(tg: Harness) -> None:
    _, bob = await away_while(tg, MISSED)
    await bob.send("/unread")
    page = bob.last()
    seen = numbers(page)
    assert 0 < len(seen) < MISSED, page.text
    assert len(page.text or "") <= 4096  # the fake refuses longer ones, as Telegram does
    assert f"{MISSED - len(seen)} more unread" in (page.text or "")
    assert await unread_copies(tg, bob) == MISSED - len(seen)  # what was sent, and only that, is read
    while page.buttons:
        await bob.press("Show more", page)
        page = bob.last()
        seen += numbers(page)
        assert await unread_copies(tg, bob) == MISSED - len(seen)
    assert seen == list(range(MISSED))  # every message once, in order
    await bob.send("/unread")
    assert "Nothing unread" in bob.last_text()


async def test_a_page_telegram_refuses_stays_unread(tg: Harness) -> None:
    _, bob = await away_while(tg, MISSED)
    await bob.send("/unread")
    first = bob.last()
    seen = numbers(first)
    refused: list[str] = []

    def refuse_next_page(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if method == "sendMessage" and params.get("chat_id") == bob.id and "missed #" in str(params.get("text")):
            refused.append(str(params["text"]))
            return error(500, "Internal Server Error")
        return None

    tg.tg.hooks.append(refuse_next_page)
    await bob.press("Show more", first)
    tg.tg.hooks.remove(refuse_next_page)
    assert refused
    assert await unread_copies(tg, bob) == MISSED - len(seen)  # nothing of the refused page is read
    await bob.press("Show more", first)
    second = bob.last()
    assert numbers(second)[0] == seen[-1] + 1
    assert second.text == parse_html(refused[0])  # the same page, now sent


async def test_more_button_pressed_elsewhere_shows_nothing(tg: Harness) -> None:
    _, bob = await away_while(tg, 70)
    await bob.send("/unread")
    page = bob.last()
    read_before = await unread_copies(tg, bob)
    eve = await tg.user("Eve").signed_in()
    mark = eve.mark()
    data = page.buttons[0]["callback_data"]
    await eve.press_data(data, page)  # Eve replays Bob's button on Bob's message
    assert eve.since(mark) == []
    assert await unread_copies(tg, bob) == read_before


async def test_fake_refuses_texts_over_the_limit_after_entity_parsing() -> None:
    fake = FakeTelegram()
    sent = await fake.dispatch("sendMessage", {"chat_id": 1, "text": "<b>" + "x" * 4096 + "</b>", "parse_mode": "HTML"})
    assert sent["ok"]  # 4,096 characters once the tags are parsed
    too_long = await fake.dispatch("sendMessage", {"chat_id": 1, "text": "x" * 4097})
    assert too_long["description"] == "Bad Request: message is too long"
    message_id = sent["result"]["message_id"]
    edit = await fake.dispatch("editMessageText", {"chat_id": 1, "message_id": message_id, "text": "y" * 4097})
    assert edit["description"] == "Bad Request: message is too long"
    kept = fake.find(1, message_id)
    assert kept is not None
    assert kept.text == "x" * 4096


async def test_deleted_messages_are_skipped_and_read(tg: Harness) -> None:
    alice, bob = await away_while(tg, 3)
    second = next(m for m in alice.tg.chats[alice.id] if "missed #1 " in (m.text or "") and not m.from_bot)
    await alice.send("/delete", reply_to=second)
    await bob.send("/unread")
    assert numbers(bob.last()) == [0, 2]
    assert "Common chat — 2 unread" in bob.last_text()
    assert bob.last().buttons == []
    assert await unread_copies(tg, bob) == 0


async def test_an_album_sent_while_a_reader_is_paused_waits_in_unread(tg: Harness) -> None:
    """An album's copies are queued as any message's: a paused reader's waits for /unread (it was
    never recorded, so the album was lost to them)."""
    alice = await tg.user("Alice").signed_in()
    bob = await tg.user("Bob").signed_in()
    for person in (alice, bob):
        await person.send("/join")
    await bob.send("/pause")
    for n in range(2):
        photo = [{"file_id": f"ph{n}", "file_unique_id": f"u{n}", "width": 10, "height": 10, "file_size": 2000}]
        body: dict[str, Any] = {"photo": photo, "media_group_id": "holiday"}
        if n == 0:
            body["caption"] = "our holiday"
        await alice.send_message(body)
    tg.clock.advance(seconds=5)
    await tg.run_jobs()  # the album settles and goes out
    assert await unread_copies(tg, bob) == 1
    await bob.send("/unread")
    assert "[photo] our holiday" in bob.last_text()
