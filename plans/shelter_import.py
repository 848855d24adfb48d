"""Import shelter lists (区划代码 or 单位名称 with 所属区县, 名称, 容量, 地址, 经度, 纬度): every row checked (capacity,
coordinates, the point in or near its unit's imported boundary), then each unit named gets exactly the file's
shelters (see plans/list_import.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.list_import import ListImport, plan_changes, write_changes
from fangxun.plans.models import Shelter
from fangxun.plans.row_units import UNIT_ALIASES, missing_unit_columns, row_units
from fangxun.plans.shelter_rules import both_or_neither, parse_capacity, parse_coordinate, too_far
from fangxun.plans.shelter_writes import real_boundaries, shelter_snapshot
from fangxun.plans.tabular import Problem, chunks, progress_bar, read_table, reject

SHELTER_ALIASES = {
    **UNIT_ALIASES,
    "名称": "name", "安置点名称": "name", "避险安置点": "name", "避险安置点名称": "name",
    "容量": "capacity", "可容纳人数": "capacity", "容纳人数": "capacity", "容量(人)": "capacity",
    "地址": "address", "详细地址": "address", "经度": "lon", "纬度": "lat",
    "序号": "seq", "备注": "note",
}
LABELS = {"name": "名称", "capacity": "容量", "address": "地址", "lon": "经度", "lat": "纬度"}
REQUIRED = ("name", "capacity")
COMPARED = ("capacity", "address", "lon", "lat")
NAME_MAX, ADDRESS_MAX = 200, 200


def _shelter(number: int, row: dict, problems: list[Problem]) -> dict | None:
    """The row's shelter values, or None with the row's problems appended."""
    found = len(problems)
    name, address = row.get("name", ""), row.get("address", "")
    if not name:
        problems.append(Problem(number, LABELS["name"], "不能为空"))
    elif len(name) > NAME_MAX:
        problems.append(Problem(number, LABELS["name"], f"不能超过 {NAME_MAX} 个字"))
    if len(address) > ADDRESS_MAX:
        problems.append(Problem(number, LABELS["address"], f"不能超过 {ADDRESS_MAX} 个字"))
    values: dict = {"name": name, "address": address}
    try:
        values["capacity"] = parse_capacity(row.get("capacity", ""))
    except ValueError as exc:
        problems.append(Problem(number, LABELS["capacity"], str(exc)))
    for key, low, high in (("lon", -180, 180), ("lat", -90, 90)):
        try:
            values[key] = parse_coordinate(row.get(key, ""), low, high)
        except ValueError as exc:
            problems.append(Problem(number, LABELS[key], str(exc)))
    if len(problems) == found and (problem := both_or_neither(values["lon"], values["lat"])):
        problems.append(Problem(number, LABELS["lat" if values["lat"] is None else "lon"], problem))
    return values if len(problems) == found else None


async def plan_shelter_import(session: AsyncSession, rows: list[tuple[int, dict]],
                              progress: bool = False) -> ListImport:
    """Check every row; the changes that give each named unit the file's shelters, or ImportRejected."""
    problems = missing_unit_columns(rows)
    if not rows:
        problems.append(Problem(None, None, "文件没有避险安置点数据行"))
    if problems:
        raise reject(problems, "避险安置点文件")
    units = await row_units(session)
    wanted: dict[str, dict[str, tuple[int, dict]]] = {}
    for number, row in progress_bar(rows, len(rows), "导入避险安置点", progress):
        unit_code = units.find(number, row, problems)
        shelter = _shelter(number, row, problems)
        if unit_code is None or shelter is None:
            continue
        listed = wanted.setdefault(unit_code, {})
        if shelter["name"] in listed:
            problems.append(Problem(number, LABELS["name"], f"与第 {listed[shelter['name']][0]} 行重复："
                                    f"{units.label(unit_code)}已有“{shelter['name']}”"))
            continue
        listed[shelter["name"]] = (number, shelter)
    boundaries = {}
    for part in chunks(sorted(wanted)):
        boundaries.update(await real_boundaries(session, part))
    for unit_code, listed in wanted.items():
        for number, shelter in listed.values():
            problem = too_far(boundaries.get(unit_code), units.label(unit_code), shelter["lon"], shelter["lat"])
            if problem:
                problems.append(Problem(number, LABELS["lon"], problem))
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise reject(problems, "避险安置点文件")
    stored = []
    for part in chunks(sorted(wanted)):
        stored += (await session.execute(
            select(Shelter.id, Shelter.unit_code, Shelter.plan_id, Shelter.name, Shelter.capacity, Shelter.address,
                   Shelter.lon, Shelter.lat).where(Shelter.unit_code.in_(part)))).all()
    return plan_changes(wanted, stored, shelter_snapshot, _merge, _new_shelter)


def _merge(before: dict, shelter: dict) -> dict:
    return {**before, **{key: shelter[key] for key in COMPARED}}


def _new_shelter(unit_code: str, shelter: dict) -> dict:
    return {"unit_code": unit_code, "plan_id": None, **shelter}


async def import_shelter_rows(session: AsyncSession, rows: list[tuple[int, dict]], actor: str, source: str,
                              dry_run: bool = False, progress: bool = False) -> ListImport:
    """Apply the rows of a 避险安置点名单 in the caller's transaction (nothing written on a dry run)."""
    result = await plan_shelter_import(session, rows, progress=progress)
    result.dry_run = dry_run
    if not dry_run:
        await write_changes(session, Shelter, result, COMPARED, actor, "shelter", source)
    return result


async def import_shelter_file(session: AsyncSession, path: str | Path, actor: str = "cli", dry_run: bool = False,
                              progress: bool = False) -> ListImport:
    """Read a 避险安置点名单 (CSV/XLSX) and apply it in the caller's transaction (nothing written on a dry run)."""
    rows = read_table(path, SHELTER_ALIASES, required=REQUIRED)
    return await import_shelter_rows(session, rows, actor, Path(path).name, dry_run=dry_run, progress=progress)
