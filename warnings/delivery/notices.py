"""The one writer of notification rows, whatever they are for (first notice, reminder, escalation, decision
notice, demo history), and of their 叫应 state.

A row is made from a NewNotice (to whom, about which warning, why, with which payload) by a NoticeWriter,
which adds what every row has in common: the ack token of its idempotency key (only the token's hash is
stored), the due time (quiet hours hold blue and yellow), the priority (by colour; reminders and escalations
after every first notice), and the lease when a dispatcher in this process takes it straight away
(outbox.Handoff). Rows are inserted a chunk at a time as the insert takes them: one COPY on PostgreSQL,
executemany on SQLite (a city-wide fan-out is ten thousand).

The UPDATEs of 叫应 state (acknowledged, reminded, escalated, looked at again later) are here too: this
module owns a notification's life apart from its sending; outbox.py owns the sending state (claim, lease,
record, hold, cancel), which only the dispatcher and the warning lifecycle change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import partial
from itertools import chain
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.accounts import signing_secret
from fangxun.core.audit import audit_row, record_many
from fangxun.core.bulk import bulk_insert, bulk_insert_chunks, reserve_ids
from fangxun.warnings import telemetry
from fangxun.warnings.acks.tokens import ack_token, token_hash
from fangxun.warnings.config import QuietHours
from fangxun.warnings.delivery.outbox import Claimed, Handoff
from fangxun.warnings.routing.quiet_hours import release_time
from fangxun.warnings.routing.recipients import Recipient
from fangxun.warnings.tables import Notification
from fangxun.warnings.vocabulary import priority as priority_of

N = Notification.__table__
# Rows are made this many at a time, as the insert takes them (the server writes one chunk while the
# next is made).
ROWS_PER_CHUNK = 1000
_IDS_PER_STATEMENT = 1000
# What a follow-up replaces of its source's payload.
_FOLLOW_UP_KEYS = ("title_prefix", "note", "role", "duty", "escalated_from_ids")


class NewNotice(NamedTuple):
    """One notification to create: to whom, about which warning, why, and the payload its text comes from.

    (A named tuple: a city-wide warning makes ten thousand.)
    """

    warning_id: int
    recipient: Recipient  # its `problem`, if any, makes the row born `failed`
    payload: dict
    key: str  # the idempotency key: notice_key, reminder_key or escalation_key
    purpose: str = "notice"  # tables.PURPOSES
    step: int = 0  # the escalation step
    escalated_from_id: int | None = None  # the notification a reminder repeats or an escalation reports
    drill_id: int | None = None  # a drill's message (warning_id None)


def notice_key(warning_id: int, recipient: Recipient) -> str:
    """The idempotency key of a first notice: one per warning, recipient and channel."""
    return f"fx-{warning_id}-{recipient.kind}-{recipient.key}-{recipient.channel}"


def reminder_key(warning_id: int, source_id: int, number: int) -> str:
    """The idempotency key of the `number`th reminder of notification `source_id`."""
    return f"fx-{warning_id}-n{source_id}-r{number}"


def escalation_key(warning_id: int, step: int, recipient: Recipient, first_id: int) -> str:
    """The idempotency key of an escalation at `step` to `recipient`, reporting notification `first_id` (and others)."""
    return f"fx-{warning_id}-e{step}-{recipient.kind}-{recipient.key}-{recipient.channel}-n{first_id}"


def drill_escalation_key(drill_id: int, step: int, recipient: Recipient, first_id: int) -> str:
    """escalation_key for a drill's escalation."""
    return f"drill-{drill_id}-e{step}-{recipient.kind}-{recipient.key}-{recipient.channel}-n{first_id}"


def notice_payload(warning, template: str, role: str | None = None, **extra) -> dict:
    """A first notice's payload: the facts of `warning` (a Warning row, or anything with its attributes), the
    template its text comes from (rendered once on the warning), the recipient's role and `extra`. (The writer
    adds each recipient's duty line to the stored copy.)"""
    payload = {"warning_id": warning.id, "thread_id": warning.thread_id, "identifier": warning.identifier,
               "event": warning.event, "colour": warning.colour, "msg_type": warning.msg_type,
               "cap_status": warning.cap_status, "message": template, "purpose": "notice"}
    if role:
        payload["role"] = role
    payload.update(extra)
    return payload


