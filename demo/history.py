"""`fangxun demo load --with-history`: a plausible past year on top of the demo registry (deterministic per seed)."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.audit import record
from fangxun.core.db import refresh_statistics
from fangxun.core.errors import BadInput, Conflict
from fangxun.demo.history_build import History, Ids, Registry, UnitInfo, build_history
from fangxun.demo.history_notify import Outbox, build_outbox
from fangxun.plans.contact_queries import plan_persons
from fangxun.plans.models import AdminUnit
from fangxun.plans.tabular import chunks
from fangxun.settings import Settings
from fangxun.warnings.delivery.notices import insert_notifications
from fangxun.warnings.events.event_filters import event_conditions
from fangxun.warnings.events.tables import Event, EventWarning, JournalEntry, ResponseDecision
from fangxun.warnings.tables import Notification, NotificationAttempt, Warning, WarningUnit
from fangxun.warnings.vocabulary import RESPONSE_SOURCE

ACTOR = "demo"
# Tables whose ids the history hands out itself, in insert order (foreign keys point backwards).
ID_TABLES = (Warning, Event, ResponseDecision, JournalEntry, Notification, NotificationAttempt)


@dataclass
class HistorySummary:
    """What the demo year put into the database."""

    year: int
    events_by_kind: dict[str, int] = field(default_factory=dict)
    warnings: int = 0  # weather warnings (response notices apart)
    warnings_in_events: int = 0
    notices: int = 0  # response notices (warnings of source "response"), one per decision
    notifications: int = 0
    reminders: int = 0
    escalations: int = 0
    acknowledged: int = 0
    decisions: int = 0
    journal_entries: int = 0

    def as_dict(self) -> dict:
        """Plain counts (the audit record's `after`)."""
        return asdict(self)

    def __str__(self) -> str:
        rate = self.acknowledged / self.notifications * 100 if self.notifications else 0
        return (f"{self.year}年演示历史：降雨过程 {self.events_by_kind.get('rainfall', 0)} 轮、"
                f"雨雪冰冻 {self.events_by_kind.get('snow_ice', 0)} 轮；预警 {self.warnings} 条"
                f"（其中 {self.warnings_in_events} 条属于事件）；通知 {self.notifications} 条"
                f"（提醒 {self.reminders}、逐级上报 {self.escalations}，已叫应 {self.acknowledged} 条，"
                f"占全部通知 {rate:.1f}%）；"
                f"响应决策 {self.decisions} 条（响应通知 {self.notices} 份）；事件日志 {self.journal_entries} 条")


def past_year(year: int | None, today: date) -> int:
    """The history's year: `year` when given (it must have ended), else the last full year before today."""
    if year is None:
        return today.year - 1
    if not 2000 <= year < today.year:
        raise BadInput(f"--history-year：应为已经结束的年份（2000–{today.year - 1}），收到 {year}",
                       extra={"field": "history_year"})
    return year


async def registry_loaded(session: AsyncSession) -> bool:
    """Whether the database holds a registry (units) the history can be written against."""
    return (await session.execute(select(func.count()).select_from(AdminUnit))).scalar_one() > 0


async def _refuse_twice(session: AsyncSession, year: int) -> None:
    """Conflict when the registry is missing or the year already has warnings or events."""
    from fangxun.demo.history_build import local

    if not await registry_loaded(session):
        raise Conflict("数据库中还没有行政区划和预案，请先载入演示登记库（fangxun demo load）")
    start, end = local(year, "01-01 00:00"), local(year + 1, "01-01 00:00")
    warnings = (await session.execute(select(func.count()).select_from(Warning).where(
        Warning.sent >= start, Warning.sent < end))).scalar_one()
    events = (await session.execute(select(func.count()).select_from(Event).where(
        *event_conditions(start=start, end=end)))).scalar_one()
    if warnings or events:
        raise Conflict(f"{year}年已有预警 {warnings} 条、事件 {events} 个，演示历史不能重复载入；"
                       "请换一个年份（--history-year）或新数据库")


async def read_registry(session: AsyncSession) -> Registry:
    """The units and 责任人 of the database, as the history generator takes them."""
    rows = (await session.execute(select(AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.district_code,
                                         AdminUnit.township_code).order_by(AdminUnit.code))).all()
    units = {row.code: UnitInfo(*row) for row in rows}
    townships: dict[str, list[str]] = {}
    villages: dict[str, list[str]] = {}
    for unit in units.values():
        if unit.level == "township" and unit.district_code:
            townships.setdefault(unit.district_code, []).append(unit.code)
        elif unit.level == "village" and unit.township_code:
            villages.setdefault(unit.township_code, []).append(unit.code)
    persons: dict[str, list] = {}
    for person in await plan_persons(session, list(units)):
        persons.setdefault(person.unit_code, []).append(person)
    return Registry(units, townships, villages, persons)


async def _id_counters(session: AsyncSession) -> dict[str, Ids]:
    counters = {}
    for table in ID_TABLES:
        highest = (await session.execute(select(func.max(table.__table__.c.id)))).scalar_one()
        counters[table.__tablename__] = Ids((highest or 0) + 1)
    return counters


async def _insert(session: AsyncSession, table, rows: list[dict], bar) -> None:
    for part in chunks(rows, 2000):
        await session.execute(insert(table), part)
        bar.update(len(part))


async def _advance_sequences(session: AsyncSession) -> None:
    """PostgreSQL: move each serial past the ids given explicitly (SQLite takes max(id) + 1 by itself)."""
    if session.bind.dialect.name != "postgresql":
        return
    for table in ID_TABLES:
        name = table.__tablename__
        await session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                   f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"))


def _progress(total: int, enabled: bool):
    if enabled:
        from tqdm import tqdm

        return tqdm(total=total, desc="载入演示历史", unit="行", leave=False)
    return _NoBar()


class _NoBar:
    def update(self, _: int) -> None:
        pass

    def close(self) -> None:
        pass


async def _write(session: AsyncSession, history: History, outbox: Outbox, progress: bool) -> None:
    """Insert every row in foreign-key order: warnings, their units, events, links, decisions, journal, outbox."""
    total = sum(map(len, (history.warnings, history.warning_units, history.events, history.event_warnings,
                          history.decisions, history.journal, outbox.notices, outbox.derived, outbox.attempts)))
    bar = _progress(total, progress)
    try:
        await _insert(session, Warning, history.warnings, bar)
        await _insert(session, WarningUnit, history.warning_units, bar)
        await _insert(session, Event, history.events, bar)
        await _insert(session, EventWarning, history.event_warnings, bar)
        await _insert(session, ResponseDecision, history.decisions, bar)
        await _insert(session, JournalEntry, history.journal, bar)
        for rows in (outbox.notices, outbox.derived):
            for part in chunks(rows, 10000):
                await insert_notifications(session, part)
                bar.update(len(part))
        await _insert(session, NotificationAttempt, outbox.attempts, bar)
    finally:
        bar.close()


def summarise(year: int, history: History, outbox: Outbox) -> HistorySummary:
    """Counts of what the history wrote."""
    rows = outbox.notices + outbox.derived
    purposes = Counter(row["purpose"] for row in rows)
    return HistorySummary(
        year=year, events_by_kind=dict(sorted(Counter(row["kind"] for row in history.events).items())),
        warnings=sum(1 for row in history.warnings if row["source"] != RESPONSE_SOURCE),
        warnings_in_events=len(history.event_warnings),
        notices=sum(1 for row in history.warnings if row["source"] == RESPONSE_SOURCE), notifications=len(rows),
        reminders=purposes["reminder"], escalations=purposes["escalation"],
        acknowledged=sum(1 for row in rows if row["acked_at"] is not None), decisions=len(history.decisions),
        journal_entries=len(history.journal))


async def load_history(session: AsyncSession, settings: Settings, *, year: int, seed: int = 2021,
                       progress: bool = False) -> HistorySummary:
    """Add the demo year `year` on top of the demo registry, in the caller's transaction.

    The same seed gives the same rows. A year that already has warnings or events is refused (Conflict),
    so loading twice never duplicates anything.
    """
    await _refuse_twice(session, year)
    registry = await read_registry(session)
    ids = await _id_counters(session)
    rng = random.Random(seed)
    history = build_history(registry, settings, year, rng, ids)
    outbox = build_outbox(history.messages, registry, settings, seed, rng, ids["notifications"],
                          ids["notification_attempts"])
    await _write(session, history, outbox, progress)
    await _advance_sequences(session)
    await refresh_statistics(session, ["warnings", "warning_units", "notifications", "events", "event_warnings"])
    summary = summarise(year, history, outbox)
    await record(session, ACTOR, "demo.history", "history", str(year), after={**summary.as_dict(), "seed": seed})
    return summary
