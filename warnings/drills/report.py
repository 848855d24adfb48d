"""A drill's report: per district who was told, who answered and how soon, and who was unreachable (no contact,
delivery failed, no answer by the deadline); one row per person."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.errors import NotFound
from fangxun.plans.models import AdminUnit
from fangxun.warnings.drills.rules import OUTCOME_LABELS, Told, district_figures, minutes_between, outcome
from fangxun.warnings.drills.start import drill_json
from fangxun.warnings.tables import Drill, Notification
from fangxun.warnings.vocabulary import LEVEL_LABELS

N = Notification.__table__
DESKS = "desks"  # the group of the city's desks in the report
DESKS_NAME = "市级值班席位"
_CHUNK = 1000


async def get_drill(session: AsyncSession, drill_id: int) -> Drill:
    """The drill `drill_id`; NotFound otherwise."""
    drill = await session.get(Drill, drill_id)
    if drill is None:
        raise NotFound(f"演练 {drill_id} 不存在")
    return drill


async def list_drills(session: AsyncSession, limit: int = 100) -> list[dict]:
    """The latest drills, newest first."""
    rows = (await session.execute(select(Drill).order_by(Drill.started_at.desc(), Drill.id.desc())
                                  .limit(limit))).scalars()
    return [drill_json(drill) for drill in rows]


async def _units(session: AsyncSession, codes: set[str]) -> dict[str, tuple]:
    """(name, level, district code) of each unit of `codes`, and of their districts."""
    found: dict[str, tuple] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), _CHUNK):
        for code, name, level, district in (await session.execute(
                select(AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.district_code)
                .where(AdminUnit.code.in_(ordered[start:start + _CHUNK])))).all():
            found[code] = (name, level, code if level == "district" else district)
    districts = {district for _, _, district in found.values() if district and district not in found}
    if districts:
        found |= await _units(session, districts)
    return found


async def drill_report(session: AsyncSession, drill_id: int, now: datetime) -> dict:
    """The report of drill `drill_id` as at `now`: totals, per district figures and each person's row."""
    drill = await get_drill(session, drill_id)
    deadline_at = drill.started_at + timedelta(minutes=drill.deadline_minutes)
    rows = (await session.execute(
        select(N.c.recipient_kind, N.c.recipient_key, N.c.recipient_name, N.c.unit_code, N.c.level, N.c.channel,
               N.c.status, N.c.attempts, N.c.delivered_at, N.c.acked_at, N.c.last_error, N.c.escalated_at)
        .where(N.c.drill_id == drill_id, N.c.purpose == "notice", N.c.escalation_step == 0)
        .order_by(N.c.id))).all()
    escalations = (await session.execute(select(func.count()).select_from(N).where(
        N.c.drill_id == drill_id, N.c.purpose == "escalation"))).scalar_one()
    people: dict[tuple[str, str], list] = {}
    for row in rows:
        people.setdefault((row.recipient_kind, row.recipient_key), []).append(row)
    units = await _units(session, {row.unit_code for row in rows if row.unit_code})
    by_district: dict[str, list] = {}
    persons = []
    for told in people.values():
        first = told[0]
        state, answered = outcome([Told(r.status, r.attempts, r.delivered_at, r.acked_at,
                                        r.status == "failed" and not r.attempts and not r.delivered_at)
                                   for r in told], deadline_at, now)
        minutes = None if answered is None else round(minutes_between(drill.started_at, answered), 1)
        unit_name, unit_level, district = units.get(first.unit_code or "", ("", first.level, None))
        district = district if first.recipient_kind == "person" else DESKS
        district = district or DESKS
        by_district.setdefault(district, []).append((state, minutes))
        problems = sorted({r.last_error for r in told if r.last_error and r.acked_at is None})
        persons.append({
            "district_code": district, "district_name": _district_name(district, units),
            "unit_code": first.unit_code, "unit_name": unit_name,
            "level_label": LEVEL_LABELS.get(unit_level or "", "值班席位"),
            "kind": first.recipient_kind, "name": first.recipient_name,
            "channels": [r.channel for r in told], "outcome": state, "outcome_label": OUTCOME_LABELS[state],
            "answered_at": answered.isoformat() if answered else None, "minutes_to_answer": minutes,
            "escalated": any(r.escalated_at is not None for r in told), "detail": "；".join(problems)})
    persons.sort(key=lambda p: (p["district_code"] == DESKS, p["district_code"], p["unit_code"] or "", p["name"]))
    districts = [{"district_code": code, "district_name": _district_name(code, units), **district_figures(items)}
                 for code, items in sorted(by_district.items(), key=lambda item: (item[0] == DESKS, item[0]))]
    return {"drill": drill_json(drill), "deadline_at": deadline_at.isoformat(), "as_of": now.isoformat(),
            "totals": district_figures([item for items in by_district.values() for item in items]),
            "escalations": escalations, "districts": districts, "persons": persons}


def _district_name(code: str, units: dict[str, tuple]) -> str:
    if code == DESKS:
        return DESKS_NAME
    return units.get(code, (code,))[0]
