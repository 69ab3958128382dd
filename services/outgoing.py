"""How services hand a text to a user without knowing how it travels (SPEC 8).

The durable delivery queue implements this protocol (`services.delivery.QueuedMessages`: enqueue in
`session`'s transaction, so the caller's own bookkeeping commits together with the queued message).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class OutgoingMessages(Protocol):
    async def send_text(self, session: AsyncSession, telegram_id: int, text: str) -> bool:
        """Deliver or durably queue one HTML text to a private chat.

        True: delivered/queued. False: the recipient cannot be reached (blocked the bot, deleted
        account) and the message is dropped. Any exception means it was not queued: try again later.
        """
        ...
