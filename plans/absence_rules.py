"""Who stands in for an absent person (请假/出差) at a moment, and the words that say so. Pure: the reads are in
plans/absence_queries.py, the routing in warnings/intake/fanout.py.

The rules, as a duty officer wants them:
- An absence is in force from its start (inclusive) to its end (exclusive) unless cancelled.
- It is the person's, whichever of their contact rows (one per plan) it was registered on.
- Two absences of one person overlapping: the one registered last is the arrangement that holds.
- The stand-in is the absence's named AB角, else the unit's 副责任人 (of the same plan first); one who is away
  themself passes it on to their own stand-in the same way (nobody is asked twice).
- Nobody available: the notification still goes to the absent person, whose name on it says they are away with
  nobody standing in. A person on leave can still answer, and the board shows the row for the duty officer to
  follow up; a row made unreachable would be escalated unanswered although the person may well answer.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from fangxun.plans.contact_rules import person_identity

KIND_LABELS = {"leave": "请假", "trip": "出差"}
DEPUTY_ROLE = "deputy"
RESPONSIBLE_ROLE = "responsible"
_ROLE_RANK = {RESPONSIBLE_ROLE: 0, DEPUTY_ROLE: 1}


class Absence(NamedTuple):
    """A person's absence: from `starts_at` to `ends_at` (aware UTC), and the named AB角 when there is one."""

    id: int
    contact_id: int
    kind: str
    starts_at: datetime
    ends_at: datetime
    reason: str = ""
    deputy_contact_id: int | None = None
    cancelled_at: datetime | None = None


def in_force(absence: Absence, at: datetime) -> bool:
    """Whether `absence` holds at `at`: not cancelled, started, not yet ended."""
    return absence.cancelled_at is None and absence.starts_at <= at < absence.ends_at


def current(absences: Iterable[tuple[Hashable, Absence]], at: datetime) -> dict:
    """The absence holding at `at` for each person (the key paired with each absence: a contact id or a
    person_identity); of overlapping ones, the one registered last."""
    found: dict = {}
    for key, absence in absences:
        if in_force(absence, at):
            known = found.get(key)
            if known is None or known.id < absence.id:
                found[key] = absence
    return found


def identity(person) -> tuple[str, str]:
    """person_identity of a PlanPerson-like tuple."""
    return person_identity(person.unit_code, person.phone, person.name)


def until_words(ends_at: datetime, zone: str) -> str:
    """The last day (or moment) of an absence in local time: 12月9日 when it ends at midnight, else 12月9日 18:00."""
    local = ends_at.astimezone(ZoneInfo(zone))
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        last = local - timedelta(days=1)
        return f"{last.month}月{last.day}日"
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def away_words(absence: Absence, zone: str) -> str:
    """请假至 12月9日."""
    return f"{KIND_LABELS.get(absence.kind, '外出')}至 {until_words(absence.ends_at, zone)}"


def stand_in_name(deputy_name: str, covered: Sequence[tuple[str, Absence]], zone: str) -> str:
    """The name a stand-in's notification carries: 李四（代 张三，请假至 12月9日）; for several, joined by ；."""
    parts = "；".join(f"代 {name}，{away_words(absence, zone)}" for name, absence in covered)
    return f"{deputy_name}（{parts}）"


def unattended_name(name: str, absence: Absence, zone: str) -> str:
    """The name of an absent person's notification when nobody stands in: 张三（请假至 12月9日，无人代理）."""
    return f"{name}（{away_words(absence, zone)}，无人代理）"


def covered_words(covered: Sequence[tuple[str, Absence]]) -> str:
    """For whom a stand-in acts, for the duty line: 张三（请假）、王五（出差）."""
    return "、".join(f"{name}（{KIND_LABELS.get(absence.kind, '外出')}）" for name, absence in covered)


