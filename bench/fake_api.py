"""The fake Bot API in a process of its own, for benchmarks (so the fake is not what is measured).

    python -m bench.fake_api --port 8099 [--global-rate 30] [--per-chat-rate 1] [--per-chat-burst 3]

With rates set it answers like Telegram's flood control: 429 with retry_after when more than
`global-rate` sends fall in any one-second window, or two sends to one chat come closer than
1/per-chat-rate (with `per-chat-burst` above 1: past a token bucket per chat, short bursts allowed).
`GET /stats` reports sends, 429s, and per-chat delivery checks.

Its garbage collector is off: a full collection over the growing record of calls would pause it for
tens of milliseconds, and the requests that queued meanwhile would then be timed as one burst.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import resource
import time
from typing import Any

from aiohttp import web

from tests.fakes.telegram import FakeTelegram, error

SEND_METHODS = {"sendMessage", "copyMessage", "copyMessages", "sendPhoto"}


class FloodControl:
    def __init__(self, global_rate: float | None, per_chat_rate: float | None, per_chat_burst: float = 1.0) -> None:
        self.global_rate = global_rate
        self.per_chat_interval = 1.0 / per_chat_rate if per_chat_rate else None
        self.per_chat_burst = per_chat_burst  # above 1: a token bucket per chat (short bursts allowed)
        self.window: collections.deque[float] = collections.deque()
        self.last_per_chat: dict[int, float] = {}
        self.buckets: dict[int, tuple[float, float]] = {}  # chat -> (tokens, at), with bursts
        self.rejected = 0
        self.rejected_global = 0

    def __call__(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if method not in SEND_METHODS:
            return None
        now = time.monotonic()
        chat = int(params.get("chat_id") or 0)
        if self.global_rate:
            while self.window and now - self.window[0] >= 1.0:
                self.window.popleft()
            if len(self.window) >= self.global_rate:
                self.rejected += 1
                self.rejected_global += 1
                return error(429, "Too Many Requests: retry after 1", retry_after=1)
        if self.per_chat_interval is not None and self.per_chat_burst > 1:
            tokens, at = self.buckets.get(chat, (self.per_chat_burst, now))
            tokens = min(self.per_chat_burst, tokens + (now - at) / self.per_chat_interval)
            if tokens < 1:
                self.rejected += 1
                return error(429, "Too Many Requests: retry after 1", retry_after=1)
            self.buckets[chat] = (tokens - 1, now)
        elif self.per_chat_interval is not None:
            last = self.last_per_chat.get(chat)
            if last is not None and now - last < self.per_chat_interval:
                self.rejected += 1
                return error(429, "Too Many Requests: retry after 1", retry_after=1)
            self.last_per_chat[chat] = now
        if self.global_rate:
            self.window.append(now)
        return None


def stats(fake: FakeTelegram, flood: FloodControl) -> dict[str, Any]:
    sends = [c for c in fake.calls if c.method in SEND_METHODS]
    per_chat: dict[int, list[str]] = collections.defaultdict(list)
    for chat_id, records in fake.chats.items():
        for record in records:
            if record.from_bot:
                per_chat[chat_id].append(record.text or "")
    return {
        "calls": len(fake.calls),
        "methods": collections.Counter(c.method for c in fake.calls),
        "sends": len(sends),
        "rejected_429": flood.rejected,
        "rejected_global": flood.rejected_global,
        "first_send": sends[0].at if sends else None,
        "last_send": sends[-1].at if sends else None,
        "per_chat": per_chat,
        "send_walls": [[c.params.get("chat_id"), c.params.get("text"), c.wall] for c in sends],
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


async def main(port: int, global_rate: float | None, per_chat_rate: float | None, per_chat_burst: float) -> None:
    fake = FakeTelegram()
    flood = FloodControl(global_rate, per_chat_rate, per_chat_burst)
    fake.hooks.append(flood)

    async def stats_handler(request: web.Request) -> web.Response:
        return web.json_response(stats(fake, flood), dumps=lambda d: json.dumps(d, default=str))

    await fake.start(port=port, extra_routes=[("GET", "/stats", stats_handler)])
    gc.disable()
    print(f"fake Bot API on {fake.url}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--global-rate", type=float, default=None)
    parser.add_argument("--per-chat-rate", type=float, default=None)
    parser.add_argument("--per-chat-burst", type=float, default=1.0)
    args = parser.parse_args()
    asyncio.run(main(args.port, args.global_rate, args.per_chat_rate, args.per_chat_burst))
