"""Who a warning goes to, as pure rules: the routed department desks and the 责任人 of the warned units on each
channel, each once (the database reads are in warnings/intake/fanout.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from fangxun.plans.contact_rules import address_on
from fangxun.plans.plan_fields import ROLE_LABELS
from fangxun.warnings.config import WarningSettings
from fangxun.warnings.delivery.channels.config import PHONE_KINDS
from fangxun.warnings.routing.tree import RecipientsPlan, department_contact

NO_ADDRESS = "无可用联系方式"
# The template the city duty desk is told with when no area of a warning in force could be placed.
UNLOCATED_TEMPLATE = "unlocated"


class WarnedUnit(NamedTuple):
    """A unit under the warning, with the covered fraction of its area (1.0 when named by code).

    (A named tuple: a province-wide warning makes 56,000, and a frozen dataclass is built ten times slower.)
    """

    code: str
    level: str
    fraction: float


class Recipient(NamedTuple):
    """One recipient on one channel; `address` "" with `problem` set means nobody can be reached.

    (A named tuple: a city-wide warning makes ten thousand, and a tuple is built five times faster.)
    """

    kind: str  # department | department_leader | person | duty_desk | duty_leader
    key: str
    name: str
    unit_code: str | None
    level: str | None
    channel: str
    address: str
    template: str
    role: str | None = None
    problem: str | None = None
    # Who a person answers for (duty_line); "" for a department.
    duty: str = ""
    # Standing in for an absent person (absence_rules): told even at an address already told, since it is a
    # duty of its own to acknowledge.
    stand_in: bool = False

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


def person_address(contact_channels: dict | None, phone: str | None, channel: str, kind: str) -> str:
    """A person's address on a channel: an entry under the channel's name or kind, else the phone where
    the kind takes one (its registration in channels/config.py KINDS says)."""
    return address_on(contact_channels, phone, channel, kind, kind in PHONE_KINDS)


def duty_line(unit_name: str, role: str | None, plan_title: str = "", stands_in: str = "") -> str:
    """Who a plan's person answers for: 您是 东村 防汛责任人（《东村防汛应急预案》）, or standing in for an absent
    one (`stands_in`: 张三（请假）) 您代 张三（请假）履行 东村 防汛责任人职责（…）; "" without a unit name."""
    if not unit_name:
        return ""
    title = plan_title.strip().strip("《》")
    plan = f"（《{title}》）" if title else ""
    label = ROLE_LABELS.get(role or '', '责任人')
    if stands_in:
        return f"您代 {stands_in} 履行 {unit_name} 防汛{label}职责{plan}"
    return f"您是 {unit_name} 防汛{label}{plan}"


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
        stands_in = getattr(person, "stands_in", "")
        duty = duty_line(person.unit_name, person.role, person.plan_title, stands_in) if routes else ""
        reached = []
        for channel, template in routes:
            address = person_address(person.channels, person.phone, channel, kinds[channel])
            if address:
                reached.append(Recipient("person", key, person.name, person.unit_code, level, channel, address,
                                         template, person.role, None, duty, bool(stands_in)))
        if not reached and routes:
            channel, template = routes[0]
            reached.append(Recipient("person", key, person.name, person.unit_code, level, channel, "",
                                     template, person.role, NO_ADDRESS, duty, bool(stands_in)))
        found += reached
    nobody = [unit.code for unit in units if unit.level in channels_by_level and unit.code not in by_unit]
    return found, nobody


def unlocated_recipients(config: WarningSettings) -> list[Recipient]:
    """Who is told of a warning whose areas cannot be placed: the city duty desk (nobody when none is set)."""
    if config.escalation is None:
        return []
    desk = config.escalation.city_duty_desk
    return [Recipient("duty_desk", "city", desk.name, None, "city", desk.channel, desk.address, UNLOCATED_TEMPLATE)]


def _dedupe(recipients: Iterable[Recipient]) -> list[Recipient]:
    """First of each (kind, key, channel); the same address twice on one channel also goes once, unless it stands
    in for an absent person there."""
    slots, addresses, kept = set(), set(), []
    for recipient in recipients:
        address = (recipient.channel, recipient.address) if recipient.address else None
        if recipient.slot in slots or (address and address in addresses and not recipient.stand_in):
            continue
        slots.add(recipient.slot)
        if address:
            addresses.add(address)
        kept.append(recipient)
    return kept


def recipients_for(plan: RecipientsPlan, config: WarningSettings, units: list[WarnedUnit],
                   persons: list) -> tuple[list[Recipient], list[str]]:
    """Every recipient of a routed warning, departments first, each (who, channel) once; and the routed
    units with nobody on record."""
    people, nobody = person_recipients(plan, config, units, persons)
    return _dedupe(department_recipients(plan, config) + people), nobody
