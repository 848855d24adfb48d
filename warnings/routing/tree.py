"""The routing tree: which departments, levels of 责任人, channels and template a warning goes to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fangxun.plans.unit_rules import significant_prefix
from fangxun.warnings.config import Contact, Department, Route
from fangxun.warnings.vocabulary import COLOURS


@dataclass(frozen=True)
class WarningFacts:
    """What routing looks at: event (暴雨…), colour or None, CAP msgType and the warned unit codes."""

    event: str
    colour: str | None
    msg_type: str
    unit_codes: frozenset[str]


@dataclass(frozen=True)
class RouteDecision:
    """One matched route with its inherited options resolved."""

    route_path: str
    departments: tuple[str, ...]
    person_levels: tuple[str, ...]
    # "": each department through its own desk contact's channel.
    department_channel: str
    person_channels: tuple[str, ...]
    template: str


@dataclass(frozen=True)
class Delivery:
    """One kind of message to send: to a department or to the 责任人 of one level, through one channel."""

    kind: str  # "department" | "person"
    who: str  # department key, or person level (district/township/village)
    channel: str  # "" for a department: its desk contact's own channel
    template: str


@dataclass(frozen=True)
class RecipientsPlan:
    """Several decisions merged without duplicates."""

    departments: frozenset[str]
    person_levels: frozenset[str]
    deliveries: tuple[Delivery, ...]
    route_paths: tuple[str, ...]


def _areas_overlap(unit_codes: Iterable[str], prefixes: Iterable[str]) -> bool:
    """A warned unit lies inside a route's unit, or contains it (a city-wide warning reaches every district)."""
    wanted = [significant_prefix(prefix) for prefix in prefixes]
    for code in unit_codes:
        unit = significant_prefix(code)
        if any(unit.startswith(prefix) or prefix.startswith(unit) for prefix in wanted):
            return True
    return False


def matches(node: Route, facts: WarningFacts) -> bool:
    """Whether every matcher of `node` holds for `facts` (no matchers: always)."""
    if node.events is not None and facts.event not in node.events:
        return False
    if node.colours is not None and facts.colour not in node.colours:
        return False
    if node.min_colour is not None and (
            facts.colour not in COLOURS or COLOURS.index(facts.colour) < COLOURS.index(node.min_colour)):
        return False
    if node.msg_types is not None and facts.msg_type not in node.msg_types:
        return False
    if node.area_units is not None and not _areas_overlap(facts.unit_codes, node.area_units):
        return False
    return True


def _resolve(node: Route, parent: RouteDecision, path: str) -> RouteDecision:
    def pick(own, inherited):
        return inherited if own is None else own

    return RouteDecision(
        route_path=path,
        departments=tuple(pick(node.departments, parent.departments)),
        person_levels=tuple(pick(node.person_levels, parent.person_levels)),
        department_channel=pick(node.department_channel, parent.department_channel),
        person_channels=tuple(pick(node.person_channels, parent.person_channels)),
        template=pick(node.template, parent.template),
    )


def _match(node: Route, facts: WarningFacts, resolved: RouteDecision) -> list[RouteDecision]:
    if not matches(node, facts):
        return []
    found: list[RouteDecision] = []
    prefix = "routes" if resolved.route_path == "default_route" else f"{resolved.route_path}.routes"
    for index, child in enumerate(node.routes):
        path = f"{prefix}[{index}]"
        child_found = _match(child, facts, _resolve(child, resolved, path))
        found.extend(child_found)
        if child_found and not child.continue_:
            break
    return found or [resolved]


def route(facts: WarningFacts, tree: Route) -> list[RouteDecision]:
    """Depth-first: the first matching child wins unless it says `continue`; no child matching: the node itself."""
    root = RouteDecision(route_path="default_route", departments=(), person_levels=(), department_channel="",
                         person_channels=(), template=tree.template or "")
    return _match(tree, facts, _resolve(tree, root, "default_route"))


def recipients_plan(decisions: list[RouteDecision]) -> RecipientsPlan:
    """Merge matched decisions; a (recipient, channel) pair named twice keeps the first decision's template."""
    deliveries: dict[tuple[str, str, str], Delivery] = {}
    for decision in decisions:
        for key in decision.departments:
            deliveries.setdefault(("department", key, decision.department_channel),
                                  Delivery("department", key, decision.department_channel, decision.template))
        for level in decision.person_levels:
            for channel in decision.person_channels:
                deliveries.setdefault(("person", level, channel),
                                      Delivery("person", level, channel, decision.template))
    return RecipientsPlan(
        departments=frozenset(key for decision in decisions for key in decision.departments),
        person_levels=frozenset(level for decision in decisions for level in decision.person_levels),
        deliveries=tuple(deliveries.values()),
        route_paths=tuple(decision.route_path for decision in decisions),
    )


def department_contact(department: Department, channel: str) -> Contact:
    """The desk contact a department delivery goes to; `channel` "" keeps the desk's own."""
    desk = department.desk
    return desk if not channel else Contact(name=desk.name, channel=channel, address=desk.address)
