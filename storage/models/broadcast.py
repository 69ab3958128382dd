"""An admin's announcement to every user, sent through the delivery queue (SPEC 6, /broadcast)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class Broadcast(Base):
    """draft -> sending -> done, or draft -> cancelled. The queued copies carry `batch_key`."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)  # HTML, as the admin wrote it
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    # The admin's message that shows the preview, then the progress (edited in place).
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_progress: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def batch_key(self) -> str:
        return f"broadcast:{self.id}"
