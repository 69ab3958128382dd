"""/forget_me's erasure finds the member's rows by index: the outgoing queue and the relayed messages
grow with the community's history, and on SQLite a scan of them would hold the one write lock while
every other update waits. Checked with SQLite's own query plans."""

from __future__ import annotations

from pathlib import Path

from storage.db import create_engine, create_sessionmaker, upgrade_to_head
from storage.repositories.privacy import ErasureRepo
from tests.services.helpers import record_statements

BIG = ("outgoing", "relay_messages", "relay_copies", "phone_codes", "relay_scheduled")


async def test_erasure_scans_no_large_table(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/plans.db")  # SQLite's plans: its write lock is at stake
    await upgrade_to_head(engine)
    sessionmaker = create_sessionmaker(engine)
    seen = record_statements(sessionmaker, lambda statement: statement.startswith(("UPDATE", "DELETE")))
    async with sessionmaker() as session, session.begin():
        erasure = ErasureRepo(session)
        await erasure.drop_phone_codes(555, "+79160000001")
        await erasure.forget_texts(7)
        await erasure.forget_outgoing(555, 7)
        await erasure.cancel_scheduled(7)
        await erasure.forget_private_target(7)
    assert len(seen) >= 7
    async with sessionmaker() as session:
        connection = await session.connection()
        for statement, parameters in seen:
            plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", tuple(parameters))
            steps = [str(row[3]) for row in plan.all()]
            scans = [step for step in steps if step.startswith("SCAN") and step.split()[1] in BIG]
            assert scans == [], (statement, steps)
    await engine.dispose()
