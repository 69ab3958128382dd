"""Fan-out of relayed messages through the delivery queue to many members, against the fake Bot API
running in its own process.

    uv run python -m bench.fanout [--members 10000] [--slow-members 600] [--messages 2]
        [--cases slow fast none] [--writer-probe] [--page 1000]

Cases: Telegram-like flood control at 30/s global + 1/s per chat (fewer members, for time), the
same at 1000/s, and no limit at all. Prints the achieved rate as a fraction of the configured one,
429s provoked, lost / duplicated / out-of-order deliveries, and the process' memory: its peak RSS
(`peak_rss`, all phases and cases so far) and, sampled every 20 ms, its RSS once the members are
in the database (`rss_setup`), the highest while the messages are enqueued (`rss_enqueue`) and while
they are sent (`rss_send`). Run one case per process to compare member counts (`--cases fast`).

The messages are relayed one after another, each in a transaction of its own, and their copies
enqueued as the app does: page by page (`--page`, FAN_OUT_PAGE; `pages` printed), each page a
transaction of its own (bot/fanout.py). A page larger than the chat enqueues each message in the
transaction that relays it, as before paging.

`--writer-probe`: while the messages are enqueued, another writer of the same process writes one
small row (a member's last-seen time) in a transaction of its own, again and again; prints the
longest such write (`writer_wait_max`: how long a fan-out's enqueue makes other writers wait).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import NoLimit, add_members, database, event_loop, fake_api, fake_stats, make_bot
from bot.app import freeze_startup_heap
from bot.delivery.limits import ChatPacer, SendLimits, SpacingLimiter
from bot.delivery.worker import DeliveryConfig, DeliveryWorker
from bot.event_loop import run
from bot.fanout import FanOutRunner
from services.clock import SystemClock
from services.relay import Incoming, RelayService, Submission, plain_relay
from storage.models import Outgoing, User


def rss_mb() -> float:
    """The process' resident set now (Linux), in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class RssPeak:
    """The highest RSS seen while it runs (sampled every 20 ms)."""

    def __init__(self) -> None:
        self.peak = rss_mb()

    @contextlib.asynccontextmanager
    async def sampling(self) -> AsyncIterator[RssPeak]:
        async def sample() -> None:
            while True:
                self.peak = max(self.peak, rss_mb())
                await asyncio.sleep(0.02)  # a sampling period, not a wait for work

        task = asyncio.create_task(sample())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.peak = max(self.peak, rss_mb())


def relay_service(session: AsyncSession, clock: SystemClock, page: int) -> RelayService:
    return plain_relay(session, clock, 10**9, events=False, fan_out_page=page)


async def enqueue(
    sessionmaker: async_sessionmaker[AsyncSession], author_id: int, messages: int, clock: SystemClock, page: int
) -> int:
    """The messages relayed one after another, each in a transaction of its own (as members' messages
    come in), then paged as the app does (bot/fanout.py); the pages enqueued."""
    runner = FanOutRunner(
        sessionmaker, lambda session: relay_service(session, clock, page), "bench", timedelta(minutes=1)
    )
    telegram_id = await telegram_id_of(sessionmaker, author_id)
    for n in range(messages):
        async with sessionmaker() as session, session.begin():
            relay = relay_service(session, clock, page)
            await relay.submit([Submission(author_id, Incoming("text", telegram_id, n, html=f"m{n}"))])
        runner.kick()
    await runner.wait_idle()
    return runner.pages


async def telegram_id_of(sessionmaker: async_sessionmaker[AsyncSession], user_id: int) -> int:
    async with sessionmaker() as session:
        user = await session.get(User, user_id)
        assert user is not None
        assert user.telegram_id is not None
        return user.telegram_id


