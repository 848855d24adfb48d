"""`fangxun demo load`: the real Zhengzhou units with 6,897 generated plans, contacts and shelters."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import date
from importlib import resources

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.audit import record
from fangxun.core.db import refresh_statistics
from fangxun.core.errors import Conflict
from fangxun.demo.geometry import load_demo_geometry, place_inside
from fangxun.demo.names import desk_phone, duty_desk_name
from fangxun.demo.places import build_shelters
from fangxun.demo.plan_set import DemoUnit, build_plans
from fangxun.plans.config import PLAN_KINDS
from fangxun.plans.models import AdminUnit, Contact, Plan, Shelter
from fangxun.plans.plan_fields import KIND_LABELS, STATUS_LABELS
from fangxun.plans.plan_import import import_plans
from fangxun.plans.review_clock import STATUSES, plan_status
from fangxun.plans.tabular import chunks
from fangxun.plans.unit_import import import_units
from fangxun.plans.unit_rules import LEVEL_LABELS, levels_below, normalise_level
from fangxun.settings import Settings

ACTOR = "demo"
UNITS_FILE = "zhengzhou_nbs_2023_codes.csv"


@dataclass
class DemoSummary:
    """What the demo load put into the database."""

    units_by_level: dict[str, int]
    plans_by_kind: dict[str, int]
    plans_by_level: dict[str, int]
    plans_by_status: dict[str, int]
    contacts: int
    shelters: int
    boundaries: int = 0
    synthetic_boundaries: int = 0

    @property
    def units(self) -> int:
        """All units loaded."""
        return sum(self.units_by_level.values())

    @property
    def plans(self) -> int:
        """All plans loaded."""
        return sum(self.plans_by_kind.values())

    def as_dict(self) -> dict:
        """Plain counts (the audit record's `after`)."""
        return asdict(self)

    def __str__(self) -> str:
        units = "、".join(f"{LEVEL_LABELS[level]} {n}" for level, n in self.units_by_level.items())
        kinds = "、".join(f"{KIND_LABELS[kind]} {n}" for kind, n in self.plans_by_kind.items())
        statuses = "、".join(f"{STATUS_LABELS[s]} {n}" for s, n in self.plans_by_status.items() if n)
        return (f"行政区划 {self.units} 个（{units}）；预案 {self.plans} 件（{kinds}；{statuses}）；"
                f"联系人 {self.contacts} 个；避险安置点 {self.shelters} 处；"
                f"边界 {self.boundaries} 个（其中示意边界 {self.synthetic_boundaries} 个）")


def read_units() -> tuple[list[DemoUnit], list[tuple[int, dict]]]:
    """The packaged units, and the same rows as import_units takes them (line numbers, header = 1)."""
    text = resources.files("fangxun.demo.data").joinpath(UNITS_FILE).read_text("utf-8")
    rows = list(enumerate(csv.DictReader(text.splitlines()), start=2))
    units = [DemoUnit(row["code"], row["name"], normalise_level(row["level"]), row["parent_code"] or None)
             for _, row in rows]
    return units, rows


async def _require_empty(session: AsyncSession) -> None:
    units = (await session.execute(select(func.count()).select_from(AdminUnit))).scalar_one()
    plans = (await session.execute(select(func.count()).select_from(Plan))).scalar_one()
    if units or plans:
        raise Conflict(f"数据库不是空的（已有行政区划 {units} 个、预案 {plans} 件），"
                       "演示数据只能载入空数据库；请换一个新数据库再试")


async def _plan_ids(session: AsyncSession) -> dict[tuple[str, str], int]:
    result = await session.execute(select(Plan.id, Plan.unit_code, Plan.kind))
    return {(row.unit_code, row.kind): row.id for row in result}


async def _set_positions(session: AsyncSession, positions: dict[tuple[str, str], tuple[str, str]]) -> None:
    """Fill the positions (职务) of the persons import_plans created; its rows carry no position column."""
    result = await session.execute(
        select(Contact.id, Contact.role, Plan.unit_code, Plan.kind).join(Plan, Plan.id == Contact.plan_id))
    ids_by_position: dict[str, list[int]] = defaultdict(list)
    for row in result:
        responsible, deputy = positions[(row.unit_code, row.kind)]
        ids_by_position[responsible if row.role == "responsible" else deputy].append(row.id)
    # A few dozen distinct positions: one UPDATE per position beats thousands of single-row ones.
    for position, ids in ids_by_position.items():
        for part in chunks(ids):
            await session.execute(update(Contact).where(Contact.id.in_(part)).values(position=position)
                                  .execution_options(synchronize_session=False))


def duty_desks(units: list[DemoUnit]) -> list[dict]:
    """A duty desk contact for the city, each district and each township."""
    desks = [u for u in units if u.level != "village"]
    return [{"unit_code": unit.code, "plan_id": None, "role": "duty_desk",
             "name": duty_desk_name(unit.name, unit.level),
             "position": "24小时防汛值班", "phone": desk_phone(index), "channels": {}}
            for index, unit in enumerate(desks, start=1)]


async def summarise(session: AsyncSession, settings: Settings, today: date) -> DemoSummary:
    """Counts of units, plans, contacts and shelters as stored."""
    levels = dict((await session.execute(select(AdminUnit.level, func.count()).group_by(AdminUnit.level))).all())
    kinds = dict((await session.execute(select(Plan.kind, func.count()).group_by(Plan.kind))).all())
    plan_levels = dict((await session.execute(
        select(AdminUnit.level, func.count()).join(Plan, Plan.unit_code == AdminUnit.code)
        .group_by(AdminUnit.level))).all())
    clocks = (await session.execute(select(Plan.lifecycle, Plan.next_review_due))).all()
    statuses = Counter(plan_status(lifecycle, due, today, settings.registry.due_soon_days) for lifecycle, due in clocks)
    contacts = (await session.execute(select(func.count()).select_from(Contact))).scalar_one()
    boundaries, synthetic = (await session.execute(select(
        func.count(AdminUnit.geometry),
        func.count(AdminUnit.geometry).filter(AdminUnit.geometry_synthetic.is_(True))))).one()
    shelters = (await session.execute(select(func.count()).select_from(Shelter))).scalar_one()
    return DemoSummary(
        units_by_level={level: levels.get(level, 0) for level in levels_below("city")},
        plans_by_kind={kind: kinds.get(kind, 0) for kind in PLAN_KINDS},
        plans_by_level={level: plan_levels.get(level, 0) for level in levels_below("city")},
        plans_by_status={status: statuses.get(status, 0) for status in STATUSES},
        contacts=contacts, shelters=shelters, boundaries=boundaries, synthetic_boundaries=synthetic)


async def load_demo(session: AsyncSession, settings: Settings, today: date, progress: bool = False) -> DemoSummary:
    """Load the demo registry into an empty database, in the caller's transaction."""
    await _require_empty(session)
    units, unit_rows = read_units()
    plans = build_plans(units, settings, today)
    await import_units(session, unit_rows, actor=ACTOR, progress=progress)
    shapes = await load_demo_geometry(session)
    await import_plans(session, list(enumerate(plans.rows, start=2)), settings.registry, actor=ACTOR, progress=progress)
    await _set_positions(session, plans.positions)
    await session.execute(insert(Contact), duty_desks(units))
    plan_ids = await _plan_ids(session)
    shelters = [{**row, "plan_id": plan_ids.get((row["unit_code"], "evacuation"))}
                for row in place_inside(build_shelters(units), shapes)]
    await session.execute(insert(Shelter), shelters)
    await refresh_statistics(session, ["contacts", "shelters"])
    summary = await summarise(session, settings, today)
    await record(session, ACTOR, "demo.load", "registry", "zhengzhou", after=summary.as_dict())
    return summary
