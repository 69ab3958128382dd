"""Logging set-up: plain text by default, JSON lines with LOG_JSON=true (structlog).

Error paths must not leak personal data. Tracebacks are rendered without local variables (structlog
shows them by default in JSON, and they hold phones and message texts); the engine hides SQL
parameters in its errors (storage.db.create_engine); and PostgreSQL's own details of a failed row,
which carry its values, are cut from every record (`redact`)."""

from __future__ import annotations

import io
import logging
import re
from typing import Any, TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, ExcInfo, WrappedLogger

# "DETAIL:  Key (phone)=(+7...) already exists", "DETAIL:  Failing row contains (..., 'text', ...)": up
# to the end of that error's message (SQLAlchemy's "[SQL: ...]", a hint, a blank line) or of the text.
_DETAIL = re.compile(r"DETAIL:.*?(?=\n\[SQL|\nHINT:|\n\n|\Z)", re.DOTALL)
HIDDEN_DETAIL = "DETAIL: [hidden: it holds the row's values]"


def redact(text: str) -> str:
    """The text without the database's details of a failed row."""
    return _DETAIL.sub(HIDDEN_DETAIL, text) if "DETAIL:" in text else text


def setup_logging(level: str = "INFO", json: bool = False) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(make_formatter(json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_third_parties(level)


# Loggers of libraries that say at INFO what only matters when debugging: APScheduler writes two
# lines per job run (several a second), aiogram one per update and at every polling start, Alembic
# at every start-up.
NOISY_LOGGERS = ("apscheduler", "aiogram.event", "aiogram.dispatcher", "aiogram.webhook", "alembic", "httpx")


def quiet_third_parties(level: str) -> None:
    quiet = level.upper() != "DEBUG"
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.NOTSET)


def _plain_traceback(sio: TextIO, exc_info: ExcInfo) -> None:
    """The standard library's traceback (no locals), redacted."""
    out = io.StringIO()
    structlog.dev.plain_traceback(out, exc_info)
    sio.write(redact(out.getvalue()))


def _redact_fields(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    for key, value in event_dict.items():
        if isinstance(value, str | list | dict):
            event_dict[key] = _redact_any(value)
    return event_dict


def _redact_any(value: Any) -> Any:
    """Strings redacted, in lists and dicts too (the structured traceback's messages)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redact_any(item) for item in value]
    if isinstance(value, dict):
        return {key: _redact_any(item) for key, item in value.items()}
    return value


def _drop_formatted_message(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    event_dict.pop("message", None)
    return event_dict


def make_formatter(json: bool) -> logging.Formatter:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=_plain_traceback)
    )
    # JSON: the traceback as a structured `exception` field (frames as objects, no locals); without
    # it, a record's exc_info was serialised as "<traceback object at ...>" and the traceback lost.
    # Plain: the console renderer prints the traceback itself, as the standard library would.
    exceptions: list[structlog.types.Processor] = (
        [structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False))] if json else []
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,  # update_id, user_id, handler (bot.metrics middlewares)
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            # `log.info("...", extra={"chat_id": ...})`: the fields are the event's own keys (JSON keys)
            structlog.stdlib.ExtraAdder(),
            _drop_formatted_message,  # the record's own `message` (the event, once more) is no extra
            structlog.processors.TimeStamper(fmt="iso"),
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *exceptions, _redact_fields, renderer],
    )
    return formatter
