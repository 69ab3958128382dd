"""Before anything else runs: is the token good, and does the Bot API answer?

A refused token is final (one line, exit code 2); an unreachable API (no network yet, a Bot API
server still starting, Telegram's 5xx) is retried with backoff, one log line a try, and a clear
line if it gives up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramServerError, TelegramUnauthorizedError
from aiogram.types import User
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

log = logging.getLogger(__name__)

START_ATTEMPTS = 10  # with the waits below: about five minutes before giving up
REFUSED_LINE = "BOT_TOKEN was refused by Telegram (401): check it with @BotFather"


class TokenRefused(Exception):
    """Telegram answered 401: the token is wrong or was revoked."""


class TelegramUnreachable(Exception):
    """The Bot API did not answer after every try."""


def _log_try(attempts: int) -> Callable[[RetryCallState], None]:
    def log_try(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0
        log.warning(
            "Bot API unreachable (try %s of %s: %s); retrying in %.0f s",
            state.attempt_number,
            attempts,
            type(exc).__name__ if exc else "?",
            wait,
        )

    return log_try


async def check_telegram(
    bot: Bot,
    *,
    attempts: int = START_ATTEMPTS,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> User:
    """The bot's own user, once the API answers; raises TokenRefused or TelegramUnreachable."""
    retrying = AsyncRetrying(
        retry=retry_if_exception_type((TelegramNetworkError, TelegramServerError, OSError)),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=1, min=1, max=60),
        before_sleep=_log_try(attempts),
        sleep=sleep or asyncio.sleep,
    )
    try:
        async for attempt in retrying:
            with attempt:
                return await bot.get_me()
    except TelegramUnauthorizedError as exc:
        raise TokenRefused(REFUSED_LINE) from exc
    except RetryError as exc:
        last = exc.last_attempt.exception()
        raise TelegramUnreachable(
            f"The Bot API did not answer after {attempts} tries ({type(last).__name__}): "
            "check the network, or TELEGRAM_API_URL if it is set"
        ) from exc
    raise AssertionError("unreachable")  # pragma: no cover: AsyncRetrying returns or raises
