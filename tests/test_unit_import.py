"""Importing and exporting administrative units: hierarchy rules, atomicity, idempotence, round trip."""

from __future__ import annotations

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from support.registry_factories import (BISHAGANG, CITY, ERQI, HUAIHE, HUAIHE_VILLAGE, JIANSHE_VILLAGE, JIANSHELU,
                                        LINSHANZHAI, UNIT_HEADERS, ZHONGYUAN, dump, fresh_database, registry_content,
                                        unit_rows, write_units)

from fangxun.core.audit import AuditRecord
from fangxun.core.errors import BadInput, ImportRejected
from fangxun.plans.models import AdminUnit
from fangxun.plans.plan_export import export_unit_file
from fangxun.plans.tabular import ImportResult, Problem, read_table
from fangxun.plans.unit_import import UNIT_ALIASES, import_unit_file


async def _import(sessions, path, actor="tester"):
    async with sessions() as session, session.begin():
        return await import_unit_file(session, path, actor=actor)


async def _units(sessions) -> dict[str, AdminUnit]:
    async with sessions() as session:
        return {u.code: u for u in await session.scalars(select(AdminUnit))}


async def _state(sessions):
    async with sessions() as session:
        return await dump(session)


async def _rejected(sessions, path) -> list[Problem]:
    with pytest.raises(ImportRejected) as caught:
        await _import(sessions, path)
    return caught.value.problems


async def test_children_before_parents_import_with_ancestor_columns(sessions, tmp_path):
    path = write_units(tmp_path / "units.csv", unit_rows("reversed"))

    result = await _import(sessions, path)

    assert (result.created, result.updated, result.unchanged) == (10, 0, 0)
    units = await _units(sessions)
    assert len(units) == 10
    city = units[CITY]
    assert (city.level, city.parent_code, city.city_code, city.district_code) == (
        "city", "410000000000", CITY, None)
    assert units[ZHONGYUAN].level == "district"  # "county" in the file
    assert (units[ZHONGYUAN].city_code, units[ZHONGYUAN].district_code) == (CITY, ZHONGYUAN)
    assert (units[HUAIHE].city_code, units[HUAIHE].district_code, units[HUAIHE].township_code) == (
        CITY, ERQI, HUAIHE)
    village = units[BISHAGANG]
    assert (village.level, village.parent_code) == ("village", LINSHANZHAI)
    assert (village.city_code, village.district_code, village.township_code) == (
        CITY, ZHONGYUAN, LINSHANZHAI)
    async with sessions() as session:
        audits = (await session.scalars(select(AuditRecord))).all()
    assert [(a.action, a.actor, a.after) for a in audits] == [
        ("units.import", "tester", {"created": 10, "updated": 0, "unchanged": 0})]


async def test_every_hierarchy_error_is_listed_with_its_row_and_column(sessions, tmp_path):
    rows = unit_rows() + [
        ["41010200300", "短代码", "", ZHONGYUAN],                  # row 12: 11 digits
        [BISHAGANG, "碧沙岗社区（重复）", "village", LINSHANZHAI],    # row 13: duplicate code
        ["410102003000", "错级街道", "village", ZHONGYUAN],          # row 14: level contradicts code
        ["410104001000", "孤儿街道", "", "410104000000"],            # row 15: parent nowhere
        ["410102001003", "越级社区", "", ZHONGYUAN],                 # row 16: parent is a district
        ["410102001004", "", "", LINSHANZHAI],                      # row 17: blank name
        ["410105000000", "无上级区", "district", ""],                # row 18: district without parent
        ["410106000000", "怪级别区", "大区", CITY],                  # row 19: unknown level label
        ["410107000000", "坏上级区", "", "4101"],                    # row 20: malformed parent code
    ]
    path = write_units(tmp_path / "units.csv", rows)

    problems = await _rejected(sessions, path)

    found = [(p.row, p.column) for p in problems]
    assert found == [(12, "区划代码"), (13, "区划代码"), (14, "级别"), (15, "上级代码"),
                     (16, "上级代码"), (17, "名称"), (18, "上级代码"), (19, "级别"), (20, "上级代码")]
    reasons = {p.row: p.reason for p in problems}
    assert "12 位数字" in reasons[12]
    assert "与第 8 行重复" in reasons[13]
    assert "不符" in reasons[14] and "乡镇街道" in reasons[14]
    assert "410104000000" in reasons[15] and "既不在文件中，也不在数据库中" in reasons[15]
    assert "区县" in reasons[16] and "乡镇街道" in reasons[16]
    assert reasons[17] == "名称不能为空"
    assert "必须填写上级代码" in reasons[18]
    assert "未知级别" in reasons[19]
    assert "12 位数字" in reasons[20]
    assert str(problems[0]).startswith("第 12 行 [区划代码]：")
    assert await _units(sessions) == {}


