"""The response-level proposal rules (pure): every default rule of config/default.toml and the edges."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from fangxun.warnings.events.config import ResponseSettings
from fangxun.warnings.events.response_rules import WarningFact, propose, union_cover

T0 = datetime(2026, 7, 20, 0, 0, tzinfo=timezone.utc)
# A city of 12 districts of equal area.
DISTRICTS = [f"4101{n:02d}000000" for n in range(1, 13)]
SHARE = 1 / 12


def fact(number: int, colour: str | None, districts: int | list[str] = 1, *, event: str = "暴雨",
         fraction: float = 1.0, minutes: int | None = None) -> WarningFact:
    """Warning `number`, received `minutes` (default: number) after T0, over the first `districts` districts."""
    codes = DISTRICTS[:districts] if isinstance(districts, int) else districts
    return WarningFact(warning_id=number, event=event, colour=colour,
                       received_at=T0 + timedelta(minutes=number if minutes is None else minutes),
                       cover={code: SHARE * fraction for code in codes})


@pytest.fixture
def response(settings) -> ResponseSettings:
    return settings.response


def test_the_default_rules_are_the_ones_tested_here(response):
    assert [(rule.level, rule.name) for rule in response.rules] == [
        ("I", "暴雨红色预警覆盖全市过半"), ("I", "暴雨红色预警覆盖 6 个以上区县（市）"), ("II", "发布暴雨红色预警"),
        ("II", "暴雨橙色预警覆盖 6 个以上区县（市）"), ("III", "发布暴雨橙色预警"), ("III", "暴雪或道路结冰红色预警"),
        ("IV", "发布暴雨黄色预警"), ("IV", "暴雪或道路结冰橙色预警")]


def test_no_warnings_no_proposal(response):
    assert propose(response, []) is None


@pytest.mark.parametrize("facts, level, rule", [
    # Ⅰ: red rainstorm over half the city (6 of 12 equal districts) — the first Ⅰ rule wins.
    ([fact(1, "red", 6)], 1, "暴雨红色预警覆盖全市过半"),
    # Ⅰ: red over 6 districts covering less than half the city.
    ([fact(1, "red", 6, fraction=0.5)], 1, "暴雨红色预警覆盖 6 个以上区县（市）"),
    # Ⅱ: any red rainstorm.
    ([fact(1, "red", 1)], 2, "发布暴雨红色预警"),
    # Ⅱ: orange over 6 districts.
    ([fact(1, "orange", 6, fraction=0.2)], 2, "暴雨橙色预警覆盖 6 个以上区县（市）"),
    # Ⅲ: orange over 5 districts.
    ([fact(1, "orange", 5)], 3, "发布暴雨橙色预警"),
    # Ⅲ: a red snowstorm or road-icing warning.
    ([fact(1, "red", 12, event="暴雪")], 3, "暴雪或道路结冰红色预警"),
    ([fact(1, "red", 1, event="道路结冰")], 3, "暴雪或道路结冰红色预警"),
    # Ⅳ: yellow rainstorm.
    ([fact(1, "yellow", 12)], 4, "发布暴雨黄色预警"),
    # Ⅳ: orange snowstorm or road icing.
    ([fact(1, "orange", 3, event="暴雪")], 4, "暴雪或道路结冰橙色预警"),
    ([fact(1, "orange", 3, event="道路结冰")], 4, "暴雪或道路结冰橙色预警"),
])
def test_each_default_rule(response, facts, level, rule):
    proposal = propose(response, facts)
    assert (proposal.level, proposal.rule) == (level, rule)


def test_nothing_below_the_lowest_rule(response):
    assert propose(response, [fact(1, "blue", 12)]) is None
    assert propose(response, [fact(1, "yellow", 12, event="暴雪")]) is None
    assert propose(response, [fact(1, None, 12)]) is None


def test_other_warning_types_never_match_rainstorm_rules(response):
    # A red gale over the whole city is not a rainstorm: nothing is proposed.
    assert propose(response, [fact(1, "red", 12, event="大风"), fact(2, "red", 12, event="雷电")]) is None
    # ... and it adds nothing to a rainstorm warning's districts.
    proposal = propose(response, [fact(1, "orange", 1), fact(2, "red", 12, event="大风")])
    assert (proposal.level, proposal.warning_ids) == (3, (1,))


def test_exactly_six_districts_and_exactly_half(response):
    five = [fact(n, "red", [DISTRICTS[n]], fraction=0.5) for n in range(5)]
    assert propose(response, five).level == 2
    six = five + [fact(5, "red", [DISTRICTS[5]], fraction=0.5)]
    assert propose(response, six).rule == "暴雨红色预警覆盖 6 个以上区县（市）"
    # Half the city in five districts: 5 whole districts and a fifth of a sixth district's area would be
    # short; exactly 0.5 of the city is enough.
    half = WarningFact(1, "暴雨", "red", T0, {code: 0.1 for code in DISTRICTS[:5]})
    assert propose(response, [half]).rule == "暴雨红色预警覆盖全市过半"
    short = WarningFact(1, "暴雨", "red", T0, {code: 0.0999 for code in DISTRICTS[:5]})
    assert propose(response, [short]).level == 2


def test_warnings_add_up_across_districts_but_not_within_one(response):
    # Two red warnings each over the same 5 districts do not make 10 districts nor cover twice the area.
    same = [fact(1, "red", 5), fact(2, "red", 5)]
    assert propose(response, same).level == 2
    assert union_cover(same) == {code: SHARE for code in DISTRICTS[:5]}
    # Over 3 + 3 different districts they touch 6: Ⅰ.
    apart = [fact(1, "red", DISTRICTS[:3], fraction=0.5), fact(2, "red", DISTRICTS[3:6], fraction=0.5)]
    assert propose(response, apart).rule == "暴雨红色预警覆盖 6 个以上区县（市）"


def test_a_lower_colour_does_not_count_towards_a_higher_rule(response):
    # Red in 3 districts and orange in 3 others: red touches only 3 (Ⅱ by the red rule), orange-or-above 6.
    facts = [fact(1, "red", DISTRICTS[:3]), fact(2, "orange", DISTRICTS[3:6])]
    proposal = propose(response, facts)
    assert (proposal.level, proposal.rule) == (2, "发布暴雨红色预警")
    # The orange rule counts the red warning too (at least orange): with red alone it would be Ⅱ anyway.
    facts = [fact(1, "orange", DISTRICTS[:3]), fact(2, "orange", DISTRICTS[3:6])]
    assert propose(response, facts).rule == "暴雨橙色预警覆盖 6 个以上区县（市）"


def test_the_trigger_is_the_warning_with_which_the_rule_first_held(response):
    # One-warning rule: the earliest qualifying warning, whatever order the facts come in.
    facts = [fact(3, "yellow", 1, minutes=30), fact(2, "orange", 1, minutes=20), fact(1, "blue", 1, minutes=5)]
    proposal = propose(response, facts)
    assert (proposal.level, proposal.trigger_warning_id, proposal.trigger_at) == (3, 2, T0 + timedelta(minutes=20))
    assert proposal.warning_ids == (2,)
    # Six districts reached by the third of three warnings: that one triggered Ⅱ.
    facts = [fact(1, "orange", DISTRICTS[:2]), fact(2, "orange", DISTRICTS[2:4]), fact(3, "orange", DISTRICTS[4:6]),
             fact(4, "orange", DISTRICTS[6:8])]
    proposal = propose(response, facts)
    assert (proposal.level, proposal.trigger_warning_id) == (2, 3)
    assert (proposal.warning_ids, proposal.districts) == ((1, 2, 3, 4), 8)


def test_proposal_carries_the_level_and_each_departments_actions(response):
    proposal = propose(response, [fact(1, "red", 12)])
    assert (proposal.label, proposal.name) == ("Ⅰ级", "Ⅰ级应急响应")
    assert proposal.actions["education"] == ("全市中小学、幼儿园、校外培训机构停课",)
    assert "水库" in proposal.actions["water"][0]
    assert proposal.city_fraction == pytest.approx(1.0)
    body = proposal.as_json()
    assert body["level_label"] == "Ⅰ级" and body["actions"]["education"] == ["全市中小学、幼儿园、校外培训机构停课"]
    assert (body["trigger_warning_id"], body["trigger_at"]) == (1, (T0 + timedelta(minutes=1)).isoformat())
    low = propose(response, [fact(1, "yellow", 1)])
    assert "education" not in low.actions and low.actions["water"] == ("水库、河道加强值守和巡查",)


def test_a_rule_with_no_events_takes_any_type_and_cover_is_capped():
    response = ResponseSettings.model_validate({
        "rules": [{"level": "III", "name": "任何红色预警覆盖全市", "min_colour": "red", "min_city_fraction": 1.0}],
        "levels": {"III": {"name": "Ⅲ级应急响应"}}})
    over = WarningFact(1, "大风", "red", T0, {code: 0.2 for code in DISTRICTS[:6]})  # adds to 1.2: capped
    proposal = propose(response, [over])
    assert (proposal.level, proposal.city_fraction, proposal.actions) == (3, 1.0, {})
    assert propose(response, [WarningFact(1, "大风", "red", T0, {DISTRICTS[0]: 0.9})]) is None


def test_the_proposal_names_the_districts_and_shares_behind_it(response):
    """Only the warnings the rule looks at count: the blue 大风 over a third district does not."""
    red_a = fact(1, "red", [DISTRICTS[0]], fraction=0.5)
    red_ab = fact(2, "red", DISTRICTS[:2])
    wind = fact(3, "blue", [DISTRICTS[2]], event="大风")
    proposal = propose(response, [red_a, red_ab, wind])
    assert proposal.cover == {DISTRICTS[0]: SHARE, DISTRICTS[1]: SHARE}
    assert proposal.as_json()["cover"] == {DISTRICTS[0]: round(SHARE, 4), DISTRICTS[1]: round(SHARE, 4)}
    assert proposal.districts == len(proposal.cover) and proposal.city_fraction == sum(proposal.cover.values())
