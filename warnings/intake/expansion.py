"""Writing an accepted warning's notifications in chunks, most urgent first (routing/urgency.py), each chunk
committed with the expansion's cursor and then handed to the dispatcher; under a lease, so that one process
writes a warning at a time and another resumes after a crash where the cursor says, never twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fangxun.core.audit import record
from fangxun.plans.absence_queries import absences_in_force
from fangxun.plans.absence_rules import with_stand_ins
from fangxun.plans.contact_queries import plan_persons
from fangxun.settings import Settings
from fangxun.warnings.delivery.notices import NewNotice, NoticeWriter, notice_key, notice_payload, signed_writer
from fangxun.warnings.delivery.outbox import N, Claimed, Handoff
from fangxun.warnings.intake.expansion_store import (DONE, EXPANDING, EXPANSION_LEASE, STOPPED, X, Progress,
                                                     progress_of)
from fangxun.warnings.intake.fanout import routed_plan, staff_desks
from fangxun.warnings.intake.lifecycle import previous_recipients
from fangxun.warnings.intake.normalised import NormalisedWarning
from fangxun.warnings.routing.jurisdiction import INSIDE, UNLOCATED
from fangxun.warnings.routing.recipients import (Recipient, WarnedUnit, department_recipients, person_recipients,
                                                 unlocated_recipients)
from fangxun.warnings.routing.tree import RecipientsPlan
from fangxun.warnings.routing.urgency import (DESK_RANK, Deduper, OrderKey, Segment, chunk_size, order_key,
                                              segment_of, segments, units_reached, written_before)
from fangxun.warnings.tables import Warning, WarningExpansion, WarningUnit

log = logging.getLogger(__name__)

class Recipients:
    """Works out an expansion's recipients segment by segment, at its `at` time, in order (read only)."""

    def __init__(self, row: Warning, expansion: WarningExpansion, units: list[WarnedUnit], settings: Settings):
        self.row, self.expansion, self.settings = row, expansion, settings
        self.warning = NormalisedWarning.from_json(row.document)
        self.all_clear = bool(self.warning.all_clear)
        routed = row.jurisdiction == INSIDE
        self.plan: RecipientsPlan | None = routed_plan(self.warning, settings.warnings, units)[0] if routed else None
        levels = self.plan.person_levels if self.plan is not None else frozenset()
        self.segments: list[Segment] = segments(units, levels)
        self.starts = [segment.start for segment in self.segments]
        self._absences = None
        self._previous: dict[int, list[Recipient]] | None = None

    async def previous(self, session: AsyncSession) -> dict[int, list[Recipient]]:
        """Those the warnings told before were sent to, by the segment they fall into (read once)."""
        if self._previous is None:
            plan = self.expansion.plan or {}
            told = await previous_recipients(session, list(plan.get("previous", [])), plan.get("template", ""))
            self._previous = {}
            for recipient in sorted(told, key=order_key):
                self._previous.setdefault(segment_of(self.starts, order_key(recipient)), []).append(recipient)
        return self._previous

    async def of_segment(self, session: AsyncSession, index: int, seen: Deduper) -> tuple[list[Recipient], list[str]]:
        """The new recipients of segment `index` in order (`seen` keeps who was told already), and its units with
        nobody on record."""
        segment = self.segments[index]
        routed, nobody = await self._routed(session, segment)
        if self.all_clear:
            routed = []  # an all-clear tells exactly those told before
        routed = sorted(routed, key=order_key)
        told = sorted(seen.routed(routed) + seen.told_before((await self.previous(session)).get(index, [])),
                      key=order_key)
        if segment.rank == DESK_RANK:
            told = sorted(await staff_desks(session, told, self.settings.warnings, self.expansion.at), key=order_key)
        return told, nobody

    async def _routed(self, session: AsyncSession, segment: Segment) -> tuple[list[Recipient], list[str]]:
        config = self.settings.warnings
        if segment.rank == DESK_RANK:
            if self.plan is not None:
                return department_recipients(self.plan, config), []
            if self.row.jurisdiction == UNLOCATED and not self.all_clear:
                return unlocated_recipients(config), []
            return [], []
        if self.plan is None or not segment.units:
            return [], []
        persons = await plan_persons(session, [unit.code for unit in segment.units])
        if persons:
            if self._absences is None:
                self._absences = await absences_in_force(session, self.expansion.at)
            away, named = self._absences
            persons = with_stand_ins(persons, away, named, config.quiet_hours.timezone)
        return person_recipients(self.plan, config, list(segment.units), persons)


