"""Error paths log a full traceback, in both formats, and no personal data: the database fails while
a member's phone (sign-in) and a message's text (relay) are being written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bot.logs import make_formatter
from tests.conftest import DbTarget
from tests.e2e.harness import Harness

PHONE = "+79165550123"
SECRET = "meet me at the old mill 7731"

# A failure the database itself raises, with the values in play: SQLite through a trigger, PostgreSQL
# through a check constraint (its error's DETAIL repeats the failing row, values and all).
FAILURES = {
    "sqlite": [
        "CREATE TRIGGER forced_phone BEFORE UPDATE OF phone ON users WHEN NEW.phone = '{phone}' "
        "BEGIN SELECT RAISE(ABORT, 'forced failure'); END",
        "CREATE TRIGGER forced_text BEFORE INSERT ON relay_messages WHEN NEW.text LIKE '%old mill%' "
        "BEGIN SELECT RAISE(ABORT, 'forced failure'); END",
    ],
    "postgres": [
        "ALTER TABLE users ADD CONSTRAINT forced_phone CHECK (phone IS NULL OR phone <> '{phone}')",
        "ALTER TABLE relay_messages ADD CONSTRAINT forced_text CHECK (text NOT LIKE '%old mill%')",
    ],
}


@pytest.fixture(params=["plain", "json"])
def log_lines(request: pytest.FixtureRequest) -> Iterator[tuple[str, io.StringIO]]:
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(make_formatter(json=request.param == "json"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield request.param, lines
    finally:
        root.removeHandler(handler)


async def test_database_error_logs_traceback_without_phone_or_text(
    tg: Harness, db: DbTarget, log_lines: tuple[str, io.StringIO]
) -> None:
    kind, lines = log_lines
    bob = await tg.user("Bob").signed_in()
    await bob.send("/join")
    alice = await tg.user("Alice").signed_in()
    await alice.send("/join")
    async with tg.app.ctx.sessionmaker() as session, session.begin():
        for statement in FAILURES[db.kind]:
            await session.execute(text(statement.format(phone=PHONE)))

    mallory = tg.user("Mallory")
    await mallory.send("/start")
    await mallory.send_contact(PHONE)  # signing in fails in the database
    assert mallory.received("went wrong"), mallory.texts()
    await alice.send(f"Bob, {SECRET}")  # relaying fails in the database
    assert alice.received("went wrong"), alice.texts()
    assert not any(SECRET in t for t in bob.texts())

    output = lines.getvalue()
    if kind == "json":
        records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        failures = [r for r in records if "handler failed" in r["event"]]
        assert len(failures) == 2, records
        for record in failures:
            chain = record["exception"]  # the traceback, structured: every exception of the chain, with frames
            assert chain, record
            assert all(item["frames"] for item in chain), record
            assert any(frame["name"] for item in chain for frame in item["frames"])
            assert any("IntegrityError" in item["exc_type"] for item in chain), chain
            assert all("locals" not in frame for item in chain for frame in item["frames"])
    else:
        assert output.count("handler failed") == 2, output
        assert output.count("Traceback (most recent call last)") >= 2, output
        assert "IntegrityError" in output
    assert "forced" in output  # the database's own message is kept
    assert PHONE.lstrip("+") not in output
    assert "old mill" not in output