def follow_up_payload(source: dict, purpose: str, title_prefix: str, *, note: str = "", keep_role: bool = False,
                      sources: list[int] | None = None) -> dict:
    """A reminder's or escalation's payload: its source's message with a title prefix and a lead note of its
    own (replacing the source's, so a chain of escalations never nests one text inside another). A reminder
    keeps its source's role and duty line (`keep_role`: the same person); an escalation's recipient brings
    their own line."""
    payload = {key: value for key, value in source.items() if key not in _FOLLOW_UP_KEYS}
    payload.update(purpose=purpose, title_prefix=title_prefix)
    if note:
        payload["note"] = note
    if keep_role:
        payload.update({key: source[key] for key in ("role", "duty") if key in source})
    if sources:
        payload["escalated_from_ids"] = sources
    return payload


class _Stamp(NamedTuple):
    """What the reachable rows of one colour made at one time share."""

    due_at: datetime
    priority: int
    status: str  # pending, or sending when leased to the holder (due at once)
    lease_until: datetime | None
    claimed_by: str | None


class NoticeWriter:
    """Makes and inserts notification rows, each carrying the hash of its ack token; with a `holder`, rows due
    at once are born `sending`, leased to that dispatcher (see outbox.Handoff)."""

    def __init__(self, token: Callable[[str], str], quiet_hours: QuietHours, holder: Handoff | None = None):
        self.token, self.quiet_hours, self.holder = token, quiet_hours, holder

    @classmethod
    def signed(cls, secret: bytes, quiet_hours: QuietHours, holder: Handoff | None = None) -> NoticeWriter:
        """A writer whose tokens are signed with `secret`: the links recipients follow (tokens.ack_token)."""
        return cls(partial(ack_token, secret), quiet_hours, holder)

    def due_at(self, colour: str | None, now: datetime) -> datetime:
        """When a row of `colour` made at `now` is due: at once, or when quiet hours end."""
        return release_time(colour, now, self.quiet_hours) or now

    def row(self, notice: NewNotice, now: datetime) -> dict:
        """The outbox row of `notice` made at `now`, as a dict for insert_notifications."""
        return self._row(notice, now, self._stamp(notice.payload.get("colour"), notice.purpose, now), {})[0]

    def _stamp(self, colour: str | None, purpose: str, now: datetime) -> _Stamp:
        """What the reachable rows of `colour` made for `purpose` at `now` share."""
        due_at = self.due_at(colour, now)
        priority = priority_of(colour, purpose)
        if self.holder is not None and due_at <= now:
            return _Stamp(due_at, priority, "sending", now + self.holder.lease, self.holder.worker_id)
        return _Stamp(due_at, priority, "pending", None, None)

    def _row(self, notice: NewNotice, now: datetime, stamp: _Stamp, merged: dict) -> tuple[dict, str]:
        """The row and its ack token (only the token's hash is stored); with a problem it is born `failed`. The
        stored payload carries the recipient's duty line (one copy per payload and line, kept in `merged`)."""
        warning_id, recipient, payload, key, purpose, step, escalated_from_id, drill_id = notice
        kind, recipient_key, name, unit_code, level, channel, address, _, _, problem, duty, _ = recipient
        if duty:
            shared = (id(payload), duty)
            if shared not in merged:
                merged[shared] = {**payload, "duty": duty}
            payload = merged[shared]
        due_at, priority, status, lease_until, claimed_by = stamp
        if problem:
            due_at, status, lease_until, claimed_by = None, "failed", None, None
        token = self.token(key)
        return {
            "warning_id": warning_id, "recipient_kind": kind, "recipient_key": recipient_key,
            "recipient_name": name[:100], "unit_code": unit_code, "level": level, "channel": channel,
            "address": address, "payload": payload, "idempotency_key": key, "purpose": purpose, "status": status,
            "priority": priority, "attempts": 0, "next_attempt_at": due_at, "lease_until": lease_until,
            "claimed_by": claimed_by, "last_error": problem, "ack_token_hash": token_hash(token), "ack_deadline": None,
            "acked_at": None, "acked_via": None, "acked_late": False, "escalation_step": step,
            "escalated_from_id": escalated_from_id, "drill_id": drill_id, "reminders_sent": 0, "escalated_at": None, "created_at": now,
            "delivered_at": None,
        }, token

    async def write(self, session: AsyncSession, notices: Sequence[NewNotice], now: datetime) -> list[Claimed]:
        """INSERT the rows of `notices` made at `now`, in the session's transaction; the rows born leased to the
        holder, for the caller to hand over once the transaction has committed. With a holder, the rows' ids are
        reserved first: on SQLite call it once the transaction has written something (see reserve_ids)."""
        if not notices:
            return []
        ids = await reserve_ids(session, N, len(notices)) if self.holder is not None else None
        handed: list[Claimed] = []
        await insert_notification_chunks(session, self._chunks(notices, now, ids, handed))
        return handed

    def _chunks(self, notices: Sequence[NewNotice], now: datetime, ids: list[int] | None,
                handed: list[Claimed]) -> Iterator[list[dict]]:
        """The rows, made a chunk at a time as the insert takes them; with reserved `ids`, the rows born
        leased to the holder are added to `handed` as they are made."""
        stamps: dict[tuple[str | None, str], _Stamp] = {}  # by colour and purpose
        merged: dict[tuple[int, str], dict] = {}  # (payload, duty line) -> the stored payload
        for start in range(0, len(notices), ROWS_PER_CHUNK):
            chunk = []
            for offset, notice in enumerate(notices[start:start + ROWS_PER_CHUNK], start):
                kind = (notice.payload.get("colour"), notice.purpose)
                stamp = stamps.get(kind)
                if stamp is None:
                    stamp = stamps[kind] = self._stamp(*kind, now)
                row, token = self._row(notice, now, stamp, merged)
                if ids is not None:
                    row["id"] = ids[offset]
                    if row["status"] == "sending":
                        # The dispatcher gets the payload the notices share, and the line beside it.
                        handed.append(Claimed.of_new_row(row, token, notice.payload, notice.recipient.duty))
                chunk.append(row)
            yield chunk


