"""Who a placed warning reaches (intake/placing.py), read from the database: the 责任人 of the plans of its warned
units, routed by the pure rules of warnings/routing; the desks on duty."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.absence_queries import absences_in_force
from fangxun.plans.absence_rules import with_stand_ins
from fangxun.plans.contact_queries import persons_below, plan_persons, units_without_persons_below
from fangxun.warnings.config import WarningSettings
from fangxun.warnings.duty.roster_queries import on_duty_now
from fangxun.warnings.intake.normalised import NormalisedWarning
from fangxun.warnings.intake.placing import Placed
from fangxun.warnings.routing.duty_desks import roster_desks, staff_all
from fangxun.warnings.routing.jurisdiction import INSIDE, UNLOCATED
from fangxun.warnings.routing.recipients import (UNLOCATED_TEMPLATE, Fanout, Recipient, WarnedUnit, recipients_for,
                                                 unlocated_recipients)
from fangxun.warnings.routing.tree import RecipientsPlan, WarningFacts, recipients_plan, route


async def fan_out(session: AsyncSession, warning: NormalisedWarning, config: WarningSettings, placed: Placed,
                  jurisdiction: str, now: datetime | None = None) -> Fanout:
    """Everyone a placed warning reaches. Inside: the routing of its named tops and shaped units, departments first,
    then the 责任人 of the routed levels' units, read below the named tops by the database (no unit read); at `now`,
    an absent person's stand-in replaces them (absence_rules; None: the persons on record, as a preview counts
    them). Unlocated: the city duty desk (nobody for an all-clear). Outside: nobody."""
    if jurisdiction != INSIDE:
        told = jurisdiction == UNLOCATED and not warning.all_clear
        return Fanout(units=[], recipients=unlocated_recipients(config) if told else [], template=UNLOCATED_TEMPLATE)
    units = placed.routing
    plan, template = routed_plan(warning, config, units)
    levels = sorted(plan.person_levels)
    named = [unit.code for unit in placed.named]
    shaped = [unit for unit in placed.shaped if unit.level in plan.person_levels]
    shaped_codes = {unit.code for unit in shaped}
    persons, nobody = [], []
    if levels:
        persons = sorted(await persons_below(session, named, levels)
                         + await plan_persons(session, [unit.code for unit in shaped]), key=lambda person: person.id)
        nobody = await units_without_persons_below(session, named, levels)
    # The persons' units stand for the routed units below the named tops (their levels read with the persons).
    level_of = {person.unit_code: person.unit_level for person in persons}
    person_units = [WarnedUnit(code, level, 1.0) for code, level in level_of.items() if code not in shaped_codes]
    if persons and now is not None:
        away, stand_ins = await absences_in_force(session, now)
        persons = with_stand_ins(persons, away, stand_ins, config.quiet_hours.timezone)
    recipients, shaped_nobody = recipients_for(plan, config, person_units + shaped, persons)
    return Fanout(units=units, recipients=recipients, units_without_persons=sorted(nobody + shaped_nobody),
                  route_paths=plan.route_paths, template=template)


async def staff_desks(session: AsyncSession, recipients: list[Recipient], config: WarningSettings,
                      at: datetime) -> list[Recipient]:
    """The desk recipients addressed to whoever is on duty at `at` (routing/duty_desks.py), read with one roster
    query for all desks; persons as they are."""
    desks = roster_desks(recipients)
    if not desks:
        return recipients
    return staff_all(recipients, config, await on_duty_now(session, desks, at, config.duty))


def routed_plan(warning: NormalisedWarning, config: WarningSettings,
                units: list[WarnedUnit]) -> tuple[RecipientsPlan, str]:
    """The routing of a warning over its warned units (who is told on which channel, no one read yet) and the
    template of its first decision."""
    facts = WarningFacts(event=warning.event, colour=warning.colour, msg_type=warning.msg_type,
                         unit_codes=frozenset(unit.code for unit in units))
    decisions = route(facts, config.tree)
    return recipients_plan(decisions), decisions[0].template if decisions else ""
