"""Attach boundary polygons from a GIS file to registry units, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import shapely
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core import audit
from fangxun.core.errors import BadInput
from fangxun.geo.boundary_file import Repair, code_candidates, name_candidates, read_boundaries
from fangxun.plans.models import AdminUnit
from fangxun.plans.tabular import Problem, reject
from fangxun.plans.unit_rules import LEVEL_LABELS, full_code, normalise_code, normalise_level

PARENT_FIELDS = ("parent_code", "上级代码", "ct_adcode", "pr_adcode")


@dataclass
class BoundaryImportResult:
    """What an import matched, repaired and left without geometry."""

    matched: int
    repairs: list[Repair] = field(default_factory=list)
    without_geometry: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"已更新 {self.matched} 个区划的边界"
        if self.repairs:
            text += f"，修复无效几何 {len(self.repairs)} 处"
        if self.without_geometry:
            text += f"；仍无边界的区划 {len(self.without_geometry)} 个"
        return text


def expand_code(text: str | None) -> str | None:
    """A 12-digit code from a 12-digit code, a 6-digit adcode or a 9-digit township code (as text or a
    spreadsheet number)."""
    return full_code(normalise_code(text))


def _parent_hints(frame) -> list[str | None]:
    for name in PARENT_FIELDS:
        if name in frame.columns:
            return [expand_code(None if v is None else str(v)) for v in frame[name]]
    return [None] * len(frame)


async def import_boundaries(session: AsyncSession, path: str | Path, level: str | None = None,
                            code_field: str | None = None, name_field: str | None = None,
                            crs: str | None = None, actor: str = "cli") -> BoundaryImportResult:
    """Match each feature to a unit by code (12/9/6 digits) or by name within a parent; store all or none."""
    try:
        level = normalise_level(level)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    boundary = read_boundaries(path, crs=crs)
    frame = boundary.frame
    codes, names, parents = code_candidates(frame, code_field), name_candidates(frame, name_field), _parent_hints(frame)
    units = {u.code: u for u in (await session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.parent_code))).all()}
    by_name: dict[str, list] = {}
    for unit in units.values():
        by_name.setdefault(unit.name, []).append(unit)

    problems: list[Problem] = []
    matched: dict[str, int] = {}
    column = code_field or "code"
    for index, (raw_code, name, parent) in enumerate(zip(codes, names, parents)):
        number = index + 1
        code = expand_code(raw_code)
        if code is not None:
            unit = units.get(code)
            if unit is None:
                problems.append(Problem(number, column, f"区划代码 {raw_code} 不在登记库中"))
                continue
        else:
            candidates = [u for u in by_name.get((name or "").strip(), [])
                          if (level is None or u.level == level) and (parent is None or u.parent_code == parent)]
            if len(candidates) != 1:
                why = "找不到" if not candidates else f"有 {len(candidates)} 个同名区划，请提供代码或上级代码"
                problems.append(Problem(number, name_field or "name", f"按名称 {name!r} 匹配区划：{why}"))
                continue
            unit = candidates[0]
        if level is not None and unit.level != level:
            problems.append(Problem(number, column, f"{unit.name}（{unit.code}）是{LEVEL_LABELS[unit.level]}，"
                                                    f"不是{LEVEL_LABELS[level]}"))
            continue
        if unit.code in matched:
            problems.append(Problem(number, column, f"{unit.name}（{unit.code}）与第 {matched[unit.code] + 1} 个要素重复"))
            continue
        matched[unit.code] = index
    if problems:
        raise reject(problems, "边界文件")

    wkb = shapely.to_wkb(frame.geometry.values, output_dimension=2)
    await session.execute(update(AdminUnit), [
        {"code": code, "geometry": wkb[index], "geometry_synthetic": False} for code, index in matched.items()])
    levels = {level} if level else {units[code].level for code in matched}
    left = (await session.execute(
        select(AdminUnit.code, AdminUnit.name).where(AdminUnit.level.in_(levels), AdminUnit.geometry.is_(None))
        .order_by(AdminUnit.code))).all()
    result = BoundaryImportResult(len(matched), boundary.repairs, [(c, n) for c, n in left])
    await audit.record(session, actor, "boundaries.import", "admin_unit", after={
        "file": Path(path).name, "matched": sorted(matched), "repairs": len(boundary.repairs)})
    return result
