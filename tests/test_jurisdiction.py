"""Jurisdiction and all-clear: what is outside is stored but never in force, an all-clear ends what it references
and nothing else, an unplaceable warning goes to the city duty desk until an editor assigns its units."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from support.api_fixtures import bearer, sign_in
from support.warning_factories import (CITY, DISTRICT_A, DISTRICT_B, EAST_VILLAGE, NOON, STREET_1, TOWN_2, WEST_VILLAGE,
                                       make_warning, notifications, warning_settings)

from fangxun.api.app import create_app
from fangxun.core.errors import BadInput, Conflict
from fangxun.report.warning_figures import warning_figures
from fangxun.warnings.board_threads import board_threads
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.intake.assign import assign_units
from fangxun.warnings.intake.preview import preview
from fangxun.warnings.queries import WarningFilter, held_for_feed, list_warnings
from fangxun.warnings.routing.jurisdiction import INSIDE, OUTSIDE, UNLOCATED, placement, widened
from fangxun.warnings.tables import Warning, WarningUnit

HOOK = "http://127.0.0.1:9/hook"
PENGLAI = "370614000000"  # 蓬莱, Shandong
MACAO = "820000"
YEAR = [datetime(2026, month, 1, tzinfo=timezone.utc) for month in range(1, 13)] + \
    [datetime(2027, 1, 1, tzinfo=timezone.utc)]


@pytest.fixture
def config(settings):
    return warning_settings(settings, HOOK)


def test_placement_rules():
    tops = [CITY]
    assert placement(True, [PENGLAI], False, tops) == INSIDE
    assert placement(False, [PENGLAI], False, tops) == OUTSIDE
    assert placement(False, [], True, tops) == OUTSIDE  # a shape placed on the map, meeting none of ours
    assert placement(False, [], False, tops) == UNLOCATED  # nothing to place: only a description
    assert placement(False, ["410199999999"], False, tops) == UNLOCATED  # ours by its code, but not held
    assert placement(False, [PENGLAI], False, []) == INSIDE  # an empty registry has no outside
    assert widened(["410000", "410102"], tops) == [CITY, "410102000000"]  # 河南省 covers all of 郑州
    assert widened([PENGLAI, "12"], tops) == [PENGLAI]


async def test_a_warning_for_another_province_is_stored_as_outside_and_goes_nowhere(sessions, config, registry):
    result = await ingest(sessions, make_warning("penglai-1", event="高温", colour="orange", geocodes=(PENGLAI,),
                                                 area_description="蓬莱区"), config, NOON)
    assert (result.warning.status, result.warning.jurisdiction) == ("outside", OUTSIDE)
    assert result.notifications == 0 and result.event_id is None and result.as_json()["in_jurisdiction"] is False
    async with sessions() as session:
        assert await notifications(session, result.warning.id) == []
        listed = await list_warnings(session, WarningFilter())
        assert [(item["id"], item["status_label"]) for item in listed["items"]] == [(result.warning.id, "辖区外预警")]
        assert (await board_threads(session, NOON, recent_hours=24))["threads"] == []
        assert await held_for_feed(session, NOON, 30) == []
        figures = await warning_figures(session, YEAR)
    assert figures["total"] == 0 and figures["by_event"] == {}


async def test_an_all_clear_from_another_city_never_reads_as_in_force(sessions, config, registry):
    macao = dataclasses.replace(make_warning("macao-1", msg_type="Alert", colour="yellow", geocodes=(MACAO,),
                                             expires=None, area_description="澳门"),
                                headline="解除黄色暴雨警告信号", response_types=("AllClear",))
    result = await ingest(sessions, macao, config, NOON)
    assert result.warning.status == "outside" and result.warning.all_clear and result.notifications == 0
    async with sessions() as session:
        assert (await board_threads(session, NOON, recent_hours=24))["threads"] == []
        assert await held_for_feed(session, NOON, 30) == []
        assert (await warning_figures(session, YEAR))["cancels"] == 0


async def test_an_all_clear_of_something_we_never_held_is_stored_as_ended(sessions, config, registry):
    orphan = dataclasses.replace(make_warning("lift-1", msg_type="Update"), headline="郑州市气象台解除暴雨红色预警信号")
    result = await ingest(sessions, orphan, config, NOON)
    assert result.warning.status == "cancelled" and result.warning.closed_at == NOON
    assert result.notifications == 0
    assert any("未引用" in note for note in result.warning.notes)
    async with sessions() as session:
        assert await held_for_feed(session, NOON, 30) == []
        figures = await warning_figures(session, YEAR)
    assert figures["total"] == 0 and figures["cancels"] == 0


async def test_an_update_that_lifts_the_signal_ends_the_thread_and_tells_only_those_told(sessions, config, registry):
    red = await ingest(sessions, make_warning("red-1"), config, NOON)
    lifted = dataclasses.replace(make_warning("red-2", msg_type="Update", references=(make_warning("red-1"),),
                                              sent=NOON, geocodes=(DISTRICT_A,)),
                                 headline="郑州市气象台解除暴雨红色预警信号")
    result = await ingest(sessions, lifted, config, NOON + timedelta(minutes=1))
    assert result.cancelled == [red.warning.id] and result.warning.status == "cancelled"
    async with sessions() as session:
        first = await session.get(Warning, red.warning.id)
        told = {(n.recipient_kind, n.recipient_key, n.channel) for n in await notifications(session, red.warning.id)}
        told_again = {(n.recipient_kind, n.recipient_key, n.channel)
                      for n in await notifications(session, result.warning.id)}
        figures = await warning_figures(session, YEAR)
    assert first.status == "cancelled" and first.superseded_by_id == result.warning.id
    assert told_again == told  # the lifting reaches exactly those told of the red signal, nobody new
    assert figures["total"] == 1 and figures["cancels"] == 1


async def test_a_message_continuing_a_thread_of_ours_stays_ours(sessions, config, registry):
    await ingest(sessions, make_warning("move-1"), config, NOON)
    moved = make_warning("move-2", msg_type="Update", references=(make_warning("move-1"),), sent=NOON,
                         geocodes=(PENGLAI,))
    result = await ingest(sessions, moved, config, NOON + timedelta(minutes=1))
    assert result.warning.jurisdiction == INSIDE and result.warning.status == "active"
    assert result.superseded and result.notifications > 0


async def test_a_province_code_covers_the_whole_jurisdiction(sessions, config, registry):
    result = await ingest(sessions, make_warning("henan-1", geocodes=("410000",), area_description="河南省"),
                          config, NOON)
    async with sessions() as session:
        units = set((await session.execute(select(WarningUnit.unit_code)
                                           .where(WarningUnit.warning_id == result.warning.id))).scalars())
    assert result.warning.jurisdiction == INSIDE and {CITY, DISTRICT_A, DISTRICT_B} <= units


async def test_the_dry_run_says_whether_a_warning_is_in_the_jurisdiction(sessions, config, registry):
    async with sessions() as session:
        outside = await preview(session, make_warning("p-1", geocodes=(PENGLAI,)), config)
        inside = await preview(session, make_warning("p-2"), config)
        unplaced = await preview(session, make_warning("p-3", geocodes=(), area_description="黄河滩区"), config)
    assert (outside["in_jurisdiction"], outside["recipients"]["notifications"]) == (False, 0)
    assert inside["in_jurisdiction"] is True and inside["recipients"]["notifications"] > 0
    assert (unplaced["jurisdiction"], unplaced["recipients"]["departments"]) == (UNLOCATED, [])
    assert inside["all_clear"] is False


async def test_an_unplaceable_warning_goes_to_the_duty_desk_until_units_are_assigned(sessions, config, registry):
    result = await ingest(sessions, make_warning("where-1", geocodes=(), area_description="黄河滩区"), config, NOON)
    row = result.warning
    assert (row.status, row.jurisdiction, result.notifications) == ("active", UNLOCATED, 1)
    async with sessions() as session:
        (desk,) = await notifications(session, row.id)
        stored = await session.get(Warning, row.id)
    assert (desk.recipient_kind, desk.address) == ("duty_desk", "city-duty-desk")
    title, text = stored.messages["unlocated"]
    assert title.startswith("【区域无法定位】暴雨红色预警") and "黄河滩区" in text and "人工指定" in text

    async with sessions() as session, session.begin():
        with pytest.raises(BadInput, match="不在登记库中"):
            await assign_units(session, row.id, ["410101999999"], config, NOON, "user:duty01")
    async with sessions() as session, session.begin():
        done = await assign_units(session, row.id, [DISTRICT_A], config, NOON, "user:duty01")
    assert done.names == ["甲区"] and done.notifications > 0
    assert done.units == 5  # 甲区 with its townships and villages
    async with sessions() as session:
        stored = await session.get(Warning, row.id)
        units = set((await session.execute(select(WarningUnit.unit_code)
                                           .where(WarningUnit.warning_id == row.id))).scalars())
    assert units == {DISTRICT_A, STREET_1, TOWN_2, EAST_VILLAGE, WEST_VILLAGE}
    async with sessions() as session:
        people = {n.unit_code for n in await notifications(session, row.id, recipient_kind="person")}
        departments = {n.recipient_key for n in await notifications(session, row.id, recipient_kind="department")}
        person = (await notifications(session, row.id, recipient_kind="person", unit_code=DISTRICT_A))[0]
    assert stored.jurisdiction == INSIDE and "甲区" in stored.notes[-1]
    assert DISTRICT_A in people and DISTRICT_B not in people and STREET_1 in people
    assert departments == {"weather", "water", "emergency"}
    assert "影响区域：甲区" in stored.messages[person.payload["message"]][1]
    assert "unlocated" in stored.messages  # the duty desk's notice keeps its text
    async with sessions() as session, session.begin():
        with pytest.raises(Conflict):
            await assign_units(session, row.id, [DISTRICT_B], config, NOON, "user:duty01")


@pytest.fixture
async def client(aiohttp_client, engine, config, clock):
    return await aiohttp_client(create_app(engine, config, clock))


async def _unplaced(sessions, config, identifier: str) -> int:
    result = await ingest(sessions, make_warning(identifier, geocodes=(), area_description="某地"), config, NOON)
    return result.warning.id


async def _unit_rows(sessions, warning_id: int) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(WarningUnit)
                                      .where(WarningUnit.warning_id == warning_id))).scalar_one()


async def test_units_are_assigned_through_the_api(client, sessions, config, tokens, registry):
    warning_id = await _unplaced(sessions, config, "api-1")
    url = f"/api/warnings/{warning_id}/units"
    refused = await client.post(url, json={"unit_codes": [DISTRICT_A]}, headers=bearer(tokens["viewer"]))
    assert refused.status == 403
    bad = await client.post(url, json={"unit_codes": [DISTRICT_A, "3706"]}, headers=bearer(tokens["editor"]))
    assert bad.status == 400 and "unit_codes[1]" in (await bad.json())["detail"]
    outside = await client.post(url, json={"unit_codes": [PENGLAI]}, headers=bearer(tokens["editor"]))
    assert outside.status == 400
    assert await _unit_rows(sessions, warning_id) == 0
    done = await client.post(url, json={"unit_codes": [DISTRICT_A]}, headers=bearer(tokens["editor"]))
    body = await done.json()
    assert done.status == 200 and body["assigned"] == ["甲区"] and body["jurisdiction"] == INSIDE
    assert body["notifications"] > 0 and await _unit_rows(sessions, warning_id) > 0
    again = await client.post(url, json={"unit_codes": [DISTRICT_B]}, headers=bearer(tokens["editor"]))
    assert again.status == 409
    thread = await (await client.get(f"/api/warnings/{warning_id}", headers=bearer(tokens["viewer"]))).json()
    assert thread["messages"][0]["jurisdiction"] == INSIDE


async def test_units_are_assigned_on_the_page(client, sessions, config, user, registry):
    from support.api_fixtures import PASSWORD
    warning_id = await _unplaced(sessions, config, "page-1")
    await sign_in(client, user, PASSWORD)
    page = await client.get(f"/warnings/{warning_id}/assign")
    html = await page.text()
    assert page.status == 200 and "区域无法定位" in html and "原文区域：某地" in html
    # units are found by name (with their district) or in the tree: the picker and the JSON it reads
    assert '<div class="unit-picker" id="assign-units" data-name="unit_codes" data-multiple="true"' in html
    assert "connect-src 'self'" in page.headers["Content-Security-Policy"]
    wrong = await client.post(f"/warnings/{warning_id}/assign", data={"unit_codes": "410102001000", "codes": "41010"},
                              allow_redirects=False)
    shown = await wrong.text()
    assert wrong.status == 400 and "不是 6、9 或 12 位区划代码" in shown
    assert '<span class="unit-picker-place">甲区 · 一号街道</span>' in shown   # the pick kept, with its district
    done = await client.post(f"/warnings/{warning_id}/assign", data={"unit_codes": DISTRICT_B},
                             allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == f"/board#warning-{warning_id}"
    async with sessions() as session:
        people = {n.unit_code for n in await notifications(session, warning_id, recipient_kind="person")}
    assert DISTRICT_B in people and DISTRICT_A not in people
    after = await (await client.get(f"/warnings/{warning_id}/assign")).text()
    assert "无需人工指定" in after
