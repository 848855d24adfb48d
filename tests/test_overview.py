"""The duty officer's overview (/): warnings in force first with their 叫应 counts and who has waited longest, the
open events with the level in force and the one proposed, then gaps and overdue plans worst first, linked to their
units with their district; empty states in Chinese; the icon."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import insert, update
from support.api_fixtures import PASSWORD, sign_in
from support.map_registry import T1, T2, WEST, YI, add_map_registry
from support.warning_factories import (DISTRICT_B, EAST_VILLAGE, NOON, PERSONS, STREET_3, WEST_VILLAGE, add_registry,
                                       add_wide_registry, make_warning, notifications, warning_settings)

from fangxun.core.accounts import signing_secret
from fangxun.plans.attention import gap_units, overdue_plans
from fangxun.plans.models import Plan
from fangxun.plans.stats import registry_stats
from fangxun.warnings.acks.acknowledging import acknowledge
from fangxun.warnings.acks.escalation import escalate_due
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.duty.tables import DutyRosterEntry
from fangxun.warnings.events.decisions import record_decision
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings import review_attention
from fangxun.warnings.plan_reminders import NO_ADDRESS, NO_CONTACT, send_plan_reminders

REACHABLE = [p for p in PERSONS if p[2] != "三号街道主任"]


@pytest.fixture
def config(settings, sink):
    # No reminder before stepping up: an unanswered notice goes to the level above after its 15 minutes.
    return warning_settings(settings, sink.url_for("/hook"), repeat=0)


def section(page: str, name: str) -> str:
    """The text of one section of the page (tags dropped, spaces folded)."""
    match = re.search(rf'<section id="{name}"[^>]*>(.*?)</section>', page, re.S)
    assert match, name
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def section_html(page: str, name: str) -> str:
    return re.search(rf'<section id="{name}"[^>]*>(.*?)</section>', page, re.S).group(1)


async def _overview(client, user) -> str:
    await sign_in(client, user, PASSWORD)
    response = await client.get("/")
    assert response.status == 200
    return await response.text()


async def _dispatch(sessions, config, clock) -> None:
    async with new_http_session(config.warnings.channels) as http:
        await Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "t1",
                         rng=random.Random(5)).run_until_idle()


async def _ack(sessions, row, at) -> None:
    async with sessions() as session, session.begin():
        await acknowledge(session, ack_token(await signing_secret(session), row.idempotency_key), at, "page")


async def test_a_warning_in_force_comes_first_with_its_counts_and_who_has_waited_longest(
        client, user, sessions, config, clock):
    async with sessions() as session, session.begin():
        await add_registry(session, REACHABLE)
    red = (await ingest(sessions, make_warning("red", area_description="测试市全境"), config, NOON)).warning
    await _dispatch(sessions, config, clock)
    async with sessions() as session:
        notices = await notifications(session, red.id, purpose="notice")
    # Everyone answers but the two 责任人 of 东村, who are stepped up to 二号镇 after their 15 minutes.
    silent = [row for row in notices if row.unit_code == EAST_VILLAGE]
    assert len(silent) == 2 and len(notices) == 11
    for row in notices:
        if row not in silent:
            await _ack(sessions, row, NOON + timedelta(minutes=3))
    clock.advance(minutes=16)
    async with sessions() as session, session.begin():
        assert await escalate_due(session, clock.now(), config) > 0
    await _dispatch(sessions, config, clock)
    async with sessions() as session:
        above = await notifications(session, red.id, purpose="escalation")
    assert sorted(row.recipient_name for row in above) == ["二号镇副镇长", "二号镇镇长"]
    await _ack(sessions, next(row for row in above if row.recipient_name == "二号镇副镇长"),
               NOON + timedelta(minutes=20))
    # A blue warning later, not yet sent: it comes after the red one whatever its time.
    await ingest(sessions, make_warning("blue", colour="blue", event="大风", geocodes=("410103",),
                                        sent=NOON + timedelta(minutes=17), area_description="乙区"),
                 config, NOON + timedelta(minutes=17))
    clock.advance(minutes=9)   # 10:25

    page = await _overview(client, user)
    main = page.split("<main>")[1]
    assert main.index('<section id="in-force"') < main.index('<section id="events"') < main.index('id="gaps"')
    shown = section(page, "in-force")
    assert shown.startswith("生效中的预警（共 2 条）")
    assert shown.index("暴雨红色预警") < shown.index("大风蓝色预警")
    red_card = shown.split("大风蓝色预警")[0]
    assert "影响区域：测试市全境 发布： 2026-06-01 09:55 （郑州市气象台） · 有效至 2026-06-01 22:00" in red_card
    # 9 answered at once, 2 stepped up (已上报), of the two told above one answered and one waits.
    assert "待确认 1 已确认 10 已上报 2" in red_card
    assert "等待最久： 二号镇镇长 （甲区 · 二号镇），已等待 9 分钟 （已送达待确认）" in red_card
    assert f'href="/board?warning={red.id}"' in section_html(page, "in-force")
    blue_card = shown.split("大风蓝色预警")[1]
    # 大风 goes to the emergency desk alone (the default route); not sent yet, it has waited since it was written.
    assert "影响区域：乙区" in blue_card and "待确认 1 已确认 0 已上报 0" in blue_card
    assert "等待最久： 市应急管理局（市应急管理局指挥中心） ，已等待 8 分钟 （待发送）" in blue_card

    # The red 暴雨 opened a rainfall event; the rules propose a level while none is in force.
    events = section(page, "events")
    assert "降雨过程" in events and "当前响应 未启动应急响应" in events
    assert "规则建议 Ⅰ级应急响应" in events and "建议启动Ⅰ级应急响应（尚未决定）" in events
    event_id = int(re.search(r'href="/events/(\d+)"', section_html(page, "events")).group(1))
    async with sessions() as session, session.begin():
        await record_decision(session, config, event_id, action="activate", level="IV", decided_by="值班领导",
                              decided_at=None, principal="user:duty01", now=clock.now())
    page = await _overview(client, user)
    events = section(page, "events")
    assert "当前响应 Ⅳ级应急响应" in events and "建议提升至Ⅰ级应急响应（尚未决定）" in events
    # The decision's notice to the departments is not a weather warning: still two in force.
    assert section(page, "in-force").startswith("生效中的预警（共 2 条）")


async def test_warnings_no_longer_in_force_and_outside_ones_are_not_shown(client, user, sessions, config):
    async with sessions() as session, session.begin():
        await add_registry(session, REACHABLE)
    first = make_warning("yellow", colour="yellow")
    await ingest(sessions, first, config, NOON - timedelta(minutes=30))
    await ingest(sessions, make_warning("yellow-2", msg_type="Cancel", references=(first,), sent=NOON),
                 config, NOON)
    await ingest(sessions, make_warning("old", sent=NOON - timedelta(days=2), expires=NOON - timedelta(days=1)),
                 config, NOON - timedelta(days=2))
    await ingest(sessions, make_warning("far", geocodes=("420100",), area_description="武汉市"), config, NOON)
    page = await _overview(client, user)
    assert section(page, "in-force") == "生效中的预警 目前没有生效的预警"


async def test_empty_registry_says_so_in_chinese(client, user):
    page = await _overview(client, user)
    assert "目前没有生效的预警" in section(page, "in-force")
    assert "目前没有进行中的事件" in section(page, "events")
    assert "没有缺少预案的区划" in section(page, "gaps")
    assert "没有逾期未评估的预案" in section(page, "overdue")
    # Nobody rostered at any desk: each is unstaffed now and for the whole of the coming week.
    duty = section(page, "duty")
    assert duty.count("无人值班（通知发往配置的值班室联系方式）") == 4
    assert "市防指值班室 2026-06-01 10:00 2026-06-08 10:00" in duty
    assert section(page, "reminders") == ("复核提醒 近 30 天已发出复核提醒 0 条（已送达 0 条） 逾期且无法提醒的预案（共 0 件）"
                                          " 逾期预案的责任人均可收到提醒")
    assert "登记库为空" in section(page, "registry")


async def test_overdue_plans_and_gaps_worst_first_with_district_and_link(client, user, sessions, settings, today):
    async with sessions() as session, session.begin():
        await add_map_registry(session, settings, today)
    page = await _overview(client, user)
    overdue = section_html(page, "overdue")
    rows = re.findall(r'<tr><td data-label="区划"><a href="/units/(\d+)">([^<]+)</a></td>.*?'
                      r'class="date">([^<]+)</td>.*?class="n">([^<]+)</td></tr>', overdue, re.S)
    # 乙区's plan was due 2023-01-01, 西村's 2024-01-01: the longest overdue first.
    assert rows == [(YI, "乙区", "2023-01-01", "1247 天"), (WEST, "甲区 · 二号镇 · 西村", "2024-01-01", "882 天")]
    assert section(page, "overdue").startswith("逾期未评估的预案（共 2 件）")
    gaps = re.findall(r'<a href="/units/(\d+)">([^<]+)</a></td><td data-label="级别">([^<]+)</td>'
                      r'<td data-label="缺少">([^<]+)</td>', section_html(page, "gaps"))
    # Higher levels first: the townships' gaps before the village's (二号镇's evacuation plan was withdrawn).
    assert gaps == [(T1, "甲区 · 一号街道", "乡镇街道", "防汛应急预案、紧急避险安置预案"),
                    (T2, "甲区 · 二号镇", "乡镇街道", "紧急避险安置预案"),
                    (WEST, "甲区 · 二号镇 · 西村", "村社区", "紧急避险安置预案")]
    assert section(page, "gaps").startswith("覆盖缺口（共 3 个区划）")


async def test_long_lists_show_the_first_rows_and_the_total(client, user, sessions, settings, today):
    async with sessions() as session, session.begin():
        units = await add_wide_registry(session, townships=3, villages_per_township=10)
        # Two plans with dates: they come before the plans never approved (no date at all).
        await _dated_plans(session, {"410102001001": date(2025, 1, 1), "410102003010": date(2024, 6, 1)})
    async with sessions() as session:
        stats = await registry_stats(session, settings.registry, today)
        gaps = await gap_units(session, settings.registry, 5)
        overdue = await overdue_plans(session, settings.registry, today, 5)
    # Every unit lacks its 紧急避险安置预案; the totals agree with the registry's figures.
    assert gaps["total"] == stats["gap_units"] == units + 1
    assert overdue["total"] == stats["overdue_reviews"] == units
    assert [gap["level"] for gap in gaps["items"]] == ["city", "district", "township", "township", "township"]
    assert [(p["unit_code"], p["days_overdue"]) for p in overdue["items"][:3]] == [
        ("410102003010", 730), ("410102001001", 516), ("410102000000", None)]
    page = await _overview(client, user)
    assert "显示前 20 个，共 35 个" in section(page, "gaps")
    assert "显示前 20 件，共 34 件" in section(page, "overdue")
    assert len(re.findall(r'<a href="/units/', section_html(page, "overdue"))) == 20


async def _overdue_registry(sessions, today: date) -> None:
    """The registry with three plans overdue: 三号街道's (no address), 西村's (no contact), 乙区's (reminded)."""
    async with sessions() as session, session.begin():
        await add_registry(session, PERSONS)
        await session.execute(insert(Plan).values(unit_code=WEST_VILLAGE, kind="flood_plan", title="西村防汛应急预案",
                                                  review_cycle_months=36, lifecycle="active"))
        await _dated_plans(session, {STREET_3: today - timedelta(days=30), WEST_VILLAGE: today - timedelta(days=10),
                                     DISTRICT_B: today - timedelta(days=3)})


