"""Accounts, invite codes, referrals and sign-in codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class User(Base):
    """One row per Telegram account that talked to the bot; signed in once `phone` is set."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    first_name: Mapped[str | None] = mapped_column(String(128))
    nickname: Mapped[str | None] = mapped_column(String(64))
    anon_name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    language: Mapped[str | None] = mapped_column(String(8))
    # An IANA zone (`Europe/Moscow`), guessed from the phone at sign-in, set by /timezone; None: DEFAULT_TIMEZONE
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Telegram's language of the account (`ru`): what others' notices speak until /lang chooses `language`
    telegram_language: Mapped[str | None] = mapped_column(String(8))
    signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    pending_invite_code: Mapped[str | None] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    @property
    def signed_in(self) -> bool:
        return self.phone is not None and self.signed_in_at is not None

    @property
    def display_name(self) -> str:
        return self.nickname or self.anon_name


class InviteCode(Base):
    """Invite codes are never deleted, only revoked, so a code is never issued twice."""

    __tablename__ = "invite_codes"
    __table_args__ = (
        Index(
            "uq_invite_codes_one_current_per_owner",
            "owner_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Referral(Base):
    """Who redeemed whose code; `invitee_id` is unique: a user redeems at most one code ever."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inviter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    invitee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("invite_codes.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PhoneCode(Base):
    """A one-time sign-in code sent by SMS; only its salted hash is stored."""

    __tablename__ = "phone_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    code_hash: Mapped[str] = mapped_column(String(128))
    salt: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GmfyEvent(Base):
    """Transactional outbox of GMFY events, sent in batches by a scheduler job."""

    __tablename__ = "gmfy_outbox"
    __table_args__ = (Index("ix_gmfy_outbox_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    type: Mapped[str] = mapped_column(String(128))
    idempotence_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Lease of a sender that claimed the row (revision 0003): another sender takes it only after `claimed_until`.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
