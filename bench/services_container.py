"""What building an update's services costs: every service (what `AppContext.services()` did for
each update when it returned a dict) against those a member's message and /rooms use now that
each is built on first use (`bot.context.AppServices`). No database work: construction only.

    uv run python -m bench.services_container [--updates 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bot.context import AppContext, AppServices
from bot.i18n import Translator
from bot.settings import Settings
from services.clock import SystemClock
from storage.db import create_engine, create_sessionmaker

EVERY = (
    "events",
    "outbox",
    "invites",
    "signin",
    "moderation",
    "users",
    "profile",
    "gmfy",
    "relay",
    "broadcasts",
    "rooms",
    "oauth",
    "panel_auth",
)


def per_update(ctx: AppContext, session: object, names: tuple[str, ...], updates: int) -> float:
    """Microseconds per update to build these services."""
    started = time.perf_counter()
    for _ in range(updates):
        services = AppServices(ctx, session)  # type: ignore[arg-type]  # only stored, never used here
        for name in names:
            getattr(services, name)
    return (time.perf_counter() - started) / updates * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(_env_file=None, bot_token="123456:" + "A" * 35, database_url=url)  # type: ignore[call-arg]
        engine = create_engine(url)
        clock = SystemClock()
        ctx = AppContext(
            settings=settings,
            clock=clock,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            translator=Translator(clock=clock),
            sms=None,
        )
        async with ctx.sessionmaker() as session:
            cases: dict[str, Callable[[], float]] = {
                "every service (the old eager dict)": lambda: per_update(ctx, session, EVERY, args.updates),
                "a member's message (sign-in's)": lambda: per_update(ctx, session, ("signin",), args.updates),
                "/rooms (sign-in's + rooms)": lambda: per_update(ctx, session, ("signin", "rooms"), args.updates),
            }
            for label, run in cases.items():
                figures = [run() for _ in range(args.repeat)]
                print(
                    f"{label:40} median {statistics.median(figures):7.1f} µs/update"
                    f"  (min {min(figures):.1f}, max {max(figures):.1f}; {args.repeat} runs of {args.updates})"
                )
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