class WriterProbe:
    """Another writer: one small write transaction after another (until stopped), each timed."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], user_id: int) -> None:
        self.sessionmaker = sessionmaker
        self.statement = update(User).where(User.id == user_id)
        self.waits: list[float] = []
        self.wrote = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            began = time.perf_counter()
            async with self.sessionmaker() as session, session.begin():
                await session.execute(self.statement.values(last_seen_at=datetime.now(UTC)))
            self.waits.append(time.perf_counter() - began)
            self.wrote.set()
            await asyncio.sleep(0.005)  # a writer that comes back often, not a wait for work

    async def next_write(self) -> None:
        self.wrote.clear()
        await self.wrote.wait()

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@contextlib.asynccontextmanager
async def probing(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: int, on: bool
) -> AsyncIterator[WriterProbe | None]:
    """A WriterProbe running through the block (None if not `on`), up to the write that waited behind it."""
    if not on:
        yield None
        return
    probe = WriterProbe(sessionmaker, user_id)
    await probe.next_write()  # it is running
    probe.waits.clear()
    try:
        yield probe
    finally:
        await probe.next_write()  # the write that waited behind the block, if any
        await probe.next_write()
        await probe.stop()


def waited(probe: WriterProbe | None, label: str) -> str:
    if probe is None:
        return ""
    return f" {label}={max(probe.waits) * 1000:.0f}ms (of {len(probe.waits)} writes)"


async def run_case(
    name: str,
    members: int,
    messages: int,
    rate: float | None,
    fake_args: list[str],
    writer_probe: bool = False,
    page: int = 1000,
    edit: bool = False,
) -> None:
    async with fake_api(*fake_args) as url:
        sessionmaker = await database()
        ids = await add_members(sessionmaker, members)
        rss_setup = rss_mb()
        clock = SystemClock()
        # Frozen before the enqueue, as BotApp.run does before the first update: unfrozen, the enqueue's
        # full collections walked the set-up's heap (~200 ms each, the gate held meanwhile).
        freeze_startup_heap()
        async with probing(sessionmaker, ids[-1], writer_probe) as probe:
            enqueue_started = time.perf_counter()
            async with RssPeak().sampling() as during_enqueue:
                pages = await enqueue(sessionmaker, ids[0], messages, clock, page)
            enqueue_seconds = time.perf_counter() - enqueue_started
        bot = make_bot(url)
        worker = DeliveryWorker(
            sessionmaker,
            bot,
            clock,
            SendLimits(SpacingLimiter(rate) if rate else NoLimit(), ChatPacer(rate=1.0, burst=1.0)),
            DeliveryConfig(batch_size=1000 if rate is None or rate > 100 else 200, concurrency=128),
        )
        started = time.perf_counter()
        async with RssPeak().sampling() as during_send:
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
        edited = ""
        if edit:
            async with probing(sessionmaker, ids[-1], writer_probe) as edit_probe:
                edited = await edit_first(sessionmaker, ids[0], clock, page)
            edited += waited(edit_probe, "edit_writer_wait_max")
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
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    probed = waited(probe, "writer_wait_max")
    limit_text = f"{rate:.0f}/s" if rate else "none"
    fraction = f"{achieved / rate:.3f}" if rate else "—"
    print(
        f"{name}: members={members} messages={messages} sends={sends}/{recipients * messages} "
        f"limit={limit_text} achieved={achieved:.0f}/s fraction={fraction} 429s={stats['rejected_429']} "
        f"(global {stats['rejected_global']}) "
        f"lost={lost} duplicated={duplicated} out_of_order={out_of_order} "
        f"enqueue={enqueue_seconds:.2f}s pages={pages} send_wall={wall:.2f}s peak_rss={peak_rss:.0f}MB "
        f"rss_setup={rss_setup:.0f}MB rss_enqueue={during_enqueue.peak:.0f}MB rss_send={during_send.peak:.0f}MB"
        f"{probed}{edited}",
        flush=True,
    )


async def edit_first(
    sessionmaker: async_sessionmaker[AsyncSession], author_id: int, clock: SystemClock, page: int
) -> str:
    """The author edits the first message: its edit is queued for a page of the readers' copies in the
    edit's own transaction, and for the rest a page per transaction (`RelayService.copies_page`, as
    bot/fanout.py runs it). Times the edit's transaction, the longest of the others (SQLite's write
    lock is held for no longer at a time) and the whole."""
    telegram_id = await telegram_id_of(sessionmaker, author_id)
    began = time.perf_counter()
    async with RssPeak().sampling() as during_edit:
        async with sessionmaker() as session, session.begin():
            relay = relay_service(session, clock, page)
            edit = Submission(author_id, Incoming("text", telegram_id, 0, html="m0, edited"), edit=True)
            (result,) = await relay.submit([edit])
        first = time.perf_counter() - began
        longest = 0.0
        pages = 1
        while True:
            page_began = time.perf_counter()
            async with sessionmaker() as session, session.begin():
                if not await relay_service(session, clock, page).copies_page():
                    break
            longest = max(longest, time.perf_counter() - page_began)
            pages += 1
    async with sessionmaker() as session:
        edits = await session.scalar(select(func.count()).select_from(Outgoing).where(Outgoing.kind == "edit_text"))
    return (
        f" edit={time.perf_counter() - began:.2f}s (of {edits} copies, {pages} pages; the edit's own transaction "
        f"{first * 1000:.0f}ms of {getattr(result, 'recipients', 0)} copies, longest other page "
        f"{longest * 1000:.0f}ms) rss_edit={during_edit.peak:.0f}MB"
    )


async def main(args: argparse.Namespace) -> None:
    members, messages, probe, page = args.members, args.messages, args.writer_probe, args.page
    if "slow" in args.cases:
        slow = ["--global-rate", "30", "--per-chat-rate", "1"]
        await run_case("telegram-like 30/s", args.slow_members, messages, 30, slow, probe, page, args.edit)
    if "fast" in args.cases:
        fast = ["--global-rate", "1000", "--per-chat-rate", "1"]
        await run_case("telegram-like 1000/s", members, messages, 1000, fast, probe, page, args.edit)
    if "none" in args.cases:
        await run_case("no limit", members, messages, None, [], probe, page, args.edit)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--slow-members", type=int, default=600)
    parser.add_argument("--messages", type=int, default=2)
    parser.add_argument("--cases", nargs="+", choices=["slow", "fast", "none"], default=["slow", "fast", "none"])
    parser.add_argument("--writer-probe", action="store_true", help="time another writer during the enqueue")
    parser.add_argument("--edit", action="store_true", help="then time the author's edit of the first message")
    parser.add_argument(
        "--page", type=int, default=1000, help="FAN_OUT_PAGE: readers a page (more than --members: one transaction)"
    )
    run(main(parser.parse_args()), event_loop())
