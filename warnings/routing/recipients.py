"""Who a warning goes to: the warned units, the routed departments and the 责任人 of those units' plans."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import shapely
from sqlalchemy import Text, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.geo.spatial_index import circle
from fangxun.plans.area_index import unit_index
from fangxun.plans.contact_rules import PERSON_ROLES, address_on, channels_from_text
from fangxun.plans.models import AdminUnit, Contact, Plan
from fangxun.plans.unit_queries import in_subtrees
from fangxun.plans.unit_rules import full_code
from fangxun.warnings.config import WarningSettings
from fangxun.warnings.delivery.channels.config import PHONE_KINDS
from fangxun.warnings.intake.normalised import NormalisedWarning
from fangxun.warnings.routing.tree import RecipientsPlan, WarningFacts, department_contact, recipients_plan, route

NO_ADDRESS = "无可用联系方式"
_CHUNK = 1000


class _Person(NamedTuple):
    id: int
    unit_code: str
    role: str
    name: str
    phone: str | None
    channels: dict


@dataclass(frozen=True)
class WarnedUnit:
    """A unit under the warning, with the covered fraction of its area (1.0 when named by code)."""

    code: str
    level: str
    fraction: float


class Recipient(NamedTuple):
    """One recipient on one channel; `address` "" with `problem` set means nobody can be reached.

    (A named tuple: a city-wide warning makes ten thousand, and a tuple is built five times faster.)
    """

    kind: str  # department | department_leader | person | duty_desk
    key: str
    name: str
    unit_code: str | None
    level: str | None
    channel: str
    address: str
    template: str
    role: str | None = None
    problem: str | None = None

    @property
    def slot(self) -> tuple[str, str, str]:
        """What makes two recipients the same: who, and through which channel."""
        return (self.kind, self.key, self.channel)


@dataclass
class Fanout:
    """Everyone a warning reaches, and whom it cannot reach."""

    units: list[WarnedUnit]
    recipients: list[Recipient]
    # Warned units at a routed level with no 责任人 on record at all (nobody to notify there).
    units_without_persons: list[str] = field(default_factory=list)
    route_paths: tuple[str, ...] = ()
    template: str = ""

    @property
    def unreachable(self) -> list[Recipient]:
        """Persons on record without an address on any routed channel."""
        return [r for r in self.recipients if r.problem]


def _area_shape(warning: NormalisedWarning):
    shapes = [shapely.Polygon(ring) for area in warning.areas for ring in area.polygons if len(ring) >= 3]
    shapes += [circle(lon, lat, radius) for area in warning.areas for lon, lat, radius in area.circles
               if radius > 0]
    if not shapes:
        return None
    return shapely.union_all(shapely.make_valid(shapely.GeometryCollection(shapes)))


async def warned_units(session: AsyncSession, warning: NormalisedWarning) -> list[WarnedUnit]:
    """Units named by geocode (with everything below them) and units the polygons and circles meet."""
    found: dict[str, WarnedUnit] = {}
    named = sorted({code for code in map(full_code, warning.geocodes) if code})
    for start in range(0, len(named), _CHUNK):
        part = named[start:start + _CHUNK]
        rows = await session.execute(select(AdminUnit.code, AdminUnit.level).where(in_subtrees(part)))
        found.update((code, WarnedUnit(code, level, 1.0)) for code, level in rows)
    shape = _area_shape(warning)
    if shape is not None and not shape.is_empty:
        index = await unit_index(session)
        for match in index.intersecting(shape, with_fraction=True):
            known = found.get(match.code)
            if known is None or known.fraction < match.fraction:
                found[match.code] = WarnedUnit(match.code, match.level, float(match.fraction))
    return sorted(found.values(), key=lambda unit: unit.code)


def person_address(contact_channels: dict | None, phone: str | None, channel: str, kind: str) -> str:
    """A person's address on a channel: an entry under the channel's name or kind, else the phone where
    the kind takes one (its registration in channels/config.py KINDS says)."""
    return address_on(contact_channels, phone, channel, kind, kind in PHONE_KINDS)


async def plan_persons(session: AsyncSession, unit_codes: Iterable[str]) -> list:
    """责任人 and 副责任人 of the units' plans in force (not withdrawn), one row per distinct person."""
    codes = sorted(set(unit_codes))
    rows = []
    for start in range(0, len(codes), _CHUNK):
        part = codes[start:start + _CHUNK]
        rows += (await session.execute(
            select(Contact.id, Contact.unit_code, Contact.role, Contact.name, Contact.phone,
                   cast(Contact.channels, Text).label("channels"))
            .outerjoin(Plan, Plan.id == Contact.plan_id)
            .where(Contact.unit_code.in_(part), Contact.role.in_(PERSON_ROLES),
                   or_(Contact.plan_id.is_(None), Plan.lifecycle != "withdrawn"))
            .order_by(Contact.unit_code, Contact.id))).all()
    # The same person usually stands in several plans of a unit: one recipient per person.
    persons: dict[tuple[str, str], object] = {}
    # Rows are unpacked, not read by name: that is ten times faster, and a city has ten thousand.
    for contact_id, unit_code, role, name, phone, channels_text in rows:
        # Channels come as text and are parsed only when there are any (most contacts have none).
        channels = channels_from_text(channels_text)
        identity = (unit_code, (phone or "").replace("-", "").replace(" ", "") or name)
        known = persons.get(identity)
        if known is None or (known.role != "responsible" and role == "responsible"):
            persons[identity] = _Person(contact_id, unit_code, role, name, phone, channels)
    return sorted(persons.values(), key=lambda r: r.id)


