"""Every figure of the annual report on the small hand-built year of support.report_year (2025), worked out by
hand, on SQLite and PostgreSQL; the pure rules (year bounds, percentiles, buckets, summary) on their own."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest
from support.report_year import YEAR, add_year

from fangxun.core.errors import BadInput
from fangxun.core.times import year_bounds
from fangxun.report.figures import annual_figures, build_annual_report, check_year
from fangxun.report.period import bucket_counts, month_starts, nearest_rank
from fangxun.report.summary import summary_text

GENERATED = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
Z = {"current": 0, "due_soon": 0, "overdue": 0, "revising": 0, "withdrawn": 0}


@pytest.fixture
async def year(sessions, settings, today):
    async with sessions() as session, session.begin():
        return await add_year(session, settings, today)


@pytest.fixture
async def figures(year, sessions, settings):
    async with sessions() as session:
        return await annual_figures(session, settings, YEAR)


def test_the_year_is_the_calendar_year_in_beijing_time():
    start, end = year_bounds(2025, "Asia/Shanghai")
    assert start == datetime(2024, 12, 31, 16, 0, tzinfo=timezone.utc)
    assert end == datetime(2025, 12, 31, 16, 0, tzinfo=timezone.utc)
    months = month_starts(2025, "Asia/Shanghai")
    assert len(months) == 13 and months[7] == datetime(2025, 7, 31, 16, 0, tzinfo=timezone.utc)


def test_nearest_rank_percentiles():
    # n=5: median rank ceil(2.5)=3, p90 rank ceil(4.5)=5
    assert nearest_rank([90, 3, 40, 12, 5], 50) == 12
    assert nearest_rank([90, 3, 40, 12, 5], 90) == 90
    # n=4: median rank ceil(2)=2 -> the lower middle value, not the mean 2.5
    assert nearest_rank([1, 2, 3, 4], 50) == 2
    # n=10: p90 rank ceil(9)=9
    assert nearest_rank(list(range(1, 11)), 90) == 9
    assert nearest_rank([7], 90) == 7 and nearest_rank([], 50) is None


def test_acknowledgement_buckets_include_their_upper_bound():
    assert bucket_counts([0, 5, 5.1, 15, 15.5, 30, 45, 60, 60.1, 600]) == [2, 2, 2, 2, 2]


def test_year_out_of_range_is_refused():
    for bad in (1999, 2101):
        with pytest.raises(BadInput, match="year"):
            check_year(bad)
    assert check_year(2000) == 2000 and check_year(2100) == 2100


async def test_plans_by_level_kind_and_district_at_year_end(figures):
    plans = figures["plans"]
    assert plans["as_of"] == "2025-12-31"
    # city: P1 current, P2 overdue; district: P3 due_soon, P4 P5 current, P6 revising;
    # township: P7 withdrawn, P8 P10 current, P9 overdue; village: P11 P13 current, P12 due_soon
    assert plans["by_level"] == {
        "city": {**Z, "current": 1, "overdue": 1},
        "district": {**Z, "current": 2, "due_soon": 1, "revising": 1},
        "township": {**Z, "current": 2, "overdue": 1, "withdrawn": 1},
        "village": {**Z, "current": 2, "due_soon": 1},
    }
    # 13 plans: current 1+2+2+2=7, due_soon 1+1=2, overdue 1+1=2, revising 1, withdrawn 1; 12 not withdrawn
    assert plans["by_status"] == {"current": 7, "due_soon": 2, "overdue": 2, "revising": 1, "withdrawn": 1}
    assert (plans["total"], plans["registered"]) == (13, 12)
    # flood_plan P1 P3 P5 P7 P8 P10 P11; evacuation P2 P4 P6 P9 P12; other P13
    assert plans["by_kind"] == {
        "flood_plan": {**Z, "current": 5, "due_soon": 1, "withdrawn": 1},
        "flood_scheme": Z,
        "evacuation": {**Z, "current": 1, "due_soon": 1, "overdue": 2, "revising": 1},
        "other": {**Z, "current": 1},
    }
    # 市本级 P1 P2; 甲区 P3 P4 P7 P8 P9 P11 P12 P13; 乙区 P5 P6 P10
    assert [(d["name"], d["code"], d["total"], d["by_status"]) for d in plans["by_district"]] == [
        ("市本级", None, 2, {**Z, "current": 1, "overdue": 1}),
        ("甲区", "410102000000", 8, {**Z, "current": 4, "due_soon": 2, "overdue": 1, "withdrawn": 1}),
        ("乙区", "410103000000", 3, {**Z, "current": 2, "revising": 1}),
    ]


async def test_coverage_and_gaps_at_year_end(figures):
    plans = figures["plans"]
    coverage = {level: (e["units"], e["complete"], e["with_gaps"]) for level, e in plans["coverage"].items()}
    # city: evacuation overdue (not complete, not a gap); districts: both complete (revising is in force);
    # townships: 一号街道 has neither (flood plan withdrawn), 二号镇 evacuation overdue, 三号街道 no evacuation;
    # villages: 东村 complete, 西村 only an "other" plan
    assert coverage == {"city": (1, 0, 0), "district": (2, 2, 0), "township": (3, 0, 2), "village": (2, 1, 1)}
    assert plans["coverage"]["township"]["kinds"] == {"flood_plan": {"valid": 2, "overdue": 0, "missing": 1},
                                                      "evacuation": {"valid": 0, "overdue": 1, "missing": 2}}
    assert plans["gap_units"] == 3
    assert [(g["code"], g["missing_kinds"]) for g in plans["gaps"]] == [
        ("410102001000", ["flood_plan", "evacuation"]), ("410102002002", ["flood_plan", "evacuation"]),
        ("410103001000", ["evacuation"])]


async def test_reviews_revisions_approvals_and_withdrawals_in_the_year(figures):
    plans = figures["plans"]
    # reviewed: P4 (review 2025-04-10) and P5 (revision 2025-06-15); P10 (2024-12-31) and P11 (2026-01-01) not
    assert plans["reviewed_in_year"] == 2
    assert plans["revised_in_year"] == 1          # P5
    assert plans["approved_in_year"] == 2         # P8 2025-02-01, P11 2025-05-05
    assert plans["withdrawn_in_year"] == 1        # P7 2025-08-01


async def test_events_by_kind_and_month(figures):
    events = figures["events"]
    # E1 (July) and E2 (1 January 00:20 Beijing, still 2024 in UTC) are rainfall, E3 (31 December 23:40) snow/ice;
    # E4 started in 2024 and E5 on 1 January 2026 (Beijing) are left out
    assert events["by_kind"] == {"rainfall": 2, "snow_ice": 1}
    assert events["by_month"] == {"rainfall": [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0],
                                  "snow_ice": [0] * 11 + [1]}
    assert [(e["name"], e["warnings"], e["highest_level"]) for e in events["list"]] == [
        ("E2过程", 1, 4), ("E1过程", 3, 2), ("E3过程", 1, None)]  # E1: activated Ⅳ, upgraded to Ⅱ
    assert events["list"][0]["started_at"] == "2025-01-01T00:20+08:00"
    assert events["list"][2]["ended_at"] is None


async def test_warnings_by_type_colour_and_month(figures):
    warnings = figures["warnings"]
    # counted: W1 暴雨 yellow (Jan), W11 道路结冰 none (Feb), W2 暴雨 orange (Jul), W3 暴雨 red (Jul),
    # W5 雷电 yellow (Aug in Beijing, July in UTC), W6 暴雪 blue (31 Dec 23:30) = 6;
    # not: W0 (2024), W7 (2026 in Beijing), W8 (an exercise: the drills section), W9 (Test), W10 (decision
    # notice), W4 (Cancel, counted apart)
    assert warnings["total"] == 6
    assert warnings["cancels"] == 1
    assert list(warnings["by_event"]) == ["暴雨", "暴雪", "道路结冰", "雷电"]  # by count, then by name
    assert warnings["by_event"]["暴雨"] == {"blue": 0, "yellow": 1, "orange": 1, "red": 1, "none": 0, "total": 3}
    assert warnings["by_event"]["道路结冰"] == {"blue": 0, "yellow": 0, "orange": 0, "red": 0, "none": 1,
                                               "total": 1}
    assert warnings["by_colour"] == {"blue": 1, "yellow": 2, "orange": 1, "red": 1, "none": 1}
    assert warnings["by_month"] == [1, 1, 0, 0, 0, 0, 2, 1, 0, 0, 0, 1]


async def test_exercises_have_their_own_section(figures):
    # W8, an exercise warning of May, is listed apart, never among the warnings issued (no drill that year)
    assert figures["drills"] == {"drills": 0, "exercise_warnings": 1, "items": [
        {"kind": "exercise_warning", "at": "2025-05-10T10:00+08:00", "name": "暴雨黄色预警（演练）", "notices": 0,
         "acknowledged": 0, "ack_rate": None, "cancelled": False}]}


async def test_notifications_and_acknowledgement_times(figures):
    weather = figures["notifications"]["warnings"]
    # notices n1..n9 of W1 W2 W3 W5 (those of the Cancel W4, of W0 and of W7 are left out)
    assert weather["notices"] == 9
    assert weather["sent"] == 8              # n1..n6 delivered, n7 n8 attempted; n9 never tried
    assert weather["delivered"] == 6         # n1..n6
    assert weather["acknowledged"] == 5      # n1..n5
    assert weather["ack_rate"] == 83.3       # 5 / 6 = 83.33 %
    assert weather["acknowledged_late"] == 2  # n4 n5
    assert (weather["failed"], weather["dead"]) == (1, 1)
    # times 3, 5, 12, 40, 90 minutes: median rank ceil(2.5)=3 -> 12; p90 rank ceil(4.5)=5 -> 90
    assert (weather["timed"], weather["median_ack_minutes"], weather["p90_ack_minutes"]) == (5, 12, 90)
    assert weather["ack_histogram"] == [2, 1, 0, 1, 1]   # ≤5: 3 and 5; 5–15: 12; 30–60: 40; >60: 90
    assert (weather["reminders"], weather["escalations"]) == (1, 2)

    decisions = figures["notifications"]["decisions"]
    # W10: delivered+acked after 20 min, delivered unanswered, pending; one escalation
    assert {key: decisions[key] for key in ("notices", "sent", "delivered", "acknowledged", "ack_rate",
                                            "median_ack_minutes", "p90_ack_minutes", "escalations", "reminders")} \
        == {"notices": 3, "sent": 2, "delivered": 2, "acknowledged": 1, "ack_rate": 50.0,
            "median_ack_minutes": 20, "p90_ack_minutes": 20, "escalations": 1, "reminders": 0}
    assert decisions["ack_histogram"] == [0, 0, 1, 0, 0]


async def test_decisions_by_level_and_time_to_decide(figures):
    decisions = figures["decisions"]
    # D1 D2 D3 D4 decided in 2025; D5 on 31 December 2024
    assert decisions["total"] == 4 and decisions["activations"] == 2
    by_level = {entry["level"]: {k: v for k, v in entry.items() if k != "level" and v} for entry in
                decisions["by_level"]}
    assert by_level == {1: {}, 2: {"upgrade": 1, "terminate": 1}, 3: {}, 4: {"activate": 2}}
    # D4 120 min, D1 45, D2 30, D3 untimed: sorted 30 45 120 -> median rank 2 = 45, longest 120
    assert [d["minutes"] for d in decisions["list"]] == [120, 45, 30, None]
    assert (decisions["timed"], decisions["median_minutes"], decisions["max_minutes"]) == (3, 45, 120)
    assert decisions["list"][0]["trigger_at"] == "2025-01-01T00:30+08:00"


async def test_journal_totals_over_the_years_events(figures):
    journal = figures["journal"]
    assert journal["entries"] == 4   # J1..J4 of E1 and E2; J5 (E4, 2024) and J6 (E5, 2026) left out
    # J3 replaces J2: evacuated 1200 + 350 + 50, housed 800 + 50, injured 3 (not 2 + 3)
    assert journal["totals"] == {"evacuated": 1600, "shelters_opened": 5, "housed": 850, "roads_closed": 3,
                                 "rescues": 4, "deaths": 0, "missing": None, "injured": 3, "economic_loss": 150.5}
    by_event = {e["name"]: e["figures"] for e in figures["events"]["list"]}
    assert by_event["E1过程"]["evacuated"] == 1550 and by_event["E2过程"]["housed"] == 50
    assert by_event["E3过程"]["deaths"] is None


async def test_summary_paragraph_of_the_year(year, sessions, settings):
    async with sessions() as session:
        report = await build_annual_report(session, settings, YEAR, GENERATED)
    assert report.summary == (
        "2025年，全市共编制防汛应急预案及避险安置预案12个，其中市级2个、区县级4个、乡镇（街道）级3个、村（社区）级3个；"
        "有效应对了2轮降雨过程和1轮雨雪冰冻过程，发布暴雨预警3次（红色1次、橙色1次、黄色1次）、暴雪预警1次、道路结冰预警1次、"
        "雷电预警1次，通知相关部门和责任人8人次，叫应率83.3%；启动防汛应急响应2次（Ⅳ级2次），其中1次提升响应级别，最高至Ⅱ级；"
        "累计转移群众1600人，安置850人，未发生因灾死亡，受伤3人，直接经济损失150.5万元。")
    # the tables carry the same numbers
    assert report.table("plans_by_level").rows[-1] == ("合计", 13, 7, 2, 2, 1, 1)
    assert report.table("notifications").rows[4] == ("叫应率（%）", 83.3, 50.0)
    assert dict(report.table("journal").rows)["失踪"] == "未报告"


async def test_an_empty_year_has_zero_figures(sessions, settings):
    async with sessions() as session:
        report = await build_annual_report(session, settings, 2030, GENERATED)
    figures = report.figures
    assert figures["plans"]["total"] == 0 and figures["warnings"]["total"] == 0
    assert figures["notifications"]["warnings"]["ack_rate"] is None
    assert figures["decisions"]["median_minutes"] is None
    assert "全年未发生需应对的降雨和雨雪冰冻过程" in report.summary and "未发生因灾死亡" in report.summary


def _with_journal(figures: dict, **totals) -> dict:
    changed = copy.deepcopy(figures)
    changed["journal"]["totals"].update(totals)
    return changed


async def test_no_deaths_is_said_only_when_none_are_recorded(figures):
    assert "未发生因灾死亡" in summary_text(figures)                                   # deaths reported as 0
    assert "未发生因灾死亡" in summary_text(_with_journal(figures, deaths=None))      # nobody reported any
    text = summary_text(_with_journal(figures, deaths=2, missing=1))
    assert "因灾死亡2人、失踪1人" in text and "未发生因灾死亡" not in text
    text = summary_text(_with_journal(figures, deaths=1, missing=None))
    assert "因灾死亡1人" in text and "失踪" not in text and "未发生" not in text
    assert "未发生因灾死亡，失踪3人" in summary_text(_with_journal(figures, deaths=0, missing=3))
