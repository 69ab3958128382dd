"""Fan-out of relayed messages through the delivery queue to many members, against the fake Bot API
running in its own process.

    uv run python -m bench.fanout [--members 10000] [--slow-members 600] [--messages 2]

Cases: Telegram-like flood control at 30/s global + 1/s per chat (fewer members, for time), the
same at 1000/s, and no limit at all. Prints the achieved rate as a fraction of the configured one,
429s provoked, lost / duplicated / out-of-order deliveries, and the peak RSS of the bot process.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time

from sqlalchemy import func, select

from bench.common import NoLimit, add_members, database, fake_api, fake_stats, make_bot
from bot.app import freeze_startup_heap
from bot.delivery.limits import ChatPacer, SendLimits, SpacingLimiter
from bot.delivery.worker import DeliveryConfig, DeliveryWorker
from services.clock import SystemClock
from services.delivery import Outbox
from services.events import EventRecorder, EventTypes
from services.relay import Incoming, Limits, PlainCopyStyle, RelayService, Submission
from storage.models import Outgoing, User


async def run_case(name: str, members: int, messages: int, rate: float | None, fake_args: list[str]) -> None:
    async with fake_api(*fake_args) as url:
        sessionmaker = await database()
        ids = await add_members(sessionmaker, members)
        clock = SystemClock()
        enqueue_started = time.perf_counter()
        async with sessionmaker() as session, session.begin():
            author = await session.get(User, ids[0])
            assert author is not None
            relay = RelayService(
                session,
                clock,
                Outbox(session, clock),
                EventRecorder(session, clock, enabled=False, types=EventTypes()),
                PlainCopyStyle(),
                limits=Limits(10**9, __import__("datetime").timedelta(hours=1)),
            )
            assert author.telegram_id is not None
            for n in range(messages):  # one at a time, as members' messages come in
                await relay.submit([Submission(author.id, Incoming("text", author.telegram_id, n, html=f"m{n}"))])
        enqueue_seconds = time.perf_counter() - enqueue_started
        bot = make_bot(url)
        worker = DeliveryWorker(
            sessionmaker,
            bot,
            clock,
            SendLimits(SpacingLimiter(rate) if rate else NoLimit(), ChatPacer(rate=1.0, burst=1.0)),
            DeliveryConfig(batch_size=1000 if rate is None or rate > 100 else 200, concurrency=128),
        )
        freeze_startup_heap()  # as BotApp.run does
        started = time.perf_counter()
        while True:
            await worker.drain()
            async with sessionmaker() as session:
                pending = await session.scalar(
                    select(func.count()).select_from(Outgoing).where(Outgoing.status == "pending")
                )
            if not pending:
                break
            await asyncio.sleep(0.1)  # rows waiting out a retry_after
        wall = time.perf_counter() - started
        await worker.api.close()
        await bot.session.close()
        stats = await fake_stats(url)
    recipients = members - 1
    expected = [f"m{n}" for n in range(messages)]
    lost = duplicated = out_of_order = 0
    for chat_id in range(50_000_001, 50_000_000 + members):
        got = [text.rsplit("\n", 1)[-1] for text in stats["per_chat"].get(str(chat_id), [])]
        lost += sum(1 for m in expected if m not in got)
        duplicated += len(got) - len(set(got))
        out_of_order += int([m for m in got if m in expected] != [m for m in expected if m in got])
    sends = stats["sends"] - stats["rejected_429"]
    walls = [w for _c, _t, w in stats["send_walls"]]
    span = (max(walls) - min(walls)) if len(walls) > 1 else wall
    achieved = sends / span if span > 0 else float("nan")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    limit_text = f"{rate:.0f}/s" if rate else "none"
    fraction = f"{achieved / rate:.3f}" if rate else "—"
    print(
        f"{name}: members={members} messages={messages} sends={sends}/{recipients * messages} "
        f"limit={limit_text} achieved={achieved:.0f}/s fraction={fraction} 429s={stats['rejected_429']} "
        f"(global {stats['rejected_global']}) "
        f"lost={lost} duplicated={duplicated} out_of_order={out_of_order} "
        f"enqueue={enqueue_seconds:.2f}s send_wall={wall:.2f}s peak_rss={rss_mb:.0f}MB",
        flush=True,
    )


async def main(members: int, slow_members: int, messages: int) -> None:
    await run_case("telegram-like 30/s", slow_members, messages, 30, ["--global-rate", "30", "--per-chat-rate", "1"])
    await run_case("telegram-like 1000/s", members, messages, 1000, ["--global-rate", "1000", "--per-chat-rate", "1"])
    await run_case("no limit", members, messages, None, [])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--slow-members", type=int, default=600)
    parser.add_argument("--messages", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.members, args.slow_members, args.messages))
