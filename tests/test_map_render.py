"""The coverage-map renderer on hand-built frames (no database): offline, escaped, layers, legend, synthetic flag."""

import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from fangxun.geo.coverage_map import (LAYER_NAMES, STATUS_COLOURS, SYNTHETIC_NOTE, WARNING_COLOURS, WARNING_NOTE,
                                      MapOptions, render_coverage_map)
from fangxun.geo.place_labels import level_zoom
from fangxun.geo.map_assets import map_assets
from fangxun.plans.map_data import MAP_LABELS

HOSTILE = "<script>alert(1)</script>"
TILES = "http://tiles.intranet.example/{z}/{x}/{y}.png"


def _units(synthetic: bool = True) -> gpd.GeoDataFrame:
    rows = [
        ("410102000000", "甲区", "district", "郑州市", "due_soon", False, shapely.box(113, 34, 114, 35)),
        ("410103000000", "乙区", "district", "郑州市", "overdue", False, shapely.box(114, 34, 115, 35)),
        ("410102001000", f"{HOSTILE}街道", "township", "甲区", "current", synthetic, shapely.box(113, 34, 114, 35)),
        ("410103001000", "三号街道", "township", "乙区", "none", synthetic, shapely.box(114, 34, 115, 35)),
        ("410102001001", "东村", "village", "x</script><script>alert(2)</script>", "current", synthetic,
         shapely.box(113, 34, 113.5, 35)),
        ("410102001002", "西村", "village", "一号街道", "none", synthetic, shapely.box(113.5, 34, 114, 35)),
        ("410103001001", "无边界村", "village", "三号街道", "none", synthetic, None),
    ]
    frame = gpd.GeoDataFrame(
        [{"code": c, "name": n, "level": lv, "parent_name": p, "status": s, "synthetic": y}
         for c, n, lv, p, s, y, _ in rows],
        geometry=[row[-1] for row in rows], crs="EPSG:4326")
    frame["plans"] = [[["flood_plan", "current", "2027-01-01"], ["evacuation", "overdue", None]]] + [[]] * 6
    frame["persons"] = [[[HOSTILE, "responsible", "139-0000-1234"]]] + [[]] * 6
    frame["shelters"] = [[[f"{HOSTILE}安置点", 300]]] + [[]] * 6
    return frame


def _shelters() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": [f"{HOSTILE}学校", "中学"], "capacity": [500, 800], "unit_name": ["东村", "西村"]},
                            geometry=[shapely.Point(113.2, 34.5), shapely.Point(113.7, 34.5)], crs="EPSG:4326")


def _warnings() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"colour": ["orange"], "event": ["暴雨"], "headline": [HOSTILE]},
                            geometry=[shapely.box(113.1, 34.1, 113.9, 34.9)], crs="EPSG:4326")


def _render(**options) -> str:
    warnings = options.pop("warnings", None)
    units = options.pop("units", None)
    inline = options.pop("inline", False)
    return render_coverage_map(_units() if units is None else units, _shelters(), warnings,
                               MapOptions(assets=map_assets(inline), labels=MAP_LABELS, as_of="2026-06-01", **options))


