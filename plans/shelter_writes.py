"""Changing one shelter (避险安置点): add, edit, delete; each change audited with the shelter before and after."""

from __future__ import annotations

import shapely
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.audit import record
from fangxun.core.errors import BadInput, NotFound
from fangxun.plans.models import AdminUnit, Plan, Shelter
from fangxun.plans.plan_fields import UnitCode
from fangxun.plans.shelter_rules import MAX_CAPACITY, both_or_neither, too_far

UPDATABLE = ("name", "capacity", "address", "lon", "lat")
SNAPSHOT = ("unit_code", "plan_id", "name", "capacity", "address", "lon", "lat")


class ShelterFields(BaseModel):
    """A shelter as added through the API."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    unit_code: UnitCode
    plan_id: int | None = Field(None, ge=1, le=2**31 - 1)
    name: str = Field(min_length=1, max_length=200)
    capacity: int = Field(ge=0, le=MAX_CAPACITY)
    address: str = Field("", max_length=200)
    lon: float | None = Field(None, ge=-180, le=180, description="经度（WGS84 十进制度）")
    lat: float | None = Field(None, ge=-90, le=90, description="纬度（WGS84 十进制度）")

    @model_validator(mode="after")
    def _place(self) -> "ShelterFields":
        problem = both_or_neither(self.lon, self.lat)
        if problem:
            raise ValueError(problem)
        return self


def shelter_snapshot(shelter) -> dict:
    """The audited fields of a shelter (a Shelter or any row with those attributes)."""
    return {name: getattr(shelter, name) for name in SNAPSHOT}


async def real_boundaries(session: AsyncSession, codes: list[str]) -> dict[str, shapely.Geometry]:
    """The imported (not synthetic) boundaries of these units, by code; units without one are absent."""
    rows = await session.execute(select(AdminUnit.code, AdminUnit.geometry).where(
        AdminUnit.code.in_(codes), AdminUnit.geometry.is_not(None), AdminUnit.geometry_synthetic.is_(False)))
    return {code: shapely.from_wkb(geometry) for code, geometry in rows}


async def _check_place(session: AsyncSession, unit: AdminUnit, lon: float | None, lat: float | None) -> None:
    boundary = (await real_boundaries(session, [unit.code])).get(unit.code)
    problem = too_far(boundary, f"“{unit.name}”", lon, lat)
    if problem:
        raise BadInput(f"lon：{problem}", extra={"field": "lon"})


async def get_shelter(session: AsyncSession, shelter_id: int) -> Shelter:
    """The shelter with this id; NotFound otherwise."""
    shelter = await session.get(Shelter, shelter_id)
    if shelter is None:
        raise NotFound(f"避险安置点 {shelter_id} 不存在")
    return shelter


async def create_shelter(session: AsyncSession, fields: ShelterFields, actor: str) -> Shelter:
    """Add a shelter to an existing unit (and plan of that unit), placed in or near the unit."""
    unit = await session.get(AdminUnit, fields.unit_code)
    if unit is None:
        raise BadInput(f"unit_code：区划代码 {fields.unit_code} 不存在", extra={"field": "unit_code"})
    if fields.plan_id is not None:
        plan_unit = (await session.execute(select(Plan.unit_code).where(Plan.id == fields.plan_id))).scalar()
        if plan_unit != fields.unit_code:
            raise BadInput(f"plan_id：预案 {fields.plan_id} 不是区划 {fields.unit_code} 的预案",
                           extra={"field": "plan_id"})
    await _check_place(session, unit, fields.lon, fields.lat)
    shelter = Shelter(**fields.model_dump())
    session.add(shelter)
    await session.flush()
    await record(session, actor, "shelter.create", "shelter", shelter.id, after=shelter_snapshot(shelter))
    return shelter


async def update_shelter(session: AsyncSession, shelter_id: int, changes: dict, actor: str) -> Shelter:
    """Change some fields of a shelter (validated as a whole; a moved point is checked against its unit)."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise BadInput(f"不能修改的字段：{', '.join(sorted(unknown))}（可修改：{', '.join(UPDATABLE)}）",
                       extra={"field": sorted(unknown)[0]})
    shelter = await get_shelter(session, shelter_id)
    before = shelter_snapshot(shelter)
    merged = ShelterFields(**{**before, **changes})
    if (merged.lon, merged.lat) != (shelter.lon, shelter.lat):
        await _check_place(session, await session.get(AdminUnit, shelter.unit_code), merged.lon, merged.lat)
    for key in changes:
        setattr(shelter, key, getattr(merged, key))
    await session.flush()
    after = shelter_snapshot(shelter)
    if after != before:
        await record(session, actor, "shelter.update", "shelter", shelter.id, before=before, after=after)
    return shelter


async def delete_shelter(session: AsyncSession, shelter_id: int, actor: str) -> dict:
    """Delete a shelter; its last state stays in the audit record."""
    shelter = await get_shelter(session, shelter_id)
    before = shelter_snapshot(shelter)
    await session.delete(shelter)
    await session.flush()
    await record(session, actor, "shelter.delete", "shelter", shelter_id, before=before)
    return before


async def unit_shelters(session: AsyncSession, code: str) -> list[Shelter]:
    """The shelters of one unit; NotFound for an unknown unit."""
    if await session.get(AdminUnit, code) is None:
        raise NotFound(f"区划 {code} 不存在")
    return list((await session.execute(select(Shelter).where(Shelter.unit_code == code).order_by(Shelter.id)))
                .scalars())
