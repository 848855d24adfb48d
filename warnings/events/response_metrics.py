"""The inputs of the response-level rules for one event, read from the database, and the proposal they give."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import shapely
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.models import AdminUnit
from fangxun.settings import Settings
from fangxun.warnings.events.response_rules import Proposal, WarningFact, propose
from fangxun.warnings.events.tables import EventWarning
from fangxun.warnings.tables import Warning, WarningUnit
from fangxun.warnings.vocabulary import RESPONSE_SOURCE

_CHUNK = 1000


def area_shares(areas: dict[str, float | None]) -> dict[str, float]:
    """Each unit's share of the units' total area; equal shares when any area is unknown (no boundary)."""
    if not areas:
        return {}
    if any(area is None or area <= 0 for area in areas.values()):
        return {code: 1 / len(areas) for code in areas}
    total = sum(areas.values())
    return {code: area / total for code, area in areas.items()}


def _areas(rows) -> dict[str, float | None]:
    """Planar area of each WKB boundary: shares within one city need no geodesic measure."""
    return {code: (shapely.from_wkb(geometry).area if geometry else None) for code, geometry in rows}


async def district_shares(session: AsyncSession) -> dict[str, float]:
    """Every district's (区县) share of the city's area."""
    rows = (await session.execute(select(AdminUnit.code, AdminUnit.geometry)
                                  .where(AdminUnit.level == "district").order_by(AdminUnit.code))).all()
    return area_shares(_areas(rows))


async def _township_shares(session: AsyncSession, districts: Iterable[str]) -> dict[str, float]:
    """Each township's share of its district's area, for the townships of `districts`."""
    wanted = sorted(set(districts))
    if not wanted:
        return {}
    by_district: dict[str, list] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = await session.execute(
            select(AdminUnit.code, AdminUnit.geometry, AdminUnit.district_code)
            .where(AdminUnit.level == "township", AdminUnit.district_code.in_(wanted[start:start + _CHUNK])))
        for code, geometry, district in rows:
            by_district.setdefault(district, []).append((code, geometry))
    shares: dict[str, float] = {}
    for rows in by_district.values():
        shares.update(area_shares(_areas(rows)))
    return shares


async def active_warnings(session: AsyncSession, event_id: int, now: datetime) -> list[Warning]:
    """The event's weather warnings in force at `now` (response notices are not weather warnings)."""
    return list((await session.execute(
        select(Warning).join(EventWarning, EventWarning.warning_id == Warning.id)
        .where(EventWarning.event_id == event_id, Warning.source != RESPONSE_SOURCE, Warning.status == "active",
               or_(Warning.expires.is_(None), Warning.expires > now))
        .order_by(Warning.received_at, Warning.id))).scalars())


async def warning_facts(session: AsyncSession, warnings: list[Warning]) -> list[WarningFact]:
    """What the rules need of each warning: the districts it touches and the city share it covers there.

    A district row of warning_units gives the district's cover (fraction 1.0 for geocodes); without
    one, the warned townships add their share of the district; villages alone touch the district
    without adding area; a city row alone (a polygon over a city without district boundaries) spreads
    its fraction over every district.
    """
    ids = [warning.id for warning in warnings]
    units: dict[int, list] = {warning_id: [] for warning_id in ids}
    for start in range(0, len(ids), _CHUNK):
        rows = await session.execute(
            select(WarningUnit.warning_id, WarningUnit.unit_code, WarningUnit.level, WarningUnit.fraction,
                   AdminUnit.district_code)
            .join(AdminUnit, AdminUnit.code == WarningUnit.unit_code)
            .where(WarningUnit.warning_id.in_(ids[start:start + _CHUNK])))
        for row in rows:
            units[row.warning_id].append(row)
    shares = await district_shares(session)
    township_districts = {row.district_code for rows in units.values() for row in rows if row.level == "township"}
    townships = await _township_shares(session, township_districts)
    facts = []
    for warning in warnings:
        facts.append(WarningFact(warning_id=warning.id, event=warning.event, colour=warning.colour,
                                 received_at=warning.received_at, cover=_cover(units[warning.id], shares, townships)))
    return facts


def _cover(rows: list, shares: dict[str, float], townships: dict[str, float]) -> dict[str, float]:
    cover: dict[str, float] = {}
    by_district = {row.unit_code: row.fraction for row in rows if row.level == "district"}
    for district, fraction in by_district.items():
        cover[district] = shares.get(district, 0.0) * min(1.0, fraction)
    for row in rows:
        district = row.district_code
        if row.level == "township" and district and district not in by_district:
            share = shares.get(district, 0.0)
            added = cover.get(district, 0.0) + share * townships.get(row.unit_code, 0.0) * min(1.0, row.fraction)
            cover[district] = min(share, added)
        elif row.level == "village" and district:
            cover.setdefault(district, 0.0)
    if not cover:
        city = max((row.fraction for row in rows if row.level == "city"), default=None)
        if city is not None:
            cover = {district: share * min(1.0, city) for district, share in shares.items()}
    return cover


async def event_facts(session: AsyncSession, event_id: int, now: datetime) -> list[WarningFact]:
    """The rule inputs of the event's active weather warnings."""
    return await warning_facts(session, await active_warnings(session, event_id, now))


async def current_proposal(session: AsyncSession, settings: Settings, event_id: int, now: datetime) -> Proposal | None:
    """What the rules propose for the event now, or None."""
    return propose(settings.response, await event_facts(session, event_id, now))
