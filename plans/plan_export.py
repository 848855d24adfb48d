"""Export plans and administrative units to CSV/XLSX files that the importers read back unchanged."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans import review_clock, unit_rules
from fangxun.plans.config import PLAN_KINDS, RegistrySettings
from fangxun.plans.models import AdminUnit, Contact, Plan
from fangxun.plans.plan_fields import CONTACT_LABELS, FIELD_LABELS, FILE_KEYS, STATUS_LABELS, plan_cells
from fangxun.plans.plan_import import CONTACT_ROLES, INFO_LABELS
from fangxun.plans.tabular import write_table
from fangxun.plans.unit_import import UNIT_LABELS
from fangxun.plans.unit_queries import in_subtrees

# Column key -> Chinese header, in file order: the importable fields, then informational ones.
PLAN_EXPORT_COLUMNS: dict[str, str] = {**{key: FIELD_LABELS[key] for key in FILE_KEYS}, **CONTACT_LABELS, **INFO_LABELS}
UNIT_EXPORT_COLUMNS: dict[str, str] = dict(UNIT_LABELS)


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


async def _plan_contacts(session: AsyncSession, root: str | None) -> dict[tuple[int, str], Row]:
    """The first responsible person and deputy (by id) of each exported plan."""
    query = (select(Contact.plan_id, Contact.role, Contact.name, Contact.phone)
             .join(Plan, Plan.id == Contact.plan_id).join(AdminUnit, AdminUnit.code == Plan.unit_code)
             .where(Contact.role.in_(CONTACT_ROLES)).order_by(Contact.id))
    if root is not None:
        query = query.where(in_subtrees([root]))
    first: dict[tuple[int, str], Row] = {}
    for row in await session.execute(query):
        first.setdefault((row.plan_id, row.role), row)
    return first


async def export_plan_file(session: AsyncSession, path: str | Path, registry: RegistrySettings, today: date,
                           root: str | None = None) -> int:
    """Write the plans (of the `root` unit's subtree, if given) to CSV/XLSX; returns the row count."""
    query = select(Plan, AdminUnit.name).join(AdminUnit, AdminUnit.code == Plan.unit_code)
    if root is not None:
        query = query.where(in_subtrees([root]))
    found = (await session.execute(query)).all()
    found.sort(key=lambda r: (r.Plan.unit_code, PLAN_KINDS.index(r.Plan.kind)
                              if r.Plan.kind in PLAN_KINDS else len(PLAN_KINDS), r.Plan.kind))
    contacts = await _plan_contacts(session, root)
    rows = []
    for plan, unit_name in found:
        status = review_clock.plan_status(plan.lifecycle, plan.next_review_due, today,
                                          registry.due_soon_days)
        person = {role: contacts.get((plan.id, role)) for role in CONTACT_ROLES}
        values = {**plan_cells(plan), "unit_name": unit_name, "next_review_due": _iso(plan.next_review_due),
                  "status": STATUS_LABELS[status]}
        for role, contact in person.items():
            values[f"{role}_name"] = contact.name if contact else ""
            values[f"{role}_phone"] = (contact.phone or "") if contact else ""
        rows.append([values[key] for key in PLAN_EXPORT_COLUMNS])
    write_table(path, list(PLAN_EXPORT_COLUMNS.values()), rows)
    return len(rows)


async def export_unit_file(session: AsyncSession, path: str | Path) -> int:
    """Write every administrative unit (code order) to CSV/XLSX; returns the row count."""
    result = await session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.parent_code)
        .order_by(AdminUnit.code))
    rows = [[u.code, u.name, unit_rules.LEVEL_LABELS.get(u.level, u.level), u.parent_code or ""]
            for u in result]
    write_table(path, list(UNIT_EXPORT_COLUMNS.values()), rows)
    return len(rows)
