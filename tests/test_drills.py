"""The 叫应 drill: every 责任人 and desk in scope told through the real dispatcher, each message marked 【演练】,
reminders and escalations only inside the drill, and the report per district."""

from __future__ import annotations

import io
import json
from contextlib import asynccontextmanager
from datetime import timedelta
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from support.warning_factories import (CITY, DISTRICT_A, DISTRICT_B, EAST_VILLAGE, NOON, TOWN_2, add_registry,
                                       make_warning, warning_settings)

from fangxun.cli import cmd_drill_report, cmd_drill_start
from fangxun.core.accounts import signing_secret
from fangxun.core.errors import BadInput
from fangxun.warnings.acks.acknowledging import acknowledge
from fangxun.warnings.acks.escalation import escalate_due
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.delivery.channels.base import OutgoingMessage
from fangxun.warnings.delivery.channels.sms import sms_text
from fangxun.warnings.delivery.channels.speech import speech_text
from fangxun.warnings.drills.follow_up import follow_up_drills
from fangxun.warnings.drills.report import drill_report
from fangxun.warnings.drills.rules import DRILL_NOTE
from fangxun.warnings.drills.start import drill_options, run_drill
from fangxun.warnings.in_force import warnings_in_force
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import Drill, Notification

NOTE = "【演练】本条为防汛叫应演练消息，不是真实预警，除回复确认（叫应）外无需采取任何行动。"


@pytest.fixture
def config(settings, sink):
    return warning_settings(settings, sink.url_for("/hook"), repeat=1)


@pytest.fixture
async def registry(sessions):
    async with sessions() as session, session.begin():
        return await add_registry(session)


async def start(sessions, config, scope=CITY, **options):
    return await run_drill(sessions, config, drill_options(config, scope, **options), NOON, started_by="duty")


async def rows(sessions, **where) -> list[Notification]:
    async with sessions() as session:
        query = select(Notification).order_by(Notification.id)
        for key, value in where.items():
            query = query.where(getattr(Notification, key) == value)
        return list((await session.execute(query)).scalars())


async def ack(sessions, row: Notification, at) -> None:
    async with sessions() as session, session.begin():
        await acknowledge(session, ack_token(await signing_secret(session), row.idempotency_key), at, "page")


async def follow_up(sessions, config, at) -> int:
    async with sessions() as session, session.begin():
        created = await follow_up_drills(session, at, config)
    async with sessions() as session, session.begin():
        assert await follow_up_drills(session, at, config) == 0  # a second run creates nothing twice
        assert await escalate_due(session, at, config) == 0  # a warning's escalation never takes drill rows
    return created


def received(sink) -> dict[str, dict]:
    return {request.json["address"]: request.json for request in sink.requests}


async def test_everyone_in_scope_receives_exactly_the_drill_words(sessions, config, registry, dispatch, sink):
    started = await start(sessions, config, deadline="20m")
    # Nine persons and four desks; 三号街道主任 has no address: born failed, never sent; 西村 has nobody on record.
    assert (started.told, started.notifications, started.no_contact, started.units_without_persons) == (
        13, 13, 1, ["410102002002"])
    assert await dispatch() == 12
    by_address = received(sink)
    assert len(by_address) == 12 and {"city-duty-desk", "water-desk", "emergency-desk", "weather-desk"} <= set(
        by_address)
    village = by_address["13900000008"]
    assert village["title"] == "【演练】测试市防汛叫应演练"
    assert village["text"] == (
        f"{NOTE}\n东村支书：\n您是 东村 防汛责任人（《{EAST_VILLAGE}flood_plan》）\n"
        "测试市防汛指挥部正在组织汛前叫应演练，检验各级责任人和值班席位能否及时联系到。"
        f"请于 20 分钟内点击确认收到（叫应）：{village['ack_url']}")
    assert village["drill_id"] == started.drill.id and "warning_id" not in village and "colour" not in village
    desk = by_address["water-desk"]
    assert desk["title"].startswith("【演练】") and desk["text"].startswith(f"{NOTE}\n市水利局（市水利局值班室）：")
    for document in by_address.values():
        assert document["title"].startswith("【演练】") and document["text"].startswith(NOTE)
        assert "预警" not in document["title"]
    # The words of an SMS and of a call made of the same message open the same way.
    message = OutgoingMessage("东村支书", "13900000008", village["title"], village["text"], village["ack_url"], "k")
    assert sms_text(message, "【郑州防汛】", 500).startswith("【郑州防汛】【演练】测试市防汛叫应演练：【演练】本条为")
    assert speech_text(message.title, message.text, 500, message.ack_url).startswith(
        "【演练】测试市防汛叫应演练。【演练】本条为防汛叫应演练消息，不是真实预警")
    failed = await rows(sessions, address="")
    assert [(r.recipient_name, r.status, r.last_error) for r in failed] == [("三号街道主任", "failed", "无可用联系方式")]
    # Every row is the drill's; none belongs to a warning.
    assert {(r.drill_id, r.warning_id) for r in await rows(sessions)} == {(started.drill.id, None)}
    assert all(r.ack_deadline == r.delivered_at + timedelta(minutes=20) for r in await rows(sessions, status="delivered"))