async def _dated_plans(session, due: dict[str, date]) -> None:
    for code, when in due.items():
        await session.execute(update(Plan).where(Plan.unit_code == code).values(next_review_due=when))


async def test_the_icon_is_served_to_anyone_and_named_by_every_page(client, user):
    icon = await client.get("/favicon.ico")
    body = await icon.read()
    assert icon.status == 200 and icon.headers["Content-Type"] == "image/x-icon"
    assert body[:4] == b"\x00\x00\x01\x00" and body[4] == 2    # an ICO of two images (16 and 32 px)
    svg = await client.get("/static/favicon.svg")
    assert svg.status == 200 and svg.content_type == "image/svg+xml"
    login = await (await client.get("/login")).text()
    links = '<link rel="icon" href="/favicon.ico" sizes="16x16 32x32"><link rel="icon" href="/static/favicon.svg"'
    assert links in login
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303     # the icon is public, the overview is not
    page = await _overview(client, user)
    assert links in page


async def test_the_overview_loads_only_its_own_stylesheet(client, user):
    await sign_in(client, user, PASSWORD)
    response = await client.get("/")
    page = await response.text()
    policy = response.headers["Content-Security-Policy"]
    assert '<link rel="stylesheet" href="/static/overview/overview.css">' in page
    assert "style-src 'self'" in policy and "img-src 'self'" in policy and "unsafe" not in policy
    assert "<script" not in page
    css = await client.get("/static/overview/overview.css")
    assert css.status == 200 and "text/css" in css.content_type



