"""The journal of an event: validating and appending entries (never changing them), and listing them."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.accounts import Principal
from fangxun.core.audit import record
from fangxun.core.errors import BadInput, Conflict, Forbidden
from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_search import place_labels
from fangxun.settings import Settings
from fangxun.warnings.events.event_store import get_event
from fangxun.warnings.events.journal_rules import FIGURE_LABELS, JOURNAL_FIGURES, figure_totals
from fangxun.warnings.events.tables import JournalEntry

FIELDS = ("department", "unit_code", "action", "figures", "text", "corrects_id")
# Set by the server, never by the client: named so the refusal says why.
SERVER_FIELDS = {"recorded_at": "记录时间由服务器填写", "author": "填报人由登录账号确定",
                 "id": "编号由服务器分配", "event_id": "事件由请求地址确定"}
TEXT_LIMITS = {"action": 1000, "text": 4000}
MAX_COUNT = 100_000_000  # people, roads, rescues: far above any real figure, inside a 32-bit column
MAX_LOSS = 1e9           # 万元
# Control characters (PostgreSQL cannot store NUL at all); line breaks and tabs are kept.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class EntryFields:
    """A validated journal entry as submitted (before the checks that need the database)."""

    department: str | None
    unit_code: str | None
    action: str
    text: str
    corrects_id: int | None
    figures: dict[str, int | float] = field(default_factory=dict)


def _bad(name: str, message: str) -> BadInput:
    return BadInput(f"{name}：{message}", extra={"field": name})


def _optional_text(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(name, "应为文本")
    return value.strip() or None


def _figure(name: str, value: object) -> int | float | None:
    where = f"figures.{name}"
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(where, f"{FIGURE_LABELS[name]}应为数字")
    if name == "economic_loss":
        if not math.isfinite(value) or value < 0:
            raise _bad(where, f"{FIGURE_LABELS[name]}应为不小于 0 的数")
        if value > MAX_LOSS:
            raise _bad(where, f"{FIGURE_LABELS[name]}不能超过 {MAX_LOSS:.0f}")
        return float(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise _bad(where, f"{FIGURE_LABELS[name]}应为整数")
        value = int(value)
    if value < 0:
        raise _bad(where, f"{FIGURE_LABELS[name]}应为不小于 0 的整数")
    if value > MAX_COUNT:
        raise _bad(where, f"{FIGURE_LABELS[name]}不能超过 {MAX_COUNT}")
    return value


def parse_entry(body: object, departments: Mapping[str, object]) -> EntryFields:
    """The JSON body of a new entry, checked field by field; BadInput names the first bad field."""
    if not isinstance(body, dict):
        raise _bad("", "请求体应为 JSON 对象")
    for name in body:
        if name in SERVER_FIELDS:
            raise _bad(name, SERVER_FIELDS[name])
        if name not in FIELDS:
            raise _bad(name, f"不允许的字段（可用字段：{'、'.join(FIELDS)}）")
    department = _optional_text(body, "department")
    if department is not None and department not in departments:
        raise _bad("department", f"未知部门 {department!r}，可选：{'、'.join(departments)}")
    unit_code = _optional_text(body, "unit_code")
    if unit_code is not None and not (len(unit_code) == 12 and unit_code.isascii() and unit_code.isdigit()):
        raise _bad("unit_code", f"区划代码应为 12 位数字：{unit_code!r}")
    if department is None and unit_code is None:
        raise _bad("department", "部门（department）和区划（unit_code）至少填写一项")
    texts = {}
    for name, limit in TEXT_LIMITS.items():
        value = _optional_text(body, name) or ""
        if len(value) > limit:
            raise _bad(name, f"超过最大长度 {limit} 字（现有 {len(value)} 字）")
        if _CONTROL.search(value):
            raise _bad(name, "含有不允许的控制字符")
        texts[name] = value
    figures_in = body.get("figures")
    if figures_in is None:
        figures_in = {}
    if not isinstance(figures_in, dict):
        raise _bad("figures", "应为对象，如 {\"evacuated\": 120}")
    figures = {}
    for name, value in figures_in.items():
        if name not in JOURNAL_FIGURES:
            raise _bad(f"figures.{name}", f"未知数字项（可用：{'、'.join(JOURNAL_FIGURES)}）")
        checked = _figure(name, value)
        if checked is not None:
            figures[name] = checked
    corrects_id = body.get("corrects_id")
    if corrects_id is not None and (isinstance(corrects_id, bool) or not isinstance(corrects_id, int)
                                    or not 0 < corrects_id < 2**31):
        raise _bad("corrects_id", "应为被更正条目的编号（正整数）")
    if not (texts["action"] or texts["text"] or figures):
        raise _bad("action", "请填写采取的措施、上报的数字或说明")
    return EntryFields(department=department, unit_code=unit_code, action=texts["action"], text=texts["text"],
                       corrects_id=corrects_id, figures=figures)


def check_scope(principal: Principal, fields: EntryFields, departments: Mapping[str, object]) -> None:
    """Forbidden unless `principal` may report for the entry's department (a reporter needs one of its own)."""
    if principal.role == "reporter" and principal.department is None:
        raise Forbidden("填报账号未指定所属部门，不能填写事件日志；请管理员为账号设置部门")
    if principal.can_report_for(fields.department):
        return
    if principal.department is None:
        raise Forbidden("当前账号只有查看权限，不能填写事件日志")
    own = _department_name(departments, principal.department)
    target = _department_name(departments, fields.department) if fields.department else "（未填写部门）"
    raise Forbidden(f"department：账号属于{own}，只能为本部门填报，不能为{target}填报",
                    extra={"field": "department"})


