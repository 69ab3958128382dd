"""Webhook updates already taken, so one delivered twice is handled once (bot/seen_updates.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class SeenUpdate(Base):
    __tablename__ = "webhook_updates"
    __table_args__ = (Index("ix_webhook_updates_at", "at"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    done: Mapped[bool] = mapped_column(Boolean)  # False: being handled (a claim that runs out)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # when claimed, then when handled
    # Attempts whose handling failed outside the error router (revision 0025): past a few, given up.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
