"""Duty rosters: who is on duty around the shift change, all-or-nothing import, gaps in the coming days."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from fangxun.core.errors import ImportRejected
from fangxun.plans.tabular import write_table
from fangxun.warnings.duty.roster_import import import_roster_file
from fangxun.warnings.duty.roster_queries import on_duty_now, roster_gaps
from fangxun.warnings.duty.roster_rules import DutyShift, gaps, on_duty
from fangxun.warnings.duty.tables import DutyRosterEntry

BEIJING = ZoneInfo("Asia/Shanghai")
HEADERS = ["日期", "班次", "值班员", "电话", "带班领导", "电话"]
ROWS = [
    ["2026-07-01", "全天", "张三", "13900000001", "王局长", "13800000001"],
    ["2026-07-02", "全天", "李四", "13900000002", "赵局长", "13800000002"],
    ["2026-07-03", "白班", "周五", "13900000003", "王局长", "13800000001"],
    ["2026-07-03", "夜班", "吴六", "13900000004", "赵局长", "13800000002"],
]


def beijing(day: int, hour: int, minute: int) -> datetime:
    """A July 2026 moment in Beijing time, as aware UTC."""
    return datetime(2026, 7, day, hour, minute, tzinfo=BEIJING).astimezone(timezone.utc)


def test_shift_change_at_eight_hands_over_between_0759_and_0801():
    shifts = [DutyShift("water", date(2026, 7, day), "全天", name, "1390000000" + str(day), "领导", "13800000000")
              for day, name in ((1, "张三"), (2, "李四"))]
    assert on_duty(shifts, "water", beijing(2, 7, 59), time(8), "Asia/Shanghai").officer_name == "张三"
    assert on_duty(shifts, "water", beijing(2, 8, 1), time(8), "Asia/Shanghai").officer_name == "李四"
    assert on_duty(shifts, "water", beijing(3, 8, 1), time(8), "Asia/Shanghai") is None
    assert on_duty(shifts, "city", beijing(2, 8, 1), time(8), "Asia/Shanghai") is None


def test_gaps_are_merged_stretches_per_desk():
    shifts = [DutyShift("water", date(2026, 7, 1), "全天", "张三", "1", "领导", "2"),
              DutyShift("water", date(2026, 7, 3), "夜班", "李四", "1", "领导", "2")]
    found = gaps(shifts, ["water", "city"], beijing(1, 8, 0), beijing(4, 8, 0), time(8), "Asia/Shanghai")
    assert [(g.desk, g.start, g.end) for g in found] == [
        ("water", beijing(2, 8, 0), beijing(3, 20, 0)),
        ("city", beijing(1, 8, 0), beijing(4, 8, 0)),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_import_reads_both_phone_columns_and_picks_who_is_on_duty(sessions, settings, tmp_path, suffix):
    path = tmp_path / f"water{suffix}"
    write_table(path, HEADERS, ROWS)
    async with sessions() as session, session.begin():
        result = await import_roster_file(session, path, "water", settings.warnings.departments)
    assert result.created == 4
    duty = settings.warnings.duty
    async with sessions() as session:
        before = await on_duty_now(session, ["water", "city"], beijing(2, 7, 59), duty)
        after = await on_duty_now(session, ["water", "city"], beijing(2, 8, 1), duty)
        night = await on_duty_now(session, ["water"], beijing(4, 7, 0), duty)
    assert (before["water"].officer_name, before["water"].officer_phone) == ("张三", "13900000001")
    assert (before["water"].leader_name, before["water"].leader_phone) == ("王局长", "13800000001")
    assert (after["water"].officer_name, after["water"].leader_phone) == ("李四", "13800000002")
    assert before["city"] is None
    assert night["water"].officer_name == "吴六"


async def test_reimport_replaces_the_days_the_file_lists(sessions, settings, tmp_path):
    path = tmp_path / "water.csv"
    write_table(path, HEADERS, ROWS)
    async with sessions() as session, session.begin():
        await import_roster_file(session, path, "water", settings.warnings.departments)
    write_table(path, HEADERS, [["2026/7/2", "", "钱七", "139 0000 0009", "孙局长", "13800000009"]])
    async with sessions() as session, session.begin():
        result = await import_roster_file(session, path, "water", settings.warnings.departments)
    assert (result.created, result.updated) == (0, 1)
    async with sessions() as session:
        now = await on_duty_now(session, ["water"], beijing(2, 9, 0), settings.warnings.duty)
        count = await session.scalar(select(func.count()).select_from(DutyRosterEntry))
    assert (now["water"].officer_name, now["water"].officer_phone) == ("钱七", "13900000009")
    assert count == 4


async def test_a_bad_row_rejects_the_whole_file_naming_row_and_field(sessions, settings, tmp_path):
    path = tmp_path / "water.csv"
    write_table(path, HEADERS, [
        ROWS[0],
        ["2026-07-02", "全天", "李四", "13900000002", "赵局长", "12"],
        ["2026-07-32", "全天", "周五", "13900000003", "", "13800000001"],
        ["2026-07-01", "夜班", "吴六", "13900000004", "赵局长", "13800000002"],
    ])
    async with sessions() as session, session.begin():
        with pytest.raises(ImportRejected) as caught:
            await import_roster_file(session, path, "water", settings.warnings.departments)
    problems = {(p.row, p.column) for p in caught.value.problems}
    assert problems == {(3, "电话（带班领导）"), (4, "日期"), (4, "带班领导"), (5, "班次")}
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DutyRosterEntry)) == 0


async def test_check_lists_the_gap_in_the_coming_days(sessions, settings, tmp_path):
    path = tmp_path / "city.xlsx"
    write_table(path, HEADERS, [ROWS[0], ROWS[2], ROWS[3]])  # nobody on 2 July
    async with sessions() as session, session.begin():
        await import_roster_file(session, path, "city", settings.warnings.departments)
    async with sessions() as session:
        found = await roster_gaps(session, ["city"], beijing(1, 8, 0), 3, settings.warnings.duty)
    assert [(g.desk, g.start, g.end) for g in found] == [("city", beijing(2, 8, 0), beijing(3, 8, 0))]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
async def test_duty_commands_import_show_and_check(dialect, tmp_path):
    from support.command_line import registry_database, run

    path = tmp_path / "water.csv"
    write_table(path, HEADERS, [ROWS[0], ROWS[2], ROWS[3]])
    async with registry_database(dialect, tmp_path) as url:
        status, out, err = run("--database-url", url, "duty", "import", str(path), "--desk", "water")
        assert status == 0, err
        assert "新增 3 条" in out
        status, out, err = run("--database-url", url, "duty", "now", "--at", "2026-07-02T07:59", "--json")
        assert status == 0, err
        water = next(item for item in json.loads(out) if item["desk"] == "water")
        assert (water["officer_name"], water["leader_name"]) == ("张三", "王局长")
        status, out, err = run("--database-url", url, "duty", "check", "--at", "2026-07-01T08:00", "--days", "3")
        assert status == 0, err
        assert "市水利局值班室（water）：2026-07-02 08:00 至 2026-07-03 08:00 无人值班" in out
        bad = tmp_path / "bad.csv"
        write_table(bad, HEADERS, [["2026-07-05", "全天", "", "13900000001", "王局长", "13800000001"]])
        status, out, err = run("--database-url", url, "duty", "import", str(bad), "--desk", "water")
        assert status == 2
        assert "第 2 行 [值班员]：不能为空" in err
