"""The one query of an event list: events filtered by year (or [start, end)), kind and status, newest first.
The API and CLI list, the events page, the annual report and the demo all select events through it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, select

from fangxun.core.times import year_bounds
from fangxun.warnings.events.tables import Event

NEWEST_FIRST = (Event.started_at.desc(), Event.id.desc())


def event_conditions(year: int | None = None, kind: str | None = None, status: str | None = None, *,
                     start: datetime | None = None, end: datetime | None = None) -> list[ColumnElement[bool]]:
    """SQL conditions: started in the (Beijing) `year`, or in [start, end); of `kind`; in `status`."""
    if year is not None:
        start, end = year_bounds(year)
    conditions = []
    if start is not None:
        conditions.append(Event.started_at >= start)
    if end is not None:
        conditions.append(Event.started_at < end)
    if kind is not None:
        conditions.append(Event.kind == kind)
    if status is not None:
        conditions.append(Event.status == status)
    return conditions


def select_events(year: int | None = None, kind: str | None = None, status: str | None = None) -> Select:
    """The events that pass the filters, newest first."""
    return select(Event).where(*event_conditions(year, kind, status)).order_by(*NEWEST_FIRST)
