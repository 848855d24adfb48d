"""Read models of SMS replies for the duty board: the reports beside each recipient, and the replies tied to no
warning (unknown numbers among them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.warnings.acks.reply_rules import mask_phone
from fangxun.warnings.acks.tables import SmsReply, SmsReplyNotice

_IDS_PER_STATEMENT = 1000
UNMATCHED_LIMIT = 50


def reply_view(reply: SmsReply) -> dict:
    """One reply as the board shows it: the number masked (139****0008)."""
    return {"id": reply.id, "text": reply.text, "received_at": reply.received_at.isoformat(),
            "recorded_at": reply.recorded_at.isoformat(), "is_ack": bool(reply.is_ack),
            "acked_count": reply.acked_count, "known": bool(reply.known), "sender_name": reply.sender_name,
            "phone_masked": mask_phone(reply.phone), "journal_entry_id": reply.journal_entry_id}


async def reports_by_notification(session: AsyncSession, notification_ids: list[int]) -> dict[int, list[dict]]:
    """The replies other than 收到 tied to each of these notifications, oldest first."""
    found: dict[int, list[dict]] = {}
    for start in range(0, len(notification_ids), _IDS_PER_STATEMENT):
        rows = await session.execute(
            select(SmsReplyNotice.notification_id, SmsReply).join(SmsReply, SmsReply.id == SmsReplyNotice.reply_id)
            .where(SmsReplyNotice.notification_id.in_(notification_ids[start:start + _IDS_PER_STATEMENT]),
                   SmsReply.is_ack.is_(False))
            .order_by(SmsReply.received_at, SmsReply.id))
        for notification_id, reply in rows:
            found.setdefault(notification_id, []).append(reply_view(reply))
    return found


async def unmatched_replies(session: AsyncSession, since: datetime, limit: int = UNMATCHED_LIMIT) -> list[dict]:
    """Replies recorded since `since` that are tied to no warning (from unknown numbers, or from people with
    no warning in force), newest first."""
    tied = select(SmsReplyNotice.reply_id).where(SmsReplyNotice.reply_id == SmsReply.id).exists()
    rows = await session.execute(select(SmsReply).where(SmsReply.recorded_at >= since, ~tied)
                                 .order_by(SmsReply.recorded_at.desc(), SmsReply.id.desc()).limit(limit))
    return [reply_view(reply) for reply in rows.scalars()]


async def attach_reports(session: AsyncSession, recipients: list[dict]) -> None:
    """Set `sms_replies` on each recipient of the board (a dict with the notification's `id`)."""
    reports = await reports_by_notification(session, [item["id"] for item in recipients])
    for item in recipients:
        item["sms_replies"] = reports.get(item["id"], [])
