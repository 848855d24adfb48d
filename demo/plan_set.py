"""The demo plan set: which unit has which plan, its review dates and its responsible persons. Pure."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from fangxun.demo.names import People, owner_org, positions, short_name, unit_type
from fangxun.plans.plan_fields import KIND_LABELS
from fangxun.plans.review_clock import add_months, plan_status
from fangxun.settings import Settings

TARGET_PLANS = 6897
NO_PLAN_VILLAGES = 12
UNREACHABLE_VILLAGES = 12
# Shares of all plans; the rest are current. Drawn in this order, each from the plans still free.
STATUS_SHARES = (("withdrawn", 0.005), ("revising", 0.012), ("overdue", 0.065), ("due_soon", 0.075))
STATUS_LEVELS = {"withdrawn": ("village",), "revising": ("township", "village"),
                 "overdue": ("township", "village"), "due_soon": ("district", "township", "village")}
# Share of flood plans on a yearly cycle (reviewed every spring before the flood season).
YEARLY_FLOOD_PLANS = {"city": 1.0, "district": 1.0, "township": 0.35, "village": 0.1}
HILLY_DISTRICTS = ("410181", "410182", "410183", "410185")  # 巩义、荥阳、新密、登封
URBAN_SCHEMES = ("下穿隧道防汛应急方案", "地铁站点防汛应急方案", "城市内涝防御方案", "低洼易涝点防汛应急方案")


@dataclass(frozen=True)
class DemoUnit:
    """One unit of the packaged registry."""

    code: str
    name: str
    level: str
    parent_code: str | None

    @property
    def short(self) -> str:
        """The place name (村/社区 without the committee)."""
        return short_name(self.name, self.level)


@dataclass
class PlanSpec:
    """One plan to generate, before dates and people."""

    unit: DemoUnit
    kind: str
    title: str
    owner: str
    cycle: int | None = None
    status: str = "current"
    person_roles: tuple[str, str] = ("chief", "flood_deputy")


@dataclass
class Person:
    """A responsible person of a unit."""

    name: str
    position: str
    phone: str | None


@dataclass
class DemoPlans:
    """The plan rows for import_plans plus the positions import rows cannot carry."""

    rows: list[dict] = field(default_factory=list)
    positions: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)


def _special_plans(unit: DemoUnit, urban_index: int) -> list[tuple[str, str, str]]:
    """(kind, title, owner) of the plans beyond the two every unit needs."""
    kind_of_unit = unit_type(unit.name, unit.level)
    if unit.level == "city":
        return [("flood_scheme", "郑州市城市内涝防御方案", "郑州市城市管理局"),
                ("other", "郑州市城市轨道交通防汛应急预案", "郑州地铁集团有限公司")]
    hilly = unit.code[:6] in HILLY_DISTRICTS
    if unit.level == "district" and hilly:
        return [("other", f"{unit.name}山洪灾害防御预案", owner_org(unit.name, unit.level, "other"))]
    if unit.level == "district" and kind_of_unit in ("district", "zone"):
        title = unit.name + URBAN_SCHEMES[urban_index % len(URBAN_SCHEMES)]
        return [("flood_scheme", title, owner_org(unit.name, unit.level, "flood_scheme"))]
    if unit.level == "township" and hilly and kind_of_unit in ("town", "rural"):
        return [("other", f"{unit.name}山洪灾害防御预案", owner_org(unit.name, unit.level, "other"))]
    return []


def _weighted_order(rng: random.Random, items: list[DemoUnit], weight) -> list[DemoUnit]:
    """Items in a random order where heavier ones tend to come first (sampling without replacement)."""
    return sorted(items, key=lambda item: rng.random() ** (1 / weight(item)), reverse=True)


def plan_specs(units: list[DemoUnit], rng: random.Random) -> list[PlanSpec]:
    """Every plan of the registry in unit order, with exactly TARGET_PLANS rows."""
    specials, urban = {}, 0
    for unit in units:
        extra = _special_plans(unit, urban)
        urban += unit.level == "district" and any(kind == "flood_scheme" for kind, _, _ in extra)
        specials[unit.code] = extra
    possible = 2 * len(units) + sum(len(extra) for extra in specials.values())
    # Scenic and forest administrations have no residents to evacuate.
    areas = [u for u in units if u.level == "township" and ("风景区" in u.name or "森林公园" in u.name)]
    missing = possible - TARGET_PLANS - 2 * NO_PLAN_VILLAGES - len(areas)
    if missing < 0:
        raise ValueError(f"the registry is too small for {TARGET_PLANS} plans")
    villages = [u for u in units if u.level == "village"]
    # Urban communities lack their own evacuation plan more often (they rely on the street's plan).
    order = _weighted_order(rng, villages, lambda u: 2.0 if u.short.endswith("社区") else 1.0)
    no_plans = {u.code for u in order[:NO_PLAN_VILLAGES]}
    no_evacuation = {u.code for u in order[NO_PLAN_VILLAGES:NO_PLAN_VILLAGES + missing]} | {u.code for u in areas}

    specs = []
    for unit in units:
        if unit.code in no_plans:
            continue
        label = unit.short if unit.level == "village" else unit.name
        flood = PlanSpec(unit, "flood_plan", label + KIND_LABELS["flood_plan"],
                         owner_org(unit.name, unit.level, "flood_plan"))
        if rng.random() < YEARLY_FLOOD_PLANS[unit.level]:
            flood.cycle = 12
        specs.append(flood)
        if unit.code not in no_evacuation:
            specs.append(PlanSpec(unit, "evacuation", label + KIND_LABELS["evacuation"],
                                  owner_org(unit.name, unit.level, "evacuation"),
                                  person_roles=("chief", "evacuation_deputy")))
        for kind, title, owner in specials[unit.code]:
            specs.append(PlanSpec(unit, kind, title, owner, person_roles=("flood_deputy", "evacuation_deputy")))
    if len(specs) != TARGET_PLANS:
        raise RuntimeError(f"demo generated {len(specs)} plans instead of {TARGET_PLANS}")
    return specs


def assign_statuses(specs: list[PlanSpec], rng: random.Random) -> None:
    """Mark exact shares of the plans withdrawn, revising, overdue and due soon."""
    taken: set[int] = set()
    for status, share in STATUS_SHARES:
        pool = [i for i, spec in enumerate(specs)
                if i not in taken and spec.unit.level in STATUS_LEVELS[status]]
        for i in rng.sample(pool, round(share * len(specs))):
            specs[i].status = status
            taken.add(i)


def _pick(rng: random.Random, low: date, high: date, wanted) -> date | None:
    """A random day in [low, high] that satisfies `wanted`, or None."""
    span = (high - low).days
    if span < 0:
        return None
    for _ in range(20):
        day = low + timedelta(days=rng.randint(0, span))
        if wanted(day):
            return day
    return None


def review_anchor(rng: random.Random, status: str, cycle: int, today: date, soon_days: int,
                  seasonal: bool) -> date:
    """The latest approval or review date that gives an active plan `status` on `today`."""
    def wanted(anchor: date) -> bool:
        due = add_months(anchor, cycle)
        return anchor <= today and plan_status("active", due, today, soon_days) == status

    if status == "current" and seasonal:
        year = today.year if today >= date(today.year, 4, 1) else today.year - 1
        anchor = _pick(rng, date(year, 4, 1), min(date(year, 5, 31), today), wanted)
        if anchor:
            return anchor
    if status == "current":
        low, high = add_months(today + timedelta(days=soon_days + 1), -cycle), today
    elif status == "due_soon":
        low, high = add_months(today, -cycle), add_months(today + timedelta(days=soon_days), -cycle)
    else:
        late = min(int(rng.expovariate(1 / 150)) + 1, 720)
        low = high = add_months(today - timedelta(days=late), -cycle)
    return _pick(rng, low, min(high, today), wanted) or min(high, today)


def review_dates(rng: random.Random, spec: PlanSpec, cycle: int, today: date,
                 soon_days: int) -> tuple[date, date | None, str]:
    """(approved_on, last_reviewed_on, version) of a plan; version blank for the import's default."""
    clock_status = spec.status
    if spec.status == "revising":
        clock_status = rng.choice(("overdue", "due_soon"))
    elif spec.status == "withdrawn":
        clock_status = "overdue"
    seasonal = spec.kind == "flood_plan" and cycle == 12
    anchor = review_anchor(rng, clock_status, cycle, today, soon_days, seasonal)
    if spec.unit.level != "city" and rng.random() < 0.3:
        return anchor, None, ""  # blank: the import's default version 1.0
    approved = anchor - timedelta(days=rng.randint(200, 2000))
    # No x.0 versions: the import reads "2.0" as a spreadsheet number and stores "2".
    return approved, anchor, rng.choice(("1.1", "1.2", "2.1", "2.2", "3.1"))