async def test_levels_channels_and_scope_choose_who_is_told(sessions, config, registry, dispatch, sink):
    started = await start(sessions, config, DISTRICT_A, levels="village,township", channels="hook")
    names = sorted(r.recipient_name for r in await rows(sessions, drill_id=started.drill.id))
    assert names == ["一号街道主任", "东村主任", "东村支书", "二号镇副镇长", "二号镇镇长"]  # no desk, no 区长
    async with sessions() as session:
        assert (await session.get(Drill, started.drill.id)).levels == ["village", "township"]


@pytest.mark.parametrize("options, field", [({"channels": "sms,hook"}, "channels"), ({"levels": "street"}, "levels"),
                                            ({"deadline": "30s"}, "deadline"), ({"deadline": "0"}, "deadline"),
                                            ({"scope": "4101"}, "scope"), ({"scope": "419900000000"}, "scope")])
async def test_bad_options_are_refused_naming_the_field_and_write_nothing(sessions, config, registry, options, field):
    options = dict(options)
    scope = options.pop("scope", CITY)
    with pytest.raises(BadInput) as raised:
        await start(sessions, config, scope, **options)
    assert raised.value.detail.startswith(f"{field}：")
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Drill))).scalar_one() == 0
        assert await rows(sessions) == []


async def test_reminders_and_escalations_stay_inside_the_drill(sessions, config, registry, dispatch, clock, sink):
    started = await start(sessions, config, DISTRICT_A, deadline="30m")
    await dispatch()
    told = await rows(sessions, drill_id=started.drill.id)
    village = next(r for r in told if r.address == "13900000008")
    for row in told:  # everyone but 东村支书 answers at once
        if row.id != village.id and row.status == "delivered":
            await ack(sessions, row, NOON + timedelta(minutes=2))
    assert await follow_up(sessions, config, NOON + timedelta(minutes=29)) == 0
    assert await follow_up(sessions, config, NOON + timedelta(minutes=31)) == 1  # a reminder
    clock.moved[0] = timedelta(minutes=31)
    await dispatch()
    reminder = (await rows(sessions, purpose="reminder"))[0]
    sent = received(sink)
    assert reminder.drill_id == started.drill.id and reminder.warning_id is None
    words = [r.json for r in sink.requests if r.json["idempotency_key"] == reminder.idempotency_key][0]
    assert words["title"] == "【演练】【第1次提醒·请叫应】甲区防汛叫应演练" and words["text"].startswith(NOTE)
    assert await follow_up(sessions, config, NOON + timedelta(minutes=62)) == 2  # up to 二号镇's two 责任人
    clock.moved[0] = timedelta(minutes=62)
    await dispatch()
    township = await rows(sessions, purpose="escalation")
    assert {(r.unit_code, r.drill_id, r.warning_id) for r in township} == {(TOWN_2, started.drill.id, None)}
    for row in township:
        words = [r.json for r in sink.requests if r.json["idempotency_key"] == row.idempotency_key][0]
        assert words["title"] == "【演练】【逾期未叫应·逐级上报】甲区防汛叫应演练"
        assert words["text"].startswith(f"{NOTE}\n东村支书 收到演练消息后逾期未叫应，现按演练流程报告您")
    # Nobody of the township answers: up to 甲区 (inside the scope), never to the city duty desk (outside).
    assert await follow_up(sessions, config, NOON + timedelta(minutes=93)) == 2  # reminders
    clock.moved[0] = timedelta(minutes=93)
    await dispatch()
    assert await follow_up(sessions, config, NOON + timedelta(minutes=124)) == 2  # one message to each of 甲区
    clock.moved[0] = timedelta(minutes=124)
    await dispatch()
    district = await rows(sessions, purpose="escalation", escalation_step=2)
    assert {(r.unit_code, r.recipient_name) for r in district} == {(DISTRICT_A, "甲区区长"), (DISTRICT_A, "甲区副区长")}
    await follow_up(sessions, config, NOON + timedelta(minutes=155))
    clock.moved[0] = timedelta(minutes=155)
    await dispatch()
    assert await follow_up(sessions, config, NOON + timedelta(minutes=186)) == 0  # the top of the scope
    assert "city-duty-desk" not in sent and "city-duty-desk" not in received(sink)
    assert all(r.json["title"].startswith("【演练】") for r in sink.requests)
    # The window closes: the drill is finished and nothing more is sent.
    assert await follow_up(sessions, config, NOON + timedelta(hours=10)) == 0
    async with sessions() as session:
        assert (await session.get(Drill, started.drill.id)).finished_at == NOON + timedelta(hours=10)


