"""Who a desk notification goes to, as pure rules: the 值班员 on duty when it is written (their 带班领导 for its
escalation), else the configured desk or leader (the roster is read in warnings/duty/roster_queries.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from fangxun.warnings.config import Contact, WarningSettings
from fangxun.warnings.delivery.channels.config import PHONE_KINDS
from fangxun.warnings.duty.roster_rules import CITY_DESK, DutyShift
from fangxun.warnings.routing.recipients import Recipient
from fangxun.warnings.routing.tree import department_contact

def roster_desk(kind: str, key: str) -> str | None:
    """The roster desk a recipient stands for: a department's key, the city duty room; None for anyone else."""
    if kind == "department":
        return key
    if kind == "duty_desk":
        return CITY_DESK
    return None


def roster_desks(recipients: Iterable[Recipient]) -> list[str]:
    """The roster desks among `recipients`, each once, in order."""
    return list(dict.fromkeys(desk for desk in (roster_desk(r.kind, r.key) for r in recipients) if desk))


def _takes_phone(config: WarningSettings, channel: str) -> bool:
    known = config.channels.get(channel)
    return known is not None and known.kind in PHONE_KINDS


def _configured_desk(recipient: Recipient, config: WarningSettings) -> tuple[str, Contact] | None:
    """The configured desk behind a desk recipient: (the name it is shown with, its contact on the recipient's
    channel); None for a department no longer configured or a city desk with no escalation section."""
    if recipient.kind == "department":
        department = config.departments.get(recipient.key)
        if department is None:
            return None
        desk = department_contact(department, recipient.channel)
        return f"{department.name}（{desk.name}）", desk
    if recipient.kind == "duty_desk" and config.escalation is not None:
        desk = config.escalation.city_duty_desk
        return desk.name, Contact(name=desk.name, channel=recipient.channel, address=desk.address)
    return None


def staffed(recipient: Recipient, config: WarningSettings, line: DutyShift | None) -> Recipient:
    """A desk recipient addressed to the shift on duty (`line`): the desk's name with its 值班员, their phone on
    a channel that takes one (else the desk's address); without a line, the configured desk; anyone else as is."""
    configured = _configured_desk(recipient, config)
    if configured is None:
        return recipient
    name, desk = configured
    if line is None:
        return recipient._replace(name=name, address=desk.address)
    address = line.officer_phone if _takes_phone(config, recipient.channel) else desk.address
    return recipient._replace(name=f"{desk.name}（值班员 {line.officer_name}）", address=address)


def staff_all(recipients: Iterable[Recipient], config: WarningSettings,
              on_duty: Mapping[str, DutyShift | None]) -> list[Recipient]:
    """Every desk recipient addressed to the shift `on_duty` names for its desk (see staffed); persons as they are."""
    found = []
    for recipient in recipients:
        desk = roster_desk(recipient.kind, recipient.key)
        found.append(staffed(recipient, config, on_duty.get(desk)) if desk else recipient)
    return found


def leader_on_duty(department_name: str, leader: Contact, config: WarningSettings,
                   line: DutyShift | None) -> tuple[str, str]:
    """The name and address a desk's escalation goes to: the 带班领导 on duty (their phone on a channel that
    takes one, else the leader's address), else the configured leader."""
    if line is None:
        return f"{department_name}（{leader.name}）", leader.address
    address = line.leader_phone if _takes_phone(config, leader.channel) else leader.address
    return f"{department_name}（带班领导 {line.leader_name}）", address
