"""DELIVERY_RATE above Telegram's free 30/s needs paid broadcasts (PAID_BROADCAST=true): refused at
start without it, in one line that names both settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.__main__ import settings_error_line
from bot.settings import Settings

TOKEN = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ab"


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, bot_token=TOKEN, **values)  # type: ignore[call-arg]


def test_a_rate_above_30_without_paid_broadcast_is_refused_in_one_line() -> None:
    with pytest.raises(ValidationError) as refused:
        settings(delivery_rate=31)
    line = settings_error_line(refused.value)
    assert "\n" not in line
    assert "DELIVERY_RATE above 30 needs PAID_BROADCAST=true" in line


@pytest.mark.parametrize(("rate", "paid"), [(30, False), (12.5, False), (31, True), (1000, True)])
def test_rates_allowed(rate: float, paid: bool) -> None:
    assert settings(delivery_rate=rate, paid_broadcast=paid).paid_broadcast is paid


def test_paid_broadcast_is_off_by_default() -> None:
    assert settings().paid_broadcast is False
