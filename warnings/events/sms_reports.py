"""SMS replies offered to an event's journal as unverified reports (待核实的短信回复): the replies other than 收到
tied to the event's warnings and notices, and a duty officer's one action that makes one of them a journal entry."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.accounts import Principal
from fangxun.core.audit import record
from fangxun.core.errors import BadInput, Conflict, Forbidden, NotFound
from fangxun.settings import Settings
from fangxun.warnings.acks.reply_rules import mask_phone
from fangxun.warnings.acks.tables import SmsReply, SmsReplyNotice
from fangxun.warnings.events.event_store import get_event
from fangxun.warnings.events.journal import add_entry, parse_entry, unit_names
from fangxun.warnings.events.tables import EventWarning, JournalEntry, ResponseDecision
from fangxun.warnings.tables import Notification

STATE_LABELS = {"unverified": "待核实", "journal": "已转为日志"}
# What a duty officer may set on the entry instead of what the reply's recipient gives.
CHANGEABLE = ("department", "unit_code", "action", "figures")
_DEPARTMENT_KINDS = ("department", "department_leader")


def _of_event(event_id: int):
    """SQL condition: a notification of one of the event's warnings or of its decisions' notices."""
    warnings = select(EventWarning.warning_id).where(EventWarning.event_id == event_id)
    notices = select(ResponseDecision.notice_warning_id).where(ResponseDecision.event_id == event_id,
                                                               ResponseDecision.notice_warning_id.is_not(None))
    return or_(Notification.warning_id.in_(warnings), Notification.warning_id.in_(notices))


async def _reports(session: AsyncSession, event_id: int, reply_id: int | None = None) -> list[tuple]:
    """(reply, the first notification it is tied to within the event) for each report of the event, oldest first."""
    query = (select(SmsReply, Notification).join(SmsReplyNotice, SmsReplyNotice.reply_id == SmsReply.id)
             .join(Notification, Notification.id == SmsReplyNotice.notification_id)
             .where(_of_event(event_id), SmsReply.is_ack.is_(False))
             .order_by(SmsReply.received_at, SmsReply.id, Notification.id))
    if reply_id is not None:
        query = query.where(SmsReply.id == reply_id)
    first: dict[int, tuple] = {}
    for reply, notification in await session.execute(query):
        first.setdefault(reply.id, (reply, notification))
    return list(first.values())


def _department(notification: Notification) -> str | None:
    return notification.recipient_key if notification.recipient_kind in _DEPARTMENT_KINDS else None


def report_view(reply: SmsReply, notification: Notification, units: dict[str, str], settings: Settings) -> dict:
    """One report as the event page and the API show it."""
    department = _department(notification)
    desk = settings.warnings.departments.get(department) if department else None
    state = "journal" if reply.journal_entry_id is not None else "unverified"
    return {"id": reply.id, "text": reply.text, "received_at": reply.received_at.isoformat(),
            "sender_name": reply.sender_name or notification.recipient_name, "phone_masked": mask_phone(reply.phone),
            "recipient_kind": notification.recipient_kind, "recipient_name": notification.recipient_name,
            "unit_code": notification.unit_code, "unit_name": units.get(notification.unit_code or "", ""),
            "department": department, "department_name": getattr(desk, "name", department or ""),
            "warning_id": notification.warning_id, "state": state, "state_label": STATE_LABELS[state],
            "journal_entry_id": reply.journal_entry_id}


async def event_reports(session: AsyncSession, event_id: int, settings: Settings) -> list[dict]:
    """The SMS replies other than 收到 from the recipients of the event's warnings and notices, oldest first: each
    待核实 until a duty officer makes it a journal entry."""
    await get_event(session, event_id)
    found = await _reports(session, event_id)
    units = await unit_names(session, {n.unit_code for _, n in found if n.unit_code})
    return [report_view(reply, notification, units, settings) for reply, notification in found]


def report_text(reply: SmsReply, name: str, zone: str) -> str:
    """The journal text of a reply: who sent it, from which number, when, and what they wrote."""
    at = reply.received_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    return f"短信回复（{name}，{mask_phone(reply.phone)}，{at}）：{reply.text}"


def _changes(changes: object) -> dict:
    if changes is None:
        return {}
    if not isinstance(changes, dict):
        raise BadInput("请求体应为 JSON 对象", extra={"field": ""})
    for name in changes:
        if name not in CHANGEABLE:
            raise BadInput(f"{name}：不允许的字段（可用字段：{'、'.join(CHANGEABLE)}）", extra={"field": name})
    return changes


async def report_to_journal(session: AsyncSession, event_id: int, reply_id: int, principal: Principal,
                            settings: Settings, now: datetime, changes: object = None) -> JournalEntry:
    """Append the journal entry of a report (the reply's text, its recipient's unit or department; `changes` may
    set department, unit_code, action and figures) and mark the reply as made into it; in the caller's
    transaction. A reply becomes one entry only: the second attempt is a Conflict naming the first entry."""
    if not principal.can_write:
        raise Forbidden("只有值班员（编辑权限账号）可以把短信回复转为事件日志")
    changes = _changes(changes)
    await get_event(session, event_id)
    found = await _reports(session, event_id, reply_id)
    if not found:
        raise NotFound(f"事件 {event_id} 没有编号为 {reply_id} 的待核实短信回复")
    reply, notification = found[0]
    if reply.journal_entry_id is not None:
        raise _taken(reply_id, reply.journal_entry_id)
    body = {"department": _department(notification), "unit_code": notification.unit_code,
            "text": report_text(reply, reply.sender_name or notification.recipient_name, settings.registry.timezone),
            **changes}
    fields = parse_entry(body, settings.warnings.departments)
    entry = await add_entry(session, event_id, fields, principal, settings, now)
    taken = await session.execute(update(SmsReply).where(SmsReply.id == reply_id, SmsReply.journal_entry_id.is_(None))
                                  .values(journal_entry_id=entry.id))
    if taken.rowcount != 1:  # another officer made it an entry at the same moment
        await session.refresh(reply)
        raise _taken(reply_id, reply.journal_entry_id)
    await record(session, principal.name, "sms_reply.journal", "sms_reply", reply_id,
                 after={"event_id": event_id, "journal_entry_id": entry.id})
    return entry


def _taken(reply_id: int, entry_id: int | None) -> Conflict:
    return Conflict(f"短信回复 {reply_id} 已转为日志条目 #{entry_id}", extra={"journal_entry_id": entry_id})
