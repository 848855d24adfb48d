"""No 500 for bad input: each hostile or out-of-range input answers 4xx naming its field and writes nothing, on both
databases (the cases of issue 17: deep or huge JSON on every JSON route, the calendar's ends, a list as `kind`, ids
beyond the key columns, a plan approved in 9999, NUL in text, a 256-character static file name, a 5,000-digit
`corrects_id` in the journal form)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select
from support.api_fixtures import PASSWORD, bearer, sign_in
from support.warning_api import manual_form
from support.warning_factories import warning_settings

from fangxun.api.app import create_app
from fangxun.schema import metadata

DEEP = "[" * 50_000 + "]" * 50_000
DEEP_FIELD = '{"note": ' + DEEP + "}"
HUGE = '{"note": ' + "7" * 5_000 + "}"
CALENDAR_ENDS = ("0001-01-01", "9999-12-31T23:59:59-12:00")
DECISION = {"action": "activate", "level": "IV", "decided_by": "市防指"}


@pytest.fixture
def config(settings):
    return warning_settings(settings, "http://127.0.0.1:9/hook")


async def table_counts(sessions) -> dict[str, int]:
    """The number of rows of every table: bad input must leave them all as they were."""
    async with sessions() as session:
        return {name: (await session.execute(select(func.count()).select_from(table))).scalar_one()
                for name, table in metadata.tables.items()}


@pytest.fixture
async def world(client, tokens, registry):
    """An event with a journal entry, a warning and a plan, made through the API; their ids."""
    admin = bearer(tokens["admin"])
    event = await (await client.post("/api/events", json={"kind": "snow_ice"}, headers=admin)).json()
    posted = await client.post("/api/warnings", json=manual_form(), headers=admin)
    assert posted.status == 201, await posted.text()
    entry = await client.post(f"/api/events/{event['id']}/journal", headers=admin,
                              json={"department": "water", "action": "report", "text": "巡查"})
    assert entry.status == 201, await entry.text()
    plan = await client.post("/api/plans", headers=admin, json={
        "unit_code": "410102002002", "kind": "other", "title": "西村其他预案", "approved_on": "2024-01-01"})
    assert plan.status == 201, await plan.text()
    return {"id": event["id"], "event": event["id"], "warning": (await posted.json())["warning_id"],
            "entry": (await entry.json())["id"], "plan": (await plan.json())["id"], "admin": admin}


async def refused(response, field: str, status: int = 400) -> dict:
    """The JSON error of a refused request, which names `field`."""
    body = await response.json()
    assert response.status == status, body
    assert body["error"] == "bad_input" and body["field"] == field, body
    assert f"{field}：" in body["detail"] if field else body["detail"].startswith("请求体"), body
    return body


def json_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every route under /api that takes a body, but the signed gateway callbacks."""
    found = []
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method in ("POST", "PUT", "PATCH") and path.startswith("/api/") and "/callbacks/" not in path:
            found.append((route.method, path))
    return sorted(set(found))


def reads_body(method: str, template: str) -> bool:
    """False for the routes that answer before any JSON body: the journal only grows, a 叫应 link's token is checked,
    the list imports take a file (415 for JSON)."""
    return (not (method != "POST" and "/journal" in template) and not template.startswith("/api/acks/")
            and not template.endswith("/import"))


def _fill(template: str, world: dict) -> str:
    ids = {"id": world["event"], "entry_id": world["entry"], "reply_id": 1, "token": "x" * 43, "desk": "water",
           "duty_date": "2026-07-01", "shift": "全天"}
    if template.startswith("/api/plans/"):
        ids["id"] = world["plan"]
    elif template.startswith("/api/warnings/"):
        ids["id"] = world["warning"]
    return template.format(**ids)


async def test_deep_and_huge_json_is_refused_by_every_json_route(client, sessions, world):
    routes = json_routes(client.app)
    assert len(routes) >= 12 and ("PATCH", "/api/plans/{id}") in routes   # the walk found them
    before = await table_counts(sessions)
    for method, template in routes:
        path = _fill(template, world)
        for body, field in ((DEEP, ""), (DEEP_FIELD, "note"), (HUGE, "note")):
            response = await client.request(method, path, data=body, headers={
                **world["admin"], "Content-Type": "application/json"})
            if reads_body(method, template):
                await refused(response, field)
            else:
                assert 400 <= response.status < 500, (method, path)
    assert await table_counts(sessions) == before


