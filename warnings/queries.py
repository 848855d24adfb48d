"""Read models of warnings: the list, a thread as one object, each recipient's 叫应 state (the duty board's are in
board_threads and board_groups)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.errors import BadInput, NotFound
from fangxun.plans.models import AdminUnit
from fangxun.warnings.ack_record import attach_records
from fangxun.warnings.intake.expansion_store import unfinished
from fangxun.warnings.intake.lifecycle import thread
from fangxun.warnings.routing.jurisdiction import JURISDICTION_LABELS, OUTSIDE
from fangxun.warnings.tables import Notification, Warning, WarningUnit
from fangxun.warnings.vocabulary import COLOUR_LABELS, COLOURS, RESPONSE_SOURCE, WARNING_STATUSES

N = Notification.__table__
# A recipient's 叫应 state, as the board and the API show it (reminders are folded into their notice).
STATES = ("pending", "delivered", "acknowledged", "escalated", "failed", "dead", "cancelled")
STATE_LABELS = {"pending": "待发送", "delivered": "已送达待确认", "acknowledged": "已确认", "escalated": "已上报",
                "failed": "发送失败", "dead": "多次失败", "cancelled": "已取消"}
WARNING_STATUS_LABELS = {"active": "生效中", "superseded": "已更新", "cancelled": "已解除", "expired": "已过期",
                         "outside": "辖区外预警"}
MAX_PAGE_SIZE = 500

_RECIPIENT_COLUMNS = (
    N.c.id, N.c.warning_id, N.c.recipient_kind, N.c.recipient_key, N.c.recipient_name, N.c.unit_code, N.c.level,
    N.c.channel, N.c.address, N.c.purpose, N.c.status, N.c.attempts, N.c.last_error, N.c.created_at,
    N.c.next_attempt_at, N.c.delivered_at, N.c.ack_deadline, N.c.acked_at, N.c.acked_via, N.c.acked_late,
    N.c.escalation_step, N.c.escalated_from_id, N.c.escalated_at, N.c.reminders_sent)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 text of an aware datetime (None stays None)."""
    return None if moment is None else moment.isoformat()


def recipient_state(status: str, acked_at: datetime | None, escalated_at: datetime | None) -> str:
    """One of STATES for a notification row."""
    if acked_at is not None:
        return "acknowledged"
    if status == "cancelled":
        return "cancelled"
    if escalated_at is not None:
        return "escalated"
    if status in ("failed", "dead", "delivered"):
        return status
    return "pending"  # pending, or being sent right now


def is_overdue(row, now: datetime) -> bool:
    """Delivered, unanswered and past its 叫应 deadline."""
    return (row.acked_at is None and row.ack_deadline is not None and row.ack_deadline < now
            and row.status != "cancelled")


def _overdue_sql(now: datetime):
    return and_(N.c.acked_at.is_(None), N.c.ack_deadline.is_not(None), N.c.ack_deadline < now,
                N.c.status != "cancelled")


def _state_sql():
    """SQL of recipient_state, for grouping and filtering."""
    return case((N.c.acked_at.is_not(None), "acknowledged"), (N.c.status == "cancelled", "cancelled"),
                (N.c.escalated_at.is_not(None), "escalated"),
                (N.c.status.in_(("failed", "dead", "delivered")), N.c.status), else_="pending")


def _rank_sql(now: datetime):
    return case((_overdue_sql(now), 0), (and_(N.c.acked_at.is_(None), N.c.status.in_(("failed", "dead"))), 1),
                (and_(N.c.acked_at.is_(None), N.c.escalated_at.is_not(None)), 2),
                (N.c.status.in_(("pending", "sending")), 3), (N.c.acked_at.is_(None), 4),
                (N.c.acked_at.is_not(None), 5), else_=6)


def empty_counts() -> dict:
    """Counts by state, all zero, plus total, overdue and late acknowledgements."""
    return {**{state: 0 for state in STATES}, "total": 0, "overdue": 0, "acknowledged_late": 0}


