"""Erasure of a member's personal data (/forget_me): every table that can hold a phone, a name or a
text the member wrote, in one place (see services/privacy.py)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, case, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    GmfyNotification,
    Member,
    OAuthLink,
    OAuthState,
    Outgoing,
    PanelLogin,
    PanelSession,
    PhoneCode,
    PhoneTakeover,
    RelayCopy,
    RelayMessage,
    Report,
    ScheduledMessage,
)
from storage.models.delivery import about_member


class ErasureRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def drop_phone_codes(self, telegram_id: int | None, phone: str | None) -> None:
        """Sign-in codes this Telegram account asked for, and any sent to this phone."""
        owned: list[ColumnElement[bool]] = [PhoneCode.telegram_id == telegram_id] if telegram_id is not None else []
        if phone:
            owned.append(PhoneCode.phone == phone)
        if owned:
            await self.session.execute(delete(PhoneCode).where(or_(*owned)))

    async def forget_texts(self, author_id: int) -> None:
        """The author's relayed messages stay (replies and reports point at them), without their text; one
        still being paged, or an edit of one still reaching its copies, stops there."""
        await self.session.execute(
            update(RelayMessage)
            .where(RelayMessage.author_id == author_id, RelayMessage.text.is_not(None))
            .values(text=None)
        )
        # A message of theirs still being paged (bot/fanout.py) reaches nobody more.
        await self.session.execute(
            update(RelayMessage)
            .where(RelayMessage.author_id == author_id, RelayMessage.fanout_cursor.is_not(None))
            .values(fanout_cursor=None, fanout_owner=None, fanout_until=None)
        )
        # An edit of theirs still reaching copies stops too (their deletes go on: a delete shows no text).
        await self.session.execute(
            update(RelayMessage)
            .where(
                RelayMessage.author_id == author_id,
                RelayMessage.copies_cursor.is_not(None),
                RelayMessage.deleted_at.is_(None),
            )
            .values(copies_cursor=None)
        )

    async def cancel_scheduled(self, author_id: int) -> None:
        """Pending scheduled messages are cancelled (else they went out at the next sign-in); every text goes."""
        await self.session.execute(
            update(ScheduledMessage)
            .where(ScheduledMessage.author_id == author_id)
            .values(
                text="",
                status=case((ScheduledMessage.status == "pending", "cancelled"), else_=ScheduledMessage.status),
            )
        )

    async def forget_outgoing(self, chat_id: int | None, author_id: int) -> None:
        """Queued and sent messages that hold the member's words or name, or were sent to them: the payload goes
        (a sent row keeps its Telegram message id, which maps replies and edits), and those not yet sent
        are dropped. Deletions are kept: they remove the member's messages from others' chats. One
        statement per way in, each by an index (the queue is the largest table)."""
        copies = (
            select(RelayCopy.outgoing_id)
            .join(RelayMessage, RelayMessage.id == RelayCopy.message_id)
            .where(RelayMessage.author_id == author_id, RelayCopy.outgoing_id.is_not(None))
        )
        theirs: list[ColumnElement[bool]] = [
            Outgoing.id.in_(copies),  # copies of their messages
            and_(Outgoing.target_id.is_not(None), Outgoing.target_id.in_(copies)),  # edits of those copies
            Outgoing.batch_key == about_member(author_id),  # notices to others that name them
        ]
        if chat_id is not None:
            theirs.append(Outgoing.chat_id == chat_id)  # what was sent to them
        for rows in theirs:
            await self.session.execute(
                update(Outgoing)
                .where(rows, Outgoing.kind != "delete")
                .values(payload={}, status=case((Outgoing.status == "pending", "dropped"), else_=Outgoing.status))
                .execution_options(synchronize_session=False)
            )

    async def forget_report_excerpts(self, target_id: int) -> None:
        """Reports stay (moderation keeps its record), without the excerpt of the member's message."""
        await self.session.execute(
            update(Report)
            .where(
                Report.excerpt.is_not(None),
                or_(
                    Report.target_id == target_id,
                    Report.relay_message_id.in_(select(RelayMessage.id).where(RelayMessage.author_id == target_id)),
                ),
            )
            .values(excerpt=None)
        )

    async def drop_takeovers(self, owner_id: int) -> None:
        """Requests to take the account over (each with a digest of its phone): the phone is no longer
        the account's, so there is nothing left to allow."""
        await self.session.execute(delete(PhoneTakeover).where(PhoneTakeover.owner_id == owner_id))

    async def drop_oauth(self, user_id: int) -> None:
        """The linked account (provider's name, subject, tokens, a phone waiting for confirmation) and
        any sign-in in progress."""
        await self.session.execute(delete(OAuthLink).where(OAuthLink.user_id == user_id))
        await self.session.execute(delete(OAuthState).where(OAuthState.user_id == user_id))

    async def drop_panel_access(self, user_id: int) -> None:
        """The web panel's login links and sessions: whoever forgets themselves is signed out there too."""
        await self.session.execute(delete(PanelLogin).where(PanelLogin.user_id == user_id))
        await self.session.execute(delete(PanelSession).where(PanelSession.user_id == user_id))

    async def forget_notifications(self, user_id: int) -> None:
        """GMFY's notifications to the member: the texts go, pending ones are not sent; the fingerprints
        stay, so the same notification is not delivered again."""
        await self.session.execute(
            update(GmfyNotification)
            .where(GmfyNotification.user_id == user_id)
            .values(
                message="",
                status=case((GmfyNotification.status == "pending", "skipped"), else_=GmfyNotification.status),
            )
        )

    async def forget_private_target(self, user_id: int) -> None:
        """Whom the member was writing to privately."""
        await self.session.execute(
            update(Member)
            .where(Member.user_id == user_id, Member.target_kind == "private")
            .values(target_kind="common", target_id=None)
        )
