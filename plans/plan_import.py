"""Import plans and their responsible persons from a table; validate all rows, then bulk upsert."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core import audit
from fangxun.core.bulk import bulk_insert
from fangxun.core.db import refresh_statistics, utcnow
from fangxun.plans import review_clock
from fangxun.plans.config import RegistrySettings
from fangxun.plans.contact_rules import PERSON_ROLES
from fangxun.plans.models import AdminUnit, Contact, Plan, PlanRevision
from fangxun.plans.plan_fields import (CONTACT_LABELS, FIELD_LABELS, FILE_KEYS, IDENTITY, PLAN_COLUMNS, PlanFields,
                                       normalise_phone)
from fangxun.plans.tabular import (ImportResult, Problem, batches, cell_text, chunks, count_records, iter_table,
                                   progress_bar, reject)

# Export-only columns: accepted in a file, never imported.
INFO_LABELS = {"unit_name": "单位名称", "next_review_due": "下次评估日期", "status": "评估状态"}
PLAN_ALIASES = {
    **{FIELD_LABELS[key]: key for key in FILE_KEYS},
    **{label: key for key, label in CONTACT_LABELS.items()},
    **{label: key for key, label in INFO_LABELS.items()},
    **{alias: key for key in FILE_KEYS for alias in PLAN_COLUMNS[key].aliases},
    "责任人姓名": "responsible_name", "责任人手机": "responsible_phone",
    "责任人联系电话": "responsible_phone",
    "副责任人姓名": "deputy_name", "副责任人手机": "deputy_phone", "副责任人联系电话": "deputy_phone",
    "序号": "seq",
}
REQUIRED_COLUMNS = ("unit_code", "kind", "title")
# Rows validated and written together: the file is never held whole.
CHUNK_ROWS = 5000
# Codes or ids in one IN list: one query per chunk (under SQLite's 32,766 bound variables).
IN_LIMIT = 10_000
CONTACT_ROLES = PERSON_ROLES  # the persons a plan file lists
CONTACT_NAME_MAX = 50
# What an import row may change of a stored plan (its unit and kind find it).
COMPARED = tuple(key for key in FILE_KEYS if key not in IDENTITY) + ("next_review_due",)
_ERROR_TEXT = {
    "missing": "不能为空",
    "string_too_short": "不能为空",
    "string_too_long": "不能超过 {max_length} 个字",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "int_parsing": "应为整数",
    "string_type": "应为文字",
}


@dataclass
class _Row:
    number: int
    values: dict  # Plan columns, ready to store
    contacts: dict[str, tuple[str, str | None] | None] = field(default_factory=dict)  # role -> person


def _reason(error: dict) -> str:
    template = _ERROR_TEXT.get(error["type"])
    if template:
        return template.format(**error.get("ctx", {}))
    return error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _column(loc: tuple) -> str | None:
    return FIELD_LABELS.get(str(loc[0])) if loc else None


def _parse_contacts(number: int, row: dict, problems: list[Problem]) -> dict:
    """role -> (name, phone) or None for the roles whose columns the file carries."""
    contacts = {}
    for role in CONTACT_ROLES:
        name_key, phone_key = f"{role}_name", f"{role}_phone"
        if name_key not in row and phone_key not in row:
            continue
        name = cell_text(row.get(name_key))
        try:
            phone = normalise_phone(cell_text(row.get(phone_key)))
        except ValueError as exc:
            problems.append(Problem(number, FIELD_LABELS[phone_key], str(exc)))
            phone = None
        if phone and not name:
            problems.append(Problem(number, FIELD_LABELS[name_key],
                                    f"填写了{FIELD_LABELS[phone_key]}，{FIELD_LABELS[name_key]}不能为空"))
        if len(name) > CONTACT_NAME_MAX:
            problems.append(Problem(number, FIELD_LABELS[name_key], f"不能超过 {CONTACT_NAME_MAX} 个字"))
        contacts[role] = (name, phone) if name else None
    return contacts


def _parse_row(number: int, row: dict, registry: RegistrySettings, problems: list[Problem]) -> _Row | None:
    """One row validated by PlanFields plus contacts; None (with problems appended) when invalid."""
    given = {key: cell_text(row.get(key)) for key in FILE_KEYS}
    # Blank cells fall back to the model's defaults (version 1.0, active, kind's cycle).
    data = {key: value for key, value in given.items() if value}
    before = len(problems)
    contacts = _parse_contacts(number, row, problems)
    try:
        fields = PlanFields(**data)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(Problem(number, _column(error["loc"]), _reason(error)))
        return None
    if len(problems) > before:
        return None
    values = fields.model_dump()
    values["review_cycle_months"] = (fields.review_cycle_months
                                     or registry.review_cycle_months[fields.kind])
    values["next_review_due"] = review_clock.next_review_due(
        fields.approved_on, fields.last_reviewed_on, values["review_cycle_months"])
    return _Row(number, values, contacts)


async def _core(session: AsyncSession, query):
    """`query` run on the session's connection: plain rows, without the ORM's result handling (a third of a
    re-import's time went there)."""
    return await (await session.connection()).execute(query)


async def _existing_units(session: AsyncSession, codes: list[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(codes, IN_LIMIT):
        found.update((await _core(session, select(AdminUnit.code).where(AdminUnit.code.in_(part)))).scalars())
    return found


async def _existing_plans(session: AsyncSession, codes: list[str]) -> dict[tuple[str, str], dict]:
    columns = [Plan.id, Plan.unit_code, Plan.kind, *(getattr(Plan, key) for key in COMPARED)]
    plans: dict[tuple[str, str], dict] = {}
    for part in chunks(codes, IN_LIMIT):
        for row in await _core(session, select(*columns).where(Plan.unit_code.in_(part))):
            plans[(row.unit_code, row.kind)] = dict(row._mapping)
    return plans


async def _existing_contacts(session: AsyncSession, plan_ids: list[int]) -> dict[tuple[int, str], list]:
    contacts: dict[tuple[int, str], list] = {}
    for part in chunks(plan_ids, IN_LIMIT):
        for row in await _core(session, select(Contact.id, Contact.plan_id, Contact.role, Contact.name, Contact.phone)
                               .where(Contact.plan_id.in_(part), Contact.role.in_(CONTACT_ROLES)).order_by(Contact.id)):
            contacts.setdefault((row.plan_id, row.role), []).append(row)
    return contacts


def _validate(rows: Iterable[tuple[int, dict]], registry: RegistrySettings, seen: dict[tuple[str, str], int],
              problems: list[Problem]) -> list[_Row]:
    """Parse rows and spot (unit, kind) pairs already seen in the file; problems appended, none raised."""
    parsed: list[_Row] = []
    for number, row in rows:
        item = _parse_row(number, row, registry, problems)
        if item is None:
            continue
        key = (item.values["unit_code"], item.values["kind"])
        if key in seen:
            problems.append(Problem(number, FIELD_LABELS["kind"],
                                    f"与第 {seen[key]} 行重复：同一单位的同类预案只能有一条"))
            continue
        seen[key] = number
        parsed.append(item)
    return parsed


def _contacts_differ(wanted: tuple[str, str | None] | None, stored: list) -> bool:
    if wanted is None:
        return bool(stored)
    return len(stored) != 1 or (stored[0].name, stored[0].phone) != wanted


@dataclass
class _Changes:
    new_rows: list[_Row] = field(default_factory=list)
    plan_updates: list[dict] = field(default_factory=list)
    revisions: list[dict] = field(default_factory=list)
    contact_deletes: list[int] = field(default_factory=list)
    contact_inserts: list[dict] = field(default_factory=list)
    unchanged: int = 0


def _diff(parsed: list[_Row], plans: dict, stored_contacts: dict, actor: str, now) -> _Changes:
    """What the rows change against the stored plans and contacts; identical rows change nothing."""
    changes = _Changes()
    for item in parsed:
        values = item.values
        old = plans.get((values["unit_code"], values["kind"]))
        if old is None:
            changes.new_rows.append(item)
            continue
        plan_changed = any(old[key] != values[key] for key in COMPARED)
        contacts_changed = False
        for role, wanted in item.contacts.items():
            stored = stored_contacts.get((old["id"], role), [])
            if _contacts_differ(wanted, stored):
                contacts_changed = True
                changes.contact_deletes.extend(c.id for c in stored)
                if wanted:
                    changes.contact_inserts.append(_contact(old["id"], values["unit_code"], role, wanted))
        if plan_changed:
            changes.plan_updates.append({"id": old["id"], **{k: values[k] for k in COMPARED},
                                         "updated_at": now})
            reviewed = values["last_reviewed_on"]
            if reviewed is not None and reviewed != old["last_reviewed_on"]:
                changes.revisions.append(_review(old["id"], reviewed, values["version"], actor, now))
        if not (plan_changed or contacts_changed):
            changes.unchanged += 1
    return changes


async def _write(session: AsyncSession, changes: _Changes, now) -> None:
    """Apply the changes with a handful of bulk statements (COPY on PostgreSQL)."""
    contact_inserts = list(changes.contact_inserts)
    if changes.new_rows:
        await bulk_insert(session, Plan.__table__,
                          [{**item.values, "created_at": now, "updated_at": now} for item in changes.new_rows])
        ids = await _plan_ids(session, sorted({item.values["unit_code"] for item in changes.new_rows}))
        for item in changes.new_rows:
            plan_id = ids[(item.values["unit_code"], item.values["kind"])]
            contact_inserts.extend(_contact(plan_id, item.values["unit_code"], role, person)
                                   for role, person in item.contacts.items() if person)
    if changes.plan_updates:
        await session.execute(update(Plan), changes.plan_updates)
    for part in chunks(changes.contact_deletes, IN_LIMIT):
        await session.execute(delete(Contact).where(Contact.id.in_(part)))
    if contact_inserts:
        await bulk_insert(session, Contact.__table__, contact_inserts)
    if changes.revisions:
        await bulk_insert(session, PlanRevision.__table__, changes.revisions)


async def _plan_ids(session: AsyncSession, codes: list[str]) -> dict[tuple[str, str], int]:
    ids: dict[tuple[str, str], int] = {}
    for part in chunks(codes, IN_LIMIT):
        result = await _core(session, select(Plan.id, Plan.unit_code, Plan.kind).where(Plan.unit_code.in_(part)))
        ids.update(((unit_code, kind), plan_id) for plan_id, unit_code, kind in result)
    return ids


async def _unknown_units(session: AsyncSession, parsed: list[_Row], problems: list[Problem]) -> None:
    known = await _existing_units(session, sorted({item.values["unit_code"] for item in parsed}))
    for item in parsed:
        code = item.values["unit_code"]
        if code not in known:
            problems.append(Problem(item.number, FIELD_LABELS["unit_code"],
                                    f"区划代码 {code} 不在行政区划表中，请先导入区划"))


async def import_plans(session: AsyncSession, rows: Iterable[tuple[int, dict]], registry: RegistrySettings,
                       actor: str = "cli", progress: bool = False, total: int | None = None) -> ImportResult:
    """Validate and write the rows chunk by chunk as they are read, in the caller's transaction; after the first
    problem nothing more is written but every row is still checked, and the problems refuse the whole file
    (the caller's rollback undoes the chunks written before)."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    now = utcnow()
    created = updated = unchanged = 0
    for batch in batches(progress_bar(rows, total, "导入预案", progress), CHUNK_ROWS):
        parsed = _validate(batch, registry, seen, problems)
        await _unknown_units(session, parsed, problems)
        if problems:
            continue
        codes = sorted({item.values["unit_code"] for item in parsed})
        plans = await _existing_plans(session, codes)
        stored_contacts = await _existing_contacts(session, [p["id"] for p in plans.values()])
        changes = _diff(parsed, plans, stored_contacts, actor, now)
        await _write(session, changes, now)
        created += len(changes.new_rows)
        unchanged += changes.unchanged
        updated += len(parsed) - len(changes.new_rows) - changes.unchanged
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise reject(problems, "预案文件")
    result = ImportResult(created, updated, unchanged)
    if result.changed:
        await audit.record(session, actor, "plans.import", "plan", after=result.as_dict())
        await refresh_statistics(session, ["plans", "contacts", "plan_revisions"])
    return result


def _contact(plan_id: int, unit_code: str, role: str, person: tuple[str, str | None]) -> dict:
    return {"plan_id": plan_id, "unit_code": unit_code, "role": role, "name": person[0],
            "phone": person[1], "position": "", "channels": {}}


def _review(plan_id: int, reviewed: date, version: str, actor: str, now) -> dict:
    return {"plan_id": plan_id, "action": "review", "revised_on": reviewed,
            "summary": "导入文件更新评估日期", "version": version, "entered_by": actor, "created_at": now}


async def import_plan_file(session: AsyncSession, path: str | Path, registry: RegistrySettings,
                           actor: str = "cli", progress: bool = False) -> ImportResult:
    """Read a CSV/XLSX plan table and import it in the caller's transaction."""
    rows = iter_table(path, PLAN_ALIASES, required=REQUIRED_COLUMNS)
    return await import_plans(session, rows, registry, actor=actor, progress=progress, total=count_records(path))
