"""A seeded fuzzer over every route of the app: hostile path, query, JSON and form values never answer 5xx (a 500
is left only for a real fault), on both databases."""

from __future__ import annotations

import json
import random
import re

import pytest
from support.api_fixtures import CSRF, PASSWORD, bearer, sign_in
from support.warning_api import manual_form
from support.warning_factories import warning_settings

REQUESTS_PER_ROUTE = 12
HOSTILE_TEXT = ["", " ", "\x00", "a\x00b", "0", "-1", "1", "2147483648", "9" * 40, "1e999", "NaN", "Infinity",
                "0001-01-01", "9999-12-31T23:59:59-12:00", "2026-02-30", "²", "١٢", "a" * 300, "<script>", "'--",
                "%", "\\", "[]", "{}", "true", "410102000000", "4101", "red", "红", "暴雨", "rainfall", "IV",
                "activate", "𝔘", "\u202e", "\ufeff", "2026-06-01T10:00:00+08:00"]
HOSTILE_JSON = [*HOSTILE_TEXT, None, True, False, 0, -1, 1, 1.5, -0.0, 2**31, 2**63 - 1, [], {}, ["410102000000"],
                [None], {"a": 1}, [[113.0, 34.0]], {"type": "Polygon", "coordinates": [[[1, 2], [3, 4]]]}]
FIELDS = ["kind", "name", "started_at", "ended_at", "note", "warning_id", "action", "level", "decided_by",
          "decided_at", "department", "unit_code", "text", "figures", "corrects_id", "unit_codes", "event", "colour",
          "status", "onset", "expires", "headline", "description", "instruction", "areas", "polygon", "title",
          "owner_org", "approved_on", "last_reviewed_on", "review_cycle_months", "version", "lifecycle", "contacts",
          "reviewed_on", "summary", "revised", "withdrawn_on", "reason", "username", "password", "next",
          "area_description", "role", "position", "phone", "channels", "plan_id", "capacity", "address", "lon",
          "lat"]
PARAMETERS = ["since", "page", "per_page", "year", "root", "depth", "q", "limit", "hours", "days", "format",
              "dry_run", "lenient", "state", "due_before", "kind", "status", "level", "colour", "event", "corrects",
              "next", "warning", "message", "filter", "group", "parent", "department", "target_type", "target_id",
              "actor"]
# Left out: the gateways' callbacks (signed with secrets a test run does not have), signing out (ends the run's own
# session) and readiness (503 by design: no dispatcher runs here).
SKIPPED = re.compile(r"^/api/callbacks/|^/logout$|^/api/ready$")


@pytest.fixture
def config(settings):
    return warning_settings(settings, "http://127.0.0.1:9/hook")


def _path(template: str, rng: random.Random, ids: list[str]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1).split(":")[0]
        choices = ids + ["0", "2147483648", "9" * 30, "x", "²"] if name != "code" else [
            "410102000000", "4101", "999999999999", "x"]
        if name in ("token", "channel"):
            choices = ["x" * 43, "hook", "a%00b", "..%2f"]
        if name == "filename":
            choices = ["leaflet.js", "a" * 300, "../../etc/passwd", "%2e%2e/x"]
        return rng.choice(choices)
    return re.sub(r"\{([^}]+)\}", value, template)


def _json_body(rng: random.Random) -> str:
    body = {rng.choice(FIELDS): rng.choice(HOSTILE_JSON) for _ in range(rng.randint(0, 6))}
    if rng.random() < 0.3:
        body = {**manual_form(), **body}
    return json.dumps(body, ensure_ascii=rng.random() < 0.5)


def _form(rng: random.Random) -> dict:
    return {rng.choice(FIELDS): rng.choice(HOSTILE_TEXT) for _ in range(rng.randint(0, 6))}


async def test_hostile_requests_to_every_route_never_answer_5xx(client, tokens, registry, user):
    admin = bearer(tokens["admin"])
    event = await (await client.post("/api/events", json={"kind": "snow_ice"}, headers=admin)).json()
    warning = await (await client.post("/api/warnings", json=manual_form(), headers=admin)).json()
    ids = [str(event["id"]), str(warning["warning_id"]), "1"]
    assert (await sign_in(client, user, PASSWORD)).status == 303
    own = {"Origin": str(client.make_url("")).rstrip("/")}
    rng = random.Random(17)
    routes = sorted({(route.method, route.resource.canonical) for route in client.app.router.routes()
                     if route.method != "HEAD" and not SKIPPED.search(route.resource.canonical)})
    assert len(routes) > 40
    failures = []
    for method, template in routes:
        for _ in range(REQUESTS_PER_ROUTE):
            path = _path(template, rng, ids)
            params = {rng.choice(PARAMETERS): rng.choice(HOSTILE_TEXT).replace("\x00", "%00")
                      for _ in range(rng.randint(0, 3))}
            api = template.startswith(("/api/", "/cap/"))
            headers = {**(admin if api and rng.random() < 0.7 else {}), **CSRF, **own}
            if method in ("GET", "DELETE"):
                response = await client.request(method, path, params=params, headers=headers, allow_redirects=False)
            elif api:
                response = await client.request(method, path, params=params, data=_json_body(rng),
                                                headers={**headers, "Content-Type": "application/json"},
                                                allow_redirects=False)
            else:
                response = await client.request(method, path, params=params, data=_form(rng), headers=headers,
                                                allow_redirects=False)
            if response.status >= 500:
                failures.append((response.status, method, path, params, (await response.text())[:200]))
    assert not failures, failures[:10]
