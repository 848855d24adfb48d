"""Finding units by name, and naming a unit so that it cannot be mistaken: its district and township go first."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.errors import BadInput
from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_rules import LEVEL_LABELS, LEVELS

MAX_QUERY_CHARS = 50
# Separator between the places of a path: "金水区 · 新华路街道".
PATH_SEPARATOR = " · "


def _like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with LIKE's own characters taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def _names(session: AsyncSession, codes: Iterable[str | None]) -> dict[str, str]:
    """Names of the units with these codes (absent codes are skipped)."""
    wanted = sorted({code for code in codes if code})
    names: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        rows = await session.execute(select(AdminUnit.code, AdminUnit.name)
                                     .where(AdminUnit.code.in_(wanted[start:start + 500])))
        names.update({code: name for code, name in rows})
    return names


def _place(unit: AdminUnit, names: dict[str, str]) -> dict:
    """One unit as a search hit: code, name, level, its district and township, and a label with them."""
    district = names.get(unit.district_code) if unit.district_code not in (None, unit.code) else None
    township = names.get(unit.township_code) if unit.township_code not in (None, unit.code) else None
    path = [part for part in (district, township) if part]
    return {
        "code": unit.code,
        "name": unit.name,
        "level": unit.level,
        "level_label": LEVEL_LABELS.get(unit.level, unit.level),
        "district": district,
        "township": township,
        "label": PATH_SEPARATOR.join([*path, unit.name]),
    }


async def search_units(session: AsyncSession, query: str, *, level: str | None = None,
                       limit: int = 20) -> list[dict]:
    """Units whose name contains `query` (or whose code starts with it), exact names and higher levels first."""
    text = (query or "").strip()
    if not text:
        return []
    if len(text) > MAX_QUERY_CHARS:
        raise BadInput(f"q：搜索词不能超过 {MAX_QUERY_CHARS} 个字", extra={"field": "q"})
    if level is not None and level not in LEVELS:
        raise BadInput(f"level：未知级别 {level!r}，应为 {'、'.join(LEVELS)} 之一", extra={"field": "level"})
    matches = AdminUnit.name.like(_like_pattern(text), escape="\\")
    if text.isdigit():
        matches = or_(matches, AdminUnit.code.startswith(text, autoescape=True))
    depth = case(*((AdminUnit.level == name, rank) for rank, name in enumerate(LEVELS)), else_=len(LEVELS))
    statement = (select(AdminUnit).where(matches)
                 .order_by((AdminUnit.name != text), depth, func.length(AdminUnit.name), AdminUnit.code)
                 .limit(limit))
    if level is not None:
        statement = statement.where(AdminUnit.level == level)
    units = list((await session.execute(statement)).scalars())
    names = await _names(session, [code for unit in units for code in (unit.district_code, unit.township_code)])
    return [_place(unit, names) for unit in units]


async def place_labels(session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    """For each code held, its name with the district and township above it ("金水区 · 新华路街道")."""
    wanted = sorted(set(codes))
    units: list[AdminUnit] = []
    for start in range(0, len(wanted), 500):
        units += (await session.execute(select(AdminUnit).where(AdminUnit.code.in_(wanted[start:start + 500])))
                  ).scalars().all()
    names = await _names(session, [code for unit in units for code in (unit.district_code, unit.township_code)])
    return {unit.code: _place(unit, names)["label"] for unit in units}