def _unit_people(unit: DemoUnit, people: People, unreachable: bool) -> dict[str, Person]:
    chief, flood_deputy, evacuation_deputy = positions(unit.name, unit.level)
    return {"chief": Person(people.name(), chief, None if unreachable else people.phone()),
            "flood_deputy": Person(people.name(), flood_deputy, people.phone()),
            "evacuation_deputy": Person(people.name(), evacuation_deputy, people.phone())}


def build_plans(units: list[DemoUnit], settings: Settings, today: date) -> DemoPlans:
    """The import rows of all demo plans; same units and `today` give the same rows."""
    specs = plan_specs(units, random.Random("fangxun-demo:plans"))
    assign_statuses(specs, random.Random("fangxun-demo:statuses"))
    dates_rng = random.Random("fangxun-demo:dates")
    people = People(random.Random("fangxun-demo:people"))
    reach_rng = random.Random("fangxun-demo:reach")
    villages = list(dict.fromkeys(spec.unit.code for spec in specs if spec.unit.level == "village"))
    unreachable = set(reach_rng.sample(villages, UNREACHABLE_VILLAGES))
    soon_days = settings.registry.due_soon_days
    staff: dict[str, dict[str, Person]] = {}
    result = DemoPlans()
    for spec in specs:
        unit = spec.unit
        if unit.code not in staff:
            staff[unit.code] = _unit_people(unit, people, unit.code in unreachable)
        cycle = spec.cycle or settings.registry.review_cycle_months[spec.kind]
        approved, reviewed, version = review_dates(dates_rng, spec, cycle, today, soon_days)
        responsible = staff[unit.code][spec.person_roles[0]]
        # An unreachable village has not named a deputy either, so nobody can be called.
        deputy = None if unit.code in unreachable else staff[unit.code][spec.person_roles[1]]
        result.rows.append({
            "unit_code": unit.code, "kind": spec.kind, "title": spec.title, "owner_org": spec.owner,
            "approved_on": approved.isoformat(), "last_reviewed_on": reviewed.isoformat() if reviewed else "",
            "review_cycle_months": str(spec.cycle) if spec.cycle else "", "version": version,
            "lifecycle": spec.status if spec.status in ("revising", "withdrawn") else "active",
            "responsible_name": responsible.name, "responsible_phone": responsible.phone or "",
            "deputy_name": deputy.name if deputy else "", "deputy_phone": deputy.phone if deputy else "",
        })
        result.positions[(unit.code, spec.kind)] = (responsible.position, deputy.position if deputy else "")
    return result
