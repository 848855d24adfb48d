"""Lists kept per unit (责任人, 避险安置点): a file is the whole list of each unit it names. What it changes is worked
out first (a dry run stops there), then written in a few bulk statements with one audit row per changed record."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.audit import audit_row, record_many
from fangxun.core.db import refresh_statistics, utcnow
from fangxun.plans.tabular import chunks

ACTION_LABELS = {"create": "新增", "update": "更新", "delete": "删除"}


@dataclass
class Change:
    """One record the file adds, changes or removes: the file's row (None for a removal), before and after."""

    action: str
    row: int | None
    unit_code: str
    name: str
    target_id: int | None
    before: dict | None
    after: dict | None

    def as_dict(self) -> dict:
        """Plain data for JSON answers."""
        return asdict(self)

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row is not None else "文件未列出"
        if self.action == "update":
            changed = "，".join(f"{key}：{self.before.get(key)!r} → {self.after.get(key)!r}"
                               for key in self.after if self.before.get(key) != self.after.get(key))
            return f"{where}\t{ACTION_LABELS[self.action]}\t{self.unit_code}\t{self.name}（{self.target_id}）\t{changed}"
        number = f"（{self.target_id}）" if self.target_id else ""
        return f"{where}\t{ACTION_LABELS[self.action]}\t{self.unit_code}\t{self.name}{number}"


@dataclass
class ListImport:
    """What a list file changes: the changes, the rows that change nothing and the units it names."""

    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    units: int = 0
    dry_run: bool = False

    def _rows(self, action: str) -> int:
        return len({c.row for c in self.changes if c.action == action})

    @property
    def created(self) -> int:
        return self._rows("create")

    @property
    def updated(self) -> int:
        return self._rows("update")

    @property
    def deleted(self) -> int:
        return sum(1 for c in self.changes if c.action == "delete")

    def counts(self) -> dict:
        """The figures (the summary audit row's `after`)."""
        return {"units": self.units, "created": self.created, "updated": self.updated, "deleted": self.deleted,
                "unchanged": self.unchanged}

    def as_dict(self) -> dict:
        """Plain data for JSON answers: the figures and every change."""
        return {"dry_run": self.dry_run, **self.counts(), "changes": [c.as_dict() for c in self.changes]}

    def __str__(self) -> str:
        return (f"涉及 {self.units} 个单位：新增 {self.created} 条，更新 {self.updated} 条，删除 {self.deleted} 条，"
                f"未变 {self.unchanged} 条")


def plan_changes(wanted: dict[str, dict[str, tuple[int, dict]]], stored: Iterable,
                 snapshot: Callable[[object], dict], merge: Callable[[dict, dict], dict],
                 new_values: Callable[[str, dict], dict]) -> ListImport:
    """The changes that make each named unit's stored list the file's list.

    `wanted`: unit -> name -> (row, the row's values); `stored`: the units' records (id, unit_code, name and the
    snapshot's fields). A stored record with a listed name becomes `merge(its snapshot, the row's values)` (every
    record of that name: a person named in two plans is changed in both); one with a name not listed is removed; a
    listed name with no record is added, with `new_values(unit, values)`."""
    result = ListImport(units=len(wanted))
    matched: set[tuple[str, str]] = set()
    changed_rows: set[int] = set()
    for record in sorted(stored, key=lambda r: r.id):
        listed = wanted.get(record.unit_code, {}).get(record.name)
        before = snapshot(record)
        if listed is None:
            result.changes.append(Change("delete", None, record.unit_code, record.name, record.id, before, None))
            continue
        number, values = listed
        matched.add((record.unit_code, record.name))
        after = merge(before, values)
        if after != before:
            changed_rows.add(number)
            result.changes.append(Change("update", number, record.unit_code, record.name, record.id, before, after))
    listed_rows = 0
    for unit_code, names in wanted.items():
        for name, (number, values) in names.items():
            listed_rows += 1
            if (unit_code, name) not in matched:
                changed_rows.add(number)
                result.changes.append(Change("create", number, unit_code, name, None, None,
                                             new_values(unit_code, values)))
    result.unchanged = listed_rows - len(changed_rows)
    result.changes.sort(key=lambda c: (c.row is None, c.row or 0, c.target_id or 0))
    return result


async def write_changes(session: AsyncSession, model, result: ListImport, columns: tuple[str, ...], actor: str,
                        noun: str, source: str) -> None:
    """Apply `result` to `model`'s table (an update sets `columns`) and audit each change (action `<noun>.import.<create|update|delete>`)
    plus one summary row (`<noun>s.import`, the figures and the file's name)."""
    if not result.changes:
        return
    updates = [{"id": c.target_id, **{key: c.after[key] for key in columns}}
               for c in result.changes if c.action == "update"]
    if updates:
        await session.execute(update(model), updates)
    removed = [c.target_id for c in result.changes if c.action == "delete"]
    for part in chunks(removed):
        await session.execute(delete(model).where(model.id.in_(part)))
    created = [c for c in result.changes if c.action == "create"]
    if created:
        ids = await session.scalars(
            insert(model).execution_options(render_nulls=True).returning(model.id, sort_by_parameter_order=True),
            [c.after for c in created])
        for change, new_id in zip(created, ids):
            change.target_id = new_id
    now = utcnow()
    rows = [audit_row(actor, f"{noun}.import.{c.action}", noun, c.target_id, c.before, c.after, at=now)
            for c in result.changes]
    rows.append(audit_row(actor, f"{noun}s.import", noun, "", after={**result.counts(), "file": source}, at=now))
    await record_many(session, rows)
    await refresh_statistics(session, [model.__tablename__])