async def state_counts(session: AsyncSession, warning_ids: list[int], now: datetime) -> dict[int, dict]:
    """Recipient counts by state for each warning (reminders not counted: they repeat a notice)."""
    counts = {warning_id: empty_counts() for warning_id in warning_ids}
    if not warning_ids:
        return counts
    # Grouped over a subquery: PostgreSQL cannot match CASE expressions with bound values in GROUP BY.
    rows_of = select(N.c.warning_id, _state_sql().label("state"),
                     case((_overdue_sql(now), 1), else_=0).label("overdue"),
                     case((and_(N.c.acked_at.is_not(None), N.c.acked_late.is_(True)), 1), else_=0).label("late")
                     ).where(N.c.warning_id.in_(warning_ids), N.c.purpose != "reminder").subquery()
    keys = (rows_of.c.warning_id, rows_of.c.state, rows_of.c.overdue, rows_of.c.late)
    rows = await session.execute(select(*keys, func.count()).group_by(*keys))
    for warning_id, row_state, row_overdue, row_late, n in rows:
        bucket = counts[warning_id]
        bucket[row_state] += n
        bucket["total"] += n
        bucket["overdue"] += n if row_overdue else 0
        bucket["acknowledged_late"] += n if row_late else 0
    return counts


def ours():
    """SQL condition: a message of ours (not outside the jurisdiction, not an all-clear that ended nothing we
    hold): what the board, the CAP feed and the annual report count."""
    orphan_all_clear = and_(Warning.all_clear.is_(True), or_(Warning.thread_id.is_(None), Warning.thread_id == Warning.id))
    return and_(Warning.jurisdiction != OUTSIDE, ~orphan_all_clear)


def warning_summary(row: Warning) -> dict:
    """The fields of a stored message a list shows."""
    return {
        "id": row.id, "thread_id": row.thread_id or row.id, "identifier": row.identifier, "sender": row.sender,
        "sent": iso(row.sent), "msg_type": row.msg_type, "cap_status": row.cap_status, "status": row.status,
        "status_label": WARNING_STATUS_LABELS.get(row.status, row.status), "event": row.event,
        "colour": row.colour, "colour_label": COLOUR_LABELS.get(row.colour, ""), "severity": row.severity,
        "urgency": row.urgency, "certainty": row.certainty, "onset": iso(row.onset), "expires": iso(row.expires),
        "effective": iso(row.effective), "expires_assumed": bool(row.expires_assumed), "notes": list(row.notes or []),
        "headline": row.headline, "sender_name": row.sender_name, "source": row.source,
        "received_at": iso(row.received_at), "closed_at": iso(row.closed_at),
        "superseded_by_id": row.superseded_by_id, "jurisdiction": row.jurisdiction,
        "jurisdiction_label": JURISDICTION_LABELS.get(row.jurisdiction, row.jurisdiction),
        "all_clear": bool(row.all_clear),
    }


def warning_detail(row: Warning) -> dict:
    """A stored message with its texts, references and areas."""
    return {**warning_summary(row), "description": row.description, "instruction": row.instruction,
            "language": row.language, "scope": row.scope, "references": list(row.references or []),
            "areas": list(row.areas or []), "entered_by": row.entered_by}


@dataclass
class WarningFilter:
    """What GET /api/warnings may ask for."""

    status: str | None = None
    event: str | None = None
    colour: str | None = None
    since: datetime | None = None
    page: int = 1
    per_page: int = 50

    def check(self) -> None:
        """BadInput naming the parameter for an unknown status or colour."""
        if self.status is not None and self.status not in WARNING_STATUSES:
            raise BadInput(f"status：应为 {'、'.join(WARNING_STATUSES)} 之一", extra={"field": "status"})
        if self.colour is not None and self.colour not in COLOURS:
            raise BadInput(f"colour：应为 {'、'.join(COLOURS)} 之一", extra={"field": "colour"})


