"""The /map page, its Content-Security-Policy, the static files and the exported map, on SQLite and PostgreSQL."""

import base64
import hashlib
import json
import re

import pytest
from support.api_fixtures import PASSWORD, sign_in
from support.map_registry import EAST, HOSTILE_PERSON, HOSTILE_SHELTER, T2, UNIT_STATUS, WEST, add_map_registry

from fangxun.api.app import create_app
from fangxun.core.errors import NotFound
from fangxun.geo.config import MapSettings
from fangxun.geo.map_assets import map_icon
from fangxun.plans.map_data import coverage_map_html

TILES = "http://tiles.intranet.example/{z}/{x}/{y}.png"


@pytest.fixture
async def registry(sessions, settings, today):
    async with sessions() as session, session.begin():
        return await add_map_registry(session, settings, today)


def _policy(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _features(html: str) -> dict[str, dict]:
    decoder = json.JSONDecoder()
    found = {}
    for match in re.finditer(r"FangxunMap\.unitLayer\(", html):
        for feature in decoder.raw_decode(html, match.end())[0]["features"]:
            found[feature["properties"]["code"]] = feature["properties"]
    return found


def _config(html: str) -> dict:
    return json.JSONDecoder().raw_decode(html, html.index("FangxunMap.configure(") + len("FangxunMap.configure("))[0]


async def test_signed_out_is_sent_to_sign_in(client, registry):
    response = await client.get("/map", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/login?next=/map"


async def test_map_page_is_strict_and_self_contained(client, user, registry):
    await sign_in(client, user, PASSWORD)
    response = await client.get("/map", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200 and response.content_type == "text/html"
    assert response.headers["Content-Encoding"] == "gzip"
    page = await response.text()
    assert "http://" not in page and "https://" not in page
    policy = _policy(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"] and policy["img-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    for directive, tag in (("script-src", "script"), ("style-src", "style")):
        sources = policy[directive]
        assert sources[0] == "'self'" and all(s.startswith("'sha256-") for s in sources[1:])
        inline = re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.S)
        assert inline and {_hash(body) for body in inline} == set(sources[1:])
    for hostile in (HOSTILE_PERSON, HOSTILE_SHELTER):
        assert hostile not in page

    assert policy["connect-src"] == ["'self'"]   # the units come later, fetched from here
    # No unit is in the served page: its script fetches the level fitting the zoom, for the view only.
    assert _features(page) == {} and "FangxunMap.pagedUnits()" in page and "西村" not in page
    paged = _config(page)["paged"]
    assert [level for level, _ in paged["levels"]] == ["district", "township", "village"]
    zooms = [zoom for _, zoom in paged["levels"]]
    assert zooms[0] == 0 and zooms == sorted(set(zooms))
    assert paged["unitsUrl"] == "/api/units.geojson" and paged["detailUrl"] == "/api/units/{code}"
    assert "统计日期：2026-06-01" in page and 'href="/"' in page and "另有" not in page
    assert '<link rel="icon" href="/static/favicon.svg">' in page


async def test_empty_registry_gives_an_empty_map(client, user):
    await sign_in(client, user, PASSWORD)
    response = await client.get("/map")
    assert response.status == 200 and _config(await response.text())["paged"]["levels"] == []


async def test_configured_tiles_are_allowed_and_drawn(aiohttp_client, engine, settings, clock, user, registry):
    tiled = settings.model_copy(update={"map": MapSettings(tile_url=TILES, tile_attribution="内网底图")})
    client = await aiohttp_client(create_app(engine, tiled, clock))
    await sign_in(client, user, PASSWORD)
    response = await client.get("/map")
    page = await response.text()
    assert TILES in page
    assert _policy(response.headers["Content-Security-Policy"])["img-src"] == [
        "'self'", "http://tiles.intranet.example"]


async def test_static_files_are_served_locally_to_anyone(client):
    for path, kind in (("/static/vendor/leaflet/leaflet.js", "javascript"),
                       ("/static/vendor/leaflet/leaflet.css", "css"),
                       ("/static/vendor/leaflet/images/layers.png", "image/png"),
                       ("/static/map/units.js", "javascript"), ("/static/map/shelters.js", "javascript"),
                       ("/static/map/search.js", "javascript"), ("/static/map/start.js", "javascript"),
                       ("/static/map/warnings.js", "javascript"), ("/static/map/labels.js", "javascript"),
                       ("/static/map/paged.js", "javascript"),
                       ("/static/favicon.svg", "image/svg+xml"),
                       ("/static/map/coverage-map.css", "css")):
        response = await client.get(path)
        assert response.status == 200 and kind in response.content_type, path
    for path in ("/static/../settings.py", "/static/map/%2e%2e/%2e%2e/app.py", "/static/map/../../app.py",
                 "/static/vendor/leaflet/../map/nope.js", "/static/map/"):
        response = await client.get(path, allow_redirects=False)
        assert response.status in (303, 403, 404), path     # never a file outside the static folders


async def test_exported_map_inlines_everything(sessions, settings, today, registry):
    async with sessions() as session:
        html = await coverage_map_html(session, settings.registry, today, inline_assets=True)
    assert "<script src" not in html and "/static/" not in html
    # The only link is the page's icon, itself inside the file.
    assert re.findall(r"<link[^>]*>", html) == [f'<link rel="icon" href="{map_icon(inline=True)}">']
    assert map_icon(inline=True).startswith("data:image/svg+xml;base64,")
    assert "/units/" not in html.split("FangxunMap.configure(")[1].split(");")[0]   # no link without a server
    features = _features(html)
    assert {code: p["status"] for code, p in features.items()} == {
        code: status for code, status in UNIT_STATUS.items() if code != "410100000000"}
    east = features[EAST]
    assert east["name"] == "东村" and east["parent"] == "二号镇" and east["synthetic"] is True
    assert east["plans"] == [["evacuation", "current", "2028-02-01"], ["flood_plan", "current", "2028-01-01"]]
    assert east["persons"] == [[HOSTILE_PERSON, "responsible", "139-0000-1234"], ["李四", "deputy", "037160000001"]]
    assert east["shelters"] == [[HOSTILE_SHELTER, 300]]


async def test_exported_map_of_one_subtree(sessions, settings, today, registry):
    async with sessions() as session:
        html = await coverage_map_html(session, settings.registry, today, inline_assets=True, root=T2)
    features = _features(html)
    assert set(features) == {T2, EAST, WEST}
    assert features[EAST]["persons"][0][0] == HOSTILE_PERSON and features[EAST]["shelters"][0][0] == HOSTILE_SHELTER
    assert "一号街道" not in html and "三号街道" not in html   # townships outside the subtree: neither drawn, labelled nor searchable
    async with sessions() as session:
        with pytest.raises(NotFound):
            await coverage_map_html(session, settings.registry, today, inline_assets=True, root="410199000000")
