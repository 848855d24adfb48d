"""The duty board's warning threads: the picker (threads in force first, then those ended lately), and one thread's
timeline (Alert → Update → Cancel) with each message's counts, the desks it reached and whether units must be
assigned."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.errors import NotFound
from fangxun.warnings.acks.reply_queries import unmatched_replies
from fangxun.warnings.board_groups import add_counts, empty_counts
from fangxun.warnings.board_rows import BoardRows, N
from fangxun.warnings.board_rules import COUNT_LABELS, FILTERS, LEVEL_FILTERS, focus_message, message_step
from fangxun.warnings.delivery.backlog import held_back_lines
from fangxun.warnings.drills.rules import marked_title
from fangxun.warnings.intake.expansion_store import unfinished
from fangxun.warnings.queries import STATE_LABELS, WARNING_STATUS_LABELS, iso, ours
from fangxun.warnings.routing.jurisdiction import UNLOCATED
from fangxun.warnings.tables import Warning
from fangxun.warnings.vocabulary import COLOUR_LABELS, RESPONSE_SOURCE

W = Warning.__table__
# What a timeline needs of a message (not its documents, whose XML and JSON can be large).
_MESSAGE_COLUMNS = (W.c.id, W.c.thread_id, W.c.identifier, W.c.msg_type, W.c.sent, W.c.event, W.c.colour,
                    W.c.headline, W.c.status, W.c.closed_at, W.c.expires, W.c.all_clear, W.c.jurisdiction,
                    W.c.areas, W.c.source, W.c.sender_name, W.c.cap_status)
# The thread a message belongs to (its own id for the first message).
THREAD = func.coalesce(W.c.thread_id, W.c.id)
BOARD_STATE_LABELS = {**STATE_LABELS, "informed": "已告知（无需确认）"}
MAX_AREA_NAMES = 6


async def _messages(session: AsyncSession, thread_ids: list[int]) -> dict[int, list]:
    """The messages of these threads, oldest first, by thread."""
    rows = await session.execute(select(*_MESSAGE_COLUMNS).where(
        or_(W.c.thread_id.in_(thread_ids), and_(W.c.id.in_(thread_ids), W.c.thread_id.is_(None))))
        .order_by(W.c.sent, W.c.id))
    found: dict[int, list] = {}
    for row in rows:
        found.setdefault(row.thread_id or row.id, []).append(row)
    return found


async def message_counts(session: AsyncSession, warning_ids: list[int], now: datetime) -> dict[int, dict[str, int]]:
    """The board's counts of each message's recipients (deadlines after reminders)."""
    counts = {warning_id: empty_counts() for warning_id in warning_ids}
    if not warning_ids:
        return counts
    rows = BoardRows(warning_ids, now)
    for row in await session.execute(select(N.c.warning_id, *rows.count_columns()).select_from(rows.counted)
                                     .where(*rows.where).group_by(N.c.warning_id)):
        add_counts(counts[row.warning_id], row)
    return counts


def _areas(message) -> list[str]:
    names = [area.get("description", "") for area in message.areas or () if isinstance(area, dict)]
    return list(dict.fromkeys(name for name in names if name and name.strip()))[:MAX_AREA_NAMES]


def _status(messages: list) -> str:
    if any(message.status == "active" for message in messages):
        return "active"
    return messages[-1].status


def _unlocated(messages: list) -> int | None:
    """The message in force whose areas could not be placed (units are to be assigned by hand), if any."""
    return next((m.id for m in messages if m.status == "active" and m.jurisdiction == UNLOCATED), None)


def _headline(message) -> str:
    """A message's headline as the board shows it: an exercise's opens with 【演练】."""
    headline = message.headline or message.identifier
    return marked_title(headline) if message.cap_status == "Exercise" else headline


def thread_summary(messages: list, counts: dict[str, int], expanding: dict | None = None) -> dict:
    """A thread as the picker lists it: what its focus message says and its counts (and, while the focus message's
    notifications are still being written, how far that has got: its counts are not its total yet)."""
    focus = next(m for m in messages if m.id == focus_message([(m.id, bool(m.all_clear)) for m in messages]))
    status, last = _status(messages), messages[-1]
    step = message_step(last.msg_type, bool(last.all_clear), last.colour,
                        messages[-2].colour if len(messages) > 1 else None)
    return {
        "thread_id": messages[0].thread_id or messages[0].id, "focus_id": focus.id, "status": status,
        "status_label": WARNING_STATUS_LABELS.get(status, status), "event": focus.event, "colour": focus.colour,
        "colour_label": COLOUR_LABELS.get(focus.colour, ""), "headline": _headline(focus),
        "exercise": focus.cap_status == "Exercise",
        "sender_name": focus.sender_name, "response": focus.source == RESPONSE_SOURCE, "areas": _areas(focus),
        "sent": iso(messages[0].sent), "updated": iso(last.sent), "closed_at": iso(last.closed_at),
        "last_step": step[1], "messages": len(messages), "unlocated_id": _unlocated(messages), "counts": counts,
        "expanding": expanding,
    }


async def board_threads(session: AsyncSession, now: datetime, *, recent_hours: int,
                        channels: Mapping[str, object] | None = None) -> dict:
    """The board's head: the threads of ours in force and those ended in the last `recent_hours` (in force first,
    then the latest), the channels whose rate or block holds messages back, and the SMS replies of those hours tied
    to no warning."""
    touched = select(THREAD).where(
        or_(Warning.status == "active", Warning.closed_at >= now - timedelta(hours=recent_hours)), ours())
    thread_ids = sorted(set((await session.execute(touched)).scalars()))
    by_thread = await _messages(session, thread_ids) if thread_ids else {}
    focus = {tid: focus_message([(m.id, bool(m.all_clear)) for m in messages]) for tid, messages in by_thread.items()}
    counts = await message_counts(session, list(focus.values()), now)
    expanding = await unfinished(session, list(focus.values()))
    threads = [thread_summary(messages, counts[focus[tid]], expanding.get(focus[tid]))
               for tid, messages in by_thread.items()]
    threads.sort(key=lambda t: (t["status"] == "active", t["updated"] or "", t["thread_id"]), reverse=True)
    return {"as_of": iso(now), "recent_hours": recent_hours, "threads": threads,
            "state_labels": BOARD_STATE_LABELS, "count_labels": COUNT_LABELS, "filters": FILTERS,
            "levels": LEVEL_FILTERS, "held_back": await held_back_lines(session, channels or {}, now),
            "sms_replies_unmatched": await unmatched_replies(session, now - timedelta(hours=recent_hours))}


async def thread_messages(session: AsyncSession, message_id: int) -> list:
    """The messages of the thread `message_id` belongs to, oldest first; NotFound for an unknown message."""
    thread_id = (await session.execute(select(THREAD).where(Warning.id == message_id))).scalar_one_or_none()
    if thread_id is None:
        raise NotFound(f"预警 {message_id} 不存在")
    return (await _messages(session, [thread_id]))[thread_id]


async def thread_board(session: AsyncSession, message_id: int, now: datetime,
                       departments: Mapping[str, str]) -> dict:
    """One thread for the board: its summary, the timeline of its messages with each one's counts, and the
    department desks it reached (for the filter)."""
    messages = await thread_messages(session, message_id)
    ids = [message.id for message in messages]
    counts = await message_counts(session, ids, now)
    expanding = await unfinished(session, ids)
    timeline, previous = [], None
    for message in messages:
        kind, label = message_step(message.msg_type, bool(message.all_clear), message.colour, previous)
        timeline.append({
            "id": message.id, "msg_type": message.msg_type, "step": kind, "step_label": label,
            "colour": message.colour, "colour_label": COLOUR_LABELS.get(message.colour, ""),
            "event": message.event, "headline": _headline(message), "sent": iso(message.sent),
            "exercise": message.cap_status == "Exercise",
            "expires": iso(message.expires), "closed_at": iso(message.closed_at), "status": message.status,
            "status_label": WARNING_STATUS_LABELS.get(message.status, message.status),
            "all_clear": bool(message.all_clear), "jurisdiction": message.jurisdiction, "areas": _areas(message),
            "counts": counts[message.id], "expanding": expanding.get(message.id)})
        previous = message.colour if not message.all_clear else previous
    reached = (await session.execute(select(N.c.recipient_key).where(
        N.c.warning_id.in_(ids), N.c.recipient_kind.in_(("department", "department_leader"))).distinct())).scalars()
    totals = empty_counts()
    for bucket in counts.values():
        for key, value in bucket.items():
            totals[key] += value
    focus = focus_message([(m.id, bool(m.all_clear)) for m in messages])
    summary = thread_summary(messages, counts[focus], expanding.get(focus))
    return {**summary, "as_of": iso(now), "timeline": timeline, "all_counts": totals,
            "departments": [{"key": key, "name": departments.get(key, key)} for key in sorted(reached)]}