async def signed_writer(session: AsyncSession, quiet_hours: QuietHours, holder: Handoff | None = None) -> NoticeWriter:
    """A writer signing ack tokens with this database's secret."""
    return NoticeWriter.signed(await signing_secret(session), quiet_hours, holder)


async def insert_notifications(session: AsyncSession, rows: list[dict]) -> None:
    """Bulk INSERT of rows made by NoticeWriter.row (COPY on PostgreSQL, the driver's executemany on SQLite)."""
    await bulk_insert(session, N, rows)


async def insert_notification_chunks(session: AsyncSession, chunks: Iterable[list[dict]]) -> None:
    """Bulk INSERT of rows made chunk by chunk as the insert takes them: on PostgreSQL the server writes one
    chunk while the next is made."""
    chunks = iter(chunks)
    first = next(chunks, None)
    if not first:
        return
    keys = tuple(first[0])  # every row of NoticeWriter has the same keys
    values = itemgetter(*keys)
    await bulk_insert_chunks(session, N, keys, ([values(row) for row in chunk] for chunk in chain([first], chunks)))


# --- 叫应 state ---------------------------------------------------------------------------------------

async def record_ack(session: AsyncSession, notification: Notification, now: datetime, via: str) -> None:
    """Record 叫应 at `now` on `notification` and on the rest of its group (a notice and the reminders that
    repeat it), each late when past its own deadline; the group's reminders not yet sent are cancelled."""
    await record_acks(session, [notification], now, via)


