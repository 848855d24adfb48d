"""Small hand-built registries for import/export tests: a unit tree, plans, files, table dumps."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import select
from support.databases import migrated_engine

from fangxun.core.db import session_factory
from fangxun.plans.models import AdminUnit, Contact, Plan
from fangxun.plans.tabular import write_table
from fangxun.schema import metadata

CITY = "410100000000"
ZHONGYUAN, ERQI = "410102000000", "410103000000"
LINSHANZHAI, JIANSHELU, HUAIHE = "410102001000", "410102002000", "410103001000"
BISHAGANG, HUZHULU, JIANSHE_VILLAGE, HUAIHE_VILLAGE = (
    "410102001001", "410102001002", "410102002001", "410103001001")

# code, name, level, parent_code: a city, 2 districts, 3 townships, 4 villages.
UNITS = [
    (CITY, "郑州市", "city", "410000000000"),
    (ZHONGYUAN, "中原区", "county", CITY),
    (ERQI, "二七区", "district", CITY),
    (LINSHANZHAI, "林山寨街道", "township", ZHONGYUAN),
    (JIANSHELU, "建设路街道", "township", ZHONGYUAN),
    (HUAIHE, "淮河路街道", "township", ERQI),
    (BISHAGANG, "碧沙岗社区", "village", LINSHANZHAI),
    (HUZHULU, "互助路社区", "village", LINSHANZHAI),
    (JIANSHE_VILLAGE, "建设路社区", "village", JIANSHELU),
    (HUAIHE_VILLAGE, "淮河路社区", "village", HUAIHE),
]
UNIT_HEADERS = ["code", "name", "level", "parent_code"]

PLAN_HEADERS = ["unit_code", "kind", "title", "owner_org", "approved_on", "last_reviewed_on",
                "review_cycle_months", "version", "lifecycle", "responsible_name",
                "responsible_phone", "deputy_name", "deputy_phone"]
PLAN_LABEL_HEADERS = ["区划代码", "预案类型", "预案名称", "编制单位", "批准日期", "最近评估日期",
                      "评估周期(月)", "版本", "状态", "责任人", "责任人电话", "副责任人", "副责任人电话"]
# With today = 2026-06-01 and due_soon_days = 60: current, due_soon, overdue, revising, no contacts.
PLANS = [
    [CITY, "防汛应急预案", "郑州市防汛应急预案", "郑州市应急管理局", "2024-03-01", "2025-03-01",
     "", "2.0", "有效", "王建国", "139-0000-1234", "李红", "13800001111"],
    [CITY, "evacuation", "郑州市紧急避险安置预案", "郑州市应急管理局", "2023-07-15", "",
     "36", "1.0", "active", "王建国", "13900001234", "", ""],
    [ZHONGYUAN, "flood_plan", "中原区防汛应急预案", "中原区应急管理局", "2020-01-01", "",
     "12", "1.1", "有效", "赵刚", "0371-6788 1234", "钱敏", "13700002222"],
    [LINSHANZHAI, "防汛应急方案", "林山寨街道防汛应急方案", "林山寨街道办事处", "2024-05-01", "",
     "24", "1.0", "修订中", "孙丽", "13600003333", "", ""],
    [BISHAGANG, "flood_plan", "碧沙岗社区防汛应急预案", "", "", "", "", "", "", "", "", "", ""],
    [HUAIHE_VILLAGE, "紧急避险安置预案", "淮河路社区避险安置预案", "淮河路街道办事处", "2025-04-30",
     "", "", "1.0", "", "周强", "13500004444", "吴芳", "13500005555"],
]


def unit_rows(order: str = "tree") -> list[list[str]]:
    """The tree as table rows; order 'reversed' puts every child before its parent."""
    rows = [list(unit) for unit in UNITS]
    return rows[::-1] if order == "reversed" else rows


def write_units(path: Path, rows: list[list] | None = None, headers: list[str] | None = None) -> Path:
    """A unit file (CSV or XLSX by suffix) of `rows` (default: the whole tree)."""
    write_table(path, headers or UNIT_HEADERS, unit_rows() if rows is None else rows)
    return path


def write_plans(path: Path, rows: list[list] | None = None, headers: list[str] | None = None) -> Path:
    """A plan file (CSV or XLSX by suffix) of `rows` (default: PLANS) under Chinese headers."""
    write_table(path, headers or PLAN_LABEL_HEADERS, [list(r) for r in (PLANS if rows is None else rows)])
    return path


async def dump(session) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order: the whole database state, for before/after."""
    state = {}
    for table in metadata.sorted_tables:
        rows = (await session.execute(select(table))).all()
        state[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return state


async def registry_content(session) -> dict[str, list[tuple]]:
    """Units, plans and plan contacts by natural keys (no ids or timestamps): what a round trip keeps."""
    units = (await session.execute(select(
        AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.parent_code, AdminUnit.city_code,
        AdminUnit.district_code, AdminUnit.township_code).order_by(AdminUnit.code))).all()
    plans = (await session.execute(select(
        Plan.unit_code, Plan.kind, Plan.title, Plan.owner_org, Plan.approved_on, Plan.last_reviewed_on,
        Plan.review_cycle_months, Plan.next_review_due, Plan.lifecycle, Plan.version)
        .order_by(Plan.unit_code, Plan.kind))).all()
    contacts = (await session.execute(select(
        Plan.unit_code, Plan.kind, Contact.unit_code, Contact.role, Contact.name, Contact.phone)
        .join(Plan, Plan.id == Contact.plan_id))).all()
    return {"units": [tuple(u) for u in units], "plans": [tuple(p) for p in plans],
            "contacts": sorted(tuple(c) for c in contacts)}


@asynccontextmanager
async def fresh_database(dialect: str, tmp_path: Path):
    """A second, empty, migrated database of the same dialect (SQLite file or PostgreSQL schema)."""
    async with migrated_engine(dialect, tmp_path) as engine:
        yield session_factory(engine)
