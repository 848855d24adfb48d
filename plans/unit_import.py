"""Import administrative units from a table: validate the whole hierarchy, then upsert by code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core import audit
from fangxun.core.db import refresh_statistics, utcnow
from fangxun.plans import unit_rules
from fangxun.plans.models import AdminUnit
from fangxun.plans.tabular import ImportResult, Problem, cell_text, progress_bar, read_table, reject

UNIT_LABELS = {"code": "区划代码", "name": "名称", "level": "级别", "parent_code": "上级代码"}
UNIT_ALIASES = {
    "区划代码": "code", "统计用区划代码": "code", "代码": "code", "行政区划代码": "code",
    "名称": "name", "单位名称": "name", "区划名称": "name",
    "级别": "level", "层级": "level",
    "上级代码": "parent_code", "上级区划代码": "parent_code", "parent": "parent_code",
}
REQUIRED_COLUMNS = ("code", "name", "parent_code")
ANCESTOR_COLUMNS = tuple(f"{level}_code" for level in unit_rules.ANCESTOR_LEVELS)
NAME_MAX = 100


@dataclass
class _Unit:
    code: str
    name: str
    level: str
    parent_code: str | None
    row: int | None = None  # None for a unit known only from the database


def _level_label(level: str) -> str:
    return unit_rules.LEVEL_LABELS.get(level, level)


def _parse_row(number: int, row: dict, problems: list[Problem]) -> _Unit | None:
    """One row as a unit, or None when its code is unusable; row-local problems are appended."""
    raw_code = cell_text(row.get("code"))
    code = unit_rules.normalise_code(raw_code)
    if not unit_rules.is_valid_code(code):
        problems.append(Problem(number, UNIT_LABELS["code"], f"区划代码应为 12 位数字：“{raw_code}”"))
        return None
    shape = unit_rules.level_from_code(code)
    name = cell_text(row.get("name"))
    if not name:
        problems.append(Problem(number, UNIT_LABELS["name"], "名称不能为空"))
    elif len(name) > NAME_MAX:
        problems.append(Problem(number, UNIT_LABELS["name"], f"名称不能超过 {NAME_MAX} 个字"))
    try:
        level = unit_rules.normalise_level(cell_text(row.get("level")))
    except ValueError as exc:
        problems.append(Problem(number, UNIT_LABELS["level"], str(exc)))
    else:
        if level is not None and level != shape:
            problems.append(Problem(number, UNIT_LABELS["level"],
                                    f"级别“{_level_label(level)}”与区划代码 {code} 不符"
                                    f"（按代码应为“{_level_label(shape)}”）"))
    raw_parent = cell_text(row.get("parent_code"))
    parent = unit_rules.normalise_code(raw_parent) or None
    if parent is not None and not unit_rules.is_valid_code(parent):
        problems.append(Problem(number, UNIT_LABELS["parent_code"],
                                f"上级代码应为 12 位数字：“{raw_parent}”"))
    return _Unit(code, name, shape, parent, number)


def _check_parent(unit: _Unit, known: dict[str, _Unit], problems: list[Problem]) -> None:
    """The parent must exist (file or database) and sit exactly one level above; a province needs none, and a
    city may name a province the registry does not hold (a city deployment)."""
    expected = unit_rules.PARENT_LEVEL.get(unit.level)
    if expected is None:
        return
    column = UNIT_LABELS["parent_code"]
    if unit.level in unit_rules.TOP_LEVELS and (unit.parent_code is None or unit.parent_code not in known):
        return
    if unit.parent_code is None:
        problems.append(Problem(unit.row, column, f"{_level_label(unit.level)}必须填写上级代码"))
        return
    if not unit_rules.is_valid_code(unit.parent_code):
        return  # already reported by _parse_row
    parent = known.get(unit.parent_code)
    if parent is None:
        problems.append(Problem(unit.row, column,
                                f"上级代码 {unit.parent_code} 既不在文件中，也不在数据库中"))
    elif parent.level != expected:
        problems.append(Problem(unit.row, column,
                                f"上级 {unit.parent_code}（{parent.name}）是“{_level_label(parent.level)}”，"
                                f"{_level_label(unit.level)}的上级应为“{_level_label(expected)}”"))


def _ancestor_table(units: dict[str, _Unit]) -> dict[str, dict]:
    """The ancestor columns of every unit, computed top-down from the merged hierarchy."""
    result: dict[str, dict] = {}

    def of(code: str, depth: int = 0) -> dict:
        if code in result:
            return result[code]
        unit = units[code]
        parent = units.get(unit.parent_code) if unit.parent_code else None
        # A city deployment holds no province; depth guards bad stored data.
        parent_columns = of(parent.code, depth + 1) if parent and depth < len(unit_rules.LEVELS) else None
        result[code] = unit_rules.ancestors(unit.level, code, unit.parent_code, parent_columns)
        return result[code]

    for code in units:
        of(code)
    return result


async def _stored_units(session: AsyncSession) -> dict[str, dict]:
    columns = [AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.parent_code,
               *(getattr(AdminUnit, column) for column in ANCESTOR_COLUMNS)]
    result = await session.execute(select(*columns))
    return {row.code: dict(row._mapping) for row in result}


def _descends_from(code: str, units: dict[str, _Unit], targets: set[str]) -> bool:
    seen = 0
    while code and code in units and seen < len(unit_rules.LEVELS):
        if code in targets:
            return True
        code, seen = units[code].parent_code, seen + 1
    return False


async def import_units(session: AsyncSession, rows: list[tuple[int, dict]], actor: str = "cli",
                       progress: bool = False) -> ImportResult:
    """Validate every row against the hierarchy rules, then insert new and update changed units."""
    problems: list[Problem] = []
    in_file: dict[str, _Unit] = {}
    for number, row in progress_bar(rows, len(rows), "导入区划", progress):
        unit = _parse_row(number, row, problems)
        if unit is None:
            continue
        if unit.code in in_file:
            problems.append(Problem(number, UNIT_LABELS["code"],
                                    f"区划代码 {unit.code} 与第 {in_file[unit.code].row} 行重复"))
            continue
        in_file[unit.code] = unit

    stored = await _stored_units(session)
    known = {code: _Unit(s["code"], s["name"], s["level"], s["parent_code"]) for code, s in stored.items()}
    known.update(in_file)
    for unit in in_file.values():
        _check_parent(unit, known, problems)
    if problems:
        problems.sort(key=lambda p: (p.row or 0))
        raise reject(problems, "区划文件")

    ancestors = _ancestor_table(known)
    now = utcnow()
    inserts, updates, unchanged = [], [], 0
    for code, unit in in_file.items():
        values = {"code": code, "name": unit.name, "level": unit.level,
                  "parent_code": unit.parent_code, **ancestors[code]}
        old = stored.get(code)
        if old is None:
            inserts.append({**values, "updated_at": now})
        elif any(old[key] != value for key, value in values.items()):
            updates.append({**values, "updated_at": now})
        else:
            unchanged += 1
    # Moving a unit moves its subtree, and a province imported above a city registry heads it: descendants
    # outside the file get fresh ancestor columns.
    moved = {u["code"] for u in updates} | {u["code"] for u in inserts}
    for code, old in stored.items():
        if code in in_file or not moved or not _descends_from(known[code].parent_code, known, moved):
            continue
        fresh = ancestors[code]
        if any(old[key] != fresh[key] for key in ANCESTOR_COLUMNS):
            updates.append({"code": code, "name": old["name"], "level": old["level"],
                            "parent_code": old["parent_code"], **fresh, "updated_at": now})

    if inserts:
        # render_nulls keeps one batch: the ORM would otherwise drop None values row by row.
        await session.execute(insert(AdminUnit).execution_options(render_nulls=True), inserts)
    if updates:
        await session.execute(update(AdminUnit), updates)
    result = ImportResult(len(inserts), len(updates), unchanged)
    if result.changed:
        await audit.record(session, actor, "units.import", "admin_unit", after=result.as_dict())
        await refresh_statistics(session, ["admin_units"])
    return result


async def import_unit_file(session: AsyncSession, path: str | Path, actor: str = "cli",
                           progress: bool = False) -> ImportResult:
    """Read a CSV/XLSX unit table and import it in the caller's transaction."""
    rows = read_table(path, UNIT_ALIASES, required=REQUIRED_COLUMNS)
    return await import_units(session, rows, actor=actor, progress=progress)