def _department_name(departments: Mapping[str, object], key: str) -> str:
    department = departments.get(key)
    name = getattr(department, "name", None)
    return f"{name}（{key}）" if name else key


async def correction_of(session: AsyncSession, entry_id: int, *, other_than: int | None = None) -> int | None:
    """The id of an entry correcting `entry_id` (the oldest), or None."""
    query = select(JournalEntry.id).where(JournalEntry.corrects_id == entry_id)
    if other_than is not None:
        query = query.where(JournalEntry.id != other_than)
    return (await session.execute(query.order_by(JournalEntry.id).limit(1))).scalar_one_or_none()


async def _check_correction(session: AsyncSession, event_id: int, fields: EntryFields) -> None:
    # FOR UPDATE queues concurrent corrections of one entry on PostgreSQL (it changes nothing: the
    # append-only triggers fire on UPDATE only); SQLite serialises writers anyway.
    target = (await session.execute(select(JournalEntry).where(JournalEntry.id == fields.corrects_id)
                                    .with_for_update())).scalar_one_or_none()
    if target is None or target.event_id != event_id:
        raise _bad("corrects_id", f"事件 {event_id} 没有编号为 {fields.corrects_id} 的日志条目")
    if (target.department, target.unit_code) != (fields.department, fields.unit_code):
        raise _bad("corrects_id", f"更正条目须与原条目 {target.id} 的部门和区划相同"
                                  f"（原条目：部门 {target.department or '无'}，区划 {target.unit_code or '无'}）")
    newer = await correction_of(session, target.id)
    if newer is not None:
        raise _already_corrected(target.id, newer)


def _already_corrected(entry_id: int, newer: int) -> Conflict:
    return Conflict(f"corrects_id：条目 {entry_id} 已被条目 {newer} 更正，请更正条目 {newer}",
                    extra={"field": "corrects_id", "corrected_by": newer})


async def add_entry(session: AsyncSession, event_id: int, fields: EntryFields, principal: Principal,
                    settings: Settings, now: datetime) -> JournalEntry:
    """Append one entry in the caller's transaction: server time, the principal as author; checks the
    event (open or closed), the department scope, the unit and the entry corrected."""
    departments = settings.warnings.departments
    check_scope(principal, fields, departments)
    await get_event(session, event_id)
    if fields.unit_code is not None and await session.get(AdminUnit, fields.unit_code) is None:
        raise _bad("unit_code", f"区划 {fields.unit_code} 不存在")
    if fields.corrects_id is not None:
        await _check_correction(session, event_id, fields)
    entry = JournalEntry(event_id=event_id, recorded_at=now, author=principal.name, department=fields.department,
                         unit_code=fields.unit_code, corrects_id=fields.corrects_id, action=fields.action,
                         text=fields.text, **fields.figures)
    session.add(entry)
    await session.flush()
    if fields.corrects_id is not None:
        # A concurrent correction of the same entry that committed first wins; this one is refused.
        rival = await correction_of(session, fields.corrects_id, other_than=entry.id)
        if rival is not None and rival < entry.id:
            raise _already_corrected(fields.corrects_id, rival)
    await record(session, principal.name, "journal.add", "journal_entry", entry.id,
                 after={"event_id": event_id, "department": fields.department, "unit_code": fields.unit_code,
                        "corrects_id": fields.corrects_id, "figures": fields.figures})
    return entry


async def entries_of(session: AsyncSession, event_id: int) -> list[JournalEntry]:
    """An event's entries, oldest first."""
    return list((await session.execute(
        select(JournalEntry).where(JournalEntry.event_id == event_id)
        .order_by(JournalEntry.recorded_at, JournalEntry.id))).scalars())


def corrections(entries: list[JournalEntry]) -> dict[int, int]:
    """Corrected entry id -> id of the entry correcting it."""
    found: dict[int, int] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        if entry.corrects_id is not None:
            found.setdefault(entry.corrects_id, entry.id)
    return found


def entry_view(entry: JournalEntry, corrected_by: int | None, departments: Mapping[str, object],
               unit_names: Mapping[str, str]) -> dict:
    """One entry for the API and the pages: its figures (reported ones only), whether it still stands."""
    department = departments.get(entry.department) if entry.department else None
    return {
        "id": entry.id, "event_id": entry.event_id, "recorded_at": entry.recorded_at.isoformat(),
        "author": entry.author, "department": entry.department,
        "department_name": getattr(department, "name", entry.department or ""),
        "unit_code": entry.unit_code, "unit_name": unit_names.get(entry.unit_code or "", ""),
        "corrects_id": entry.corrects_id, "corrected_by": corrected_by, "standing": corrected_by is None,
        "action": entry.action,
        "figures": {name: getattr(entry, name) for name in JOURNAL_FIGURES if getattr(entry, name) is not None},
        "text": entry.text,
    }


async def unit_names(session: AsyncSession, codes: set[str]) -> dict[str, str]:
    """Names of the units with these codes, each with its district and township ("甲区 · 二号镇 · 东村")."""
    return await place_labels(session, codes) if codes else {}


async def journal_view(session: AsyncSession, event_id: int, settings: Settings) -> dict:
    """The journal of an event: entries oldest first (with corrected_by and standing) and the totals
    of the standing entries (journal_rules.figure_totals)."""
    await get_event(session, event_id)
    entries = await entries_of(session, event_id)
    corrected = corrections(entries)
    names = await unit_names(session, {e.unit_code for e in entries if e.unit_code})
    departments = settings.warnings.departments
    return {"event_id": event_id,
            "entries": [entry_view(e, corrected.get(e.id), departments, names) for e in entries],
            "totals": figure_totals(entries), "figure_labels": dict(FIGURE_LABELS)}
