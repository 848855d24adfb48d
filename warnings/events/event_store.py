"""Events in the database: open, close, reopen, link warnings, and the quiet-close job; each write audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.audit import record
from fangxun.core.errors import BadInput, Conflict, NotFound
from fangxun.settings import Settings
from fangxun.warnings.events.event_filters import select_events
from fangxun.warnings.events.event_rules import LinkedWarning, event_name, local_day, quiet_close_at, shown
from fangxun.warnings.events.tables import Event, EventWarning
from fangxun.warnings.tables import Warning
from fangxun.warnings.vocabulary import RESPONSE_SOURCE

_LOCK_KEY = 0x46584556  # "FXEV": one advisory lock serialises every change to events on PostgreSQL
_NAME_MAX = 200
_NOTE_MAX = 2000


async def lock_events(session: AsyncSession) -> None:
    """Serialise event changes until the transaction ends, so two warnings cannot both open an event.

    SQLite needs nothing: a writing transaction already holds the whole database.
    """
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _audit_view(event: Event) -> dict:
    return {"kind": event.kind, "name": event.name, "status": event.status, "started_at": shown(event.started_at),
            "ended_at": shown(event.ended_at), "opened_by": event.opened_by, "closed_by": event.closed_by,
            "close_reason": event.close_reason}


async def get_event(session: AsyncSession, event_id: int) -> Event:
    """The event with this id, or NotFound."""
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound(f"事件 {event_id} 不存在")
    return event


async def event_of_warning(session: AsyncSession, warning_id: int) -> Event | None:
    """The event a warning is linked to, if any."""
    return (await session.execute(select(Event).join(EventWarning, EventWarning.event_id == Event.id)
                                  .where(EventWarning.warning_id == warning_id))).scalar_one_or_none()


def _in_thread(thread_id: int):
    return or_(Warning.thread_id == thread_id, and_(Warning.id == thread_id, Warning.thread_id.is_(None)))


async def event_of_thread(session: AsyncSession, thread_id: int) -> Event | None:
    """The event holding a message of the thread (the earliest such event, should there be several)."""
    return (await session.execute(
        select(Event).join(EventWarning, EventWarning.event_id == Event.id)
        .join(Warning, Warning.id == EventWarning.warning_id).where(_in_thread(thread_id))
        .order_by(Event.id).limit(1))).scalar_one_or_none()


async def open_event_of_kind(session: AsyncSession, kind: str) -> Event | None:
    """The open event of `kind` (the latest started, should several be open)."""
    return (await session.execute(select_events(kind=kind, status="open").limit(1))).scalar_one_or_none()


async def link_thread(session: AsyncSession, event_id: int, thread_id: int, joined_by: str, now: datetime) -> list[int]:
    """Link every message of the thread that is in no event yet; returns their ids."""
    ids = list((await session.execute(
        select(Warning.id).where(_in_thread(thread_id), Warning.source != RESPONSE_SOURCE,
                                 ~select(EventWarning.warning_id).where(EventWarning.warning_id == Warning.id)
                                 .exists()).order_by(Warning.id))).scalars())
    if ids:
        await session.execute(insert(EventWarning), [
            {"warning_id": warning_id, "event_id": event_id, "joined_at": now, "joined_by": joined_by}
            for warning_id in ids])
    return ids


async def _taken_names(session: AsyncSession, base: str) -> set[str]:
    return set((await session.execute(select(Event.name).where(Event.name.startswith(base, autoescape=True))))
               .scalars())


def _check_kind(kind: object, settings: Settings) -> str:
    if not isinstance(kind, str) or kind not in settings.events.kinds:
        choices = "、".join(f"{key}（{value.label}）" for key, value in settings.events.kinds.items())
        raise BadInput(f"kind：事件类型应为 {choices} 之一", extra={"field": "kind"})
    return kind


def _check_text(value: object, field: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadInput(f"{field}：应为文本", extra={"field": field})
    if len(value.strip()) > limit:
        raise BadInput(f"{field}：不能超过 {limit} 个字", extra={"field": field})
    return value.strip()


async def open_event(session: AsyncSession, settings: Settings, kind: str, *, started_at: datetime, opened_by: str,
                     name: str | None = None, name_day: datetime | None = None, opening_warning_id: int | None = None,
                     note: str = "") -> Event:
    """Insert an open event; without a name it is "<date><label>" of `name_day` (default: the start)."""
    label = settings.events.kinds[kind].label
    if not name:
        day = local_day(name_day or started_at)
        base = f"{day.year}年{day.month}月{day.day}日{label}"
        name = event_name(label, day, await _taken_names(session, base))
    elif (await session.execute(select(Event.id).where(Event.name == name))).first() is not None:
        raise Conflict(f"name：已有名为“{name}”的事件", extra={"field": "name"})
    event = Event(kind=kind, name=name, status="open", started_at=started_at, opened_by=opened_by,
                  opening_warning_id=opening_warning_id, note=note)
    session.add(event)
    await session.flush()
    await record(session, opened_by, "event.open", "event", event.id, after=_audit_view(event))
    return event


async def close_event(session: AsyncSession, event: Event, *, ended_at: datetime, closed_by: str, reason: str,
                      note: str = "") -> Event:
    """Close an open event at `ended_at` (Conflict if it is closed already)."""
    if event.status == "closed":
        raise Conflict(f"事件 {event.id}（{event.name}）已于 {shown(event.ended_at)} 结束", extra={"event_id": event.id})
    if ended_at < event.started_at:
        raise BadInput(f"ended_at：结束时间不能早于开始时间 {shown(event.started_at)}", extra={"field": "ended_at"})
    before = _audit_view(event)
    event.status, event.ended_at, event.closed_by, event.close_reason = "closed", ended_at, closed_by, reason
    if note:
        event.note = f"{event.note}\n{note}" if event.note else note
    await session.flush()
    await record(session, closed_by, "event.close", "event", event.id, before=before,
                 after={**_audit_view(event), "note": note} if note else _audit_view(event))
    return event


async def reopen_event(session: AsyncSession, event: Event, actor: str, warning_id: int) -> Event:
    """Reopen a closed event because a later message of one of its threads is in force again."""
    before = _audit_view(event)
    event.status, event.ended_at, event.closed_by, event.close_reason = "open", None, None, None
    await session.flush()
    await record(session, actor, "event.reopen", "event", event.id, before=before,
                 after={**_audit_view(event), "warning_id": warning_id})
    return event


async def open_by_hand(session: AsyncSession, settings: Settings, actor: str, now: datetime, *, kind: object,
                       name: object = None, started_at: datetime | None = None, note: object = None) -> Event:
    """Open an event by hand; refused (409) while an event of the kind is open."""
    kind = _check_kind(kind, settings)
    name = _check_text(name, "name", _NAME_MAX) or None
    note = _check_text(note, "note", _NOTE_MAX)
    started_at = started_at or now
    if started_at > now:
        raise BadInput("started_at：开始时间不能晚于当前时间", extra={"field": "started_at"})
    await lock_events(session)
    current = await open_event_of_kind(session, kind)
    if current is not None:
        raise Conflict(f"已有进行中的{settings.events.kinds[kind].label}：{current.name}（事件 {current.id}）",
                       extra={"event_id": current.id})
    return await open_event(session, settings, kind, started_at=started_at, opened_by=actor, name=name, note=note)


async def close_by_hand(session: AsyncSession, event_id: int, actor: str, now: datetime, *,
                        ended_at: datetime | None = None, note: object = None) -> Event:
    """Close an event by hand at `ended_at` (default now)."""
    note = _check_text(note, "note", _NOTE_MAX)
    ended_at = ended_at or now
    if ended_at > now:
        raise BadInput("ended_at：结束时间不能晚于当前时间", extra={"field": "ended_at"})
    await lock_events(session)
    event = await get_event(session, event_id)
    return await close_event(session, event, ended_at=ended_at, closed_by=actor, reason="manual", note=note)


async def link_by_hand(session: AsyncSession, event_id: int, warning_id: object, actor: str,
                       now: datetime) -> list[int]:
    """Link a warning (and the messages of its thread in no event) to an event; 409 if it is in another."""
    if isinstance(warning_id, bool) or not isinstance(warning_id, int) or not 0 < warning_id < 2**31:
        raise BadInput("warning_id：应为预警编号（正整数）", extra={"field": "warning_id"})
    await lock_events(session)
    event = await get_event(session, event_id)
    warning = await session.get(Warning, warning_id)
    if warning is None:
        raise NotFound(f"预警 {warning_id} 不存在")
    if warning.source == RESPONSE_SOURCE:
        raise BadInput(f"warning_id：{warning_id} 是应急响应通知，不是气象预警", extra={"field": "warning_id"})
    current = await event_of_warning(session, warning_id)
    if current is not None:
        raise Conflict(f"预警 {warning_id} 已属于事件 {current.id}（{current.name}）",
                       extra={"event_id": current.id})
    linked = await link_thread(session, event.id, warning.thread_id or warning.id, actor, now)
    await record(session, actor, "event.link", "event", event.id, after={"warning_ids": linked})
    return linked


async def close_quiet_events(session: AsyncSession, now: datetime, settings: Settings) -> list[int]:
    """Close every open event whose warnings have all ended at least quiet_hours ago; returns their ids."""
    await lock_events(session)
    events = list((await session.execute(select(Event).where(Event.status == "open").order_by(Event.id))).scalars())
    if not events:
        return []
    linked: dict[int, list[LinkedWarning]] = {event.id: [] for event in events}
    rows = await session.execute(
        select(EventWarning.event_id, Warning.status, Warning.closed_at, Warning.expires)
        .join(Warning, Warning.id == EventWarning.warning_id).where(EventWarning.event_id.in_(list(linked))))
    for event_id, status, closed_at, expires in rows:
        linked[event_id].append(LinkedWarning(status, closed_at, expires))
    closed = []
    for event in events:
        ended_at = quiet_close_at(linked[event.id], event.started_at, settings.events.quiet_hours, now)
        if ended_at is not None:
            await close_event(session, event, ended_at=ended_at, closed_by="rule", reason="quiet")
            closed.append(event.id)
    return closed
