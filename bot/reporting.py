"""Optional error reporting to Sentry (SENTRY_DSN; off when unset).

No personal data leaves the process: no user info (ids, IPs), request bodies or query data
(`data_collection`), no local variables in stack frames (a handler's locals hold message texts and phone
numbers), no request bodies, and `scrub` drops what could still carry them: the request and user
parts of an event, and phone-number-like runs of digits in messages and exception values. Log
lines are already free of personal data (they carry ids, never texts or phones), so breadcrumbs
built from them stay.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.logging import LoggingIntegration

from bot.logs import redact

PHONE_LIKE = re.compile(r"\+?\d[\d\s().-]{6,}\d")


def _clean(text: str) -> str:
    return redact(PHONE_LIKE.sub("[number]", text))  # and PostgreSQL's DETAIL of a failed row (its values)


def scrub(event: dict[str, Any], _hint: dict[str, Any] | None = None) -> dict[str, Any]:
    for key in ("request", "user", "extra"):
        event.pop(key, None)
    if isinstance(event.get("message"), str):
        event["message"] = _clean(event["message"])
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        for key in ("message", "formatted"):
            if isinstance(logentry.get(key), str):
                logentry[key] = _clean(logentry[key])
        logentry.pop("params", None)
    for exception in (event.get("exception") or {}).get("values") or []:
        if isinstance(exception.get("value"), str):
            exception["value"] = _clean(exception["value"])
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    return event


def setup_error_reporting(dsn: str | None, *, environment: str | None = None, **options: Any) -> bool:
    """Turn Sentry on when a DSN is given; True if it is on."""
    if not dsn:
        return False
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        data_collection={
            "user_info": False,
            "http_bodies": [],
            "database_query_data": False,
            "stack_frame_variables": False,
            "queues": False,
        },
        before_send=scrub,  # type: ignore[arg-type]
        integrations=[LoggingIntegration(event_level=logging.ERROR)],
        **options,
    )
    return True
