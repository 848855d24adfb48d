"""Accepting a warning: the warning, its units and its expansion in one transaction, on disk before the answer (the
units of a named subtree, for a warning told in chunks, just after the desks' chunk commits: pending_units.py); then
its notifications, in chunks most urgent first (expansion.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fangxun.core.audit import record
from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_rules import level_rank
from fangxun.settings import Settings
from fangxun.warnings.delivery.notices import NewNotice, notice_key, notice_payload
from fangxun.warnings.delivery.outbox import ACK_SLOT, DUTY_SLOT, RECIPIENT_SLOT, Claimed, Handoff
from fangxun.warnings.events.grouping import attach_warning
from fangxun.warnings.intake import lifecycle
from fangxun.warnings.intake.expansion import Chunked, Expansion
from fangxun.warnings.intake.expansion_runner import ExpansionRunner
from fangxun.warnings.intake.expansion_store import EXPANDING, EXPANSION_LEASE, NONE, Progress, start_expansion
from fangxun.warnings.intake.expiry import expiry_caveat
from fangxun.warnings.intake.fanout import routed_plan
from fangxun.warnings.intake.normalised import NormalisedWarning
from fangxun.warnings.intake.pending_units import PENDING
from fangxun.warnings.intake.placing import KEPT_ROUTING_UNITS, place, write_warned_units
from fangxun.warnings.routing.jurisdiction import INSIDE, OUTSIDE, UNLOCATED
from fangxun.warnings.routing.recipients import UNLOCATED_TEMPLATE, Fanout, Recipient, WarnedUnit
from fangxun.warnings.routing.templates import message_context, render
from fangxun.warnings.routing.wording import ALL_CLEAR, message_kind, template_for
from fangxun.warnings.tables import Warning
from fangxun.warnings.vocabulary import RESPONSE_SOURCE

log = logging.getLogger(__name__)

# Test, System and Draft messages are stored but tell nobody; Exercise (演练) is sent like Actual.
NOTIFYING_CAP_STATUSES = ("Actual", "Exercise")
_MAX_AREA_NAMES = 12
UNLOCATED_NOTE = "预警区域无法定位到本辖区的区划：已通知市防汛值班室，请编辑人员人工指定影响区划"
ORPHAN_ALL_CLEAR_NOTE = "解除消息未引用本系统收到的预警：仅存档，未通知任何人"
# The holder of expansions written within the caller's transaction (accept): never seen by another transaction.
WITHIN = "within"
# An intake with an expansion runner writes its chunks until this many notifications are written before it answers
# (a small warning all of them: the desks' chunk and the next); the runner writes the rest.
INLINE_ROWS = 1000
# A warning routed to more units than this is answered once its desks' chunk is committed (it could not be complete
# by INLINE_ROWS anyway): copying a province's units and reading their persons is the runner's, after the answer.
INLINE_UNITS = 300
# How long the intake leaves the event loop to the dispatcher once it has handed over the first chunk.
HEAD_START_SECONDS = 0.05


@dataclass
class IntakeResult:
    """What accepting a message did."""

    warning: Warning
    created: bool  # False: the same identifier+sender+sent was already held (nothing written)
    notifications: int = 0  # written so far (all of them once the expansion is done)
    # Persons on record with no address on any routed channel: each has one `failed` notification
    # with last_error 无可用联系方式 (so the board shows them and escalation starts at once).
    unreachable: int = 0
    units: int = 0
    units_without_persons: list[str] = field(default_factory=list)
    unknown_references: list[dict] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    cancelled_notifications: int = 0
    event_id: int | None = None  # the 降雨过程 / 雨雪冰冻 event the warning joined or opened
    handed: list[Claimed] = field(default_factory=list)  # rows leased to the handoff, to give it after commit
    # Writing the notifications after acceptance (intake/expansion.py); none: the message tells nobody.
    expansion: Progress = field(default_factory=lambda: Progress(NONE))

    def took(self, progress: Progress) -> None:
        """Take the counts of the expansion so far."""
        self.expansion = progress
        self.notifications, self.unreachable = progress.written, progress.unreachable
        self.units_without_persons = progress.units_without_persons

    def as_json(self) -> dict:
        """Plain JSON for the API and the CLI: while the notifications are still being written, their total is not
        known yet (null) and `expansion` says how far it has got."""
        known = self.expansion.state != EXPANDING
        return {"warning_id": self.warning.id, "thread_id": self.warning.thread_id, "created": self.created,
                "status": self.warning.status, "notifications": self.notifications if known else None,
                "notifications_written": self.notifications, "expansion": self.expansion.as_json(),
                "unreachable": self.unreachable if known else None, "units": self.units,
                "units_without_persons": self.units_without_persons if known else None,
                "unknown_references": self.unknown_references, "superseded": self.superseded,
                "cancelled": self.cancelled, "cancelled_notifications": self.cancelled_notifications,
                "event_id": self.event_id, "jurisdiction": self.warning.jurisdiction,
                "in_jurisdiction": self.warning.jurisdiction == INSIDE, "all_clear": bool(self.warning.all_clear),
                "notes": list(self.warning.notes or [])}


async def _area_names(session: AsyncSession, warning: NormalisedWarning, units: list[WarnedUnit],
                      previous: Warning | None = None) -> list[str]:
    """The areas as people read them: the message's own descriptions, else the top warned units' names, else
    (a Cancel naming no area) those of the warning it changes."""
    described = [area.description for area in warning.areas if area.description.strip()]
    if described:
        return list(dict.fromkeys(described))[:_MAX_AREA_NAMES]
    if not units:
        if previous is not None and not warning.areas:
            earlier = [area.get("description", "") for area in previous.areas or ()]
            return list(dict.fromkeys(name for name in earlier if name.strip()))[:_MAX_AREA_NAMES]
        return []
    top = min(level_rank(unit.level) for unit in units)
    codes = [unit.code for unit in units if level_rank(unit.level) == top][:_MAX_AREA_NAMES]
    rows = await session.execute(select(AdminUnit.name).where(AdminUnit.code.in_(codes)).order_by(AdminUnit.code))
    return list(rows.scalars())


def _warning_row(warning: NormalisedWarning, now: datetime, raw: str | None, source: str, entered_by: str) -> Warning:
    return Warning(
        identifier=warning.identifier, sender=warning.sender, sent=warning.sent, msg_type=warning.msg_type,
        cap_status=warning.status, scope=warning.scope, references=[r.as_json() for r in warning.references],
        event=warning.event, colour=warning.colour, severity=warning.severity, urgency=warning.urgency,
        certainty=warning.certainty, onset=warning.onset, effective=warning.effective, expires=warning.expires,
        expires_assumed=warning.expires_assumed, all_clear=warning.all_clear, notes=list(warning.notes),
        headline=warning.headline,
        description=warning.description, instruction=warning.instruction, sender_name=warning.sender_name,
        language=warning.language, areas=[area.as_json() for area in warning.areas], document=warning.as_json(),
        raw=raw, source=source, status="active", received_at=now, entered_by=entered_by)


async def accept_warning(session: AsyncSession, warning: NormalisedWarning, settings: Settings, now: datetime, *,
                         holder: str, raw: str | None = None, source: str = "cap", entered_by: str = "",
                         handoff: Handoff | None = None) -> IntakeResult:
    """Store `warning`, its units and, when it tells anyone, its expansion leased to `holder` (whose chunks write
    the notifications next, expansion.py), in the caller's transaction; no audit row yet (`audit_intake`).

    The same identifier+sender+sent again returns the stored warning and writes nothing.
    """
    existing = await lifecycle.find_existing(session, warning)
    if existing is not None:
        return IntakeResult(existing, created=False)
    referenced, missing = await lifecycle.find_referenced(session, warning.references)
    placed = await place(session, warning)
    jurisdiction = lifecycle.thread_jurisdiction(placed.jurisdiction, referenced)
    # Routing and the area names look at the named subtrees' tops and the shaped units, never at every unit.
    units = placed.routing if jurisdiction == INSIDE else []

    row = _warning_row(warning, now, raw, source, entered_by)
    row.jurisdiction = jurisdiction
    session.add(row)
    await session.flush()
    row.thread_id = lifecycle.thread_for(referenced) or row.id
    change = await lifecycle.apply(session, row, referenced, now, handoff)
    row.status = lifecycle.status_on_arrival(row, now)
    if row.status != "active":
        row.closed_at = now
    if warning.all_clear and not referenced:
        row.notes = [*row.notes, ORPHAN_ALL_CLEAR_NOTE]
    if jurisdiction == UNLOCATED and not warning.all_clear:
        row.notes = [*row.notes, UNLOCATED_NOTE]
    await session.flush()
    notifying = warning.status in NOTIFYING_CAP_STATUSES and row.status in ("active", "cancelled")
    # Told in chunks (ingest): a named subtree is copied just after the desks' chunk commits (pending_units.py).
    defer = notifying and holder != WITHIN
    levels, pending = await write_warned_units(session, row.id, placed, defer) if units else ({}, [])

    result = IntakeResult(row, created=True, units=sum(levels.values()), unknown_references=[r.as_json() for r in missing],
                          superseded=change.superseded, cancelled=change.cancelled,
                          cancelled_notifications=change.cancelled_notifications)
    if notifying:
        told_before = sorted({r.id for r in referenced} | set(change.superseded) | set(change.cancelled))
        if jurisdiction == INSIDE:
            plan, template = routed_plan(warning, settings.warnings, units)
            templates = {delivery.template for delivery in plan.deliveries}
            routed_units = sum(count for level, count in levels.items() if level in plan.person_levels)
        else:
            template, routed_units = UNLOCATED_TEMPLATE, 0
            templates = {UNLOCATED_TEMPLATE} if jurisdiction == UNLOCATED and not warning.all_clear else set()
        if warning.all_clear:
            templates = set()
        if told_before:
            templates.add(template)
        chosen = await render_messages(session, row, warning, units, templates, settings)
        plan_facts = {"previous": told_before, "template": template, "chosen": chosen}
        if len(units) <= KEPT_ROUTING_UNITS:
            plan_facts["routing"] = [[unit.code, unit.level] for unit in units]
        if pending:
            plan_facts[PENDING] = pending
        await start_expansion(session, row.id, now, plan_facts, routed_units, holder, now + EXPANSION_LEASE)
        result.expansion = Progress(EXPANDING, units_total=routed_units)
    if source != RESPONSE_SOURCE and jurisdiction != OUTSIDE:
        result.event_id = await attach_warning(session, row, settings, now)
    return result


async def audit_intake(session: AsyncSession, result: IntakeResult, actor: str) -> None:
    """The audit row of an accepted warning, with its counts (null while its notifications are being written)."""
    row = result.warning
    known = result.expansion.state != EXPANDING
    await record(session, actor, f"warning.{row.msg_type.lower()}", "warning", row.id,
                 after={"identifier": row.identifier, "event": row.event, "colour": row.colour,
                        "thread_id": row.thread_id, "notifications": result.notifications if known else None,
                        "unreachable": result.unreachable if known else None, "expansion": result.expansion.state,
                        "superseded": result.superseded, "cancelled": result.cancelled})


async def accept(session: AsyncSession, warning: NormalisedWarning, settings: Settings, now: datetime, *,
                 raw: str | None = None, source: str = "cap", entered_by: str = "",
                 handoff: Handoff | None = None) -> IntakeResult:
    """Store `warning` and every notification in the caller's transaction: accept_warning, then the same expansion
    as ingest's, all of its chunks in this transaction. With a `handoff`, rows due now are written leased to it and
    listed in `result.handed`, for the caller to hand over once the transaction has committed.
    """
    result = await accept_warning(session, warning, settings, now, holder=WITHIN, raw=raw, source=source,
                                  entered_by=entered_by, handoff=handoff)
    if result.created and result.expansion.state == EXPANDING:
        chunked = await Expansion(result.warning.id, settings, WITHIN, lambda: now, handoff=handoff).within(session)
        result.took(chunked.progress)
        result.handed = chunked.handed
    if result.created:
        await audit_intake(session, result, entered_by or source)
    return result


async def _previous(session: AsyncSession, warning: NormalisedWarning, row: Warning) -> Warning | None:
    """The latest of the warnings `warning` changes: those it refers to and those accepting it closed (a
    Cancel of a thread's first signal also ends the upgrade that followed it)."""
    if not warning.references:
        return None
    referenced, _ = await lifecycle.find_referenced(session, warning.references)
    closed = (await session.execute(select(Warning).where(Warning.superseded_by_id == row.id))).scalars()
    return max([*referenced, *closed], key=lambda earlier: (earlier.sent, earlier.id), default=None)


async def render_messages(session: AsyncSession, row: Warning, warning: NormalisedWarning, units: list[WarnedUnit],
                          templates: set[str], settings: Settings) -> dict[str, str]:
    """Render the warning's messages onto `row` once, for each of the routed `templates`; the template each is
    told with (its chosen wording).

    The wording follows the kind of message (routing.wording): an Alert takes its route's template; an
    Update (升级/降级/更新, against the colour of the warning it changes) and an all-clear (解除) the one
    `[warnings.wording]` names. An all-clear naming no event or colour says those of what it lifts.
    """
    config = settings.warnings
    previous = await _previous(session, warning, row)
    before = previous.colour if previous is not None else None
    kind = message_kind(warning.msg_type, warning.all_clear, warning.colour, before)
    event = warning.event or (previous.event if previous is not None else "")
    colour = warning.colour or (before if kind == ALL_CLEAR else None)
    context = message_context(
        event=event, colour=colour, headline=warning.headline, description=warning.description,
        instruction=warning.instruction, areas=await _area_names(session, warning, units, previous),
        onset=warning.start, expires=warning.expires, ack_url=ACK_SLOT, zone=config.quiet_hours.timezone,
        kind=kind, previous_colour=before, sender_name=warning.sender_name, expires_caveat=expiry_caveat(warning))
    wording = config.wording.model_dump()
    # The duty desk asked to place an unlocatable warning is told that, whatever the kind of message.
    chosen = {name: name if name == UNLOCATED_TEMPLATE else template_for(name, kind, wording)
              for name in sorted(templates)}
    # Each template is rendered once, kept on the warning; a notification names its template, and its
    # recipient's name and duty line (the writer keeps it with the row) fill their slots when it is sent
    # (outbox.compose).
    slots = {"recipient": RECIPIENT_SLOT, "duty": DUTY_SLOT}
    row.messages = {name: list(render(config.templates[name], {**context, **slots}))
                    for name in sorted(set(chosen.values()))}
    return chosen


async def first_notices(session: AsyncSession, row: Warning, warning: NormalisedWarning, fan: Fanout,
                        recipients: list[Recipient], settings: Settings) -> list[NewNotice]:
    """The first notice of each recipient; renders the warning's messages onto `row` once (render_messages)."""
    chosen = await render_messages(session, row, warning, fan.units, {r.template for r in recipients}, settings)
    # Recipients of the same template and role share one payload (written once by the bulk insert).
    payloads = {(template, role): notice_payload(row, chosen[template], role)
                for template, role in {(recipient.template, recipient.role) for recipient in recipients}}
    warning_id = row.id  # read once: an ORM attribute costs more than the per-row work
    return [NewNotice(warning_id, recipient, payloads[recipient.template, recipient.role],
                      notice_key(warning_id, recipient)) for recipient in recipients]


def intake_holder() -> str:
    """The lease holder of expansions written by an intake with no expansion runner (this process, this call)."""
    return f"{socket.gethostname()}-{os.getpid()}-intake-{uuid.uuid4().hex[:8]}"


async def _first_chunk(session: AsyncSession, result: IntakeResult, expansion: Expansion) -> Chunked:
    """Write the expansion's first chunk (the desks) in the accepting transaction, so that their calls start once it
    commits; should that fail, the warning is accepted all the same and the expansion writes the chunk again."""
    try:
        async with session.begin_nested():
            first = await expansion.within(session, chunks=1)
    except Exception:
        log.exception("writing the first notifications of warning %s failed; written again next",
                      result.warning.id, extra={"warning_id": result.warning.id})
        return Chunked(result.expansion)
    result.took(first.progress)
    return first


async def ingest(sessions: async_sessionmaker, warning: NormalisedWarning, settings: Settings, now: datetime,
                 *, handoff: Handoff | None = None, expansions: ExpansionRunner | None = None,
                 inline_rows: int = INLINE_ROWS, **options) -> IntakeResult:
    """Accept `warning` in its own transaction (on disk before the caller answers), then write its notifications
    in chunks, most urgent first, each committed and then handed to `handoff`; a concurrent accept of the same
    message yields the stored one.

    With `expansions` (the runner of this process), chunks are written here until `inline_rows` are, and the
    runner writes the rest in the background (the result then says the expansion is under way); a warning over
    more than INLINE_UNITS units is left to the runner as soon as its desks' chunk has committed; without, all
    are written here. Should the process die meanwhile, another takes the expansion over once its lease lapses.
    """
    holder = expansions.holder if expansions is not None else intake_holder()
    actor = options.get("entered_by") or options.get("source", "cap")
    try:
        async with sessions() as session, session.begin():
            result = await accept_warning(session, warning, settings, now, holder=holder, handoff=handoff, **options)
            if result.created:
                await audit_intake(session, result, actor)
            first, expansion = Chunked(result.expansion), None
            if result.expansion.state == EXPANDING:
                clock = expansions.clock.now if expansions is not None else (lambda: now)
                expansion = Expansion(result.warning.id, settings, holder, clock, handoff=handoff)
                first = await _first_chunk(session, result, expansion)
    except IntegrityError:
        async with sessions() as session:
            existing = await lifecycle.find_existing(session, warning)
        if existing is None:
            raise
        return IntakeResult(existing, created=False)
    if handoff is not None and first.handed:
        handoff.take(first.handed)
    row = result.warning
    if expansion is not None and result.expansion.state == EXPANDING and expansions is not None and \
            result.expansion.units_total > INLINE_UNITS:
        # A large warning: the runner goes on from the desks' chunk (with what this intake read) after the answer.
        expansions.carry_on(row.id, expansion, after=HEAD_START_SECONDS if first.handed else 0.0)
        _log_accepted(result)
        return result
    if handoff is not None and first.handed:
        # The desks' calls get the event loop first: the dispatcher sharing it begins them before the next chunks
        # (reading persons, making rows) keep it busy.
        await asyncio.sleep(HEAD_START_SECONDS)
    if expansion is not None and result.expansion.state == EXPANDING:
        try:
            result.took(await expansion.run(sessions, inline_rows if expansions is not None else None))
        except Exception:
            # The warning is accepted all the same: the chunks committed stand, and the rest is written by
            # whoever takes the expansion over once its lease lapses (serve, dispatch).
            log.exception("writing the notifications of warning %s failed; resumed once its lease lapses", row.id,
                          extra={"warning_id": row.id})
            result.took(await expansion.progress(sessions))
            return result
        if result.expansion.state == EXPANDING and expansions is not None:
            expansions.carry_on(row.id, expansion)
    _log_accepted(result)
    return result


def _log_accepted(result: IntakeResult) -> None:
    row = result.warning
    log.info("warning %s accepted: %s %s %s (%s), %d notifications%s, %d unreachable", row.id, row.msg_type,
             row.event, row.colour or "-", row.jurisdiction, result.notifications,
             " so far (the rest in the background)" if result.expansion.state == EXPANDING else "",
             result.unreachable, extra={"warning_id": row.id})
