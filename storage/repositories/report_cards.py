"""Where each report's cards are in the staff chats, so that an action taken elsewhere edits them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import RelayMessage, ReportCard


class ReportCardRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, report_id: int, chat_id: int, message_id: int, now: datetime) -> None:
        self.session.add(ReportCard(report_id=report_id, chat_id=chat_id, message_id=message_id, created_at=now))
        await self.session.flush()

    async def of(self, report_id: int) -> list[tuple[int, int]]:
        """(chat_id, message_id) of each card of the report, oldest first."""
        rows = await self.session.execute(
            select(ReportCard.chat_id, ReportCard.message_id)
            .where(ReportCard.report_id == report_id)
            .order_by(ReportCard.id)
        )
        return [(int(chat), int(message)) for chat, message in rows.all()]

    async def message_deleted(self, relay_message_id: int) -> bool:
        """Whether the relayed message was deleted everywhere (or is gone)."""
        deleted = await self.session.execute(select(RelayMessage.deleted_at).where(RelayMessage.id == relay_message_id))
        row = deleted.first()
        return row is None or row[0] is not None