async def test_a_bare_json_value_is_refused_by_every_json_route(client, sessions, world):
    before = await table_counts(sessions)
    for method, template in json_routes(client.app):
        path = _fill(template, world)
        for body in ("null", "0", '"text"', "true", "[]"):
            response = await client.request(method, path, data=body, headers={
                **world["admin"], "Content-Type": "application/json"})
            assert 400 <= response.status < 500, (method, path, body, response.status)
    assert await table_counts(sessions) == before


@pytest.mark.parametrize("body", ['{"note": NaN}', '{"note": 1e999}', '{"note": -Infinity}',
                                  '{"note": 9223372036854775808}'])
async def test_numbers_nothing_can_store_are_refused_by_name(client, world, body):
    response = await client.post(f"/api/events/{world['event']}/close", data=body,
                                 headers={**world["admin"], "Content-Type": "application/json"})
    assert "超出可处理的范围" in (await refused(response, "note"))["detail"]


@pytest.mark.parametrize("moment", CALENDAR_ENDS)
async def test_the_calendars_ends_are_refused_in_every_time_field(client, sessions, world, moment):
    event, admin = world["event"], world["admin"]
    before = await table_counts(sessions)
    cases = [
        (client.post("/api/events", json={"kind": "rainfall", "started_at": moment}, headers=admin), "started_at"),
        (client.post(f"/api/events/{event}/close", json={"ended_at": moment}, headers=admin), "ended_at"),
        (client.post(f"/api/events/{event}/decisions", json={**DECISION, "decided_at": moment}, headers=admin),
         "decided_at"),
        (client.post("/api/warnings", json=manual_form(onset=moment), headers=admin), "onset"),
        (client.post("/api/warnings", json=manual_form(expires=moment), headers=admin), "expires"),
        (client.post("/api/warnings", params={"dry_run": "1"}, json=manual_form(onset=moment), headers=admin),
         "onset"),
        (client.get("/api/warnings", params={"since": moment}, headers=admin), "since"),
        (client.get("/api/plans", params={"due_before": moment[:10]}, headers=admin), "due_before"),
    ]
    for request, field in cases:
        body = await refused(await request, field)
        assert "超出可用范围" in body["detail"], body
    assert await table_counts(sessions) == before


@pytest.mark.parametrize("moment", CALENDAR_ENDS)
async def test_the_calendars_ends_are_refused_on_the_pages(client, sessions, world, user, moment):
    assert (await sign_in(client, user, PASSWORD)).status == 303
    before = await table_counts(sessions)
    local = moment[:16] if "T" in moment else moment
    response = await client.post(f"/events/{world['event']}/decisions", data={**DECISION, "decided_at": moment})
    assert response.status == 400 and "超出可用范围" in await response.text()
    form = {"event": "暴雨", "colour": "red", "status": "Actual", "onset": local, "expires": "2026-06-01T16:00",
            "description": "甲区有暴雨。", "unit_codes": "410102000000"}
    response = await client.post("/warnings/new", data=form)
    assert response.status == 400 and "超出可用范围" in await response.text()
    preview = await (await client.post("/warnings/new/preview", data=form)).json()
    assert preview["valid"] is False and preview["field"] == "onset" and "超出可用范围" in preview["detail"]
    assert await table_counts(sessions) == before


@pytest.mark.parametrize("kind", [["rainfall"], {"rainfall": 1}, 7, True])
async def test_a_kind_that_is_not_text_is_refused(client, sessions, world, kind):
    before = await table_counts(sessions)
    await refused(await client.post("/api/events", json={"kind": kind}, headers=world["admin"]), "kind")
    assert await table_counts(sessions) == before


