"""Alembic environment: works from the CLI (`alembic upgrade head`) and from code (`upgrade_to_head`)."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str, schema: str | None) -> None:
    engine = create_engine(url, search_path=schema)
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
elif context.is_offline_mode():
    context.configure(
        url=os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///./bot.db"), target_metadata=target_metadata
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    from storage.env import database_url_from_env

    asyncio.run(_run_from_url(database_url_from_env(), os.environ.get("DATABASE_SCHEMA")))
