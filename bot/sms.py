"""Sign-in by SMS code, wiring: the senders (the handler never waits on the network: sends run as
background tasks), the key codes are stored with, and the job that forgets old quotas."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from bot.settings import Settings
from services.phones import mask_phone
from services.signin import SmsSender

if TYPE_CHECKING:
    from bot.context import AppContext
    from bot.scheduler import Scheduler

log = logging.getLogger(__name__)


def create_sms_sender(settings: Settings) -> SmsSender | None:
    """The gateway when SMS_SENDER_URL is set; the log only behind SMS_DEV_LOG_CODES (loudly); else none,
    and `/phone` is not offered (sign-in is by the contact button)."""
    if settings.sms_sender_url:
        return HttpSmsSender(settings.sms_sender_url)
    if settings.sms_dev_log_codes:
        log.warning(
            "SMS_DEV_LOG_CODES=true: /phone sign-in codes are written to this log, so anyone who can read it "
            "can sign in as anyone. Development only: never turn it on in production."
        )
        return LogSmsSender()
    return None


def phone_code_key(settings: Settings) -> bytes:
    """The HMAC key codes are stored with. From PHONE_CODE_SECRET, else derived from BOT_TOKEN (HKDF):
    the same on every instance and across restarts (a random key kept in memory would fail codes sent
    by another instance or before a restart), and never in the database. Whoever holds BOT_TOKEN can
    read the codes users type anyway (getUpdates), so deriving from it opens nothing new."""
    secret = settings.phone_code_secret or settings.bot_token
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"community-bot/phone-codes", info=b"sign-in code hmac v1"
    ).derive(secret.get_secret_value().encode())


def panel_key(settings: Settings) -> bytes:
    """The key that signs the staff panel's login links: PANEL_SECRET, else derived from BOT_TOKEN (HKDF,
    a label of its own), the same on every instance."""
    secret = settings.panel_secret or settings.bot_token
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"community-bot/panel", info=b"panel login link v1").derive(
        secret.get_secret_value().encode()
    )


def register_signin_jobs(ctx: AppContext, scheduler: Scheduler) -> None:
    async def purge_phone_code_leftovers() -> None:
        async with ctx.sessionmaker() as session, session.begin():
            await ctx.signin(session).purge_phone_code_leftovers()

    scheduler.every(3600, "purge_phone_code_leftovers", purge_phone_code_leftovers)


class LogSmsSender:
    """Development sender (SMS_DEV_LOG_CODES): writes the code to the log (the phone masked)."""

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
