"""Nothing waits on Telegram while holding a transaction: a handler's writes are committed before any
Bot API call goes out, so a slow Telegram answer never keeps other updates from writing (on SQLite
the write lock is one for the whole database), and whoever gets a message about a row can find it.

The fake Bot API holds one chosen request (an event, no sleeps) while other updates go on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.models import Report, Room, User
from tests.conftest import DbTarget
from tests.e2e.harness import ADMIN_ID, Harness, Person, start_harness, stop_harness


@pytest.fixture
async def concurrent(db: DbTarget) -> AsyncIterator[Harness]:
    """Updates handled as tasks, concurrently, as production polling and webhook mode handle them."""
    harness = await start_harness(db.url, db.schema, handle_as_tasks=True)
    try:
        yield harness
    finally:
        await stop_harness(harness)


class HeldSend:
    """Holds the first `sendMessage` that `match` picks until `release()`: Telegram taking its time.
    While it is held, `rows` is what a reader outside the bot's transaction counts (taken when the
    request came in)."""

    def __init__(self, tg: Harness, match: Callable[[dict[str, Any]], bool], count: Any) -> None:
        self.tg = tg
        self.match = match
        self.count = count
        self.arrived = asyncio.Event()
        self._release = asyncio.Event()
        self.rows: int | None = None
        self._original = tg.tg.api_sendMessage

    def __enter__(self) -> HeldSend:
        self.tg.tg.api_sendMessage = self._held  # type: ignore[method-assign]
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()

    def release(self) -> None:
        self._release.set()

    async def _held(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.arrived.is_set() and self.match(params):
            self.rows = await self.count()
            self.arrived.set()
            await self._release.wait()
        return await self._original(params)

    async def wait_arrived(self) -> None:
        await self.tg.tg.wait_until(self.arrived.is_set, what="the held request")


async def rows_of(tg: Harness, model: Any) -> int:
    async with tg.app.ctx.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def nickname(tg: Harness, person: Person) -> str | None:
    async with tg.app.ctx.sessionmaker() as session:
        return await session.scalar(select(User.nickname).where(User.telegram_id == person.id))


async def test_a_report_is_stored_before_its_card_reaches_staff_and_a_slow_card_blocks_no_one(
    concurrent: Harness,
) -> None:
    tg = concurrent
    admin = await tg.admin().signed_in()
    carol = await tg.user("Carol").signed_in()
    alice = await tg.user("Alice", username="alice").signed_in()
    await tg.user("Bob", username="bob").signed_in()
    is_card = lambda params: params.get("chat_id") == ADMIN_ID and "Report #" in str(params.get("text"))  # noqa: E731
    with HeldSend(tg, is_card, lambda: rows_of(tg, Report)) as held:
        await alice.send("/report @bob spam", wait=False)
        await held.wait_arrived()
        assert held.rows == 1  # the card is about a report that anyone can already read
        await carol.send("/nick Carolyn", wait=False)
        await tg.tg.wait_until(lambda: carol.received("Carolyn"), what="Carol's rename, with the card held")
        assert await nickname(tg, carol) == "Carolyn"
    await tg.settle()
    assert "Report #1" in admin.last_text()
    assert "moderators have your report" in alice.last_text()
    assert await rows_of(tg, Report) == 1


async def test_a_new_room_is_stored_before_the_owner_hears_of_it_and_a_slow_answer_blocks_no_one(
    concurrent: Harness,
) -> None:
    tg = concurrent
    carol = await tg.user("Carol").signed_in()
    alice = await tg.user("Alice").signed_in()
    is_ready = lambda params: params.get("chat_id") == alice.id and "is ready" in str(params.get("text"))  # noqa: E731
    with HeldSend(tg, is_ready, lambda: rows_of(tg, Room)) as held:
        await alice.send("/newroom Book club", wait=False)
        await held.wait_arrived()
        assert held.rows == 1
        await carol.send("/nick Carolyn", wait=False)
        await tg.tg.wait_until(lambda: carol.received("Carolyn"), what="Carol's rename, with the answer held")
        assert await nickname(tg, carol) == "Carolyn"
    await tg.settle()
    assert alice.received("is ready")
    assert await rows_of(tg, Room) == 1
