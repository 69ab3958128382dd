"""The bot (`python -m bot`) with its SQL statements counted, for `bench.webhook --count-statements`:
every 2 s, and at exit, the counts so far (by the statement's first words; BEGIN, COMMIT and the
pool's pings included) are written as JSON to the file named by BENCH_STATEMENTS_FILE. With
BENCH_CPROFILE_FILE set, the process also runs under cProfile timed by CPU time, written there too."""

from __future__ import annotations

import atexit
import collections
import json
import os
import runpy
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

COUNTS: collections.Counter[str] = collections.Counter()


def _kind(statement: str) -> str:
    words = statement.split()
    if not words:
        return "?"
    head = words[0].upper()
    if head in ("INSERT", "DELETE") and len(words) > 2:
        return f"{head} {words[2]}"
    if head == "UPDATE" and len(words) > 1:
        return f"UPDATE {words[1]}"
    if head == "SELECT" and "FROM" in (w.upper() for w in words):
        upper = [w.upper() for w in words]
        return f"SELECT {words[upper.index('FROM') + 1]}"
    return head


def _on_execute(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, many: bool) -> None:
    COUNTS[_kind(statement) + (" (many)" if many else "")] += 1


def _on_begin(_conn: Any) -> None:
    COUNTS["BEGIN"] += 1


def _on_commit(_conn: Any) -> None:
    COUNTS["COMMIT"] += 1


def _on_rollback(_conn: Any) -> None:
    COUNTS["ROLLBACK"] += 1


def _on_checkout(*_args: Any) -> None:
    COUNTS["pool checkout"] += 1


def _on_connect(*_args: Any) -> None:
    COUNTS["pool new connection"] += 1


PROFILE: Any = None  # cProfile on CPU time, when BENCH_CPROFILE_FILE is set


def _dump() -> None:
    if PROFILE is not None and os.environ.get("BENCH_CPROFILE_FILE"):
        PROFILE.dump_stats(os.environ["BENCH_CPROFILE_FILE"])
    path = os.environ.get("BENCH_STATEMENTS_FILE")
    if path:
        with open(path + ".tmp", "w") as out:
            json.dump(dict(COUNTS), out)
        os.replace(path + ".tmp", path)


def _dump_every(seconds: float) -> None:
    stop = threading.Event()
    while not stop.wait(seconds):
        _dump()


def _count_prepares() -> None:
    """asyncpg's prepare, called on a miss of SQLAlchemy's prepared-statement cache: a round trip."""
    import asyncpg

    prepare = asyncpg.connection.Connection.prepare

    async def counted(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        COUNTS["PREPARE (round trip)"] += 1
        COUNTS[f"PREPARE {_kind(query)}"] += 1
        return await prepare(self, query, *args, **kwargs)

    asyncpg.connection.Connection.prepare = counted  # type: ignore[method-assign]


if __name__ == "__main__":
    _count_prepares()
    event.listen(Engine, "before_cursor_execute", _on_execute)
    event.listen(Engine, "begin", _on_begin)
    event.listen(Engine, "commit", _on_commit)
    event.listen(Engine, "rollback", _on_rollback)
    event.listen(Pool, "checkout", _on_checkout)
    event.listen(Pool, "connect", _on_connect)
    atexit.register(_dump)
    threading.Thread(target=_dump_every, args=(2.0,), daemon=True).start()
    if os.environ.get("BENCH_CPROFILE_FILE"):
        import cProfile
        import time

        PROFILE = cProfile.Profile(time.process_time)  # CPU time: on a loaded machine wall time misleads
        PROFILE.enable()
    runpy.run_module("bot", run_name="__main__", alter_sys=True)
