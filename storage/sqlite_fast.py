"""SQLite through aiosqlite with one thread hop per statement instead of four.

SQLAlchemy's aiosqlite adapter awaits aiosqlite for each step of a statement (make a cursor,
execute, fetch, close), and each await is a trip to aiosqlite's thread and back — about 0.3 ms on
a small VM, so ~1.5 ms per statement. This cursor does the whole statement in one trip: it runs
execute + fetchall + close as one function in aiosqlite's thread. Used for `sqlite+aiosqlite` URLs
by `storage.db.create_engine` (passed as the engine's DBAPI `module`; nothing global is patched).

Committing or rolling back a connection that has no transaction open in SQLite (after reads only:
sqlite3 begins one before the first write) is skipped: it would be a trip to the thread for nothing,
twice per unit of work (the commit, then the pool's rollback of the returned connection).

It also queues writers in the event loop instead of in SQLite. SQLite lets one connection write
at a time, and a connection that finds the lock taken polls it with sleeps of 1 to 100 ms (its
busy timeout): under concurrent updates most of the time went to those sleeps, while the lock was
free again within a millisecond. Here a connection takes an asyncio lock (the engine's write
gate) before its first writing statement and gives it back when its transaction ends, so writers
wait in turn and wake the moment the previous one commits; readers never wait (WAL).

Most statements do not go to the thread at all: they run right here, in the event loop's thread
(`_inline`). The relay's statements are index lookups and inserts of a few rows, done by SQLite in
microseconds, while the trip to the thread and back costs two turns of the event loop, and under load
a turn is milliseconds: a batch of a dozen statements spent most of its time queued for the loop.
To the thread still go: bulk statements (more than INLINE_MAX_VALUES bound values: a fan-out to the
common chat), DELETEs (the housekeeping purges may touch many rows), reads marked `in_thread` (counts
that scan a table: /stats, the queue depth for /metrics), anything while the thread is
still busy with this connection (a statement abandoned by a cancelled task), and a first write
that finds another process holding SQLite's write lock: inline, a write tries the lock once (busy
timeout 0) and, if it is taken, waits for it in the thread with the connection's busy timeout, never
blocking the event loop.

COMMIT runs inline too: in WAL mode it appends to the log and waits for no lock, and the write gate is
then held only while the transaction's statements run, not through a turn of the loop. What could
make a commit slow is the checkpoint SQLite runs inside it when the log has grown (it copies pages and
syncs the file): that is turned off on these connections (wal_autocheckpoint = 0), and a passive
checkpoint runs instead, every CHECKPOINT_EVERY commits or as soon as the WAL file passes
WAL_CHECKPOINT_BYTES, on a short-lived connection of its own in a worker thread: no pooled connection
is busy with it, so no statement waits behind it (on the connection that committed, a relay batch
that drew it from the pool waited for the checkpoint: milliseconds, at 1,000 messages a second a few
times a second).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import sqlite3
import weakref
from typing import Any, TypeVar, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.sql.selectable import HasPrefixes
from sqlalchemy.util.concurrency import await_

S = TypeVar("S", bound=HasPrefixes)

log = logging.getLogger(__name__)


def _run(conn: sqlite3.Connection, many: bool, operation: Any, parameters: Any) -> tuple[Any, ...]:
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid, conn.in_transaction
    finally:
        cursor.close()


INLINE_MAX_VALUES = 4000  # bound values of one statement run inline; more go to the thread
CHECKPOINT_EVERY = 200  # commits between two WAL checkpoints (run in a worker thread) at most
WAL_CHECK_EVERY = 10  # commits between two looks at the WAL file's size
WAL_CHECKPOINT_BYTES = 4 * 1024 * 1024  # a WAL this large is checkpointed at once (SQLite's default: 1,000 pages)


def _inline(conn: sqlite3.Connection, many: bool, operation: Any, parameters: Any, busy_ms: int | None) -> Any:
    """`_run` in the caller's thread; with `busy_ms` (a statement that takes the write lock) the lock is
    tried once: None if another connection holds it (the caller then runs the statement in the thread)."""
    if busy_ms is None:
        return _run(conn, many, operation, parameters)
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        return _run(conn, many, operation, parameters)
    except sqlite3.OperationalError as error:
        if getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY:
            return None  # nothing was written: SQLite refuses before the statement does anything
        raise
    finally:
        conn.execute(f"PRAGMA busy_timeout = {busy_ms}")


def _own_checkpoints(conn: sqlite3.Connection) -> None:
    """SQLite checkpoints no more inside a commit; the WAL file, once reset after a checkpoint, is cut
    back to WAL_CHECKPOINT_BYTES (it is never shrunk otherwise): so its size past that mark is what was
    written since, the measure `checkpoint_due` goes by."""
    conn.execute("PRAGMA wal_autocheckpoint = 0").close()
    conn.execute(f"PRAGMA journal_size_limit = {WAL_CHECKPOINT_BYTES}").close()


# Marks a statement that must run in aiosqlite's thread whatever its size: a read that scans a table
# (a count over all users, the delivery queue's depth) takes milliseconds at 100,000 rows, and inline
# it would stall every update in the process for that long. `in_thread(select(...))` adds it (on
# SQLite only; elsewhere nothing is added).
IN_THREAD = "/* in-thread */"


def in_thread(statement: S) -> S:
    """The statement, marked to run in aiosqlite's thread (see IN_THREAD)."""
    return statement.prefix_with(IN_THREAD, dialect="sqlite")