async def test_parent_known_only_from_the_database_is_accepted(sessions, tmp_path):
    await _import(sessions, write_units(tmp_path / "tree.csv", unit_rows()[:6]))
    later = [["410103001002", "新村社区", "村", HUAIHE]]

    result = await _import(sessions, write_units(tmp_path / "more.csv", later))

    assert (result.created, result.updated, result.unchanged) == (1, 0, 0)
    assert (await _units(sessions))["410103001002"].district_code == ERQI


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_a_bad_file_leaves_the_database_exactly_as_it_was(sessions, tmp_path, suffix):
    await _import(sessions, write_units(tmp_path / f"good{suffix}"))
    before = await _state(sessions)
    rows = unit_rows()
    rows[1][1] = "中原区（改名）"                            # a valid change ...
    rows.append(["410108000000", "新区", "district", CITY])  # ... a valid addition ...
    rows.append(["410109001001", "无主社区", "", "410109001000"])  # ... and one bad row

    async with sessions() as session, session.begin():
        with pytest.raises(ImportRejected) as caught:
            await import_unit_file(session, write_units(tmp_path / f"bad{suffix}", rows))
        # The transaction is committed anyway: the import must refuse before writing anything.

    assert [(p.row, p.column) for p in caught.value.problems] == [(13, "上级代码")]
    assert await _state(sessions) == before


async def test_reimporting_the_same_file_changes_nothing(sessions, tmp_path):
    path = write_units(tmp_path / "units.xlsx")
    await _import(sessions, path)
    before = await _state(sessions)

    result = await _import(sessions, path)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 10)
    assert str(result) == "新增 0 条，更新 0 条，未变 10 条"
    assert await _state(sessions) == before  # same updated_at, no audit row added


async def test_changes_update_only_changed_units_and_moved_subtrees(sessions, tmp_path):
    await _import(sessions, write_units(tmp_path / "units.csv"))
    old = await _units(sessions)
    rows = [
        [ZHONGYUAN, "中原区（新）", "", CITY],        # renamed
        [JIANSHELU, "建设路街道", "", ERQI],           # moved to the other district, with its village
        [HUAIHE, "淮河路街道", "township", ERQI],      # identical
    ]

    result = await _import(sessions, write_units(tmp_path / "changes.csv", rows))

    assert (result.created, result.updated, result.unchanged) == (0, 3, 1)
    new = await _units(sessions)
    assert new[ZHONGYUAN].name == "中原区（新）"
    assert (new[JIANSHELU].parent_code, new[JIANSHELU].district_code) == (ERQI, ERQI)
    assert new[JIANSHE_VILLAGE].district_code == ERQI  # not in the file, follows its township
    changed = {code for code in new if new[code].updated_at != old[code].updated_at}
    assert changed == {ZHONGYUAN, JIANSHELU, JIANSHE_VILLAGE}


@pytest.mark.parametrize("headers", [
    ["统计用区划代码", "单位名称", "层级", "上级区划代码"],
    ["区划代码", "名称", "级别", "上级代码"],
    ["代码", " 名称 ", "级别", "上级代码"],
    ["CODE", "Name", " Level ", "Parent_Code"],
])
async def test_chinese_and_english_headers_and_level_labels(sessions, tmp_path, headers):
    labels = {"city": "市", "county": "区县", "district": "县级", "township": "乡镇街道",
              "village": "村社区"}
    rows = [[code, name, labels[level], parent] for code, name, level, parent in unit_rows()]
    rows[-1][2] = ""  # blank level: derived from the code

    result = await _import(sessions, write_units(tmp_path / "units.xlsx", rows, headers))

    assert result.created == 10
    levels = {code: u.level for code, u in (await _units(sessions)).items()}
    assert (levels[CITY], levels[ZHONGYUAN], levels[HUAIHE], levels[HUAIHE_VILLAGE]) == (
        "city", "district", "township", "village")


