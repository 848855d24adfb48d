"""Read boundary polygons from GeoJSON, a zipped Shapefile or a GeoPackage into clean WGS-84 polygons."""

from __future__ import annotations

import codecs
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from fangxun.core.errors import BadInput
from fangxun.geo.gcj02 import geometry_gcj02_to_wgs84

WGS84 = "EPSG:4326"
GCJ02_NAMES = ("gcj02", "gcj-02", "gcj_02")
CODE_FIELDS = ("code", "adcode", "区划代码", "统计用区划代码", "tt_adcode", "dt_adcode", "ct_adcode", "pr_adcode")
NAME_FIELDS = ("name", "名称", "tt_name", "dt_name", "ct_name")

# shapely.is_valid_reason prefixes, in the words a duty officer reads.
_REASONS = {
    "Self-intersection": "自相交",
    "Ring Self-intersection": "环自相交",
    "Too few points": "点数过少",
    "Invalid Coordinate": "坐标无效",
    "Hole lies outside shell": "内环位于外环之外",
    "Nested holes": "内环相互嵌套",
    "Interior is disconnected": "内部不连通",
    "Nested shells": "多个外环相互嵌套",
    "Duplicate Rings": "环重复",
    "Ring is not closed": "环未闭合",
}
_TYPE_NAMES = {"Point": "点", "MultiPoint": "多点", "LineString": "线", "MultiLineString": "多线",
               "LinearRing": "线", "GeometryCollection": "几何集合"}


@dataclass
class Repair:
    """One invalid feature that was repaired: its row, a readable label and why it was invalid."""

    feature: int
    label: str
    reason: str


@dataclass
class BoundaryFile:
    """Polygons in EPSG:4326 with their attributes, the repairs made and the CRS they came in."""

    frame: geopandas.GeoDataFrame
    repairs: list[Repair]
    source_crs: str


def read_boundaries(path, crs: str | None = None, max_bytes: int = 200 * 1024 * 1024) -> BoundaryFile:
    """Read a boundary file; crs None = the file's own (EPSG:4326 if none), "gcj02", or "EPSG:NNNN" to override."""
    path = Path(path)
    source, encoding = _open_target(path, max_bytes)
    frame = _read_frame(source, path, encoding)
    if frame.empty:
        raise BadInput(f"边界文件 {path.name} 中没有任何要素")
    if "geometry" not in frame or not isinstance(frame, geopandas.GeoDataFrame):
        raise BadInput(f"边界文件 {path.name} 中没有几何图形")
    frame = frame.reset_index(drop=True)
    frame, source_crs = _to_wgs84(frame, crs, path.name)
    frame = frame.set_geometry(shapely.force_2d(frame.geometry.values))
    _check_coordinates(frame, path.name)
    geometries, repairs = _polygons(frame)
    frame = frame.set_geometry(geopandas.GeoSeries(geometries, index=frame.index, crs=WGS84))
    return BoundaryFile(frame=frame, repairs=repairs, source_crs=source_crs)


def _open_target(path: Path, max_bytes: int) -> tuple[str, str | None]:
    """The GDAL path to read and any text encoding to force, after checking existence, size and format."""
    if not path.is_file():
        raise BadInput(f"找不到边界文件 {path.name}")
    size = path.stat().st_size
    if size == 0:
        raise BadInput(f"边界文件 {path.name} 是空文件")
    if size > max_bytes:
        raise BadInput(f"边界文件 {path.name} 太大（{size / 1048576:.1f} MB，上限 {max_bytes / 1048576:.0f} MB）")
    with path.open("rb") as handle:
        head = handle.read(64)
    if head.startswith(b"PK\x03\x04"):
        return _zip_target(path, max_bytes)
    if head.startswith(b"SQLite format 3\x00") or head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return str(path), None
    if path.suffix.lower() == ".shp":
        return str(path), None
    raise BadInput(f"无法识别边界文件 {path.name} 的格式：请提供 GeoJSON、压缩的 Shapefile（.zip）或 GeoPackage")


