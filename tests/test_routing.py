"""Routing tree: the default Zhengzhou tree, first match and continue, inheritance, areas, Cancel."""

import pytest

from fangxun.warnings.config import Route
from fangxun.warnings.routing.tree import (RouteDecision, WarningFacts, department_contact, matches, recipients_plan,
                                           route, significant_prefix)

ALL_DEPARTMENTS = {"weather", "water", "emergency", "urban", "transport", "housing", "planning", "education",
                   "police"}
JINSHUI = "410105001001"  # a community of 金水区
GONGYI = "410181100200"  # a village of 巩义市 (western hills)


def facts(event="暴雨", colour="blue", msg_type="Alert", units=(JINSHUI,)):
    return WarningFacts(event=event, colour=colour, msg_type=msg_type, unit_codes=frozenset(units))


def tree(data: dict) -> Route:
    return Route.model_validate(data)


@pytest.fixture
def default_tree(settings):
    return settings.warnings.tree


@pytest.mark.parametrize("colour, departments, levels", [
    ("blue", {"weather", "water", "emergency"}, {"district"}),
    (None, {"weather", "water", "emergency"}, {"district"}),
    ("yellow", {"weather", "water", "emergency", "urban", "transport", "housing"}, {"district", "township"}),
    ("orange", ALL_DEPARTMENTS - {"education", "police"}, {"district", "township", "village"}),
    ("red", ALL_DEPARTMENTS, {"district", "township", "village"}),
])
def test_default_tree_rainstorm(default_tree, colour, departments, levels):
    plan = recipients_plan(route(facts(colour=colour), default_tree))
    assert plan.departments == departments
    assert plan.person_levels == levels


def test_default_tree_red_uses_the_severe_template_and_record_channel(default_tree):
    [decision] = route(facts(colour="red"), default_tree)
    assert decision.route_path == "routes[1].routes[0]"
    assert decision.template == "rainstorm_severe"
    assert decision.person_channels == ("record",)
    assert decision.department_channel == ""


def test_default_tree_western_hills_add_planning_through_continue(default_tree):
    decisions = route(facts(colour="yellow", units=(GONGYI,)), default_tree)
    assert [d.route_path for d in decisions] == ["routes[0]", "routes[1].routes[2]"]
    assert "planning" in recipients_plan(decisions).departments
    assert "planning" not in recipients_plan(route(facts(colour="yellow"), default_tree)).departments


def test_default_tree_other_events(default_tree):
    [yellow] = route(facts(event="雷电", colour="yellow"), default_tree)
    assert yellow.departments == ("weather", "emergency") and yellow.person_levels == ()
    [red] = route(facts(event="大风", colour="red"), default_tree)
    assert set(red.departments) == {"weather", "emergency", "urban", "transport"}
    assert red.person_levels == ("district",)


def test_unknown_event_falls_back_to_the_root(default_tree):
    [decision] = route(facts(event="森林火险", colour="orange"), default_tree)
    assert decision.route_path == "default_route"
    assert decision.departments == ("emergency",) and decision.template == "default"


@pytest.mark.parametrize("msg_type", ["Alert", "Update", "Cancel"])
def test_cancel_and_update_are_routed_like_the_alert(default_tree, msg_type):
    alert = route(facts(colour="orange"), default_tree)
    assert [(d.departments, d.person_levels) for d in route(facts(colour="orange", msg_type=msg_type),
                                                           default_tree)] == \
        [(d.departments, d.person_levels) for d in alert]


def test_first_matching_child_wins():
    root = tree({"template": "t", "departments": ["root"], "routes": [
        {"events": ["暴雨"], "departments": ["a"]},
        {"events": ["暴雨"], "departments": ["b"]},
    ]})
    assert [d.departments for d in route(facts(), root)] == [("a",)]


def test_continue_keeps_matching_siblings():
    root = tree({"template": "t", "routes": [
        {"events": ["暴雨"], "departments": ["a"], "continue": True},
        {"events": ["雷电"], "departments": ["x"]},
        {"events": ["暴雨"], "departments": ["b"]},
        {"events": ["暴雨"], "departments": ["c"]},
    ]})
    assert [d.route_path for d in route(facts(), root)] == ["routes[0]", "routes[2]"]


def test_continue_route_alone_still_counts_as_the_match():
    root = tree({"template": "t", "departments": ["root"], "routes": [
        {"events": ["暴雨"], "departments": ["a"], "continue": True},
    ]})
    assert [d.departments for d in route(facts(), root)] == [("a",)]


