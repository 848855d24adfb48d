"""Page sessions and forms: a write the browser says comes from elsewhere (Origin null, another site's Origin, or no
Origin and another site's Referer) is refused on every cookie-authenticated form; signing out ends the session on
the server, so a copy of the cookie is refused afterwards; cookies are Secure when people use an https public_url."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from support.api_fixtures import CSRF, PASSWORD, bearer, sign_in
from support.warning_api import manual_form
from support.warning_factories import warning_settings

from fangxun.api.app import create_app
from fangxun.api.cookies import COOKIE_NAME
from fangxun.core.page_sessions import PageSession
from fangxun.schema import metadata

EVIL = "http://evil.example"
ELSEWHERE = [{"Origin": "null"}, {"Origin": EVIL}, {"Referer": f"{EVIL}/form.html"},
             {"Origin": "null", "Referer": "{own}/events"}, {"Origin": ""}]
PUBLIC_URL = "https://fangxun.example.gov.cn"


@pytest.fixture
def config(settings):
    return warning_settings(settings, "http://127.0.0.1:9/hook")


def _own(client) -> str:
    return str(client.make_url("")).rstrip("/")


def _headers(template: dict, client) -> dict:
    return {name: value.format(own=_own(client)) for name, value in template.items()}


async def table_counts(sessions) -> dict[str, int]:
    async with sessions() as session:
        return {name: (await session.execute(select(func.count()).select_from(table))).scalar_one()
                for name, table in metadata.tables.items()}


@pytest.fixture
async def ids(client, tokens, registry):
    """An event and a warning, made through the API."""
    admin = bearer(tokens["admin"])
    event = await (await client.post("/api/events", json={"kind": "snow_ice"}, headers=admin)).json()
    posted = await client.post("/api/warnings", json=manual_form(), headers=admin)
    assert posted.status == 201, await posted.text()
    return {"id": event["id"], "event": event["id"], "warning": (await posted.json())["warning_id"]}


def page_forms(app, ids: dict) -> list[str]:
    """Every path outside /api that takes a POST from a signed-in browser (a 叫应 link's form has no session)."""
    paths = set()
    for route in app.router.routes():
        template = route.resource.canonical if route.resource is not None else ""
        if route.method != "POST" or template.startswith(("/api/", "/ack/", "/login", "/logout")):
            continue
        number = ids["warning"] if template.startswith("/warnings/") else ids["event"]
        paths.add(template.format(id=number, reply_id=1))
    return sorted(paths)


def _session_cookie(client):
    return next((cookie for cookie in client.session.cookie_jar if cookie.key == COOKIE_NAME), None)


async def test_every_cookie_form_refuses_writes_from_elsewhere(client, sessions, user, ids):
    assert (await sign_in(client, user, PASSWORD)).status == 303
    forms = page_forms(client.app, ids)
    assert {f"/events/{ids['event']}/decisions", f"/events/{ids['event']}/journal", "/warnings/new",
            "/warnings/new/preview", f"/warnings/{ids['warning']}/assign"} <= set(forms)
    before = await table_counts(sessions)
    form = {"action": "activate", "level": "IV", "decided_by": "市防指", "department": "water", "text": "巡查"}
    for path in forms:
        for template in ELSEWHERE:
            response = await client.post(path, data=form, headers=_headers(template, client), allow_redirects=False)
            assert response.status == 403, (path, template)
            assert "其他网站" in await response.text()
    # The API under the page's cookie: the CSRF header does not make a write from elsewhere acceptable.
    for template in ELSEWHERE:
        response = await client.post("/api/events", json={"kind": "rainfall"},
                                     headers={**CSRF, **_headers(template, client)})
        assert response.status == 403, template
    assert await table_counts(sessions) == before

    # The same forms from our own pages go through (to their own checks: a decision form is then recorded).
    own = {"Origin": _own(client)}
    response = await client.post(f"/events/{ids['event']}/decisions", data=form, headers=own, allow_redirects=False)
    assert response.status == 303
    referer = {"Referer": f"{_own(client)}/events/{ids['event']}"}
    response = await client.post(f"/events/{ids['event']}/journal", data=form, headers=referer,
                                 allow_redirects=False)
    assert response.status == 303
    response = await client.post(f"/api/events/{ids['event']}/journal", headers={**CSRF, **own},
                                 json={"department": "water", "text": "巡查"})
    assert response.status == 201


async def test_sign_in_and_out_refuse_forms_from_elsewhere(client, sessions, user):
    for template in ELSEWHERE:
        response = await sign_in(client, user, PASSWORD, headers=_headers(template, client))
        assert response.status == 403, template
        assert _session_cookie(client) is None
    assert (await sign_in(client, user, PASSWORD, headers={"Referer": f"{_own(client)}/login"})).status == 303
    for template in ELSEWHERE:
        response = await client.post("/logout", headers=_headers(template, client), allow_redirects=False)
        assert response.status == 403, template
    assert (await client.get("/", allow_redirects=False)).status == 200   # still signed in


async def test_signing_out_ends_the_session_on_the_server(client, aiohttp_client, engine, config, clock, sessions,
                                                          user):
    assert (await sign_in(client, user, PASSWORD)).status == 303
    copied = _session_cookie(client).value
    # The same user in a second browser: a session of its own.
    other = await aiohttp_client(create_app(engine, config, clock))
    assert (await sign_in(other, user, PASSWORD)).status == 303
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(PageSession))).scalar_one() == 2

    response = await client.post("/logout", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/login"
    assert _session_cookie(client) is None

    client.session.cookie_jar.update_cookies({COOKIE_NAME: copied})   # the cookie copied before signing out
    assert (await client.get("/", allow_redirects=False)).status == 303
    assert (await client.get("/api/stats")).status == 401
    response = await client.post("/api/events", json={"kind": "rainfall"}, headers=CSRF)
    assert response.status == 401
    # The other browser is still signed in; its own sign-out ends only its session.
    assert (await other.get("/", allow_redirects=False)).status == 200
    assert (await other.post("/logout", allow_redirects=False)).status == 303
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(PageSession))).scalar_one() == 0


