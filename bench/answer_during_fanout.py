"""How long an answer to a member waits while a fan-out drains at the full rate, with one instance and
with two sharing the budget through Redis, against the fake Bot API in its own process with Telegram's
flood control (30/s overall, one a second per chat after a burst of three).

    uv run python -m bench.answer_during_fanout [--members 600] [--rate 30] [--instances 1 2]
        [--redis-url redis://127.0.0.1:6379/0]

Each instance is a DeliveryWorker and an aiogram Bot with the budget's request middleware (bot.budget),
as bot.app wires them; one instance keeps the budget in memory, two share it through Redis (the global
rate and every chat's pace). While the fan-out to every member drains, the instances take turns sending
an answer (sendMessage at answer priority) to a member every half second. Prints the answers' p50 and
p99 latency (the call's whole time: the budget's wait and the request), the 429s the fake answered, and
the fan-out's rate as a fraction of the limit (and with the answers, which share it).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import time
import uuid

from redis.asyncio import Redis
from sqlalchemy import func, select

from bench.common import add_members, database, event_loop, fake_api, fake_stats, make_bot, percentile
from bot.budget import BudgetMiddleware, Priority, build_budget
from bot.delivery import DeliveryConfig, DeliveryWorker, SendLimits
from bot.event_loop import run
from services.clock import SystemClock
from services.delivery import Outbox
from storage.models import Outgoing

FANOUT = "fan-out"


async def run_case(members: int, rate: float, instances: int, redis_url: str) -> None:
    async with fake_api("--global-rate", f"{rate:g}", "--per-chat-rate", "1", "--per-chat-burst", "3") as url:
        sessionmaker = await database()
        await add_members(sessionmaker, members)
        chats = [50_000_000 + n for n in range(members)]
        clock = SystemClock()
        redis = Redis.from_url(redis_url) if instances > 1 else None
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        workers: list[DeliveryWorker] = []
        bots = []
        for _ in range(instances):
            bot = make_bot(url)
            # The chats' pace as in production (settings.delivery_per_chat_rate and _burst: 1/s, bursts of 3).
            budget = build_budget(redis, rate, 1.0, 3.0, prefix)
            bot.session.middleware(BudgetMiddleware(budget))
            worker = DeliveryWorker(
                sessionmaker,
                bot,
                clock,
                SendLimits(budget.lane(Priority.RELAY), budget.pacer, budget.shared_pace),
                DeliveryConfig(
                    batch_size=1000 if rate > 100 else 200,  # as bench.fanout
                    concurrency=128 if rate > 100 else 64,
                ),
            )
            workers.append(worker)
            bots.append(bot)
        async with sessionmaker() as session, session.begin():
            await Outbox(session, clock).send_texts([(chat, FANOUT) for chat in chats])
        started = time.perf_counter()
        for worker in workers:
            worker.start()
            worker.waker.wake()

        async def pending() -> int:
            async with sessionmaker() as session:
                return (
                    await session.scalar(select(func.count()).select_from(Outgoing).where(Outgoing.status == "pending"))
                    or 0
                )

        latencies: list[float] = []
        rng = random.Random(1)
        answered: list[asyncio.Task[None]] = []

        async def answer(bot_index: int, chat: int) -> None:
            at = time.perf_counter()
            await bots[bot_index].send_message(chat, "status")
            latencies.append(time.perf_counter() - at)

        turns = itertools.count()
        await asyncio.sleep(1.0)  # the fan-out under way at the full rate
        while await pending():
            answered.append(asyncio.create_task(answer(next(turns) % instances, rng.choice(chats))))
            await asyncio.sleep(0.5)  # an answer every half second, while the fan-out drains
        await asyncio.gather(*answered)
        wall = time.perf_counter() - started
        for worker in workers:
            await worker.stop()
        for bot in bots:
            await bot.session.close()
        if redis is not None:
            await redis.aclose()
        stats = await fake_stats(url)
    walls = sorted(w for _c, text, w in stats["send_walls"] if text == FANOUT)  # 429s included
    span = walls[-1] - walls[0] if len(walls) > 1 else wall
    copies = sum(texts.count(FANOUT) for texts in stats["per_chat"].values())  # delivered
    fraction = (copies - 1) / span / rate if span > 0 else float("nan")
    # Answers take slots of the same budget: the fan-out's and the answers' sends together.
    during = [w for _c, _t, w in stats["send_walls"] if walls and walls[0] <= w <= walls[-1]]
    total = (len(during) - stats["rejected_429"] - 1) / span / rate if span > 0 else float("nan")
    print(
        f"instances={instances} members={members} limit={rate:g}/s answers={len(latencies)} "
        f"answer_p50={percentile(latencies, 0.5) * 1000:.0f}ms answer_p99={percentile(latencies, 0.99) * 1000:.0f}ms "
        f"answer_max={max(latencies, default=float('nan')) * 1000:.0f}ms 429s={stats['rejected_429']} "
        f"(global {stats['rejected_global']}) "
        f"fanout_sent={copies}/{members} fanout_fraction={fraction:.3f} with_answers={total:.3f} wall={wall:.1f}s",
        flush=True,
    )


async def main(members: int, rate: float, instances: list[int], redis_url: str) -> None:
    for count in instances:
        await run_case(members, rate, count, redis_url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=600)
    parser.add_argument("--rate", type=float, default=30)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    run(main(args.members, args.rate, args.instances, args.redis_url), event_loop())