async def test_gb18030_encoded_csv(sessions, tmp_path):
    lines = ["区划代码,名称,级别,上级代码"] + [",".join(row) for row in unit_rows()]
    path = tmp_path / "units-gbk.csv"
    path.write_bytes("\r\n".join(lines).encode("gb18030"))

    await _import(sessions, path)

    units = await _units(sessions)
    assert units[LINSHANZHAI].name == "林山寨街道"
    assert units[ZHONGYUAN].name == "中原区"


async def test_numeric_codes_in_xlsx_cells(sessions, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["区划代码", "名称", "级别", "上级代码"])
    for code, name, level, parent in unit_rows():
        sheet.append([int(code), name, level, float(parent)])  # as Excel stores typed numbers
    path = tmp_path / "numbers.xlsx"
    workbook.save(path)

    await _import(sessions, path)

    units = await _units(sessions)
    assert set(units) == {row[0] for row in unit_rows()}
    assert units[CITY].parent_code == "410000000000"
    assert units[BISHAGANG].parent_code == LINSHANZHAI


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_export_then_import_into_a_fresh_database_round_trips(engine, sessions, tmp_path, suffix):
    await _import(sessions, write_units(tmp_path / "units.csv", unit_rows("reversed")))
    path = tmp_path / f"export{suffix}"
    async with sessions() as session:
        assert await export_unit_file(session, path) == 10
        original = await registry_content(session)

    async with fresh_database(engine.dialect.name, tmp_path) as other:
        async with other() as session, session.begin():
            result = await import_unit_file(session, path)
        async with other() as session:
            copied = await registry_content(session)

    assert result.created == 10
    assert copied["units"] == original["units"]
    header = read_table(path, UNIT_ALIASES)[0][1]
    assert list(header) == UNIT_HEADERS


async def test_file_level_problems(tmp_path):
    with pytest.raises(BadInput, match="不支持的文件类型"):
        read_table(tmp_path / "units.xls", UNIT_ALIASES)
    with pytest.raises(BadInput, match="找不到文件"):
        read_table(tmp_path / "missing.csv", UNIT_ALIASES)
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(BadInput, match="不是有效的 Excel"):
        read_table(tmp_path / "broken.xlsx", UNIT_ALIASES)
    path = tmp_path / "headers.csv"
    path.write_text("区划代码,名称,备注\n410100000000,郑州市,x\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        read_table(path, UNIT_ALIASES, required=("code", "name", "parent_code"))
    assert [str(p) for p in caught.value.problems] == [
        "第 1 行 [备注]：无法识别的列名“备注”", "第 1 行 [上级代码]：缺少必需的列“上级代码”"]
    assert caught.value.extra["problems"][0] == {"row": 1, "column": "备注", "reason": "无法识别的列名“备注”"}


async def test_blank_lines_are_skipped_and_row_numbers_follow_the_sheet(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("code,name,level,parent_code\n\n410100000000,郑州市,,\n,,,\n"
                    "410102000000,中原区,,410100000000\n", encoding="utf-8-sig")
    rows = read_table(path, UNIT_ALIASES)
    assert [(number, row["code"]) for number, row in rows] == [(3, CITY), (5, ZHONGYUAN)]


def test_problem_and_result_texts():
    assert str(Problem(12, "区划代码", "区划代码应为 12 位数字")) == "第 12 行 [区划代码]：区划代码应为 12 位数字"
    assert str(Problem(3, None, "x")) == "第 3 行：x"
    assert str(ImportResult(12, 3, 100)) == "新增 12 条，更新 3 条，未变 100 条"


async def test_nothing_changed_means_no_audit_row(sessions, tmp_path):
    path = write_units(tmp_path / "units.csv")
    await _import(sessions, path)
    await _import(sessions, path)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditRecord)) == 1
