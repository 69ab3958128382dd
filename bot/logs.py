"""Logging set-up: plain text by default, JSON lines with LOG_JSON=true (structlog)."""

from __future__ import annotations

import logging

import structlog


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


def make_formatter(json: bool) -> logging.Formatter:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,  # update_id, user_id, handler (bot.metrics middlewares)
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso"),
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    return formatter