def test_parent_applies_when_no_child_matches():
    root = tree({"template": "t", "routes": [
        {"events": ["暴雨"], "departments": ["a"], "routes": [{"colours": ["red"], "departments": ["b"]}]},
    ]})
    assert [(d.route_path, d.departments) for d in route(facts(colour="blue"), root)] == [("routes[0]", ("a",))]
    assert [d.route_path for d in route(facts(colour="red"), root)] == ["routes[0].routes[0]"]


def test_options_are_inherited_unless_overridden():
    root = tree({"template": "base", "department_channel": "desk-sms", "person_channels": ["sms"],
                 "person_levels": ["district"], "routes": [
                     {"events": ["暴雨"], "departments": ["a"], "template": "rain", "routes": [
                         {"colours": ["red"], "person_channels": ["sms", "wecom"], "person_levels": ["village"]},
                     ]}]})
    [decision] = route(facts(colour="red"), root)
    assert decision == RouteDecision(route_path="routes[0].routes[0]", departments=("a",),
                                     person_levels=("village",), department_channel="desk-sms",
                                     person_channels=("sms", "wecom"), template="rain")


def test_explicit_empty_list_overrides_inherited_one():
    root = tree({"template": "t", "person_levels": ["district"], "routes": [
        {"events": ["暴雨"], "person_levels": []}]})
    assert route(facts(), root)[0].person_levels == ()


@pytest.mark.parametrize("matcher, colour, expected", [
    ({"min_colour": "orange"}, "yellow", False),
    ({"min_colour": "orange"}, "orange", True),
    ({"min_colour": "orange"}, "red", True),
    ({"min_colour": "blue"}, None, False),
    ({"colours": ["blue", "red"]}, "red", True),
    ({"colours": ["blue", "red"]}, "orange", False),
    ({"colours": ["蓝色"]}, "blue", True),
])
def test_colour_matchers(matcher, colour, expected):
    assert matches(Route.model_validate(matcher), facts(colour=colour)) is expected


def test_msg_type_matcher():
    node = Route.model_validate({"msg_types": ["Cancel"]})
    assert matches(node, facts(msg_type="Cancel")) and not matches(node, facts(msg_type="Alert"))


@pytest.mark.parametrize("prefixes, units, expected", [
    (["410105"], [JINSHUI], True),  # the warned community lies in 金水区
    (["410102"], [JINSHUI], False),
    (["410105"], ["410100000000"], True),  # a city-wide warning covers 金水区
    (["410105"], ["410100"], True),  # 6-digit CAP geocodes
    (["410100"], [GONGYI], True),  # the city as a prefix
    (["410105001"], ["410105002003"], False),
    (["410105", "410181"], [GONGYI], True),
    (["410181"], [], False),
])
def test_area_units_prefixes(prefixes, units, expected):
    assert matches(Route.model_validate({"area_units": prefixes}), facts(units=units)) is expected


def test_significant_prefix():
    assert significant_prefix("410100000000") == "4101"
    assert significant_prefix("410105") == "410105"
    assert significant_prefix("410105001000") == "410105001"
    assert significant_prefix("410105001001") == "410105001001"


def test_recipients_plan_merges_without_duplicates():
    decisions = [
        RouteDecision("routes[0]", ("planning", "water"), ("district",), "", ("record",), "a"),
        RouteDecision("routes[1]", ("water", "weather"), ("district", "village"), "", ("record", "sms"), "b"),
    ]
    plan = recipients_plan(decisions)
    assert plan.departments == {"planning", "water", "weather"}
    assert plan.person_levels == {"district", "village"}
    pairs = [(d.kind, d.who, d.channel) for d in plan.deliveries]
    assert len(pairs) == len(set(pairs))
    assert ("department", "water", "", "a") in [(d.kind, d.who, d.channel, d.template) for d in plan.deliveries]
    assert {(d.who, d.channel) for d in plan.deliveries if d.kind == "person"} == {
        ("district", "record"), ("village", "record"), ("district", "sms"), ("village", "sms")}
    assert plan.route_paths == ("routes[0]", "routes[1]")


def test_department_contact_keeps_or_overrides_the_desk_channel(settings):
    water = settings.warnings.departments["water"]
    assert department_contact(water, "") == water.desk
    assert department_contact(water, "sms").channel == "sms"
    assert department_contact(water, "sms").address == water.desk.address
