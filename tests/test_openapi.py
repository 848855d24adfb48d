"""The OpenAPI document: every /api route of the app described, valid OpenAPI 3.1, its request schemas the ones the
routes validate with (and refusing what they refuse), served with its page to anyone, offline."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from pydantic.json_schema import models_json_schema
from support.api_fixtures import bearer

from fangxun.api import routes_events
from fangxun.api.app import create_app
from fangxun.api.openapi import api_routes, openapi_document, undocumented
from fangxun.api.openapi_operations import OPERATIONS
from fangxun.api.openapi_schemas import REF
from fangxun.api.routes_plans import ReviewBody, WithdrawBody
from fangxun.core.db import create_engine
from fangxun.plans.plan_fields import UPDATABLE, ContactFields, PlanFields
from fangxun.settings import load_settings
from fangxun.warnings.delivery.channels.aliyun_protocol import VoiceRecord
from fangxun.warnings.delivery.channels.voice_protocol import CallReport
from fangxun.warnings.duty.roster_edits import PERSON_FIELDS
from fangxun.warnings.events.decisions import DECISION_FIELDS
from fangxun.warnings.events.journal import FIELDS as JOURNAL_FIELDS
from fangxun.warnings.events.sms_reports import CHANGEABLE
from fangxun.warnings.intake.manual_form import FIELDS as WARNING_FIELDS

SMS_SITE = """
[warnings.channels.sms]
kind = "sms"
url = "http://127.0.0.1:9/sms"
token_env = "FX_TEST_SMS_TOKEN"
callback_secret_env = "FX_TEST_SMS_SECRET"
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The application with the packaged settings (no database is reached to build the document)."""
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('openapi')}/unused.db")
    return create_app(engine, load_settings())


@pytest.fixture(scope="module")
def document(app):
    return openapi_document(app)


def schema_of(document: dict, name: str) -> dict:
    return document["components"]["schemas"][name]


def test_every_api_route_of_the_app_is_documented_and_only_those(app, document):
    routes = {(method, path) for method, path, _ in api_routes(app)}
    assert undocumented(app) == []
    assert set(OPERATIONS) == routes
    assert {(method, path) for path, item in document["paths"].items() for method in item} == routes
    assert len(routes) >= 40
    # HEAD is left out because aiohttp answers it for each GET: every HEAD route has its GET.
    heads = {route.resource.canonical for route in app.router.routes()
             if route.method == "HEAD" and route.resource.canonical.startswith("/api/")}
    assert heads <= {path for method, path in routes if method == "get"}


def test_the_document_is_valid_openapi_3_1(document):
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_reference_resolves_and_every_error_reply_has_the_error_shape(document):
    text = repr(document)
    for name in set(re.findall(r"#/components/schemas/(\w+)", text)):
        assert name in document["components"]["schemas"], name
    error = schema_of(document, "Error")
    assert error["required"] == ["error", "detail"] and "field" in error["properties"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, reply in operation["responses"].items():
                if int(status) >= 400:
                    assert reply["content"]["application/json"]["schema"] == {"$ref": REF.format(model="Error")}
            public = operation.get("security") == []
            assert ("401" in operation["responses"]) == (not public or "callbacks" in path), (method, path)


def test_request_schemas_are_generated_from_the_pydantic_models_the_routes_use(document):
    models = [PlanFields, ContactFields, ReviewBody, WithdrawBody, CallReport, VoiceRecord]
    _, generated = models_json_schema([(model, "validation") for model in models], ref_template=REF)
    for model in models:
        documented = schema_of(document, model.__name__)
        expected = generated["$defs"][model.__name__]
        assert documented["required"] == expected["required"]
        assert set(documented["properties"]) == set(expected["properties"]) == set(model.model_fields)
        for name, prop in expected["properties"].items():
            # The document adds descriptions and examples (Chinese labels); the rules are the model's.
            assert {k: v for k, v in documented["properties"][name].items() if k not in ("description", "examples")} \
                == prop
    assert set(schema_of(document, "PlanCreate")["properties"]) == {*PlanFields.model_fields, "contacts"}
    assert set(schema_of(document, "PlanUpdate")["properties"]) == {*UPDATABLE, "contacts"}
    assert schema_of(document, "AliyunVoiceReport")["items"] == {"$ref": REF.format(model="VoiceRecord")}


def test_hand_checked_bodies_document_exactly_the_fields_their_checks_take(document):
    fields = {"WarningForm": WARNING_FIELDS, "JournalEntryBody": JOURNAL_FIELDS, "DecisionBody": DECISION_FIELDS,
              "SmsReportToJournal": CHANGEABLE, "EventOpen": routes_events._OPEN_FIELDS,
              "EventClose": routes_events._CLOSE_FIELDS, "EventLink": routes_events._LINK_FIELDS,
              "DutyLineBody": PERSON_FIELDS}
    for name, taken in fields.items():
        schema = schema_of(document, name)
        assert set(schema["properties"]) == set(taken), name
        assert schema["additionalProperties"] is False, name


def test_choices_of_this_configuration_are_in_the_document(tmp_path, document):
    settings = load_settings()
    assert schema_of(document, "EventOpen")["properties"]["kind"]["enum"] == list(settings.events.kinds)
    assert schema_of(document, "JournalEntryBody")["properties"]["department"]["enum"] == \
        list(settings.warnings.departments)
    # The packaged settings have no SMS channel taking replies; a site file that adds one names it.
    assert "enum" not in channel_parameter(document, "/api/callbacks/sms/{channel}")
    site = tmp_path / "site.toml"
    site.write_text(SMS_SITE, encoding="utf-8")
    configured = openapi_document(create_app(create_engine(f"sqlite:///{tmp_path}/unused.db"), load_settings(site)))
    assert channel_parameter(configured, "/api/callbacks/sms/{channel}")["enum"] == ["sms"]
    assert "enum" not in channel_parameter(configured, "/api/callbacks/voice/{channel}")


def channel_parameter(document: dict, path: str) -> dict:
    [parameter] = [p for p in document["paths"][path]["post"]["parameters"] if p["name"] == "channel"]
    return parameter["schema"]


# Each JSON body the routes check field by field refuses a field it does not take, naming it, before it looks
# anything up: what the closed schemas (additionalProperties: false) say.
CLOSED_BODIES = [
    ("post", "/api/plans"), ("patch", "/api/plans/1"), ("post", "/api/plans/1/reviews"),
    ("post", "/api/plans/1/withdraw"), ("post", "/api/warnings"), ("post", "/api/warnings/1/units"),
    ("post", "/api/events"), ("post", "/api/events/1/close"), ("post", "/api/events/1/warnings"),
    ("post", "/api/events/1/decisions"), ("post", "/api/events/1/journal"),
    ("post", "/api/events/1/sms-replies/1/journal"), ("put", "/api/duty/roster/water/2026-07-01/全天"),
]


def _template(path: str) -> str:
    if path.startswith("/api/duty/roster/"):
        return "/api/duty/roster/{desk}/{duty_date}/{shift}"
    return re.sub(r"/\d+(?=/|$)", lambda m: "/{id}", path, count=1).replace("/{id}/sms-replies/1/",
                                                                              "/{id}/sms-replies/{reply_id}/")


async def test_closed_bodies_refuse_an_unknown_field_naming_it(client, tokens, document):
    for method, path in CLOSED_BODIES:
        operation = document["paths"][_template(path)][method]
        reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert schema_of(document, reference.rsplit("/", 1)[-1])["additionalProperties"] is False
        response = await client.request(method, path, json={"not_a_field": 1}, headers=bearer(tokens["editor"]))
        body = await response.json()
        assert response.status == 400, (method, path, body)
        assert "400" in operation["responses"]
        # pydantic lists every problem (missing fields first); the unknown one is among them, named.
        named = {body.get("field")} | {problem["field"] for problem in body.get("errors", [])}
        assert body["error"] == "bad_input" and "not_a_field" in named, (method, path, body)


async def test_the_document_and_its_page_are_served_to_anyone_offline(client):
    response = await client.get("/api/openapi.json")
    assert response.status == 200 and response.content_type == "application/json"
    served = await response.json()
    assert served["openapi"] == "3.1.0" and "/api/plans" in served["paths"]

    page = await client.get("/api/docs")
    html = await page.text()
    assert page.status == 200 and page.content_type == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "script-src" not in policy and policy.startswith("default-src 'none'")
    assert "<script" not in html
    # Nothing from elsewhere: every address on the page is one of this service's.
    assert re.findall(r'(?:href|src)="(?!/|#)([^"]*)"', html) == []
    for path, item in served["paths"].items():
        assert path in html
        for operation in item.values():
            assert f'id="{operation["operationId"]}"' in html
    for name in served["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert "<th>参数</th>" in html and "需令牌或登录" in html and "无需令牌" in html


async def test_a_wrong_token_still_gets_the_document_but_not_the_data(client):
    wrong = bearer("not-a-token")
    assert (await client.get("/api/openapi.json", headers=wrong)).status == 200
    assert (await client.get("/api/plans", headers=wrong)).status == 401
