"""The unit a row of a list names: by 区划代码, or by 单位名称 with 所属区县; an unknown or ambiguous name is the row's
problem (as unit_search labels units: district and township first)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.models import AdminUnit
from fangxun.plans.tabular import Problem
from fangxun.plans.unit_rules import is_valid_code, normalise_code
from fangxun.plans.unit_search import PATH_SEPARATOR

UNIT_ALIASES = {"区划代码": "unit_code", "统计用区划代码": "unit_code", "单位代码": "unit_code",
                "行政区划代码": "unit_code", "单位名称": "unit_name", "区划名称": "unit_name", "所在单位": "unit_name",
                "所属区县": "district", "区县": "district", "所属区(县)": "district", "所属区县(市)": "district"}
UNIT_LABELS = {"unit_code": "区划代码", "unit_name": "单位名称", "district": "所属区县"}
SHOWN_CANDIDATES = 3


@dataclass(frozen=True)
class _Unit:
    code: str
    name: str
    district_code: str | None
    township_code: str | None


def missing_unit_columns(rows: list[tuple[int, dict]]) -> list[Problem]:
    """The header problem of a list with neither 区划代码 nor 单位名称 (read_table cannot require one of two)."""
    if rows and "unit_code" not in rows[0][1] and "unit_name" not in rows[0][1]:
        return [Problem(1, UNIT_LABELS["unit_code"], "缺少列“区划代码”或“单位名称”（至少要有其一）")]
    return []


class RowUnits:
    """Every unit by code and by name, to find the unit of each row without a query per row."""

    def __init__(self, units: list[_Unit]):
        self.by_code = {unit.code: unit for unit in units}
        self.by_name: dict[str, list[_Unit]] = {}
        for unit in units:
            self.by_name.setdefault(unit.name, []).append(unit)

    def label(self, code: str) -> str:
        """The unit's name with its district and township ("金水区 · 新华路街道 · 王庄村")."""
        unit = self.by_code[code]
        path = [self.by_code[c].name for c in (unit.district_code, unit.township_code)
                if c and c != unit.code and c in self.by_code]
        return PATH_SEPARATOR.join([*path, unit.name])

    def _district_name(self, unit: _Unit) -> str | None:
        district = self.by_code.get(unit.district_code) if unit.district_code else None
        return district.name if district else None

    def find(self, number: int, row: dict, problems: list[Problem]) -> str | None:
        """The code of the unit `row` names; None, with the row's problem appended, when it names none or several."""
        raw_code, name, district = row.get("unit_code", ""), row.get("unit_name", ""), row.get("district", "")
        if raw_code:
            return self._by_code(number, raw_code, name, problems)
        if not name:
            problems.append(Problem(number, UNIT_LABELS["unit_code"], "区划代码和单位名称至少填写一项"))
            return None
        named = self.by_name.get(name, [])
        candidates = [u for u in named if self._district_name(u) == district] if district else named
        if not candidates:
            if named and district:
                problems.append(Problem(number, UNIT_LABELS["district"], f"{district}没有名为“{name}”的单位"))
            else:
                problems.append(Problem(number, UNIT_LABELS["unit_name"], f"找不到名为“{name}”的单位"))
            return None
        if len(candidates) > 1:
            shown = "、".join(self.label(u.code) for u in candidates[:SHOWN_CANDIDATES])
            more = " 等" if len(candidates) > SHOWN_CANDIDATES else ""
            hint = "请填写区划代码" if district else "请填写所属区县或区划代码"
            problems.append(Problem(number, UNIT_LABELS["unit_name"],
                                    f"“{name}”有 {len(candidates)} 个同名单位（{shown}{more}），{hint}"))
            return None
        return candidates[0].code

    def _by_code(self, number: int, raw_code: str, name: str, problems: list[Problem]) -> str | None:
        code = normalise_code(raw_code)
        if not is_valid_code(code):
            problems.append(Problem(number, UNIT_LABELS["unit_code"], f"区划代码应为 12 位数字：“{raw_code}”"))
        elif code not in self.by_code:
            problems.append(Problem(number, UNIT_LABELS["unit_code"], f"区划代码 {code} 不在行政区划表中"))
        elif name and name != self.by_code[code].name:
            problems.append(Problem(number, UNIT_LABELS["unit_name"],
                                    f"区划代码 {code} 是“{self.by_code[code].name}”，与单位名称“{name}”不符"))
        else:
            return code
        return None


async def row_units(session: AsyncSession) -> RowUnits:
    """Every unit of the registry, ready to find rows' units."""
    rows = await session.execute(select(AdminUnit.code, AdminUnit.name, AdminUnit.district_code,
                                        AdminUnit.township_code))
    return RowUnits([_Unit(*row) for row in rows])
