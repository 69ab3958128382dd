"""A guessable WEBHOOK_SECRET is refused at start, with one line naming the setting."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fakes.telegram import TOKEN
from tests.test_process import _env, _run_bot


@pytest.mark.parametrize("secret", ["x", "12345678", "a" * 31, "s" * 40 + "!"])
async def test_weak_webhook_secret_is_refused_at_start(tmp_path: Path, secret: str) -> None:
    env = _env(BOT_TOKEN=TOKEN, WEBHOOK_URL="https://bot.example.test/hook", WEBHOOK_SECRET=secret)
    process = await _run_bot(tmp_path, env)
    _out, err = await asyncio.wait_for(process.communicate(), 30)
    lines = err.decode().strip().splitlines()
    assert process.returncode == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("Setting WEBHOOK_SECRET is invalid")
    assert "32" in lines[0]  # says what a strong one is
    assert len(secret) < 8 or secret not in lines[0]  # and does not echo the secret


def test_empty_secrets_as_in_env_example_mean_unset() -> None:
    from bot.settings import Settings

    settings = Settings(_env_file=None, bot_token=TOKEN, webhook_secret="", metrics_token="")  # type: ignore[call-arg]
    assert (settings.webhook_secret, settings.metrics_token) == (None, None)
    with pytest.raises(ValueError, match="WEBHOOK_SECRET is required"):
        Settings(_env_file=None, bot_token=TOKEN, webhook_url="https://bot.example.test/hook", webhook_secret="")  # type: ignore[call-arg]


def test_a_strong_secret_is_taken() -> None:
    from bot.settings import Settings

    secret = "Ab0_-" * 7
    settings = Settings(_env_file=None, bot_token=TOKEN, webhook_url="https://x.test/h", webhook_secret=secret)  # type: ignore[call-arg]
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == secret
