"""Response decisions on both databases: the rule inputs of an event, transitions, notices through the outbox."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
import shapely
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError
from support.tree import add_units
from support.warning_factories import (CITY, DISTRICT_A, DISTRICT_B, EAST_VILLAGE, NOON, SENDER, STREET_1,
                                       warning_settings)

from fangxun.core.audit import AuditRecord
from fangxun.core.errors import BadInput, Conflict, NotFound
from fangxun.plans.models import AdminUnit
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.events.config import ResponseSettings
from fangxun.warnings.events.decisions import parse_level, record_decision
from fangxun.warnings.events.response_metrics import current_proposal, event_facts
from fangxun.warnings.events.tables import Event, EventWarning, ResponseDecision
from fangxun.warnings.tables import Notification, Warning, WarningUnit
from fangxun.warnings.vocabulary import RESPONSE_SOURCE

START = NOON - timedelta(hours=3)
LEVEL_IV = {"urban", "transport", "water", "weather", "emergency"}
LEVEL_III = LEVEL_IV | {"police", "planning"}
LEVEL_II = LEVEL_III | {"education", "housing"}


async def add_event(session, started_at=START, name="7·20 降雨过程") -> int:
    event = Event(kind="rainfall", name=name, status="open", started_at=started_at, opened_by="rule:rainfall")
    session.add(event)
    await session.flush()
    return event.id


async def add_warning(session, event_id: int | None, number: int, colour: str | None,
                      units: dict[str, tuple[str, float]], *, event: str = "暴雨", minutes: int = 0,
                      status: str = "active", source: str = "cap", expires: datetime | None = None) -> int:
    """A stored weather warning received `minutes` after START over `units` {code: (level, fraction)}."""
    at = START + timedelta(minutes=minutes)
    row = Warning(identifier=f"zz-{number}", sender=SENDER, sent=at, msg_type="Alert", event=event, colour=colour,
                  received_at=at, status=status, source=source, expires=expires or NOON + timedelta(hours=12))
    session.add(row)
    await session.flush()
    row.thread_id = row.id
    if units:
        session.add_all(WarningUnit(warning_id=row.id, unit_code=code, level=level, fraction=fraction)
                        for code, (level, fraction) in units.items())
    if event_id is not None:
        session.add(EventWarning(warning_id=row.id, event_id=event_id, joined_at=at))
    await session.flush()
    return row.id


def district(code: str, fraction: float = 1.0) -> dict:
    return {code: ("district", fraction)}


async def decide(sessions, settings, event_id, action, level=None, *, by="市防指常务副指挥长", at=None,
                 note="", now=NOON):
    async with sessions() as session, session.begin():
        return await record_decision(session, settings, event_id, action=action, level=level, decided_by=by,
                                     decided_at=at, note=note, principal="user:duty01", now=now)


async def counts(sessions) -> tuple[int, int, int, int]:
    async with sessions() as session:
        return tuple([
            (await session.execute(select(func.count()).select_from(ResponseDecision))).scalar_one(),
            (await session.execute(select(func.count()).select_from(Warning)
                                   .where(Warning.source == RESPONSE_SOURCE))).scalar_one(),
            (await session.execute(select(func.count()).select_from(Notification))).scalar_one(),
            (await session.execute(select(func.count()).select_from(AuditRecord))).scalar_one()])


async def notices(sessions, warning_id) -> list[Notification]:
    async with sessions() as session:
        return list((await session.execute(select(Notification).where(Notification.warning_id == warning_id)
                                           .order_by(Notification.id))).scalars())


@pytest.fixture
async def event_id(sessions):
    """An open rainfall event over the small tree (two districts of equal weight: no boundaries)."""
    async with sessions() as session, session.begin():
        await add_units(session)
        return await add_event(session)


# --- the rule inputs ------------------------------------------------------------------------------

async def test_active_weather_warnings_of_the_event_only(sessions, settings, event_id):
    async with sessions() as session, session.begin():
        kept = await add_warning(session, event_id, 1, "yellow", district(DISTRICT_A), minutes=10)
        await add_warning(session, event_id, 2, "red", district(DISTRICT_A), status="superseded")
        await add_warning(session, event_id, 3, "red", district(DISTRICT_A), expires=NOON - timedelta(minutes=1))
        await add_warning(session, event_id, 4, "red", district(DISTRICT_A), source=RESPONSE_SOURCE)
        other = await add_event(session, name="另一过程")
        await add_warning(session, other, 5, "red", district(DISTRICT_B))
        await add_warning(session, None, 6, "red", district(DISTRICT_B))
    async with sessions() as session:
        facts = await event_facts(session, event_id, NOON)
        proposal = await current_proposal(session, settings, event_id, NOON)
    assert [f.warning_id for f in facts] == [kept]
    assert facts[0].cover == {DISTRICT_A: 0.5}
    assert (proposal.level, proposal.trigger_warning_id, proposal.trigger_at) == (
        4, kept, START + timedelta(minutes=10))


async def test_no_active_warning_no_proposal(sessions, settings, event_id):
    async with sessions() as session:
        assert await current_proposal(session, settings, event_id, NOON) is None


async def test_district_shares_come_from_boundaries(sessions, settings, event_id):
    async with sessions() as session, session.begin():
        # 甲区 a unit square, 乙区 three of them: 乙区 is three quarters of the city.
        for code, box in ((DISTRICT_A, (0, 0, 1, 1)), (DISTRICT_B, (1, 0, 4, 1))):
            await session.execute(update(AdminUnit).where(AdminUnit.code == code)
                                  .values(geometry=shapely.to_wkb(shapely.box(*box))))
        await add_warning(session, event_id, 1, "red", district(DISTRICT_A))
    async with sessions() as session:
        assert (await event_facts(session, event_id, NOON))[0].cover == {DISTRICT_A: 0.25}
        assert (await current_proposal(session, settings, event_id, NOON)).rule == "发布暴雨红色预警"
    async with sessions() as session, session.begin():
        second = await add_warning(session, event_id, 2, "red", district(DISTRICT_B, 0.8), minutes=5)
    async with sessions() as session:
        proposal = await current_proposal(session, settings, event_id, NOON)
    # 0.25 + 0.75 × 0.8 = 0.85 of the city under red: Ⅰ, reached with the second warning.
    assert (proposal.level, proposal.rule, proposal.city_fraction) == (1, "暴雨红色预警覆盖全市过半", pytest.approx(0.85))
    assert (proposal.trigger_warning_id, proposal.trigger_at) == (second, START + timedelta(minutes=5))


async def test_townships_and_villages_count_their_district(sessions, event_id):
    async with sessions() as session, session.begin():
        # 一号街道 is one of 甲区's two townships: a quarter of the city; 东村 alone touches 甲区 with no area.
        await add_warning(session, event_id, 1, "orange", {STREET_1: ("township", 1.0)})
        await add_warning(session, event_id, 2, "orange", {EAST_VILLAGE: ("village", 1.0)}, minutes=1)
        # A city row alone spreads over every district.
        await add_warning(session, event_id, 3, "orange", {CITY: ("city", 0.4)}, minutes=2)
    async with sessions() as session:
        facts = await event_facts(session, event_id, NOON)
    assert [f.cover for f in facts] == [{DISTRICT_A: 0.25}, {DISTRICT_A: 0.0}, {DISTRICT_A: 0.2, DISTRICT_B: 0.2}]


# --- levels ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, level", [(1, 1), (4, 4), ("4", 4), ("I", 1), ("iii", 3), ("IV", 4), ("Ⅳ", 4),
                                        ("Ⅱ级", 2), ("三级", 3), ("Ⅰ级应急响应", 1)])
def test_level_forms(raw, level):
    assert parse_level(raw) == level


@pytest.mark.parametrize("raw", [0, 5, "V", "", "Ⅴ", True, 2.0, None, "II级别"])
def test_bad_levels(raw):
    with pytest.raises(BadInput, match="^level："):
        parse_level(raw)


# --- transitions ----------------------------------------------------------------------------------

async def test_activate_upgrade_downgrade_terminate(sessions, settings, event_id):
    async with sessions() as session, session.begin():
        yellow = await add_warning(session, event_id, 1, "yellow", district(DISTRICT_A), minutes=10)
    first = await decide(sessions, settings, event_id, "activate", "IV", at=NOON - timedelta(minutes=5),
                         now=NOON)
    assert (first.level, first.previous_level, first.proposed_level, first.proposal_rule) == (
        4, None, 4, "发布暴雨黄色预警")
    assert (first.trigger_warning_id, first.trigger_at) == (yellow, START + timedelta(minutes=10))
    assert (first.decided_at - first.trigger_at) == timedelta(hours=2, minutes=45)
    assert (first.recorded_by, first.recorded_at, first.decided_by) == ("user:duty01", NOON, "市防指常务副指挥长")

    async with sessions() as session, session.begin():
        red = await add_warning(session, event_id, 2, "red", district(DISTRICT_A, 0.5), minutes=150)
    second = await decide(sessions, settings, event_id, "upgrade", "Ⅱ", now=NOON + timedelta(minutes=10))
    assert (second.level, second.previous_level, second.proposed_level, second.trigger_warning_id) == (2, 4, 2, red)
    assert second.decided_at == NOON + timedelta(minutes=10)
    third = await decide(sessions, settings, event_id, "downgrade", 3, note="雨势减弱",
                         now=NOON + timedelta(hours=2))
    fourth = await decide(sessions, settings, event_id, "terminate", now=NOON + timedelta(hours=5))
    assert [(d.action, d.level, d.previous_level) for d in (third, fourth)] == [("downgrade", 3, 2),
                                                                                ("terminate", 3, 3)]
    # After termination a new response can be activated.
    fifth = await decide(sessions, settings, event_id, "activate", "Ⅲ", now=NOON + timedelta(hours=6))
    assert (fifth.level, fifth.previous_level) == (3, None)

    # The notices form one thread: an Alert, then Updates each superseding the one before.
    async with sessions() as session:
        rows = [await session.get(Warning, d.notice_warning_id) for d in (first, second, third, fourth)]
        audit = list((await session.execute(select(AuditRecord.action).where(AuditRecord.target_type == "event")
                                            .order_by(AuditRecord.id))).scalars())
    assert [r.msg_type for r in rows] == ["Alert", "Update", "Update", "Update"]
    assert {r.thread_id for r in rows} == {rows[0].id}
    assert [r.status for r in rows] == ["superseded", "superseded", "superseded", "active"]
    # The termination's notice ends its thread a day later; the others stay until superseded.
    assert [r.expires for r in rows] == [None, None, None, NOON + timedelta(hours=29)]
    assert [r.source for r in rows] == [RESPONSE_SOURCE] * 4
    assert rows[1].references == [{"sender": "fangxun", "identifier": rows[0].identifier,
                                   "sent": rows[0].sent.isoformat()}]
    assert [r.identifier for r in rows] == [f"fangxun-response-{event_id}-{n}" for n in (1, 2, 3, 4)]
    assert [r.colour for r in rows] == ["blue", "orange", "yellow", "yellow"]
    assert [r.headline for r in rows] == ["关于启动防汛Ⅳ级应急响应的通知", "关于提升至防汛Ⅱ级应急响应的通知",
                                          "关于降低至防汛Ⅲ级应急响应的通知", "关于终止防汛Ⅲ级应急响应的通知"]
    assert audit == ["response.activate", "response.upgrade", "response.downgrade", "response.terminate",
                     "response.activate"]


async def test_each_notice_goes_to_the_departments_of_its_level(sessions, settings, event_id):
    first = await decide(sessions, settings, event_id, "activate", "IV")
    second = await decide(sessions, settings, event_id, "upgrade", "II", now=NOON + timedelta(minutes=1))
    third = await decide(sessions, settings, event_id, "downgrade", "III", now=NOON + timedelta(minutes=2))
    fourth = await decide(sessions, settings, event_id, "terminate", "III", now=NOON + timedelta(minutes=3))
    sent = {}
    for decision in (first, second, third, fourth):
        rows = await notices(sessions, decision.notice_warning_id)
        assert {r.recipient_kind for r in rows} == {"department"}
        assert {r.purpose for r in rows} == {"notice"}
        # Each notice not yet sent when the next decision came was stopped: the newer notice replaces it.
        assert {r.status for r in rows} == {"pending" if decision is fourth else "cancelled"}
        sent[decision.action] = {r.recipient_key for r in rows}
    # A downgrade also tells the departments whose Ⅱ-level measures end (教育, 住建).
    assert sent == {"activate": LEVEL_IV, "upgrade": LEVEL_II, "downgrade": LEVEL_II, "terminate": LEVEL_III}
    water = next(r for r in await notices(sessions, first.notice_warning_id) if r.recipient_key == "water")
    assert (water.channel, water.address, water.recipient_name) == ("record", "water-desk", "市水利局（市水利局值班室）")
    assert water.payload["colour"] == "blue" and water.payload["level"] == 4


async def test_notice_text_lists_the_departments_actions(sessions, settings, event_id):
    decision = await decide(sessions, settings, event_id, "activate", "I", note="全市启动最高级别响应")
    async with sessions() as session:
        notice = await session.get(Warning, decision.notice_warning_id)
    from fangxun.warnings.delivery.outbox import compose
    rows = {r.recipient_key: r for r in await notices(sessions, notice.id)}
    title, text = compose(rows["education"].payload, notice.messages, rows["education"].recipient_name)
    assert title == "关于启动防汛Ⅰ级应急响应的通知"
    assert text.startswith("市教育局（市教育局值班室）：\n经会商研判，市防指常务副指挥长决定于 2026-06-01 10:00 启动防汛Ⅰ级应急响应")
    assert "1. 全市中小学、幼儿园、校外培训机构停课" in text and "说明：全市启动最高级别响应" in text
    assert text.endswith("请收到后点击确认（叫应）：{ack_url}")
    _, water = compose(rows["water"].payload, notice.messages, rows["water"].recipient_name)
    assert "1. 水库、河道、闸坝按调度方案泄洪和控泄，巡堤查险" in water and "停课" not in water


async def test_quiet_hours_follow_the_level_colour(sessions, settings, event_id):
    night = datetime(2026, 6, 1, 15, 0, tzinfo=timezone.utc)  # 23:00 in Shanghai
    morning = datetime(2026, 6, 1, 23, 0, tzinfo=timezone.utc)  # 07:00 the next day
    low = await decide(sessions, settings, event_id, "activate", "IV", now=night)
    assert {r.next_attempt_at for r in await notices(sessions, low.notice_warning_id)} == {morning}
    high = await decide(sessions, settings, event_id, "upgrade", "I", now=night + timedelta(minutes=1))
    rows = await notices(sessions, high.notice_warning_id)
    assert {r.next_attempt_at for r in rows} == {night + timedelta(minutes=1)}


@pytest.mark.parametrize("history, action, level, error, field", [
    ([], "upgrade", "II", Conflict, "action"),
    ([], "downgrade", "IV", Conflict, "action"),
    ([], "terminate", None, Conflict, "action"),
    ([("activate", "III")], "activate", "II", Conflict, "action"),
    ([("activate", "III")], "upgrade", "III", Conflict, "level"),
    ([("activate", "III")], "upgrade", "IV", Conflict, "level"),
    ([("activate", "III")], "downgrade", "II", Conflict, "level"),
    ([("activate", "III")], "downgrade", "III", Conflict, "level"),
    ([("activate", "III")], "terminate", "IV", Conflict, "level"),
    ([("activate", "III"), ("terminate", None)], "terminate", None, Conflict, "action"),
    ([], "activate", "V", BadInput, "level"),
    ([], "activate", None, BadInput, "level"),
    ([], "start", "IV", BadInput, "action"),
    ([("activate", "III")], "upgrade", None, BadInput, "level"),
])
async def test_refused_transitions_write_nothing(sessions, settings, event_id, history, action, level, error, field):
    for number, (done, done_level) in enumerate(history):
        await decide(sessions, settings, event_id, done, done_level, now=NOON + timedelta(minutes=number))
    before = await counts(sessions)
    with pytest.raises(error) as caught:
        await decide(sessions, settings, event_id, action, level, now=NOON + timedelta(hours=1))
    assert caught.value.detail.startswith(f"{field}：") and caught.value.extra["field"] == field
    assert await counts(sessions) == before


async def test_refused_times_and_names_write_nothing(sessions, settings, event_id):
    await decide(sessions, settings, event_id, "activate", "IV", now=NOON)
    before = await counts(sessions)
    later = NOON + timedelta(hours=1)
    cases = [
        (dict(at=later + timedelta(minutes=2)), "decided_at：决策时间不能晚于当前时间"),
        (dict(at=START - timedelta(minutes=1)), "decided_at：决策时间不能早于事件开始时间（2026-06-01 07:00）"),
        (dict(at=NOON - timedelta(minutes=1)), "decided_at：决策时间不能早于上一次决策（2026-06-01 10:00）"),
        (dict(by="  "), "decided_by：应填写决策人"),
        (dict(at=datetime(2026, 6, 1, 10, 30)), "decided_at：决策时间应带时区"),
    ]
    for options, message in cases:
        with pytest.raises(BadInput) as caught:
            await decide(sessions, settings, event_id, "upgrade", "III", now=later, **options)
        assert caught.value.detail == message
    with pytest.raises(NotFound, match="事件 999 不存在"):
        await decide(sessions, settings, 999, "activate", "IV")
    assert await counts(sessions) == before
    # Within a minute ahead of the server clock is accepted (a phone's clock may run fast).
    ok = await decide(sessions, settings, event_id, "upgrade", "III", now=later, at=later + timedelta(seconds=50))
    assert ok.decided_at == later + timedelta(seconds=50)


async def test_hand_opened_event_without_warnings_has_no_trigger(sessions, settings, event_id):
    decision = await decide(sessions, settings, event_id, "activate", "IV")
    assert (decision.trigger_warning_id, decision.trigger_at, decision.proposed_level, decision.proposal_rule) == (
        None, None, None, "")


async def test_without_a_proposal_the_trigger_is_the_events_first_warning(sessions, settings, event_id):
    async with sessions() as session, session.begin():
        gone = await add_warning(session, event_id, 1, "yellow", district(DISTRICT_A), minutes=3, status="expired")
        await add_warning(session, event_id, 2, "blue", district(DISTRICT_A), minutes=30)
    decision = await decide(sessions, settings, event_id, "activate", "IV")
    assert (decision.trigger_warning_id, decision.trigger_at, decision.proposed_level) == (
        gone, START + timedelta(minutes=3), None)


async def test_the_database_refuses_to_change_or_delete_a_decision(sessions, settings, event_id):
    decision = await decide(sessions, settings, event_id, "activate", "IV")
    with pytest.raises(DBAPIError):
        async with sessions() as session, session.begin():
            await session.execute(update(ResponseDecision).where(ResponseDecision.id == decision.id)
                                  .values(level=1, decided_by="别人"))
    with pytest.raises(DBAPIError):
        async with sessions() as session, session.begin():
            await session.execute(delete(ResponseDecision).where(ResponseDecision.id == decision.id))
    async with sessions() as session:
        kept = await session.get(ResponseDecision, decision.id)
    assert (kept.level, kept.decided_by) == (4, "市防指常务副指挥长")


# --- delivery -------------------------------------------------------------------------------------

@pytest.fixture
def hook_config(settings, sink):
    """Three departments on a webhook sink; the levels' actions kept for those departments."""
    config = warning_settings(settings, sink.url_for("/hook"), repeat=0)
    levels = {key: {"name": level.name, "actions": {d: list(a) for d, a in level.actions.items()
                                                      if d in config.warnings.departments}}
              for key, level in settings.response.levels.items()}
    response = ResponseSettings.model_validate({"rules": [r.model_dump() for r in settings.response.rules],
                                                "levels": levels})
    return config.model_copy(update={"response": response})


