"""Copying a warning's named subtrees into warning_units with one INSERT … SELECT per thousand named codes, at once
or, for a warning whose desks are told first, just after its first commit (the codes wait in its expansion's plan
as `units_pending` until then; whoever writes or stops the expansion next copies them, once)."""

from __future__ import annotations

from sqlalchemy import insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_queries import in_subtrees
from fangxun.warnings.tables import WarningExpansion, WarningUnit

PENDING = "units_pending"
_CHUNK = 1000


async def copy_subtrees(session: AsyncSession, warning_id: int, codes: list[str]) -> None:
    """Write the units with `codes` and every unit below them as the warning's, whole (fraction 1.0)."""
    table = WarningUnit.__table__
    for start in range(0, len(codes), _CHUNK):
        chosen = select(literal(warning_id), AdminUnit.code, AdminUnit.level, literal(1.0)) \
            .where(in_subtrees(codes[start:start + _CHUNK]))
        if start:  # subtrees of another part may hold units of this one
            chosen = chosen.where(~select(table.c.unit_code).where(
                table.c.warning_id == warning_id, table.c.unit_code == AdminUnit.code).exists())
        await session.execute(insert(table).from_select(["warning_id", "unit_code", "level", "fraction"], chosen))


async def write_pending_units(session: AsyncSession, warning_id: int) -> bool:
    """Copy the subtrees the warning's expansion still holds back, once (its row locked meanwhile); whether any
    were."""
    expansion = (await session.execute(
        select(WarningExpansion).where(WarningExpansion.warning_id == warning_id).with_for_update()
        .execution_options(populate_existing=True))).scalar_one_or_none()
    plan = dict(expansion.plan or {}) if expansion is not None else {}
    codes = plan.pop(PENDING, None)
    if not codes:
        return False
    await copy_subtrees(session, warning_id, list(codes))
    expansion.plan = plan
    await session.flush()
    return True
