"""Sign-in code wiring: /phone only with an SMS gateway or the loud development flag, and the key that
stored codes are keyed with."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from bot.sms import HttpSmsSender, LogSmsSender, create_sms_sender, phone_code_key
from tests.fakes.telegram import TOKEN


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, bot_token=TOKEN, **values)  # type: ignore[call-arg,arg-type]


async def test_phone_codes_need_a_sender_or_the_loud_dev_flag(caplog: pytest.LogCaptureFixture) -> None:
    assert create_sms_sender(settings()) is None  # no gateway: /phone is not offered
    with caplog.at_level(logging.WARNING, logger="bot.sms"):
        sender = create_sms_sender(settings(sms_dev_log_codes=True))
    assert isinstance(sender, LogSmsSender)
    assert "anyone who can read it can sign in as anyone" in caplog.text
    http = create_sms_sender(settings(sms_sender_url="http://127.0.0.1:9/sms", sms_dev_log_codes=True))
    assert isinstance(http, HttpSmsSender)
    await http.close()


def test_code_key_is_the_secret_or_derived_from_the_bot_token() -> None:
    derived = phone_code_key(settings())
    assert derived == phone_code_key(settings())  # every instance, every restart: codes stay valid
    assert len(derived) == 32
    assert TOKEN.encode() not in derived
    secret = "s" * 32
    assert phone_code_key(settings(phone_code_secret=secret)) not in (derived, secret.encode())
    with pytest.raises(ValidationError, match="at least 32 characters"):
        settings(phone_code_secret="short")
