"""Reading boundary files: CRS handling (GCJ-02, projected, override), repairs, formats, hostile files."""

import json
import zipfile

import geopandas
import numpy as np
import pytest
import shapely
from support.geo_samples import CITY, JINSHUI, boundary_path, feature, metres_between, write_features

from fangxun.core.errors import BadInput
from fangxun.geo.boundary_file import code_candidates, name_candidates, read_boundaries
from fangxun.geo.gcj02 import wgs84_to_gcj02


@pytest.fixture(scope="module")
def jinshui():
    """金水区 as read from the shared WGS-84 file."""
    return read_boundaries(boundary_path(JINSHUI)).frame


def _to_gcj02(coords):
    return np.column_stack(wgs84_to_gcj02(coords[:, 0], coords[:, 1]))


def _vertices(frame):
    return shapely.get_coordinates(frame.geometry.values)


def _hausdorff_metres(frame, other):
    """Hausdorff distance of the first features, in metres (1e-5° is about a metre here)."""
    return shapely.hausdorff_distance(frame.geometry.iloc[0], other.geometry.iloc[0]) * 111_320


def test_shared_file_reads_as_one_clean_wgs84_feature(jinshui):
    result = read_boundaries(boundary_path(JINSHUI))
    assert result.source_crs == "EPSG:4326" and result.repairs == []
    assert result.frame.crs.to_epsg() == 4326 and len(result.frame) == 1
    assert result.frame.geometry.iloc[0].geom_type in ("Polygon", "MultiPolygon")


def test_gcj02_copy_lands_within_metres_of_its_wgs84_twin(jinshui, tmp_path):
    shifted = shapely.transform(jinshui.geometry.iloc[0], _to_gcj02)
    path = write_features(tmp_path / "jinshui_gcj02.geojson", [feature(shifted, dt_adcode="410105")])

    converted = read_boundaries(path, crs="gcj02")
    assert converted.source_crs == "gcj02"
    assert metres_between(_vertices(converted.frame), _vertices(jinshui)).max() < 1.0

    unconverted = read_boundaries(path)
    off = metres_between(_vertices(unconverted.frame), _vertices(jinshui))
    assert 400 < np.median(off) < 800   # read as if it were WGS-84, it sits ~500 m away


def test_bow_tie_is_repaired_and_reported(tmp_path):
    bow_tie = {"type": "Polygon", "coordinates": [[[113.60, 34.70], [113.62, 34.72], [113.62, 34.70],
                                                    [113.60, 34.72], [113.60, 34.70]]]}
    path = write_features(tmp_path / "bowtie.geojson", [
        feature(shapely.box(113.5, 34.6, 113.55, 34.65), name="好的", code="410105001000"),
        feature(bow_tie, name="蝴蝶", code="410105002000")])
    result = read_boundaries(path)
    assert len(result.repairs) == 1
    repair = result.repairs[0]
    assert repair.feature == 1 and "蝴蝶" in repair.label and "410105002000" in repair.label
    assert "自相交" in repair.reason and "make_valid" in repair.reason
    repaired = result.frame.geometry.iloc[1]
    assert repaired.is_valid and repaired.geom_type == "MultiPolygon"
    assert repaired.area == pytest.approx(0.0002, rel=1e-9)   # two triangles of 0.0001 deg²


def test_geometry_collection_keeps_its_polygons(tmp_path):
    mixed = shapely.GeometryCollection([shapely.box(113.5, 34.6, 113.6, 34.7),
                                        shapely.LineString([(113.0, 34.0), (113.1, 34.1)])])
    result = read_boundaries(write_features(tmp_path / "gc.geojson", [feature(mixed, code="410105")]))
    assert result.frame.geometry.iloc[0].equals(shapely.box(113.5, 34.6, 113.6, 34.7))


def test_gauss_kruger_geopackage_reprojects_back(jinshui, tmp_path):
    path = tmp_path / "jinshui_4547.gpkg"
    jinshui.to_crs("EPSG:4547").to_file(path, driver="GPKG", engine="pyogrio")
    result = read_boundaries(path)
    assert result.source_crs == "EPSG:4547"
    assert metres_between(_vertices(result.frame), _vertices(jinshui)).max() < 0.05
    assert code_candidates(result.frame, None) == ["410105"]


def _zipped_shapefile(frame, folder, name, keep_prj=True, encoding="UTF-8", keep_cpg=True):
    frame.to_file(folder / f"{name}.shp", engine="pyogrio", encoding=encoding)
    archive = folder / f"{name}.zip"
    dropped = {".zip"} | ({".prj"} if not keep_prj else set()) | ({".cpg"} if not keep_cpg else set())
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in sorted(folder.glob(f"{name}.*")):
            if part.suffix not in dropped:
                zipped.write(part, f"{name}/{part.name}")
    return archive


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
def test_shapefile_without_cpg_keeps_chinese_names(jinshui, tmp_path, encoding):
    archive = _zipped_shapefile(jinshui, tmp_path, "nocpg", encoding=encoding, keep_cpg=False)
    assert name_candidates(read_boundaries(archive).frame) == ["金水区"]


def test_zipped_shapefile_round_trip_with_chinese_names(jinshui, tmp_path):
    archive = _zipped_shapefile(jinshui.to_crs("EPSG:3857"), tmp_path, "jinshui")
    result = read_boundaries(archive)
    assert result.source_crs == "EPSG:3857"
    assert name_candidates(result.frame) == ["金水区"] and code_candidates(result.frame, None) == ["410105"]
    # Shapefiles store rings clockwise and single parts as Polygon: compare shapes, not vertex order
    assert _hausdorff_metres(result.frame, jinshui) < 0.05


