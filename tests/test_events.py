"""Events through the real intake path, with an injected clock: auto-open, join, reopen, quiet close, detail."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support.databases import empty_database_url
from support.warning_factories import NOON, make_warning, notifications, warning_settings

from fangxun.core.accounts import signing_secret
from fangxun.core.audit import AuditRecord
from fangxun.core.errors import BadInput, Conflict, NotFound
from fangxun.warnings.acks.acknowledging import acknowledge
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.events.event_queries import event_detail, list_events
from fangxun.warnings.events.event_store import close_by_hand, link_by_hand, open_by_hand
from fangxun.warnings.events.tables import Event, EventWarning, JournalEntry
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.scheduler import WarningJobs

HOOK = "http://127.0.0.1:9/hook"
H = timedelta(hours=1)


@pytest.fixture
def config(settings):
    return warning_settings(settings, HOOK)


async def take(sessions, config, clock, warning, **options):
    """Ingest `warning` at the clock's time; returns (warning id, event id)."""
    result = await ingest(sessions, warning, config, clock.now(), **options)
    return result.warning.id, result.event_id


async def events(sessions) -> list[Event]:
    async with sessions() as session:
        return list((await session.execute(select(Event).order_by(Event.id))).scalars())


async def members(sessions, event_id: int) -> dict[int, str]:
    async with sessions() as session:
        return dict((await session.execute(select(EventWarning.warning_id, EventWarning.joined_by)
                                           .where(EventWarning.event_id == event_id))).all())


async def audit_actions(sessions) -> list[tuple[str, str]]:
    async with sessions() as session:
        return [tuple(row) for row in (await session.execute(
            select(AuditRecord.action, AuditRecord.actor).where(AuditRecord.target_type == "event")
            .order_by(AuditRecord.id))).all()]


async def test_a_yellow_rainstorm_opens_a_rainfall_event_and_later_warnings_of_the_process_join(
        sessions, config, clock, registry):
    first = make_warning("rain-1", colour="yellow")
    warning_id, event_id = await take(sessions, config, clock, first)
    assert event_id is not None
    [event] = await events(sessions)
    assert (event.kind, event.name, event.status) == ("rainfall", "2026年6月1日降雨过程", "open")
    # the onset (sent, five minutes before it was received)
    assert event.started_at == NOON - timedelta(minutes=5) and event.ended_at is None
    assert (event.opened_by, event.opening_warning_id) == ("rule:rainfall", warning_id)
    assert await audit_actions(sessions) == [("event.open", "rule:rainfall")]

    clock.advance(hours=1)
    orange_id, joined = await take(sessions, config, clock, make_warning("rain-2", colour="orange",
                                                                         sent=NOON + H))
    clock.advance(hours=1)
    update_id, again = await take(sessions, config, clock, make_warning(
        "rain-3", msg_type="Update", colour="orange", sent=NOON + 2 * H, references=(first,)))
    wind_id, windy = await take(sessions, config, clock, make_warning("wind-1", event="大风", colour="blue",
                                                                      sent=NOON + 2 * H))
    assert joined == again == windy == event_id
    assert await members(sessions, event_id) == {warning_id: "rule", orange_id: "rule", update_id: "rule",
                                                 wind_id: "rule"}
    assert len(await events(sessions)) == 1


async def test_a_warning_below_the_opening_rule_opens_nothing(sessions, config, clock, registry):
    assert (await take(sessions, config, clock, make_warning("rain-blue", colour="blue")))[1] is None
    assert (await take(sessions, config, clock, make_warning("wind", event="大风", colour="red")))[1] is None
    assert (await take(sessions, config, clock, make_warning("fog", event="大雾", colour="red")))[1] is None
    # a drill or a test message of a red rainstorm is no weather process
    assert (await take(sessions, config, clock, make_warning("drill", status="Exercise")))[1] is None
    assert (await take(sessions, config, clock, make_warning("test", status="Test")))[1] is None
    assert await events(sessions) == []
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(EventWarning))).scalar_one() == 0


async def test_an_upgrade_that_qualifies_opens_the_event_and_brings_the_earlier_message_of_its_thread(
        sessions, config, clock, registry):
    blue = make_warning("rain-blue", colour="blue")
    blue_id, none = await take(sessions, config, clock, blue)
    clock.advance(hours=1)
    update_id, event_id = await take(sessions, config, clock, make_warning(
        "rain-yellow", msg_type="Update", colour="yellow", sent=NOON + H, references=(blue,)))
    assert none is None and event_id is not None
    [event] = await events(sessions)
    assert event.opening_warning_id == update_id and event.started_at == NOON + H
    assert set(await members(sessions, event_id)) == {blue_id, update_id}