async def list_warnings(session: AsyncSession, wanted: WarningFilter) -> dict:
    """One page of stored messages, newest first, with the total count."""
    wanted.check()
    conditions = []
    if wanted.status:
        conditions.append(Warning.status == wanted.status)
    if wanted.event:
        conditions.append(Warning.event == wanted.event)
    if wanted.colour:
        conditions.append(Warning.colour == wanted.colour)
    if wanted.since:
        conditions.append(Warning.sent >= wanted.since)
    total = (await session.execute(select(func.count()).select_from(Warning).where(*conditions))).scalar_one()
    rows = (await session.execute(
        select(Warning).where(*conditions).order_by(Warning.sent.desc(), Warning.id.desc())
        .limit(wanted.per_page).offset((wanted.page - 1) * wanted.per_page))).scalars()
    return {"total": total, "page": wanted.page, "per_page": wanted.per_page,
            "items": [warning_summary(row) for row in rows]}


async def get_warning(session: AsyncSession, warning_id: int) -> Warning:
    """The stored message with this id, or NotFound."""
    row = await session.get(Warning, warning_id)
    if row is None:
        raise NotFound(f"预警 {warning_id} 不存在")
    return row


async def warned_unit_rows(session: AsyncSession, warning_id: int) -> list[dict]:
    """The units a message covers, with names and the covered fraction."""
    rows = await session.execute(
        select(WarningUnit.unit_code, AdminUnit.name, WarningUnit.level, WarningUnit.fraction)
        .outerjoin(AdminUnit, AdminUnit.code == WarningUnit.unit_code)
        .where(WarningUnit.warning_id == warning_id).order_by(WarningUnit.unit_code))
    return [{"code": code, "name": name or "", "level": level, "fraction": round(float(fraction), 4)}
            for code, name, level, fraction in rows]


def thread_status(messages: list[Warning]) -> str:
    """A thread is active while any of its messages is; otherwise it is what its last message is."""
    if any(message.status == "active" for message in messages):
        return "active"
    return messages[-1].status


async def thread_view(session: AsyncSession, warning_id: int, now: datetime) -> dict:
    """The 递进式 chain a message belongs to, as one object: messages in order, current state, areas, units."""
    row = await get_warning(session, warning_id)
    messages = await thread(session, row.thread_id or row.id)
    ids = [message.id for message in messages]
    counts = await state_counts(session, ids, now)
    expanding = await unfinished(session, ids)  # messages whose notifications are still being written
    unit_totals = dict((await session.execute(
        select(WarningUnit.warning_id, func.count()).where(WarningUnit.warning_id.in_(ids))
        .group_by(WarningUnit.warning_id))).all())
    current = messages[-1]
    # A 解除 usually names no area: the areas are those of the last message that had some.
    shown = next((m for m in reversed(messages) if m.areas or unit_totals.get(m.id)), current)
    total = empty_counts()
    for bucket in counts.values():
        for key, value in bucket.items():
            total[key] += value
    status = thread_status(messages)
    return {
        "id": row.id, "thread_id": row.thread_id or row.id, "status": status,
        "status_label": WARNING_STATUS_LABELS.get(status, status),
        "current": warning_detail(current), "event": current.event or shown.event,
        "colour": shown.colour if current.msg_type == "Cancel" else current.colour,
        "areas": list(shown.areas or []), "areas_of": shown.id, "units": await warned_unit_rows(session, shown.id),
        "notifications": total,
        "messages": [{**warning_detail(m), "units": unit_totals.get(m.id, 0), "notifications": counts[m.id],
                      "expanding": expanding.get(m.id)} for m in messages],
    }


