"""Shelter lists: capacity and coordinates checked, a point far outside its unit's imported boundary refused (a
schematic one is not checked), each named unit gets exactly the file's shelters, audited, and on the map."""

from __future__ import annotations

import pytest
import shapely
from sqlalchemy import select, update
from support.registry_factories import dump
from support.tree import add_units

from fangxun.core.audit import AuditRecord
from fangxun.core.errors import ImportRejected
from fangxun.plans.map_data import map_frames
from fangxun.plans.models import AdminUnit, Shelter
from fangxun.plans.shelter_import import import_shelter_file
from fangxun.plans.shelter_rules import metres_outside
from fangxun.plans.tabular import write_table

EAST_VILLAGE, WEST_VILLAGE, TOWN_2 = "410102002001", "410102002002", "410102002000"
HEADERS = ["区划代码", "单位名称", "所属区县", "名称", "容量", "地址", "经度", "纬度"]
BOX = shapely.box(113.60, 34.70, 113.62, 34.72)


async def _tree(sessions) -> None:
    async with sessions() as session, session.begin():
        await add_units(session)
        # 东村 has an imported boundary; 西村 only a schematic one (the demo's kind).
        await session.execute(update(AdminUnit).where(AdminUnit.code == EAST_VILLAGE).values(
            geometry=shapely.to_wkb(BOX), geometry_synthetic=False))
        await session.execute(update(AdminUnit).where(AdminUnit.code == WEST_VILLAGE).values(
            geometry=shapely.to_wkb(BOX), geometry_synthetic=True))


async def _shelters(sessions) -> list[tuple]:
    async with sessions() as session:
        rows = await session.execute(select(Shelter.id, Shelter.unit_code, Shelter.name, Shelter.capacity,
                                            Shelter.address, Shelter.lon, Shelter.lat).order_by(Shelter.id))
        return [tuple(row) for row in rows]


def test_distance_outside_a_boundary_is_in_metres():
    assert metres_outside(BOX, 113.61, 34.71) == 0
    # 0.01° of longitude east of the box at 34.7° N is about 915 m.
    assert 900 < metres_outside(BOX, 113.63, 34.71) < 930


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_a_list_replaces_the_shelters_of_the_units_it_names_and_the_map_shows_them(
        sessions, settings, today, tmp_path, suffix):
    await _tree(sessions)
    first = tmp_path / f"first{suffix}"
    write_table(first, HEADERS, [
        [EAST_VILLAGE, "", "", "东村小学", "300", "东村大街 1 号", "113.61", "34.71"],
        ["", "东村", "甲区", "东村文化广场", "1,200", "", "113.625", "34.71"],   # ~460 m outside: near enough
        ["", "西村", "", "西村村委会", "80", "", "113.90", "34.90"],           # schematic boundary: not checked
        [TOWN_2, "", "", "二号镇中学", "500", "", "", ""],                      # no place yet
    ])
    async with sessions() as session, session.begin():
        result = await import_shelter_file(session, first, actor="user:duty01")
    assert (result.units, result.created, result.updated, result.deleted) == (3, 4, 0, 0)
    school_id = next(row[0] for row in await _shelters(sessions) if row[2] == "东村小学")

    second = tmp_path / f"second{suffix}"
    write_table(second, HEADERS, [[EAST_VILLAGE, "", "", "东村小学", "350", "东村大街 1 号", "113.61", "34.71"]])
    async with sessions() as session, session.begin():
        result = await import_shelter_file(session, second, actor="user:duty01")
    assert (result.units, result.created, result.updated, result.deleted, result.unchanged) == (1, 0, 1, 1, 0)
    assert await _shelters(sessions) == [
        (school_id, EAST_VILLAGE, "东村小学", 350, "东村大街 1 号", 113.61, 34.71),
        (school_id + 2, WEST_VILLAGE, "西村村委会", 80, "", 113.90, 34.90),
        (school_id + 3, TOWN_2, "二号镇中学", 500, "", None, None)]
    async with sessions() as session:
        audit = (await session.execute(select(AuditRecord).where(AuditRecord.target_id == str(school_id))
                                       .order_by(AuditRecord.id))).scalars().all()
        _, shelters = await map_frames(session, settings.registry, today)
    assert [(r.action, r.before and r.before["capacity"], r.after["capacity"]) for r in audit] == [
        ("shelter.import.create", None, 300), ("shelter.import.update", 300, 350)]
    # The map's shelter layer: every placed shelter, none without a place.
    assert sorted(shelters["name"]) == ["东村小学", "西村村委会"]


async def test_a_bad_shelter_list_is_refused_whole_naming_rows_and_fields(sessions, tmp_path):
    await _tree(sessions)
    path = tmp_path / "bad.csv"
    write_table(path, HEADERS, [
        [EAST_VILLAGE, "", "", "东村小学", "300", "", "113.61", "34.71"],       # fine, not written
        [EAST_VILLAGE, "", "", "东村礼堂", "-5", "", "", ""],                    # 3: capacity < 0
        [EAST_VILLAGE, "", "", "东村祠堂", "许多", "", "", ""],                  # 4: capacity not a number
        [EAST_VILLAGE, "", "", "东村仓库", "10", "", "190", "34.71"],           # 5: longitude off the globe
        [EAST_VILLAGE, "", "", "东村广场", "10", "", "113.61", ""],             # 6: latitude missing
        [EAST_VILLAGE, "", "", "东村水塔", "10", "", "113.70", "34.71"],        # 7: ~7 km outside the boundary
        [EAST_VILLAGE, "", "", "东村小学", "20", "", "", ""],                    # 8: listed twice
        ["", "北村", "", "北村小学", "10", "", "", ""],                          # 9: no such unit
    ])
    async with sessions() as session:
        before = await dump(session)
    with pytest.raises(ImportRejected) as caught:
        async with sessions() as session, session.begin():
            await import_shelter_file(session, path)
    texts = {(p.row, p.column): p.reason for p in caught.value.problems}
    assert set(texts) == {(3, "容量"), (4, "容量"), (5, "经度"), (6, "纬度"), (7, "经度"), (8, "名称"), (9, "单位名称")}
    assert "边界外约 7.3 公里" in texts[(7, "经度")]
    async with sessions() as session:
        assert await dump(session) == before