async def test_snow_opens_its_own_event_beside_an_open_rainfall_event(sessions, config, clock, registry):
    _, rain = await take(sessions, config, clock, make_warning("rain", colour="yellow"))
    snow_id, snow = await take(sessions, config, clock, make_warning("snow", event="暴雪", colour="yellow"))
    ice_id, ice = await take(sessions, config, clock, make_warning("ice", event="道路结冰", colour="blue"))
    assert rain != snow and snow == ice
    kinds = {event.id: (event.kind, event.name) for event in await events(sessions)}
    assert kinds == {rain: ("rainfall", "2026年6月1日降雨过程"), snow: ("snow_ice", "2026年6月1日雨雪冰冻")}
    assert set(await members(sessions, snow)) == {snow_id, ice_id}


async def test_a_cancel_joins_the_event_of_its_thread_and_a_stray_cancel_joins_nothing(sessions, config, clock,
                                                                                          registry):
    blue = make_warning("rain-blue", colour="blue")
    await take(sessions, config, clock, blue)
    yellow = make_warning("rain-yellow", colour="yellow")
    _, event_id = await take(sessions, config, clock, yellow)
    clock.advance(hours=1)
    # the blue thread is in no event: its 解除 stays out although a rainfall event is open
    assert (await take(sessions, config, clock, make_warning(
        "rain-blue-x", msg_type="Cancel", sent=NOON + H, references=(blue,))))[1] is None
    cancel_id, joined = await take(sessions, config, clock, make_warning(
        "rain-yellow-x", msg_type="Cancel", sent=NOON + H, references=(yellow,)))
    assert joined == event_id and cancel_id in await members(sessions, event_id)
    [event] = await events(sessions)
    assert event.status == "open"  # closing waits for the quiet period


async def test_the_job_closes_an_event_quiet_hours_after_its_last_warning_ended(sessions, config, clock, registry):
    jobs = WarningJobs(sessions, config, clock)
    first = make_warning("rain-1", colour="yellow", expires=NOON + 12 * H)
    _, event_id = await take(sessions, config, clock, first)
    clock.advance(hours=1)
    # the upgrade supersedes the first signal and runs out at NOON+6h
    await take(sessions, config, clock, make_warning("rain-2", msg_type="Update", colour="orange", sent=NOON + H,
                                                      references=(first,), expires=NOON + 6 * H))
    wind = make_warning("wind", event="大风", colour="blue", sent=NOON + H, expires=NOON + 8 * H)
    await take(sessions, config, clock, wind)
    clock.advance(hours=3)   # NOON+4h: the wind warning is withdrawn
    await take(sessions, config, clock, make_warning("wind-x", event="大风", msg_type="Cancel", sent=NOON + 4 * H,
                                                      references=(wind,)))
    assert await jobs.close_quiet_events() == []      # the orange warning is in force

    clock.advance(hours=2, minutes=1)   # NOON+6h01: it has run out, the expiry job closes it a minute late
    assert len(await jobs.close_expired()) == 1
    assert await jobs.close_quiet_events() == []
    clock.advance(hours=5, minutes=58)   # NOON+11h59: not yet six quiet hours
    assert await jobs.close_quiet_events() == []
    [event] = await events(sessions)
    assert event.status == "open"

    clock.advance(minutes=1)   # NOON+12h
    assert await jobs.close_quiet_events() == [event_id]
    assert await jobs.close_quiet_events() == []
    [event] = await events(sessions)
    assert (event.status, event.ended_at, event.closed_by, event.close_reason) == (
        "closed", NOON + 6 * H, "rule", "quiet")
    assert await audit_actions(sessions) == [("event.open", "rule:rainfall"), ("event.close", "rule")]


async def test_an_update_of_a_thread_in_a_closed_event_reopens_it(sessions, config, clock, registry):
    first = make_warning("rain-1", colour="yellow", expires=NOON + 2 * H)
    _, event_id = await take(sessions, config, clock, first)
    clock.advance(hours=9)
    jobs = WarningJobs(sessions, config, clock)
    await jobs.close_expired()
    assert await jobs.close_quiet_events() == [event_id]
    update_id, joined = await take(sessions, config, clock, make_warning(
        "rain-2", msg_type="Update", colour="orange", sent=NOON + 9 * H, references=(first,)))
    assert joined == event_id
    [event] = await events(sessions)
    assert (event.status, event.ended_at, event.closed_by, event.close_reason) == ("open", None, None, None)
    assert [action for action, _ in await audit_actions(sessions)] == ["event.open", "event.close", "event.reopen"]


