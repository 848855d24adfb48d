"""Builds small hand-made unit trees straight into the database for tests."""

from __future__ import annotations

from sqlalchemy import insert

from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_rules import ANCESTOR_LEVELS, ancestors, level_from_code

# A city with two districts; district A has two townships, one with two villages.
SMALL_TREE = [
    ("410100000000", "测试市", None),
    ("410102000000", "甲区", "410100000000"),
    ("410103000000", "乙区", "410100000000"),
    ("410102001000", "一号街道", "410102000000"),
    ("410102002000", "二号镇", "410102000000"),
    ("410103001000", "三号街道", "410103000000"),
    ("410102002001", "东村", "410102002000"),
    ("410102002002", "西村", "410102002000"),
]


async def add_units(session, specs=SMALL_TREE) -> dict[str, dict]:
    """Insert (code, name, parent_code) triples, parents first; returns the rows by code."""
    rows: dict[str, dict] = {}
    for code, name, parent in specs:
        level = level_from_code(code)
        parent_row = rows.get(parent)
        parent_ancestors = ({f"{level}_code": parent_row[f"{level}_code"] for level in ANCESTOR_LEVELS}
                            if parent_row else None)
        rows[code] = {"code": code, "name": name, "level": level, "parent_code": parent,
                      **ancestors(level, code, parent, parent_ancestors)}
    await session.execute(insert(AdminUnit), list(rows.values()))
    return rows


async def add_plans(session, plans, settings, today) -> dict[tuple[str, str], int]:
    """Create (unit, kind, approved_on, then[, title]) plans through plan_writes; `then` may be
    "revising" or "withdrawn". Returns the plan ids by (unit, kind)."""
    from fangxun.plans.plan_fields import PlanFields
    from fangxun.plans.plan_writes import create_plan, update_plan, withdraw_plan

    ids = {}
    for unit, kind, approved, then, *title in plans:
        fields = PlanFields(unit_code=unit, kind=kind, title=(title and title[0]) or f"{unit}-{kind}",
                            approved_on=approved)
        plan = await create_plan(session, fields, settings.registry, "t", today)
        ids[(unit, kind)] = plan.id
        if then == "revising":
            await update_plan(session, plan.id, {"lifecycle": "revising"}, settings.registry, "t")
        elif then == "withdrawn":
            await withdraw_plan(session, plan.id, today, "撤并", "t")
    return ids