def department_recipients(plan: RecipientsPlan, config: WarningSettings) -> list[Recipient]:
    """One recipient per routed department delivery (the department's desk)."""
    found = []
    for delivery in plan.deliveries:
        if delivery.kind != "department":
            continue
        department = config.departments[delivery.who]
        desk = department_contact(department, delivery.channel)
        found.append(Recipient("department", delivery.who, f"{department.name}（{desk.name}）", None, None,
                               desk.channel, desk.address, delivery.template))
    return found


def person_recipients(plan: RecipientsPlan, config: WarningSettings, units: list[WarnedUnit],
                      persons: list) -> tuple[list[Recipient], list[str]]:
    """Person recipients per routed level and channel; a person with no address anywhere yields one
    `problem` recipient on the level's first channel; also the routed units with nobody on record."""
    channels_by_level: dict[str, list[tuple[str, str]]] = {}
    for delivery in plan.deliveries:
        if delivery.kind == "person":
            channels_by_level.setdefault(delivery.who, []).append((delivery.channel, delivery.template))
    level_of = {unit.code: unit.level for unit in units}
    by_unit: dict[str, list] = {}
    for person in persons:
        by_unit.setdefault(person.unit_code, []).append(person)
    kinds = {channel: config.channels[channel].kind for routes in channels_by_level.values() for channel, _ in routes}
    found: list[Recipient] = []
    for person in persons:
        level = level_of.get(person.unit_code)
        routes = channels_by_level.get(level, [])
        key = f"{person.unit_code}:{person.id}"
        reached = []
        for channel, template in routes:
            address = person_address(person.channels, person.phone, channel, kinds[channel])
            if address:
                reached.append(Recipient("person", key, person.name, person.unit_code, level, channel, address,
                                         template, person.role))
        if not reached and routes:
            channel, template = routes[0]
            reached.append(Recipient("person", key, person.name, person.unit_code, level, channel, "",
                                     template, person.role, NO_ADDRESS))
        found += reached
    nobody = [unit.code for unit in units if unit.level in channels_by_level and unit.code not in by_unit]
    return found, nobody


def _dedupe(recipients: Iterable[Recipient]) -> list[Recipient]:
    """First of each (kind, key, channel); the same address twice on one channel also goes once."""
    slots, addresses, kept = set(), set(), []
    for recipient in recipients:
        address = (recipient.channel, recipient.address) if recipient.address else None
        if recipient.slot in slots or (address and address in addresses):
            continue
        slots.add(recipient.slot)
        if address:
            addresses.add(address)
        kept.append(recipient)
    return kept


async def fan_out(session: AsyncSession, warning: NormalisedWarning, config: WarningSettings) -> Fanout:
    """Route the warning and work out every recipient: departments first, then persons by unit code."""
    units = await warned_units(session, warning)
    facts = WarningFacts(event=warning.event, colour=warning.colour, msg_type=warning.msg_type,
                         unit_codes=frozenset(unit.code for unit in units))
    decisions = route(facts, config.tree)
    plan = recipients_plan(decisions)
    person_units = [unit.code for unit in units if unit.level in plan.person_levels]
    persons = await plan_persons(session, person_units) if person_units else []
    people, nobody = person_recipients(plan, config, units, persons)
    recipients = _dedupe(department_recipients(plan, config) + people)
    return Fanout(units=units, recipients=recipients, units_without_persons=nobody,
                  route_paths=plan.route_paths, template=decisions[0].template if decisions else "")