async def test_the_dispatcher_delivers_notices_with_the_levels_deadline_and_escalates(
        sessions, hook_config, sink, clock, event_id):
    from fangxun.warnings.acks.escalation import escalate_due

    decision = await decide(sessions, hook_config, event_id, "activate", "I")
    async with new_http_session(hook_config.warnings.channels) as http:
        dispatcher = Dispatcher(sessions, build_channels(hook_config.warnings.channels, http), hook_config, clock,
                                "w1", rng=random.Random(5), ack_base_url="https://fx.example/")
        assert await dispatcher.run_until_idle() == 3
        rows = await notices(sessions, decision.notice_warning_id)
        assert {r.recipient_key for r in rows} == {"water", "weather", "emergency"}
        # Ⅰ is red: 15 minutes to acknowledge.
        assert {(r.status, r.ack_deadline) for r in rows} == {("delivered", NOON + timedelta(minutes=15))}
        bodies = {r.json["address"]: r.json for r in sink.requests}
        water = bodies["water-desk"]
        assert water["title"] == "关于启动防汛Ⅰ级应急响应的通知"
        assert "水库、河道、闸坝按调度方案泄洪和控泄" in water["text"] and "https://fx.example/ack/" in water["text"]
        assert water["text"].startswith("市水利局（市水利局值班室）：")
        # Unanswered past the deadline: the department's leader is told, with the same notice.
        async with sessions() as session, session.begin():
            assert await escalate_due(session, NOON + timedelta(minutes=16), hook_config) == 3
        clock.advance(minutes=16)
        assert await dispatcher.run_until_idle() == 3
    leaders = {r.json["address"]: r.json for r in sink.requests[3:]}
    assert set(leaders) == {"water-leader", "weather-leader", "emergency-leader"}
    assert "逾期未叫应" in leaders["water-leader"]["title"] and "泄洪" in leaders["water-leader"]["text"]


