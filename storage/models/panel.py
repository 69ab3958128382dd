"""The staff web panel (issue 21): one-time login links and browser sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class PanelLogin(Base):
    """A link `/panel` sent in the bot: works once, until `expires_at`. Only a hash of its secret is kept."""

    __tablename__ = "panel_logins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PanelSession(Base):
    """A signed-in browser: the cookie holds the token, the row its hash and the form (CSRF) token."""

    __tablename__ = "panel_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RateLimitHits(Base):
    """429 answers from Telegram counted by one instance over a stretch of time (its delivery worker's
    counter, shared every few seconds): the panel adds up every instance's rows for the last hour.
    Only when there is no Redis (then the counts live there)."""

    __tablename__ = "rate_limit_hits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    instance: Mapped[str] = mapped_column(String(64))
    hits: Mapped[int] = mapped_column(Integer)