async def test_the_report_per_district_and_the_command(engine, sessions, config, registry, dispatch, clock, tmp_path,
                                                        capsys):
    started = await start(sessions, config, deadline="30m")
    await dispatch()
    answers = {"东村支书": 5, "甲区区长": 12, "二号镇镇长": 45, "市水利局（市水利局值班室）": 3}
    for row in await rows(sessions):
        if row.recipient_name in answers:
            await ack(sessions, row, NOON + timedelta(minutes=answers[row.recipient_name]))
    async with sessions() as session:
        report = await drill_report(session, started.drill.id, NOON + timedelta(hours=1))
    districts = {d["district_name"]: d for d in report["districts"]}
    assert list(districts) == ["甲区", "乙区", "市级值班席位"]
    a = districts["甲区"]
    # 甲区: 区长, 副区长, 一号街道主任, 二号镇镇长 and 副镇长, 东村支书 and 主任
    assert (a["told"], a["answered"], a["late"], a["no_answer"], a["unreachable"]) == (7, 2, 1, 4, 4)
    assert (a["median_minutes"], a["max_minutes"]) == (12.0, 45.0)
    b = districts["乙区"]
    assert (b["told"], b["no_contact"], b["no_answer"], b["unreachable"]) == (2, 1, 1, 2)
    desks = districts["市级值班席位"]
    assert (desks["told"], desks["answered"], desks["no_answer"]) == (4, 1, 3)
    assert report["totals"]["told"] == 13 and report["totals"]["unreachable"] == 9
    person = next(p for p in report["persons"] if p["name"] == "三号街道主任")
    assert (person["district_name"], person["outcome_label"], person["detail"]) == ("乙区", "无联系方式", "无可用联系方式")
    # Before the deadline an unanswered person is still waited for.
    async with sessions() as session:
        early = await drill_report(session, started.drill.id, NOON + timedelta(minutes=10))
    assert early["totals"]["waiting"] == 10 and early["totals"]["no_answer"] == 0

    clock.moved[0] = timedelta(hours=1)
    xlsx = tmp_path / "drill.xlsx"
    await cmd_drill_report(_Context(engine, sessions, config, clock, id=started.drill.id, xlsx=str(xlsx), json=False))
    out = capsys.readouterr().out
    assert "甲区\t7\t2\t1\t4（0/0/4）\t12\t45" in out and "合计\t13\t" in out
    book = load_workbook(io.BytesIO(xlsx.read_bytes()))
    assert book.sheetnames == ["按区县", "人员明细"]
    persons = list(book["人员明细"].values)
    assert persons[0][:6] == ("区县", "区划", "层级", "姓名", "渠道", "结果")
    assert ("甲区", "东村", "村社区", "东村支书", "hook", "按时叫应") in {row[:6] for row in persons}
    assert len(persons) == 1 + 13


async def test_the_start_command(engine, sessions, config, registry, clock, capsys):
    await cmd_drill_start(_Context(engine, sessions, config, clock, scope=DISTRICT_B, levels=None, channels=None,
                                   deadline="1h", json=True))
    shown = json.loads(capsys.readouterr().out)
    assert (shown["scope_name"], shown["deadline_minutes"], shown["told"], shown["no_contact"]) == ("乙区", 60, 2, 1)


