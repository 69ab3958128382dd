"""The event loop the process runs on (EVENT_LOOP): uvloop, libuv's loop, by default, or asyncio's own.

Measured with `bench.webhook` on PostgreSQL + Redis at 200 updates/s: 5% less of the bot's CPU an
update and first-send p99 19 ms instead of 34-38 ms (docs/PERFORMANCE.md). Where uvloop is not
installed (it has no Windows build) asyncio's loop runs instead, said once in the log."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
LoopName = Literal["uvloop", "asyncio"]


def run(main: Coroutine[Any, Any, T], loop: LoopName = "uvloop") -> T:
    """`asyncio.run(main)` on the loop named."""
    if loop == "uvloop":
        try:
            uvloop = importlib.import_module("uvloop")
        except ImportError:
            log.warning("EVENT_LOOP=uvloop, but uvloop is not installed: asyncio's own loop runs")
        else:
            result: T = uvloop.run(main)
            return result
    return asyncio.run(main)
