"""Incoming messages per second one process handles (SQLite), and the latency from an update to its
first outgoing send, with the fake Bot API in its own process.

    uv run python -m bench.ingest [--messages 2000] [--members 2000] [--concurrency 100] [--common] [--no-delivery]
    uv run python -m bench.ingest --rate 1000 --warmup 1000 [--messages 6000] [--delivery-rate 1000]

By default `concurrency` updates (the bot's UPDATES_IN_FLIGHT) are in flight at a time (a closed
loop: the next comes when one is done, so the latency is about concurrency / rate). With --rate,
updates arrive on a schedule whatever the bot's state (an open loop, as from Telegram; still no more
than `concurrency` in flight): the latency counts from each update's scheduled arrival, so a bot that
falls behind shows it in the p99 instead of slowing the arrivals down.

Members write to each other in private chats (pairs; with --common, to the common chat); each update
goes through the real dispatcher (middlewares, sign-in gate, relay handler, unit of work) and the
delivery worker sends the copies. With the default, every message has one recipient and no chat
receives twice, so the per-chat pace (1/s) is not what is measured.

The global send limit is off by default (the fake has none; bench.fanout measures the limiter): at
1,000 messages a second with one copy each the bot must send 1,000 a second, and the limiter at its
highest setting (DELIVERY_RATE=1000) lets 960 through (its margin under Telegram's limit), so with it
on the queue grows by 40 a second and no latency holds. --delivery-rate R turns it on.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiogram.types import Update

from bench.common import NoLimit, add_members, event_loop, fake_api, fake_stats, pair_up, percentile
from bot.app import BotApp, freeze_startup_heap
from bot.delivery.limits import TELEGRAM_MAX_RATE
from bot.event_loop import run
from bot.settings import Settings
from tests.fakes.telegram import TOKEN


async def main(
    messages: int,
    members: int,
    concurrency: int,
    common: bool,
    delivery: bool,
    rate: float | None = None,
    delivery_rate: float | None = None,
    warmup: int = 0,
) -> None:
    async with fake_api() as url:
        database_url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/ingest.db"
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            bot_token=TOKEN,
            telegram_api_url=url,
            database_url=database_url,
            messages_per_period=10**9,
            delivery_rate=delivery_rate or TELEGRAM_MAX_RATE,
            paid_broadcast=True,
        )
        app = await BotApp.create(settings)
        if delivery_rate is None:
            assert app.delivery is not None
            app.delivery.limiter = NoLimit()
        ids_ = await add_members(app.ctx.sessionmaker, members)
        if not common:
            await pair_up(app.ctx.sessionmaker, ids_)
        assert app.delivery is not None
        freeze_startup_heap()  # as BotApp.run does
        if delivery:
            app.delivery.start()
        ids = itertools.count(1)
        started_at: dict[int, float] = {}
        # At most `concurrency` in flight, as the bot takes no more at once (UPDATES_IN_FLIGHT): in the
        # open loop the others wait as they would at Telegram, their latency counting from arrival.
        gate = asyncio.Semaphore(concurrency)

        meter: dict[str, float] = {}  # the clocks and counters when the first measured update arrives

        def start_measuring() -> None:
            meter.update(
                began=time.perf_counter(),
                cpu=time.process_time(),
                loop_cpu=time.thread_time(),
                batches=app.dp["relay_batch"].batches,
                lookups=app.dp["user_loader"].batches,
            )

        async def feed(n: int, arrived: float | None = None) -> None:
            if n == warmup:
                start_measuring()
            sender = 50_000_000 + n % members
            raw = {
                "update_id": next(ids),
                "message": {
                    "message_id": 1000 + n,
                    "date": int(datetime.now(UTC).timestamp()),
                    "chat": {"id": sender, "type": "private"},
                    "from": {"id": sender, "is_bot": False, "first_name": f"M{n % members}"},
                    "text": f"ingest {n}",
                },
            }
            async with gate:
                started_at[n] = arrived if arrived is not None else time.time()
                # Parsed inside the timed part and bound to the bot, as polling and the webhook do.
                update = Update.model_validate(raw, context={"bot": app.bot})
                await app.dp.feed_update(app.bot, update)

        if rate is None:
            await asyncio.gather(*(feed(n) for n in range(warmup)))
            await asyncio.gather(*(feed(n) for n in range(warmup, warmup + messages)))
        else:
            await arrive(feed, warmup + messages, rate)
        handled_seconds = time.perf_counter() - meter["began"]
        cpu_ms = (time.process_time() - meter["cpu"]) * 1000 / messages
        loop_cpu_ms = (time.thread_time() - meter["loop_cpu"]) * 1000 / messages
        batches = app.dp["relay_batch"].batches - int(meter["batches"])
        lookups = app.dp["user_loader"].batches - int(meter["lookups"])
        await app.delivery.stop()
        await app.delivery.drain()
        stats = await fake_stats(url)
        await app.close()
    first_send: dict[int, float] = {}
    for _chat, text, wall in stats["send_walls"]:
        if text and "ingest " in text:
            n = int(text.rsplit("ingest ", 1)[1])
            first_send.setdefault(n, wall)
    measured = [n for n in started_at if n >= warmup]
    latencies = [(first_send[n] - started_at[n]) * 1000 for n in measured if n in first_send]
    # Messages through to their first send per second, from the first arrival to the last first send:
    # what the process sustains with its sends (the handling alone may run ahead of them).
    span = max((first_send[n] for n in measured if n in first_send), default=0.0) - min(
        (started_at[n] for n in measured), default=0.0
    )
    through = f", {len(latencies) / span:.0f}/s through to the first send" if span > 0 else ""
    latency = (
        f"first-send latency p50={percentile(latencies, 0.5):.1f}ms p99={percentile(latencies, 0.99):.1f}ms "
        f"(of {len(latencies)} with a send{through})"
        if delivery
        else f"no delivery during the feed ({len(latencies)} sent after it)"
    )
    load = f"rate={rate:.0f}/s " if rate else ""
    load += f"concurrency={concurrency} send limit={f'{delivery_rate:.0f}/s' if delivery_rate else 'none'}"
    if warmup:
        load += f" after {warmup} warm-up messages"
    print(
        f"ingest: messages={messages} members={members} chat={'common' if common else 'private'} "
        f"{load} handled={messages / handled_seconds:.0f}/s {latency}; "
        f"CPU per message {cpu_ms:.2f}ms, of which the event loop's thread {loop_cpu_ms:.2f}ms; "
        f"{batches} relay batches ({messages / max(batches, 1):.1f} messages each), "
        f"{lookups} user lookups ({messages / max(lookups, 1):.1f} users each)",
        flush=True,
    )


async def arrive(feed: Callable[[int, float], Awaitable[None]], messages: int, rate: float) -> None:
    """Start update n at its scheduled time (n / rate after the first), late ones at once."""
    loop = asyncio.get_running_loop()
    start, wall = loop.time(), time.time()
    tasks = []
    for n in range(messages):
        delay = start + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)  # the arrival schedule, not a wait for the bot's work
        tasks.append(asyncio.create_task(feed(n, wall + n / rate)))
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--common", action="store_true", help="write to the common chat instead")
    parser.add_argument(
        "--concurrency", type=int, default=Settings.model_fields["updates_in_flight"].default, help="in flight at once"
    )
    parser.add_argument("--rate", type=float, default=None, help="updates arrive at this rate (open loop)")
    parser.add_argument(
        "--no-delivery", action="store_true", help="handling alone: the delivery worker sends after the feed ends"
    )
    parser.add_argument(
        "--delivery-rate",
        type=float,
        default=None,
        help="the bot's global send limit (DELIVERY_RATE, at most 1000); by default none, as the fake has none",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=0,
        help="messages sent first the same way and left out of the figures (connections, caches, statements)",
    )
    args = parser.parse_args()
    run(
        main(
            args.messages,
            args.members,
            args.concurrency,
            args.common,
            not args.no_delivery,
            args.rate,
            args.delivery_rate,
            args.warmup,
        ),
        event_loop(),
    )
