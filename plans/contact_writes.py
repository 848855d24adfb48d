"""Changing one contact: add, edit, delete; each change audited with the contact before and after."""

from __future__ import annotations

from pydantic import Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.audit import record
from fangxun.core.errors import BadInput, NotFound
from fangxun.plans.contact_rules import LANDLINE_ENTRY
from fangxun.plans.models import AdminUnit, Contact, Plan
from fangxun.plans.plan_fields import ContactFields, UnitCode, normalise_phone

# What an edit may change: the person, not where they belong (delete and add for another unit or plan).
UPDATABLE = ("role", "name", "position", "phone", "channels")
SNAPSHOT = ("unit_code", "plan_id", "role", "name", "position", "phone", "channels")


class ContactCreate(ContactFields):
    """A contact as added through the API: a person of a unit (and optionally of one of its plans); a 固话 is the
    `landline` entry of its channels."""

    unit_code: UnitCode
    plan_id: int | None = Field(None, ge=1, le=2**31 - 1)

    @field_validator("channels")
    @classmethod
    def _landline(cls, channels: dict[str, str]) -> dict[str, str]:
        if LANDLINE_ENTRY not in channels:
            return channels
        try:
            landline = normalise_phone(channels[LANDLINE_ENTRY])
        except ValueError as exc:
            raise ValueError(f"{LANDLINE_ENTRY}：{exc}") from None
        others = {key: value for key, value in channels.items() if key != LANDLINE_ENTRY}
        return {**others, LANDLINE_ENTRY: landline} if landline else others


def contact_snapshot(contact) -> dict:
    """The audited fields of a contact (a Contact or any row with those attributes)."""
    values = {name: getattr(contact, name) for name in SNAPSHOT}
    values["channels"] = dict(values["channels"] or {})
    return values


async def get_contact(session: AsyncSession, contact_id: int) -> Contact:
    """The contact with this id; NotFound otherwise."""
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"联系人 {contact_id} 不存在")
    return contact


async def create_contact(session: AsyncSession, fields: ContactCreate, actor: str) -> Contact:
    """Add a contact to an existing unit (and plan of that unit)."""
    if await session.get(AdminUnit, fields.unit_code) is None:
        raise BadInput(f"unit_code：区划代码 {fields.unit_code} 不存在", extra={"field": "unit_code"})
    if fields.plan_id is not None:
        plan_unit = (await session.execute(select(Plan.unit_code).where(Plan.id == fields.plan_id))).scalar()
        if plan_unit != fields.unit_code:
            raise BadInput(f"plan_id：预案 {fields.plan_id} 不是区划 {fields.unit_code} 的预案",
                           extra={"field": "plan_id"})
    contact = Contact(**fields.model_dump())
    session.add(contact)
    await session.flush()
    await record(session, actor, "contact.create", "contact", contact.id, after=contact_snapshot(contact))
    return contact


async def update_contact(session: AsyncSession, contact_id: int, changes: dict, actor: str) -> Contact:
    """Change some fields of a contact (validated as a whole, as when it was added)."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise BadInput(f"不能修改的字段：{', '.join(sorted(unknown))}（可修改：{', '.join(UPDATABLE)}）",
                       extra={"field": sorted(unknown)[0]})
    contact = await get_contact(session, contact_id)
    before = contact_snapshot(contact)
    merged = ContactCreate(**{**before, **changes})
    for key in changes:
        setattr(contact, key, getattr(merged, key))
    await session.flush()
    after = contact_snapshot(contact)
    if after != before:
        await record(session, actor, "contact.update", "contact", contact.id, before=before, after=after)
    return contact


async def delete_contact(session: AsyncSession, contact_id: int, actor: str) -> dict:
    """Delete a contact; its last state stays in the audit record."""
    contact = await get_contact(session, contact_id)
    before = contact_snapshot(contact)
    await session.delete(contact)
    await session.flush()
    await record(session, actor, "contact.delete", "contact", contact_id, before=before)
    return before


async def unit_contacts(session: AsyncSession, code: str) -> list[Contact]:
    """The contacts of one unit (of its plans and of none), plan by plan; NotFound for an unknown unit."""
    if await session.get(AdminUnit, code) is None:
        raise NotFound(f"区划 {code} 不存在")
    return list((await session.execute(
        select(Contact).where(Contact.unit_code == code).order_by(Contact.plan_id, Contact.id))).scalars())
