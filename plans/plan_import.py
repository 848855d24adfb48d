"""Import plans and their responsible persons from a table; validate all rows, then bulk upsert."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

from sqlalchemy import ARRAY, any_, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from fangxun.core import audit
from fangxun.core.bulk import bulk_insert, bulk_insert_values, reserve_ids
from fangxun.core.db import refresh_statistics, utcnow
from fangxun.plans import review_clock
from fangxun.plans.config import RegistrySettings
from fangxun.plans.contact_rules import PERSON_ROLES
from fangxun.plans.models import AdminUnit, Contact, Plan, PlanRevision
from fangxun.plans.plan_fields import (CONTACT_LABELS, FIELD_LABELS, FILE_KEYS, IDENTITY, PLAN_COLUMNS, PLAN_KEYS,
                                       normalise_phone)
from fangxun.plans.plan_row_check import PlanCellChecker
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
_compared = itemgetter(*COMPARED)  # a row's values of COMPARED, as a tuple
# The columns a new plan is written with (a plain tuple per row, not the ORM's objects).
NEW_PLAN_KEYS = (*PLAN_KEYS, "next_review_due", "created_at", "updated_at")
CONTACT_KEYS = ("plan_id", "unit_code", "role", "name", "phone", "position", "channels")
NO_CHANNELS: dict = {}  # shared by every imported person: converted to JSON once


@dataclass
class _Row:
    number: int
    values: dict  # Plan columns, ready to store
    contacts: dict[str, tuple[str, str | None] | None] = field(default_factory=dict)  # role -> person


# (role, name key, phone key) of the persons' columns.
_CONTACT_KEYS = tuple((role, f"{role}_name", f"{role}_phone") for role in CONTACT_ROLES)


def _parse_contacts(number: int, row: dict, problems: list[Problem]) -> dict:
    """role -> (name, phone) or None for the roles whose columns the file carries."""
    contacts = {}
    for role, name_key, phone_key in _CONTACT_KEYS:
        if name_key not in row and phone_key not in row:
            continue
        name, phone = cell_text(row.get(name_key)), cell_text(row.get(phone_key))
        if not (phone.isdigit() and 7 <= len(phone) <= 20):  # the common case needs no normalising
            try:
                phone = normalise_phone(phone)
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


class _RowParser:
    """Parses the rows of one file: PlanFields' checks plus contacts, the kind's cycle and the due date."""

    def __init__(self, registry: RegistrySettings):
        self.registry = registry
        self.check = PlanCellChecker()
        # Few distinct (approval, review, cycle) in a file.
        self.next_review_due = lru_cache(maxsize=1 << 16)(review_clock.next_review_due)

    def __call__(self, number: int, row: dict, problems: list[Problem]) -> _Row | None:
        """One row; None (with problems appended) when invalid."""
        # Blank cells fall back to the model's defaults (version 1.0, active, kind's cycle).
        cells = {key: text for key in FILE_KEYS if (text := cell_text(row.get(key)))}
        before = len(problems)
        contacts = _parse_contacts(number, row, problems)
        values, wrong = self.check(cells)
        problems.extend(Problem(number, FIELD_LABELS[key] if key else None, reason) for key, reason in wrong)
        if len(problems) > before:
            return None
        cycle = values["review_cycle_months"] = (values["review_cycle_months"]
                                                 or self.registry.review_cycle_months[values["kind"]])
        values["next_review_due"] = self.next_review_due(values["approved_on"], values["last_reviewed_on"], cycle)
        return _Row(number, values, contacts)


def _among(connection: AsyncConnection, column, values: list):
    """`column IN values`; on PostgreSQL one array parameter (SQLAlchemy took longer to render an IN list of
    thousands of parameters than the server to answer it)."""
    if connection.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


async def _select(session: AsyncSession, columns: list, column, values: list, *more) -> list:
    """Plain rows (no ORM result handling) of `columns` where `column` is among `values` and `more` hold."""
    connection = await session.connection()
    found = []
    for part in chunks(values, IN_LIMIT):
        found.extend((await connection.execute(select(*columns).where(_among(connection, column, part), *more))).all())
    return found


async def _existing_units(session: AsyncSession, codes: list[str]) -> set[str]:
    return {code for code, in await _select(session, [AdminUnit.code], AdminUnit.code, codes)}


async def _existing_plans(session: AsyncSession, codes: list[str]) -> dict[tuple[str, str], tuple]:
    """(unit, kind) -> (id, unit_code, kind, *COMPARED) of the stored plans of these units."""
    columns = [Plan.id, Plan.unit_code, Plan.kind, *(getattr(Plan, key) for key in COMPARED)]
    return {(row[1], row[2]): tuple(row) for row in await _select(session, columns, Plan.unit_code, codes)}


async def _existing_contacts(session: AsyncSession, plan_ids: list[int]) -> dict[tuple[int, str], list]:
    contacts: dict[tuple[int, str], list] = {}
    rows = await _select(session, [Contact.id, Contact.plan_id, Contact.role, Contact.name, Contact.phone],
                         Contact.plan_id, plan_ids, Contact.role.in_(CONTACT_ROLES))
    for row in sorted(rows, key=lambda row: row.id):
        contacts.setdefault((row.plan_id, row.role), []).append(row)
    return contacts


def _validate(rows: Iterable[tuple[int, dict]], parse: _RowParser, seen: dict[tuple[str, str], int]
              ) -> tuple[list[_Row], list[Problem]]:
    """Parse rows and spot (unit, kind) pairs already seen in the file: the good rows and the problems."""
    parsed: list[_Row] = []
    problems: list[Problem] = []
    for number, row in rows:
        item = parse(number, row, problems)
        if item is None:
            continue
        key = (item.values["unit_code"], item.values["kind"])
        if key in seen:
            problems.append(Problem(number, FIELD_LABELS["kind"],
                                    f"与第 {seen[key]} 行重复：同一单位的同类预案只能有一条"))
            continue
        seen[key] = number
        parsed.append(item)
    return parsed, problems


class _ChunkReader:
    """The rows read and parsed chunk by chunk in a worker thread, one chunk ahead of the caller: the next chunk is
    parsed while the server writes this one."""

    def __init__(self, rows: Iterable[tuple[int, dict]], registry: RegistrySettings, progress: bool,
                 total: int | None):
        self._batches = batches(progress_bar(rows, total, "导入预案", progress), CHUNK_ROWS)
        self._parse = _RowParser(registry)
        self._seen: dict[tuple[str, str], int] = {}
        self._ahead: asyncio.Future | None = None

    def _read(self) -> tuple[list[_Row], list[Problem]] | None:
        batch = next(self._batches, None)
        return None if batch is None else _validate(batch, self._parse, self._seen)

    async def next(self) -> tuple[list[_Row], list[Problem]] | None:
        """The next chunk's good rows and problems; None after the last."""
        ahead, self._ahead = self._ahead or asyncio.ensure_future(asyncio.to_thread(self._read)), None
        chunk = await ahead
        if chunk is not None:
            self._ahead = asyncio.ensure_future(asyncio.to_thread(self._read))
        return chunk

    async def close(self) -> None:
        """Wait for the chunk being read (a thread cannot be stopped); its outcome no longer matters."""
        if self._ahead is not None:
            await asyncio.wait([self._ahead])
            if not self._ahead.cancelled():
                self._ahead.exception()  # retrieved: nobody is told of it twice


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
    contact_inserts: list[tuple] = field(default_factory=list)  # rows of CONTACT_KEYS
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
        plan_id = old[0]
        plan_changed = old[3:] != _compared(values)
        contacts_changed = False
        for role, wanted in item.contacts.items():
            stored = stored_contacts.get((plan_id, role), [])
            if _contacts_differ(wanted, stored):
                contacts_changed = True
                changes.contact_deletes.extend(c.id for c in stored)
                if wanted:
                    changes.contact_inserts.append(_contact(plan_id, values["unit_code"], role, wanted))
        if plan_changed:
            changes.plan_updates.append({"id": plan_id, **{k: values[k] for k in COMPARED}, "updated_at": now})
            reviewed = values["last_reviewed_on"]
            if reviewed is not None and reviewed != old[3 + COMPARED.index("last_reviewed_on")]:
                changes.revisions.append(_review(plan_id, reviewed, values["version"], actor, now))
        if not (plan_changed or contacts_changed):
            changes.unchanged += 1
    return changes


