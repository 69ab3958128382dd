"""EVENT_LOOP: the process runs on uvloop by default, on asyncio's own loop when asked."""

from __future__ import annotations

import asyncio
import sys

import pytest

from bot.event_loop import run


async def loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_uvloop_by_default_and_asyncio_when_asked() -> None:
    assert run(loop_module()).startswith("uvloop")
    assert run(loop_module(), "asyncio").startswith("asyncio")


def test_without_uvloop_asyncio_runs(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as where it is not installed
    assert run(loop_module()).startswith("asyncio")
    assert "uvloop is not installed" in caplog.text