async def test_who_is_on_duty_now_and_the_desks_nobody_is_on_duty_at_in_the_coming_week(client, user, sessions):
    rows = [("water", date(2026, 6, day), "全天", "张三", "13900000101", "王局长", "13800000101") for day in range(1, 9)]
    rows.append(("city", date(2026, 6, 1), "全天", "周五", "13900000103", "钱主任", "13800000103"))
    async with sessions() as session, session.begin():
        await session.execute(insert(DutyRosterEntry), [dict(zip(
            ("desk", "duty_date", "shift", "officer_name", "officer_phone", "leader_name", "leader_phone"), row))
            for row in rows])
    duty = section(await _overview(client, user), "duty")
    assert "市水利局值班室 张三 13900000101 （2026-06-01 全天） 王局长 13800000101" in duty
    assert "市防指值班室 周五 13900000103 （2026-06-01 全天） 钱主任 13800000103" in duty
    assert "市气象台值班室 无人值班" in duty
    # The clock stands at 10:00 on 1 June: the week runs to 10:00 on the 8th; the water desk is covered throughout.
    gaps = duty.split("未来 7 天无人值班的时段")[1]
    assert gaps.startswith("（3 段）")
    assert "市防指值班室 2026-06-02 08:00 2026-06-08 10:00" in gaps
    assert "市应急管理局指挥中心 2026-06-01 10:00 2026-06-08 10:00" in gaps
    assert "市水利局值班室" not in gaps


