"""The duty roster line by line, as the API reads and edits it: list, put and delete one line, each change audited."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.audit import record
from fangxun.core.errors import BadInput, Conflict, NotFound
from fangxun.plans.tabular import Problem
from fangxun.warnings.duty.roster_import import LABELS, desk_names, parse_row
from fangxun.warnings.duty.roster_rules import DutyShift, canonical_shift, overlapping_shift
from fangxun.warnings.duty.tables import DutyRosterEntry

PERSON_FIELDS = ("officer_name", "officer_phone", "leader_name", "leader_phone")
MAX_DAYS = 366


def line_json(entry: DutyRosterEntry | DutyShift | None, names: dict[str, str], desk: str | None = None) -> dict:
    """A roster line as plain JSON (every field None when nobody is on duty at `desk`)."""
    desk = entry.desk if entry is not None else desk
    return {"desk": desk, "desk_name": names.get(desk, desk),
            "duty_date": entry.duty_date.isoformat() if entry else None, "shift": entry.shift if entry else None,
            **{key: getattr(entry, key) if entry else None for key in PERSON_FIELDS}}


def check_desk(desk: str, departments: dict) -> None:
    """BadInput naming the known desks when `desk` is none of them."""
    names = desk_names(departments)
    if desk not in names:
        raise BadInput(f"desk：未知值班席位“{desk}”（可选 {'、'.join(names)}）", extra={"field": "desk"})


def check_shift(text: str) -> str:
    """The 班次 as one of roster_rules.SHIFTS; BadInput naming the field otherwise."""
    try:
        return canonical_shift(text)
    except ValueError as exc:
        raise BadInput(f"shift（班次）：{exc}", extra={"field": "shift"}) from None


async def list_lines(session: AsyncSession, desk: str | None, start: date, end: date) -> list[DutyRosterEntry]:
    """The roster lines of `desk` (every desk: None) with duty days from `start` to `end`, by day, desk and 班次."""
    if end < start:
        raise BadInput("to：结束日期早于开始日期", extra={"field": "to"})
    if (end - start).days > MAX_DAYS:
        raise BadInput(f"to：一次最多查询 {MAX_DAYS} 天", extra={"field": "to"})
    query = select(DutyRosterEntry).where(DutyRosterEntry.duty_date.between(start, end))
    if desk is not None:
        query = query.where(DutyRosterEntry.desk == desk)
    return list((await session.execute(query.order_by(DutyRosterEntry.duty_date, DutyRosterEntry.desk,
                                                      DutyRosterEntry.shift))).scalars())


def _person_fields(desk: str, day: date, shift: str, body: dict) -> DutyShift:
    """The body's 值班员 and 带班领导 checked as an imported row is; BadInput naming each bad field."""
    row = {"duty_date": day.isoformat(), "shift": shift}
    problems: list[Problem] = []
    for key in PERSON_FIELDS:
        value = body.get(key, "")
        if isinstance(value, int) and not isinstance(value, bool) and key.endswith("phone"):
            value = str(value)
        if not isinstance(value, str):
            problems.append(Problem(None, LABELS[key], "应为文本"))
            continue
        row[key] = value.strip()
    unknown = sorted(set(body) - set(PERSON_FIELDS))
    entry = parse_row(desk, 0, row, problems) if not problems else None
    if unknown:
        problems.append(Problem(None, unknown[0], "未知字段（可用 " + "、".join(PERSON_FIELDS) + "）"))
    if problems:
        keys = {label: key for key, label in LABELS.items()}
        errors = [{"field": keys.get(p.column, p.column), "detail": f"{p.column}：{p.reason}"} for p in problems]
        raise BadInput("；".join(f"{error['field']}（{error['detail']}）" for error in errors),
                       extra={"field": errors[0]["field"], "errors": errors})
    return entry


def _snapshot(entry: DutyRosterEntry) -> dict:
    return {"desk": entry.desk, "duty_date": entry.duty_date.isoformat(), "shift": entry.shift,
            **{key: getattr(entry, key) for key in PERSON_FIELDS}}


async def put_line(session: AsyncSession, desk: str, day: date, shift: str, body: dict, departments: dict,
                   actor: str) -> tuple[DutyRosterEntry, bool]:
    """Set who is on duty at `desk` for one 班次 of one day (created: True when new); a 班次 overlapping another
    line of that day is refused (delete that one first). Audited with before and after."""
    check_desk(desk, departments)
    shift = check_shift(shift)
    wanted = _person_fields(desk, day, shift, body)
    same_day = list((await session.execute(select(DutyRosterEntry).where(
        DutyRosterEntry.desk == desk, DutyRosterEntry.duty_date == day).with_for_update())).scalars())
    clash = overlapping_shift(shift, [line.shift for line in same_day if line.shift != shift])
    if clash:
        raise Conflict(f"{day} 的{shift}与已有的{clash}重叠：请先删除{clash}", extra={"field": "shift"})
    entry = next((line for line in same_day if line.shift == shift), None)
    before = _snapshot(entry) if entry is not None else None
    if entry is None:
        entry = DutyRosterEntry(desk=desk, duty_date=day, shift=shift)
        session.add(entry)
    for key in PERSON_FIELDS:
        setattr(entry, key, getattr(wanted, key))
    await session.flush()
    await record(session, actor, "duty.roster.put", "duty_roster", entry.id, before=before, after=_snapshot(entry))
    return entry, before is None


async def delete_line(session: AsyncSession, desk: str, day: date, shift: str, departments: dict,
                      actor: str) -> DutyRosterEntry:
    """Remove one roster line (NotFound when there is none); audited with what it was."""
    check_desk(desk, departments)
    shift = check_shift(shift)
    entry = (await session.execute(select(DutyRosterEntry).where(
        DutyRosterEntry.desk == desk, DutyRosterEntry.duty_date == day, DutyRosterEntry.shift == shift)
        .with_for_update())).scalar_one_or_none()
    if entry is None:
        raise NotFound(f"{desk_names(departments)[desk]} {day} 没有{shift}的值班安排")
    before = _snapshot(entry)
    await session.delete(entry)
    await session.flush()
    await record(session, actor, "duty.roster.delete", "duty_roster", entry.id, before=before)
    return entry
