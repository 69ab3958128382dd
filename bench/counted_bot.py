"""The bot (`python -m bot`) with its SQL statements counted, for `bench.webhook --count-statements`:
every 2 s, and at exit, the counts so far (by the statement's first words; BEGIN, COMMIT and the
pool's pings included; "(round trip)": what asyncpg and Redis actually sent) are written as JSON to
the file named by BENCH_STATEMENTS_FILE (with BENCH_STATEMENT_TEXT=KIND, e.g. "SELECT users", the
statements of that kind are counted by their text too). With BENCH_CPROFILE_FILE set, the process also runs under
cProfile timed by CPU time, written there too."""

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
    kind = _kind(statement)
    COUNTS[kind + (" (many)" if many else "")] += 1
    if os.environ.get("BENCH_STATEMENT_TEXT") and kind.startswith(os.environ["BENCH_STATEMENT_TEXT"]):
        COUNTS["text: " + " ".join(statement.split())[-160:]] += 1
        if os.environ.get("BENCH_STATEMENT_STACK"):
            import greenlet

            parent = greenlet.getcurrent().parent  # SQLAlchemy runs the statement in a child greenlet
            frame = parent.gr_frame if parent is not None else None
            frames = []
            while frame is not None:
                name = frame.f_code.co_filename
                if any(part in name for part in ("/bot/", "/services/", "/storage/", "/handlers/")):
                    frames.append(f"{name.rsplit('/', 2)[-2]}/{name.rsplit('/', 1)[-1]}:{frame.f_lineno}")
                frame = frame.f_back
            frames.reverse()
            COUNTS["stack: " + " < ".join(reversed(frames[-6:]))] += 1


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


def _count_round_trips() -> None:
    """What goes over the wire, by driver: asyncpg's BEGIN and COMMIT (SQLAlchemy's begin and commit
    events fire in autocommit too, where nothing is sent), and Redis commands (pipelines as one)."""
    import asyncpg.transaction
    from redis.asyncio.client import Pipeline, Redis

    start, commit = asyncpg.transaction.Transaction.start, asyncpg.transaction.Transaction.commit

    async def counted_start(self: Any) -> Any:
        COUNTS["BEGIN (round trip)"] += 1
        return await start(self)

    async def counted_commit(self: Any) -> Any:
        COUNTS["COMMIT (round trip)"] += 1
        return await commit(self)

    asyncpg.transaction.Transaction.start = counted_start  # type: ignore[method-assign]
    asyncpg.transaction.Transaction.commit = counted_commit  # type: ignore[method-assign]
    execute_command = Redis.execute_command
    execute_pipeline = Pipeline.execute

    async def counted_command(self: Any, *args: Any, **options: Any) -> Any:
        COUNTS[f"redis {str(args[0]).upper()}"] += 1
        COUNTS["redis (round trip)"] += 1
        return await execute_command(self, *args, **options)

    async def counted_pipeline(self: Any, *args: Any, **kwargs: Any) -> Any:
        COUNTS["redis pipeline"] += 1
        COUNTS["redis (round trip)"] += 1
        return await execute_pipeline(self, *args, **kwargs)

    Redis.execute_command = counted_command  # type: ignore[method-assign]
    Pipeline.execute = counted_pipeline  # type: ignore[method-assign]


def _time_sends() -> None:
    """Milliseconds the express lane's sends spent in each step (summed; divide by the sends): waiting
    for the chat's pace and the global rate, the request, recording it."""
    import time

    from bot.delivery.worker import DeliveryWorker, SentMarks

    def timed(cls: Any, name: str, label: str) -> None:
        original = getattr(cls, name)

        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await original(self, *args, **kwargs)
            finally:
                COUNTS[f"ms {label}"] += round((time.perf_counter() - t0) * 1000)
                COUNTS[f"calls {label}"] += 1

        setattr(cls, name, wrapper)

    timed(DeliveryWorker, "_pace", "send: pace and rate")
    timed(DeliveryWorker, "_send", "send: request")
    timed(DeliveryWorker, "_express_record", "send: record")
    timed(SentMarks, "_handle", "sent-marks write")


def _time_gc() -> None:
    """The garbage collector's pauses, by generation: collections, milliseconds summed, and the
    longest pause (ms, not per update)."""
    import gc
    import time

    started: list[float] = [0.0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        pause = (time.perf_counter() - started[0]) * 1000
        generation = info["generation"]
        COUNTS[f"gc gen{generation} collections"] += 1
        COUNTS[f"gc gen{generation} ms"] += round(pause)
        longest = f"gc gen{generation} longest pause ms (not per update)"
        COUNTS[longest] = max(COUNTS[longest], round(pause))

    gc.callbacks.append(callback)


if __name__ == "__main__":
    _time_gc()
    _count_prepares()
    _count_round_trips()
    _time_sends()
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
