"""The durable outgoing queue: every message the bot sends to users other than the one it answers."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class Priority(IntEnum):
    """Who goes first in the one outgoing budget (bot.budget) and in the queue's claim."""

    ANSWER = 0  # an answer to a person's own action: a command, a button, the error apology
    RELAY = 1  # relayed copies, private relays, notices to one person
    BULK = 2  # broadcasts, bulk notices: last


def about_member(user_id: int) -> str:
    """The batch key of a notice to someone else that names this member ("<name> asks to join your
    room"): the notice holds their name, which /forget_me erases with their other data."""
    return f"about:{user_id}"


class Outgoing(Base):
    """One Bot API call to make. Rows stay after sending (`message_id` maps replies and edits to copies)
    until the retention job removes them."""

    __tablename__ = "outgoing"
    __table_args__ = (
        Index("ix_outgoing_queue", "status", "chat_id", "id"),
        Index("ix_outgoing_chat_message", "chat_id", "message_id"),
        # Edits and deletes of a row (/forget_me finds those of a member's copies); most rows have none.
        Index(
            "ix_outgoing_target",
            "target_id",
            sqlite_where=text("target_id IS NOT NULL"),
            postgresql_where=text("target_id IS NOT NULL"),
        ),
        # Sends of the last seconds, every instance's (the panel's live rate); unsent rows stay out of it.
        Index(
            "ix_outgoing_sent_at",
            "sent_at",
            sqlite_where=text("sent_at IS NOT NULL"),
            postgresql_where=text("sent_at IS NOT NULL"),
        ),
        # The due heads of one sender's queue in id order (the SQLite claim: `OutgoingRepo.claim`); only
        # chats' heads (`head`) are in it. PostgreSQL keeps `head` NULL (no triggers there).
        Index(
            "ix_outgoing_heads",
            "priority",
            "sender_id",
            "id",
            sqlite_where=text("status = 'pending' AND head = 1"),
            postgresql_where=text("status = 'pending' AND head = 1"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # text | copy | album | edit_text | edit_caption | delete
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | sent | failed | dropped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    # For an edit/delete of a message this queue sent earlier: the id of that row (resolved at send time).
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    # Groups rows of one action (a relayed message, a broadcast) for progress counts, or the notices to
    # others that name one member (`about_member`): /forget_me finds those by it.
    batch_key: Mapped[str | None] = mapped_column(String(64), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The claim takes relays before bulk sends (`Priority`), and takes turns between the members that
    # relayed copies come from (`sender_id`, their users.id; None: a notice, a broadcast).
    priority: Mapped[int] = mapped_column(SmallInteger, default=Priority.RELAY, server_default="1")
    sender_id: Mapped[int | None] = mapped_column(BigInteger)
    # On SQLite, 1 on a pending row that is its chat's first pending row (the head of the chat's queue),
    # kept so by SQLite triggers (migration 0031); a row that leaves `pending` may keep its
    # 1 (every reader asks for status 'pending' too). NULL on PostgreSQL, whose claim does not read it.
    head: Mapped[int | None] = mapped_column(SmallInteger)