def recipient_view(row, now: datetime, unit_names: dict[str, str], source_names: dict[int, str]) -> dict:
    """One recipient's state for the API and the board."""
    return {
        "id": row.id, "warning_id": row.warning_id, "recipient_kind": row.recipient_kind,
        "recipient_key": row.recipient_key, "recipient_name": row.recipient_name, "unit_code": row.unit_code,
        "unit_name": unit_names.get(row.unit_code or "", ""), "level": row.level, "channel": row.channel,
        "address": row.address, "purpose": row.purpose, "status": row.status,
        "state": recipient_state(row.status, row.acked_at, row.escalated_at), "overdue": is_overdue(row, now),
        "attempts": row.attempts, "reminders": row.reminders_sent, "last_error": row.last_error,
        "created_at": iso(row.created_at), "next_attempt_at": iso(row.next_attempt_at),
        "delivered_at": iso(row.delivered_at), "ack_deadline": iso(row.ack_deadline), "acked_at": iso(row.acked_at),
        "acked_via": row.acked_via, "acked_late": bool(row.acked_late), "escalation_step": row.escalation_step,
        "escalated_at": iso(row.escalated_at), "escalated_from_id": row.escalated_from_id,
        "escalated_from": source_names.get(row.escalated_from_id) if row.escalated_from_id else None,
    }


async def _names(session: AsyncSession, rows: list) -> tuple[dict[str, str], dict[int, str]]:
    """Unit names of the rows' units and recipient names of the notifications they escalate."""
    codes = sorted({row.unit_code for row in rows if row.unit_code})
    units: dict[str, str] = {}
    for start in range(0, len(codes), 1000):
        units.update((await session.execute(
            select(AdminUnit.code, AdminUnit.name).where(AdminUnit.code.in_(codes[start:start + 1000])))).all())
    known = {row.id: row.recipient_name for row in rows}
    missing = sorted({row.escalated_from_id for row in rows if row.escalated_from_id} - set(known))
    for start in range(0, len(missing), 1000):
        known.update((await session.execute(
            select(N.c.id, N.c.recipient_name).where(N.c.id.in_(missing[start:start + 1000])))).all())
    return units, known


async def recipients(session: AsyncSession, warning_id: int, now: datetime, *, state: str | None = None,
                     page: int = 1, per_page: int = 100) -> dict:
    """One page of a message's recipients in outbox order, with counts by state."""
    await get_warning(session, warning_id)
    if state is not None and state not in STATES + ("overdue",):
        raise BadInput(f"state：应为 {'、'.join(STATES)} 或 overdue", extra={"field": "state"})
    conditions = [N.c.warning_id == warning_id, N.c.purpose != "reminder"]
    if state == "overdue":
        conditions.append(_overdue_sql(now))
    elif state is not None:
        conditions.append(_state_sql() == state)
    total = (await session.execute(select(func.count()).select_from(N).where(*conditions))).scalar_one()
    rows = (await session.execute(select(*_RECIPIENT_COLUMNS).where(*conditions).order_by(N.c.id)
                                  .limit(per_page).offset((page - 1) * per_page))).all()
    units, sources = await _names(session, rows)
    counts = (await state_counts(session, [warning_id], now))[warning_id]
    items = [recipient_view(row, now, units, sources) for row in rows]
    await attach_records(session, items)
    return {"warning_id": warning_id, "total": total, "page": page, "per_page": per_page, "counts": counts,
            "items": items}


async def most_urgent_recipients(session: AsyncSession, warning_id: int, now: datetime, limit: int) -> list[dict]:
    """A message's recipients, most urgent first (overdue, undeliverable, escalated, waiting, delivered,
    acknowledged), without their addresses (phone numbers stay off wall screens and printed pages)."""
    rows = (await session.execute(
        select(*_RECIPIENT_COLUMNS).where(N.c.warning_id == warning_id, N.c.purpose != "reminder")
        .order_by(_rank_sql(now), N.c.escalation_step.desc(), N.c.id).limit(limit))).all()
    units, sources = await _names(session, rows)
    items = [recipient_view(r, now, units, sources) for r in rows]
    for item in items:
        item.pop("address")
    return items


async def held_for_feed(session: AsyncSession, now: datetime, days: int) -> list[Warning]:
    """Messages for the CAP feed: active ones and those closed in the last `days`, newest first."""
    return list((await session.execute(
        select(Warning).where(or_(Warning.status == "active", Warning.closed_at >= now - timedelta(days=days)),
                              Warning.source != RESPONSE_SOURCE, ours())
        .order_by(Warning.sent.desc(), Warning.id.desc()))).scalars())
