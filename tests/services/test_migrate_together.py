"""Instances starting together with MIGRATE_ON_START=true upgrade one at a time (PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import create_engine
from tests.conftest import POSTGRES_SKIP_REASON, _make_schema

ROOT = Path(__file__).resolve().parents[2]
# One bot instance's start-up migration: connect, say "ready", wait for "go", upgrade.
UPGRADE = """
import asyncio, sys
from sqlalchemy import text
from storage.db import create_engine, upgrade_to_head

async def main(url, schema):
    engine = create_engine(url, search_path=schema)
    async with engine.connect() as conn:
        await conn.execute(text("select 1"))
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    await upgrade_to_head(engine)
    await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_instances_migrating_at_once_on_a_fresh_postgres_schema_all_succeed() -> None:
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    await _make_schema(url, schema, create=True)
    try:
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                UPGRADE,
                url,
                schema,
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(3)
        ]
        for process in processes:  # all connected before any starts: they upgrade together
            assert process.stdout is not None
            assert await asyncio.wait_for(process.stdout.readline(), 60) == b"ready\n"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write(b"go\n")
            await process.stdin.drain()
        outcomes = [await asyncio.wait_for(p.communicate(), 120) for p in processes]
        failures = [err.decode()[-2000:] for p, (_out, err) in zip(processes, outcomes, strict=True) if p.returncode]
        assert failures == []
        engine = create_engine(url, search_path=schema)
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
            tables = await conn.scalar(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = :s"), {"s": schema}
            )
        await engine.dispose()
        assert len(versions) == 1
        assert tables > 10
    finally:
        await _make_schema(url, schema, create=False)
