"""The Bot API client of the delivery hot path."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from aiogram import Bot


class BotApi:
    """A lean Bot API caller for the delivery hot path: JSON in, JSON out, over one pooled session
    (aiogram's typed methods cost more CPU per call than the HTTP request itself)."""

    def __init__(self, bot: Bot, *, pool: int = 100, timeout: float = 30.0) -> None:
        self.bot = bot
        self.pool = pool
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.pool), timeout=self.timeout, json_serialize=json.dumps
            )
        url = self.bot.session.api.api_url(self.bot.token, method)
        async with self._session.post(url, json=payload) as response:
            answer = await response.json(content_type=None)
        if not isinstance(answer, dict):
            raise ValueError(f"unexpected answer from {method}: {answer!r:.200}")
        return answer

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
