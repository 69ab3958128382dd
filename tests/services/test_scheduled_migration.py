"""Migration 0020: scheduled messages pending from before it keep the chat their author writes to at
upgrade time (where the old code would have sent them), and from then on never follow the author."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import alembic_config, create_engine
from tests.conftest import DbTarget

USERS = """INSERT INTO users (id, anon_name, is_active, created_at)
           VALUES (1, 'a', true, '2026-01-01 00:00:00'), (2, 'b', true, '2026-01-01 00:00:00'),
                  (3, 'c', true, '2026-01-01 00:00:00')"""
MEMBERS = """INSERT INTO relay_members (user_id, in_common, paused, target_kind, target_id)
             VALUES (1, true, false, 'private', 2), (2, true, false, 'common', NULL),
                    (3, true, false, 'private', 999)"""
SCHEDULED = """INSERT INTO relay_scheduled (id, author_id, text, due_at, status, created_at)
               VALUES (10, 1, 'to b', '2026-01-02 00:00:00', 'pending', '2026-01-01 00:00:00'),
                      (11, 2, 'to all', '2026-01-02 00:00:00', 'pending', '2026-01-01 00:00:00'),
                      (12, 3, 'to nobody', '2026-01-02 00:00:00', 'pending', '2026-01-01 00:00:00')"""


async def test_pending_items_get_their_authors_current_chat(empty_db: DbTarget) -> None:
    engine = create_engine(empty_db.url, search_path=empty_db.schema)

    def upgrade(connection: Connection, revision: str) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with engine.begin() as conn:
        await conn.run_sync(upgrade, "0014")
        for statement in (USERS, MEMBERS, SCHEDULED):
            await conn.execute(text(statement))
    async with engine.begin() as conn:
        await conn.run_sync(upgrade, "0020")
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, chat, peer_id, room_id FROM relay_scheduled ORDER BY id"))).all()
    await engine.dispose()
    # A peer that no longer exists leaves a private item with no peer: it is dropped when due.
    assert [tuple(row) for row in rows] == [
        (10, "private", 2, None),
        (11, "common", None, None),
        (12, "private", None, None),
    ]
