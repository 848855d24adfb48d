"""Read models of events: the list, and one event with its warnings, units and notification figures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.errors import BadInput
from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_rules import levels_below
from fangxun.warnings.events.config import EventSettings
from fangxun.warnings.events.event_filters import select_events
from fangxun.warnings.events.event_rules import shown
from fangxun.warnings.events.event_store import get_event
from fangxun.warnings.events.tables import (CLOSE_REASON_LABELS, EVENT_STATUS_LABELS, EVENT_STATUSES, Event,
                                            EventWarning, JournalEntry, ResponseDecision)
from fangxun.warnings.queries import WARNING_STATUS_LABELS, empty_counts, state_counts
from fangxun.warnings.tables import Warning, WarningUnit
from fangxun.warnings.vocabulary import COLOUR_LABELS

_DEFAULT_LABELS = {kind: settings.label for kind, settings in EventSettings().kinds.items()}


def kind_labels(events: EventSettings | None = None) -> dict[str, str]:
    """The label of each event kind (降雨过程, 雨雪冰冻) as configured."""
    return {**_DEFAULT_LABELS, **({kind: s.label for kind, s in events.kinds.items()} if events else {})}


def event_summary(event: Event, warnings: int, labels: dict[str, str]) -> dict:
    """The fields of an event a list shows."""
    return {"id": event.id, "kind": event.kind, "kind_label": labels.get(event.kind, event.kind), "name": event.name,
            "status": event.status, "status_label": EVENT_STATUS_LABELS.get(event.status, event.status),
            "started_at": shown(event.started_at), "ended_at": shown(event.ended_at), "opened_by": event.opened_by,
            "opening_warning_id": event.opening_warning_id, "closed_by": event.closed_by,
            "close_reason": event.close_reason, "close_reason_label": CLOSE_REASON_LABELS.get(event.close_reason or ""),
            "note": event.note, "warning_count": warnings}


def _check_filters(year: int | None, kind: str | None, status: str | None, labels: dict[str, str]) -> None:
    if year is not None and not 1900 <= year <= 2200:
        raise BadInput("year：应为四位年份", extra={"field": "year"})
    if kind is not None and kind not in labels:
        raise BadInput(f"kind：应为 {'、'.join(labels)} 之一", extra={"field": "kind"})
    if status is not None and status not in EVENT_STATUSES:
        raise BadInput(f"status：应为 {'、'.join(EVENT_STATUSES)} 之一", extra={"field": "status"})


async def list_events(session: AsyncSession, year: int | None = None, kind: str | None = None,
                      status: str | None = None, *, labels: dict[str, str] | None = None) -> list[dict]:
    """Events, newest first; `year` is the (Beijing) year the event started in."""
    labels = labels or kind_labels()
    _check_filters(year, kind, status, labels)
    events = list((await session.execute(select_events(year, kind, status))).scalars())
    counts = dict((await session.execute(
        select(EventWarning.event_id, func.count()).where(EventWarning.event_id.in_([e.id for e in events]))
        .group_by(EventWarning.event_id))).all()) if events else {}
    return [event_summary(event, counts.get(event.id, 0), labels) for event in events]


def _warning_row(warning: Warning, link: EventWarning) -> dict:
    return {"id": warning.id, "thread_id": warning.thread_id or warning.id, "identifier": warning.identifier,
            "event": warning.event, "colour": warning.colour, "colour_label": COLOUR_LABELS.get(warning.colour, ""),
            "msg_type": warning.msg_type, "status": warning.status,
            "status_label": WARNING_STATUS_LABELS.get(warning.status, warning.status), "sent": shown(warning.sent),
            "onset": shown(warning.onset), "expires": shown(warning.expires), "closed_at": shown(warning.closed_at),
            "headline": warning.headline, "joined_by": link.joined_by, "joined_at": shown(link.joined_at)}


async def affected_units(session: AsyncSession, warning_ids: list[int]) -> dict:
    """The union of the units the warnings cover: how many at each level, and the districts by name."""
    by_level = dict.fromkeys(levels_below("city"), 0)  # a province registry's own level is added when warned
    if not warning_ids:
        return {"total": 0, "by_level": by_level, "districts": []}
    rows = await session.execute(
        select(WarningUnit.level, func.count(distinct(WarningUnit.unit_code)))
        .where(WarningUnit.warning_id.in_(warning_ids)).group_by(WarningUnit.level))
    for level, count in rows:
        by_level[level] = by_level.get(level, 0) + count
    districts = (await session.execute(
        select(WarningUnit.unit_code, AdminUnit.name).distinct()
        .outerjoin(AdminUnit, AdminUnit.code == WarningUnit.unit_code)
        .where(WarningUnit.warning_id.in_(warning_ids), WarningUnit.level == "district")
        .order_by(WarningUnit.unit_code))).all()
    return {"total": sum(by_level.values()), "by_level": by_level,
            "districts": [{"code": code, "name": name or ""} for code, name in districts]}


async def notification_totals(session: AsyncSession, warning_ids: list[int], now: datetime) -> dict:
    """Recipient counts by state summed over the warnings, with the acknowledgement rate.

    The rate is acknowledged / expected, where expected leaves out notifications withdrawn before they
    were sent (cancelled): nobody was asked to acknowledge those. None when nothing was expected.
    """
    total = empty_counts()
    for bucket in (await state_counts(session, warning_ids, now)).values():
        for key, value in bucket.items():
            total[key] += value
    expected = total["total"] - total["cancelled"]
    return {**total, "expected": expected,
            "ack_rate": round(total["acknowledged"] / expected, 4) if expected else None}


async def event_detail(session: AsyncSession, event_id: int, now: datetime, *,
                       labels: dict[str, str] | None = None) -> dict:
    """One event as JSON: its fields, warnings (oldest first), affected units, notification figures, and how
    many decisions and journal entries it has."""
    labels = labels or kind_labels()
    event = await get_event(session, event_id)
    linked = (await session.execute(
        select(Warning, EventWarning).join(EventWarning, EventWarning.warning_id == Warning.id)
        .where(EventWarning.event_id == event.id).order_by(Warning.sent, Warning.id))).all()
    ids = [warning.id for warning, _ in linked]
    decisions = (await session.execute(select(func.count()).select_from(ResponseDecision)
                                       .where(ResponseDecision.event_id == event.id))).scalar_one()
    journal = (await session.execute(select(func.count()).select_from(JournalEntry)
                                     .where(JournalEntry.event_id == event.id))).scalar_one()
    return {**event_summary(event, len(ids), labels),
            "created_at": shown(event.created_at),
            "warnings": [_warning_row(warning, link) for warning, link in linked],
            "units": await affected_units(session, ids),
            "notifications": await notification_totals(session, ids, now),
            "decisions": decisions, "journal_entries": journal}
