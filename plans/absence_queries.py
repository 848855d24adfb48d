"""Reading absences: those in force at a moment (one statement, with each named AB角), and one person's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fangxun.plans.absence_rules import (KIND_LABELS, Absence, current, identity, resolved, stand_in_for, stand_in_name,
                                         unattended_name)
from fangxun.plans.contact_queries import PlanPerson, plan_persons
from fangxun.plans.contact_rules import channels_from_text, person_identity
from fangxun.plans.models import AdminUnit, Contact, ContactAbsence

A = ContactAbsence.__table__


def _absence(row) -> Absence:
    return Absence(row.id, row.contact_id, row.kind, row.starts_at, row.ends_at, row.reason, row.deputy_contact_id,
                   row.cancelled_at)


async def absences_in_force(session: AsyncSession, at: datetime) -> tuple[dict[tuple, Absence], dict[int, PlanPerson]]:
    """The absence holding at `at` for each absent person (by person_identity), and the named AB角 as PlanPersons
    (by contact id), in one statement: what routing a warning needs, however many it reaches (absences in force
    are few)."""
    deputy = aliased(Contact)
    rows = (await session.execute(
        select(A.c.id, A.c.contact_id, A.c.kind, A.c.starts_at, A.c.ends_at, A.c.reason, A.c.deputy_contact_id,
               A.c.cancelled_at, Contact.unit_code.label("absent_unit"), Contact.phone.label("absent_phone"),
               Contact.name.label("absent_name"), deputy.unit_code, deputy.role, deputy.name, deputy.phone,
               cast(deputy.channels, Text).label("channels"))
        .join(Contact, Contact.id == A.c.contact_id)
        .outerjoin(deputy, deputy.id == A.c.deputy_contact_id)
        .where(A.c.cancelled_at.is_(None), A.c.starts_at <= at, A.c.ends_at > at))).all()
    named = {row.deputy_contact_id: PlanPerson(row.deputy_contact_id, row.unit_code, row.role, row.name, row.phone,
                                               channels_from_text(row.channels))
             for row in rows if row.deputy_contact_id is not None and row.name is not None}
    away = current(((person_identity(row.absent_unit, row.absent_phone, row.absent_name), _absence(row))
                    for row in rows), at)
    return away, named


def _columns(deputy, absent_unit):
    return (A.c.id, A.c.contact_id, A.c.kind, A.c.starts_at, A.c.ends_at, A.c.reason, A.c.deputy_contact_id,
            A.c.created_by, A.c.created_at, A.c.cancelled_at, A.c.cancelled_by, Contact.name.label("contact_name"),
            Contact.role.label("contact_role"), Contact.phone.label("contact_phone"), Contact.unit_code,
            absent_unit.name.label("unit_name"),
            deputy.name.label("deputy_name"))


def absence_json(row, at: datetime | None = None) -> dict:
    """One absence as the API gives it (`in_force` against `at` when given)."""
    data = {"id": row.id, "contact_id": row.contact_id, "contact_name": row.contact_name,
            "contact_role": row.contact_role, "unit_code": row.unit_code, "unit_name": row.unit_name,
            "kind": row.kind, "kind_label": KIND_LABELS.get(row.kind, row.kind),
            "starts_at": row.starts_at.isoformat(), "ends_at": row.ends_at.isoformat(), "reason": row.reason,
            "deputy_contact_id": row.deputy_contact_id, "deputy_name": row.deputy_name,
            "created_by": row.created_by, "created_at": row.created_at.isoformat(),
            "cancelled_at": row.cancelled_at.isoformat() if row.cancelled_at else None,
            "cancelled_by": row.cancelled_by}
    if at is not None:
        data["in_force"] = row.cancelled_at is None and row.starts_at <= at < row.ends_at
    return data


def _select():
    deputy, unit = aliased(Contact), aliased(AdminUnit)
    return (select(*_columns(deputy, unit)).join(Contact, Contact.id == A.c.contact_id)
            .join(unit, unit.code == Contact.unit_code).outerjoin(deputy, deputy.id == A.c.deputy_contact_id))


async def contact_absences(session: AsyncSession, contact_id: int, at: datetime) -> list[dict]:
    """Every absence of one person, latest first, each saying whether it holds at `at`."""
    rows = (await session.execute(_select().where(A.c.contact_id == contact_id)
                                  .order_by(A.c.starts_at.desc(), A.c.id.desc()))).all()
    return [absence_json(row, at) for row in rows]


async def one_absence(session: AsyncSession, absence_id: int, at: datetime | None = None) -> dict | None:
    """One absence as the API gives it; None when there is none of that id."""
    row = (await session.execute(_select().where(A.c.id == absence_id))).first()
    return absence_json(row, at) if row is not None else None


async def away_at(session: AsyncSession, at: datetime, zone: str) -> list[dict]:
    """Who is away at `at`: each absent person's absence in force (of overlapping ones, the one that holds), with
    who stands in for them then (`stand_in_*`, null when nobody can) and the name their notifications carry."""
    rows = (await session.execute(_select().where(A.c.cancelled_at.is_(None), A.c.starts_at <= at, A.c.ends_at > at)
                                  .order_by(Contact.unit_code, A.c.contact_id, A.c.id))).all()
    away_by_identity, named = await absences_in_force(session, at)
    persons = await plan_persons(session, {row.unit_code for row in rows}) if rows else []
    by_unit: dict[str, list[PlanPerson]] = {}
    for person in persons:
        by_unit.setdefault(person.unit_code, []).append(person)
    by_identity = {identity(person): person for person in persons}
    found = []
    for row in rows:
        own = PlanPerson(row.contact_id, row.unit_code, row.contact_role, row.contact_name, row.contact_phone, {})
        absence = away_by_identity.get(identity(own))
        if absence is None or absence.id != row.id:
            continue
        person = by_identity.get(identity(own), own)
        away, known = resolved([*persons, person], away_by_identity, named)
        deputy = stand_in_for(person, away, known, by_unit)
        data = absence_json(row, at)
        data["stand_in_contact_id"] = deputy.id if deputy is not None else None
        data["stand_in_name"] = deputy.name if deputy is not None else None
        data["notified_as"] = (stand_in_name(deputy.name, [(row.contact_name, absence)], zone) if deputy is not None
                               else unattended_name(row.contact_name, absence, zone))
        found.append(data)
    return found
