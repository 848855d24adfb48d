"""The registry in figures: units by level, plans by kind and status, coverage headline numbers."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.config import PLAN_KINDS, RegistrySettings
from fangxun.plans.coverage_figures import coverage_figures
from fangxun.plans.plan_fields import KIND_LABELS, STATUS_LABELS
from fangxun.plans.review_clock import STATUSES
from fangxun.plans.unit_queries import top_unit
from fangxun.plans.unit_rules import LEVEL_LABELS, levels_below

# An empty registry is shown with a city deployment's levels.
EMPTY_LEVELS = levels_below("city")


async def registry_stats(session: AsyncSession, registry: RegistrySettings, today: date,
                         root: str | None = None) -> dict:
    """Summary of the subtree under `root` (default: the registry's top); the single source for API, pages and
    CLI. Levels run from the root's down."""
    if root is None:
        top = await top_unit(session)
        if top is None:
            return _empty(today)
        root = top.code  # coverage_figures finds it again in the session, without a query
    # Only the counts of gaps belong to the summary, not the gap lists: summed by the database.
    picture = await coverage_figures(session, root, registry, today)
    levels = picture["levels"]
    shown = levels_below(picture["root"]["level"])
    by_kind = picture["plans"]["by_kind"]
    return {
        "root": picture["root"],
        "as_of": picture["as_of"],
        "units_by_level": {level: levels.get(level, {}).get("units", 0) for level in shown},
        "plans_total": picture["plans"]["total"],
        "plans_by_kind": {kind: sum(by_kind.get(kind, {}).values()) for kind in PLAN_KINDS},
        "plans_by_status": dict(picture["plans"]["by_status"]),
        "gap_units": picture["gap_units"],
        "overdue_reviews": picture["overdue_reviews"],
        "due_soon_reviews": picture["due_soon_reviews"],
        "unreachable_plans": picture["unreachable_plans"],
        "complete_by_level": {level: {key: levels.get(level, {}).get(key, 0)
                                      for key in ("units", "complete", "with_gaps")} for level in shown},
    }


def _empty(today: date) -> dict:
    return {
        "root": None, "as_of": today.isoformat(),
        "units_by_level": dict.fromkeys(EMPTY_LEVELS, 0), "plans_total": 0,
        "plans_by_kind": dict.fromkeys(PLAN_KINDS, 0), "plans_by_status": dict.fromkeys(STATUSES, 0),
        "gap_units": 0, "overdue_reviews": 0, "due_soon_reviews": 0, "unreachable_plans": 0,
        "complete_by_level": {level: {"units": 0, "complete": 0, "with_gaps": 0} for level in EMPTY_LEVELS},
    }


def stats_lines(stats: dict) -> list[str]:
    """The summary as plain Chinese text lines (for the command line)."""
    root = stats["root"]
    lines = [f"统计范围：{root['name']}（{root['code']}）" if root else "登记库为空", f"统计日期：{stats['as_of']}",
             "行政区划（数量 / 预案齐全 / 有缺口）："]
    for level, count in stats["units_by_level"].items():
        complete = stats["complete_by_level"][level]
        lines.append(f"  {LEVEL_LABELS[level]}：{count} / {complete['complete']} / {complete['with_gaps']}")
    lines.append(f"预案共 {stats['plans_total']} 件，按类型：")
    lines += [f"  {KIND_LABELS[kind]}：{count}" for kind, count in stats["plans_by_kind"].items()]
    lines.append("按状态：")
    lines += [f"  {STATUS_LABELS[status]}：{count}" for status, count in stats["plans_by_status"].items()]
    lines += [f"覆盖缺口：{stats['gap_units']} 个区划", f"逾期未评估：{stats['overdue_reviews']} 件",
              f"即将到期：{stats['due_soon_reviews']} 件", f"责任人无法联系：{stats['unreachable_plans']} 件"]
    return lines
