"""The 叫应 record (warnings/ack_record.py) on both databases, in the API and on the board's JSON: calls and redials
ending in key 1, an SMS reply, a link, and an escalation naming the people it reports; the report counts by way."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import insert
from support.api_fixtures import bearer
from support.warning_factories import (EAST_VILLAGE, NOON, TOWN_2, add_registry, make_warning, notifications,
                                       warning_settings)

from fangxun.core.accounts import signing_secret
from fangxun.report.tables import notification_tables
from fangxun.report.warning_figures import notification_figures
from fangxun.warnings.ack_record import ack_records
from fangxun.warnings.acks.acknowledging import acknowledge, acknowledge_notification
from fangxun.warnings.acks.escalation import escalate_due
from fangxun.warnings.acks.inbound_sms import InboundSms
from fangxun.warnings.acks.sms_replies import record_reply
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import CallAttempt, Warning


@pytest.fixture
def config(settings, sink):
    return warning_settings(settings, sink.url_for("/hook"), repeat=0)


async def _calls(session, notification_id: int, outcomes: list[tuple[str, bool | None, str]], start) -> None:
    """Calls of a notification as the ledger keeps them, one a minute from `start`."""
    await session.execute(insert(CallAttempt), [
        {"notification_id": notification_id, "call_id": f"fxc-test-{notification_id}-{number}",
         "call_number": number, "channel": "hook", "to_number": "13900000008",
         "requested_at": start + timedelta(minutes=number - 1), "accepted_at": start + timedelta(minutes=number - 1),
         "status": status, "answered": answered, "keys": keys, "duration_s": 25.0 if answered else 0.0,
         "ended_at": start + timedelta(minutes=number - 1, seconds=40),
         "result_at": start + timedelta(minutes=number - 1, seconds=41)}
        for number, (status, answered, keys) in enumerate(outcomes, start=1)])


async def _story(sessions, config, clock) -> tuple[int, dict]:
    """A red warning: 东村支书 called twice without answer then key 1; 二号镇镇长 replies 收到 by SMS; 甲区区长 uses
    the link; 东村主任 never answers and the township is told. Returns the warning id and the rows by name."""
    async with sessions() as session, session.begin():
        await add_registry(session)
    accepted = await ingest(sessions, make_warning("record"), config, NOON)
    async with new_http_session(config.warnings.channels) as http:
        await Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "t1",
                         rng=random.Random(1)).run_until_idle()
    warning_id = accepted.warning.id
    async with sessions() as session, session.begin():
        rows = {row.recipient_name: row for row in await notifications(session, warning_id, purpose="notice")}
        await _calls(session, rows["东村支书"].id, [("no_answer", False, ""), ("no_answer", False, ""),
                                                 ("answered", True, "1")], NOON + timedelta(minutes=1))
        await acknowledge_notification(session, rows["东村支书"], NOON + timedelta(minutes=3, seconds=30), "voice")
        await record_reply(session, "sms", InboundSms("+86 139 0000 0006", "13900000006", "收到",
                                                      NOON + timedelta(minutes=4)), NOON + timedelta(minutes=4))
        secret = await signing_secret(session)
        await acknowledge(session, ack_token(secret, rows["甲区区长"].idempotency_key), NOON + timedelta(minutes=5),
                          "page")
    async with sessions() as session, session.begin():
        assert await escalate_due(session, NOON + timedelta(minutes=16), config) > 0
    async with sessions() as session:
        rows = {row.recipient_name: row for row in await notifications(session, warning_id)
                if row.purpose == "notice"}
    return warning_id, rows


async def test_the_record_shows_calls_replies_ways_and_who_was_told_above(sessions, config, clock):
    warning_id, rows = await _story(sessions, config, clock)
    async with sessions() as session:
        records = await ack_records(session, [row.id for row in rows.values()])

    called = records[rows["东村支书"].id]
    assert called["call_count"] == 3 and called["redials"] == 2 and called["keys"] == "1"
    assert [call["status_label"] for call in called["calls"]] == ["无人接听", "无人接听", "已接听"]
    assert called["first_called_at"] == (NOON + timedelta(minutes=1)).isoformat() and called["answered"] is True
    assert called["ack"]["way"] == "voice" and called["ack"]["label"] == "语音按键"
    assert called["told_above"] == []

    replied = records[rows["二号镇镇长"].id]
    assert replied["ack"]["way"] == "sms" and replied["ack"]["label"] == "短信回复"
    assert [(reply["text"], reply["is_ack"]) for reply in replied["sms_replies"]] == [("收到", True)]
    assert replied["call_count"] == 0 and replied["answered"] is None

    linked = records[rows["甲区区长"].id]
    assert linked["ack"] == {"way": "link", "label": "链接", "via": "page",
                             "at": (NOON + timedelta(minutes=5)).isoformat()}

    silent = records[rows["东村主任"].id]
    assert silent["ack"] is None
    told = {(up["recipient_name"], up["level"], up["unit_code"]) for up in silent["told_above"]}
    assert ("二号镇镇长", "township", TOWN_2) in told
    assert all(up["escalation_step"] >= 1 for up in silent["told_above"])
    # The one escalation names every unanswered village person of the township it went to.
    async with sessions() as session:
        escalations = await notifications(session, warning_id, purpose="escalation")
    to_town = [e for e in escalations if e.recipient_name == "二号镇镇长"]
    assert to_town and rows["东村主任"].id in to_town[0].payload["escalated_from_ids"]
    assert rows["东村支书"].unit_code == EAST_VILLAGE


async def test_the_api_and_the_board_carry_the_record(client, sessions, config, clock, tokens):
    warning_id, rows = await _story(sessions, config, clock)
    clock.advance(minutes=20)
    response = await client.get(f"/api/warnings/{warning_id}/notifications", headers=bearer(tokens["viewer"]))
    data = await response.json()
    assert response.status == 200
    by_name = {item["recipient_name"]: item["record"] for item in data["items"] if item["purpose"] == "notice"}
    assert by_name["东村支书"]["call_count"] == 3 and by_name["东村支书"]["ack"]["way"] == "voice"
    assert by_name["二号镇镇长"]["ack"]["way"] == "sms" and by_name["甲区区长"]["ack"]["way"] == "link"
    assert "二号镇镇长" in {up["recipient_name"] for up in by_name["东村主任"]["told_above"]}

    board = await (await client.get("/api/board/threads", headers=bearer(tokens["viewer"]))).json()
    assert board["threads"][0]["thread_id"] == warning_id
    page = await (await client.get(f"/api/board/threads/{warning_id}/recipients", params={"per_page": "200"},
                                   headers=bearer(tokens["viewer"]))).json()
    shown = {r["recipient_name"]: r["record"] for r in page["items"] if r["purpose"] == "notice"}
    assert shown["东村支书"]["redials"] == 2 and shown["二号镇镇长"]["sms_replies"][0]["text"] == "收到"
    assert board["held_back"] == []  # the hook has no rate: nothing is held back


async def test_the_report_counts_acknowledgements_by_way_and_calls_by_outcome(sessions, config, clock):
    await _story(sessions, config, clock)
    async with sessions() as session:
        figures = await notification_figures(session, [Warning.id.is_not(None)])
    assert figures["acknowledged_by"] == {"link": 1, "voice": 1, "sms": 1, "other": 0}
    assert sum(figures["acknowledged_by"].values()) == figures["acknowledged"]
    assert figures["calls"] == {"calls": 3, "answered": 1, "not_answered": 2, "hung_up_early": 0, "failed": 0,
                                "no_result": 0, "key_1": 1}
    tables = {table.key: table for table in notification_tables({"warnings": figures, "decisions": figures})}
    assert ("其中语音按键确认", 1, 1) in tables["ack_ways"].rows and ("其中短信回复确认", 1, 1) in tables["ack_ways"].rows
    assert ("未接通", 2, 2) in tables["calls"].rows and ("按1确认", 1, 1) in tables["calls"].rows


async def test_the_event_page_shows_the_record(client, sessions, config, clock, user):
    from sqlalchemy import select
    from support.api_fixtures import PASSWORD, sign_in

    from fangxun.warnings.events.tables import EventWarning

    warning_id, rows = await _story(sessions, config, clock)
    async with sessions() as session:
        event_id = (await session.execute(select(EventWarning.event_id)
                                          .where(EventWarning.warning_id == warning_id))).scalar_one()
    await sign_in(client, user, PASSWORD)
    page = await client.get(f"/events/{event_id}")
    html = await page.text()
    assert page.status == 200 and "叫应记录（最需关注的" in html
    row = html.split(f'data-notification="{rows["东村支书"].id}"')[1].split("</tr>")[0]
    assert "3 次（重拨 2 次）" in row and "无人接听、无人接听、已接听（按键 1）" in row and "语音按键" in row
    replied = html.split(f'data-notification="{rows["二号镇镇长"].id}"')[1].split("</tr>")[0]
    assert "收到" in replied and "短信回复" in replied
    silent = html.split(f'data-notification="{rows["东村主任"].id}"')[1].split("</tr>")[0]
    assert "二号镇镇长" in silent
