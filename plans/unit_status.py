"""A unit's plan status for the duty map and the GeoJSON API. Pure rules, no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from fangxun.plans.review_clock import STATUSES

UNIT_STATUSES = ("current", "due_soon", "overdue", "none")
UNIT_STATUS_LABELS = {"current": "有效", "due_soon": "即将到期", "overdue": "逾期", "none": "无预案"}


def unit_status(required_kinds: Iterable[str], status_by_kind: Mapping[str, str]) -> str:
    """`none` if a required kind is missing or withdrawn, else `overdue`, `due_soon` or `current` (worst wins)."""
    statuses = [status_by_kind.get(kind) for kind in required_kinds]
    if any(status is None or status == "withdrawn" for status in statuses):
        return "none"
    if "overdue" in statuses:
        return "overdue"
    if "due_soon" in statuses:
        return "due_soon"
    return "current"


def missing_kinds(required_kinds: Iterable[str], status_by_kind: Mapping[str, str]) -> list[str]:
    """The required kinds with no plan, or only a withdrawn one."""
    return [kind for kind in required_kinds if status_by_kind.get(kind) in (None, "withdrawn")]


def status_counts(status_by_kind: Mapping[str, str]) -> dict[str, int]:
    """How many of the unit's plans stand in each plan status."""
    counted = Counter(status_by_kind.values())
    return {status: counted.get(status, 0) for status in STATUSES}