async def test_a_new_process_on_the_same_day_gets_a_numbered_name(sessions, config, clock, registry):
    _, first = await take(sessions, config, clock, make_warning("rain-1", colour="yellow", expires=NOON + H))
    clock.advance(hours=2)
    await WarningJobs(sessions, config, clock).close_expired()
    async with sessions() as session, session.begin():
        await close_by_hand(session, first, "duty01", clock.now())
    _, second = await take(sessions, config, clock, make_warning("rain-2", colour="orange", sent=NOON + 2 * H))
    assert second != first
    assert [event.name for event in await events(sessions)] == ["2026年6月1日降雨过程", "2026年6月1日降雨过程（二）"]


async def test_two_qualifying_warnings_at_once_open_one_event(sessions, config, clock, registry):
    async with sessions() as session, session.begin():
        await signing_secret(session)  # made once, before the race
    results = await asyncio.gather(*(ingest(sessions, make_warning(f"rain-{n}", colour="red", geocodes=("410102",)),
                                            config, clock.now()) for n in range(3)))
    assert len({result.event_id for result in results}) == 1
    assert len(await events(sessions)) == 1


async def test_by_hand_open_close_and_link_check_their_input(sessions, config, clock, registry):
    now = clock.now()
    async with sessions() as session, session.begin():
        event = await open_by_hand(session, config, "duty01", now, kind="snow_ice", note="寒潮来袭")
    assert (event.name, event.started_at, event.opened_by, event.note) == ("2026年6月1日雨雪冰冻", now, "duty01",
                                                                           "寒潮来袭")
    for kwargs, field in [({"kind": "hail"}, "kind"), ({"kind": "rainfall", "started_at": now + H}, "started_at"),
                          ({"kind": "rainfall", "name": "x" * 201}, "name")]:
        async with sessions() as session, session.begin():
            with pytest.raises(BadInput) as caught:
                await open_by_hand(session, config, "duty01", now, **kwargs)
        assert caught.value.extra["field"] == field
    async with sessions() as session, session.begin():
        with pytest.raises(Conflict):   # one open event of a kind at a time
            await open_by_hand(session, config, "duty01", now, kind="snow_ice")
    # a hand-opened event with no warnings is never closed by the job
    clock.advance(days=3)
    assert await WarningJobs(sessions, config, clock).close_quiet_events() == []

    # a warning in no event can be linked by hand; one in an event cannot be moved
    later = {"sent": clock.now(), "expires": clock.now() + 6 * H}
    wind_id, _ = await take(sessions, config, clock, make_warning("wind", event="大风", colour="red", **later))
    _, rain = await take(sessions, config, clock, make_warning("rain", colour="yellow", **later))
    async with sessions() as session, session.begin():
        assert await link_by_hand(session, event.id, wind_id, "duty01", clock.now()) == [wind_id]
    assert await members(sessions, event.id) == {wind_id: "duty01"}
    rain_warning = next(iter(await members(sessions, rain)))
    async with sessions() as session, session.begin():
        with pytest.raises(Conflict) as caught:
            await link_by_hand(session, event.id, rain_warning, "duty01", clock.now())
    assert caught.value.extra == {"event_id": rain}
    async with sessions() as session, session.begin():
        with pytest.raises(NotFound):
            await link_by_hand(session, event.id, 99999, "duty01", clock.now())

    async with sessions() as session, session.begin():
        with pytest.raises(BadInput) as caught:
            await close_by_hand(session, event.id, "duty01", clock.now(), ended_at=now - H)
    assert caught.value.extra["field"] == "ended_at"
    async with sessions() as session, session.begin():
        closed = await close_by_hand(session, event.id, "leader", clock.now(), note="已结束")
    assert (closed.status, closed.ended_at, closed.closed_by, closed.close_reason) == (
        "closed", clock.now(), "leader", "manual")
    assert closed.note == "寒潮来袭\n已结束"
    async with sessions() as session, session.begin():
        with pytest.raises(Conflict):
            await close_by_hand(session, event.id, "leader", clock.now())


