"""GMFY notifications fetched for delivery; each row is also the (user, message) fingerprint that keeps
the same notification from reaching its user twice within the window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class GmfyNotification(Base):
    __tablename__ = "gmfy_notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "fingerprint", name="uq_gmfy_notifications_user_fingerprint"),
        Index("ix_gmfy_notifications_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the message text
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | skipped | failed
    attempts: Mapped[int] = mapped_column(default=0)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
