"""Sign-in code senders. The handler never waits on the network: sends run as background tasks."""

from __future__ import annotations

import asyncio
import logging

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from services.phones import mask_phone

log = logging.getLogger(__name__)


class LogSmsSender:
    """Development sender: writes the code to the log (the phone masked)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_code(self, phone: str, code: str) -> None:
        self.sent.append((phone, code))
        log.warning("sign-in code for %s: %s (log-only SMS sender)", mask_phone(phone), code)

    async def close(self) -> None:
        return None


class HttpSmsSender:
    """POSTs `{"phone", "code"}` to `SMS_SENDER_URL` in the background, retrying transient failures."""

    def __init__(self, url: str, *, timeout: float = 10.0, attempts: int = 4) -> None:
        self.url = url
        self.attempts = attempts
        self.client = httpx.AsyncClient(timeout=timeout)
        self.tasks: set[asyncio.Task[None]] = set()

    async def send_code(self, phone: str, code: str) -> None:
        task = asyncio.create_task(self._deliver(phone, code))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _deliver(self, phone: str, code: str) -> None:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.attempts),
                wait=wait_exponential_jitter(initial=0.5, max=10),
                retry=retry_if_exception_type(httpx.TransportError),
                reraise=True,
            ):
                with attempt:
                    response = await self.client.post(self.url, json={"phone": phone, "code": code})
                    if response.status_code >= 500:
                        raise httpx.TransportError(f"SMS gateway answered {response.status_code}")
                    response.raise_for_status()
        except Exception:
            log.exception("could not send a sign-in code to %s", mask_phone(phone))

    async def close(self) -> None:
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.aclose()