# --- the command ----------------------------------------------------------------------------------

async def test_the_command_records_a_decision(engine, sessions, settings, event_id):
    import subprocess
    import sys

    if engine.dialect.name != "sqlite":
        pytest.skip("the command takes a database URL; the PostgreSQL tests live in one schema of a shared database")
    async with sessions() as session, session.begin():
        # In force by the command's real clock.
        await add_warning(session, event_id, 1, "orange", district(DISTRICT_A), minutes=10,
                          expires=datetime(2100, 1, 1, tzinfo=timezone.utc))
    url = engine.url.render_as_string(hide_password=False).replace("+aiosqlite", "")

    def fangxun(*args):
        done = subprocess.run([sys.executable, "-m", "fangxun.cli", "--database-url", url, "events", *args],
                              capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout, done.stderr

    code, out, err = fangxun("proposal", str(event_id))
    assert code == 0, err
    assert f"事件 {event_id}：当前：未启动应急响应\n" in out
    assert f"事件 {event_id}：建议启动Ⅲ级应急响应（尚未决定）；依据：发布暴雨橙色预警，触发预警 1\n" in out
    assert "市水利局：水库、河道加强巡查，闸坝预泄腾库" in out
    code, out, err = fangxun("decide", str(event_id), "--action", "upgrade", "--level", "II", "--by", "张三")
    assert code == 2 and "action：本事件当前未启动应急响应，不能提升，应先启动" in err
    code, out, err = fangxun("decide", str(event_id), "--action", "activate", "--level", "III", "--by", "张三",
                             "--at", "2026-06-01 08:10")
    assert code == 0, err
    assert out.startswith(f"已记录：事件 {event_id} 启动Ⅲ级应急响应（张三），距触发预警 1小时00分")
    async with sessions() as session:
        decision = (await session.execute(select(ResponseDecision))).scalar_one()
    assert (decision.level, decision.recorded_by) == (3, "cli")
    assert decision.decided_at == START + timedelta(hours=1, minutes=10)
    code, out, err = fangxun("proposal", str(event_id))
    assert code == 0, err
    assert f"事件 {event_id}：当前：Ⅲ级应急响应（2026-06-01 08:10 由 张三 决定）\n" in out
    assert f"事件 {event_id}：系统建议Ⅲ级应急响应，与当前响应一致；依据：发布暴雨橙色预警" in out
