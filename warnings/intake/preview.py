"""What accepting a warning would do, read without writing: each area's units and who would be told."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.models import AdminUnit
from fangxun.settings import Settings
from fangxun.warnings.intake.fanout import fan_out, warned_units
from fangxun.warnings.intake.normalised import NormalisedWarning
from fangxun.warnings.routing.recipients import WarnedUnit


async def _unit_names(session: AsyncSession, codes: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for start in range(0, len(codes), 1000):
        names.update((await session.execute(
            select(AdminUnit.code, AdminUnit.name).where(AdminUnit.code.in_(codes[start:start + 1000])))).all())
    return names


def _unit_json(unit: WarnedUnit, names: dict[str, str]) -> dict:
    return {"code": unit.code, "name": names.get(unit.code, ""), "level": unit.level,
            "fraction": round(unit.fraction, 4)}


async def preview(session: AsyncSession, warning: NormalisedWarning, settings: Settings) -> dict:
    """The normalised warning (as_json) with each area's matched units, all units, and the recipients."""
    per_area = [await warned_units(session, dataclasses.replace(warning, areas=(area,))) for area in warning.areas]
    fan = await fan_out(session, warning, settings.warnings)
    names = await _unit_names(session, sorted({unit.code for unit in fan.units}))
    data = warning.as_json()
    for area, units in zip(data["areas"], per_area):
        area["units"] = [_unit_json(unit, names) for unit in units]
    departments = sorted({r.name for r in fan.recipients if r.kind == "department"})
    data["units"] = [_unit_json(unit, names) for unit in fan.units]
    data["recipients"] = {
        "departments": departments,
        "persons": len({r.key for r in fan.recipients if r.kind == "person"}),
        "notifications": len(fan.recipients),
        "unreachable": [{"name": r.name, "unit_code": r.unit_code, "problem": r.problem} for r in fan.unreachable],
        "units_without_persons": fan.units_without_persons,
        "routes": list(fan.route_paths),
    }
    return data
