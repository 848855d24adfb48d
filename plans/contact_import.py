"""Import 责任人 lists (区划代码 or 单位名称 with 所属区县, 姓名, 职务, 角色, 手机, 固话): every row checked, then each
unit the file names gets exactly the file's persons (see plans/list_import.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.contact_rules import LANDLINE_ENTRY, PERSON_ROLES, normalise_mobile
from fangxun.plans.contact_writes import contact_snapshot
from fangxun.plans.list_import import ListImport, plan_changes, write_changes
from fangxun.plans.models import Contact
from fangxun.plans.plan_fields import ROLE_LABELS, normalise_phone
from fangxun.plans.row_units import UNIT_ALIASES, missing_unit_columns, row_units
from fangxun.plans.tabular import Problem, chunks, progress_bar, read_table, reject

CONTACT_ALIASES = {
    **UNIT_ALIASES,
    "姓名": "name", "责任人姓名": "name", "职务": "position", "职位": "position", "职务职称": "position",
    "角色": "role", "责任人类别": "role", "类别": "role",
    "手机": "mobile", "手机号": "mobile", "手机号码": "mobile", "移动电话": "mobile",
    "固话": "landline", "固定电话": "landline", "办公电话": "landline",
    "序号": "seq", "备注": "note",
}
LABELS = {"name": "姓名", "position": "职务", "role": "角色", "mobile": "手机", "landline": "固话"}
REQUIRED = ("name", "role", "mobile")
# What a row sets on each stored record of its person (the name finds them); of the channels only the 固话 entry.
COMPARED = ("role", "position", "phone", "channels")
NAME_MAX, POSITION_MAX = 50, 100
ROLE_CHOICES = {**{key: key for key in PERSON_ROLES}, **{ROLE_LABELS[key]: key for key in PERSON_ROLES}}


def _person(number: int, row: dict, problems: list[Problem]) -> dict | None:
    """The row's person as contact values, or None with the row's problems appended."""
    found = len(problems)
    name, position = row.get("name", ""), row.get("position", "")
    if not name:
        problems.append(Problem(number, LABELS["name"], "不能为空"))
    elif len(name) > NAME_MAX:
        problems.append(Problem(number, LABELS["name"], f"不能超过 {NAME_MAX} 个字"))
    if len(position) > POSITION_MAX:
        problems.append(Problem(number, LABELS["position"], f"不能超过 {POSITION_MAX} 个字"))
    role = ROLE_CHOICES.get(row.get("role", ""))
    if role is None:
        given = row.get("role", "")
        problems.append(Problem(number, LABELS["role"],
                                f"应为“责任人”或“副责任人”：“{given}”" if given else "不能为空（责任人或副责任人）"))
    values = {"name": name, "position": position, "role": role}
    try:
        values["phone"] = normalise_mobile(row.get("mobile", ""))
        if values["phone"] is None:
            problems.append(Problem(number, LABELS["mobile"], "不能为空：责任人须有手机号，以接收短信和电话叫应"))
    except ValueError as exc:
        problems.append(Problem(number, LABELS["mobile"], str(exc)))
    try:
        values["landline"] = normalise_phone(row.get("landline", ""))
    except ValueError as exc:
        problems.append(Problem(number, LABELS["landline"], str(exc)))
    return values if len(problems) == found else None


async def plan_contact_import(session: AsyncSession, rows: list[tuple[int, dict]],
                              progress: bool = False) -> ListImport:
    """Check every row; the changes that give each named unit the file's persons, or ImportRejected."""
    problems = missing_unit_columns(rows)
    if not rows:
        problems.append(Problem(None, None, "文件没有责任人数据行"))
    if problems:
        raise reject(problems, "责任人名单")
    units = await row_units(session)
    wanted: dict[str, dict[str, tuple[int, dict]]] = {}
    for number, row in progress_bar(rows, len(rows), "导入责任人", progress):
        unit_code = units.find(number, row, problems)
        person = _person(number, row, problems)
        if unit_code is None or person is None:
            continue
        listed = wanted.setdefault(unit_code, {})
        if person["name"] in listed:
            problems.append(Problem(number, LABELS["name"], f"与第 {listed[person['name']][0]} 行重复："
                                    f"{units.label(unit_code)}已有“{person['name']}”"))
            continue
        listed[person["name"]] = (number, person)
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise reject(problems, "责任人名单")
    stored = []
    for part in chunks(sorted(wanted)):
        stored += (await session.execute(
            select(Contact.id, Contact.unit_code, Contact.plan_id, Contact.role, Contact.name, Contact.position,
                   Contact.phone, Contact.channels)
            .where(Contact.unit_code.in_(part), Contact.role.in_(PERSON_ROLES)))).all()
    return plan_changes(wanted, stored, contact_snapshot, _merge, _new_contact)


def _with_landline(channels: dict, landline: str | None) -> dict:
    """`channels` with the file's 固话 as its landline entry (none: no entry)."""
    others = {key: value for key, value in channels.items() if key != LANDLINE_ENTRY}
    return {**others, LANDLINE_ENTRY: landline} if landline else others


def _merge(before: dict, person: dict) -> dict:
    return {**before, "role": person["role"], "position": person["position"], "phone": person["phone"],
            "channels": _with_landline(before["channels"], person["landline"])}


def _new_contact(unit_code: str, person: dict) -> dict:
    return {"unit_code": unit_code, "plan_id": None, "role": person["role"], "name": person["name"],
            "position": person["position"], "phone": person["phone"],
            "channels": _with_landline({}, person["landline"])}


async def import_contact_rows(session: AsyncSession, rows: list[tuple[int, dict]], actor: str, source: str,
                              dry_run: bool = False, progress: bool = False) -> ListImport:
    """Apply the rows of a 责任人名单 in the caller's transaction (nothing written on a dry run)."""
    result = await plan_contact_import(session, rows, progress=progress)
    result.dry_run = dry_run
    if not dry_run:
        await write_changes(session, Contact, result, COMPARED, actor, "contact", source)
    return result


async def import_contact_file(session: AsyncSession, path: str | Path, actor: str = "cli", dry_run: bool = False,
                              progress: bool = False) -> ListImport:
    """Read a 责任人名单 (CSV/XLSX) and apply it in the caller's transaction (nothing written on a dry run)."""
    rows = read_table(path, CONTACT_ALIASES, required=REQUIRED)
    return await import_contact_rows(session, rows, actor, Path(path).name, dry_run=dry_run, progress=progress)
