"""Engine, session factory and schema migrations."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import ColumnElement, Table, and_, bindparam, event, exc, or_, text, update
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import QueryableAttribute, Session, SessionTransaction
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.base import Executable

from storage.sqlite_fast import one_hop_dbapi

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# PostgreSQL (asyncpg): statements prepared and kept per connection. SQLAlchemy's default of 100 was
# too few: IN lists and multi-row INSERTs give a statement per length, which pushed out even the
# constant ones, and a statement not kept costs a round trip (and a parse and plan) to prepare again.
PG_PREPARED_STATEMENTS = 1000
# A pooled PostgreSQL connection idle longer than this is pinged before use (see _ping_if_idle).
PG_PING_AFTER_IDLE_SECONDS = 10.0


SQLITE_DRIVERS = ("fast", "stock")


def create_engine(
    url: str,
    *,
    search_path: str | None = None,
    echo: bool = False,
    sqlite_driver: str = "fast",
    ping_after_idle: float = PG_PING_AFTER_IDLE_SECONDS,
) -> AsyncEngine:
    """Build the async engine; SQLite gets WAL and a busy timeout so concurrent updates wait, not fail.
    `sqlite_driver` (SQLITE_DRIVER): "fast" is storage/sqlite_fast.py, built on private parts of
    SQLAlchemy's and aiosqlite's adapters (pinned in pyproject.toml); "stock" is SQLAlchemy's own
    aiosqlite adapter, the way back if a release breaks the fast one."""
    if sqlite_driver not in SQLITE_DRIVERS:
        raise ValueError(f"unknown SQLite driver {sqlite_driver!r}: use one of {SQLITE_DRIVERS}")
    connect_args: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if url.startswith("sqlite"):
        connect_args["timeout"] = SQLITE_BUSY_TIMEOUT_SECONDS
        if url.startswith("sqlite+aiosqlite") and sqlite_driver == "fast":
            extra["module"] = one_hop_dbapi()  # one thread hop per statement (storage/sqlite_fast.py)
            # Small statements run in the event loop's thread, the rest in aiosqlite's: never both at once.
            connect_args["check_same_thread"] = False
    else:
        connect_args["prepared_statement_cache_size"] = PG_PREPARED_STATEMENTS
        connect_args["statement_cache_size"] = PG_PREPARED_STATEMENTS  # asyncpg's own (executemany)
        if search_path:
            connect_args["server_settings"] = {"search_path": search_path}
    engine = create_async_engine(
        url,
        echo=echo,
        connect_args=connect_args,
        hide_parameters=True,  # errors and echo never print values: phones, names, message texts
        **extra,
    )
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        _ping_idle_connections(engine, ping_after_idle)
    return engine


_RETURNED_AT = "returned_at"  # a pooled connection's record.info: when it was last given back (monotonic)


def _ping_idle_connections(engine: AsyncEngine, after: float) -> None:
    """Ping a pooled connection before use only when it sat idle for `after` seconds, not each time:
    SQLAlchemy's `pool_pre_ping` on asyncpg is three round trips (BEGIN, an empty statement,
    ROLLBACK) for every checkout, a third of a relayed message's round trips on PostgreSQL. A
    connection in steady use has just shown it works; one that sat idle may have been dropped (the
    server restarted, a proxy timed it out): that one is pinged, and replaced if the ping fails. (A
    connection that dies within `after` seconds of its last use fails its next statement, and the
    pool then drops all its older connections.)"""
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    def returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is None or time.monotonic() - returned_at < after:
            return  # new (just connected), or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError("an idle pooled connection failed its ping") from error

    event.listen(pool, "checkin", returned)
    event.listen(pool, "checkout", checkout)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # SQLite's own lower() folds ASCII only: "Тихая Сова" must match "тихая сова" as on PostgreSQL.
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def pairs_in(
    first: ColumnElement[Any] | QueryableAttribute[Any],
    second: ColumnElement[Any] | QueryableAttribute[Any],
    count: int,
) -> ColumnElement[bool]:
    """Rows whose (first, second) is one of `count` pairs given as parameters (`pair_parameters`), as
    `(first = :a0 AND second = :b0) OR ...`. Not as the row-value `(first, second) IN (...)`: SQLite
    answers that by scanning the whole index, a cost that grows with the table; each branch here is
    one index lookup (on PostgreSQL too). A statement is built once per count (see PairsQuery)."""
    return or_(*(and_(first == bindparam(f"a{n}"), second == bindparam(f"b{n}")) for n in range(count)))


def pair_parameters(pairs: Collection[tuple[Any, Any]]) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    for n, (a, b) in enumerate(pairs):
        parameters[f"a{n}"] = a
        parameters[f"b{n}"] = b
    return parameters


def pairs_bucket(count: int) -> int:
    """The number of pairs a statement is built for: the next power of two (1, 2, 4, ... 256, then
    multiples of 256), so that a few statements serve every batch size."""
    if count <= 1:
        return 1
    if count <= 256:
        return 1 << (count - 1).bit_length()
    return -(-count // 256) * 256


def padded(values: Collection[Any]) -> list[Any]:
    """The values of an expanding IN list, padded with the last one to the next bucket size
    (`pairs_bucket`; a repeat changes nothing in an IN). Each length of an IN list is a statement of
    its own: on PostgreSQL prepared once per connection and kept (PG_PREPARED_STATEMENTS), so a list
    of every length from 1 to 200 meant 200 statements to prepare, a round trip each, per connection;
    in buckets it is 9."""
    listed = list(values)
    bucket = pairs_bucket(len(listed))
    if listed and bucket > len(listed):
        listed.extend([listed[-1]] * (bucket - len(listed)))
    return listed


class PairsQuery:
    """A statement over many (first, second) pairs (`pairs_in`), built and compiled once for each
    bucket of counts (`pairs_bucket`; the list is padded with its last pair, which changes nothing in
    an OR): building and compiling the OR of a hundred comparisons cost more than running it, and a
    statement per count meant a compile, milliseconds of the event loop, for every batch size seen
    for the first time (and SQLAlchemy's statement cache then held hundreds of them)."""

    def __init__(self, build: Callable[[int], Executable], cached: int = 16) -> None:
        self.build = functools.lru_cache(maxsize=cached)(build)

    def __call__(self, pairs: Collection[tuple[Any, Any]]) -> tuple[Executable, dict[str, Any]]:
        listed = list(pairs)
        bucket = pairs_bucket(len(listed))
        if listed and bucket > len(listed):
            listed.extend([listed[-1]] * (bucket - len(listed)))
        return self.build(bucket), pair_parameters(listed)


def upsert(session: AsyncSession, table: type[Any] | Table) -> PgInsert | SqliteInsert:
    """An INSERT with ON CONFLICT for the session's database (PostgreSQL or SQLite)."""
    return dialect_insert(session.get_bind().dialect.name, table)


StatementT = TypeVar("StatementT", bound=Executable)


class Prebuilt(Generic[StatementT]):
    """A statement of a hot path built once per database kind, not on every call: building a statement
    and its cache key cost about as much as running it. `build` gets the dialect's name and returns a
    statement whose values all come as bound parameters."""

    def __init__(self, build: Callable[[str], StatementT]) -> None:
        self.build = build
        self._built: dict[str, StatementT] = {}

    def __call__(self, session: AsyncSession) -> StatementT:
        dialect = session.get_bind().dialect.name
        statement = self._built.get(dialect)
        if statement is None:
            statement = self._built[dialect] = self.build(dialect)
        return statement


def dialect_insert(dialect: str, table: type[Any] | Table) -> PgInsert | SqliteInsert:
    """An INSERT with ON CONFLICT for a dialect by name (PostgreSQL or SQLite; see Prebuilt)."""
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


_CONNECTED = "connected"  # session.info: the session's transaction has a connection (a statement ran)


def _note_connection(session: Session, _transaction: Any, _connection: Any) -> None:
    session.info[_CONNECTED] = True


def _forget_connection(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_CONNECTED, None)


def has_work(session: AsyncSession) -> bool:
    """Whether committing would do anything: a statement ran in the transaction, or objects changed.
    (Taking an object read elsewhere into the session begins a transaction but runs nothing.)"""
    return bool(session.info.get(_CONNECTED) or session.new or session.dirty or session.deleted)


class AppAsyncSession(AsyncSession):
    """AsyncSession whose `async with` exit is cheap when there is nothing to give back: AsyncSession's
    own exit runs `close()` in a task of its own under a shield (so a cancelled caller never leaves a
    connection half returned), two more turns of the event loop for every unit of work. A session that
    holds no connection (none was taken, or its transaction ended: committed, rolled back) has no
    I/O to do on close, so it is closed right here."""

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        if self.info.get(_CONNECTED):
            await super().__aexit__(type_, value, traceback)
        else:
            self.sync_session.close()


def create_sessionmaker(
    engine: AsyncEngine,
    on_commit: Callable[[Session], None] | None = None,
    on_rollback: Callable[[Session, SessionTransaction], None] | None = None,
) -> async_sessionmaker[AsyncSession]:
    """Sessions for this engine; `on_commit` runs after each commit, a savepoint's release included
    (`session.in_nested_transaction()` tells), and `on_rollback` after each rollback, a savepoint's
    included (the transaction rolled back is given): the delivery handoff listens to both."""

    class AppSession(Session):
        pass

    event.listen(AppSession, "after_begin", _note_connection)
    event.listen(AppSession, "after_transaction_end", _forget_connection)
    if on_commit is not None:
        event.listen(AppSession, "after_commit", on_commit)
    if on_rollback is not None:
        event.listen(AppSession, "after_soft_rollback", on_rollback)
    return async_sessionmaker(engine, class_=AppAsyncSession, expire_on_commit=False, sync_session_class=AppSession)


async def without_begin(session: AsyncSession) -> None:
    """On PostgreSQL, run this session's statements each in a transaction of its own (autocommit): no
    BEGIN before them and no COMMIT after, two round trips fewer (asyncpg sends BEGIN as a statement
    of its own). Only for a unit that runs one statement, or reads whose agreement with each other
    does not matter (the batched user loader, the delivery's sent-marks). Call it before the
    session's first statement; the connection goes back to the pool at its usual isolation level.
    SQLite is left as it is (its statements run in the event loop's thread, where BEGIN costs nothing)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


ModelT = TypeVar("ModelT")


async def sqlite_write_lock_first(session: AsyncSession, model: type[Any], key: int) -> None:
    """On SQLite, take the database's one write lock now, before this transaction's reads, by a write
    that changes nothing (row `key` of `model`): a second transaction doing the same reads only after
    this one committed. SQLAlchemy's stock adapter (SQLITE_DRIVER=stock) begins a transaction only at
    its first write, so without it two check-then-write units both read before either wrote. Elsewhere
    nothing (PostgreSQL locks rows or takes advisory locks)."""
    if session.get_bind().dialect.name == "sqlite":
        table = cast(Table, model.__table__)
        await session.execute(update(table).where(table.c.id == key).values(id=table.c.id))


async def open_pool(engine: AsyncEngine) -> int:
    """Open the pool's connections now, all at once, rather than one by one under the first updates:
    each is a connect, an authentication and the driver's set-up (round trips and CPU the first
    second of traffic would otherwise pay). SQLite has no pool to fill. Returns how many were opened."""
    pool = engine.sync_engine.pool
    size = pool.size() if isinstance(pool, QueuePool) and engine.dialect.name != "sqlite" else 0
    connections = [await engine.connect() for _ in range(size)]
    try:
        for connection in connections:
            await connection.exec_driver_sql("select 1")
    finally:
        for connection in connections:
            await connection.close()
    return size


async def get_row(session: AsyncSession, model: type[ModelT], key: Any) -> ModelT | None:
    """`session.get(model, key)`, without its trip through a greenlet when the session already holds
    the row (and it is not expired): the relay looks up a few held rows per message, and each such
    `get` cost about as much as a small statement."""
    held = session.identity_map.get((model, (key,), None))  # the identity key (orm.util.identity_key's form)
    if held is not None and not instance_state(held).expired:
        return held
    return await session.get(model, key)


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


MIGRATION_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('bot-migrations:' || coalesce(current_schema(), '')))")


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Run `alembic upgrade head` on the engine's database (also at start-up). On PostgreSQL one
    upgrade runs at a time per schema: instances starting together wait for the first, then find
    the schema at head (without the lock both created the same tables and one crashed)."""

    def _upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), "head")

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Held until this transaction ends (the upgrade's own); keyed by schema, so tenants and
            # test runs in other schemas do not wait on each other.
            await conn.execute(MIGRATION_LOCK)
        await conn.run_sync(_upgrade)
