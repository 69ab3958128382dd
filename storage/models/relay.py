"""Common chat and private chats relayed by the bot (SPEC 3, 4)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class Member(Base):
    """A user's place in the chats: in the common chat or not, paused or not, and whom they write to."""

    __tablename__ = "relay_members"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    in_common: Mapped[bool] = mapped_column(default=False)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused: Mapped[bool] = mapped_column(default=False)
    target_kind: Mapped[str] = mapped_column(String(12), default="common")  # common | private | room
    target_id: Mapped[int | None] = mapped_column(Integer)  # the private peer's users.id, or rooms.id


class RelayMessage(Base):
    """One message a member sent, relayed to others; `text` is kept for history and /unread."""

    __tablename__ = "relay_messages"
    __table_args__ = (
        UniqueConstraint("origin_chat_id", "origin_message_id", name="uq_relay_messages_origin"),
        Index("ix_relay_messages_chat_created", "chat", "created_at"),
        Index("ix_relay_messages_created_at", "created_at"),  # the panel's messages per hour
        # The messages still being paged (migration 0025): a handful at most.
        Index(
            "ix_relay_messages_fanout",
            "id",
            sqlite_where=text("fanout_cursor IS NOT NULL"),
            postgresql_where=text("fanout_cursor IS NOT NULL"),
        ),
        # The edits and deletes still reaching a big message's copies (migration 0030): as few.
        Index(
            "ix_relay_messages_copies",
            "id",
            sqlite_where=text("copies_cursor IS NOT NULL"),
            postgresql_where=text("copies_cursor IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    chat: Mapped[str] = mapped_column(String(12))  # common | private | room
    peer_id: Mapped[int | None] = mapped_column(Integer)  # private: the recipient's users.id
    room_id: Mapped[int | None] = mapped_column(Integer, index=True)  # room: rooms.id
    origin_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    origin_message_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)  # HTML-safe text or caption, None once forgotten
    media_group_id: Mapped[str | None] = mapped_column(String(64), index=True)
    album_flushed: Mapped[bool] = mapped_column(default=False)
    reply_to_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A common-chat message enqueued page by page (services/relay.py, `RelayService.fan_out_page`): the
    # last users.id done (0: none yet; None: nothing left to page, as for every other message), and
    # the lease of the instance paging it (a crashed one's is resumed once it runs out).
    fanout_cursor: Mapped[int | None] = mapped_column(Integer)
    fanout_owner: Mapped[str | None] = mapped_column(String(128))
    fanout_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Failed attempts at its current page (a page that commits resets it): given up after a few
    # (`RelayService.fan_out_failed`), so one page that always fails does not stall the common chat.
    fanout_failures: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    # An edit or a delete of a message with more copies than a page reaches them a page at a time, each
    # page a transaction of its own (`RelayService.copies_page`): the last relay_copies.id reached (None:
    # none left to reach); which of the two by `deleted_at`. An edit goes up to the copies there were
    # when it was made. Failed attempts at its current page as above.
    copies_cursor: Mapped[int | None] = mapped_column(Integer)
    copies_until: Mapped[int | None] = mapped_column(Integer)  # an edit's last copy: later ones carry its text
    copies_failures: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")


class RelayCopy(Base):
    """A recipient's copy: sent through the queue (`outgoing_id`), or held unread while they pause."""

    __tablename__ = "relay_copies"
    __table_args__ = (
        Index("ix_relay_copies_message", "message_id", "id"),  # a message's copies a page at a time
        Index("ix_relay_copies_unread", "recipient_id", "read"),
        Index("ix_relay_copies_outgoing", "outgoing_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("relay_messages.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    outgoing_id: Mapped[int | None] = mapped_column(BigInteger)
    read: Mapped[bool] = mapped_column(default=True)


class Block(Base):
    """`blocker` does not accept private messages from `blocked`."""

    __tablename__ = "relay_blocks"
    __table_args__ = (UniqueConstraint("blocker_id", "blocked_id", name="uq_relay_blocks_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    blocker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    blocked_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LimitWindow(Base):
    """How many messages a user sent in one fixed window; windows that ended are removed by the scheduler."""

    __tablename__ = "relay_limit_windows"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class RuntimeSetting(Base):
    """Settings admins change while the bot runs (/setlimit)."""

    __tablename__ = "runtime_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class ScheduledMessage(Base):
    """A message to relay later, to the chat the author was writing to when they scheduled it (never to
    whichever chat is theirs at send time): if that chat is gone by then, the item is dropped."""

    __tablename__ = "relay_scheduled"
    __table_args__ = (Index("ix_relay_scheduled_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    chat: Mapped[str] = mapped_column(String(12), default="common", server_default="common")  # common | private | room
    # private: the peer's users.id; room: rooms.id (NULL once that row is gone: the item is then dropped)
    peer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)  # HTML-safe
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | sent | cancelled | failed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
