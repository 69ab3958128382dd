"""Sign-in by SMS code: daily quotas and takeovers waiting for the account's own Telegram to allow them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class SignInQuota(Base):
    """Codes sent and wrong codes typed for one subject in one UTC day, counted by atomic upserts.

    `subject` is `tg:<telegram id>` or `phone:<keyed digest>`: no phone is stored here in the clear,
    and the rows outlive the codes themselves (purged once their day is over)."""

    __tablename__ = "signin_quotas"

    subject: Mapped[str] = mapped_column(String(80), primary_key=True)
    day: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True, index=True)  # the UTC midnight it starts
    codes: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class PhoneTakeover(Base):
    """A code sign-in on a phone bound to another Telegram account: nothing changes until that account
    allows it (once, before `expires_at`, by its own Telegram user) with the buttons it was sent."""

    __tablename__ = "phone_takeovers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    owner_telegram_id: Mapped[int] = mapped_column(BigInteger)  # the only one whose buttons count
    requester_telegram_id: Mapped[int] = mapped_column(BigInteger, index=True)
    phone_digest: Mapped[str] = mapped_column(String(64))  # keyed digest of the phone proven by the code
    token: Mapped[str] = mapped_column(String(32))  # in the buttons' data, beside the id
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(16))  # allowed, denied, expired, void
