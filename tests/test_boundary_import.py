"""Boundary import into the registry on both databases: matching, repairs, all-or-nothing, the area index."""

import csv
import json
from importlib import resources

import pytest
import shapely
from sqlalchemy import select

from fangxun.core.errors import BadInput, ImportRejected
from fangxun.plans.area_index import unit_index
from fangxun.plans.boundary_import import import_boundaries
from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_import import import_units

BOUNDARIES = resources.files("fangxun.demo.data").joinpath("boundaries")
JINSHUI = "410105000000"


def _feature_collection(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def _shared_feature(code):
    return json.loads(BOUNDARIES.joinpath(f"{code}.geojson").read_text(encoding="utf-8"))


@pytest.fixture
async def districts(sessions):
    """The city, its 15 county-level units and 金水区's first township, from the packaged list."""
    with resources.as_file(resources.files("fangxun.demo.data").joinpath("zhengzhou_nbs_2023_codes.csv")) as p:
        rows = [r for r in csv.DictReader(p.open(encoding="utf-8")) if r["level"] in ("city", "county")
                or r["code"] == "410105001000"]
    async with sessions() as session, session.begin():
        await import_units(session, list(enumerate(rows, start=2)), actor="test")


async def _geometries(sessions):
    async with sessions() as session:
        rows = (await session.execute(select(AdminUnit.code, AdminUnit.geometry, AdminUnit.geometry_synthetic))).all()
    return {code: (geometry, synthetic) for code, geometry, synthetic in rows}


async def test_shared_files_import_and_feed_the_area_index(districts, sessions, tmp_path):
    codes = [entry.name.removesuffix(".geojson") for entry in BOUNDARIES.iterdir() if entry.name.endswith(".geojson")]
    path = _feature_collection(tmp_path / "zz.geojson", [_shared_feature(c) for c in sorted(codes)])
    async with sessions() as session, session.begin():
        result = await import_boundaries(session, path, actor="test")
    assert result.matched == 13
    # the 3 development zones have no published boundary and are listed as left without one
    assert {code for code, _ in result.without_geometry} == {"410171000000", "410172000000", "410173000000"}
    stored = await _geometries(sessions)
    assert stored[JINSHUI][0] is not None and stored[JINSHUI][1] is False
    async with sessions() as session:
        index = await unit_index(session)
        assert index.containing(113.68, 34.80, level="district") == [JINSHUI]   # 金水区 near 东风路
        assert index.containing(113.68, 34.80) == ["410100000000", JINSHUI]


async def test_unknown_code_fails_the_whole_file(districts, sessions, tmp_path):
    stranger = _shared_feature("410102000000")
    stranger["properties"]["dt_adcode"] = "410199"
    path = _feature_collection(tmp_path / "bad.geojson", [_shared_feature(JINSHUI), stranger])
    before = await _geometries(sessions)
    async with sessions() as session:
        with pytest.raises(ImportRejected) as caught:
            await import_boundaries(session, path, actor="test")
    assert [(p.row, "410199" in p.reason) for p in caught.value.problems] == [(2, True)]
    assert await _geometries(sessions) == before


async def test_match_by_name_within_parent_and_level_check(districts, sessions, tmp_path):
    coded = _feature_collection(tmp_path / "coded.geojson", [_shared_feature(JINSHUI)])
    async with sessions() as session:
        with pytest.raises(ImportRejected, match="不是乡镇街道"):
            await import_boundaries(session, coded, level="township", actor="test")
    feature = _shared_feature(JINSHUI)
    feature["properties"] = {"name": "金水区", "parent_code": "410100"}
    named = _feature_collection(tmp_path / "named.geojson", [feature])
    async with sessions() as session:
        with pytest.raises(ImportRejected, match="找不到"):
            await import_boundaries(session, named, level="village", actor="test")
    async with sessions() as session, session.begin():
        assert (await import_boundaries(session, named, level="district", actor="test")).matched == 1
    assert (await _geometries(sessions))[JINSHUI][0] is not None


async def test_bow_tie_is_repaired_and_reported(districts, sessions, tmp_path):
    bow_tie = {"type": "Feature", "properties": {"code": "410105001000"},
               "geometry": {"type": "Polygon", "coordinates": [[[113.60, 34.70], [113.62, 34.72], [113.62, 34.70],
                                                                [113.60, 34.72], [113.60, 34.70]]]}}
    path = _feature_collection(tmp_path / "bowtie.geojson", [bow_tie])
    async with sessions() as session, session.begin():
        result = await import_boundaries(session, path, actor="test")
    assert result.matched == 1 and len(result.repairs) == 1
    stored = shapely.from_wkb((await _geometries(sessions))["410105001000"][0])
    assert stored.is_valid and stored.area == pytest.approx(0.0002, rel=1e-6)   # two triangles of 0.0001


async def test_unreadable_file_is_bad_input(districts, sessions, tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    async with sessions() as session:
        with pytest.raises(BadInput):
            await import_boundaries(session, path, actor="test")


async def test_area_index_follows_boundary_changes(districts, sessions, tmp_path):
    first = _feature_collection(tmp_path / "first.geojson", [_shared_feature(JINSHUI)])
    square = {"type": "Feature", "properties": {"code": JINSHUI},
              "geometry": {"type": "Polygon", "coordinates": [[[113.0, 34.3], [113.1, 34.3], [113.1, 34.4],
                                                               [113.0, 34.4], [113.0, 34.3]]]}}
    moved = _feature_collection(tmp_path / "moved.geojson", [square])
    async with sessions() as session, session.begin():
        await import_boundaries(session, first, actor="test")
    async with sessions() as session:
        assert (await unit_index(session)).containing(113.68, 34.80) == [JINSHUI]
    async with sessions() as session, session.begin():
        await import_boundaries(session, moved, actor="test")
    async with sessions() as session:
        index = await unit_index(session)
        assert index.containing(113.68, 34.80) == []
        assert index.containing(113.05, 34.35) == [JINSHUI]
