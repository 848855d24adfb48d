"""Events that started in a year with their journal totals, and the response decisions taken in the year."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.report.period import local_iso, minutes_between, month_of, nearest_rank
from fangxun.warnings.events.config import DECISION_ACTIONS, EVENT_KINDS
from fangxun.warnings.events.event_filters import event_conditions
from fangxun.warnings.events.journal_rules import JOURNAL_FIGURES, figure_totals
from fangxun.warnings.events.tables import Event, EventWarning, JournalEntry, ResponseDecision

RAISING = ("activate", "upgrade")  # decisions that put a level in force


async def event_figures(session: AsyncSession, start: datetime, end: datetime, zone: str) -> dict:
    """Events started in [start, end): counts by kind and local month, each event with its warnings, highest
    response level and journal figures, and the journal totals over all of them."""
    events = (await session.execute(
        select(Event.id, Event.kind, Event.name, Event.status, Event.started_at, Event.ended_at)
        .where(*event_conditions(start=start, end=end)).order_by(Event.started_at, Event.id))).all()
    ids = [event.id for event in events]
    in_year = select(Event.id).where(*event_conditions(start=start, end=end))
    warnings = dict((await session.execute(
        select(EventWarning.event_id, func.count()).where(EventWarning.event_id.in_(in_year))
        .group_by(EventWarning.event_id))).all())
    highest = dict((await session.execute(
        select(ResponseDecision.event_id, func.min(ResponseDecision.level))
        .where(ResponseDecision.event_id.in_(in_year), ResponseDecision.action.in_(RAISING))
        .group_by(ResponseDecision.event_id))).all())
    # Corrections replace what they correct (journal_rules), so the standing entries need their rows.
    entries = (await session.execute(
        select(JournalEntry.id, JournalEntry.event_id, JournalEntry.corrects_id,
               *(getattr(JournalEntry, name) for name in JOURNAL_FIGURES))
        .where(JournalEntry.event_id.in_(in_year)))).all()
    entries_of = defaultdict(list)
    for entry in entries:
        entries_of[entry.event_id].append(entry)

    by_kind = dict.fromkeys(EVENT_KINDS, 0)
    by_month = {kind: [0] * 12 for kind in EVENT_KINDS}
    listed = []
    for event in events:
        by_kind[event.kind] = by_kind.get(event.kind, 0) + 1
        by_month.setdefault(event.kind, [0] * 12)[month_of(event.started_at, zone) - 1] += 1
        listed.append({"id": event.id, "kind": event.kind, "name": event.name, "status": event.status,
                       "started_at": local_iso(event.started_at, zone), "ended_at": local_iso(event.ended_at, zone),
                       "warnings": warnings.get(event.id, 0), "highest_level": highest.get(event.id),
                       "figures": figure_totals(entries_of[event.id])})
    return {"total": len(ids), "by_kind": by_kind, "by_month": by_month, "list": listed,
            "journal": {"entries": len(entries), "totals": figure_totals(entries)}}


async def decision_figures(session: AsyncSession, start: datetime, end: datetime, zone: str) -> dict:
    """Response decisions taken in [start, end): by level and action, and the time from the triggering warning
    to the decision (median by nearest rank, and the longest)."""
    rows = (await session.execute(
        select(ResponseDecision, Event.name).join(Event, Event.id == ResponseDecision.event_id)
        .where(ResponseDecision.decided_at >= start, ResponseDecision.decided_at < end)
        .order_by(ResponseDecision.decided_at, ResponseDecision.id))).all()
    by_level = {level: dict.fromkeys(DECISION_ACTIONS, 0) for level in (1, 2, 3, 4)}
    listed, minutes = [], []
    for decision, event_name in rows:
        by_level.setdefault(decision.level, dict.fromkeys(DECISION_ACTIONS, 0))[decision.action] += 1
        waited = (None if decision.trigger_at is None
                  else round(minutes_between(decision.trigger_at, decision.decided_at), 1))
        if waited is not None:
            minutes.append(waited)
        listed.append({"id": decision.id, "event_id": decision.event_id, "event_name": event_name,
                       "action": decision.action, "level": decision.level,
                       "previous_level": decision.previous_level, "proposed_level": decision.proposed_level,
                       "trigger_at": local_iso(decision.trigger_at, zone),
                       "decided_at": local_iso(decision.decided_at, zone), "decided_by": decision.decided_by,
                       "minutes": waited})
    return {"total": len(rows), "activations": sum(1 for d in listed if d["action"] == "activate"),
            "by_level": [{"level": level, **counts} for level, counts in sorted(by_level.items())],
            "timed": len(minutes), "median_minutes": nearest_rank(minutes, 50),
            "max_minutes": max(minutes, default=None), "list": listed}