async def test_the_detail_counts_warnings_units_notifications_and_acknowledgements(sessions, config, clock,
                                                                                     registry):
    rain_id, event_id = await take(sessions, config, clock, make_warning("rain", colour="yellow"))
    wind_id, _ = await take(sessions, config, clock, make_warning("wind", event="大风", colour="blue",
                                                                  geocodes=("410102",)))
    async with sessions() as session, session.begin():
        secret = await signing_secret(session)
        rows = await notifications(session, rain_id)
        session.add(JournalEntry(event_id=event_id, recorded_at=clock.now(), author="water", action="巡查"))
    # yellow 暴雨: 3 department desks and 3 district 责任人; 大风 goes to the default route (市应急管理局)
    assert len(rows) == 6
    for row in rows[:2]:
        async with sessions() as session, session.begin():
            await acknowledge(session, ack_token(secret, row.idempotency_key), clock.now(), "web")

    async with sessions() as session:
        detail = await event_detail(session, event_id, clock.now())
    assert [(w["id"], w["event"], w["colour"], w["msg_type"], w["status"], w["joined_by"])
            for w in detail["warnings"]] == [(rain_id, "暴雨", "yellow", "Alert", "active", "rule"),
                                             (wind_id, "大风", "blue", "Alert", "active", "rule")]
    assert (detail["kind_label"], detail["status"], detail["warning_count"]) == ("降雨过程", "open", 2)
    assert detail["started_at"] == "2026-06-01T09:55:00+08:00" and detail["ended_at"] is None
    assert detail["units"] == {"total": 8, "by_level": {"city": 1, "district": 2, "township": 3, "village": 2},
                               "districts": [{"code": "410102000000", "name": "甲区"},
                                             {"code": "410103000000", "name": "乙区"}]}
    figures = detail["notifications"]
    assert (figures["total"], figures["acknowledged"], figures["pending"], figures["expected"]) == (7, 2, 5, 7)
    assert figures["ack_rate"] == round(2 / 7, 4)
    assert (detail["decisions"], detail["journal_entries"]) == (0, 1)


async def test_the_list_is_newest_first_and_filters_by_year_kind_and_status(sessions, config, clock, registry):
    async with sessions() as session, session.begin():
        old = await open_by_hand(session, config, "duty01", clock.now(), kind="rainfall", name="旧过程",
                                 started_at=clock.now() - timedelta(days=200))
        await close_by_hand(session, old.id, "duty01", clock.now() - timedelta(days=199))
    _, rain = await take(sessions, config, clock, make_warning("rain", colour="yellow"))
    _, snow = await take(sessions, config, clock, make_warning("snow", event="暴雪", colour="orange",
                                                               sent=NOON + timedelta(minutes=1)))
    async with sessions() as session:
        assert [e["id"] for e in await list_events(session)] == [snow, rain, old.id]
        assert [e["id"] for e in await list_events(session, year=2026)] == [snow, rain]
        assert [e["name"] for e in await list_events(session, year=2025)] == ["旧过程"]
        assert [e["id"] for e in await list_events(session, kind="rainfall", status="open")] == [rain]
        assert [e["id"] for e in await list_events(session, status="closed")] == [old.id]
        for kwargs, field in [({"kind": "flood"}, "kind"), ({"status": "done"}, "status"), ({"year": 26}, "year")]:
            with pytest.raises(BadInput) as caught:
                await list_events(session, **kwargs)
            assert caught.value.extra["field"] == field


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path):
    """A URL of an empty database for the command: a SQLite file, or a throwaway PostgreSQL database."""
    async with empty_database_url(request.param, tmp_path, "cliev") as url:
        yield url


def fangxun(url: str, *args: str) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "fangxun.cli", "--database-url", url, *args],
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def test_the_command_opens_lists_and_closes_events(database_url):
    code, out, err = fangxun(database_url, "events", "open", "--kind", "rainfall", "--at", "2025-07-20T06:00")
    assert code == 0, err
    assert out.startswith("已开启事件 1：2025年7月20日降雨过程（降雨过程，进行中）2025-07-20 06:00 至 进行中")
    code, _, err = fangxun(database_url, "events", "open", "--kind", "rainfall")
    assert code == 2 and "已有进行中的降雨过程" in err
    code, _, err = fangxun(database_url, "events", "open", "--kind", "hail")
    assert code == 2 and "kind：" in err
    code, out, err = fangxun(database_url, "events", "close", "1", "--at", "2025-07-21T18:30:00+08:00")
    assert code == 0, err
    assert "2025-07-20 06:00 至 2025-07-21 18:30" in out
    code, _, err = fangxun(database_url, "events", "close", "1")
    assert code == 2 and "已于 2025-07-21T18:30:00+08:00 结束" in err
    code, out, err = fangxun(database_url, "events", "list", "--year", "2025", "--json")
    assert code == 0, err
    [item] = json.loads(out)
    assert (item["name"], item["status"], item["close_reason"], item["opened_by"]) == (
        "2025年7月20日降雨过程", "closed", "manual", "cli")
    code, out, _ = fangxun(database_url, "events", "list", "--year", "2024")
    assert code == 0 and out.strip() == "没有符合条件的事件"
