"""The plan-coverage duty map (预案覆盖图): a folium/Leaflet page from plain frames, offline and escaped.

Registry text reaches the page only as JSON data (escaped for a script block) that our scripts put
into the page with textContent, or as HTML escaped here; nothing is fetched from outside the service.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

import folium
import geopandas as gpd
import numpy as np
from branca.element import Element, MacroElement
from folium.map import FitBounds
from folium.template import Template

from fangxun.geo.geojson import feature_collection
from fangxun.geo.map_assets import Asset
from fangxun.geo.place_labels import place_labels
from fangxun.geo.simplify import simplify_for_level, snap_to_grid

LEVELS = ("district", "township", "village")
LAYER_NAMES = {"district": "区县", "township": "乡镇街道", "village": "村社区"}
# The paged map names whichever levels it draws.
LEVEL_NAMES = {"province": "省", "city": "市", **LAYER_NAMES}
STATUS_COLOURS = {"current": "#2e7d32", "due_soon": "#f9a825", "overdue": "#c62828", "none": "#5f6368"}
WARNING_COLOURS = {"blue": "#1e88e5", "yellow": "#fdd835", "orange": "#fb8c00", "red": "#e53935"}
WARNING_LABELS = {"blue": "蓝色预警", "yellow": "黄色预警", "orange": "橙色预警", "red": "红色预警"}
SYNTHETIC_NOTE = "示意边界（非真实界线）"
WARNING_NOTE = "斜线填充、粗虚线边框：气象预警覆盖范围（与预案状态无关）"
UNIT_COLUMNS = ("code", "name", "level", "status", "synthetic")
# Popup lists a unit may carry; each entry is a short list (see MapOptions.labels for the keys in them).
LIST_COLUMNS = ("plans", "persons", "shelters")
DECIMALS = 5
TEXT = {
    "code": "区划代码", "plans": "预案", "noPlans": "未登记预案", "nextReview": "下次评估", "noDue": "未定",
    "persons": "责任人", "noPersons": "未登记责任人", "shelters": "避险安置点", "noShelters": "未登记",
    "people": "人", "capacity": "可容纳", "openSheet": "打开联系单（可打印）", "synthetic": SYNTHETIC_NOTE,
    "cluster": "{count} 处避险安置点，共可容纳 {capacity} 人", "unit": "所属区划",
    "search": "查找区划", "searchPlaceholder": "输入区划名称", "searchEmpty": "没有找到匹配的区划",
    "expires": "有效至", "prefix": "Leaflet", "loading": "正在加载…", "loadFailed": "加载失败，请稍后重试",
    "showing": "当前显示：{level}", "zoomFor": "（放大可看{level}）",
}


@dataclass(frozen=True)
class MapOptions:
    """How to draw the map: assets, basemap, links and the labels of the registry's codes."""

    assets: Sequence[Asset] = ()
    title: str = "防汛预案覆盖图"
    as_of: str = ""
    due_soon_days: int = 60
    tile_url: str | None = None
    tile_attribution: str = ""
    # "{code}" is replaced by the unit's code; None (an exported file) shows no link.
    unit_link: str | None = "/units/{code}"
    home_link: str | None = "/"
    # The page's icon (a URL, or a data: URI in an exported file); None adds none.
    icon: str | None = None
    default_level: str = "township"
    # "unit_status", "plan_status", "kind", "role": key -> Chinese label.
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def script_json(value: object) -> str:
    """JSON that can sit inside a <script> block: no `</script>`, `<!--` or line separators break out."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


class _Script(MacroElement):
    """A piece of our JavaScript in the map's script block, in the order it is added."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str):
        super().__init__()
        self._name = "FangxunScript"
        self.code = code


class _Markup(MacroElement):
    """Already escaped HTML placed in the page body (moved into map controls by start.js)."""

    _template = Template("{% macro html(this, kwargs) %}{{ this.markup }}{% endmacro %}")

    def __init__(self, markup: str):
        super().__init__()
        self._name = "FangxunMarkup"
        self.markup = markup


