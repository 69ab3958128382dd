"""Updates per second handled by one and by two bot processes in webhook mode (PostgreSQL + Redis,
or SQLite with `--database-url sqlite`), and the latency of GET /healthz. The fake Bot API runs in a
process of its own.

    uv run python -m bench.webhook [--updates 2000] [--members 400] [--instances 1 2] [--rate 500]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test] [--redis-url redis://127.0.0.1:6379/0]
        [--count-statements]

Members write privately in pairs (one recipient per message); updates are posted to the instances
round-robin, 64 at a time (closed loop), or with --rate R on a schedule, R a second (open loop, at
most 64 in flight), as Telegram delivers them: a member's next update only after the answer to the
one before (a 503 is sent again). "Handled" counts relayed messages recorded in the database; "first
send" is the latency from each update's post (with --rate: its scheduled arrival) to its copy's send
at the fake Bot API; "answer" is the time from a POST to its answer (the bot answers once the update
is handled). Each run makes a schema of its own in the database and drops it at the end.

--count-statements runs the instances with their SQL counted (bench/counted_bot.py) and prints the
statements, transactions, prepares and pool checkouts per update. To profile an instance while it
runs: `uv run --with py-spy py-spy record --pid PID --format raw -o out.txt --duration 20`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import IO

import aiohttp
import httpx
from sqlalchemy import func, select, text

from bench.common import ROOT, add_members, fake_api, fake_stats, free_port, pair_up, percentile
from storage.db import create_engine, create_sessionmaker, upgrade_to_head
from storage.models import RelayMessage
from tests.fakes.telegram import TOKEN

SECRET = "bench-secret-long-enough-for-the-webhook"


async def start_instance(
    env: dict[str, str], log: IO[bytes], command: list[str]
) -> tuple[asyncio.subprocess.Process, int, int]:
    port, metrics_port = free_port(), free_port()
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=ROOT,
        env={
            **env,
            "WEB_PORT": str(port),
            "WEB_HOST": "127.0.0.1",
            "METRICS_PORT": str(metrics_port),
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log,
    )
    async with httpx.AsyncClient() as client:
        for _ in range(1200):  # a busy machine can take a minute
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"http://127.0.0.1:{metrics_port}/healthz", timeout=1)).status_code == 200:
                    return process, port, metrics_port
            if process.returncode is not None:
                break
            await asyncio.sleep(0.1)  # another process starting up
    if process.returncode is None:
        process.terminate()
        await process.wait()
    raise RuntimeError(f"bot did not start; its log ends with:\n{log_tail(log)}")


def log_tail(log: IO[bytes], lines: int = 40) -> str:
    log.flush()
    log.seek(0)
    return b"".join(log.readlines()[-lines:]).decode(errors="replace")


def instance_command(counts_file: str | None) -> list[str]:
    module = "bench.counted_bot" if counts_file else "bot"
    return [sys.executable, "-m", module]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (Linux): load-independent cost of the work."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / os.sysconf("SC_CLK_TCK")


def read_counts(files: list[str]) -> dict[str, int]:
    total: dict[str, int] = {}
    for path in files:
        with contextlib.suppress(FileNotFoundError), open(path) as counts:
            for key, value in json.load(counts).items():
                total[key] = total.get(key, 0) + value
    return total


async def run(args: argparse.Namespace, instances: int, log: IO[bytes]) -> None:
    updates, members, database_url, redis_url, deadline = (
        args.updates,
        args.members,
        args.database_url,
        args.redis_url,
        args.deadline,
    )
    warmup = args.warmup
    count_dir = tempfile.mkdtemp() if args.count_statements else None
    counts_files = [os.path.join(count_dir, f"{n}.json") for n in range(instances)] if count_dir else []
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    sqlite = database_url == "sqlite"
    if sqlite:  # a file of its own; one instance (SQLite is not for several)
        database_url, redis_url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db", ""
    admin = create_engine(database_url)
    if not sqlite:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(database_url, search_path=None if sqlite else schema)
    await upgrade_to_head(engine)
    sessionmaker = create_sessionmaker(engine)
    ids = await add_members(sessionmaker, members)
    await pair_up(sessionmaker, ids)
    processes = []
    try:
        async with fake_api() as url:
            env = {
                **os.environ,
                "BOT_TOKEN": TOKEN,
                "TELEGRAM_API_URL": url,
                "DATABASE_URL": database_url,
                "DATABASE_SCHEMA": schema,
                "REDIS_URL": redis_url,
                "REDIS_PREFIX": schema,
                "WEBHOOK_SECRET": SECRET,
                "MIGRATE_ON_START": "false",
                "MESSAGES_PER_PERIOD": str(10**9),
                "DELIVERY_RATE": "1000",
                "PAID_BROADCAST": "true",
                "FLOOD_RATE": "0",
                "LOG_LEVEL": "WARNING",
            }
            if sqlite:
                for key in ("DATABASE_SCHEMA", "REDIS_URL", "REDIS_PREFIX"):
                    del env[key]
            started = [
                await start_instance(
                    {**env, "BENCH_STATEMENTS_FILE": counts_files[n]} if count_dir else env,
                    log,
                    instance_command(counts_files[n] if count_dir else None),
                )
                for n in range(instances)
            ]
            processes = [p for p, _, _ in started]
            await started_up(url, instances)
            ports = [port for _, port, _ in started]
            metrics_port = started[0][2]
            gate = asyncio.Semaphore(64)
            arrivals: dict[int, float] = {}  # update n -> its post (or scheduled arrival), time.time()
            before = read_counts(counts_files)  # start-up's statements are not the updates'
            cpu_before = cpu_seconds([p.pid for p in processes])
            chats: dict[int, asyncio.Lock] = {}  # Telegram's per-chat queue: one update of a chat at a time
            answers: list[float] = []
            # aiohttp, not httpx: the client shares the 2 cores with the bots, and httpx cost it about
            # three times the CPU per request (it was the busiest process of the benchmark).
            connector = aiohttp.TCPConnector(limit=128)
            async with aiohttp.ClientSession(connector=connector, json_serialize=json.dumps) as client:

                async def post(n: int, scheduled: float | None = None) -> None:
                    sender = 50_000_000 + n % members
                    update = {
                        "update_id": n + 1,
                        "message": {
                            "message_id": 1000 + n,
                            "date": int(datetime.now(UTC).timestamp()),
                            "chat": {"id": sender, "type": "private"},
                            "from": {"id": sender, "is_bot": False, "first_name": "M"},
                            "text": f"webhook {n}",
                        },
                    }
                    async with chats.setdefault(sender, asyncio.Lock()), gate:  # the lock is FIFO: in order
                        arrivals[n] = scheduled if scheduled is not None else time.time()
                        while True:
                            t0 = time.perf_counter()
                            async with client.post(
                                f"http://127.0.0.1:{ports[n % instances]}/hook",
                                json=update,
                                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                                timeout=aiohttp.ClientTimeout(total=60),
                            ) as answer:
                                await answer.read()
                            if n >= warmup:
                                answers.append((time.perf_counter() - t0) * 1000)
                            if answer.status != 503:  # busy: Telegram would send it again later
                                break
                            await asyncio.sleep(0.05)
                        answer.raise_for_status()

                # The client's own garbage collections are not the bots' latency: with --instances 1 2 the
                # second run's client held the first run's objects, and a full collection stopped its
                # posting for ~200 ms mid-run (every update then "waited" that long from its scheduled
                # arrival). So no collection while posting.
                gc.collect()
                gc.disable()
                began = time.perf_counter()
                try:
                    if args.rate:
                        await arrive(post, warmup + updates, args.rate)
                    else:
                        await asyncio.gather(*(post(n) for n in range(warmup + updates)))
                finally:
                    gc.enable()
                posted = time.perf_counter() - began
                while True:
                    async with sessionmaker() as session:
                        handled = await session.scalar(select(func.count()).select_from(RelayMessage)) or 0
                    if handled >= warmup + updates:
                        break
                    if time.perf_counter() - began > deadline:
                        raise RuntimeError(
                            f"only {handled} of {warmup + updates} updates handled after {deadline:.0f} s; "
                            f"the bots' log ends with:\n{log_tail(log)}"
                        )
                    await asyncio.sleep(0.05)  # the bots' work is seen in the database
                handled_seconds = time.perf_counter() - began
                cpu = cpu_seconds([p.pid for p in processes]) - cpu_before
                if count_dir:
                    await asyncio.sleep(2.5)  # the instances write their counts every 2 s
                counted = read_counts(counts_files)
                latencies = []
                for _ in range(200):
                    t0 = time.perf_counter()
                    async with client.get(f"http://127.0.0.1:{metrics_port}/healthz") as health:
                        await health.read()
                        health.raise_for_status()
                    latencies.append((time.perf_counter() - t0) * 1000)
            stats = await fake_stats(url)
            first_sends: dict[int, float] = {}
            for _chat, text_sent, wall in stats["send_walls"]:
                last = (text_sent or "").rsplit("\n", 1)[-1]
                if last.startswith("webhook "):
                    n = int(last.split()[1])
                    first_sends[n] = min(wall, first_sends.get(n, wall))
            # The warm-up's updates (each member's first message, the pool's first connections and statements)
            # are posted like the others and left out of the figures.
            measured = [n for n in sorted(arrivals) if n >= warmup]
            first = [(first_sends[n] - arrivals[n]) * 1000 for n in measured if n in first_sends]
            ordered = first
            parts = [ordered[k * len(ordered) // 10 : (k + 1) * len(ordered) // 10] for k in range(10)]
            load = f"rate={args.rate:.0f}/s " if args.rate else "closed loop (64 in flight) "
            load += f"after {warmup} warm-up updates " if warmup else ""
            print(
                f"webhook: instances={instances} updates={updates} {load}accepted={(warmup + updates) / posted:.0f}/s "
                f"handled={(warmup + updates) / handled_seconds:.0f}/s first send p50={percentile(first, 0.5):.1f}ms "
                f"p99={percentile(first, 0.99):.1f}ms ({len(first)} sent); "
                f"answer p50={percentile(answers, 0.5):.0f}ms p99={percentile(answers, 0.99):.0f}ms; "
                f"bots' CPU {cpu * 1000 / (warmup + updates):.2f} ms/update; "
                f"healthz p50={percentile(latencies, 0.5):.1f}ms "
                f"p99={percentile(latencies, 0.99):.1f}ms",
                flush=True,
            )
            if args.timeline:
                t0 = min(arrivals.values())
                buckets: dict[tuple[int, int], list[float]] = {}
                for n in measured:
                    if n in first_sends:
                        key = (int((arrivals[n] - t0) * 4), n % instances)
                        buckets.setdefault(key, []).append((first_sends[n] - arrivals[n]) * 1000)
                for (q, inst), vals in sorted(buckets.items()):
                    print(f"  t={q / 4:.2f}s inst{inst} p50={percentile(vals, 0.5):.0f} max={max(vals):.0f}")
            for name, q in (("p50", 0.5), ("p99", 0.99)):
                shown_tenths = " ".join(f"{percentile(part, q):.0f}" for part in parts)
                print(f"  first send {name} by tenth of the run: {shown_tenths} ms", flush=True)
            if count_dir:
                per_update = {
                    k: (v - before.get(k, 0)) / (warmup + updates) for k, v in counted.items() if "(not per" not in k
                }
                shown = sorted(((v, k) for k, v in per_update.items() if v >= 0.01), reverse=True)
                print("  per update: " + ", ".join(f"{k} {v:.2f}" for v, k in shown), flush=True)
                longest = [
                    f"{k.split(' (not per')[0]} {before.get(k, 0)} at start-up, {v} at the end"
                    for k, v in sorted(counted.items())
                    if "(not per" in k
                ]
                print("  maxima (summed over instances): " + ", ".join(longest), flush=True)
    finally:
        for process in processes:
            process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 20)
        await engine.dispose()
        if not sqlite:
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


async def started_up(url: str, instances: int) -> None:
    """Until every instance has made its start-up calls (getMe, the command menus: the delivery worker
    starts right after them). /healthz answers before that, and on a busy machine the start-up took
    seconds, during which updates were handled but their copies waited for the worker: the first
    sends' latency was the start-up's."""
    seen = -1
    for _ in range(600):
        stats = await fake_stats(url)
        calls = stats["calls"]
        if stats["methods"].get("getMe", 0) >= instances and stats["methods"].get("setMyCommands") and calls == seen:
            return
        seen = calls
        await asyncio.sleep(0.5)  # another process starting up
    raise RuntimeError("the bots did not finish starting up")


async def arrive(post: Callable[[int, float], Awaitable[None]], updates: int, rate: float) -> None:
    """Post update n at its scheduled time (n / rate after the first), late ones at once."""
    loop = asyncio.get_running_loop()
    start, wall = loop.time(), time.time()
    tasks = []
    for n in range(updates):
        delay = start + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)  # the arrival schedule, not a wait for the bot's work
        tasks.append(asyncio.create_task(post(n, wall + n / rate)))
    await asyncio.gather(*tasks)


async def main(args: argparse.Namespace) -> None:
    for instances in args.instances:
        with tempfile.TemporaryFile() as log:  # the instances' stderr, shown when a run fails
            await run(args, instances, log)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--members", type=int, default=400)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--deadline", type=float, default=120, help="seconds to wait for the bots to handle all")
    parser.add_argument("--redis-url", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--rate", type=float, default=None, help="updates posted at this rate (open loop)")
    parser.add_argument(
        "--warmup", type=int, default=0, help="updates posted first and left out of the figures (latency, accepted)"
    )
    parser.add_argument(
        "--timeline", action="store_true", help="first-send p50 and max per quarter second of the run and instance"
    )
    parser.add_argument("--count-statements", action="store_true", help="count the instances' SQL per update")
    asyncio.run(main(parser.parse_args()))
