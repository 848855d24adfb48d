"""What accepting a warning would do, read without writing: where each area is placed, how many units it covers
(counted by the database) and who would be told, by the same placing and fan-out as accepting."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_rules import LEVEL_LABELS, LEVELS
from fangxun.settings import Settings
from fangxun.warnings.intake.fanout import fan_out
from fangxun.warnings.intake.lifecycle import find_referenced, thread_jurisdiction
from fangxun.warnings.intake.normalised import NormalisedWarning
from fangxun.warnings.intake.placing import Placed, place, units_by_level
from fangxun.warnings.routing.jurisdiction import INSIDE, JURISDICTION_LABELS
from fangxun.warnings.routing.recipients import Fanout, WarnedUnit


async def _unit_names(session: AsyncSession, codes: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for start in range(0, len(codes), 1000):
        names.update((await session.execute(
            select(AdminUnit.code, AdminUnit.name).where(AdminUnit.code.in_(codes[start:start + 1000])))).all())
    return names


def _unit_json(unit: WarnedUnit, names: dict[str, str], subtree: bool) -> dict:
    return {"code": unit.code, "name": names.get(unit.code, ""), "level": unit.level,
            "fraction": round(unit.fraction, 4), "subtree": subtree}


def _placed_json(placed: Placed, names: dict[str, str]) -> list[dict]:
    """The units a placing names (each with everything below it: `subtree`) and those its shapes meet, by code."""
    shown = [(unit, True) for unit in placed.named] + [(unit, False) for unit in placed.shaped]
    return [_unit_json(unit, names, subtree) for unit, subtree in sorted(shown, key=lambda item: item[0].code)]


def told_by_level(fan: Fanout, units: Mapping[str, int]) -> list[dict]:
    """Per level of the warned units (city first): how many units (`units`, counted by level), 责任人 and
    notifications."""
    counts = {level: {"units": units.get(level, 0), "persons": set(), "notifications": 0} for level in LEVELS}
    for recipient in fan.recipients:
        if recipient.kind == "person" and recipient.level in counts:
            counts[recipient.level]["persons"].add(recipient.key)
            counts[recipient.level]["notifications"] += 1
    return [{"level": level, "level_label": LEVEL_LABELS[level], "units": found["units"],
             "persons": len(found["persons"]), "notifications": found["notifications"]}
            for level, found in counts.items() if found["units"] or found["notifications"]]


def told_by_department(fan: Fanout, departments: Mapping[str, object]) -> list[dict]:
    """Per department (in configuration order; then the duty desk): how many notifications its desks get."""
    counts: dict[tuple[str, str], int] = {}
    for recipient in fan.recipients:
        if recipient.kind == "person":
            continue
        department = departments.get(recipient.key) if recipient.kind != "duty_desk" else None
        name = getattr(department, "name", recipient.name)
        counts[(recipient.key, name)] = counts.get((recipient.key, name), 0) + 1
    order = {key: index for index, key in enumerate(departments)}
    return [{"key": key, "name": name, "notifications": count}
            for (key, name), count in sorted(counts.items(), key=lambda item: order.get(item[0][0], len(order)))]


async def preview(session: AsyncSession, warning: NormalisedWarning, settings: Settings,
                  now: datetime | None = None) -> dict:
    """The normalised warning (as_json) with each area's placed units and unit count, the warning's placed units
    (`units`: named subtrees' tops and units its shapes meet), how many units it covers (`unit_count`,
    `units_by_level`), and the recipients (at `now`, the absent persons' stand-ins in their place, counted in
    `stand_ins`)."""
    placed = await place(session, warning)
    per_area = [placed] if len(warning.areas) == 1 else [
        await place(session, dataclasses.replace(warning, areas=(area,))) for area in warning.areas]
    referenced, _ = await find_referenced(session, warning.references)
    jurisdiction = thread_jurisdiction(placed.jurisdiction, referenced)
    fan = await fan_out(session, warning, settings.warnings, placed, jurisdiction, now)
    placed_counts = [await units_by_level(session, area) for area in ([placed, *per_area] if len(per_area) > 1
                                                                      else [placed])]
    counts = placed_counts[0] if jurisdiction == INSIDE else {}
    names = await _unit_names(session, sorted({unit.code for area in per_area for unit in area.routing}))
    data = warning.as_json()
    data["in_jurisdiction"] = jurisdiction == INSIDE
    data["jurisdiction"] = jurisdiction
    data["jurisdiction_label"] = JURISDICTION_LABELS[jurisdiction]
    for area, area_placed, area_counts in zip(data["areas"], per_area, placed_counts[-len(per_area):]):
        area["units"] = _placed_json(area_placed, names)
        area["unit_count"] = sum(area_counts.values())
    departments = sorted({r.name for r in fan.recipients if r.kind == "department"})
    data["units"] = _placed_json(placed, names) if jurisdiction == INSIDE else []
    data["unit_count"] = sum(counts.values())
    data["units_by_level"] = counts
    data["recipients"] = {
        "departments": departments,
        "persons": len({r.key for r in fan.recipients if r.kind == "person"}),
        "notifications": len(fan.recipients),
        "stand_ins": len({r.key for r in fan.recipients if r.stand_in}),
        "unreachable": [{"name": r.name, "unit_code": r.unit_code, "problem": r.problem} for r in fan.unreachable],
        "units_without_persons": fan.units_without_persons,
        "routes": list(fan.route_paths),
        "by_level": told_by_level(fan, counts),
        "by_department": told_by_department(fan, settings.warnings.departments),
    }
    return data