def _zip_target(path: Path, max_bytes: int) -> tuple[str, str | None]:
    """The /vsizip/ path of the one Shapefile inside a zip archive and its text encoding; refuses zip bombs."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > max_bytes:
                raise BadInput(f"压缩文件 {path.name} 解压后太大（上限 {max_bytes / 1048576:.0f} MB）")
            shapefiles = sorted(m.filename for m in members if m.filename.lower().endswith(".shp"))
            if not shapefiles:
                raise BadInput(f"压缩文件 {path.name} 中没有 Shapefile（.shp）")
            if len(shapefiles) > 1:
                raise BadInput(f"压缩文件 {path.name} 中有 {len(shapefiles)} 个 Shapefile，请每次只导入一个")
            encoding = _dbf_encoding(archive, shapefiles[0][:-4])
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError) as exc:
        raise BadInput(f"压缩文件 {path.name} 已损坏：{_short(exc)}") from None
    return f"/vsizip/{path.resolve()}/{shapefiles[0]}", encoding


def _dbf_encoding(archive: zipfile.ZipFile, stem: str) -> str | None:
    """The attribute encoding when no .cpg says it: UTF-8 or GBK by trying to decode the records."""
    names = {m.filename.lower(): m.filename for m in archive.infolist()}
    dbf = names.get(f"{stem}.dbf".lower())
    if dbf is None or f"{stem}.cpg".lower() in names:
        return None
    with archive.open(dbf) as handle:
        data = handle.read(4 * 1024 * 1024)
    records = data[int.from_bytes(data[8:10], "little"):] if len(data) > 32 else b""
    if records.isascii():
        return None
    # Without a .cpg GDAL assumes Latin-1; Chinese files are usually GBK (CP936), newer ones UTF-8.
    for encoding in ("utf-8", "gbk"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(records, final=False)
            return encoding.upper()
        except UnicodeDecodeError:
            continue
    return None


def _read_frame(source: str, path: Path, encoding: str | None) -> geopandas.GeoDataFrame:
    """The first polygon layer of the file (or its first layer), any GDAL failure turned into BadInput."""
    # GDAL reports hostile input through many exception types (and a few plain ones); all mean "unreadable".
    try:
        layers = pyogrio.list_layers(source)
        if len(layers) == 0:
            raise BadInput(f"边界文件 {path.name} 中没有图层")
        polygonal = [name for name, kind in layers if kind and "polygon" in str(kind).lower()]
        layer = polygonal[0] if polygonal else layers[0][0]
        options = {"encoding": encoding} if encoding else {}
        return geopandas.read_file(source, layer=layer, engine="pyogrio", **options)
    except BadInput:
        raise
    except Exception as exc:  # noqa: BLE001
        raise BadInput(f"无法读取边界文件 {path.name}：{_short(exc)}") from None


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _to_wgs84(frame: geopandas.GeoDataFrame, crs: str | None, name: str) -> tuple[geopandas.GeoDataFrame, str]:
    """The frame in EPSG:4326 and a text naming the CRS it was read in."""
    if crs is not None and crs.strip().lower() in GCJ02_NAMES:
        if frame.crs is not None and not frame.crs.equals(pyproj.CRS(WGS84)):
            frame = _reproject(frame, name)
        frame = frame.set_geometry(geometry_gcj02_to_wgs84(frame.geometry.values)).set_crs(WGS84, allow_override=True)
        return frame, "gcj02"
    if crs is not None:
        try:
            declared = pyproj.CRS.from_user_input(crs.strip())
        except pyproj.exceptions.CRSError:
            raise BadInput(f"无法识别坐标系 {crs!r}：请写成 EPSG:4326、EPSG:4547 或 gcj02 这样的形式") from None
        frame = frame.set_crs(declared, allow_override=True)
    elif frame.crs is None:
        frame = frame.set_crs(WGS84)
    source_crs = frame.crs.to_string()
    return _reproject(frame, name), source_crs


def _reproject(frame: geopandas.GeoDataFrame, name: str) -> geopandas.GeoDataFrame:
    try:
        return frame.to_crs(WGS84)
    except Exception as exc:  # noqa: BLE001 - pyproj raises several types for unusable coordinates
        raise BadInput(f"边界文件 {name} 无法转换到 WGS-84：{_short(exc)}") from None


def _check_coordinates(frame: geopandas.GeoDataFrame, name: str) -> None:
    """Refuse coordinates that are not longitudes and latitudes, naming the first bad feature."""
    coords, owners = shapely.get_coordinates(frame.geometry.values, return_index=True)
    if coords.size == 0:
        return
    bad = ~np.isfinite(coords).all(axis=1) | (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
    if bad.any():
        first = int(owners[np.argmax(bad)])
        x, y = coords[np.argmax(bad)]
        raise BadInput(f"边界文件 {name} 第 {first + 1} 个要素{_label(frame, first, True)}的坐标 ({x:g}, {y:g}) "
                       "超出经纬度范围（±180°/±90°）：文件可能是投影坐标，请指定坐标系")


def _polygons(frame: geopandas.GeoDataFrame) -> tuple[list, list[Repair]]:
    """Each feature as a valid Polygon/MultiPolygon, repairing invalid ones; other geometries are errors."""
    geometries, repairs = [], []
    for index, geom in enumerate(frame.geometry.values):
        where = f"第 {index + 1} 个要素{_label(frame, index, True)}"
        if geom is None or geom.is_empty:
            raise BadInput(f"{where}没有几何图形")
        if geom.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
            kind = _TYPE_NAMES.get(geom.geom_type, geom.geom_type)
            raise BadInput(f"{where}是{kind}，不是面：边界文件只能包含面（Polygon/MultiPolygon）")
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            geom = shapely.make_valid(geom)
            repairs.append(Repair(index, _label(frame, index, False), _reason_text(reason)))
        geom = _polygonal_part(geom)
        if geom is None or geom.area <= 0:
            raise BadInput(f"{where}没有面积（修复或取面后为空）")
        geometries.append(geom)
    return geometries, repairs


def _polygonal_part(geom):
    """The polygonal content of a geometry (a GeometryCollection keeps its polygons), or None."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    polygons = [q for p in parts for q in shapely.get_parts(p)]
    if not polygons:
        return None
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def _reason_text(reason: str) -> str:
    kind = reason.split("[", 1)[0].strip()
    where = reason[len(kind):].strip()
    text = _REASONS.get(kind, f"几何无效（{kind}）")
    return f"{text}{'（位置 ' + where.strip('[]') + '）' if where else ''}，已用 make_valid 修复"


