"""How services hand a text to a user without knowing how it travels (SPEC 8).

The durable delivery queue implements this protocol (`services.delivery.QueuedMessages`: enqueue in
`session`'s transaction, so the caller's own bookkeeping commits together with the queued message).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class DeliveryDeferred(Exception):
    """The message could not be handed over now; try again later (after `retry_after` seconds if given)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class OutgoingMessages(Protocol):
    async def send_text(self, session: AsyncSession, telegram_id: int, text: str) -> bool:
        """Deliver or durably queue one HTML text to a private chat.

        True: delivered/queued. False: the recipient cannot be reached (blocked the bot, deleted
        account) and the message is dropped. Raises `DeliveryDeferred` to be retried later.
        """
        ...
