"""Response-level proposal: which level (Ⅰ…Ⅳ) an event's active warnings call for, by the configured rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from fangxun.warnings.events.config import LEVEL_LABELS, ResponseRule, ResponseSettings
from fangxun.warnings.vocabulary import COLOURS

# A rule's min_city_fraction of 0.5 must hold for a cover computed as 0.49999999 from area sums.
_EPSILON = 1e-9
# Decision notices take the colour of their level: deadlines and quiet hours follow it.
LEVEL_COLOURS = {1: "red", 2: "orange", 3: "yellow", 4: "blue"}


@dataclass(frozen=True)
class WarningFact:
    """What the rules look at of one active weather warning of an event.

    `cover` maps each district (区县) the warning touches to the share of the whole city's area it
    covers there (district share of the city × fraction of the district under the warning); a
    district may be touched with a share of 0 (a village-only warning).
    """

    warning_id: int
    event: str
    colour: str | None
    received_at: datetime
    cover: Mapping[str, float] = field(default_factory=dict)

    @property
    def districts(self) -> frozenset[str]:
        """The districts the warning touches."""
        return frozenset(self.cover)

    @property
    def city_fraction(self) -> float:
        """The share of the city the warning covers (0..1)."""
        return min(1.0, sum(self.cover.values()))


@dataclass(frozen=True)
class Proposal:
    """The level the rules propose, the rule that holds, its triggering warning and each department's actions."""

    level: int
    label: str  # Ⅲ级
    name: str  # Ⅲ级应急响应
    rule: str
    trigger_warning_id: int
    trigger_at: datetime
    warning_ids: tuple[int, ...]  # the warnings that satisfy the rule
    districts: int
    city_fraction: float
    actions: Mapping[str, tuple[str, ...]]
    # The districts behind the proposal and the city share covered in each (union_cover of warning_ids).
    cover: Mapping[str, float] = field(default_factory=dict)

    def as_json(self) -> dict:
        """Plain JSON for the API."""
        return {"level": self.level, "level_label": self.label, "level_name": self.name, "rule": self.rule,
                "trigger_warning_id": self.trigger_warning_id, "trigger_at": self.trigger_at.isoformat(),
                "warning_ids": list(self.warning_ids), "districts": self.districts,
                "city_fraction": round(self.city_fraction, 4),
                "actions": {department: list(items) for department, items in self.actions.items()},
                "cover": {district: round(share, 4) for district, share in sorted(self.cover.items())}}


def colour_rank(colour: str | None) -> int:
    """blue 0 < yellow 1 < orange 2 < red 3; -1 for no colour (never reaches a rule)."""
    return COLOURS.index(colour) if colour in COLOURS else -1


def union_cover(facts: Iterable[WarningFact]) -> dict[str, float]:
    """The districts several warnings touch and the city share covered in each.

    Within one district the larger cover counts (warnings of one process over one district are taken
    to overlap, so nothing is counted twice); across districts the shares add up.
    """
    cover: dict[str, float] = {}
    for fact in facts:
        for district, share in fact.cover.items():
            cover[district] = max(cover.get(district, 0.0), share)
    return cover


def _holds(rule: ResponseRule, facts: list[WarningFact]) -> bool:
    if not facts:
        return False
    cover = union_cover(facts)
    return (len(cover) >= rule.min_districts
            and min(1.0, sum(cover.values())) + _EPSILON >= rule.min_city_fraction)


def qualifying(rule: ResponseRule, facts: Iterable[WarningFact]) -> list[WarningFact]:
    """The warnings a rule looks at: of its events (any when none named), at least its colour; oldest first."""
    wanted = colour_rank(rule.min_colour)
    return sorted((fact for fact in facts if (not rule.events or fact.event in rule.events)
                   and colour_rank(fact.colour) >= wanted),
                  key=lambda fact: (fact.received_at, fact.warning_id))


def trigger(rule: ResponseRule, facts: Iterable[WarningFact]) -> WarningFact | None:
    """The warning with which the rule first held, taking its qualifying warnings in order of receipt;
    None when the rule does not hold. For a one-warning rule it is the earliest qualifying warning."""
    chosen = qualifying(rule, facts)
    for end in range(1, len(chosen) + 1):
        if _holds(rule, chosen[:end]):
            return chosen[end - 1]
    return None


def propose(response: ResponseSettings, facts: Iterable[WarningFact]) -> Proposal | None:
    """The first rule (Ⅰ first) that holds for the warnings, as a proposal; None when none holds."""
    facts = list(facts)
    for rule in response.rules:
        first = trigger(rule, facts)
        if first is None:
            continue
        chosen = qualifying(rule, facts)
        cover = union_cover(chosen)
        level = rule.level_number
        settings = response.level(level)
        return Proposal(
            level=level, label=LEVEL_LABELS[level], name=settings.name if settings else f"{LEVEL_LABELS[level]}应急响应",
            rule=rule.name, trigger_warning_id=first.warning_id, trigger_at=first.received_at,
            warning_ids=tuple(fact.warning_id for fact in chosen), districts=len(cover),
            city_fraction=min(1.0, sum(cover.values())),
            actions=dict(settings.actions) if settings else {}, cover=cover)
    return None