def _references(html: str) -> list[str]:
    """src and href attributes of the page's tags (not what its scripts mention)."""
    markup = re.sub(r"<(script|style)>.*?</\1>", "", html, flags=re.S)
    return re.findall(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]+)""", markup)


def _embedded(html: str, call: str) -> list:
    """The JSON arguments of every `FangxunMap.<call>(…)` in the page."""
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(rf"FangxunMap\.{call}\(", html):
        value, _ = decoder.raw_decode(html, match.end())
        found.append(value)
    return found


def _unit_features(html: str) -> dict[str, dict]:
    return {f["properties"]["code"]: f for fc in _embedded(html, "unitLayer") for f in fc["features"]}


def test_served_page_references_only_the_service():
    html = _render()
    references = _references(html)
    assert "/static/vendor/leaflet/leaflet.js" in references and "/static/map/units.js" in references
    assert "/static/vendor/leaflet/leaflet.css" in references and "/static/map/coverage-map.css" in references
    assert all(ref.startswith("/") and not ref.startswith("//") for ref in references), references
    assert "http://" not in html and "https://" not in html
    for dropped in ("jquery", "bootstrap", "awesome", "font-awesome", "cdn"):
        assert dropped not in html.lower()


def test_configured_tiles_are_the_only_url():
    html = _render(tile_url=TILES, tile_attribution="内网底图 <b>")
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {TILES}
    # The attribution is escaped before Leaflet sets it as HTML.
    assert '"attribution": "\\u5185\\u7f51\\u5e95\\u56fe \\u0026lt;b\\u0026gt;"' in html


def test_exported_page_inlines_everything():
    html = _render(inline=True, unit_link=None, home_link=None)
    assert "<script src" not in html and "<link" not in html
    assert _references(html) == []
    # "url(#…" names something inside the page: the warnings' hatching, or old IE's VML behaviour.
    assert re.findall(r"url\((?!data:|#)", html) == []
    assert "url(data:image/png;base64," in html    # the layer-control icon
    # What is left of http(s) is inside Leaflet's own code: the SVG namespace and its attribution constant.
    assert set(re.findall(r"https?://[\w./-]+", html)) <= {"http://www.w3.org/2000/svg", "https://leafletjs.com"}
    assert "FangxunMap.configure" in html and "L.control.layers" in html


def test_registry_text_is_escaped_and_survives_as_data():
    html = _render(warnings=_warnings())
    assert HOSTILE not in html and "</script><script>" not in html
    # Exactly folium's two inline scripts and seven script files (Leaflet and our six): nothing injected.
    assert len(re.findall(r"<script", html)) == 2 + 7
    features = _unit_features(html)
    assert features["410102001000"]["properties"]["name"] == f"{HOSTILE}街道"
    assert features["410102001001"]["properties"]["parent"] == "x</script><script>alert(2)</script>"
    assert features["410102000000"]["properties"]["persons"] == [[HOSTILE, "responsible", "139-0000-1234"]]
    [rows] = _embedded(html, "shelterClusters")
    assert rows == [[34.5, 113.2, f"{HOSTILE}学校", 500, "东村"], [34.5, 113.7, "中学", 800, "西村"]]
    warning = _embedded(html, "warningLayer")[0]["features"][0]["properties"]
    assert warning == {"colour": "orange", "event": "暴雨", "headline": HOSTILE, "expires": ""}


def test_layers_legend_and_statuses():
    html = _render()
    keys = [json.loads(f'"{key}"') for key in re.findall(r'"((?:\\u[0-9a-f]{4})+)" : feature_group_', html)]
    assert keys == [LAYER_NAMES["district"], LAYER_NAMES["township"], LAYER_NAMES["village"], "区县界线", "地名",
                    "避险安置点"]
    assert "base_layers" in html
    for text in ("图例", "预案状态", "有效", "即将到期", "逾期", "无预案", "避险安置点", "统计日期：2026-06-01"):
        assert text in html, text
    assert "预警区域" not in html
    assert "另有 1 个区划暂无边界数据" in html
    features = _unit_features(html)
    assert "410103001001" not in features     # no boundary, not drawn
    assert {code: f["properties"]["status"] for code, f in features.items()} == {
        "410102000000": "due_soon", "410103000000": "overdue", "410102001000": "current",
        "410103001000": "none", "410102001001": "current", "410102001002": "none"}
    config = _embedded(html, "configure")[0]
    assert config["unitStatus"] == {"current": "有效", "due_soon": "即将到期", "overdue": "逾期", "none": "无预案"}
    assert config["colours"]["overdue"] != config["colours"]["current"]
    assert config["unitLink"] == "/units/{code}"

    with_warnings = _render(warnings=_warnings())
    assert "预警区域" in with_warnings and "橙色预警" in with_warnings


def test_place_names_come_per_level_with_the_zoom_from_which_they_fit():
    html = _render()
    [labels] = _embedded(html, "placeLabels")
    assert labels["levels"] == ["district", "township", "village"]
    # A district of the test frame is a degree wide, a village half a degree: its names fit one zoom later.
    assert labels["zooms"] == {"district": 7, "township": 7, "village": 8}
    places = [(name, labels["levels"][level]) for _, _, name, level in labels["places"]]
    assert places == [("甲区", "district"), ("乙区", "district"), (f"{HOSTILE}街道", "township"),
                      ("三号街道", "township"), ("东村", "village"), ("西村", "village")]   # 无边界村 has no place
    # Each name sits inside its unit.
    where = {name: shapely.Point(lon, lat) for lat, lon, name, _ in labels["places"]}
    assert shapely.box(113, 34, 114, 35).contains(where["甲区"])
    assert shapely.box(113.5, 34, 114, 35).contains(where["西村"])
    assert HOSTILE not in html     # a hostile name stays escaped data


def test_label_zooms_follow_the_size_of_the_units():
    # Median widths (degrees) of Zhengzhou's districts, townships and villages in the demo registry.
    widths = ([0.26, 0.2, 0.3], [0.077], [0.015, 0.0153, 0.02])
    assert [level_zoom(np.array(level)) for level in widths] == [9, 11, 13]
    assert level_zoom(np.array([0.0, -1.0])) == 0     # nothing measurable: from the start


def test_warning_areas_are_hatched_never_a_solid_status_fill():
    html = _render(warnings=_warnings())
    assert WARNING_NOTE in html and "斜线填充" in WARNING_NOTE
    for name, colour in WARNING_COLOURS.items():
        assert (f".fx-swatch.fx-swatch-warning-{name}{{background:repeating-linear-gradient("
                f"45deg,{colour} 0 3px,transparent 3px 7px);border:2px dashed {colour}}}") in html
    assert f".fx-swatch-overdue{{background:{STATUS_COLOURS['overdue']}}}" in html
    assert WARNING_NOTE not in _render()


def test_the_page_names_its_icon_when_given_one():
    assert '<link rel="icon" href="/static/favicon.svg">' in _render(icon="/static/favicon.svg")
    assert 'rel="icon"' not in _render()


def test_synthetic_boundaries_are_flagged():
    html = _render()
    assert f"虚线边框：{SYNTHETIC_NOTE}" in html
    assert _embedded(html, "configure")[0]["text"]["synthetic"] == SYNTHETIC_NOTE
    features = _unit_features(html)
    assert features["410102001001"]["properties"]["synthetic"] is True
    assert features["410102000000"]["properties"]["synthetic"] is False
    assert f"虚线边框：{SYNTHETIC_NOTE}" not in _render(units=_units(synthetic=False))


def test_geometry_is_rounded_and_counterclockwise():
    units = _units()
    units.loc[units["code"] == "410102001001", "geometry"] = shapely.box(113.0000049, 34.0000001, 113.5, 35, ccw=False)
    feature = _unit_features(_render(units=units))["410102001001"]
    ring = feature["geometry"]["coordinates"][0]
    assert shapely.LinearRing(ring).is_ccw
    assert all(len(repr(value).split(".")[1]) <= 5 for point in ring for value in point)


def test_frames_without_required_columns_are_refused():
    with pytest.raises(ValueError, match="status"):
        render_coverage_map(_units().drop(columns=["status"]), options=MapOptions())
