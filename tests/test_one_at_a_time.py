"""A user's updates wait for each other, in arrival order; other users' updates do not wait."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram.types import TelegramObject
from aiogram.types import User as TgUser

from bot.middlewares import OneAtATimeMiddleware


def user(user_id: int) -> dict[str, Any]:
    return {"event_from_user": TgUser(id=user_id, is_bot=False, first_name="U")}


async def test_one_users_updates_run_in_order_others_pass() -> None:
    middleware = OneAtATimeMiddleware()
    release = asyncio.Event()
    log: list[str] = []

    def handler(name: str, block: bool = False) -> Any:
        async def run(_event: TelegramObject, _data: dict[str, Any]) -> str:
            log.append(f"start {name}")
            if block:
                await release.wait()
            log.append(f"end {name}")
            return name

        return run

    event = TelegramObject()
    first = asyncio.create_task(middleware(handler("a1", block=True), event, user(1)))
    second = asyncio.create_task(middleware(handler("a2"), event, user(1)))
    third = asyncio.create_task(middleware(handler("a3"), event, user(1)))
    other = asyncio.create_task(middleware(handler("b1"), event, user(2)))
    assert await other == "b1"  # not held up by user 1's slow update
    assert log == ["start a1", "start b1", "end b1"]
    assert middleware.users_in_flight == 1
    release.set()
    assert await asyncio.gather(first, second, third) == ["a1", "a2", "a3"]
    assert log[3:] == ["end a1", "start a2", "end a2", "start a3", "end a3"]
    assert middleware.users_in_flight == 0  # nothing kept for users with no update in flight


async def test_a_failing_update_releases_the_user() -> None:
    middleware = OneAtATimeMiddleware()

    async def fail(_event: TelegramObject, _data: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    async def fine(_event: TelegramObject, _data: dict[str, Any]) -> str:
        return "ok"

    failed = asyncio.create_task(middleware(fail, TelegramObject(), user(1)))
    after = asyncio.create_task(middleware(fine, TelegramObject(), user(1)))
    results = await asyncio.gather(failed, after, return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert results[1] == "ok"
    assert middleware.users_in_flight == 0
    assert await middleware(fine, TelegramObject(), {}) == "ok"  # updates without a user pass straight