def _label(frame, index: int, bracketed: bool) -> str:
    """A readable label of a feature: its name and code when the file has them."""
    parts = [p for p in (name_candidates(frame.iloc[[index]])[0], code_candidates(frame.iloc[[index]], None)[0]) if p]
    if not parts:
        return "" if bracketed else f"#{index + 1}"
    text = " ".join(parts)
    return f"（{text}）" if bracketed else text


def code_candidates(frame, code_field: str | None) -> list[str | None]:
    """The administrative code text of each feature: `code_field`, else the most specific code field present."""
    return _field_values(frame, code_field, CODE_FIELDS, _code_text)


def name_candidates(frame, name_field: str | None = None) -> list[str | None]:
    """The name of each feature: `name_field`, else the most specific name field present."""
    return _field_values(frame, name_field, NAME_FIELDS, _name_text)


def _field_values(frame, field: str | None, defaults: tuple[str, ...], clean) -> list[str | None]:
    if field is not None:
        if field not in frame.columns:
            raise BadInput(f"边界文件中没有字段 {field}")
        return [clean(v) for v in frame[field]]
    present = [f for f in defaults if f in frame.columns]
    values = []
    # Per feature, so a merged file of districts (dt_adcode) and the city (ct_adcode only) works too.
    for row in zip(*(frame[f] for f in present)) if present else ([()] * len(frame)):
        values.append(next((c for c in map(clean, row) if c is not None), None))
    return values


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _code_text(value) -> str | None:
    """Codes as digit strings: 410105, 410105.0 and "410105" all give "410105"."""
    if _missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if math.isfinite(value) and float(value).is_integer() else None
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text or None


def _name_text(value) -> str | None:
    if _missing(value):
        return None
    text = str(value).strip()
    return text or None
