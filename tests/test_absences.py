"""Away with a deputy: a 责任人's 请假/出差 sends their notifications to the stand-in for that time (the rules, the
fan-out with an injected clock on both databases, the API with its audit, the board's words)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from support.api_fixtures import START, bearer
from support.warning_api import manual_form
from support.warning_factories import (DISTRICT_A, DISTRICT_B, EAST_VILLAGE, NOON, contact_id, make_warning,
                                       notifications, warning_settings)

from fangxun.core.audit import AuditRecord
from fangxun.plans.absence_rules import Absence, current, in_force, stand_in_for, until_words, with_stand_ins
from fangxun.plans.absence_writes import add_absence
from fangxun.plans.contact_queries import PlanPerson
from fangxun.plans.contact_rules import person_identity
from fangxun.warnings.acks.escalation import escalate_due
from fangxun.warnings.delivery.notices import record_ack
from fangxun.warnings.delivery.outbox import compose
from fangxun.warnings.intake.accept import accept
from fangxun.warnings.routing.recipients import duty_line
from fangxun.warnings.tables import Notification, Warning

ZONE = "Asia/Shanghai"
T0 = datetime(2026, 12, 7, 16, 0, tzinfo=timezone.utc)  # 12月8日 00:00 in Beijing
HOOK = "http://127.0.0.1:9/hook"


def person(id, unit="u1", role="responsible", name="张三", phone=None, plan="东村防汛应急预案"):
    return PlanPerson(id, unit, role, name, phone or f"1390000{id:04d}", {}, "东村", plan)


def leave(id, contact, start=T0, days=2, deputy=None, kind="leave", cancelled=None):
    return Absence(id, contact, kind, start, start + timedelta(days=days), "", deputy, cancelled)


def by_identity(persons, absences):
    ids = {p.id: person_identity(p.unit_code, p.phone, p.name) for p in persons}
    return {ids[contact]: absence for contact, absence in current(((a.contact_id, a) for a in absences), T0).items()}


# --- the rules --------------------------------------------------------------------------------------------

def test_an_absence_holds_from_its_start_up_to_its_end_unless_cancelled():
    absence = leave(1, 10)
    assert not in_force(absence, T0 - timedelta(seconds=1))
    assert in_force(absence, T0) and in_force(absence, T0 + timedelta(days=2, seconds=-1))
    assert not in_force(absence, T0 + timedelta(days=2))
    assert not in_force(absence._replace(cancelled_at=T0), T0 + timedelta(hours=1))


def test_of_overlapping_absences_the_one_registered_last_holds():
    first, second = leave(1, 10, deputy=20), leave(2, 10, start=T0 + timedelta(days=1), deputy=30)
    assert current([(10, first), (10, second)], T0 + timedelta(hours=1)) == {10: first}
    assert current([(10, second), (10, first)], T0 + timedelta(days=1, hours=1)) == {10: second}


def test_the_last_day_reads_as_a_date_at_midnight_and_with_the_time_otherwise():
    assert until_words(T0 + timedelta(days=2), ZONE) == "12月9日"  # ends at 12月10日 00:00
    assert until_words(T0 + timedelta(days=1, hours=18), ZONE) == "12月9日 18:00"


def test_the_unit_deputy_stands_in_and_their_own_row_becomes_the_stand_in():
    zhang, li = person(1, name="张三"), person(2, role="deputy", name="李四")
    got = with_stand_ins([zhang, li], by_identity([zhang], [leave(1, 1)]), {}, ZONE)
    assert len(got) == 1
    [row] = got
    assert (row.id, row.unit_code, row.role, row.phone) == (2, "u1", "responsible", li.phone)
    assert row.name == "李四（代 张三，请假至 12月9日）"
    assert duty_line(row.unit_name, row.role, row.plan_title, row.stands_in) == \
        "您代 张三（请假） 履行 东村 防汛责任人职责（《东村防汛应急预案》）"


def test_a_named_ab_person_comes_before_the_unit_deputy_and_keeps_the_absent_unit():
    zhang, li = person(1, name="张三"), person(2, role="deputy", name="李四")
    wang = person(7, unit="u9", name="王五")
    got = with_stand_ins([zhang, li], by_identity([zhang], [leave(1, 1, deputy=7, kind="trip")]), {7: wang}, ZONE)
    assert [(p.id, p.unit_code, p.name) for p in got] == [
        (2, "u1", "李四"), (7, "u1", "王五（代 张三，出差至 12月9日）")]


def test_an_away_stand_in_passes_it_on_and_nobody_is_asked_twice():
    zhang, li, zhao = person(1, name="张三"), person(2, role="deputy", name="李四"), person(3, role="deputy",
                                                                                       name="赵六", plan="其他预案")
    absences = [leave(1, 1, deputy=2), leave(2, 2, deputy=1)]  # each names the other
    got = with_stand_ins([zhang, li, zhao], by_identity([zhang, li], absences), {}, ZONE)
    assert [(p.id, p.name) for p in got] == [(3, "赵六（代 张三，请假至 12月9日；代 李四，请假至 12月9日）")]


def test_with_nobody_to_stand_in_the_absent_person_is_still_told_and_marked():
    zhang, li = person(1, name="张三"), person(2, role="deputy", name="李四")
    absences = [leave(1, 1), leave(2, 2)]
    got = with_stand_ins([zhang, li], by_identity([zhang, li], absences), {}, ZONE)
    assert [(p.id, p.name, p.phone) for p in got] == [
        (1, "张三（请假至 12月9日，无人代理）", zhang.phone), (2, "李四（请假至 12月9日，无人代理）", li.phone)]
    away = {1: absences[0], 2: absences[1]}
    assert stand_in_for(zhang, away, {1: zhang, 2: li}, {"u1": [zhang, li]}) is None


def test_the_same_person_in_another_plan_row_is_absent_too():
    zhang_flood, li = person(1, name="张三"), person(2, role="deputy", name="李四")
    zhang_evacuation = person(5, name="张三", phone=zhang_flood.phone[:3] + "-" + zhang_flood.phone[3:])
    away = {person_identity("u1", zhang_evacuation.phone, "张三"): leave(1, 5)}
    assert [p.name for p in with_stand_ins([zhang_flood, li], away, {}, ZONE)] == ["李四（代 张三，请假至 12月9日）"]


# --- the fan-out, with an injected clock, on both databases -----------------------------------------------

@pytest.fixture
def config(settings):
    return warning_settings(settings, HOOK)


async def _away(sessions, unit, name, start, days, deputy=None, kind="leave"):
    async with sessions() as session, session.begin():
        fields = {"kind": kind, "starts_at": start.isoformat(), "ends_at": (start + timedelta(days=days)).isoformat(),
                  "reason": "年休假"}
        if deputy is not None:
            fields["deputy_contact_id"] = await contact_id(session, *deputy)
        return (await add_absence(session, await contact_id(session, unit, name), fields, "test", start)).id


async def _people(sessions, warning_id, unit):
    async with sessions() as session:
        return sorted(await notifications(session, warning_id, unit_code=unit, recipient_kind="person"),
                      key=lambda row: row.address)


async def test_an_absent_responsible_person_s_notice_goes_to_the_deputy(sessions, config, registry):
    await _away(sessions, EAST_VILLAGE, "东村支书", NOON - timedelta(hours=1), 2)
    async with sessions() as session, session.begin():
        result = await accept(session, make_warning(), config, NOON)
    rows = await _people(sessions, result.warning.id, EAST_VILLAGE)
    async with sessions() as session:
        deputy = await contact_id(session, EAST_VILLAGE, "东村主任")
        messages = (await session.get(Warning, result.warning.id)).messages
    # One row, to the 主任's phone, in place of the 支书 (no second row for the 主任's own duty).
    assert [(row.address, row.recipient_key, row.recipient_name) for row in rows] == [
        ("13900000009", f"{EAST_VILLAGE}:{deputy}", "东村主任（代 东村支书，请假至 6月3日 09:00）")]
    [row] = rows
    assert row.payload["role"] == "responsible"
    assert row.payload["duty"] == f"您代 东村支书（请假） 履行 东村 防汛责任人职责（《{EAST_VILLAGE}flood_plan》）"
    _, text = compose(row.payload, messages, row.recipient_name)
    assert text.startswith("东村主任（代 东村支书，请假至 6月3日 09:00）：")
    assert "您代 东村支书（请假） 履行 东村 防汛责任人职责" in text
    # The deputy's 叫应 is the row's.
    async with sessions() as session, session.begin():
        await record_ack(session, await session.get(Notification, row.id), NOON + timedelta(minutes=3), "link")
    async with sessions() as session:
        assert (await session.get(Notification, row.id)).acked_at == NOON + timedelta(minutes=3)


async def test_outside_the_absence_the_person_is_told_themself(sessions, config, registry):
    await _away(sessions, EAST_VILLAGE, "东村支书", NOON + timedelta(hours=1), 1)
    for number, at in enumerate((NOON, NOON + timedelta(days=1, hours=1))):  # before it, and once it has ended
        async with sessions() as session, session.begin():
            result = await accept(session, make_warning(f"zz-{number}", sent=at - timedelta(minutes=5),
                                                        expires=at + timedelta(hours=6)), config, at)
        rows = await _people(sessions, result.warning.id, EAST_VILLAGE)
        assert [(row.address, row.recipient_name) for row in rows] == [
            ("13900000008", "东村支书"), ("13900000009", "东村主任")], at
        assert rows[0].payload["duty"].startswith("您是 东村 防汛责任人")


async def test_a_named_ab_person_elsewhere_is_told_for_the_absent_unit_beside_their_own_duty(sessions, config,
                                                                                              registry):
    await _away(sessions, EAST_VILLAGE, "东村支书", NOON - timedelta(hours=1), 1, deputy=(DISTRICT_A, "甲区副区长"),
                kind="trip")
    async with sessions() as session, session.begin():
        result = await accept(session, make_warning(), config, NOON)
    village = await _people(sessions, result.warning.id, EAST_VILLAGE)
    district = await _people(sessions, result.warning.id, DISTRICT_A)
    assert [(row.address, row.recipient_name) for row in village] == [
        ("13900000002", "甲区副区长（代 东村支书，出差至 6月2日 09:00）"), ("13900000009", "东村主任")]
    assert village[0].payload["duty"].startswith("您代 东村支书（出差） 履行 东村 防汛责任人职责")
    # The same phone is also told as 甲区副区长: two duties, two answers.
    assert ("13900000002", "甲区副区长") in [(row.address, row.recipient_name) for row in district]


async def test_with_nobody_to_stand_in_the_absent_person_is_told_marked(sessions, config, registry):
    await _away(sessions, DISTRICT_B, "乙区区长", NOON - timedelta(days=1), 3)  # 乙区's 副区长 is of a withdrawn plan
    async with sessions() as session, session.begin():
        result = await accept(session, make_warning(), config, NOON)
    rows = await _people(sessions, result.warning.id, DISTRICT_B)
    assert [(row.address, row.recipient_name, row.status) for row in rows] == [
        ("13900000003", "乙区区长（请假至 6月3日 10:00，无人代理）", "pending")]


async def test_a_cancelled_absence_changes_nothing(client, sessions, config, registry, tokens):
    absence = await _away(sessions, EAST_VILLAGE, "东村支书", NOON - timedelta(hours=1), 2)
    response = await client.post(f"/api/absences/{absence}/cancel", headers=bearer(tokens["editor"]))
    assert response.status == 200, await response.text()
    async with sessions() as session, session.begin():
        result = await accept(session, make_warning(), config, NOON + timedelta(hours=1))
    rows = await _people(sessions, result.warning.id, EAST_VILLAGE)
    assert [row.recipient_name for row in rows] == ["东村支书", "东村主任"]


async def test_an_escalation_to_an_absent_person_goes_to_their_stand_in(sessions, config, registry):
    # 三号街道主任 has no address: his notice is escalated at once to 乙区, whose 区长 is away on a trip.
    await _away(sessions, DISTRICT_B, "乙区区长", NOON - timedelta(hours=1), 1, deputy=(DISTRICT_A, "甲区副区长"),
                kind="trip")
    async with sessions() as session, session.begin():
        await accept(session, make_warning(), config, NOON)
    async with sessions() as session, session.begin():
        assert await escalate_due(session, NOON, config) == 1
    async with sessions() as session:
        [up] = await notifications(session, purpose="escalation")
    assert (up.unit_code, up.address, up.recipient_name) == \
        (DISTRICT_B, "13900000002", "甲区副区长（代 乙区区长，出差至 6月2日 09:00）")
    assert up.payload["duty"] == f"您代 乙区区长（出差） 履行 乙区 防汛责任人职责（《{DISTRICT_B}flood_plan》）"


# --- the API ----------------------------------------------------------------------------------------------

async def _ids(sessions):
    async with sessions() as session:
        return (await contact_id(session, EAST_VILLAGE, "东村支书"), await contact_id(session, EAST_VILLAGE, "东村主任"),
                await contact_id(session, DISTRICT_A, "甲区副区长"))


async def _audit(sessions, action):
    async with sessions() as session:
        return (await session.execute(select(AuditRecord).where(AuditRecord.action == action)
                                      .order_by(AuditRecord.id))).scalars().all()


@pytest.mark.parametrize("body, field, words", [
    ({"kind": "holiday"}, "kind", "leave（请假）或 trip（出差）"),
    ({"kind": {"a": 1}}, "kind", "leave（请假）或 trip（出差）"),   # the fuzzer's: a 500 once
    ({"kind": ["leave"]}, "kind", "leave（请假）或 trip（出差）"),
    ({"ends_at": "2026-06-01T09:00:00+08:00"}, "ends_at", "结束时间应晚于开始时间"),
    ({"starts_at": "明天"}, "starts_at", "无法读取"),
    ({"deputy_contact_id": "李四"}, "deputy_contact_id", "应为联系人编号"),
    ({"deputy_contact_id": 999999}, "deputy_contact_id", "联系人 999999 不存在"),
    ({"deputy_contact_id": 358843661447822}, "deputy_contact_id", "联系人 358843661447822 不存在"),  # beyond INTEGER
    ({"deputy_contact_id": "self"}, "deputy_contact_id", "不能是请假者本人"),
    ({"reason": "事" * 201}, "reason", "不超过 200 字"),
    ({"note": "x"}, "note", "不是可填写的字段"),
])
async def test_a_bad_absence_is_refused_naming_the_field_and_nothing_is_written(client, sessions, registry, tokens,
                                                                                body, field, words):
    zhang, _, _ = await _ids(sessions)
    fields = {"kind": "leave", "starts_at": "2026-06-01T10:00:00+08:00", "ends_at": "2026-06-03", **body}
    if fields.get("deputy_contact_id") == "self":
        fields["deputy_contact_id"] = zhang
    response = await client.post(f"/api/contacts/{zhang}/absences", json=fields, headers=bearer(tokens["editor"]))
    assert response.status == 400
    error = await response.json()
    assert error["field"] == field and words in error["detail"], error
    listed = await client.get(f"/api/contacts/{zhang}/absences", headers=bearer(tokens["viewer"]))
    assert (await listed.json())["items"] == []
    assert await _audit(sessions, "absence.create") == []


async def test_absences_are_registered_listed_shown_as_away_and_cancelled_with_their_audit(client, sessions, registry,
                                                                                           tokens, clock):
    zhang, zhuren, ab = await _ids(sessions)
    editor, viewer = bearer(tokens["editor"]), bearer(tokens["viewer"])
    body = {"kind": "leave", "starts_at": "2026-06-01T08:00:00+08:00", "ends_at": "2026-06-02", "reason": "探亲"}
    assert (await client.post(f"/api/contacts/{zhang}/absences", json=body, headers=viewer)).status == 403
    response = await client.post(f"/api/contacts/{zhang}/absences", json=body, headers=editor)
    assert response.status == 201, await response.text()
    created = await response.json()
    assert (created["contact_name"], created["kind_label"], created["in_force"], created["deputy_contact_id"]) == \
        ("东村支书", "请假", True, None)
    assert created["ends_at"] == "2026-06-02T16:00:00+00:00"  # a bare date includes that day
    later = {**body, "kind": "trip", "starts_at": "2026-06-05", "ends_at": "2026-06-06", "deputy_contact_id": ab}
    second = await (await client.post(f"/api/contacts/{zhang}/absences", json=later, headers=editor)).json()
    listed = await (await client.get(f"/api/contacts/{zhang}/absences", headers=viewer)).json()
    assert [item["id"] for item in listed["items"]] == [second["id"], created["id"]]
    assert listed["items"][0]["deputy_name"] == "甲区副区长"

    away = await (await client.get("/api/absences", headers=viewer)).json()  # the clock: 2026-06-01 10:00
    assert [(item["contact_name"], item["stand_in_contact_id"], item["notified_as"]) for item in away["items"]] == [
        ("东村支书", zhuren, "东村主任（代 东村支书，请假至 6月2日）")]
    trip = await (await client.get("/api/absences", params={"at": "2026-06-05T12:00"}, headers=viewer)).json()
    assert [(item["kind"], item["stand_in_name"]) for item in trip["items"]] == [("trip", "甲区副区长")]
    bad = await client.get("/api/absences", params={"at": "昨天"}, headers=viewer)
    assert bad.status == 400 and (await bad.json())["field"] == "at"

    clock.advance(hours=1)
    cancelled = await client.post(f"/api/absences/{created['id']}/cancel", json={"reason": "提前返岗"},
                                  headers=editor)
    assert cancelled.status == 200
    assert (await cancelled.json())["cancelled_at"] == (START + timedelta(hours=1)).isoformat()
    assert (await client.post(f"/api/absences/{created['id']}/cancel", headers=editor)).status == 409
    assert (await (await client.get("/api/absences", headers=viewer)).json())["items"] == []
    [made, _] = await _audit(sessions, "absence.create")
    assert made.target_id == str(created["id"]) and made.before is None
    assert made.after["contact_id"] == zhang and made.after["reason"] == "探亲"
    [undone] = await _audit(sessions, "absence.cancel")
    assert undone.before["cancelled_at"] is None and undone.after["cancelled_at"] is not None
    assert undone.after["cancel_reason"] == "提前返岗"
    assert undone.actor == made.actor and made.actor.endswith(":editor-token")


async def test_only_a_responsible_person_or_deputy_registers_an_absence_and_unknown_ones_are_404(client, sessions,
                                                                                                 registry, tokens):
    editor = bearer(tokens["editor"])
    body = {"kind": "leave", "starts_at": "2026-06-01", "ends_at": "2026-06-02"}
    assert (await client.post("/api/contacts/999999/absences", json=body, headers=editor)).status == 404
    assert (await client.get("/api/contacts/999999/absences", headers=editor)).status == 404
    assert (await client.post("/api/absences/999999/cancel", headers=editor)).status == 404


async def test_the_dry_run_counts_the_stand_ins_at_the_clock(client, sessions, registry, tokens, clock):
    await _away(sessions, EAST_VILLAGE, "东村支书", START - timedelta(hours=1), 1)
    dry = {"dry_run": "1"}
    seen = await (await client.post("/api/warnings", params=dry, json=manual_form(), headers=bearer(tokens["editor"]))
                  ).json()
    # 甲区 with everything below it: 东村's 主任 stands in for its 支书 (one recipient where there were two).
    assert (seen["recipients"]["stand_ins"], seen["recipients"]["persons"]) == (1, 6)
    clock.advance(days=1)
    later = manual_form(onset="2026-06-02T10:00:00+08:00", expires="2026-06-02T16:00:00+08:00")
    seen = await (await client.post("/api/warnings", params=dry, json=later, headers=bearer(tokens["editor"]))).json()
    assert (seen["recipients"]["stand_ins"], seen["recipients"]["persons"]) == (0, 7)


# --- the board --------------------------------------------------------------------------------------------

async def test_the_board_shows_the_row_went_to_the_deputy_instead(client, sessions, config, registry, tokens):
    await _away(sessions, EAST_VILLAGE, "东村支书", NOON - timedelta(days=1), 2)
    async with sessions() as session, session.begin():
        result = await accept(session, make_warning(), config, NOON)
    response = await client.get(f"/api/board/threads/{result.warning.thread_id}/recipients",
                                params={"q": "东村支书"}, headers=bearer(tokens["viewer"]))
    assert response.status == 200, await response.text()
    names = [row["recipient_name"] for row in (await response.json())["items"]]
    assert names == ["东村主任（代 东村支书，请假至 6月2日 10:00）"]


# --- the command ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
async def test_contacts_away_registers_lists_and_cancels(dialect, tmp_path):
    from support.command_line import registry_database, run

    async with registry_database(dialect, tmp_path) as url:
        # A fresh database numbers the registry's contacts in order: 东村支书 is 10, 甲区副区长 2.
        status, out, err = run("--database-url", url, "contacts", "away", "10", "--from", "2030-12-08",
                               "--to", "2030-12-09", "--reason", "探亲", "--deputy", "2")
        assert status == 0, err
        assert "东村 东村支书 请假 2030-12-08 00:00 至 2030-12-10 00:00，期间预警通知由 甲区副区长（2）代理" in out
        status, out, err = run("--database-url", url, "contacts", "away", "--list", "--at", "2030-12-09T20:00",
                               "--json")
        assert status == 0, err
        [item] = json.loads(out)
        assert (item["contact_name"], item["notified_as"]) == ("东村支书", "甲区副区长（代 东村支书，请假至 12月9日）")
        status, out, err = run("--database-url", url, "contacts", "away", "10", "--from", "2030-12-09",
                               "--to", "2030-12-08")
        assert status == 2 and "ends_at：结束时间应晚于开始时间" in err
        status, out, err = run("--database-url", url, "contacts", "back", str(item["id"]))
        assert status == 0, err
        status, out, err = run("--database-url", url, "contacts", "away", "--list", "--at", "2030-12-09T20:00")
        assert status == 0 and "此时无人请假或出差" in out
