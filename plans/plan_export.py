"""Export plans and administrative units to CSV/XLSX files that the importers read back unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans import review_clock, unit_rules
from fangxun.plans.config import PLAN_KINDS, RegistrySettings
from fangxun.plans.models import AdminUnit, Contact, Plan
from fangxun.plans.plan_fields import CONTACT_LABELS, FIELD_LABELS, FILE_KEYS, STATUS_LABELS, plan_cells
from fangxun.plans.plan_import import CONTACT_ROLES, INFO_LABELS
from fangxun.plans.tabular import table_writer
from fangxun.plans.unit_import import UNIT_LABELS
from fangxun.plans.unit_queries import in_subtrees

# Column key -> Chinese header, in file order: the importable fields, then informational ones.
PLAN_EXPORT_COLUMNS: dict[str, str] = {**{key: FIELD_LABELS[key] for key in FILE_KEYS}, **CONTACT_LABELS, **INFO_LABELS}
UNIT_EXPORT_COLUMNS: dict[str, str] = dict(UNIT_LABELS)
# Rows read from the database cursor at a time.
CHUNK_ROWS = 5000


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def _first_contact(role: str):
    """The first contact (by id) in `role` of the plan the row is about, as an aliased table to join."""
    contact = aliased(Contact, name=f"{role}_contact")
    first = (select(func.min(Contact.id)).where(Contact.plan_id == Plan.id, Contact.role == role)
             .correlate(Plan).scalar_subquery())
    return contact, first


def _kind_order():
    return case(*((Plan.kind == kind, rank) for rank, kind in enumerate(PLAN_KINDS)), else_=len(PLAN_KINDS))


async def _plan_rows(session: AsyncSession, registry: RegistrySettings, today: date,
                     root: str | None) -> AsyncIterator[list]:
    """The export rows in unit and kind order, each plan with its first 责任人 and 副责任人, read from a
    server-side cursor a chunk at a time."""
    query = select(Plan.lifecycle, Plan.next_review_due, AdminUnit.name.label("unit_name"),
                   *(getattr(Plan, key) for key in FILE_KEYS if key not in ("lifecycle", "next_review_due")))
    query = query.join(AdminUnit, AdminUnit.code == Plan.unit_code)
    for role in CONTACT_ROLES:
        contact, first = _first_contact(role)
        query = query.add_columns(contact.name.label(f"{role}_name"), contact.phone.label(f"{role}_phone"))
        query = query.outerjoin(contact, contact.id == first)
    if root is not None:
        query = query.where(in_subtrees([root]))
    query = query.order_by(Plan.unit_code, _kind_order(), Plan.kind)
    connection = await session.connection()
    result = await connection.stream(query.execution_options(yield_per=CHUNK_ROWS))
    days = registry.due_soon_days
    async for part in result.partitions():
        for plan in part:
            status = review_clock.plan_status(plan.lifecycle, plan.next_review_due, today, days)
            values = {**plan_cells(plan), "unit_name": plan.unit_name, "next_review_due": _iso(plan.next_review_due),
                      "status": STATUS_LABELS[status]}
            for role in CONTACT_ROLES:
                values[f"{role}_name"] = getattr(plan, f"{role}_name") or ""
                values[f"{role}_phone"] = getattr(plan, f"{role}_phone") or ""
            yield [values[key] for key in PLAN_EXPORT_COLUMNS]


async def export_plan_file(session: AsyncSession, path: str | Path, registry: RegistrySettings, today: date,
                           root: str | None = None) -> int:
    """Write the plans (of the `root` unit's subtree, if given) to CSV/XLSX as they are read; returns the row
    count."""
    with table_writer(path, list(PLAN_EXPORT_COLUMNS.values())) as writer:
        async for row in _plan_rows(session, registry, today, root):
            writer.append(row)
    return writer.count


async def export_unit_file(session: AsyncSession, path: str | Path) -> int:
    """Write every administrative unit (code order) to CSV/XLSX; returns the row count."""
    query = (select(AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.parent_code)
             .order_by(AdminUnit.code).execution_options(yield_per=CHUNK_ROWS))
    with table_writer(path, list(UNIT_EXPORT_COLUMNS.values())) as writer:
        async for unit in await (await session.connection()).stream(query):
            writer.append([unit.code, unit.name, unit_rules.LEVEL_LABELS.get(unit.level, unit.level),
                           unit.parent_code or ""])
    return writer.count