def test_crs_override_for_a_file_without_one(jinshui, tmp_path):
    archive = _zipped_shapefile(jinshui.to_crs("EPSG:3857"), tmp_path, "noprj", keep_prj=False)
    with pytest.raises(BadInput, match="超出经纬度范围"):
        read_boundaries(archive)   # metres read as degrees
    result = read_boundaries(archive, crs="EPSG:3857")
    assert result.source_crs == "EPSG:3857"
    assert _hausdorff_metres(result.frame, jinshui) < 0.05
    with pytest.raises(BadInput, match="坐标系"):
        read_boundaries(archive, crs="EPSG:99999999")


def test_geopackage_picks_the_polygon_layer(jinshui, tmp_path):
    path = tmp_path / "two_layers.gpkg"
    points = geopandas.GeoDataFrame({"name": ["安置点"]}, geometry=[shapely.Point(113.7, 34.8)], crs="EPSG:4326")
    points.to_file(path, layer="shelters", driver="GPKG", engine="pyogrio")
    jinshui.to_file(path, layer="districts", driver="GPKG", engine="pyogrio")
    result = read_boundaries(path)
    assert name_candidates(result.frame) == ["金水区"]


def test_code_and_name_candidates_on_the_shared_files():
    district = read_boundaries(boundary_path(JINSHUI)).frame
    city = read_boundaries(boundary_path(CITY)).frame
    # the district file also carries its city's ct_adcode: the most specific code wins
    assert code_candidates(district, None) == ["410105"]
    assert code_candidates(city, None) == ["410100"]
    assert name_candidates(district) == ["金水区"] and name_candidates(city) == ["郑州市"]
    assert code_candidates(district, "ct_adcode") == ["410100"]
    with pytest.raises(BadInput, match="没有字段"):
        code_candidates(district, "区划")


def test_code_candidates_turn_numbers_into_digit_strings():
    frame = geopandas.GeoDataFrame(
        {"adcode": [410105, None, 410102], "dt_adcode": [None, 410103.0, None], "名称": ["甲", None, " 乙 "]},
        geometry=[shapely.box(0, 0, 1, 1)] * 3)
    assert code_candidates(frame, None) == ["410105", "410103", "410102"]
    assert name_candidates(frame) == ["甲", None, "乙"]
    assert code_candidates(frame.drop(columns=["adcode", "dt_adcode"]), None) == [None, None, None]


HOSTILE = {
    "empty.geojson": b"",
    "noise.geojson": bytes(range(256)) * 8,
    "words.txt": "这不是地图文件".encode(),
    "truncated.geojson": b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Pol',
    "array.json": b'{"type": 5}',
    "no_features.geojson": b'{"type": "FeatureCollection", "features": []}',
    "fake.zip": b"PK\x03\x04 not really a zip",
    "fake.gpkg": b"SQLite format 3\x00" + b"\x00" * 200,
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_bytes_are_bad_input(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(HOSTILE[name])
    with pytest.raises(BadInput):
        read_boundaries(path)


def test_hostile_contents_are_bad_input_naming_the_feature(tmp_path):
    points = write_features(tmp_path / "points.geojson", [feature(shapely.Point(113.7, 34.8), name="点")])
    with pytest.raises(BadInput, match="第 1 个要素.*点"):
        read_boundaries(points)
    far = write_features(tmp_path / "far.geojson", [
        feature(shapely.box(113.5, 34.6, 113.6, 34.7)),
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
            [[500.0, 34.0], [501.0, 34.0], [501.0, 35.0], [500.0, 34.0]]]}}])
    with pytest.raises(BadInput, match="第 2 个要素.*超出经纬度范围"):
        read_boundaries(far)
    null = write_features(tmp_path / "null.geojson", [feature(None, code="410105")])
    with pytest.raises(BadInput, match="没有几何图形"):
        read_boundaries(null)
    sliver = write_features(tmp_path / "sliver.geojson", [{"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [[[113.5, 34.6], [113.6, 34.6], [113.7, 34.6], [113.5, 34.6]]]}}])
    with pytest.raises(BadInput, match="没有面积"):
        read_boundaries(sliver)


def test_zip_archives_without_one_shapefile_and_oversized_files(tmp_path):
    archive = tmp_path / "readme.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("readme.txt", "没有图层")
    with pytest.raises(BadInput, match="没有 Shapefile"):
        read_boundaries(archive)
    with pytest.raises(BadInput, match="找不到"):
        read_boundaries(tmp_path / "missing.geojson")
    big = write_features(tmp_path / "big.geojson", [feature(shapely.box(113.5, 34.6, 113.6, 34.7))])
    with pytest.raises(BadInput, match="太大"):
        read_boundaries(big, max_bytes=100)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("a.shp", b"\x00" * 5000)
    with pytest.raises(BadInput, match="解压后太大"):
        read_boundaries(bomb, max_bytes=1000)


def test_a_single_feature_file_and_a_json_with_bom(tmp_path):
    single = json.loads(boundary_path(JINSHUI).read_text(encoding="utf-8"))
    path = tmp_path / "single.geojson"
    path.write_text("\ufeff" + json.dumps(single), encoding="utf-8")
    assert code_candidates(read_boundaries(path).frame, None) == ["410105"]