def _check_columns(frame: gpd.GeoDataFrame, required: Sequence[str], what: str) -> None:
    missing = [name for name in required if name not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks column(s) {missing}")


def _with_geometry(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geometry = frame.geometry
    return frame[geometry.notna() & ~geometry.is_empty]


def _unit_collection(units: gpd.GeoDataFrame, level: str) -> dict:
    frame = _with_geometry(units[units["level"] == level])
    frame = frame.set_geometry(simplify_for_level(frame.geometry.to_numpy(), level), crs=frame.crs)
    columns = ["code", "name", "level", "parent", "status", "synthetic", *LIST_COLUMNS]
    return feature_collection(frame, columns, decimals=DECIMALS)


def _prepared_units(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    _check_columns(units, UNIT_COLUMNS, "units")
    units = units.copy()
    units["synthetic"] = units["synthetic"].fillna(False).astype(bool)
    units["parent"] = units["parent_name"].fillna("") if "parent_name" in units.columns else ""
    for name in LIST_COLUMNS:
        if name not in units.columns:
            units[name] = [[] for _ in range(len(units))]
    if units.crs is not None and not units.crs.equals("EPSG:4326"):
        units = units.to_crs("EPSG:4326")
    return units


def _shelter_rows(shelters: gpd.GeoDataFrame | None) -> list[list]:
    if shelters is None or shelters.empty:
        return []
    _check_columns(shelters, ("name", "capacity"), "shelters")
    shelters = _with_geometry(shelters)
    unit_names = shelters["unit_name"].tolist() if "unit_name" in shelters.columns else [""] * len(shelters)
    lons = np.round(shelters.geometry.x.to_numpy(), DECIMALS).tolist()
    lats = np.round(shelters.geometry.y.to_numpy(), DECIMALS).tolist()
    return [[lat, lon, str(name), int(capacity or 0), str(unit or "")]
            for lat, lon, name, capacity, unit in zip(lats, lons, shelters["name"], shelters["capacity"], unit_names)]


def _warning_collection(warnings: gpd.GeoDataFrame) -> dict:
    _check_columns(warnings, ("colour",), "warnings")
    frame = _with_geometry(warnings).copy()
    frame = frame.set_geometry(snap_to_grid(frame.geometry.to_numpy()), crs=frame.crs)
    for name in ("event", "headline", "expires"):
        frame[name] = frame[name].fillna("").astype(str) if name in frame.columns else ""
    return feature_collection(frame, ["colour", "event", "headline", "expires"], decimals=DECIMALS)


def _style_block() -> str:
    swatches = "".join(f".fx-swatch-{status}{{background:{colour}}}" for status, colour in STATUS_COLOURS.items())
    # Warnings are hatched with a dashed edge, as on the map: never a solid fill like a plan status.
    swatches += "".join(f".fx-swatch.fx-swatch-warning-{name}{{background:repeating-linear-gradient("
                        f"45deg,{colour} 0 3px,transparent 3px 7px);border:2px dashed {colour}}}"
                        for name, colour in WARNING_COLOURS.items())
    return f"<style>{swatches}</style>"


def _legend_html(options: MapOptions, synthetic: bool, warnings: bool) -> str:
    status_text = options.labels.get("unit_status", {})
    meanings = {"current": "所需预案齐全且在评估期内",
                "due_soon": f"有预案 {int(options.due_soon_days)} 天内到评估期",
                "overdue": "有预案逾期未评估",
                "none": "缺少所需预案（或已废止）"}
    rows = "".join(f'<li><i class="fx-swatch fx-swatch-{status}"></i><b>{escape(status_text.get(status, status))}</b>'
                   f'<span>{escape(meaning)}</span></li>' for status, meaning in meanings.items())
    parts = [f'<summary>图例</summary><h3>预案状态</h3><ul>{rows}</ul>',
             '<h3>避险安置点</h3><ul><li><i class="fx-shelter-icon"></i>避险安置点</li>'
             '<li><i class="fx-cluster-icon">5</i>聚合的安置点（数字为个数）</li></ul>']
    if warnings:
        items = "".join(f'<li><i class="fx-swatch fx-swatch-warning fx-swatch-warning-{name}"></i>{escape(label)}</li>'
                        for name, label in WARNING_LABELS.items())
        parts.append(f'<h3>预警区域</h3><p class="fx-warning-note">{escape(WARNING_NOTE)}</p>'
                     f'<ul class="fx-warning-swatches">{items}</ul>')
    if synthetic:
        parts.append('<ul><li><i class="fx-swatch fx-synthetic-swatch"></i>'
                     f'虚线边框：{escape(SYNTHETIC_NOTE)}</li></ul>')
    # Open on a wide screen; start.js folds it on a phone, where it would cover the map.
    return f'<details id="fx-legend" class="fx-legend" open>{"".join(parts)}</details>'


def _title_html(options: MapOptions, without_geometry: int) -> str:
    lines = [f"<h1>{escape(options.title)}</h1>"]
    if options.as_of:
        lines.append(f"<p>统计日期：{escape(options.as_of)}</p>")
    if without_geometry:
        lines.append(f"<p>另有 {int(without_geometry)} 个区划暂无边界数据，未在图上显示</p>")
    if options.home_link:
        lines.append(f'<p><a href="{escape(options.home_link)}">返回概况</a></p>')
    return f'<div id="fx-title" class="fx-title">{"".join(lines)}</div>'


def _search_html() -> str:
    return ('<div id="fx-search" class="fx-search">'
            f'<label for="fx-search-input">{escape(TEXT["search"])}</label>'
            f'<input id="fx-search-input" type="search" autocomplete="off" '
            f'placeholder="{escape(TEXT["searchPlaceholder"])}" aria-controls="fx-search-results">'
            '<ul id="fx-search-results" role="listbox" hidden></ul></div>')


def _config(options: MapOptions) -> dict:
    labels = options.labels
    return {"colours": STATUS_COLOURS, "warningColours": WARNING_COLOURS, "warningLabels": WARNING_LABELS,
            "levels": LAYER_NAMES, "unitStatus": dict(labels.get("unit_status", {})),
            "planStatus": dict(labels.get("plan_status", {})), "kinds": dict(labels.get("kind", {})),
            "roles": dict(labels.get("role", {})), "unitLink": options.unit_link, "text": TEXT}


def _new_map(units: gpd.GeoDataFrame, options: MapOptions) -> folium.Map:
    drawn = _with_geometry(units)
    return _map_over(None if drawn.empty else tuple(drawn.total_bounds), options)


def _map_over(bounds: tuple[float, float, float, float] | None, options: MapOptions) -> folium.Map:
    if bounds is None:
        fmap = folium.Map(location=[0, 0], zoom_start=2, tiles=None, control_scale=True)
    else:
        west, south, east, north = bounds
        fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=9, tiles=None,
                          control_scale=True)
        fit = FitBounds([[south, west], [north, east]])
        # The page opens on its area: a zoom animation from folium's first view only delays the first units (and a
        # zoom asked for during it is undone when it ends).
        fit.options["animate"] = False
        fmap.add_child(fit)
    # Only what fangxun serves itself (or nothing, when inlined): no CDN, jQuery, Bootstrap or fonts.
    fmap.default_js = [(a.url, a.url) for a in options.assets if a.kind == "script" and a.text is None]
    fmap.default_css = [(a.url, a.url) for a in options.assets if a.kind == "style" and a.text is None]
    header = fmap.get_root().header
    header.add_child(Element(f"<title>{escape(options.title)}</title>"), name="fx_title")
    if options.icon:
        header.add_child(Element(f'<link rel="icon" href="{escape(options.icon)}">'), name="fx_icon")
    for index, asset in enumerate(a for a in options.assets if a.text is not None):
        tag = "script" if asset.kind == "script" else "style"
        if f"</{tag}" in asset.text.lower():
            raise ValueError(f"{asset.url} cannot be inlined: it contains </{tag}")
        header.add_child(Element(f"<{tag}>{asset.text}</{tag}>"), name=f"fx_inline_{index}")
    header.add_child(Element(_style_block()), name="fx_colours")
    return fmap


def _layer(fmap: folium.Map, name: str, factory: str, data: object, overlay: bool = True,
           show: bool = True) -> folium.FeatureGroup:
    """A FeatureGroup in the layer control holding what `FangxunMap.<factory>(data)` builds."""
    group = folium.FeatureGroup(name=name, overlay=overlay, show=show).add_to(fmap)
    group.add_child(_Script(f"FangxunMap.{factory}({script_json(data)}).addTo({group.get_name()});"))
    return group


def render_coverage_map(units: gpd.GeoDataFrame, shelters: gpd.GeoDataFrame | None = None,
                        warnings: gpd.GeoDataFrame | None = None, options: MapOptions = MapOptions()) -> str:
    """The whole map page as HTML.

    `units`: code, name, level, status (current|due_soon|overdue|none), synthetic, geometry (EPSG:4326),
    optional parent_name and popup lists plans [kind, status, next_review], persons [name, role, phone],
    shelters [name, capacity]. `shelters`: points with name, capacity, optional unit_name.
    `warnings`: areas with colour (blue|yellow|orange|red), optional event, headline, expires.
    """
    units = _prepared_units(units)
    fmap = _new_map(units, options)
    fmap.add_child(_Script(f"FangxunMap.configure({script_json(_config(options))});"))
    if options.tile_url:
        folium.TileLayer(tiles=options.tile_url, attr=escape(options.tile_attribution) or " ", name="底图",
                         overlay=True, control=False).add_to(fmap)

    # The levels are base layers (one radio choice): one level's polygons at a time, coloured by status.
    default = options.default_level if options.default_level in LEVELS else "township"
    collections = {level: _unit_collection(units, level) for level in LEVELS}
    levels = {level: _layer(fmap, LAYER_NAMES[level], "unitLayer", collections[level], overlay=False,
                            show=level == default) for level in LEVELS}
    outline_data = {"type": "FeatureCollection",
                    "features": [{**f, "properties": {}} for f in collections["district"]["features"]]}
    outlines = _layer(fmap, "区县界线", "outlineLayer", outline_data)
    _layer(fmap, "地名", "placeLabels", place_labels(units))
    _layer(fmap, "避险安置点", "shelterClusters", _shelter_rows(shelters))
    has_warnings = warnings is not None and not warnings.empty
    warning_layer = _layer(fmap, "预警区域", "warningLayer", _warning_collection(warnings)) if has_warnings else None
    folium.LayerControl(position="topright", collapsed=False).add_to(fmap)

    drawn = units[units["level"].isin(LEVELS)]
    synthetic = bool(_with_geometry(drawn)["synthetic"].any())
    without_geometry = len(drawn) - len(_with_geometry(drawn))
    fmap.add_child(_Markup(_title_html(options, without_geometry) + _search_html()
                           + _legend_html(options, synthetic, has_warnings)))
    level_vars = ", ".join(f"{level}: {group.get_name()}" for level, group in levels.items())
    fmap.add_child(_Script(f"FangxunMap.start({fmap.get_name()}, {{levels: {{{level_vars}}}, "
                           f"outlines: {outlines.get_name()}, "
                           f"warnings: {warning_layer.get_name() if warning_layer else 'null'}}});"))
    return fmap.get_root().render().replace("<html>", '<html lang="zh-CN">', 1)


@dataclass(frozen=True)
class PagedLayers:
    """What the paged map fetches: the levels it draws with the first zoom of each (coarse to fine), the bounds
    of the whole area, and where to ask for units, one unit's details and the search."""

    levels: Sequence[tuple[str, int]]
    bounds: tuple[float, float, float, float] | None
    units_url: str = "/api/units.geojson"
    detail_url: str = "/api/units/{code}"
    search_url: str = "/api/units/search"
    without_geometry: int = 0
    synthetic: bool = False


def render_paged_map(paged: PagedLayers, shelter_rows: list[list], warnings: gpd.GeoDataFrame | None = None,
                     options: MapOptions = MapOptions()) -> str:
    """The served map page: no unit in it; its script fetches the units of the level fitting the zoom, for the
    area in view only, simplified for that zoom. `shelter_rows`: [lat, lon, name, capacity, unit name]."""
    fmap = _map_over(paged.bounds, options)
    config = {**_config(options), "levels": LEVEL_NAMES,
              "paged": {"levels": [list(level) for level in paged.levels], "unitsUrl": paged.units_url,
                        "detailUrl": paged.detail_url, "searchUrl": paged.search_url}}
    fmap.add_child(_Script(f"FangxunMap.configure({script_json(config)});"))
    if options.tile_url:
        folium.TileLayer(tiles=options.tile_url, attr=escape(options.tile_attribution) or " ", name="底图",
                         overlay=True, control=False).add_to(fmap)
    units = folium.FeatureGroup(name="区划预案状态", overlay=True, show=True).add_to(fmap)
    units.add_child(_Script(f"FangxunMap.pagedUnits().addTo({units.get_name()});"))
    outlines = folium.FeatureGroup(name="上级区划界线", overlay=True, show=True).add_to(fmap)
    outlines.add_child(_Script(f"FangxunMap.pagedOutlines().addTo({outlines.get_name()});"))
    labels = _layer(fmap, "地名", "placeLabels", {"levels": list(LEVEL_NAMES), "zooms": {}, "places": []})
    _layer(fmap, "避险安置点", "shelterClusters", shelter_rows)
    has_warnings = warnings is not None and not warnings.empty
    warning_layer = _layer(fmap, "预警区域", "warningLayer", _warning_collection(warnings)) if has_warnings else None
    folium.LayerControl(position="topright", collapsed=False).add_to(fmap)
    title = _title_html(options, paged.without_geometry).replace(
        "</div>", '<p id="fx-level" class="fx-level" aria-live="polite"></p></div>', 1)
    fmap.add_child(_Markup(title + _search_html() + _legend_html(options, paged.synthetic, has_warnings)))
    fmap.add_child(_Script(f"FangxunMap.startPaged({fmap.get_name()}, {{units: {units.get_name()}, "
                           f"outlines: {outlines.get_name()}, labels: {labels.get_name()}, "
                           f"warnings: {warning_layer.get_name() if warning_layer else 'null'}}});"))
    return fmap.get_root().render().replace("<html>", '<html lang="zh-CN">', 1)
