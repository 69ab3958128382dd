"""Two bot processes in webhook mode on one PostgreSQL and one Redis (issue: several instances).

The fake Bot API runs in the test process; each bot is a real `python -m bot` process. The fake
delivers updates to both webhooks round-robin, as the official server does behind a load balancer:
a chat's next update only after a 2xx for the one before (`FakeTelegram.deliver_webhooks`).
Checked: every relay reaches every other member exactly once and in each sender's order (also a
burst of one member's messages split over both instances, and an album), the global send rate
holds across both processes, and after one process is SIGKILLed mid-fan-out the other finishes it
within 30 seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import create_engine, create_sessionmaker, upgrade_to_head
from storage.models import Member, Outgoing, RelayMessage, User
from tests.conftest import _make_schema
from tests.fakes.telegram import TOKEN, FakeTelegram, FakeUser

ROOT = Path(__file__).resolve().parents[2]
SECRET = "instances-secret-long-enough-for-telegram"
RATE = 40  # messages per second for the whole bot, shared by the two processes
FIRST_USER = 810_000

pytestmark = pytest.mark.timeout(400)


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports (all held open until each has its number)."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


@dataclass
class Instance:
    process: asyncio.subprocess.Process
    port: int
    log: Path

    @property
    def hook(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@dataclass
class Cluster:
    fake: FakeTelegram
    sessionmaker: async_sessionmaker[AsyncSession]
    env: dict[str, str]
    tmp: Path
    instances: list[Instance]

    async def start_two(self) -> tuple[Instance, Instance]:
        """Two processes, started at once: their start-ups (mostly imports, about 3 s of CPU each)
        overlap instead of following each other."""
        a, b, c, d = free_ports(4)
        one, two = await asyncio.gather(self.start(a, b), self.start(c, d))
        return one, two

    async def start(self, port: int, metrics_port: int) -> Instance:
        log = self.tmp / f"bot-{port}.log"
        env = {
            **self.env,
            "WEB_PORT": str(port),
            "WEB_HOST": "127.0.0.1",
            "METRICS_PORT": str(metrics_port),
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
        }
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=ROOT, env=env, stdout=out, stderr=out
            )
        instance = Instance(process, port, log)
        self.instances.append(instance)
        async with httpx.AsyncClient() as client:
            for _ in range(1200):  # until it answers /healthz (another process starting up; slow on a busy machine)
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"http://127.0.0.1:{metrics_port}/healthz", timeout=1)).status_code == 200:
                        return instance
                if process.returncode is not None:
                    break
                await asyncio.sleep(0.1)
        raise AssertionError(f"bot on {port} did not start:\n{log.read_text()[-3000:]}")

    async def members(self, count: int) -> list[int]:
        now = datetime.now(UTC)
        async with self.sessionmaker() as session, session.begin():
            users = [
                User(
                    telegram_id=FIRST_USER + n,
                    anon_name=f"M{n}",
                    phone=f"+1202555{n:04d}",
                    signed_in_at=now,
                    is_active=True,
                    created_at=now,
                )
                for n in range(count)
            ]
            session.add_all(users)
            await session.flush()
            session.add_all(Member(user_id=u.id, in_common=True, paused=False, target_kind="common") for u in users)
        return [FIRST_USER + n for n in range(count)]

    def deliver(self) -> None:
        """From now on the fake sends updates to the instances started so far, round-robin."""
        self.fake.deliver_webhooks([i.hook for i in self.instances], secret=SECRET, round_robin=True)

    def user(self, telegram_id: int) -> FakeUser:
        return self.fake.user(f"U{telegram_id}", user_id=telegram_id)

    async def count(self, query: Any) -> int:
        async with self.sessionmaker() as session:
            return int(await session.scalar(query) or 0)

    async def wait_for(self, query: Any, expected: int, timeout: float = 120) -> None:
        async def reached() -> None:
            while await self.count(query) != expected:  # noqa: ASYNC110 - another process's work, seen in the database
                await asyncio.sleep(0.1)

        try:
            await asyncio.wait_for(reached(), timeout)
        except TimeoutError:
            raise AssertionError(f"{await self.count(query)} != {expected}: {query}") from None

    def received(self, chat: int) -> list[str]:
        return [(m.text or "").rsplit("\n", 1)[-1] for m in self.fake.bot_messages(chat) if m.text]


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    pg, redis = os.environ.get("TEST_POSTGRES_URL"), os.environ.get("TEST_REDIS_URL")
    if not pg or not redis:
        pytest.skip("needs TEST_POSTGRES_URL and TEST_REDIS_URL (CI sets both)")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    await _make_schema(pg, schema, create=True)
    engine = create_engine(pg, search_path=schema)
    await upgrade_to_head(engine)
    fake = FakeTelegram()
    await fake.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "REDIS", "WEBHOOK", "BOT_"))},
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": fake.url,
        "DATABASE_URL": pg,
        "DATABASE_SCHEMA": schema,
        "REDIS_URL": redis,
        "REDIS_PREFIX": f"test-{schema}",
        "WEBHOOK_SECRET": SECRET,
        "MIGRATE_ON_START": "false",
        "DELIVERY_RATE": str(RATE),
        "PAID_BROADCAST": "true",
        "DELIVERY_PER_CHAT_RATE": "50",
        "DELIVERY_BATCH_SIZE": "20",
        "FLOOD_RATE": "0",
        "LOG_JSON": "true",
    }
    state = Cluster(fake, create_sessionmaker(engine), env, tmp_path, [])
    try:
        yield state
    finally:
        for instance in state.instances:
            if instance.process.returncode is None:
                instance.process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(instance.process.wait(), 20)
                except TimeoutError:
                    instance.process.kill()
        await fake.stop()
        await engine.dispose()
        await _make_schema(pg, schema, create=False)


def max_per_second(walls: list[float]) -> int:
    walls = sorted(walls)
    best, start = 0, 0
    for end, wall in enumerate(walls):
        while wall - walls[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_two_instances_relay_every_message_once_in_order_within_the_shared_rate(cluster: Cluster) -> None:
    await cluster.start_two()
    cluster.deliver()
    users = await cluster.members(8)
    rounds = 3
    for k in range(rounds):  # each round every user writes once, spread over both instances
        for user in users:
            await cluster.user(user).send(f"r{k}-u{user}", wait=False)
        await cluster.wait_for(select(func.count()).select_from(RelayMessage), len(users) * (k + 1))
    copies = len(users) * (len(users) - 1) * rounds
    await cluster.wait_for(select(func.count()).where(Outgoing.status == "sent"), copies)
    await cluster.wait_for(select(func.count()).where(Outgoing.status == "pending"), 0)

    for chat in users:
        got = cluster.received(chat)
        expected = {f"r{k}-u{u}" for k in range(rounds) for u in users if u != chat}
        assert sorted(got) == sorted(expected), f"chat {chat}: lost or duplicated"
        for sender in users:
            from_sender = [g for g in got if g.endswith(f"-u{sender}")]
            assert from_sender == sorted(from_sender), f"chat {chat}: {sender}'s messages out of order"
    sends = [c.wall for c in cluster.fake.calls if c.method == "sendMessage" and c.params.get("chat_id") in users]
    assert len(sends) == copies
    # The two processes together stay within the one limit (each alone would allow ~RATE, so two
    # unshared limiters would show ~2 x RATE). Arrivals are timed at the fake, in this process, where
    # a busy machine can bunch them by a request or two.
    assert max_per_second(sends) <= RATE + 2


async def test_sigkill_mid_fanout_the_other_instance_finishes(cluster: Cluster) -> None:
    one, two = await cluster.start_two()
    cluster.fake.deliver_webhooks([one.hook], secret=SECRET)  # so that the fan-out starts on `one`
    users = await cluster.members(120)
    await cluster.user(users[0]).send("to everyone")
    copies = len(users) - 1
    await cluster.fake.wait_until(
        lambda: len(cluster.fake.calls_to("sendMessage")) >= 30, timeout=60, what="the fan-out to be under way"
    )
    killed_at = time.time()
    one.process.send_signal(signal.SIGKILL)
    await one.process.wait()
    await cluster.wait_for(select(func.count()).where(Outgoing.status == "pending"), 0, timeout=120)
    assert two.process.returncode is None
    last_sent = max(c.wall for c in cluster.fake.calls_to("sendMessage"))
    print(f"from SIGKILL to the last copy sent: {last_sent - killed_at:.1f} s")
    assert last_sent - killed_at < 30, "a killed instance's claimed rows went out too late"
    got = {chat: cluster.received(chat).count("to everyone") for chat in users[1:]}
    lost = [chat for chat, n in got.items() if n == 0]
    assert lost == []
    assert sum(got.values()) >= copies
    # A send that reached Telegram but was not yet recorded when its process died is sent again
    # (the Bot API has no idempotency key). Sends are recorded as a group commit the moment they
    # are answered, so only those on the wire at the kill, or answered during the last write,
    # may repeat: a few at most, and none from earlier in the fan-out.
    first_arrival = {
        chat: min(c.wall for c in cluster.fake.calls_to("sendMessage") if c.params.get("chat_id") == chat)
        for chat, n in got.items()
        if n > 1
    }
    late = {chat: round(killed_at - at, 3) for chat, at in first_arrival.items() if at < killed_at - 0.3}
    assert late == {}, f"repeated sends older than 0.3 s before the kill: {late}"
    assert len(first_arrival) <= 5, f"{len(first_arrival)} duplicates"


async def test_a_members_burst_and_album_split_over_two_instances_arrive_in_order(cluster: Cluster) -> None:
    """Five quick messages from one member, then an album: the fake sends them round-robin, so they
    alternate between the two instances; the others get them in the order they were sent."""
    await cluster.start_two()
    cluster.deliver()
    users = await cluster.members(4)
    authors = users[:3]  # three bursts at once: each member's updates still wait for each other
    for n in range(5):
        for author_id in authors:
            await cluster.user(author_id).send(f"burst {n} u{author_id}", wait=False)
    await cluster.wait_for(select(func.count()).where(Outgoing.status == "sent"), 5 * 3 * 3)
    for chat in users:
        got = cluster.received(chat)
        for author_id in authors:
            if author_id != chat:
                from_author = [g for g in got if g.endswith(f"u{author_id}")]
                assert from_author == [f"burst {n} u{author_id}" for n in range(5)], f"chat {chat}"
    author = cluster.user(users[0])
    sent_before = 5 * 3 * 3
    album = [
        await author.send_message(
            {
                "photo": [{"file_id": f"photo-{n}", "file_unique_id": f"p{n}", "width": 9, "height": 9}],
                "media_group_id": "album-1",
                **({"caption": "album"} if n == 0 else {}),
            },
            wait=False,
        )
        for n in range(4)
    ]
    await cluster.wait_for(select(func.count()).where(Outgoing.status == "sent"), sent_before + 3 * 2)
    copies = [c.params for c in cluster.fake.calls_to("copyMessages")]
    assert {c["chat_id"] for c in copies} == set(users[1:])
    for call in copies:
        assert call["message_ids"] == [m.message_id for m in album]
    hooks = {a.url for a in cluster.fake.webhook_delivery.answers}  # type: ignore[union-attr]
    assert hooks == {i.hook for i in cluster.instances}, "both instances got some of the updates"
