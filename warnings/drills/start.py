"""Starting a drill: the drill row and one message per person or desk in scope and channel, written through the
one outbox writer in one transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fangxun.core.audit import record
from fangxun.core.errors import BadInput
from fangxun.plans.absence_queries import absences_in_force
from fangxun.plans.absence_rules import with_stand_ins
from fangxun.plans.contact_queries import plan_persons
from fangxun.plans.models import AdminUnit
from fangxun.settings import Settings
from fangxun.warnings.delivery.notices import NewNotice, signed_writer
from fangxun.warnings.delivery.outbox import ACK_SLOT, DUTY_SLOT, RECIPIENT_SLOT, Claimed, Handoff
from fangxun.warnings.drills.rules import LEVELS, drill_message, parse_choices, parse_deadline
from fangxun.warnings.intake.fanout import staff_desks
from fangxun.warnings.routing.recipients import NO_ADDRESS, Recipient, duty_line, person_address
from fangxun.warnings.tables import Drill
from fangxun.warnings.vocabulary import PERSON_LEVELS

log = logging.getLogger(__name__)

DRILL_PURPOSE = "drill"  # the payload's purpose (the row's is notice, reminder or escalation)
_CHUNK = 1000


@dataclass(frozen=True)
class DrillOptions:
    """What a drill is asked to cover, checked (drill_options)."""

    scope_code: str
    levels: tuple[str, ...]
    channels: tuple[str, ...]
    deadline_minutes: int


@dataclass
class DrillStart:
    """What starting a drill wrote."""

    drill: Drill
    told: int = 0
    notifications: int = 0
    no_contact: int = 0
    units_without_persons: list[str] = field(default_factory=list)
    handed: list[Claimed] = field(default_factory=list)

    def as_json(self) -> dict:
        """Plain JSON for the API and the CLI."""
        return {**drill_json(self.drill), "units_without_persons": self.units_without_persons}


def drill_json(drill: Drill) -> dict:
    """A drill as the API and the CLI list it."""
    def iso(moment):
        return moment.isoformat() if moment is not None else None
    return {"id": drill.id, "scope_code": drill.scope_code, "scope_name": drill.scope_name,
            "levels": list(drill.levels or []), "channels": list(drill.channels or []),
            "deadline_minutes": drill.deadline_minutes, "started_by": drill.started_by,
            "started_at": iso(drill.started_at), "finished_at": iso(drill.finished_at),
            "cancelled_at": iso(drill.cancelled_at), "told": drill.told, "notifications": drill.notifications,
            "no_contact": drill.no_contact, "units_without_persons_count": drill.units_without_persons}


def drill_options(settings: Settings, scope: str, levels=None, channels=None, deadline=None) -> DrillOptions:
    """The options of a drill checked against the configuration; BadInput naming the field otherwise."""
    scope = (scope or "").strip()
    if not (len(scope) == 12 and scope.isdigit()):
        raise BadInput(f"scope：应为 12 位统计用区划代码，而不是 {scope!r}")
    config = settings.warnings
    return DrillOptions(scope, parse_choices("levels", levels, LEVELS, LEVELS),
                        parse_choices("channels", channels, config.channels, config.default_route.person_channels),
                        parse_deadline(deadline))


def drill_key(drill_id: int, recipient: Recipient) -> str:
    """The idempotency key of a drill's first message to `recipient`."""
    return f"drill-{drill_id}-{recipient.kind}-{recipient.key}-{recipient.channel}"


async def _units(session: AsyncSession, scope: AdminUnit, levels: tuple[str, ...]) -> list:
    """The units of `levels` in `scope` (the scope itself included)."""
    person_levels = [level for level in levels if level in PERSON_LEVELS]
    if not person_levels:
        return []
    code = scope.code
    return (await session.execute(
        select(AdminUnit.code, AdminUnit.level)
        .where(AdminUnit.level.in_(person_levels),
               or_(AdminUnit.code == code, AdminUnit.city_code == code, AdminUnit.district_code == code,
                   AdminUnit.township_code == code))
        .order_by(AdminUnit.code))).all()


def _desks(settings: Settings) -> list[Recipient]:
    """The city's desks, each through its own channel: the city duty room and every department's desk."""
    config = settings.warnings
    found = []
    if config.escalation is not None:
        desk = config.escalation.city_duty_desk
        found.append(Recipient("duty_desk", "city", desk.name, None, "city", desk.channel, desk.address, ""))
    for key, department in config.departments.items():
        desk = department.desk
        found.append(Recipient("department", key, f"{department.name}（{desk.name}）", None, None, desk.channel,
                               desk.address, ""))
    return found