def _candidates(person, absence: Absence, known: Mapping[int, object], by_unit: Mapping[str, Sequence]) -> list:
    """Whom `person` passes their duty to, in order: the named AB角, then their unit's 副责任人 (same plan first)."""
    found = []
    named = known.get(absence.deputy_contact_id) if absence.deputy_contact_id is not None else None
    if named is not None:
        found.append(named)
    deputies = [other for other in by_unit.get(person.unit_code, ())
                if other.role == DEPUTY_ROLE and other.id != person.id]
    found += sorted(deputies, key=lambda other: (other.plan_title != person.plan_title, other.id))
    return found


def stand_in_for(person, away: Mapping[int, Absence], known: Mapping[int, object],
                 by_unit: Mapping[str, Sequence]):
    """Who stands in for absent `person`: the first available of their candidates, then of an away candidate's
    own (breadth first, each once); None when nobody is."""
    queue = _candidates(person, away[person.id], known, by_unit)
    asked = {person.id}
    while queue:
        candidate = queue.pop(0)
        if candidate.id in asked:
            continue
        asked.add(candidate.id)
        absence = away.get(candidate.id)
        if absence is None:
            return candidate
        queue += _candidates(candidate, absence, known, by_unit)
    return None


def resolved(persons: Sequence, away_by_identity: Mapping[tuple, Absence],
             named: Mapping[int, object]) -> tuple[dict[int, Absence], dict[int, object]]:
    """The absences by contact id of `persons` and the named AB角, matched by who they are (person_identity);
    and every person known by contact id, a named AB角 on record among `persons` as that row."""
    by_identity = {identity(person): person for person in persons}
    known = {key: by_identity.get(identity(deputy), deputy) for key, deputy in named.items()}
    known.update((person.id, person) for person in persons)
    away = {}
    for person in known.values():
        absence = away_by_identity.get(identity(person))
        if absence is not None:
            away[person.id] = absence
    return away, known


def with_stand_ins(persons: Sequence, away_by_identity: Mapping[tuple, Absence], named: Mapping[int, object],
                   zone: str) -> list:
    """The persons a notification goes to with absences applied: an absent person replaced by their stand-in (in
    the absent person's unit, with their role, plan and words saying for whom: `name`, `stands_in`), one row per
    stand-in and unit even when they stand in for several or are on record there themself; an absent person
    with nobody to stand in keeps their row, marked. `persons` and `named` (the named AB角 by contact id) are
    PlanPerson-like named tuples; `away_by_identity` the absences in force by person_identity."""
    if not away_by_identity:
        return list(persons)
    away, known = resolved(persons, away_by_identity, named)
    if not any(person.id in away for person in persons):
        return list(persons)
    by_unit: dict[str, list] = {}
    for person in persons:
        by_unit.setdefault(person.unit_code, []).append(person)
    kept: dict[tuple[str, int], object] = {}
    covering: dict[tuple[str, int], tuple[object, list]] = {}  # (unit, stand-in) -> (stand-in, [(absent, absence)])
    for person in persons:
        absence = away.get(person.id)
        if absence is None:
            kept.setdefault((person.unit_code, person.id), person)
            continue
        deputy = stand_in_for(person, away, known, by_unit)
        if deputy is None:
            kept[(person.unit_code, person.id)] = person._replace(name=unattended_name(person.name, absence, zone))
            continue
        covering.setdefault((person.unit_code, deputy.id), (deputy, []))[1].append((person, absence))
    for slot, (deputy, absents) in covering.items():
        absents.sort(key=lambda item: (_ROLE_RANK.get(item[0].role, 2), item[0].id))
        first = absents[0][0]
        named_absents = [(absent.name, absence) for absent, absence in absents]
        kept[slot] = first._replace(
            id=deputy.id, name=stand_in_name(deputy.name, named_absents, zone), phone=deputy.phone,
            channels=deputy.channels, stands_in=covered_words(named_absents))
    return sorted(kept.values(), key=lambda person: (person.id, person.unit_code))
