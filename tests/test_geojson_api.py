"""GET /api/units.geojson on SQLite and PostgreSQL: auth, filters, properties, RFC 7946 winding, read by GIS tools."""

import io
import json

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import update
from support.api_fixtures import bearer
from support.map_registry import (CITY, EAST, HOSTILE_TITLE, JIA, SHAPES, T1, T2, T3, UNIT_STATUS, WEST, YI,
                                  add_map_registry)

from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_status import UNIT_STATUSES


@pytest.fixture
async def registry(sessions, settings, today, tokens):
    async with sessions() as session, session.begin():
        await add_map_registry(session, settings, today)
    return bearer(tokens["viewer"])


async def _collection(client, headers, query: str = "") -> dict:
    response = await client.get(f"/api/units.geojson{query}", headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("application/geo+json")
    return json.loads(await response.read())


def _rings(geometry: dict):
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    for polygon in polygons:
        yield polygon[0], True
        for hole in polygon[1:]:
            yield hole, False


async def test_needs_credentials(client, registry):
    response = await client.get("/api/units.geojson")
    assert response.status == 401 and (await response.json())["error"] == "unauthorized"
    response = await client.get("/api/units.geojson", headers=bearer("not-a-token"))
    assert response.status == 401


async def test_all_units_with_status_and_counts(client, registry):
    collection = await _collection(client, registry)
    assert collection["type"] == "FeatureCollection" and "crs" not in collection
    features = {f["properties"]["code"]: f for f in collection["features"]}
    assert set(features) == set(SHAPES)
    assert {code: f["properties"]["status"] for code, f in features.items()} == UNIT_STATUS
    assert set(UNIT_STATUS.values()) == set(UNIT_STATUSES)
    east = features[EAST]
    assert east["id"] == EAST
    assert east["properties"] == {
        "code": EAST, "name": "东村", "level": "village", "parent_code": T2, "synthetic": True, "status": "current",
        "current": 2, "due_soon": 0, "overdue": 0, "revising": 0, "withdrawn": 0, "missing": 0, "missing_kinds": ""}
    assert features[WEST]["properties"]["missing_kinds"] == "evacuation"
    assert (features[T2]["properties"]["withdrawn"], features[T2]["properties"]["missing"]) == (1, 1)
    assert features[T3]["properties"]["revising"] == 1 and features[YI]["properties"]["overdue"] == 1
    assert features[JIA]["properties"]["synthetic"] is False
    assert HOSTILE_TITLE not in json.dumps(collection)   # plan titles are not part of it


async def test_level_and_root_filters(client, registry):
    villages = await _collection(client, registry, "?level=village")
    assert sorted(f["properties"]["code"] for f in villages["features"]) == [EAST, WEST]
    subtree = await _collection(client, registry, f"?root={JIA}")
    assert sorted(f["properties"]["code"] for f in subtree["features"]) == sorted([JIA, T1, T2, EAST, WEST])
    both = await _collection(client, registry, f"?root={JIA}&level=township")
    assert sorted(f["properties"]["code"] for f in both["features"]) == [T1, T2]
    assert (await _collection(client, registry, f"?root={YI}&level=village"))["features"] == []
    for query, status in (("?level=county", 400), ("?root=12", 400), ("?root=410199000000", 404)):
        response = await client.get(f"/api/units.geojson{query}", headers=registry)
        assert response.status == status, query


async def test_rfc7946_winding_and_order(client, registry):
    collection = await _collection(client, registry)
    west = next(f for f in collection["features"] if f["properties"]["code"] == WEST)
    assert len(west["geometry"]["coordinates"]) == 2   # exterior and one hole
    for feature in collection["features"]:
        for ring, exterior in _rings(feature["geometry"]):
            # Stored clockwise (holes counterclockwise): the right-hand rule turns both around.
            assert shapely.LinearRing(ring).is_ccw is exterior, feature["properties"]["code"]
            assert all(113 <= lon <= 115 and 34 <= lat <= 35 for lon, lat in ring)   # lon, lat order
    city = next(f for f in collection["features"] if f["properties"]["code"] == CITY)
    assert shapely.geometry.shape(city["geometry"]).equals(SHAPES[CITY])


async def test_readable_by_gis_tools(client, registry):
    response = await client.get("/api/units.geojson?level=township", headers=registry)
    frame = gpd.read_file(io.BytesIO(await response.read()), engine="pyogrio")
    assert frame.crs.to_epsg() == 4326
    assert sorted(frame["code"]) == [T1, T2, T3]
    assert set(frame.columns) >= {"name", "level", "parent_code", "synthetic", "status", "current", "overdue",
                                  "missing", "missing_kinds", "geometry"}
    row = frame.set_index("code").loc[T2]
    assert row["name"] == "二号镇" and row["status"] == "none" and int(row["withdrawn"]) == 1
    assert row.geometry.equals(SHAPES[T2])


def _codes(collection: dict) -> list[str]:
    return [f["properties"]["code"] for f in collection["features"]]


async def test_bbox_returns_one_level_within_the_box(client, registry):
    west_half = await _collection(client, registry, "?level=township&bbox=113.1,34.1,113.4,34.9")
    assert _codes(west_half) == [T1]
    east = await _collection(client, registry, "?level=township&bbox=113.6,34.1,114.5,34.9&zoom=9")
    assert _codes(east) == [T2, T3] and east["numberMatched"] == 2 and "links" not in east
    t2 = east["features"][0]
    assert t2["id"] == T2 and t2["properties"]["status"] == "none" and t2["properties"]["withdrawn"] == 1
    label = shapely.Point(t2["properties"]["label_lon"], t2["properties"]["label_lat"])
    assert SHAPES[T2].contains(label)
    assert _codes(await _collection(client, registry, "?level=village&bbox=113.6,34.1,114.5,34.9")) == [EAST, WEST]
    assert _codes(await _collection(client, registry, f"?level=village&root={YI}&bbox=113,34,115,35")) == []
    assert _codes(await _collection(client, registry, "?level=village&bbox=100,20,101,21")) == []


async def test_zoom_simplifies_and_changed_units_are_seen(client, registry, sessions):
    dense = shapely.segmentize(shapely.Polygon([(113.5, 34), (113.75, 34.2), (113.75, 35), (113.5, 35)]), 0.0005)
    bbox = "&bbox=113.55,34.5,113.7,34.6"
    before = await _collection(client, registry, f"?level=village{bbox}&zoom=8")   # caches the village layer
    assert len(before["features"][0]["geometry"]["coordinates"][0]) == 5
    async with sessions() as session, session.begin():
        await session.execute(update(AdminUnit).where(AdminUnit.code == EAST).values(geometry=dense.wkb))
    exact = await _collection(client, registry, f"?level=village{bbox}")
    assert len(exact["features"][0]["geometry"]["coordinates"][0]) == len(dense.exterior.coords) > 2000
    rough = await _collection(client, registry, f"?level=village{bbox}&zoom=8")
    ring = rough["features"][0]["geometry"]["coordinates"][0]
    assert 4 <= len(ring) < 20
    assert shapely.Polygon(ring).symmetric_difference(dense).area < 0.01 * dense.area


async def test_pages_follow_next_links(client, registry):
    seen: list[str] = []
    url = "/api/units.geojson?per_page=3"
    while url:
        response = await client.get(url, headers=registry)
        assert response.status == 200
        page = json.loads(await response.read())
        assert page["numberMatched"] == len(SHAPES) and page["numberReturned"] == len(page["features"]) <= 3
        seen += _codes(page)
        url = next((link["href"] for link in page.get("links", []) if link["rel"] == "next"), None)
    assert seen == sorted(SHAPES)
    first = await _collection(client, registry, "?level=village&bbox=113,34,115,35&per_page=1")
    assert _codes(first) == [EAST] and "page=2" in first["links"][0]["href"]
    second = await _collection(client, registry, "?level=village&bbox=113,34,115,35&per_page=1&page=2")
    assert _codes(second) == [WEST] and "links" not in second


@pytest.mark.parametrize("query, field", [
    ("?level=village&bbox=113,34,115", "bbox"), ("?level=village&bbox=a,b,c,d", "bbox"),
    ("?level=village&bbox=115,34,113,35", "bbox"), ("?level=village&bbox=113,34,115,95", "bbox"),
    ("?level=village&bbox=nan,34,115,35", "bbox"), ("?bbox=113,34,115,35", "level"),
    ("?level=village&zoom=9", "zoom"), ("?level=village&bbox=113,34,115,35&zoom=30", "zoom"),
    ("?per_page=0", "per_page"), ("?per_page=100000", "per_page"), ("?page=x", "page")])
async def test_bad_parameters_are_named(client, registry, query, field):
    response = await client.get(f"/api/units.geojson{query}", headers=registry)
    assert response.status == 400
    body = await response.json()
    assert body["error"] == "bad_input" and body["detail"].startswith(field) and body.get("field") == field