async def test_review_reminders_sent_and_the_overdue_plans_nobody_can_be_reminded_of(client, user, sessions, config,
                                                                                    clock, today):
    await _overdue_registry(sessions, today)
    written = await send_plan_reminders(sessions, config, clock.now(), today)
    assert [(r.unit_code, r.problem) for r in written] == [
        (DISTRICT_B, None), (STREET_3, NO_ADDRESS), (WEST_VILLAGE, NO_CONTACT)]
    await _dispatch(sessions, config, clock)
    reminders = section(await _overview(client, user), "reminders")
    assert "近 30 天已发出复核提醒 1 条（已送达 1 条）" in reminders
    assert "逾期且无法提醒的预案（共 2 件）" in reminders
    rows = reminders.split("原因")[1]
    assert rows.index("三号街道主任：责任人在该渠道无地址") < rows.index("西村防汛应急预案")
    assert "30 天" in rows and "10 天 无责任人联系方式" in rows
    assert f"{DISTRICT_B}flood_plan" not in rows  # 乙区区长 was reminded


@pytest.mark.parametrize("per_chunk", [1, 2, 2000])
async def test_the_overdue_plans_nobody_can_be_reminded_of_are_judged_a_chunk_at_a_time_with_the_same_answer(
        sessions, config, today, monkeypatch, per_chunk):
    await _overdue_registry(sessions, today)
    monkeypatch.setattr(review_attention, "_PLANS_PER_CHUNK", per_chunk)
    async with sessions() as session:
        shown = await review_attention.unremindable_overdue(session, config, today, limit=1)
        every = await review_attention.unremindable_overdue(session, config, today, limit=10)
    assert shown["total"] == every["total"] == 2
    assert [(item["unit_code"], item["problem"]) for item in shown["items"]] == [(STREET_3, NO_ADDRESS)]
    assert [(item["unit_code"], item["days_overdue"]) for item in every["items"]] == [(STREET_3, 30), (WEST_VILLAGE, 10)]
