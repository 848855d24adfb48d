"""The review clock: next review date and plan status. Pure rules, no I/O."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

LIFECYCLES = ("active", "revising", "withdrawn")
STATUSES = ("current", "due_soon", "overdue", "revising", "withdrawn")


def add_months(start: date, months: int) -> date:
    """`start` moved by whole months, clamped to the month's last day (2024-02-29 + 12 -> 2025-02-28)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def next_review_due(approved_on: date | None, last_reviewed_on: date | None, cycle_months: int) -> date | None:
    """The date the next review is due: one cycle after the latest review (or approval)."""
    anchor = max((d for d in (approved_on, last_reviewed_on) if d is not None), default=None)
    return add_months(anchor, cycle_months) if anchor else None


def plan_status(lifecycle: str, due: date | None, today: date, due_soon_days: int) -> str:
    """current / due_soon / overdue for an active plan; revising and withdrawn pass through."""
    if lifecycle in ("revising", "withdrawn"):
        return lifecycle
    if due is None or due < today:
        return "overdue"
    if due <= today + timedelta(days=due_soon_days):
        return "due_soon"
    return "current"


def status_window(status: str, today: date, due_soon_days: int) -> tuple[str, date | None, date | None]:
    """The (lifecycle, due_from, due_to) bounds that select `status`, inclusive; None is open.

    Lets a store filter by status in SQL while the rule stays here. Overdue also includes
    active plans with no due date (never approved), which the store matches separately.
    """
    soon_end = today + timedelta(days=due_soon_days)
    if status == "overdue":
        return "active", None, today - timedelta(days=1)
    if status == "due_soon":
        return "active", today, soon_end
    if status == "current":
        return "active", soon_end + timedelta(days=1), None
    if status in ("revising", "withdrawn"):
        return status, None, None
    raise ValueError(f"unknown status {status!r}")
