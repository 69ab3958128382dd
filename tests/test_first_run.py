"""What a first-time operator meets: .env.example as shipped, a wrong token, no network, bad values, quiet logs."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from pydantic import ValidationError

from bot.__main__ import settings_error_line
from bot.logs import setup_logging
from bot.settings import Settings
from bot.startup import REFUSED_LINE, TelegramUnreachable, TokenRefused, check_telegram
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.test_process import ROOT, _env, _run_bot


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bot(url: str, token: str = TOKEN) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting comes from the test process's own environment."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_env_example_as_shipped_with_only_the_token(tmp_path: Path, clean_env: None) -> None:
    shipped = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert re.search(r"^ADMIN_CHAT_ID=$", shipped, re.MULTILINE)  # the empty values that once failed
    env_file = tmp_path / ".env"
    env_file.write_text(shipped.replace("\nBOT_TOKEN=\n", f"\nBOT_TOKEN={TOKEN}\n"), encoding="utf-8")
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.bot_token.get_secret_value() == TOKEN
    assert settings.admin_chat_id is None
    assert settings.message_ttl_seconds is None
    assert settings.webhook_url is None


async def test_env_example_copied_starts_the_bot(tmp_path: Path) -> None:
    """`cp .env.example .env`, set BOT_TOKEN, run: the bot polls (the fake Bot API stands in for Telegram)."""
    fake = FakeTelegram()
    await fake.start()
    shipped = (ROOT / ".env.example").read_text(encoding="utf-8")
    (tmp_path / ".env").write_text(shipped.replace("\nBOT_TOKEN=\n", f"\nBOT_TOKEN={TOKEN}\n"), encoding="utf-8")
    process = await _run_bot(tmp_path, _env(TELEGRAM_API_URL=fake.url, WEB_PORT="0"))
    try:
        await fake.wait_until(lambda: fake.polls > 0, timeout=60, what="the bot to poll")
    finally:
        await fake.release_pollers()
        process.terminate()
        _out, err = await asyncio.wait_for(process.communicate(), 30)
        await fake.stop()
    assert "Traceback" not in err.decode()


async def test_refused_token_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    fake = FakeTelegram(token="999999:" + "Z" * 35)  # the server knows another token: 401 for ours
    await fake.start()
    try:
        process = await _run_bot(
            tmp_path,
            _env(
                BOT_TOKEN=TOKEN,
                TELEGRAM_API_URL=fake.url,
                WEB_PORT="0",
                DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/b.db",
            ),
        )
        _out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        await fake.stop()
    lines = err.decode().strip().splitlines()
    assert process.returncode == 2
    assert lines == [REFUSED_LINE]


async def test_refused_token_raises_token_refused() -> None:
    fake = FakeTelegram(token="999999:" + "Z" * 35)
    await fake.start()
    bot = _bot(fake.url)
    try:
        with pytest.raises(TokenRefused):
            await check_telegram(bot)
    finally:
        await bot.session.close()
        await fake.stop()


async def test_unreachable_api_is_retried_with_backoff_then_answers(caplog: pytest.LogCaptureFixture) -> None:
    """Connections are refused at first (nothing listens); the fake starts during the second wait."""
    caplog.set_level(logging.WARNING, logger="bot.startup")
    port = _free_port()
    fake = FakeTelegram()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the backoff's waits, recorded instead of slept
        waits.append(seconds)
        if len(waits) == 2:
            await fake.start(port=port)

    bot = _bot(f"http://127.0.0.1:{port}")
    try:
        me = await check_telegram(bot, sleep=sleep)
    finally:
        await bot.session.close()
        await fake.stop()
    assert me.username == fake.bot_user["username"]
    assert waits == [1, 2]  # exponential
    tries = [r.getMessage() for r in caplog.records if r.name == "bot.startup"]
    assert len(tries) == 2, tries  # one line a try
    assert tries[0].startswith("Bot API unreachable (try 1 of 10")


async def test_unreachable_api_gives_up_with_a_clear_error() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    bot = _bot(f"http://127.0.0.1:{_free_port()}")
    try:
        with pytest.raises(TelegramUnreachable, match="did not answer after 4 tries"):
            await check_telegram(bot, attempts=4, sleep=sleep)
    finally:
        await bot.session.close()
    assert waits == [1, 2, 4]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOG_LEVEL", "verbose"),
        ("DATABASE_URL", "mysql://user@host/db"),
        ("DATABASE_URL", "::not a url::"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("TELEGRAM_API_URL", "localhost:8081"),
        ("WEBHOOK_URL", "ftp://example.org/hook"),
        ("MESSAGES_PER_PERIOD", "-5"),
        ("FLOOD_RATE", "fast"),
        ("ADMIN_IDS", "me"),
        ("ADMIN_CHAT_ID", "the staff group"),
        ("BAN_DURATION", "forever"),
        ("LOG_JSON", "maybe"),
    ],
)
def test_bad_value_names_the_setting_in_one_line(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch, clean_env: None
) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)  # type: ignore[call-arg]
    line = settings_error_line(caught.value)
    assert line.startswith(f"Setting {name} is invalid: ")
    assert "\n" not in line


def test_database_urls_people_type_get_the_async_driver(monkeypatch: pytest.MonkeyPatch, clean_env: None) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:secret@db:5432/bot")
    assert Settings(_env_file=None).database_url == "postgresql+asyncpg://bot:secret@db:5432/bot"  # type: ignore[call-arg]
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert Settings(_env_file=None).log_level == "DEBUG"  # type: ignore[call-arg]


def test_third_party_loggers_quiet_unless_debug() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("INFO")
        assert not logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.INFO)
        assert not logging.getLogger("aiogram.dispatcher").isEnabledFor(logging.INFO)
        assert not logging.getLogger("alembic.runtime.migration").isEnabledFor(logging.INFO)
        assert logging.getLogger("bot.app").isEnabledFor(logging.INFO)
        setup_logging("DEBUG")
        assert logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.DEBUG)
    finally:
        setup_logging("INFO")
        root.handlers[:], level = saved
        root.setLevel(level)


def test_bot_api_json_without_nul_characters() -> None:
    """A NUL in a name or text (PostgreSQL cannot store it) is dropped as the update is read; a typed
    backslash sequence that only looks like one stays as it is."""
    from bot.app import loads_without_nul

    raw = '{"message": {"text": "a\\u0000b", "from": {"first_name": "\\u0000X"}, "list": ["\\u0000"]}}'
    assert loads_without_nul(raw) == {"message": {"text": "ab", "from": {"first_name": "X"}, "list": [""]}}
    literal = '{"text": "\\\\u0000 typed"}'
    assert loads_without_nul(literal.encode()) == {"text": "\\u0000 typed"}
