"""The 叫应 record of each recipient, one read model for the board, the event page and the API: calls (with
redials, keys and results, its reminders' calls folded in), SMS replies, how and when it was acknowledged, and
who was told above them (the escalations that name it as a source)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.warnings.acks.reply_queries import reply_view
from fangxun.warnings.acks.tables import SmsReply, SmsReplyNotice
from fangxun.warnings.acks.ways import CALL_STATUS_LABELS, WAY_LABELS, ack_way, redials
from fangxun.warnings.tables import CallAttempt, Notification

N = Notification.__table__
C = CallAttempt.__table__
_IDS_PER_STATEMENT = 1000


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _chunks(ids: list[int]):
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        yield ids[start:start + _IDS_PER_STATEMENT]


def call_view(row, reminder: bool) -> dict:
    """One call as the record shows it."""
    return {"call_id": row.call_id, "call_number": row.call_number, "channel": row.channel,
            "requested_at": _iso(row.requested_at), "status": row.status,
            "status_label": CALL_STATUS_LABELS.get(row.status, row.status), "answered": row.answered,
            "keys": row.keys or "", "duration_s": row.duration_s, "ended_at": _iso(row.ended_at),
            "reminder": reminder}


def empty_record() -> dict:
    """The record of a recipient nothing has happened to yet."""
    return {"calls": [], "call_count": 0, "redials": 0, "first_called_at": None, "answered": None,
            "keys": "", "sms_replies": [], "ack": None, "told_above": []}


async def _follow_ups(session: AsyncSession, ids: list[int]) -> dict[int, int]:
    """Reminder id -> the notification it repeats."""
    found: dict[int, int] = {}
    for part in _chunks(ids):
        found.update((await session.execute(select(N.c.id, N.c.escalated_from_id).where(
            N.c.escalated_from_id.in_(part), N.c.purpose == "reminder"))).all())
    return found


async def _calls(session: AsyncSession, ids: list[int], reminders: dict[int, int]) -> dict[int, list[dict]]:
    """Calls of each notification and of its reminders, in the order they were requested."""
    owner = {notification_id: notification_id for notification_id in ids} | reminders
    found: dict[int, list] = {}
    for part in _chunks(sorted(owner)):
        for row in await session.execute(select(C).where(C.c.notification_id.in_(part))):
            found.setdefault(owner[row.notification_id], []).append(
                (row.requested_at, row.id, call_view(row, row.notification_id in reminders)))
    return {key: [view for *_, view in sorted(rows, key=lambda item: item[:2])] for key, rows in found.items()}


async def _replies(session: AsyncSession, ids: list[int]) -> dict[int, list[dict]]:
    """Every SMS reply tied to each notification (a 收到 among them), oldest first."""
    found: dict[int, list[dict]] = {}
    for part in _chunks(ids):
        rows = await session.execute(
            select(SmsReplyNotice.notification_id, SmsReply).join(SmsReply, SmsReply.id == SmsReplyNotice.reply_id)
            .where(SmsReplyNotice.notification_id.in_(part)).order_by(SmsReply.received_at, SmsReply.id))
        for notification_id, reply in rows:
            found.setdefault(notification_id, []).append(reply_view(reply))
    return found


async def _told_above(session: AsyncSession, ids: list[int], warning_ids: list[int]) -> dict[int, list[dict]]:
    """The escalations naming each notification as a source (escalated_from_id, or payload sources)."""
    wanted = set(ids)
    found: dict[int, list[dict]] = {}
    for part in _chunks(sorted(set(warning_ids))):
        rows = await session.execute(
            select(N.c.id, N.c.recipient_name, N.c.level, N.c.unit_code, N.c.channel, N.c.escalation_step,
                   N.c.escalated_from_id, N.c.payload, N.c.created_at, N.c.delivered_at, N.c.acked_at,
                   N.c.acked_via, N.c.status)
            .where(N.c.warning_id.in_(part), N.c.purpose == "escalation").order_by(N.c.id))
        for row in rows:
            sources = set((row.payload or {}).get("escalated_from_ids") or []) | {row.escalated_from_id}
            view = {"id": row.id, "recipient_name": row.recipient_name, "level": row.level,
                    "unit_code": row.unit_code, "channel": row.channel, "escalation_step": row.escalation_step,
                    "told_at": _iso(row.created_at), "delivered_at": _iso(row.delivered_at),
                    "acked_at": _iso(row.acked_at), "ack_way": ack_way(row.acked_via), "status": row.status}
            for source in sources & wanted:
                found.setdefault(source, []).append(view)
    return found


async def ack_records(session: AsyncSession, notification_ids: list[int]) -> dict[int, dict]:
    """The 叫应 record of each notification (a notice or an escalation: reminders are folded into theirs)."""
    ids = sorted(set(notification_ids))
    records = {notification_id: empty_record() for notification_id in ids}
    if not ids:
        return records
    heads: dict[int, tuple] = {}
    for part in _chunks(ids):
        heads.update((row.id, row) for row in await session.execute(
            select(N.c.id, N.c.warning_id, N.c.acked_at, N.c.acked_via).where(N.c.id.in_(part))))
    reminders = await _follow_ups(session, ids)
    calls = await _calls(session, ids, reminders)
    replies = await _replies(session, ids)
    above = await _told_above(session, ids, [row.warning_id for row in heads.values()])
    for notification_id, record in records.items():
        made = calls.get(notification_id, [])
        answered = [call for call in made if call["answered"] is not None]
        record.update(calls=made, call_count=len(made), redials=redials(len(made)),
                      first_called_at=made[0]["requested_at"] if made else None,
                      answered=any(call["answered"] for call in answered) if answered else None,
                      keys="".join(call["keys"] for call in made),
                      sms_replies=replies.get(notification_id, []), told_above=above.get(notification_id, []))
        head = heads.get(notification_id)
        if head is not None and head.acked_at is not None:
            way = ack_way(head.acked_via)
            record["ack"] = {"way": way, "label": WAY_LABELS[way], "via": head.acked_via, "at": _iso(head.acked_at)}
    return records


async def attach_records(session: AsyncSession, recipients: list[dict]) -> None:
    """Set `record` on each recipient (a dict with the notification's `id`)."""
    records = await ack_records(session, [item["id"] for item in recipients])
    for item in recipients:
        item["record"] = records[item["id"]]
