"""/broadcast end to end: preview, confirm, delivery through the queue, live progress, final counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from handlers.broadcast import BroadcastAction
from storage.models import AuditEntry, Broadcast
from tests.e2e.harness import Harness, Person
from tests.fakes.telegram import ChatMessage, error


async def audience(tg: Harness, *names: str) -> list[Person]:
    return [await tg.user(name).signed_in() for name in names]


def got(person: Person, text: str) -> int:
    return sum(1 for m in person.messages if (m.text or "") == text)


async def test_broadcast_reaches_everyone_with_final_counts(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    bob, carol, dave, erin = await audience(tg, "Bob", "Carol", "Dave", "Erin")
    dave.block_bot()  # Telegram answers 403: the user blocked the bot

    def erin_unreachable(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if method == "sendMessage" and params.get("chat_id") == erin.id and "Town hall" in str(params.get("text")):
            return error(400, "Bad Request: chat not found")
        return None

    tg.tg.hooks.append(erin_unreachable)
    await admin.send("/broadcast Town hall at 7 <pm>")
    preview = admin.last()
    shown = len(admin.messages)
    assert "goes to 4 members" in (preview.text or "")
    assert (preview.text or "").endswith("Town hall at 7 <pm>")
    assert got(bob, "Town hall at 7 <pm>") == 0  # nothing goes out before the admin confirms

    await admin.press("Send to 4", preview)
    assert admin.last_answer is not None
    assert admin.last_answer["text"] == "Sending…"
    assert "Sending the broadcast" in (preview.text or "")
    await tg.deliver()
    assert got(bob, "Town hall at 7 <pm>") == 1
    assert got(carol, "Town hall at 7 <pm>") == 1
    assert got(dave, "Town hall at 7 <pm>") == 0
    assert got(erin, "Town hall at 7 <pm>") == 0
    assert got(admin, "Town hall at 7 <pm>") == 0  # the author has the preview

    await tg.run_jobs()  # the progress job edits the admin's message
    final = preview.text or ""
    assert "Broadcast finished" in final
    assert "Delivered: 2 of 4" in final
    assert "Blocked the bot: 1" in final
    assert "Failed: 1" in final
    assert len(admin.messages) == shown  # the /broadcast answer was edited in place, nothing new was sent

    async with tg.app.ctx.sessionmaker() as session:
        row = await session.scalar(select(Broadcast))
        assert row is not None
        assert row.status == "done"
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "broadcast"))
        assert entry is not None
        assert entry.details == {"broadcast_id": row.id, "recipients": 4}


async def test_second_press_and_cancel_change_nothing(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    (bob,) = await audience(tg, "Bob")
    await admin.send("/broadcast Once only")
    preview = admin.last()
    await admin.press("Send to 1", preview)
    await admin.press_data(BroadcastAction(action="send", id=1).pack(), preview)  # pressed again
    assert admin.last_answer is not None
    assert "already sent" in admin.last_answer["text"]
    await admin.press_data(BroadcastAction(action="cancel", id=1).pack(), preview)
    assert admin.last_answer is not None
    assert "already sent" in admin.last_answer["text"]
    await tg.deliver()
    assert got(bob, "Once only") == 1

    await admin.send("/broadcast Never mind")
    second = admin.last()
    await admin.press("Cancel", second)
    assert "cancelled" in (second.text or "")
    await admin.press_data(BroadcastAction(action="send", id=2).pack(), second)
    assert admin.last_answer is not None
    assert "already cancelled" in admin.last_answer["text"]
    await tg.run_jobs()
    assert got(bob, "Never mind") == 0


async def test_non_admins_cannot_broadcast_or_press(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    bob, carol = await audience(tg, "Bob", "Carol")
    await bob.send("/broadcast Hi all")
    assert "don't know that command" in bob.last_text()
    await admin.send("/broadcast From the admin")
    forged: ChatMessage = bob.last()
    answer = await bob.press_data(BroadcastAction(action="send", id=1).pack(), forged)
    assert "Sending" not in answer.get("text", "")
    await tg.run_jobs()
    assert got(carol, "From the admin") == 0
    async with tg.app.ctx.sessionmaker() as session:
        row = await session.scalar(select(Broadcast))
        assert row is not None
        assert row.status == "draft"


async def test_usage_and_too_long(tg: Harness) -> None:
    admin = await tg.admin().signed_in()
    await admin.send("/broadcast")
    assert "How to use" in admin.last_text()
    await admin.send("/broadcast " + "x" * 3600)
    assert "too long" in admin.last_text()
    async with tg.app.ctx.sessionmaker() as session:
        assert await session.scalar(select(Broadcast)) is None
