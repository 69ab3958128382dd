"""Shared set-up for the benchmarks: a fake Bot API process, a migrated database full of members."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.event_loop import LoopName
from storage.db import create_engine, create_sessionmaker, upgrade_to_head
from storage.models import Member, User
from tests.fakes.telegram import TOKEN

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def fake_api(*args: str) -> AsyncIterator[str]:
    """Run bench/fake_api.py in its own process; yields its base URL."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.fake_api", "--port", str(port), *args, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                with contextlib.suppress(httpx.TransportError):
                    await client.get(f"{url}/stats", timeout=1)
                    break
                await asyncio.sleep(0.05)  # waiting for another process to listen, not for our own work
        yield url
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)


async def fake_stats(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=120) as client:
        response = await client.get(f"{url}/stats")
        return dict(response.json())


def make_bot(url: str, pool: int = 256) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(url), limit=pool)
    return Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


async def database(url: str | None = None) -> async_sessionmaker[AsyncSession]:
    url = url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = create_engine(url)
    await upgrade_to_head(engine)
    return create_sessionmaker(engine)


async def add_members(sessionmaker: async_sessionmaker[AsyncSession], count: int, chunk: int = 5000) -> list[int]:
    """`count` signed-in members of the common chat; returns their users.id (the first is the author).

    Inserted as Core rows a chunk at a time: ORM objects for all of them (as before) made the set-up
    the peak of the benchmark's memory (628 MB at 100,000 members), hiding the bot's own."""
    now = datetime.now(UTC)
    users, members = cast(Table, User.__table__), cast(Table, Member.__table__)
    ids: list[int] = []
    async with sessionmaker() as session, session.begin():
        for start in range(0, count, chunk):
            rows = [
                {
                    "telegram_id": 50_000_000 + n,
                    "anon_name": f"Member {n}",
                    "phone": f"+1202555{n:06d}"[:15],
                    "signed_in_at": now,
                    "is_active": True,
                    "created_at": now,
                }
                for n in range(start, min(count, start + chunk))
            ]
            added = list(
                (
                    await session.execute(insert(users).returning(users.c.id, sort_by_parameter_order=True), rows)
                ).scalars()
            )
            await session.execute(
                insert(members),
                [{"user_id": i, "in_common": True, "paused": False, "target_kind": "common"} for i in added],
            )
            ids.extend(added)
    return ids


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def pair_up(sessionmaker: async_sessionmaker[AsyncSession], user_ids: list[int]) -> None:
    """Members 2k and 2k+1 write to each other in a private chat."""
    async with sessionmaker() as session, session.begin():
        for a, b in zip(user_ids[::2], user_ids[1::2], strict=False):
            for me, peer in ((a, b), (b, a)):
                member = await session.get(Member, me)
                assert member is not None
                member.target_kind, member.target_id = "private", peer


class NoLimit:
    """No global send limit (the fake has none): what the process itself can do is measured."""

    async def acquire(self) -> None:
        return None

    def pause(self, seconds: float) -> None:
        return None


def event_loop() -> LoopName:
    """The loop a bench runs the bot's parts on: the bot's own default (uvloop), or EVENT_LOOP=asyncio."""
    return "asyncio" if os.environ.get("EVENT_LOOP") == "asyncio" else "uvloop"