async def drill_recipients(session: AsyncSession, settings: Settings, scope: AdminUnit, options: DrillOptions,
                           now: datetime) -> tuple[list[Recipient], list[str]]:
    """Everyone a drill tells on each chosen channel at `now`, as a warning would (an absent person's stand-in in
    their place, a desk's message to whoever is on duty; a person with no address on any channel: one recipient
    born failed, 无可用联系方式), desks only in a city-wide drill; and the units of a chosen level with nobody on
    record."""
    config = settings.warnings
    units = await _units(session, scope, options.levels)
    level_of = {code: level for code, level in units}
    persons = await plan_persons(session, level_of)
    if persons:
        away, named = await absences_in_force(session, now)
        persons = with_stand_ins(persons, away, named, config.quiet_hours.timezone)
    kinds = {channel: config.channels[channel].kind for channel in options.channels}
    found: list[Recipient] = []
    for person in persons:
        key, level = f"{person.unit_code}:{person.id}", level_of[person.unit_code]
        stands_in = getattr(person, "stands_in", "")
        duty = duty_line(person.unit_name, person.role, person.plan_title, stands_in)
        reached = [Recipient("person", key, person.name, person.unit_code, level, channel, address, "",
                             person.role, None, duty, bool(stands_in))
                   for channel in options.channels
                   if (address := person_address(person.channels, person.phone, channel, kinds[channel]))]
        found += reached or [Recipient("person", key, person.name, person.unit_code, level, options.channels[0],
                                       "", "", person.role, NO_ADDRESS, duty, bool(stands_in))]
    if "desk" in options.levels and scope.level == "city":
        found += await staff_desks(session, _desks(settings), config, now)
    with_persons = {person.unit_code for person in persons}
    return found, [code for code, _ in units if code not in with_persons]


async def start_drill(session: AsyncSession, settings: Settings, options: DrillOptions, now: datetime, *,
                      started_by: str, handoff: Handoff | None = None) -> DrillStart:
    """Store the drill and its messages in the caller's transaction; rows due now leased to `handoff` are listed
    in `handed`, for the caller to give it once committed."""
    scope = await session.get(AdminUnit, options.scope_code)
    if scope is None:
        raise BadInput(f"scope：区划代码 {options.scope_code} 不在区划库中")
    drill = Drill(scope_code=scope.code, scope_name=scope.name, levels=list(options.levels),
                  channels=list(options.channels), deadline_minutes=options.deadline_minutes, started_by=started_by,
                  started_at=now)
    session.add(drill)
    await session.flush()
    recipients, nobody = await drill_recipients(session, settings, scope, options, now)
    title, text = drill_message(scope.name, options.deadline_minutes, RECIPIENT_SLOT, DUTY_SLOT, ACK_SLOT)
    payload = {"purpose": DRILL_PURPOSE, "drill_id": drill.id, "scope_code": scope.code, "title": title,
               "text": text, "ack_minutes": options.deadline_minutes}
    drill_id = drill.id
    notices = [NewNotice(None, recipient, payload, drill_key(drill_id, recipient), drill_id=drill_id)
               for recipient in recipients]
    writer = await signed_writer(session, settings.warnings.quiet_hours, handoff)
    handed = await writer.write(session, notices, now)
    drill.told = len({(r.kind, r.key) for r in recipients})
    drill.notifications = len(notices)
    drill.no_contact = sum(1 for r in recipients if r.problem)
    drill.units_without_persons = len(nobody)
    await record(session, started_by, "drill.start", "drill", drill_id,
                 after={"scope_code": scope.code, "levels": list(options.levels), "channels": list(options.channels),
                        "deadline_minutes": options.deadline_minutes, "told": drill.told,
                        "notifications": drill.notifications})
    return DrillStart(drill, drill.told, drill.notifications, drill.no_contact, nobody, handed)


async def run_drill(sessions: async_sessionmaker, settings: Settings, options: DrillOptions, now: datetime, *,
                    started_by: str, handoff: Handoff | None = None) -> DrillStart:
    """start_drill in its own transaction; the rows leased to `handoff` given to it once committed."""
    async with sessions() as session, session.begin():
        started = await start_drill(session, settings, options, now, started_by=started_by, handoff=handoff)
    if handoff is not None and started.handed:
        handoff.take(started.handed)
    log.info("drill %s started over %s: %d told, %d notifications", started.drill.id, options.scope_code,
             started.told, started.notifications, extra={"drill_id": started.drill.id})
    return started
