"""Read models of the event pages: the list of events, and one event as a single chronological timeline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.models import AdminUnit
from fangxun.settings import Settings
from fangxun.warnings.events.config import DECISION_LABELS, LEVEL_LABELS
from fangxun.warnings.events.decisions import level_after
from fangxun.warnings.events.event_filters import select_events
from fangxun.warnings.events.event_store import get_event
from fangxun.warnings.events.journal import corrections, entries_of, entry_view, unit_names
from fangxun.warnings.events.journal_rules import FIGURE_LABELS, figure_totals
from fangxun.warnings.events.response_advice import decision_headline
from fangxun.warnings.events.tables import (CLOSE_REASON_LABELS, EVENT_STATUS_LABELS, Event, EventWarning, JournalEntry,
                                            ResponseDecision)
from fangxun.warnings.ack_record import attach_records
from fangxun.warnings.queries import STATE_LABELS, most_urgent_recipients, state_counts
from fangxun.warnings.tables import Warning, WarningUnit
from fangxun.warnings.vocabulary import COLOUR_LABELS, MSG_TYPE_LABELS

# Recipients of each warning whose 叫应 record the event page shows, most urgent first.
RECORD_ROWS = 50
# Items at the same minute: the warning first, then the decision it led to, then the reports.
_ORDER = {"warning": 0, "decision": 1, "journal": 2}


def notification_summary(counts: dict) -> dict:
    """The 叫应 figures of one message: sent, delivered, acknowledged, escalated, failed and the ack rate."""
    sent = counts["total"] - counts["cancelled"]
    return {"sent": sent, "pending": counts["pending"], "delivered": counts["delivered"],
            "acknowledged": counts["acknowledged"], "escalated": counts["escalated"],
            "failed": counts["failed"] + counts["dead"], "overdue": counts["overdue"],
            "ack_rate": counts["acknowledged"] / sent if sent else None}


def current_level(decisions: list[ResponseDecision]) -> int | None:
    """The response level in force after the decisions, in whatever order they come."""
    return level_after(sorted(decisions, key=lambda d: (d.decided_at, d.id)))


def event_header(event: Event, settings: Settings) -> dict:
    """The fields of an event a page shows at its top."""
    kind = settings.events.kinds.get(event.kind)
    return {"id": event.id, "kind": event.kind, "kind_label": kind.label if kind else event.kind,
            "name": event.name, "status": event.status,
            "status_label": EVENT_STATUS_LABELS.get(event.status, event.status),
            "started_at": event.started_at, "ended_at": event.ended_at, "opened_by": event.opened_by,
            "closed_by": event.closed_by, "close_reason": event.close_reason,
            "close_reason_label": CLOSE_REASON_LABELS.get(event.close_reason or "", ""), "note": event.note}


async def list_events(session: AsyncSession, settings: Settings) -> list[dict]:
    """Every event, newest first, with its counts of warnings, decisions and journal entries."""
    events = (await session.execute(select_events())).scalars().all()
    warnings = dict((await session.execute(
        select(EventWarning.event_id, func.count()).group_by(EventWarning.event_id))).all())
    journal = dict((await session.execute(
        select(JournalEntry.event_id, func.count()).group_by(JournalEntry.event_id))).all())
    decisions: dict[int, list[ResponseDecision]] = {}
    for decision in (await session.execute(select(ResponseDecision))).scalars():
        decisions.setdefault(decision.event_id, []).append(decision)
    rows = []
    for event in events:
        level = current_level(decisions.get(event.id, []))
        rows.append({**event_header(event, settings), "warnings": warnings.get(event.id, 0),
                     "decisions": len(decisions.get(event.id, [])), "journal_entries": journal.get(event.id, 0),
                     "current_level": level, "current_level_label": LEVEL_LABELS.get(level, "")})
    return rows


def _warning_item(row: Warning, counts: dict) -> dict:
    return {"type": "warning", "at": row.sent, "id": row.id, "event": row.event, "colour": row.colour,
            "colour_label": COLOUR_LABELS.get(row.colour or "", ""), "msg_type": row.msg_type,
            "msg_label": MSG_TYPE_LABELS.get(row.msg_type, row.msg_type), "headline": row.headline,
            "sender_name": row.sender_name, "notifications": notification_summary(counts)}


def _decision_item(decision: ResponseDecision, notice: Warning | None, counts: dict | None) -> dict:
    waited = None
    if decision.trigger_at is not None:
        waited = (decision.decided_at - decision.trigger_at).total_seconds()
    return {"type": "decision", "at": decision.decided_at, "id": decision.id, "action": decision.action,
            "action_label": DECISION_LABELS.get(decision.action, decision.action), "level": decision.level,
            "headline": decision_headline(decision.action, decision.level),
            "level_label": LEVEL_LABELS.get(decision.level, str(decision.level)),
            "previous_level_label": LEVEL_LABELS.get(decision.previous_level, ""),
            "proposed_level_label": LEVEL_LABELS.get(decision.proposed_level, ""),
            "proposal_rule": decision.proposal_rule, "decided_by": decision.decided_by,
            "recorded_by": decision.recorded_by, "recorded_at": decision.recorded_at,
            "trigger_warning_id": decision.trigger_warning_id, "seconds_to_decide": waited, "note": decision.note,
            "notice_warning_id": decision.notice_warning_id, "notice_title": notice.headline if notice else "",
            "notifications": notification_summary(counts) if counts is not None else None}


async def affected_districts(session: AsyncSession, warning_ids: list[int]) -> list[dict]:
    """The districts (区县) any of these warnings covers in whole or in part (a township or village warned counts
    for its district), by code."""
    if not warning_ids:
        return []
    warned = (select(AdminUnit.district_code).join(WarningUnit, WarningUnit.unit_code == AdminUnit.code)
              .where(WarningUnit.warning_id.in_(warning_ids), AdminUnit.district_code.is_not(None)))
    rows = await session.execute(select(AdminUnit.code, AdminUnit.name).where(AdminUnit.code.in_(warned))
                                 .order_by(AdminUnit.code))
    return [{"code": code, "name": name} for code, name in rows]


async def event_timeline(session: AsyncSession, event_id: int, settings: Settings, now: datetime) -> dict:
    """One event: its header, then warnings, decisions (with their notices' 叫应) and journal entries in
    time order, and the figure totals of the standing journal entries."""
    event = await get_event(session, event_id)
    warnings = list((await session.execute(
        select(Warning).join(EventWarning, EventWarning.warning_id == Warning.id)
        .where(EventWarning.event_id == event_id).order_by(Warning.sent, Warning.id))).scalars())
    decisions = list((await session.execute(
        select(ResponseDecision).where(ResponseDecision.event_id == event_id)
        .order_by(ResponseDecision.decided_at, ResponseDecision.id))).scalars())
    notice_ids = [d.notice_warning_id for d in decisions if d.notice_warning_id is not None]
    notices = {row.id: row for row in (await session.execute(
        select(Warning).where(Warning.id.in_(notice_ids)))).scalars()} if notice_ids else {}
    counts = await state_counts(session, [w.id for w in warnings] + notice_ids, now)
    entries = await entries_of(session, event_id)
    corrected = corrections(entries)
    names = await unit_names(session, {e.unit_code for e in entries if e.unit_code})
    departments = settings.warnings.departments
    items = [_warning_item(row, counts[row.id]) for row in warnings]
    for item in items:
        item["recipients"] = await most_urgent_recipients(session, item["id"], now, RECORD_ROWS)
    await attach_records(session, [person for item in items for person in item["recipients"]])
    items += [_decision_item(d, notices.get(d.notice_warning_id), counts.get(d.notice_warning_id))
              for d in decisions]
    for entry in entries:
        items.append({**entry_view(entry, corrected.get(entry.id), departments, names), "type": "journal",
                      "at": entry.recorded_at})
    items.sort(key=lambda item: (item["at"], _ORDER[item["type"]], item["id"]))
    level = current_level(decisions)
    return {"event": event_header(event, settings),
            "districts": await affected_districts(session, [w.id for w in warnings]),
            "current_level": level, "current_level_label": LEVEL_LABELS.get(level, ""),
            "items": items, "state_labels": STATE_LABELS, "totals": figure_totals(entries), "figure_labels": dict(FIGURE_LABELS),
            "counts": {"warnings": len(warnings), "decisions": len(decisions), "journal_entries": len(entries)}}
