"""Registering and cancelling absences (请假/出差), each checked and audited in the caller's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.audit import record
from fangxun.core.errors import BadInput, Conflict, NotFound
from fangxun.core.row_ids import is_row_id
from fangxun.core.times import parse_local_time
from fangxun.plans.absence_rules import KIND_LABELS
from fangxun.plans.contact_rules import PERSON_ROLES
from fangxun.plans.models import Contact, ContactAbsence
from fangxun.plans.plan_fields import ROLE_LABELS

MAX_REASON = 200
# The longest absence one entry may register: a longer one is a change of 责任人, not an absence.
MAX_DAYS = 366
_FIELDS = ("kind", "starts_at", "ends_at", "reason", "deputy_contact_id")


def _field(message: str, field: str) -> BadInput:
    return BadInput(f"{field}：{message}", extra={"field": field})


def absence_time(value: object, field: str, *, end: bool) -> datetime:
    """A start or end as typed (ISO 8601, Beijing time unless zoned); a bare date as an end means the end of that
    day (--to 2026-12-09 includes the 9th)."""
    moment = parse_local_time(value, field)
    if end and isinstance(value, str) and len(value.strip()) == 10:
        moment += timedelta(days=1)
    return moment


def snapshot(absence: ContactAbsence) -> dict:
    """The audited state of an absence."""
    return {"contact_id": absence.contact_id, "kind": absence.kind, "starts_at": absence.starts_at.isoformat(),
            "ends_at": absence.ends_at.isoformat(), "reason": absence.reason,
            "deputy_contact_id": absence.deputy_contact_id,
            "cancelled_at": absence.cancelled_at.isoformat() if absence.cancelled_at else None}


async def add_absence(session: AsyncSession, contact_id: int, fields: dict, actor: str,
                      now: datetime) -> ContactAbsence:
    """Register an absence of contact `contact_id` from `fields` (kind, starts_at, ends_at, reason,
    deputy_contact_id); BadInput naming the field for anything wrong, nothing written then."""
    unknown = sorted(set(fields) - set(_FIELDS))
    if unknown:
        raise _field("不是可填写的字段（可填：" + "、".join(_FIELDS) + "）", unknown[0])
    person = await session.get(Contact, contact_id)
    if person is None:
        raise NotFound(f"联系人 {contact_id} 不存在")
    if person.role not in PERSON_ROLES:
        raise BadInput(f"联系人 {contact_id}（{person.name}）是{ROLE_LABELS.get(person.role, person.role)}，"
                       "只有责任人和副责任人登记请假、出差", extra={"field": "contact_id"})
    kind = fields.get("kind")
    if not isinstance(kind, str) or kind not in KIND_LABELS:
        raise _field(f"应为 leave（请假）或 trip（出差），收到 {str(kind)[:20]!r}", "kind")
    starts_at = absence_time(fields.get("starts_at"), "starts_at", end=False)
    ends_at = absence_time(fields.get("ends_at"), "ends_at", end=True)
    if ends_at <= starts_at:
        raise _field("结束时间应晚于开始时间", "ends_at")
    if ends_at - starts_at > timedelta(days=MAX_DAYS):
        raise _field(f"一次登记最长 {MAX_DAYS} 天；长期不在岗请更换责任人", "ends_at")
    reason = fields.get("reason", "")
    if not isinstance(reason, str) or len(reason.strip()) > MAX_REASON:
        raise _field(f"应为不超过 {MAX_REASON} 字的文本", "reason")
    deputy_id = fields.get("deputy_contact_id")
    if deputy_id is not None:
        if isinstance(deputy_id, bool) or not isinstance(deputy_id, int):
            raise _field("应为联系人编号（整数），不指定时由本单位副责任人代理", "deputy_contact_id")
        if deputy_id == contact_id:
            raise _field("代理人（AB角）不能是请假者本人", "deputy_contact_id")
        deputy = await session.get(Contact, deputy_id) if is_row_id(deputy_id) else None
        if deputy is None:
            raise _field(f"联系人 {deputy_id} 不存在", "deputy_contact_id")
    absence = ContactAbsence(contact_id=contact_id, kind=kind, starts_at=starts_at, ends_at=ends_at,
                             reason=reason.strip(), deputy_contact_id=deputy_id, created_by=actor, created_at=now)
    session.add(absence)
    await session.flush()
    await record(session, actor, "absence.create", "contact_absence", absence.id, after=snapshot(absence))
    return absence


async def cancel_absence(session: AsyncSession, absence_id: int, actor: str, now: datetime,
                         contact_id: int | None = None, reason: object = "") -> ContactAbsence:
    """Cancel an absence (it stays on record, the `reason` in its audit); from then on the person gets their own
    notifications again."""
    if not isinstance(reason, str) or len(reason.strip()) > MAX_REASON:
        raise _field(f"应为不超过 {MAX_REASON} 字的文本", "reason")
    absence = (await session.execute(select(ContactAbsence).where(ContactAbsence.id == absence_id)
                                     .with_for_update())).scalar_one_or_none()
    if absence is None or (contact_id is not None and absence.contact_id != contact_id):
        raise NotFound(f"外出登记 {absence_id} 不存在" + (f"（联系人 {contact_id}）" if contact_id is not None else ""))
    if absence.cancelled_at is not None:
        raise Conflict(f"外出登记 {absence_id} 已于 {absence.cancelled_at:%Y-%m-%d %H:%M} UTC 取消")
    before = snapshot(absence)
    absence.cancelled_at, absence.cancelled_by = now, actor
    await session.flush()
    after = {**snapshot(absence), **({"cancel_reason": reason.strip()} if reason.strip() else {})}
    await record(session, actor, "absence.cancel", "contact_absence", absence.id, before=before, after=after)
    return absence
