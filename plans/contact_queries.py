"""Reading the persons of plans: the 责任人 and 副责任人 of units' plans in force, one row per person."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import ColumnElement, Text, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.contact_rules import PERSON_ROLES, channels_from_text, person_identity
from fangxun.plans.models import AdminUnit, Contact, Plan
from fangxun.plans.unit_queries import in_subtrees

_CHUNK = 1000


class PlanPerson(NamedTuple):
    """A responsible person of a unit's plans, with what reaches them, their unit's name and the plan they
    stand in ("" for a contact of no plan); `stands_in` names the absent persons they act for (absence_rules);
    `unit_level` their unit's level ("" where not read)."""

    id: int
    unit_code: str
    role: str
    name: str
    phone: str | None
    channels: dict
    unit_name: str = ""
    plan_title: str = ""
    stands_in: str = ""
    unit_level: str = ""


def person_of_plan() -> ColumnElement[bool]:
    """SQL condition on a contact: a 责任人 or 副责任人 of no plan or of a plan in force (not withdrawn); the query
    must outer-join its plan."""
    return Contact.role.in_(PERSON_ROLES) & or_(Contact.plan_id.is_(None), Plan.lifecycle != "withdrawn")


async def plan_persons(session: AsyncSession, unit_codes: Iterable[str]) -> list[PlanPerson]:
    """责任人 and 副责任人 of the units' plans in force (not withdrawn), one row per distinct person."""
    codes = sorted(set(unit_codes))
    rows = []
    for start in range(0, len(codes), _CHUNK):
        rows += await _person_rows(session, Contact.unit_code.in_(codes[start:start + _CHUNK]))
    return _distinct_persons(rows)


async def persons_below(session: AsyncSession, tops: Iterable[str], levels: Iterable[str]) -> list[PlanPerson]:
    """责任人 and 副责任人 of the plans in force of the units at `levels` in the subtrees of `tops` (the units are
    selected by the database, never read), one row per distinct person."""
    tops = sorted(set(tops))
    if not tops:
        return []
    return _distinct_persons(await _person_rows(session, in_subtrees(tops), AdminUnit.level.in_(sorted(set(levels)))))


async def _person_rows(session: AsyncSession, *conditions: ColumnElement[bool]) -> list:
    return list((await session.execute(
        select(Contact.id, Contact.unit_code, Contact.role, Contact.name, Contact.phone,
               cast(Contact.channels, Text).label("channels"), AdminUnit.name, Plan.title, AdminUnit.level)
        .join(AdminUnit, AdminUnit.code == Contact.unit_code)
        .outerjoin(Plan, Plan.id == Contact.plan_id)
        .where(person_of_plan(), *conditions)
        .order_by(Contact.unit_code, Contact.id))).all())


def _distinct_persons(rows: list) -> list[PlanPerson]:
    # The same person usually stands in several plans of a unit: one recipient per person.
    persons: dict[tuple[str, str], PlanPerson] = {}
    # Rows are unpacked, not read by name: that is ten times faster, and a city has ten thousand.
    for contact_id, unit_code, role, name, phone, channels_text, unit_name, plan_title, unit_level in rows:
        # Channels come as text and are parsed only when there are any (most contacts have none).
        channels = channels_from_text(channels_text)
        identity = person_identity(unit_code, phone, name)
        known = persons.get(identity)
        if known is None or (known.role != "responsible" and role == "responsible"):
            persons[identity] = PlanPerson(contact_id, unit_code, role, name, phone, channels, unit_name,
                                           plan_title or "", "", unit_level)
    return sorted(persons.values(), key=lambda r: r.id)


async def units_without_persons_below(session: AsyncSession, tops: Iterable[str], levels: Iterable[str]) -> list[str]:
    """The codes of the units at `levels` in the subtrees of `tops` with no 责任人 or 副责任人 of a plan in force,
    found by the database."""
    tops = sorted(set(tops))
    if not tops:
        return []
    person = (select(Contact.id).outerjoin(Plan, Plan.id == Contact.plan_id)
              .where(Contact.unit_code == AdminUnit.code, person_of_plan()).exists())
    rows = await session.execute(select(AdminUnit.code).where(
        in_subtrees(tops), AdminUnit.level.in_(sorted(set(levels))), ~person).order_by(AdminUnit.code))
    return list(rows.scalars())
