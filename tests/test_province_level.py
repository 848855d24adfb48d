"""The province level: a real province's list (河北, 56,712 units), a pseudo-city (省直辖县级行政区划), a city registry
with its province absent and then imported above it, and the registry's top as the default root."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select
from support.registry_factories import CITY, unit_rows, write_units
from support.shared_data import shared_data_file

from fangxun.core.errors import ImportRejected
from fangxun.plans.models import AdminUnit
from fangxun.plans.stats import registry_stats
from fangxun.plans.unit_import import import_unit_file
from fangxun.plans.unit_queries import in_subtree, root_unit

HEBEI = "130000000000"
HENAN = "410000000000"
# 河南's 省直辖县级行政区划 and 济源市 below it: a county straight under the province through a pseudo-city.
PSEUDO_CITY = [[HENAN, "河南省", "", ""],
               ["419000000000", "省直辖县级行政区划", "city", HENAN],
               ["419001000000", "济源市", "county", "419000000000"],
               ["419001001000", "沁园街道", "township", "419001000000"],
               ["419001001001", "北海社区", "village", "419001001000"]]


async def _import(sessions, path):
    async with sessions() as session, session.begin():
        return await import_unit_file(session, path, actor="tester")


async def _units(sessions) -> dict[str, AdminUnit]:
    async with sessions() as session:
        return {unit.code: unit for unit in await session.scalars(select(AdminUnit))}


def _ancestry(unit: AdminUnit) -> tuple:
    return (unit.level, unit.province_code, unit.city_code, unit.district_code, unit.township_code)


async def test_a_real_province_imports_whole_with_five_levels(sessions, settings, today):
    result = await _import(sessions, shared_data_file("divisions", "hebei_nbs_2023_codes.csv"))

    assert result.created == 56_712
    async with sessions() as session:
        counts = dict((await session.execute(select(AdminUnit.level, func.count()).group_by(AdminUnit.level))).all())
        village = await session.get(AdminUnit, "130102001001")
        top = await root_unit(session, None)
        below = await session.scalar(select(func.count()).where(in_subtree(top)))
        stats = await registry_stats(session, settings.registry, today)
    assert counts == {"province": 1, "city": 11, "district": 190, "township": 2365, "village": 54145}
    assert _ancestry(village) == ("village", HEBEI, "130100000000", "130102000000", "130102001000")
    assert (top.code, top.name, below) == (HEBEI, "河北省", 56_712)
    assert stats["root"]["code"] == HEBEI
    assert stats["units_by_level"] == counts | {"province": 1}
    assert list(stats["units_by_level"]) == ["province", "city", "district", "township", "village"]


async def test_a_county_under_a_pseudo_city_imports(sessions, tmp_path):
    await _import(sessions, write_units(tmp_path / "henan.csv", PSEUDO_CITY))

    units = await _units(sessions)
    assert units[HENAN].level == "province"   # a blank level is read from the code, not taken for a city
    assert _ancestry(units["419001001001"]) == ("village", HENAN, "419000000000", "419001000000", "419001001000")
    assert _ancestry(units["419001000000"]) == ("district", HENAN, "419000000000", "419001000000", None)


async def test_a_city_registry_works_without_its_province_then_gets_it_above(sessions, tmp_path):
    await _import(sessions, write_units(tmp_path / "city.csv"))   # 郑州 names 河南 as parent, not held
    units = await _units(sessions)
    assert units[CITY].parent_code == HENAN and units[CITY].province_code is None
    async with sessions() as session:
        assert (await root_unit(session, None)).code == CITY

    await _import(sessions, write_units(tmp_path / "province.csv", [[HENAN, "河南省", "province", ""]]))

    units = await _units(sessions)
    assert {unit.province_code for unit in units.values()} == {HENAN}   # the stored city and all below it
    async with sessions() as session:
        assert (await root_unit(session, None)).code == HENAN


@pytest.mark.parametrize("row, reason", [
    (["410200000000", "开封市", "city", "410100000000"], "市的上级应为“省”"),
    (["419002000000", "无主县", "county", "419000000000"], "既不在文件中，也不在数据库中"),
    (["420000000000", "湖北省", "city", ""], "级别“市”与区划代码 420000000000 不符"),
])
async def test_a_wrong_province_shape_is_refused_whole(sessions, tmp_path, row, reason):
    path = write_units(tmp_path / "bad.csv", [*unit_rows(), row])

    with pytest.raises(ImportRejected) as caught:
        await _import(sessions, path)

    assert [problem.reason for problem in caught.value.problems if reason in problem.reason]
    assert await _units(sessions) == {}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
async def test_stats_default_to_the_province_once_it_is_imported_above_the_city(dialect, tmp_path):
    from support.command_line import run
    from support.databases import empty_database_url

    async with empty_database_url(dialect, tmp_path, f"province_{uuid.uuid4().hex[:8]}") as url:
        for args in (("db", "upgrade"), ("units", "import", str(write_units(tmp_path / "city.csv")))):
            status, out, err = run("--database-url", url, *args)
            assert status == 0, err
        status, out, err = run("--database-url", url, "stats", "--json")
        assert status == 0, err
        assert json.loads(out)["root"]["code"] == CITY
        status, out, err = run("--database-url", url, "units", "import",
                               str(write_units(tmp_path / "henan.csv", PSEUDO_CITY)))
        assert status == 0, err

        for args in ((), ("--root", HENAN)):
            status, out, err = run("--database-url", url, "stats", "--json", *args)
            assert status == 0, err
            stats = json.loads(out)
            assert (stats["root"]["code"], stats["root"]["level_label"]) == (HENAN, "省")
            assert list(stats["units_by_level"])[:2] == ["province", "city"]
            assert stats["units_by_level"]["city"] == 2   # 郑州 and the pseudo-city
        status, out, err = run("--database-url", url, "stats")
        assert "统计范围：河南省（410000000000）" in out and "省：1 /" in out
