"""Sentry error reports (SENTRY_DSN): off by default, and what is sent holds no phone, no text, no user."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from bot.reporting import setup_error_reporting

PHONE = "+79161234567"
TEXT = "my secret plans for tonight"


class Captured(Transport):
    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def events(self) -> list[dict[str, Any]]:
        return [item.payload.json for e in self.envelopes for item in e.items if item.payload.json is not None]


@pytest.fixture
def sentry() -> Iterator[Captured]:
    transport = Captured()
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # back to the inactive client


def test_off_without_a_dsn(sentry: Captured) -> None:
    assert setup_error_reporting(None) is False
    assert not sentry_sdk.get_client().is_active()


def test_a_handler_error_is_reported_without_personal_data(sentry: Captured) -> None:
    assert setup_error_reporting("https://key@sentry.example/1", transport=sentry)
    log = logging.getLogger("bot.errors")

    def handle(text: str, phone: str) -> None:  # locals hold what a handler holds
        raise RuntimeError(f"could not store contact {phone}")

    try:
        handle(TEXT, PHONE)
    except RuntimeError:
        log.exception("update 17 failed in handlers.signin.contact")
    sentry_sdk.get_client().flush()
    events = sentry.events()
    assert events, "nothing was reported"
    dump = json.dumps(events)
    assert "RuntimeError" in dump  # the error is there...
    assert "update 17 failed" in dump
    assert "79161234567" not in dump  # ...without the phone
    assert TEXT not in dump  # ...or the text (frames carry no local variables)
    assert all("user" not in event and "request" not in event for event in events)
