"""`python -m bot` as a newcomer runs it: clear one-line errors, and a real start against a fake Bot API."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from tests.fakes.telegram import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_", "TELEGRAM_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(values)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _run_bot(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "Setting BOT_TOKEN is missing"),
        ({"BOT_TOKEN": "not-a-token"}, "Setting BOT_TOKEN is invalid"),
        ({"BOT_TOKEN": TOKEN, "PHONE_CODE_TTL_SECONDS": "soon"}, "Setting PHONE_CODE_TTL_SECONDS is invalid"),
    ],
)
async def test_bad_settings_give_one_clear_line(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    process = await _run_bot(tmp_path, _env(**env))
    _out, err = await asyncio.wait_for(process.communicate(), 30)
    lines = err.decode().strip().splitlines()
    assert process.returncode == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(expected)


async def test_starts_polls_and_stops_on_sigterm(tmp_path: Path) -> None:
    fake = FakeTelegram()
    await fake.start()
    port, metrics_port = _free_port(), _free_port()
    env = _env(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=fake.url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/bot.db",
        WEB_HOST="127.0.0.1",
        WEB_PORT=str(port),
        METRICS_PORT=str(metrics_port),
    )
    process = await _run_bot(tmp_path, env)
    try:
        await fake.wait_until(lambda: fake.polls > 0, timeout=60, what="the bot to poll")
        async with httpx.AsyncClient() as client:  # polling mode serves /healthz and /metrics too
            health = await client.get(f"http://127.0.0.1:{metrics_port}/healthz")
            assert (health.status_code, health.json()["database"]) == (200, "ok")
            assert "bot_updates_total" in (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
            # ...on their own port only, not on the public one
            assert (await client.get(f"http://127.0.0.1:{port}/metrics")).status_code == 404
        assert fake.calls_to("setMyCommands")
        assert (tmp_path / "bot.db").exists()
        user = fake.user("Newcomer")
        await user.send("/start", wait=False)
        await fake.wait_until(lambda: bool(user.messages), timeout=30, what="an answer to /start")
        assert "Welcome" in user.last_text()
    finally:
        await fake.release_pollers()
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 30)
        await fake.stop()
    assert process.returncode == 0