@dataclass
class Chunked:
    """What one run of an expansion did."""

    progress: Progress
    handed: list[Claimed] = field(default_factory=list)  # rows leased to the handoff not yet given (within mode)


class Expansion:
    """Writes a warning's notifications after its acceptance, chunk by chunk in order from its cursor.

    Either each chunk in a transaction of its own, committed and then handed to `handoff` (`sessions`), or every
    chunk in the caller's transaction (`within`), the rows leased to the handoff returned for the caller to give.
    """

    def __init__(self, warning_id: int, settings: Settings, holder: str, clock: Callable[[], datetime], *,
                 handoff: Handoff | None = None, after_chunk: Callable[[int], None] | None = None):
        self.warning_id, self.settings, self.holder, self.clock = warning_id, settings, holder, clock
        self.handoff = handoff
        # Called with the number of chunks committed after each one (a test stops a run there).
        self.after_chunk = after_chunk
        self._context: _Context | None = None

    async def run(self, sessions: async_sessionmaker, rows_limit: int | None = None) -> Progress:
        """Write chunks, each committed then handed over, until done, stopped, or `rows_limit` rows are written by
        this run (then the lease is still ours: call again to go on)."""
        @asynccontextmanager
        async def scope() -> AsyncIterator[AsyncSession]:
            async with sessions() as session, session.begin():
                yield session

        context = self._context  # kept from the first chunk written with the warning (ingest)
        if context is None:
            async with sessions() as session, session.begin():  # committed: the signing secret may be made here
                context = await self._load(session)
        if context is None:
            return await self.progress(sessions)
        return (await self._chunks(scope, context, rows_limit, committing=True)).progress

    async def within(self, session: AsyncSession, chunks: int | None = None) -> Chunked:
        """Write every chunk (or the first `chunks`) in `session`'s transaction; nothing is committed or handed over
        here (the rows leased to the handoff are returned, for the caller to give once it has committed)."""
        @asynccontextmanager
        async def scope() -> AsyncIterator[AsyncSession]:
            yield session

        context = await self._load(session)
        if context is None:
            return Chunked(progress_of(await session.get(WarningExpansion, self.warning_id)))
        chunked = await self._chunks(scope, context, None, committing=False, chunks_limit=chunks)
        # A run after the caller commits goes on from here (what was read, who was told) without reading it again.
        self._context = context if chunked.progress.state == EXPANDING else None
        return chunked

    async def progress(self, sessions: async_sessionmaker) -> Progress:
        """The expansion's progress as recorded."""
        async with sessions() as session:
            return progress_of(await session.get(WarningExpansion, self.warning_id))

    async def _load(self, session: AsyncSession) -> _Context | None:
        """The warning, its expansion and what was written before (on resume); None when it is not ours to write."""
        expansion = await session.get(WarningExpansion, self.warning_id)
        if expansion is None or expansion.finished_at is not None or expansion.lease_holder != self.holder:
            return None
        row = await session.get(Warning, self.warning_id)
        units = [WarnedUnit(code, level, fraction) for code, level, fraction in (await session.execute(
            select(WarningUnit.unit_code, WarningUnit.level, WarningUnit.fraction)
            .where(WarningUnit.warning_id == self.warning_id))).all()]
        seen = Deduper()
        if expansion.written:
            # A resumed expansion: who has a row already is never written again (their notice_key is taken).
            rows = await session.execute(select(N.c.recipient_kind, N.c.recipient_key, N.c.channel, N.c.address)
                                         .where(N.c.warning_id == self.warning_id, N.c.purpose == "notice"))
            for kind, key, channel, address in rows:
                seen.slots.add((kind, key, channel))
                if address:
                    seen.addresses.add((channel, address))
        writer = await signed_writer(session, self.settings.warnings.quiet_hours, self.handoff)
        state = _State(written=expansion.written, chunks=expansion.chunks, unreachable=expansion.unreachable,
                       units_done=expansion.units_done, nobody=list(expansion.units_without_persons or []),
                       cursor=OrderKey(*expansion.last_key) if expansion.last_key else None)
        context = _Context(row, Recipients(row, expansion, units, self.settings), seen, writer, state,
                           dict((expansion.plan or {}).get("chosen", {})))
        if self.handoff is not None:
            self.handoff.know(row.id, row.colour, bool(row.all_clear), dict(row.messages or {}))
        return context

    async def _chunks(self, scope, context: _Context, rows_limit: int | None, committing: bool,
                      chunks_limit: int | None = None) -> Chunked:
        recipients, state = context.recipients, context.state
        total = len(recipients.segments)
        index = _first_segment(recipients, state.cursor)
        pending: list[Recipient] = []
        run_written = run_chunks = 0
        handed_within: list[Claimed] = []
        while True:
            async with scope() as session:
                size = chunk_size(state.chunks)
                while len(pending) < size and index < total:
                    found, nobody = await recipients.of_segment(session, index, context.seen)
                    if state.cursor is not None:
                        found = [r for r in found if order_key(r) > state.cursor]
                    pending += found
                    state.nobody += nobody
                    index += 1
                    await asyncio.sleep(0)  # between segments, the senders in this loop get their turn
                    if state.chunks == 0 and recipients.segments[index - 1].rank == DESK_RANK and pending:
                        break  # the desks alone: their calls start while the rest is worked out
                chunk, pending = pending[:size], pending[size:]
                finished = index >= total and not pending
                reached = OrderKey(*order_key(chunk[-1])) if chunk else state.cursor
                units_done = recipients.expansion.units_total if finished else \
                    units_reached(recipients.segments, reached)
                now = self.clock()
                values = {"written": state.written + len(chunk), "chunks": state.chunks + 1,
                          "unreachable": state.unreachable + sum(1 for r in chunk if r.problem),
                          "units_done": units_done, "units_without_persons": list(dict.fromkeys(state.nobody)),
                          "last_key": list(order_key(chunk[-1])) if chunk else
                          (list(state.cursor) if state.cursor else None),
                          "lease_until": now + EXPANSION_LEASE}
                if finished:
                    values.update(finished_at=now, lease_until=None)
                # The guard comes first: it takes the expansion's lock, so a Cancel (stop_expansions) waits for
                # this chunk and then cancels its rows, or this chunk finds the expansion stopped.
                guarded = await session.execute(update(X).where(
                    X.c.warning_id == self.warning_id, X.c.lease_holder == self.holder, X.c.finished_at.is_(None))
                    .values(**values))
                if (guarded.rowcount or 0) != 1:
                    log.info("expansion of warning %s stopped or taken over; %s stops writing", self.warning_id,
                             self.holder, extra={"warning_id": self.warning_id})
                    break
                handed = await context.writer.write(session, self._notices(context, chunk), now)
                if finished:
                    await record(session, "system", "warning.expanded", "warning", self.warning_id, after={
                        "notifications": values["written"], "unreachable": values["unreachable"],
                        "chunks": values["chunks"]})
            state.written, state.chunks, state.unreachable = values["written"], values["chunks"], values["unreachable"]
            state.units_done = units_done
            if chunk:
                state.cursor = order_key(chunk[-1])
            run_written += len(chunk)
            if committing:
                if self.handoff is not None and handed:
                    self.handoff.take(handed)
            else:
                handed_within += handed
            if self.after_chunk is not None:
                self.after_chunk(state.chunks)
            await asyncio.sleep(0)  # the dispatcher, sharing this loop, starts on the rows just handed
            run_chunks += 1
            if finished or (rows_limit is not None and run_written >= rows_limit) or \
                    (chunks_limit is not None and run_chunks >= chunks_limit):
                break
        state_name = DONE if finished else EXPANDING
        progress = Progress(state_name, state.written, state.unreachable, state.units_done,
                            recipients.expansion.units_total, list(dict.fromkeys(state.nobody)))
        if (guarded.rowcount or 0) != 1:
            progress.state = STOPPED
        return Chunked(progress, handed_within)

    def _notices(self, context: _Context, chunk: list[Recipient]) -> list[NewNotice]:
        row, payloads, chosen = context.row, context.payloads, context.chosen
        notices = []
        for recipient in chunk:
            shared = (recipient.template, recipient.role)
            payload = payloads.get(shared)
            if payload is None:
                payload = payloads[shared] = notice_payload(row, chosen.get(recipient.template, recipient.template),
                                                            recipient.role)
            notices.append(NewNotice(self.warning_id, recipient, payload, notice_key(self.warning_id, recipient)))
        return notices


@dataclass
class _State:
    written: int
    chunks: int
    unreachable: int
    units_done: int
    nobody: list[str]
    cursor: OrderKey | None


@dataclass
class _Context:
    row: Warning
    recipients: Recipients
    seen: Deduper
    writer: NoticeWriter
    state: _State
    chosen: dict
    payloads: dict = field(default_factory=dict)


def _first_segment(recipients: Recipients, cursor: OrderKey | None) -> int:
    """The first segment not wholly written before `cursor`."""
    starts = recipients.starts
    index = 0
    while index < len(starts) and written_before(starts[index + 1] if index + 1 < len(starts) else None, cursor):
        index += 1
    return index