@pytest.mark.parametrize("value", [2**31, 2**63 - 1, 2**63, int("9" * 4000), 0, -1, 1.5, "12", True])
async def test_ids_beyond_the_key_columns_are_refused_in_bodies(client, sessions, world, value):
    event, admin = world["event"], world["admin"]
    before = await table_counts(sessions)
    await refused(await client.post(f"/api/events/{event}/warnings", json={"warning_id": value}, headers=admin),
                  "warning_id")
    await refused(await client.post(f"/api/events/{event}/journal", headers=admin, json={
        "department": "water", "action": "correction", "text": "更正", "corrects_id": value}), "corrects_id")
    assert await table_counts(sessions) == before


@pytest.mark.parametrize("raw", ["2147483648", "9" * 5_000, "0", "١٢", "²"])
async def test_ids_beyond_the_key_columns_are_refused_in_paths(client, world, raw):
    admin = world["admin"]
    for path, field in ((f"/api/warnings/{raw}", "id"), (f"/api/events/{raw}/journal", "id"),
                        (f"/api/events/{world['event']}/journal/{raw}", "entry_id"), (f"/api/plans/{raw}", "id")):
        await refused(await client.get(path, headers=admin), field)
    response = await client.get(f"/cap/{raw}.xml", headers=admin)
    assert response.status in (400, 404)


@pytest.mark.parametrize("raw", ["2147483648", "9" * 5_000, "²", "-1"])
async def test_ids_beyond_the_key_columns_are_refused_in_queries(client, world, raw):
    for view in ("groups", "recipients"):
        response = await client.get(f"/api/board/threads/{world['warning']}/{view}", params={"message": raw},
                                    headers=world["admin"])
        await refused(response, "message")


@pytest.mark.parametrize(("field", "value"), [("approved_on", "9999-06-01"), ("approved_on", "0001-01-01"),
                                              ("last_reviewed_on", "9999-12-31")])
async def test_a_plan_dated_off_the_calendar_is_refused(client, sessions, world, field, value):
    before = await table_counts(sessions)
    body = {"unit_code": "410102002001", "kind": "other", "title": "东村其他预案", field: value}
    response = await client.post("/api/plans", json=body, headers=world["admin"])
    assert "超出可用范围" in (await refused(response, field))["detail"]
    if field == "approved_on":
        response = await client.patch(f"/api/plans/{world['plan']}", json={field: value}, headers=world["admin"])
        await refused(response, field)
    response = await client.post(f"/api/plans/{world['plan']}/reviews", json={"reviewed_on": value},
                                 headers=world["admin"])
    await refused(response, "reviewed_on")
    assert await table_counts(sessions) == before


def _without_sessions(counts: dict) -> dict:
    return {name: count for name, count in counts.items() if name != "page_sessions"}


async def test_nul_and_lone_surrogates_are_refused_in_every_text_field(client, sessions, world, user):
    event, plan, admin = world["event"], world["plan"], world["admin"]
    before = await table_counts(sessions)
    for bad in ("a\x00b", "\ud800"):
        cases = [
            (client.post("/api/plans", headers=admin, json={"unit_code": "410102002001", "kind": "other",
                                                            "title": bad}), "title"),
            (client.patch(f"/api/plans/{plan}", json={"owner_org": bad}, headers=admin), "owner_org"),
            (client.patch(f"/api/plans/{plan}", headers=admin, json={"contacts": [{"name": bad}]}),
             "contacts[0].name"),
            (client.post("/api/events", json={"kind": "rainfall", "name": bad}, headers=admin), "name"),
            (client.post(f"/api/events/{event}/journal", headers=admin,
                         json={"department": "water", "action": "report", "text": bad}), "text"),
            (client.post(f"/api/events/{event}/decisions", json={**DECISION, "note": bad}, headers=admin), "note"),
            (client.post("/api/warnings", json=manual_form(description=bad), headers=admin), "description"),
            (client.post("/api/warnings", json=manual_form(areas={"description": bad}), headers=admin),
             "areas.description"),
            (client.post("/api/warnings", json={**manual_form(), bad: 1}, headers=admin), ""),
        ]
        for request, field in cases:
            await refused(await request, field)
    # The query (a lone surrogate cannot even be sent in a URL) and forms: sign-in and a signed-in page's form.
    await refused(await client.get("/api/events", params={"kind": "a\x00"}, headers=admin), "kind")
    await refused(await client.get("/api/units/search", params={"q": "a\x00"}, headers=admin), "q")
    response = await client.post("/login", data={"username": "duty01\x00", "password": PASSWORD})
    assert response.status == 400 and "username：" in await response.text()
    assert (await sign_in(client, user, PASSWORD)).status == 303
    response = await client.post(f"/events/{event}/journal", data={"department": "water", "action": "report",
                                                                    "text": "巡查\x00"})
    assert response.status == 400 and "text：" in await response.text()
    after = await table_counts(sessions)
    signed_in = {**before, "audit_records": before["audit_records"] + 1}   # the sign-in's audit row, no other
    assert _without_sessions(after) == _without_sessions(signed_in)


