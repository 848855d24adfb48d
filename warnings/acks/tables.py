"""Tables of SMS replies (上行短信): every inbound message once, and the notifications its number was sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from fangxun.core.db import Base, UTCDateTime


class SmsReply(Base):
    """One inbound message from the SMS gateway: a 叫应 (1, 收到, 确认) or a report kept for the duty officer."""

    __tablename__ = "sms_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The SMS channel whose callback received it.
    channel: Mapped[str] = mapped_column(String(50))
    # "from" as the gateway gave it, and the number as compared (reply_rules.phone_key).
    sender: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(40), index=True)
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # reply_rules.reply_fingerprint: the same message posted twice is kept once.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    is_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    # Notifications this reply acknowledged (0 for a report, or a 收到 with nothing open).
    acked_count: Mapped[int] = mapped_column(Integer, default=0)
    # Whose number it is (a notification's recipient, else a contact of the registry); "" and unknown otherwise.
    sender_name: Mapped[str] = mapped_column(String(100), default="")
    known: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The journal entry a duty officer made of this report (it is then no longer offered).
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))


class SmsReplyNotice(Base):
    """A notification (notice or escalation) of a current or recent warning sent to the reply's number: where
    the board shows the reply, and which events it is offered to."""

    __tablename__ = "sms_reply_notices"

    reply_id: Mapped[int] = mapped_column(ForeignKey("sms_replies.id"), primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), primary_key=True, index=True)
