"""Back up and restore the bot's database: SQLite's online backup API, pg_dump / pg_restore for PostgreSQL.

`python -m bot backup PATH` works while the bot runs (SQLite copies a consistent snapshot page by
page; pg_dump reads one transaction's snapshot). `python -m bot restore PATH` replaces the
database's contents with the backup's: stop the bot first.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """A backup or restore could not be made; the message says why in one line."""


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def _libpq_url(url: str) -> str:
    """The same database for pg_dump/pg_restore (libpq knows no `+asyncpg`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL's client tools)")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BackupError(f"{command[0]} failed: {last}")


def _copy_sqlite(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def backup(url: str, path: Path, schema: str | None = None) -> None:
    kind = make_url(url).get_backend_name()
    if kind == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"no database at {source}")
        path.unlink(missing_ok=True)
        _copy_sqlite(source, path)
    elif kind == "postgresql":
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                f"--file={path}",
                *(["--schema", schema] if schema else []),
                _libpq_url(url),
            ]
        )
    else:
        raise BackupError(f"no backup for {kind} databases")


def restore(url: str, path: Path, schema: str | None = None) -> None:
    if not path.exists():
        raise BackupError(f"no backup at {path}")
    kind = make_url(url).get_backend_name()
    if kind == "sqlite":
        _copy_sqlite(path, _sqlite_path(url))
    elif kind == "postgresql":
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *(["--schema", schema] if schema else []),
                f"--dbname={_libpq_url(url)}",
                str(path),
            ]
        )
    else:
        raise BackupError(f"no restore for {kind} databases")
