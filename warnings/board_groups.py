"""The duty board's groups of recipients (the department desks; district → township → village) with their counts,
and one page of recipients with the deadline that applies now, their place with its district and their 叫应 record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.errors import BadInput
from fangxun.plans.unit_search import place_labels
from fangxun.warnings.ack_record import attach_records
from fangxun.warnings.acks.reply_queries import attach_reports
from fangxun.warnings.acks.reply_rules import mask_phone, phone_key
from fangxun.warnings.board_rows import DESK_KINDS, N, U, BoardRows
from fangxun.warnings.board_rules import (COUNT_KEYS, DESKS, GROUP_LABELS, OTHER, SELF, UNIT, BoardFilter, GroupKey)
from fangxun.warnings.queries import iso, recipient_view

_ORDER = {DESKS: 0, SELF: 1, UNIT: 2, OTHER: 3}
_IDS_PER_STATEMENT = 1000

_COLUMNS = (
    N.c.id, N.c.warning_id, N.c.recipient_kind, N.c.recipient_key, N.c.recipient_name, N.c.unit_code, N.c.level,
    N.c.channel, N.c.address, N.c.purpose, N.c.status, N.c.attempts, N.c.last_error, N.c.created_at,
    N.c.next_attempt_at, N.c.delivered_at, N.c.ack_deadline, N.c.acked_at, N.c.acked_via, N.c.acked_late,
    N.c.escalation_step, N.c.escalated_from_id, N.c.escalated_at, N.c.reminders_sent)


def empty_counts() -> dict[str, int]:
    """Every count of a group at zero."""
    return dict.fromkeys(COUNT_KEYS, 0)


def add_counts(into: dict[str, int], row) -> None:
    """Add the aggregates of a grouped row (labelled by count key) to `into`."""
    for key in COUNT_KEYS:
        into[key] += int(getattr(row, key) or 0)


def _child(parent: GroupKey | None, row) -> tuple[GroupKey, bool]:
    """The group one level below `parent` a grouped row falls in, and whether some of its rows lie deeper."""
    deeper = bool(row.deeper)
    if parent is None:
        if row.recipient_kind in DESK_KINDS:
            return GroupKey(DESKS), False
        if row.district_code is None:
            return GroupKey(OTHER), False
        return GroupKey(UNIT, row.district_code), deeper
    if parent.level == "district":
        if row.township_code is None:
            return GroupKey(SELF, parent.code), False
        return GroupKey(UNIT, row.township_code), deeper
    if row.code == parent.code:
        return GroupKey(SELF, parent.code), False
    return GroupKey(UNIT, row.code), False


async def unit_names(session: AsyncSession, codes: set[str]) -> dict[str, str]:
    """Names of the units with these codes."""
    wanted = sorted(codes)
    names: dict[str, str] = {}
    for start in range(0, len(wanted), _IDS_PER_STATEMENT):
        names.update((await session.execute(select(U.c.code, U.c.name).where(
            U.c.code.in_(wanted[start:start + _IDS_PER_STATEMENT])))).all())
    return names


def _label(key: GroupKey, names: dict[str, str]) -> str:
    if key.code is None:
        return GROUP_LABELS[key.kind]
    name = names.get(key.code, key.code)
    return f"{name}（本级）" if key.kind == SELF else name


async def group_counts(session: AsyncSession, rows: BoardRows, wanted: BoardFilter,
                       parent: GroupKey | None = None) -> list[dict]:
    """The groups one level below `parent` (None: the desks, the districts, persons of unknown place) holding rows
    that match `wanted`, with the counts of those rows: desks first, then the parent's own persons, then by code."""
    if parent is not None and (parent.kind != UNIT or parent.level not in ("district", "township")):
        raise BadInput(f"parent：{parent.text} 没有下级分组", extra={"field": "parent"})
    conditions, keys, deeper = BoardRows.children(parent)
    statement = (select(*keys, *rows.count_columns(), func.sum(case((deeper, 1), else_=0)).label("deeper"))
                 .select_from(rows.source).where(*rows.where, *conditions, *rows.filtered(wanted)).group_by(*keys))
    found: dict[GroupKey, dict] = {}
    for row in await session.execute(statement):
        key, has_children = _child(parent, row)
        group = found.setdefault(key, {"counts": empty_counts(), "has_children": False})
        add_counts(group["counts"], row)
        group["has_children"] = group["has_children"] or has_children
    names = await unit_names(session, {key.code for key in found if key.code})
    return [{"key": key.text, "kind": key.kind, "code": key.code, "level": key.level, "label": _label(key, names),
             "has_children": group["has_children"], "counts": group["counts"]}
            for key, group in sorted(found.items(), key=lambda item: (_ORDER[item[0].kind], item[0].code or ""))]


async def _source_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    """Recipient names of the notifications these escalations report."""
    wanted = sorted(ids)
    names: dict[int, str] = {}
    for start in range(0, len(wanted), _IDS_PER_STATEMENT):
        names.update((await session.execute(select(N.c.id, N.c.recipient_name).where(
            N.c.id.in_(wanted[start:start + _IDS_PER_STATEMENT])))).all())
    return names


def board_item(row, now: datetime, places: dict[str, str], sources: dict[int, str]) -> dict:
    """One recipient as the board shows it: the deadline that applies now (the first one kept apart), its place with
    its district, its number masked (139****0008) and never its address."""
    item = recipient_view(row, now, {}, sources)
    address = item.pop("address") or ""
    item.pop("unit_name")  # `place` names it, with its district
    informed = bool(row.informed_now)
    item.update(ack_deadline=iso(row.deadline_now), first_deadline=iso(row.ack_deadline),
                overdue=bool(row.overdue_now), informed=informed,
                unreachable=bool(row.unreachable_now), place=places.get(row.unit_code or "", ""),
                phone_masked=mask_phone(address) if address and phone_key(address) else "")
    if informed:
        item["state"] = "informed"
    return item


async def recipient_page(session: AsyncSession, rows: BoardRows, now: datetime, wanted: BoardFilter,
                         group: GroupKey | None, page: int, per_page: int) -> dict:
    """One page of the recipients of `group` (None: all) that match `wanted`, most urgent first, each with its SMS
    reports and 叫应 record."""
    where = [*rows.where, *rows.in_group(group), *rows.filtered(wanted)]
    total = (await session.execute(select(func.count()).select_from(rows.source).where(*where))).scalar_one()
    flags = rows.flags()
    found = (await session.execute(
        select(*_COLUMNS, rows.deadline.label("deadline_now"), flags["overdue"].label("overdue_now"),
               flags["informed"].label("informed_now"), flags["unreachable"].label("unreachable_now"))
        .select_from(rows.source).where(*where)
        .order_by(rows.rank(), func.coalesce(N.c.unit_code, ""), N.c.recipient_name, N.c.id)
        .limit(per_page).offset((page - 1) * per_page))).all()
    places = await place_labels(session, {row.unit_code for row in found if row.unit_code})
    sources = await _source_names(session, {row.escalated_from_id for row in found if row.escalated_from_id})
    items = [board_item(row, now, places, sources) for row in found]
    await attach_reports(session, items)
    await attach_records(session, items)
    return {"group": group.text if group else None, "total": total, "page": page, "per_page": per_page,
            "pages": max(1, -(-total // per_page)), "items": items}
