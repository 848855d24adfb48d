"""GET /api/events/{id}/proposal, GET and POST /api/events/{id}/decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support.api_fixtures import START, bearer
from support.tree import add_units
from support.warning_factories import DISTRICT_A, DISTRICT_B, SENDER

from fangxun.core.accounts import create_token, signing_secret
from fangxun.warnings.acks.acknowledging import acknowledge
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.events.tables import Event, EventWarning, ResponseDecision
from fangxun.warnings.tables import Notification, Warning, WarningUnit

LEVEL_IV = {"urban", "transport", "water", "weather", "emergency"}


async def add_warning(sessions, event_id: int, colour: str, districts: list[str], received_at) -> int:
    async with sessions() as session, session.begin():
        row = Warning(identifier=f"zz-{colour}-{received_at:%H%M}", sender=SENDER, sent=received_at,
                      msg_type="Alert", event="暴雨", colour=colour, received_at=received_at,
                      expires=START + timedelta(hours=12))
        session.add(row)
        await session.flush()
        row.thread_id = row.id
        session.add_all(WarningUnit(warning_id=row.id, unit_code=code, level="district", fraction=1.0)
                        for code in districts)
        session.add(EventWarning(warning_id=row.id, event_id=event_id, joined_at=received_at))
        return row.id


@pytest.fixture
async def event_id(sessions):
    async with sessions() as session, session.begin():
        await add_units(session)
        event = Event(kind="rainfall", name="6·1 降雨过程", status="open", started_at=START - timedelta(hours=2),
                      opened_by="rule:rainfall")
        session.add(event)
        await session.flush()
        return event.id


async def stored(sessions) -> tuple[int, int]:
    async with sessions() as session:
        return ((await session.execute(select(func.count()).select_from(ResponseDecision))).scalar_one(),
                (await session.execute(select(func.count()).select_from(Notification))).scalar_one())


async def post(client, event_id, token, **body):
    return await client.post(f"/api/events/{event_id}/decisions", json=body, headers=bearer(token))


async def test_proposal_follows_the_active_warnings(client, sessions, tokens, event_id):
    url = f"/api/events/{event_id}/proposal"
    response = await client.get(url, headers=bearer(tokens["viewer"]))
    assert response.status == 200 and await response.json() == {"event_id": event_id, "proposal": None}
    yellow = await add_warning(sessions, event_id, "yellow", [DISTRICT_A], START - timedelta(minutes=40))
    body = (await (await client.get(url, headers=bearer(tokens["viewer"]))).json())["proposal"]
    assert (body["level"], body["level_label"], body["rule"], body["trigger_warning_id"]) == (
        4, "Ⅳ级", "发布暴雨黄色预警", yellow)
    assert set(body["actions"]) == LEVEL_IV and body["actions"]["water"] == ["水库、河道加强值守和巡查"]
    # Red over both districts (the whole city): Ⅰ.
    red = await add_warning(sessions, event_id, "red", [DISTRICT_A, DISTRICT_B], START - timedelta(minutes=10))
    body = (await (await client.get(url, headers=bearer(tokens["viewer"]))).json())["proposal"]
    assert (body["level"], body["rule"], body["trigger_warning_id"], body["districts"], body["city_fraction"]) == (
        1, "暴雨红色预警覆盖全市过半", red, 2, 1.0)
    assert "全市中小学、幼儿园、校外培训机构停课" in body["actions"]["education"]


async def test_unknown_event_and_bad_id(client, tokens, event_id):
    for path in ("proposal", "decisions"):
        response = await client.get(f"/api/events/9999/{path}", headers=bearer(tokens["viewer"]))
        assert response.status == 404 and (await response.json())["detail"] == "事件 9999 不存在"
    response = await client.get("/api/events/x1/proposal", headers=bearer(tokens["viewer"]))
    assert response.status == 400 and (await response.json())["detail"].startswith("id：")
    response = await post(client, 9999, tokens["editor"], action="activate", level="IV", decided_by="张")
    assert response.status == 404


async def test_a_decision_is_stored_with_its_notices_before_the_201(client, sessions, tokens, event_id):
    trigger = await add_warning(sessions, event_id, "yellow", [DISTRICT_A], START - timedelta(minutes=65))
    response = await post(client, event_id, tokens["editor"], action="activate", level="Ⅳ",
                          decided_by="市防指常务副指挥长", note="会商决定")
    body = await response.json()
    assert response.status == 201, body
    assert response.headers["Location"] == f"/api/events/{event_id}/decisions"
    assert (body["action"], body["action_label"], body["level"], body["level_label"]) == ("activate", "启动", 4, "Ⅳ级")
    assert (body["decided_by"], body["decided_at"], body["note"]) == ("市防指常务副指挥长", START.isoformat(), "会商决定")
    assert body["recorded_by"].startswith("token:") and body["recorded_at"] == START.isoformat()
    assert (body["proposed_level"], body["proposal_rule"], body["trigger_warning_id"]) == (4, "发布暴雨黄色预警", trigger)
    assert (body["seconds_to_decision"], body["time_to_decision"]) == (3900, "1小时05分")
    assert body["notice_counts"]["total"] == len(LEVEL_IV) and body["notice_counts"]["pending"] == len(LEVEL_IV)
    async with sessions() as session:
        rows = list((await session.execute(select(Notification).where(
            Notification.warning_id == body["notice_warning_id"]))).scalars())
    assert {r.recipient_key for r in rows} == LEVEL_IV


async def test_the_decision_list_shows_time_to_decision_and_the_notices_acknowledgements(client, sessions, tokens,
                                                                                          clock, event_id):
    await add_warning(sessions, event_id, "orange", [DISTRICT_A], START - timedelta(minutes=30))
    first = await (await post(client, event_id, tokens["editor"], action="activate", level="III", decided_by="值班长",
                              decided_at="2026-06-01T09:50:00")).json()  # Beijing time without a zone
    assert first["decided_at"] == (START - timedelta(minutes=10)).isoformat() and first["time_to_decision"] == "20分"
    clock.advance(minutes=30)
    second = await (await post(client, event_id, tokens["admin"], action="terminate", decided_by="指挥长")).json()
    assert (second["level"], second["previous_level"], second["previous_level_label"]) == (3, 3, "Ⅲ级")
    async with sessions() as session, session.begin():
        water = (await session.execute(select(Notification).where(
            Notification.warning_id == second["notice_warning_id"],
            Notification.recipient_key == "water"))).scalar_one()
        # Delivered, then acknowledged by the 水利 desk.
        water.status, water.delivered_at = "delivered", clock.now()
        await session.flush()
        await acknowledge(session, ack_token(await signing_secret(session), water.idempotency_key), clock.now(), "web")
    response = await client.get(f"/api/events/{event_id}/decisions", headers=bearer(tokens["viewer"]))
    body = await response.json()
    assert response.status == 200
    assert [(d["action"], d["level_label"], d["decided_by"]) for d in body["decisions"]] == [
        ("activate", "Ⅲ级", "值班长"), ("terminate", "Ⅲ级", "指挥长")]
    assert [d["time_to_decision"] for d in body["decisions"]] == ["20分", "1小时00分"]
    counts = body["decisions"][1]["notice_counts"]
    assert (counts["total"], counts["acknowledged"], counts["pending"]) == (7, 1, 6)
    # The superseded Ⅲ notice's unsent rows were cancelled when the termination went out.
    assert body["decisions"][0]["notice_counts"]["cancelled"] == 7


async def test_viewers_and_reporters_cannot_decide(client, sessions, tokens, event_id):
    async with sessions() as session, session.begin():
        reporter = await create_token(session, "reporter", label="water", department="water")
    for token in (tokens["viewer"], reporter):
        response = await post(client, event_id, token, action="activate", level="IV", decided_by="某人")
        assert response.status == 403
    assert await stored(sessions) == (0, 0)


@pytest.mark.parametrize("body, status, field", [
    ({"action": "activate", "level": "V", "decided_by": "张三"}, 400, "level"),
    ({"action": "activate", "level": "IV"}, 400, "decided_by"),
    ({"action": "launch", "level": "IV", "decided_by": "张三"}, 400, "action"),
    ({"action": "upgrade", "level": "II", "decided_by": "张三"}, 409, "action"),
    ({"action": "activate", "level": "IV", "decided_by": "张三", "decided_at": "昨天"}, 400, "decided_at"),
    ({"action": "activate", "level": "IV", "decided_by": "张三", "decided_at": "2026-06-01T10:05:00+08:00"}, 400,
     "decided_at"),
    ({"action": "activate", "level": "IV", "decided_by": "张三", "who": "x"}, 400, "who"),
    ({"action": "activate", "level": "IV", "decided_by": 7}, 400, "decided_by"),
])
async def test_bad_requests_name_the_field_and_write_nothing(client, sessions, tokens, event_id, body, status, field):
    response = await client.post(f"/api/events/{event_id}/decisions", json=body, headers=bearer(tokens["editor"]))
    answer = await response.json()
    assert response.status == status, answer
    assert answer["detail"].startswith(f"{field}："), answer
    assert await stored(sessions) == (0, 0)


async def test_notices_read_back_as_a_warning_thread_and_a_cap_document(client, tokens, clock, event_id):
    first = await (await post(client, event_id, tokens["editor"], action="activate", level="IV",
                              decided_by="值班长")).json()
    clock.advance(minutes=5)
    second = await (await post(client, event_id, tokens["editor"], action="upgrade", level="III",
                               decided_by="值班长")).json()
    thread = await (await client.get(f"/api/warnings/{second['notice_warning_id']}",
                                     headers=bearer(tokens["viewer"]))).json()
    assert [m["id"] for m in thread["messages"]] == [first["notice_warning_id"], second["notice_warning_id"]]
    assert [m["headline"] for m in thread["messages"]] == ["关于启动防汛Ⅳ级应急响应的通知",
                                                           "关于提升至防汛Ⅲ级应急响应的通知"]
    response = await client.get(f"/cap/{second['notice_warning_id']}.xml", headers=bearer(tokens["viewer"]))
    text = await response.text()
    assert response.status == 200 and "<msgType>Update</msgType>" in text and "<scope>Restricted</scope>" in text
    feed = await client.get("/cap/feed.xml", headers=bearer(tokens["viewer"]))
    # The feed is of weather warnings: response notices are for the departments, not for subscribers.
    assert feed.status == 200 and "fangxun-response-" not in await feed.text()
