"""Import a desk's duty roster from the bureau's spreadsheet; every row checked before anything is written."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.audit import record
from fangxun.core.errors import BadInput
from fangxun.plans.plan_fields import normalise_phone
from fangxun.plans.tabular import ImportResult, Problem, read_table, reject
from fangxun.warnings.duty.roster_rules import CITY_DESK, DutyShift, canonical_shift, overlapping_shift
from fangxun.warnings.duty.tables import DutyRosterEntry

ALIASES = {"日期": "duty_date", "值班日期": "duty_date", "班次": "shift", "值班员": "officer_name",
           "值班人员": "officer_name", "值班员电话": "officer_phone", "带班领导": "leader_name",
           "带班领导电话": "leader_phone"}
# The bureaus' sheet has two columns headed 电话: the 值班员's, then the 带班领导's.
REPEATED = {"电话": ("officer_phone", "leader_phone")}
REQUIRED = ("duty_date", "officer_name", "officer_phone", "leader_name", "leader_phone")
LABELS = {"duty_date": "日期", "shift": "班次", "officer_name": "值班员", "officer_phone": "电话（值班员）",
          "leader_name": "带班领导", "leader_phone": "电话（带班领导）"}
NAME_MAX = 50
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def desk_names(departments: dict) -> dict[str, str]:
    """Desk key -> name: the city duty room, then each configured department's desk."""
    return {CITY_DESK: "市防指值班室", **{key: dept.desk.name for key, dept in departments.items()}}


def parse_date(text: str) -> date:
    """2026-07-01, 2026/7/1 or 2026年7月1日 as a date; ValueError in Chinese otherwise."""
    match = _DATE.match(text.strip())
    try:
        if match:
            return date(*(int(part) for part in match.groups()))
    except ValueError:
        pass
    raise ValueError(f"日期“{text}”无效，应为 2026-07-01" if text else "不能为空")


def _line(entry) -> dict:
    """A roster line as the audit keeps it."""
    return {"duty_date": entry.duty_date.isoformat(), "shift": entry.shift, "officer_name": entry.officer_name,
            "officer_phone": entry.officer_phone, "leader_name": entry.leader_name, "leader_phone": entry.leader_phone}


def parse_row(desk: str, number: int, row: dict, problems: list[Problem]) -> DutyShift | None:
    """One row as a DutyShift, or None with its problems (each naming the field) added to `problems`."""
    found = len(problems)
    values: dict = {}
    try:
        values["duty_date"] = parse_date(row.get("duty_date", ""))
    except ValueError as exc:
        problems.append(Problem(number, LABELS["duty_date"], str(exc)))
    try:
        values["shift"] = canonical_shift(row.get("shift", ""))
    except ValueError as exc:
        problems.append(Problem(number, LABELS["shift"], str(exc)))
    for key in ("officer_name", "leader_name"):
        text = row.get(key, "")
        if not text:
            problems.append(Problem(number, LABELS[key], "不能为空"))
        elif len(text) > NAME_MAX:
            problems.append(Problem(number, LABELS[key], f"不能超过 {NAME_MAX} 个字"))
        values[key] = text
    for key in ("officer_phone", "leader_phone"):
        try:
            values[key] = normalise_phone(row.get(key, ""))
        except ValueError as exc:
            problems.append(Problem(number, LABELS[key], str(exc)))
            continue
        if not values[key]:
            problems.append(Problem(number, LABELS[key], "不能为空"))
    return DutyShift(desk=desk, **values) if len(problems) == found else None


def parse_roster(desk: str, rows: list[tuple[int, dict]]) -> list[DutyShift]:
    """Every row as a DutyShift, or ImportRejected naming each bad row and field (overlaps included)."""
    problems: list[Problem] = []
    shifts: list[DutyShift] = []
    taken: dict[date, list[tuple[str, int]]] = {}
    for number, row in rows:
        entry = parse_row(desk, number, row, problems)
        if entry is None:
            continue
        same_day = taken.setdefault(entry.duty_date, [])
        clash = overlapping_shift(entry.shift, [shift for shift, _ in same_day])
        if clash:
            other = next(line for shift, line in same_day if shift == clash)
            problems.append(Problem(number, LABELS["shift"],
                                    f"{entry.duty_date} 的{entry.shift}与第 {other} 行的{clash}重叠"))
            continue
        same_day.append((entry.shift, number))
        shifts.append(entry)
    if not rows:
        problems.append(Problem(None, None, "文件没有值班数据行"))
    if problems:
        raise reject(problems, "值班表")
    return shifts


async def import_roster_file(session: AsyncSession, path: Path, desk: str, departments: dict,
                             actor: str = "cli") -> ImportResult:
    """Replace `desk`'s roster for the days the file lists; all rows or none (the caller commits); audited
    (duty.import) with the lines replaced and the lines written."""
    if desk not in desk_names(departments):
        choices = "、".join(desk_names(departments))
        raise BadInput(f"未知值班席位“{desk}”（可选 {choices}）")
    shifts = parse_roster(desk, read_table(path, ALIASES, REQUIRED, REPEATED))
    days = sorted({entry.duty_date for entry in shifts})
    where = (DutyRosterEntry.desk == desk, DutyRosterEntry.duty_date.in_(days))
    before = [_line(row) for row in (await session.execute(select(DutyRosterEntry).where(*where)
                                                           .order_by(DutyRosterEntry.duty_date))).scalars()]
    replaced = await session.execute(delete(DutyRosterEntry).where(*where))
    await session.execute(insert(DutyRosterEntry), [
        {"desk": entry.desk, "duty_date": entry.duty_date, "shift": entry.shift,
         "officer_name": entry.officer_name, "officer_phone": entry.officer_phone,
         "leader_name": entry.leader_name, "leader_phone": entry.leader_phone} for entry in shifts])
    replaced_count = replaced.rowcount or 0
    await record(session, actor, "duty.import", "duty_roster", desk, before={"lines": before},
                 after={"file": path.name, "lines": [_line(entry) for entry in shifts]})
    return ImportResult(created=max(len(shifts) - replaced_count, 0), updated=min(replaced_count, len(shifts)),
                        unchanged=0)
