"""Reading the unit hierarchy: one unit, subtrees, the tree below a unit."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fangxun.core.errors import NotFound
from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_rules import ANCESTOR_LEVELS, LEVELS
from fangxun.plans.views import unit_view


async def get_unit(session: AsyncSession, code: str) -> AdminUnit:
    """The unit with `code`, or NotFound."""
    unit = await session.get(AdminUnit, code)
    if unit is None:
        raise NotFound(f"区划代码 {code} 不存在")
    return unit


async def top_unit(session: AsyncSession) -> AdminUnit | None:
    """The registry's top: its province, else its (first) city, else the highest unit held; None when empty."""
    for level in LEVELS:
        unit = (await session.execute(
            select(AdminUnit).where(AdminUnit.level == level).order_by(AdminUnit.code).limit(1)
        )).scalar_one_or_none()
        if unit is not None:
            return unit
    return None


async def root_unit(session: AsyncSession, code: str | None) -> AdminUnit:
    """The unit named by `code`, or the registry's top when no code is given."""
    if code:
        return await get_unit(session, code)
    unit = await top_unit(session)
    if unit is None:
        raise NotFound("登记库中还没有行政区划，请先导入区划或运行 fangxun demo load")
    return unit


# The top codes of each database (by its engine: tests give each schema an engine of its own under one URL) with the
# version of the units they were read at.
_tops: WeakKeyDictionary = WeakKeyDictionary()


async def units_version(session: AsyncSession, *conditions: ColumnElement[bool]) -> tuple:
    """What changes whenever a unit (of those `conditions` select) is added, removed or edited: (count, latest
    updated_at). Caches of what is read from the units compare it to know they are current."""
    count, latest = (await session.execute(
        select(func.count(), func.max(AdminUnit.updated_at)).where(*conditions))).one()
    return int(count), latest.isoformat() if latest else None


async def top_codes(session: AsyncSession) -> list[str]:
    """The registry's top units (the jurisdiction): units whose parent is not held (read again only after the
    units changed: the anti-join costs a warning's intake a few hundred milliseconds on a province)."""
    key = session.bind.sync_engine
    version = await units_version(session)
    cached = _tops.get(key)
    if cached is not None and cached[0] == version:
        return list(cached[1])
    parent = aliased(AdminUnit)
    held = select(parent.code).where(parent.code == AdminUnit.parent_code).exists()
    codes = list((await session.execute(
        select(AdminUnit.code).where(or_(AdminUnit.parent_code.is_(None), ~held)).order_by(AdminUnit.code)
    )).scalars())
    _tops[key] = (version, codes)
    return list(codes)


def in_subtree(root: AdminUnit) -> ColumnElement[bool]:
    """SQL condition selecting `root` and every unit below it."""
    if root.level == "village":
        return AdminUnit.code == root.code
    return or_(AdminUnit.code == root.code, getattr(AdminUnit, f"{root.level}_code") == root.code)


def in_subtrees(codes) -> ColumnElement[bool]:
    """SQL condition selecting the units with these codes and every unit below any of them."""
    codes = list(codes)
    return or_(AdminUnit.code.in_(codes),
               *(getattr(AdminUnit, f"{level}_code").in_(codes) for level in ANCESTOR_LEVELS))


async def unit_tree(session: AsyncSession, root_code: str | None, depth: int = 1) -> dict:
    """`root` with its descendants down to `depth` levels, as nested dicts with child counts."""
    root = await root_unit(session, root_code)
    levels = LEVELS[LEVELS.index(root.level):LEVELS.index(root.level) + depth + 1]
    units = (await session.execute(
        select(AdminUnit).where(in_subtree(root), AdminUnit.level.in_(levels)).order_by(AdminUnit.code)
    )).scalars().all()
    nodes = {u.code: {**unit_view(u), "children": []} for u in units}
    for unit in units:
        if unit.code != root.code and unit.parent_code in nodes:
            nodes[unit.parent_code]["children"].append(nodes[unit.code])
    return nodes[root.code]
