"""Plain-dict views of registry rows for the API, pages and exports."""

from __future__ import annotations

from datetime import date

from fangxun.plans.models import AdminUnit, Contact, Plan, PlanRevision, Shelter
from fangxun.plans.plan_fields import KIND_LABELS, ROLE_LABELS, STATUS_LABELS, format_phone, plan_values
from fangxun.plans.review_clock import plan_status
from fangxun.plans.unit_rules import LEVEL_LABELS


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def unit_view(unit: AdminUnit) -> dict:
    """A unit's identity."""
    return {"code": unit.code, "name": unit.name, "level": unit.level,
            "level_label": LEVEL_LABELS[unit.level], "parent_code": unit.parent_code}


def plan_view(plan: Plan, today: date, due_soon_days: int, unit_name: str | None = None) -> dict:
    """A plan with its derived status."""
    status = plan_status(plan.lifecycle, plan.next_review_due, today, due_soon_days)
    view = {
        "id": plan.id, **plan_values(plan), "kind_label": KIND_LABELS[plan.kind],
        "next_review_due": _iso(plan.next_review_due), "status": status, "status_label": STATUS_LABELS[status],
        "updated_at": _iso(plan.updated_at),
    }
    if unit_name is not None:
        view["unit_name"] = unit_name
    return view


def revision_view(revision: PlanRevision) -> dict:
    """One history entry of a plan."""
    return {"id": revision.id, "action": revision.action, "revised_on": _iso(revision.revised_on),
            "summary": revision.summary, "version": revision.version, "entered_by": revision.entered_by,
            "created_at": _iso(revision.created_at)}


def contact_view(contact: Contact) -> dict:
    """A responsible person or duty desk."""
    return {"id": contact.id, "unit_code": contact.unit_code, "plan_id": contact.plan_id,
            "role": contact.role, "role_label": ROLE_LABELS.get(contact.role, contact.role),
            "name": contact.name, "position": contact.position, "phone": contact.phone,
            "phone_display": format_phone(contact.phone), "channels": contact.channels or {}}


def shelter_view(shelter: Shelter) -> dict:
    """An evacuation shelter."""
    return {"id": shelter.id, "unit_code": shelter.unit_code, "plan_id": shelter.plan_id, "name": shelter.name,
            "capacity": shelter.capacity, "address": shelter.address, "lon": shelter.lon, "lat": shelter.lat}
