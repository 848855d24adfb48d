"""The duty board: the signed-in page (our own script, strict CSP) and its JSON, on both databases: threads in force
first, one thread's timeline, recipients grouped desks / district → township → village with counts, each filter,
paging, the deadline after a reminder, and the history of an alert after its 解除."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.api_fixtures import PASSWORD, bearer, sign_in
from support.board_story import Story, dispatch
from support.warning_factories import (DISTRICT_A, DISTRICT_B, EAST_VILLAGE, NOON, TOWN_2, add_registry, make_warning,
                                       warning_settings)

from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.intake.lifecycle import close_expired

# The three department desks a red 暴雨 reaches (and 9 persons: 三号街道主任 has no address).
DESKS = ["市气象局（市气象台值班室）", "市水利局（市水利局值班室）", "市应急管理局（市应急管理局指挥中心）"]


@pytest.fixture
def config(settings, sink):
    """One reminder before escalating; a red notice must be acknowledged within 15 minutes."""
    return warning_settings(settings, sink.url_for("/hook"), repeat=1)


async def _get(client, tokens, path: str, **params) -> dict:
    response = await client.get(path, params={k: str(v) for k, v in params.items()}, headers=bearer(tokens["viewer"]))
    body = await response.json()
    assert response.status == 200, body
    assert response.headers["Cache-Control"] == "no-store"
    return body


async def _names(client, tokens, thread_id: int, **params) -> list[str]:
    """Every recipient name of a query, all pages read."""
    page = await _get(client, tokens, f"/api/board/threads/{thread_id}/recipients", per_page=200, **params)
    assert page["total"] == len(page["items"])
    return sorted(item["recipient_name"] for item in page["items"])


@pytest.fixture
async def story(sessions, config, clock) -> Story:
    return await Story(sessions, config, clock).run()


async def test_the_board_page_needs_a_sign_in_and_loads_only_our_own_script(client, user):
    response = await client.get("/board", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/login?next=/board"
    await sign_in(client, user, PASSWORD)
    response = await client.get("/board")
    page = await response.text()
    assert response.status == 200
    assert '<script src="/static/board/board.js" defer></script>' in page
    assert 'href="/static/board/board.css"' in page and 'data-poll-ms="5000"' in page
    assert "值班看板" in page and "duty01" in page and 'id="thread-list"' in page and 'id="groups"' in page
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "connect-src 'self'" in policy and "unsafe" not in policy
    assert "http://" not in page and "https://" not in page
    for path, kind in (("/static/board/board.js", "javascript"), ("/static/board/board.css", "text/css")):
        asset = await client.get(path)
        assert asset.status == 200 and kind in asset.headers["Content-Type"]


async def test_threads_in_force_come_first_then_those_ended_lately(client, sessions, config, clock, tokens):
    async with sessions() as session, session.begin():
        await add_registry(session)
    assert (await client.get("/api/board/threads")).status == 401
    # An old warning closed two days ago is not on the board; one closed an hour ago is.
    old = await ingest(sessions, make_warning("old", sent=NOON - timedelta(days=3),
                                              expires=NOON - timedelta(days=2)), config, NOON - timedelta(days=3))
    async with sessions() as session, session.begin():
        await close_expired(session, NOON - timedelta(days=2))
    recent = await ingest(sessions, make_warning("recent", colour="blue", event="大风",
                                                 sent=NOON - timedelta(hours=3), expires=NOON - timedelta(hours=1)),
                          config, NOON - timedelta(hours=3))
    async with sessions() as session, session.begin():
        await close_expired(session, NOON - timedelta(hours=1))
    red = await ingest(sessions, make_warning("red"), config, NOON)
    await dispatch(sessions, config, clock)
    clock.advance(minutes=16)

    data = await _get(client, tokens, "/api/board/threads")
    threads = data["threads"]
    assert [t["thread_id"] for t in threads] == [red.warning.id, recent.warning.id]
    first = threads[0]
    assert (first["status"], first["colour_label"], first["focus_id"], first["last_step"]) == \
        ("active", "红色", red.warning.id, "发布")
    assert first["counts"]["total"] == 12 and first["counts"]["overdue"] == 11
    assert first["counts"]["unacknowledged"] == 11 and first["counts"]["unreachable"] == 1
    assert threads[1]["status"] == "expired" and threads[1]["counts"]["total"] == 1  # 大风: 市应急管理局 only
    assert data["held_back"] == [] and data["sms_replies_unmatched"] == []
    assert data["filters"]["unacknowledged"] == "待确认" and data["state_labels"]["informed"] == "已告知（无需确认）"
    wide = await _get(client, tokens, "/api/board/threads", hours=72)
    assert old.warning.id in [t["thread_id"] for t in wide["threads"]]
    bad = await client.get("/api/board/threads", params={"hours": "0"}, headers=bearer(tokens["viewer"]))
    assert bad.status == 400 and "hours" in (await bad.json())["detail"]


async def test_a_reminded_row_shows_the_deadline_that_applies_now(client, sessions, config, clock, tokens):
    story = Story(sessions, config, clock)
    await story.alert()
    assert await story.step(16) > 0  # the reminders went out at 10:16: a new 15 minutes from then
    clock.advance(minutes=4)  # 10:20: the first deadline (10:15) has passed, the reminder's (10:31) has not
    page = await _get(client, tokens, f"/api/board/threads/{story.alert_id}/recipients", per_page=200)
    by_name = {item["recipient_name"]: item for item in page["items"] if item["purpose"] == "notice"}
    chief = by_name["甲区区长"]
    assert chief["reminders"] == 1 and chief["first_deadline"] == (NOON + timedelta(minutes=15)).isoformat()
    assert chief["ack_deadline"] == (NOON + timedelta(minutes=31)).isoformat() and chief["overdue"] is False
    assert by_name["东村支书"]["ack_deadline"] == (NOON + timedelta(minutes=15)).isoformat()  # answered: never reminded
    counts = (await _get(client, tokens, "/api/board/threads"))["threads"][0]["counts"]
    # 9 reminded notices and the 3 escalations the two undeliverable ones made at once
    assert counts["overdue"] == 0 and counts["unacknowledged"] == 12
    clock.advance(minutes=12)  # 10:32
    assert (await _get(client, tokens, "/api/board/threads"))["threads"][0]["counts"]["overdue"] == 12


async def test_after_the_cancel_the_thread_still_shows_the_alerts_overdue_and_escalated(client, story, tokens):
    thread = await _get(client, tokens, f"/api/board/threads/{story.cancel_id}")
    assert thread["thread_id"] == story.alert_id and thread["status"] == "cancelled"
    assert thread["focus_id"] == story.alert_id  # the message that asked for 叫应, not the 解除
    assert [(m["id"], m["step"], m["step_label"], m["status"]) for m in thread["timeline"]] == [
        (story.alert_id, "alert", "发布", "cancelled"), (story.cancel_id, "cancel", "解除", "cancelled")]
    alert, lifted = (m["counts"] for m in thread["timeline"])
    assert thread["timeline"][0]["colour_label"] == "红色"
    # 12 first notices and 11 escalations: at once of the two undeliverable (甲区's two, 乙区区长), then of the
    # reminded (3 department leaders, the city desk, 甲区's two again, 二号镇's two).
    assert alert["total"] == 23 and alert["acknowledged"] == 1 and alert["escalated"] == 11
    assert alert["overdue"] == 9 and alert["unreachable"] == 1 and alert["failed"] == 1
    assert lifted["total"] == 12 and lifted["informed"] == 11 and lifted["unacknowledged"] == 0
    assert [d["key"] for d in thread["departments"]] == ["emergency", "water", "weather"]
    assert thread["departments"][1]["name"] == "市水利局"

    listed = (await _get(client, tokens, "/api/board/threads"))["threads"]
    assert [(t["thread_id"], t["status_label"], t["last_step"]) for t in listed] == [(story.alert_id, "已解除", "解除")]
    overdue = await _names(client, tokens, story.alert_id, filter="overdue")
    assert overdue == sorted(["甲区区长", "甲区副区长", "乙区区长", "一号街道主任", "二号镇镇长", "东村主任", *DESKS])
    escalated = await _names(client, tokens, story.alert_id, filter="escalated")
    assert escalated == sorted([*overdue, "二号镇副镇长", "三号街道主任"])
    # The 解除 alone is what it told, nobody to answer.
    assert await _names(client, tokens, story.alert_id, message=story.cancel_id, filter="unacknowledged") == []
    everything = await _get(client, tokens, f"/api/board/threads/{story.alert_id}/recipients", message="all")
    assert everything["total"] == 35 and everything["message"] == "all"


async def test_groups_count_desks_districts_townships_and_villages(client, story, tokens):
    base = f"/api/board/threads/{story.alert_id}/groups"
    top = await _get(client, tokens, base)
    assert top["message"] == str(story.alert_id) and top["filtered"] is False
    groups = {g["key"]: g for g in top["groups"]}
    assert list(groups) == ["desks", f"unit:{DISTRICT_A}", f"unit:{DISTRICT_B}"]
    desks, district_a, district_b = groups.values()
    assert (desks["label"], desks["has_children"]) == ("部门与值班室", False)
    # the desks, their leaders told of them, and the city desk told of 乙区区长
    assert desks["counts"]["total"] == 7 and desks["counts"]["escalated"] == 3
    assert (district_a["label"], district_a["has_children"], district_a["counts"]["total"]) == ("甲区", True, 13)
    assert district_a["counts"]["acknowledged"] == 1 and district_a["counts"]["failed"] == 1
    assert district_b["counts"] == {**district_b["counts"], "total": 3, "unreachable": 1}
    assert sum(g["counts"]["total"] for g in top["groups"]) == 23

    below_a = await _get(client, tokens, base, parent=f"unit:{DISTRICT_A}")
    assert [(g["key"], g["label"], g["has_children"], g["counts"]["total"]) for g in below_a["groups"]] == [
        (f"self:{DISTRICT_A}", "甲区（本级）", False, 6), ("unit:410102001000", "一号街道", False, 1),
        (f"unit:{TOWN_2}", "二号镇", True, 6)]
    below_town = await _get(client, tokens, base, parent=f"unit:{TOWN_2}")
    assert [(g["key"], g["label"], g["counts"]["total"], g["counts"]["acknowledged"])
            for g in below_town["groups"]] == [
        (f"self:{TOWN_2}", "二号镇（本级）", 4, 0), (f"unit:{EAST_VILLAGE}", "东村", 2, 1)]
    village = await _get(client, tokens, f"/api/board/threads/{story.alert_id}/recipients",
                         group=f"unit:{EAST_VILLAGE}")
    assert sorted(item["recipient_name"] for item in village["items"]) == ["东村主任", "东村支书"]
    assert {item["place"] for item in village["items"]} == {"甲区 · 二号镇 · 东村"}
    assert village["items"][0]["recipient_name"] == "东村主任"  # overdue before acknowledged
    desk_rows = await _names(client, tokens, story.alert_id, group="desks")
    assert len(desk_rows) == 7 and set(DESKS) <= set(desk_rows) and "市防指办值班室" in desk_rows

    # A filter counts only what matches and leaves out the groups with nothing.
    waiting = await _get(client, tokens, base, filter="unreachable")
    assert [(g["key"], g["counts"]["total"]) for g in waiting["groups"]] == [(f"unit:{DISTRICT_B}", 1)]
    assert waiting["filtered"] is True
    for wrong, field in (({"parent": f"unit:{EAST_VILLAGE}"}, "parent"), ({"parent": "desks"}, "parent"),
                         ({"parent": "unit:41"}, "parent"), ({"filter": "late"}, "filter"),
                         ({"level": "city"}, "level"), ({"message": "99999"}, "message"), ({"q": "村" * 51}, "q")):
        response = await client.get(base, params=wrong, headers=bearer(tokens["viewer"]))
        body = await response.json()
        assert response.status == 400 and body["detail"].startswith(field), (wrong, body)
    missing = await client.get("/api/board/threads/99999/groups", headers=bearer(tokens["viewer"]))
    assert missing.status == 404


async def test_each_filter_narrows_the_recipients(client, story, tokens):
    thread = story.alert_id
    assert await _names(client, tokens, thread, filter="acknowledged") == ["东村支书"]
    assert await _names(client, tokens, thread, filter="unreachable") == ["三号街道主任"]
    assert await _names(client, tokens, thread, filter="failed") == ["二号镇副镇长"]
    waiting = await _names(client, tokens, thread, filter="unacknowledged")
    assert len(waiting) == 20 and "东村支书" not in waiting and "三号街道主任" not in waiting
    assert await _names(client, tokens, thread, level="village") == ["东村主任", "东村支书"]
    assert await _names(client, tokens, thread, level="township", filter="overdue") == ["一号街道主任", "二号镇镇长"]
    assert await _names(client, tokens, thread, department="water") == ["市水利局（市水利局值班室）",
                                                                       "市水利局（市水利局分管负责人）"]
    # By name, by place (with its district) and by phone number, whatever its separators; never the number itself.
    assert await _names(client, tokens, thread, q="副") == ["二号镇副镇长"] * 2 + ["甲区副区长"] * 3  # and told above
    assert await _names(client, tokens, thread, q="东村") == ["东村主任", "东村支书"]
    found = await _get(client, tokens, f"/api/board/threads/{thread}/recipients", q="0000-0008")
    assert [(i["recipient_name"], i["phone_masked"]) for i in found["items"]] == [("东村支书", "139****0008")]
    assert "address" not in found["items"][0] and "13900000008" not in str(found)
    assert await _names(client, tokens, thread, q="%") == []  # LIKE's own characters are taken literally
    assert await _names(client, tokens, thread, q="东村", filter="acknowledged", level="village") == ["东村支书"]


async def test_recipients_are_paged_on_the_server(client, story, tokens):
    path = f"/api/board/threads/{story.alert_id}/recipients"
    seen, ranks = [], []
    for number in range(1, 6):
        page = await _get(client, tokens, path, per_page=5, page=number)
        assert (page["total"], page["pages"], page["page"]) == (23, 5, number)
        assert len(page["items"]) == (5 if number < 5 else 3)
        seen += [item["id"] for item in page["items"]]
        ranks += [item["overdue"] for item in page["items"]]
    assert len(set(seen)) == 23
    assert ranks[:9] == [True] * 9 and not any(ranks[9:])  # the overdue first
    beyond = await _get(client, tokens, path, per_page=5, page=6)
    assert beyond["items"] == [] and beyond["total"] == 23
    too_many = await client.get(path, params={"per_page": "201"}, headers=bearer(tokens["viewer"]))
    assert too_many.status == 400 and (await too_many.json())["detail"].startswith("per_page")
    record = next(item for item in (await _get(client, tokens, path, per_page=50))["items"]
                  if item["recipient_name"] == "东村支书")
    assert record["record"]["ack"]["way"] == "link" and record["sms_replies"] == []


async def test_a_warning_that_could_not_be_placed_links_to_assigning_its_units(client, sessions, config, tokens):
    async with sessions() as session, session.begin():
        await add_registry(session)
    unplaced = await ingest(sessions, make_warning("unplaced", geocodes=(), area_description="某地"), config, NOON)
    listed = (await _get(client, tokens, "/api/board/threads"))["threads"]
    assert [(t["thread_id"], t["unlocated_id"], t["areas"]) for t in listed] == [
        (unplaced.warning.id, unplaced.warning.id, ["某地"])]
    groups = (await _get(client, tokens, f"/api/board/threads/{unplaced.warning.id}/groups"))["groups"]
    assert [(g["key"], g["counts"]["total"]) for g in groups] == [("desks", 1)]  # the city duty desk only
    assert await _names(client, tokens, unplaced.warning.id) == ["市防指办值班室"]