def _fits_inline(many: bool, operation: str, parameters: Any) -> bool:
    head = operation.lstrip()[:6].upper()
    if head.startswith("DELETE") or (head.startswith(("SELECT", "WITH")) and IN_THREAD in operation):
        return False
    if not parameters:
        return True
    if many:
        return len(parameters) * len(parameters[0]) <= INLINE_MAX_VALUES
    return len(parameters) <= INLINE_MAX_VALUES


def _reads_only(operation: str) -> bool:
    """Statements that never take SQLite's write lock (outside a transaction they are not one)."""
    head = operation.lstrip()[:6].upper()
    return head.startswith(("SELECT", "PRAGMA"))


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]  # the sqlite3 cursor lives only inside _run
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        return None

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()

    async def _one_hop(self, many: bool, operation: Any, parameters: Any) -> None:
        adapt: Any = self._adapt_connection
        takes_lock = not adapt._writing and not _reads_only(operation)
        if takes_lock:
            await adapt.take_write_gate()
        async with adapt._execute_mutex:
            connection: Any = self._connection
            try:
                result = None
                if adapt.thread_idle and _fits_inline(many, operation, parameters):
                    busy_ms = adapt.busy_ms if takes_lock else None
                    result = _inline(connection._conn, many, operation, parameters, busy_ms)
                if result is None:
                    result = await adapt.in_thread(_run, connection._conn, many, operation, parameters)
            except BaseException:
                adapt.release_write_gate_if_idle()
                raise
        self._description, rows, self._rowcount, self._lastrowid, in_transaction = result
        self._rows = collections.deque(rows)
        if not in_transaction:
            adapt.release_write_gate()  # a write outside a transaction (autocommit) is already done

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._one_hop(False, operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_(self._one_hop(True, operation, seq_of_parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_finished", "_gate", "_gate_timeout", "_queued")
    _cursor_cls = OneHopCursor  # type: ignore[assignment]  # a subclass, as SQLAlchemy expects

    def __init__(self, dbapi: OneHopDBAPI, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._gate: asyncio.Lock | None = None  # the engine's write gate, while this connection holds it
        self._gate_timeout = 5.0
        # Work sent to aiosqlite's thread and work it finished: each counter is written by one thread only.
        self._queued = 0
        self._finished = 0

    @property
    def busy_ms(self) -> int:
        return int(self._gate_timeout * 1000)

    @property
    def thread_idle(self) -> bool:
        """Nothing of this connection's runs in aiosqlite's thread (so the sqlite3 connection is free)."""
        return self._queued == self._finished

    async def in_thread(self, function: Any, *args: Any) -> Any:
        """`function(*args)` in aiosqlite's thread (queued as aiosqlite itself does), tracked by `thread_idle`."""

        def tracked() -> Any:
            try:
                return function(*args)
            finally:
                self._finished += 1

        connection: Any = self._connection
        if not connection._running or not connection._connection:
            raise ValueError("Connection closed")  # as aiosqlite says: nothing would run it
        future = asyncio.get_running_loop().create_future()
        self._queued += 1
        connection._tx.put_nowait((future, tracked))
        return await future

    def _end_transaction(self, end: Any) -> None:
        try:
            if self.thread_idle:
                end()
            else:
                await_(self.in_thread(end))
        except Exception as error:
            self._handle_exception(error)

    @property
    def _writing(self) -> bool:
        return self._gate is not None

    async def take_write_gate(self) -> None:
        gate = cast(OneHopDBAPI, self.dbapi).write_gate()
        # As long as SQLite itself would have waited for its lock (the busy timeout). asyncio.timeout, not
        # wait_for: wait_for ran the acquire in a task of its own, a turn of the loop even when it is free.
        try:
            async with asyncio.timeout(self._gate_timeout):
                await gate.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked (waited for the write gate)") from None
        self._gate = gate

    def release_write_gate(self) -> None:
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.release()

    def release_write_gate_if_idle(self) -> None:
        """After a failed statement: keep the gate only if the connection is still in a transaction."""
        conn = getattr(self._connection, "_conn", None)
        if conn is None or not conn.in_transaction:
            self.release_write_gate()

    def _in_transaction(self) -> bool:
        conn = getattr(self._connection, "_conn", None)
        return conn is not None and conn.in_transaction

    def commit(self) -> None:
        try:
            if self._in_transaction():  # after reads only there is none (no trip to the thread for nothing)
                self._end_transaction(self._connection._conn.commit)
                dbapi = cast(OneHopDBAPI, self.dbapi)
                if dbapi.checkpoint_due():
                    dbapi.checkpoint_soon()
        finally:
            self.release_write_gate()

    def rollback(self) -> None:
        try:
            if self._in_transaction():  # as on commit; also the pool's reset of every returned connection
                self._end_transaction(self._connection._conn.rollback)
        finally:
            self.release_write_gate()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_write_gate()


def _checkpoint(database: str) -> None:
    """A passive checkpoint of the database on a short-lived connection of its own (opening one is a
    fraction of a millisecond, and this runs every few hundred commits at most)."""
    conn = sqlite3.connect(database, timeout=0, check_same_thread=False, uri=database.startswith("file:"))
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").close()
    finally:
        conn.close()


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def __init__(self, aiosqlite: Any, sqlite: Any) -> None:
        super().__init__(aiosqlite, sqlite)
        self._commits = 0
        self._database: str | None = None  # the database (a path or a file: URI), once connected to
        self._wal: str | None = None  # its WAL file (for a plain path)
        self._checkpointing = False
        # One gate per event loop (an asyncio.Lock belongs to one loop; tests run several).
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    def write_gate(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Lock()
        return gate

    def checkpoint_due(self) -> bool:
        """Every CHECKPOINT_EVERY commits of the engine, or sooner when the WAL has grown past
        WAL_CHECKPOINT_BYTES (a fan-out to thousands writes megabytes): SQLite's own are turned off."""
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0:
            return True
        if self._commits % WAL_CHECK_EVERY or self._wal is None:
            return False
        try:
            return os.stat(self._wal).st_size > WAL_CHECKPOINT_BYTES
        except OSError:
            return False

    def checkpoint_soon(self) -> None:
        """Start a passive checkpoint in a worker thread, on a connection of its own (one at a time:
        while one runs, another is not started). An in-memory database has no WAL to checkpoint."""
        if self._database is None or self._checkpointing:
            return
        self._checkpointing = True
        running = asyncio.get_running_loop().run_in_executor(None, _checkpoint, self._database)
        running.add_done_callback(self._checkpointed)

    def _checkpointed(self, task: asyncio.Future[Any]) -> None:
        self._checkpointing = False
        if not task.cancelled() and task.exception() is not None:
            log.warning("WAL checkpoint failed: %s", task.exception())

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        database = str(arg[0]) if arg else str(kw.get("database", ""))
        if database and database != ":memory:":
            self._database = database
            if not database.startswith("file:"):
                self._wal = f"{database}-wal"
        plain = super().connect(*arg, **kw)
        connection = OneHopConnection(self, plain._connection)
        connection._gate_timeout = float(kw.get("timeout", 5.0))
        conn = plain._connection._conn
        await_(connection.in_thread(_own_checkpoints, conn))  # see commit()
        return connection


def one_hop_dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)
