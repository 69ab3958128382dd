"""Linked external accounts (OAuth2 + PKCE) and, without Redis, the pending sign-in states."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class OAuthState(Base):
    """One /link in progress: the `state` sent to the provider, whose user it is, the PKCE verifier, and
    the hash of the cookie of the browser that started it (None until /oauth/start)."""

    __tablename__ = "oauth_states"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    verifier: Mapped[str] = mapped_column(String(128))
    browser: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OAuthLink(Base):
    """A user's linked account; tokens are encrypted (Fernet, OAUTH_TOKEN_KEY)."""

    __tablename__ = "oauth_links"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    subject: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A provider-verified phone waiting for the user's "yes" in Telegram (encrypted), and its button's nonce.
    pending_phone: Mapped[str | None] = mapped_column(Text)
    pending_nonce: Mapped[str | None] = mapped_column(String(32))
    pending_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