async def test_sessions_over_are_cleared_at_the_next_sign_in(client, sessions, user, clock):
    assert (await sign_in(client, user, PASSWORD)).status == 303
    clock.advance(hours=13)   # past session_hours = 12
    assert (await client.get("/", allow_redirects=False)).status == 303
    assert (await sign_in(client, user, PASSWORD)).status == 303
    async with sessions() as session:
        rows = list((await session.execute(select(PageSession))).scalars())
    assert len(rows) == 1 and rows[0].expires_at > clock.now()


def _set_cookie(response) -> str:
    [header] = [value for value in response.headers.getall("Set-Cookie") if value.startswith(COOKIE_NAME + "=")]
    return header


@pytest.mark.parametrize(("public_url", "secure"), [(PUBLIC_URL, True), ("http://10.8.0.12:19101", False),
                                                    (None, False)])
async def test_cookies_are_secure_when_the_public_url_is_https(aiohttp_client, engine, settings, clock, user,
                                                               public_url, secure):
    server = settings.server.model_copy(update={"public_url": public_url})
    client = await aiohttp_client(create_app(engine, settings.model_copy(update={"server": server}), clock))
    response = await sign_in(client, user, PASSWORD)
    assert response.status == 303
    header = _set_cookie(response)
    assert ("Secure" in header) is secure and "HttpOnly" in header and "SameSite=Lax" in header
    client.session.cookie_jar.update_cookies({COOKIE_NAME: header.split(";")[0].split("=", 1)[1]})
    response = await client.post("/logout", allow_redirects=False)
    assert ("Secure" in _set_cookie(response)) is secure


async def test_the_public_url_is_our_own_site_behind_a_proxy(aiohttp_client, engine, settings, clock, user):
    """A TLS front passes its own Host on: forms posted from the public address are ours."""
    server = settings.server.model_copy(update={"public_url": PUBLIC_URL})
    client = await aiohttp_client(create_app(engine, settings.model_copy(update={"server": server}), clock))
    assert (await sign_in(client, user, PASSWORD, headers={"Origin": PUBLIC_URL})).status == 303
    assert (await sign_in(client, user, PASSWORD, headers={"Origin": "https://evil.example.gov.cn"})).status == 403
