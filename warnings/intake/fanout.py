"""Who an accepted warning reaches, read from the database: the warned units and the 责任人 of their plans,
routed by the pure rules of warnings/routing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import shapely
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.geo.spatial_index import circle
from fangxun.plans.absence_queries import absences_in_force
from fangxun.plans.absence_rules import with_stand_ins
from fangxun.plans.area_index import unit_index
from fangxun.plans.contact_queries import plan_persons
from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_queries import in_subtrees, top_codes
from fangxun.warnings.config import WarningSettings
from fangxun.warnings.duty.roster_queries import on_duty_now
from fangxun.warnings.intake.normalised import NormalisedWarning
from fangxun.warnings.routing.duty_desks import roster_desks, staff_all
from fangxun.warnings.routing.jurisdiction import INSIDE, UNLOCATED, placement, widened
from fangxun.warnings.routing.recipients import (UNLOCATED_TEMPLATE, Fanout, Recipient, WarnedUnit, recipients_for,
                                                 unlocated_recipients)
from fangxun.warnings.routing.tree import RecipientsPlan, WarningFacts, recipients_plan, route

_CHUNK = 1000


def _area_shape(warning: NormalisedWarning):
    shapes = [shapely.Polygon(ring) for area in warning.areas for ring in area.polygons if len(ring) >= 3]
    shapes += [circle(lon, lat, radius) for area in warning.areas for lon, lat, radius in area.circles
               if radius > 0]
    if not shapes:
        return None
    return shapely.union_all(shapely.make_valid(shapely.GeometryCollection(shapes)))


@dataclass(frozen=True)
class Location:
    """Where a warning falls: its warned units and inside / outside / unlocated (routing/jurisdiction.py)."""

    units: list[WarnedUnit]
    jurisdiction: str


async def locate(session: AsyncSession, warning: NormalisedWarning) -> Location:
    """The warned units, and whether the areas fall inside the jurisdiction, outside it, or nowhere we can tell."""
    tops = await top_codes(session)
    units = await warned_units(session, warning, tops)
    shapes = _area_shape(warning) is not None and len(await unit_index(session)) > 0
    return Location(units, placement(bool(units), warning.geocodes, shapes, tops))


async def warned_units(session: AsyncSession, warning: NormalisedWarning,
                       tops: list[str] | None = None) -> list[WarnedUnit]:
    """Units named by geocode (with everything below them) and units the polygons and circles meet; a code
    above the jurisdiction (the province) names its top units."""
    if tops is None:
        tops = await top_codes(session)
    found: dict[str, WarnedUnit] = {}
    named = sorted(widened(warning.geocodes, tops))
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


async def fan_out(session: AsyncSession, warning: NormalisedWarning, config: WarningSettings,
                  units: list[WarnedUnit] | None = None, now: datetime | None = None) -> Fanout:
    """Route the warning and work out every recipient: departments first, then persons by unit code
    (`units`: the warned units when already known); at `now`, an absent person's stand-in replaces them
    (absence_rules; None: the persons on record, as a preview counts them)."""
    if units is None:
        units = await warned_units(session, warning)
    facts = WarningFacts(event=warning.event, colour=warning.colour, msg_type=warning.msg_type,
                         unit_codes=frozenset(unit.code for unit in units))
    decisions = route(facts, config.tree)
    plan = recipients_plan(decisions)
    person_units = [unit.code for unit in units if unit.level in plan.person_levels]
    persons = await plan_persons(session, person_units) if person_units else []
    if persons and now is not None:
        away, named = await absences_in_force(session, now)
        persons = with_stand_ins(persons, away, named, config.quiet_hours.timezone)
    recipients, nobody = recipients_for(plan, config, units, persons)
    return Fanout(units=units, recipients=recipients, units_without_persons=nobody,
                  route_paths=plan.route_paths, template=decisions[0].template if decisions else "")


async def fan_out_placed(session: AsyncSession, warning: NormalisedWarning, config: WarningSettings,
                         jurisdiction: str, units: list[WarnedUnit], now: datetime | None = None) -> Fanout:
    """Everyone a placed warning reaches: inside, the routing of `units` (with stand-ins for the absent at
    `now`); unlocated, the city duty desk (nobody for an all-clear); outside, nobody."""
    if jurisdiction == INSIDE:
        return await fan_out(session, warning, config, units, now)
    told = jurisdiction == UNLOCATED and not warning.all_clear
    return Fanout(units=[], recipients=unlocated_recipients(config) if told else [], template=UNLOCATED_TEMPLATE)


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