async def _write(session: AsyncSession, changes: _Changes, now) -> None:
    """Apply the changes with a handful of bulk statements (COPY on PostgreSQL)."""
    contact_rows = list(changes.contact_inserts)
    if changes.new_rows:
        ids = await _insert_plans(session, changes.new_rows, now)
        for item, plan_id in zip(changes.new_rows, ids):
            contact_rows.extend(_contact(plan_id, item.values["unit_code"], role, person)
                                for role, person in item.contacts.items() if person)
    if changes.plan_updates:
        await session.execute(update(Plan), changes.plan_updates)
    for part in chunks(changes.contact_deletes, IN_LIMIT):
        await session.execute(delete(Contact).where(Contact.id.in_(part)))
    if contact_rows:
        await bulk_insert_values(session, Contact.__table__, CONTACT_KEYS, contact_rows)
    if changes.revisions:
        await bulk_insert(session, PlanRevision.__table__, changes.revisions)


async def _insert_plans(session: AsyncSession, rows: list[_Row], now) -> list[int]:
    """Insert the new plans; their ids in the order of `rows`."""
    values = [(*map(item.values.__getitem__, NEW_PLAN_KEYS[:-2]), now, now) for item in rows]
    if (await session.connection()).dialect.name == "postgresql":
        # Ids drawn beforehand: the persons' rows need no query back.
        ids = await reserve_ids(session, Plan.__table__, len(rows))
        await bulk_insert_values(session, Plan.__table__, ("id", *NEW_PLAN_KEYS),
                                 [(plan_id, *row) for plan_id, row in zip(ids, values)])
        return ids
    # SQLite draws ids safely only once the transaction holds the write lock: read them back instead.
    await bulk_insert_values(session, Plan.__table__, NEW_PLAN_KEYS, values)
    codes = sorted({item.values["unit_code"] for item in rows})
    found = {(unit_code, kind): plan_id for plan_id, unit_code, kind
             in await _select(session, [Plan.id, Plan.unit_code, Plan.kind], Plan.unit_code, codes)}
    return [found[(item.values["unit_code"], item.values["kind"])] for item in rows]


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
    now = utcnow()
    created = updated = unchanged = 0
    reader = _ChunkReader(rows, registry, progress, total)
    try:
        while (chunk := await reader.next()) is not None:
            parsed, chunk_problems = chunk
            problems.extend(chunk_problems)
            await _unknown_units(session, parsed, problems)
            if problems:
                continue
            codes = sorted({item.values["unit_code"] for item in parsed})
            plans = await _existing_plans(session, codes)
            stored_contacts = await _existing_contacts(session, [p[0] for p in plans.values()])
            changes = _diff(parsed, plans, stored_contacts, actor, now)
            await _write(session, changes, now)
            created += len(changes.new_rows)
            unchanged += changes.unchanged
            updated += len(parsed) - len(changes.new_rows) - changes.unchanged
    finally:
        await reader.close()
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise reject(problems, "预案文件")
    result = ImportResult(created, updated, unchanged)
    if result.changed:
        await audit.record(session, actor, "plans.import", "plan", after=result.as_dict())
        await refresh_statistics(session, ["plans", "contacts", "plan_revisions"])
    return result


def _contact(plan_id: int, unit_code: str, role: str, person: tuple[str, str | None]) -> tuple:
    """A person's row of CONTACT_KEYS."""
    return plan_id, unit_code, role, person[0], person[1], "", NO_CHANNELS


def _review(plan_id: int, reviewed: date, version: str, actor: str, now) -> dict:
    return {"plan_id": plan_id, "action": "review", "revised_on": reviewed,
            "summary": "导入文件更新评估日期", "version": version, "entered_by": actor, "created_at": now}


async def import_plan_file(session: AsyncSession, path: str | Path, registry: RegistrySettings,
                           actor: str = "cli", progress: bool = False) -> ImportResult:
    """Read a CSV/XLSX plan table and import it in the caller's transaction."""
    rows = iter_table(path, PLAN_ALIASES, required=REQUIRED_COLUMNS)
    return await import_plans(session, rows, registry, actor=actor, progress=progress, total=count_records(path))
