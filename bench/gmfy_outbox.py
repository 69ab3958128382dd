"""How many events per second the GMFY outbox sender sustains against the in-process fake GMFY.

    uv run python -m bench.gmfy_outbox [--events 20000] [--workers 1] [--database-url URL]

Queues N events (as EventRecorder does), then runs sender ticks until the outbox is empty and
reports events/s for the sending phase (claim + HTTP batch of 100 + mark, per batch).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid

from sqlalchemy import func, select, text

from services.clock import FakeClock
from services.events import EventRecorder, EventTypes
from services.gmfy.client import GmfyClient
from services.gmfy.outbox import OutboxPolicy, OutboxSender
from storage.db import create_engine, create_sessionmaker, upgrade_to_head
from storage.models import GmfyEvent
from tests.fakes.gmfy import API_KEY, FakeGmfy


async def main(events: int, workers: int, database_url: str | None) -> None:
    schema = None
    if database_url is None:
        database_url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    elif database_url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(database_url)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
    engine = create_engine(database_url, search_path=schema)
    await upgrade_to_head(engine)
    sessionmaker = create_sessionmaker(engine)
    clock = FakeClock()
    fake = FakeGmfy()
    await fake.start()
    try:
        async with sessionmaker() as session, session.begin():
            recorder = EventRecorder(session, clock, enabled=True, types=EventTypes())
            for i in range(events):
                await recorder.message_sent(user_id=1 + i % 500, message_id=i)
        clients = [GmfyClient(fake.url, API_KEY) for _ in range(workers)]
        senders = [OutboxSender(sessionmaker, c, clock, OutboxPolicy(max_batches_per_run=10_000)) for c in clients]
        started = time.perf_counter()
        await asyncio.gather(*(s.run_once() for s in senders))
        elapsed = time.perf_counter() - started
        async with sessionmaker() as session:
            sent = await session.scalar(select(func.count(GmfyEvent.id)).where(GmfyEvent.status == "sent"))
        keys = [e["idempotenceKey"] for e in fake.events]
        assert sent == events == len(keys) == len(set(keys)), (sent, len(keys))
        kind = database_url.split(":")[0]
        print(
            f"{kind}: {events} events, {workers} worker(s), {len(fake.batches)} batches in {elapsed:.2f} s "
            f"= {events / elapsed:,.0f} events/s"
        )
        for c in clients:
            await c.close()
    finally:
        await fake.stop()
        await engine.dispose()
        if schema is not None and database_url is not None:
            admin = create_engine(database_url)
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    asyncio.run(main(args.events, args.workers, args.database_url))
