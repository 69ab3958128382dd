"""`python -m bot backup PATH` / `restore PATH` on SQLite and PostgreSQL: what was there comes back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.__main__ import main
from storage.backup import BackupError, backup, restore
from storage.db import create_engine, create_sessionmaker, upgrade_to_head
from storage.models import User
from tests.conftest import DbTarget


async def _users(target: DbTarget) -> list[int]:
    engine = create_engine(target.url, search_path=target.schema)
    try:
        async with create_sessionmaker(engine)() as session:
            return list(await session.scalars(select(User.telegram_id).order_by(User.telegram_id)))
    finally:
        await engine.dispose()


async def _change(target: DbTarget, add: int | None = None, remove: int | None = None) -> None:
    engine = create_engine(target.url, search_path=target.schema)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            if add is not None:
                session.add(User(telegram_id=add, anon_name=f"user{add}", created_at=datetime.now(UTC)))
            if remove is not None:
                user = await session.scalar(select(User).where(User.telegram_id == remove))
                assert user is not None
                await session.delete(user)
    finally:
        await engine.dispose()


async def test_backup_then_restore_brings_the_data_back(db: DbTarget, tmp_path: Path) -> None:
    engine = create_engine(db.url, search_path=db.schema)
    await upgrade_to_head(engine)
    await engine.dispose()
    await _change(db, add=111)
    await _change(db, add=222)
    path = tmp_path / "bot.backup"

    await asyncio.to_thread(backup, db.url, path, db.schema)
    assert path.stat().st_size > 0
    await _change(db, remove=111)  # after the backup: lost, then brought back
    await _change(db, add=333)
    assert await _users(db) == [222, 333]

    await asyncio.to_thread(restore, db.url, path, db.schema)
    assert await _users(db) == [111, 222]


def test_cli_backup_needs_no_token_and_says_what_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/missing.db")
    assert main(["backup", str(tmp_path / "out.db")]) == 1
    assert capsys.readouterr().err.strip() == f"backup failed: no database at {tmp_path}/missing.db"
    assert main(["backup"]) == 2
    with pytest.raises(BackupError, match="no backup at"):
        restore(f"sqlite+aiosqlite:///{tmp_path}/x.db", tmp_path / "nothing.db")


async def test_cli_backup_of_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = DbTarget("sqlite", f"sqlite+aiosqlite:///{tmp_path}/bot.db")
    engine = create_engine(target.url)
    await upgrade_to_head(engine)
    await engine.dispose()
    await _change(target, add=5)
    monkeypatch.setenv("DATABASE_URL", target.url)
    assert await asyncio.to_thread(main, ["backup", str(tmp_path / "copy.db")]) == 0
    copy = DbTarget("sqlite", f"sqlite+aiosqlite:///{tmp_path}/copy.db")
    assert await _users(copy) == [5]