async def record_acks(session: AsyncSession, answered: Sequence, now: datetime, via: str) -> None:
    """record_ack for each of `answered` (rows with id, purpose and escalated_from_id), a few statements for the
    lot (key 1 pressed on a thousand calls). The groups are read first by their keys (an UPDATE conditioned on
    acked_at would walk every unanswered row of the outbox), then changed by id."""
    for start in range(0, len(answered), _IDS_PER_STATEMENT):
        part = answered[start:start + _IDS_PER_STATEMENT]
        ids = {row.id for row in part}
        origins = sorted({row.escalated_from_id if row.purpose == "reminder" else row.id for row in part})
        group = (await session.execute(
            select(N.c.id, N.c.status, N.c.acked_at, N.c.warning_id, N.c.recipient_key, N.c.recipient_name,
                   N.c.channel, N.c.ack_deadline)
            .where(or_(N.c.id.in_(origins), and_(N.c.escalated_from_id.in_(origins), N.c.purpose == "reminder")))
            .with_for_update())).all()
        # The answered rows themselves, and the rest of their groups that went out; reminders not yet sent stop.
        acked = [row.id for row in group if row.acked_at is None and (row.id in ids or row.status != "pending")]
        stopped = [row.id for row in group if row.status == "pending" and row.id not in ids]
        late = and_(N.c.ack_deadline.is_not(None), N.c.ack_deadline < now)
        if acked:
            await session.execute(update(N).where(N.c.id.in_(acked), N.c.acked_at.is_(None))
                                  .values(acked_at=now, acked_via=via, acked_late=late))
            # Answers, not rows: the reminders that repeat an answered notice are not counted again.
            answers = [row for row in group if row.id in ids and row.acked_at is None]
            telemetry.acknowledged(via, len(answers))
            await record_many(session, [_ack_audit(row, now, via) for row in answers])
        if stopped:
            await session.execute(update(N).where(N.c.id.in_(stopped), N.c.status == "pending")
                                  .values(status="cancelled", last_error="已叫应，无需再提醒"))


def _ack_audit(row, now: datetime, via: str) -> dict:
    """The audit row of one answer: who (the recipient's key), which notification, which way; never its token."""
    late = row.ack_deadline is not None and row.ack_deadline < now
    return audit_row(f"recipient:{row.recipient_key}", "notification.ack", "notification", row.id, after={
        "via": via, "warning_id": row.warning_id, "recipient": row.recipient_name, "channel": row.channel,
        "late": late}, at=now)


async def take_reminders(session: AsyncSession, sent: dict[int, int]) -> set[int]:
    """Count one more reminder on each row of `sent` (id -> reminders sent so far) whose count has not moved
    meanwhile; the ids counted (a repeated or concurrent run finds none)."""
    by_count: dict[int, list[int]] = {}
    for key, count in sent.items():
        by_count.setdefault(count, []).append(key)
    taken: set[int] = set()
    for count, ids in by_count.items():
        taken |= await _take(session, ids, N.c.reminders_sent == count, reminders_sent=count + 1)
    return taken


async def take_escalations(session: AsyncSession, ids: list[int], now: datetime) -> set[int]:
    """Mark the rows of `ids` escalated at `now` unless they already are; the ids marked."""
    return await _take(session, ids, N.c.escalated_at.is_(None), escalated_at=now)


async def check_later(session: AsyncSession, until: dict[int, datetime]) -> None:
    """Leave each row of `until` (id -> time) unread by the escalation job before that time."""
    if until:
        await session.execute(update(N).where(N.c.id == bindparam("b_id")).values(ack_check_after=bindparam("b_at")),
                              [{"b_id": key, "b_at": at} for key, at in until.items()])


async def _take(session: AsyncSession, ids: list[int], condition, **values) -> set[int]:
    """UPDATE the rows of `ids` still meeting `condition`; the ids that were updated."""
    taken: set[int] = set()
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        result = await session.execute(update(N).where(N.c.id.in_(ids[start:start + _IDS_PER_STATEMENT]), condition)
                                       .values(**values).returning(N.c.id))
        taken.update(result.scalars())
    return taken