async def test_a_nul_in_the_path_names_nothing(client, world):
    for path in ("/api/units/4101%000000000", "/ack/abc%00def", "/static/a%00b.js"):
        response = await client.get(path, headers=world["admin"])
        assert response.status in (400, 404), path


async def test_a_long_static_file_name_is_404_without_credentials_or_traceback(client, caplog):
    caplog.set_level(logging.DEBUG)
    for path in ("/static/" + "a" * 256, "/static/" + "a" * 256 + ".js", "/static/leaflet/" + "b" * 300 + ".css",
                 "/static/x/" + "c" * 256 + "/d.js"):
        response = await client.get(path)
        assert response.status == 404, path
        assert "Traceback" not in await response.text()
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR or record.exc_info]
    assert (await client.get("/static/favicon.ico")).status == 200


async def test_a_5000_digit_corrects_id_in_the_journal_form_is_named(client, sessions, world, user):
    assert (await sign_in(client, user, PASSWORD)).status == 303
    before = await table_counts(sessions)
    for raw in ("9" * 5_000, "2147483648", "0", "١"):
        response = await client.post(f"/events/{world['event']}/journal", data={
            "department": "water", "action": "correction", "text": "更正", "corrects_id": raw})
        page = await response.text()
        assert response.status == 400, raw
        assert "corrects_id" in page or "被更正条目" in page, raw
    assert await table_counts(sessions) == before


async def test_a_real_fault_is_500_with_a_request_id_in_the_answer_and_the_log(aiohttp_client, engine, config,
                                                                                 tokens, caplog):
    async def boom(_request):
        raise RuntimeError("secret internals")

    app = create_app(engine, config)
    app.router.add_get("/api/boom", boom)
    client = await aiohttp_client(app)
    response = await client.get("/api/boom", headers=bearer(tokens["viewer"]))
    body = await response.json()
    assert response.status == 500 and body["error"] == "internal_error"
    number = body["request_id"]
    assert len(number) == 16 and number in body["detail"] and response.headers["X-Request-Id"] == number
    [record] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert number in record.getMessage() and record.exc_info is not None
    assert "secret internals" not in await response.text()


@pytest.mark.parametrize(("content_type", "body"), [
    ("multipart/form-data", b"no boundary"), ("multipart/form-data; boundary=zz", b"--zz\r\nbroken"),
    ("application/x-www-form-urlencoded", b"text=\xff\xfe"), ("application/x-www-form-urlencoded; charset=klingon",
                                                              b"text=a")])
async def test_an_unreadable_form_is_refused(client, sessions, world, user, content_type, body):
    assert (await sign_in(client, user, PASSWORD)).status == 303
    before = await table_counts(sessions)
    for path in (f"/events/{world['event']}/journal", "/login"):
        response = await client.post(path, data=body, headers={"Content-Type": content_type})
        assert response.status == 400 and "不是可读的表单" in await response.text(), path
    assert await table_counts(sessions) == before


async def test_a_field_name_with_nul_is_refused_beside_a_list_of_numbers(client, world):
    response = await client.post("/api/warnings", data='{"areas": {"polygon\\u0000": [113.1, 34.2]}}',
                                 headers={**world["admin"], "Content-Type": "application/json"})
    assert "字段名" in (await refused(response, "areas"))["detail"]
