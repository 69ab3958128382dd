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
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)


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
