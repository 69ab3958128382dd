"""One place that turns exceptions into answers: domain refusals get their text, bugs an apology."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent

from bot.i18n import Texts
from services.errors import DomainError

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)
STALE_QUERY = "query is too old"


def router() -> Router:
    r = Router(name="errors")
    r.errors.register(domain_error, ExceptionTypeFilter(DomainError))
    r.errors.register(unexpected_error)
    return r


async def _reply(event: ErrorEvent, text: str, alert_text: str) -> None:
    update = event.update
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(alert_text, show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
    except TelegramAPIError as exc:
        log.info("could not answer after an error: %s", exc)


async def domain_error(event: ErrorEvent, t: Texts | None = None) -> None:
    exc = event.exception
    assert isinstance(exc, DomainError)
    if t is None:
        return
    await _reply(event, t(exc.key, **exc.args_map), t.plain(exc.key, **exc.args_map))


async def unexpected_error(event: ErrorEvent, t: Texts | None = None, ctx: AppContext | None = None) -> None:
    update = event.update
    if isinstance(event.exception, TelegramBadRequest) and STALE_QUERY in str(event.exception):
        # Answering a callback query that Telegram no longer accepts (pressed long ago, or answered
        # already): nothing to repair and no one to tell.
        log.info("callback query in update %s could not be answered: %s", update.update_id, event.exception)
        return
    if ctx is not None:
        ctx.metrics.handler_errors.inc()
    from_user = getattr(update.event, "from_user", None)
    user = from_user.id if from_user is not None else None
    log.error(
        "handler failed: update=%s type=%s user=%s",
        update.update_id,
        update.event_type,
        user,
        exc_info=event.exception,
    )
    if t is not None:
        await _reply(event, t("error-apology"), t.plain("error-apology"))
