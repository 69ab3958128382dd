"""What a database error says about the row that failed is cut from logs and error reports: PostgreSQL
repeats the row's values in its DETAIL line, which SQLAlchemy's hide_parameters does not reach."""

from __future__ import annotations

from bot.logs import HIDDEN_DETAIL, redact
from bot.reporting import scrub

FAILED_ROW = (
    "(sqlalchemy.dialects.postgresql.asyncpg.IntegrityError) <class 'asyncpg.exceptions.CheckViolationError'>: "
    'new row for relation "relay_messages" violates check constraint "forced_text"\n'
    "DETAIL:  Failing row contains (7, 3, common, null, null, 100002, 12, text, meet me at the old mill\n"
    "tonight, null, f, null, 2026-01-01 12:00:00+00, null, null).\n"
    "[SQL: INSERT INTO relay_messages (author_id, ...) VALUES ($1::INTEGER, ...)]\n"
    "[SQL parameters hidden due to hide_parameters=True]"
)
DUPLICATE_KEY = (
    'duplicate key value violates unique constraint "uq_users_phone"\n'
    "DETAIL:  Key (phone)=(+79161234567) already exists."
)


def test_redact_cuts_the_rows_values_and_keeps_the_rest() -> None:
    cleaned = redact(FAILED_ROW)
    assert "old mill" not in cleaned
    assert "tonight" not in cleaned
    assert HIDDEN_DETAIL in cleaned
    assert 'violates check constraint "forced_text"' in cleaned
    assert "[SQL: INSERT INTO relay_messages" in cleaned
    assert "79161234567" not in redact(DUPLICATE_KEY)
    assert redact("no detail here") == "no detail here"


def test_error_reports_are_redacted_too() -> None:
    event = {"exception": {"values": [{"type": "IntegrityError", "value": FAILED_ROW}]}}
    value = scrub(event)["exception"]["values"][0]["value"]
    assert "old mill" not in value
    assert "forced_text" in value
