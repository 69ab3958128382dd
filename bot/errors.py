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
    from bot.middlewares import UnitOfWork

log = logging.getLogger(__name__)
STALE_QUERY = "query is too old"
# Telegram's answers when a button's message can no longer be edited: it was deleted (or is too old to
# edit), or it already shows what the edit would show (a second press of the same button).
MESSAGE_GONE = ("message to edit not found", "message can't be edited")
NOT_MODIFIED = "message is not modified"


def router() -> Router:
    r = Router(name="errors")
    r.errors.register(domain_error, ExceptionTypeFilter(DomainError))
    r.errors.register(button_expired, ExceptionTypeFilter(TelegramBadRequest), editing_a_buttons_message_failed)
    r.errors.register(unexpected_error)
    return r


async def editing_a_buttons_message_failed(event: ErrorEvent) -> bool:
    text = str(event.exception)
    return event.update.callback_query is not None and (
        NOT_MODIFIED in text or any(gone in text for gone in MESSAGE_GONE)
    )


async def button_expired(event: ErrorEvent, t: Texts | None = None, unit_of_work: UnitOfWork | None = None) -> None:
    """A button whose message is gone, or pressed twice: not a bug. A second press of a button whose
    message already shows the result just stops the button's spinner. When the message is gone: if
    the handler's work was saved before it tried to edit (every Bot API call commits first), the
    action was taken and the answer says so; otherwise nothing changed: "This button has expired"."""
    query = event.update.callback_query
    assert query is not None
    log.info("button in update %s: %s", event.update.update_id, event.exception)
    gone = NOT_MODIFIED not in str(event.exception)
    done = unit_of_work is not None and unit_of_work.committed_early
    key = "button-done-message-gone" if done else "button-expired"
    try:
        await query.answer(t.plain(key) if gone and t is not None else None)
    except TelegramAPIError as exc:  # the handler answered it already
        log.info("could not answer the button in update %s: %s", event.update.update_id, exc)


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
        extra={"update_type": update.event_type, "failed_update_id": update.update_id, "from_user_id": user},
    )
    if t is not None:
        await _reply(event, t("error-apology"), t.plain("error-apology"))