async def test_a_drill_never_counts_for_a_real_warning(sessions, config, registry, dispatch, clock):
    result = await ingest(sessions, make_warning(colour="red"), config, NOON)
    await dispatch()
    async with sessions() as session:
        before = (await warnings_in_force(session, NOON, 10))["items"][0]
    await start(sessions, config)
    await dispatch()
    for row in await rows(sessions, purpose="notice"):
        if row.drill_id is not None and row.status == "delivered":
            await ack(sessions, row, NOON + timedelta(minutes=1))
    async with sessions() as session:
        after = (await warnings_in_force(session, NOON, 10))["items"][0]
    assert after["id"] == result.warning.id and after == before


async def test_an_exercise_warning_is_marked_and_never_in_force(sessions, config, registry, dispatch, sink):
    await ingest(sessions, make_warning(colour="red", status="Exercise"), config, NOON)
    await dispatch()
    assert sink.requests
    for request in sink.requests:
        assert request.json["title"].startswith("【演练】") and request.json["text"].startswith(DRILL_NOTE)
        assert "【紧急】" not in request.json["title"]
    async with sessions() as session:
        assert (await warnings_in_force(session, NOON, 10)) == {"total": 0, "items": []}


class _Context:
    """What the drill commands read of a CommandContext, on the test database."""

    def __init__(self, engine, sessions, settings, clock, **args):
        self.engine, self.sessions, self.settings, self.clock = engine, sessions, settings, clock
        self.args = SimpleNamespace(**args)

    @asynccontextmanager
    async def database(self):
        yield self.engine, self.sessions


async def test_a_cancelled_drill_sends_nothing_more(sessions, config, registry, dispatch, sink):
    from fangxun.warnings.drills.follow_up import cancel_drill

    started = await start(sessions, config, DISTRICT_A)
    async with sessions() as session, session.begin():
        assert await cancel_drill(session, await session.get(Drill, started.drill.id), NOON) == 7
    assert await dispatch() == 0 and sink.requests == []
    assert {(r.status, r.last_error) for r in await rows(sessions)} == {("cancelled", "演练已取消")}
    assert await follow_up(sessions, config, NOON + timedelta(hours=2)) == 0


async def test_a_reply_answers_the_drill_and_never_a_real_warning(sessions, config, registry, dispatch):
    from fangxun.warnings.acks.inbound_sms import InboundSms
    from fangxun.warnings.acks.sms_replies import record_reply

    await ingest(sessions, make_warning(colour="red"), config, NOON)
    await dispatch()
    started = await start(sessions, config, DISTRICT_A)
    await dispatch()
    async with sessions() as session, session.begin():
        outcome = await record_reply(session, "sms", InboundSms("东村支书", "13900000008", "1",
                                                                NOON + timedelta(minutes=3)), NOON + timedelta(minutes=3))
    assert outcome.acknowledged == 1
    acked = [(r.drill_id, r.warning_id) for r in await rows(sessions, address="13900000008") if r.acked_at]
    assert acked == [(started.drill.id, None)]  # the warning's notice to the same number still waits


async def test_the_annual_report_lists_drills_apart_from_warnings_issued(sessions, config, registry, dispatch):
    from fangxun.report.figures import build_annual_report

    started = await start(sessions, config, DISTRICT_A, deadline="30m")
    await dispatch()
    await ingest(sessions, make_warning(colour="red", status="Exercise"), config, NOON)
    for row in (await rows(sessions, drill_id=started.drill.id))[:3]:
        await ack(sessions, row, NOON + timedelta(minutes=4))
    async with sessions() as session:
        report = await build_annual_report(session, config, 2026, NOON)
    figures = report.figures
    assert figures["warnings"]["total"] == 0 and figures["notifications"]["warnings"]["notices"] == 0
    assert [(item["kind"], item["name"], item["notices"], item["acknowledged"]) for item in figures["drills"]["items"]] \
        == [("drill", "甲区叫应演练", 7, 3), ("exercise_warning", "暴雨红色预警（演练）", 12, 0)]
    assert report.table("drills").rows[0][:3] == ("叫应演练", "2026-06-01 10:00", "甲区叫应演练")
