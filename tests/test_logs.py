"""Log events carry fields (JSON keys), not only prose; the traceback is a structured field."""

from __future__ import annotations

import io
import json
import logging

from bot.logs import make_formatter


def test_json_events_carry_their_fields_and_the_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(make_formatter(json=True))
    log = logging.getLogger("bot.test_logs")
    log.addHandler(handler)
    log.propagate = False
    try:
        try:
            raise RuntimeError("boom")
        except RuntimeError as exc:
            log.error(
                "handler failed: update=%s",
                17,
                exc_info=exc,
                extra={"update_type": "message", "failed_update_id": 17},
            )
    finally:
        log.removeHandler(handler)
    event = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert event["event"] == "handler failed: update=17"
    assert event["update_type"] == "message"
    assert event["failed_update_id"] == 17
    assert event["level"] == "error"
    assert isinstance(event["exception"], list)
    assert event["exception"][0]["exc_type"] == "RuntimeError"
