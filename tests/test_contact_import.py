"""责任人 lists: each unit a file names gets exactly its persons (plan copies changed in place), all rows or none,
a dry run writes nothing, and every changed contact is audited with before and after."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select
from support.registry_factories import dump
from support.warning_factories import add_registry

from fangxun.core.audit import AuditRecord
from fangxun.core.errors import ImportRejected
from fangxun.plans.contact_import import import_contact_file
from fangxun.plans.models import AdminUnit, Contact
from fangxun.plans.tabular import write_table
from fangxun.plans.unit_rules import ancestors

DISTRICT_A, TOWN_2, EAST_VILLAGE = "410102000000", "410102002000", "410102002001"
HEADERS = ["区划代码", "单位名称", "所属区县", "姓名", "职务", "角色", "手机", "固话"]
# A second 东村, in 乙区's 三号街道: 东村 alone no longer names one unit.
OTHER_EAST_VILLAGE = ("410103001001", "东村", "410103001000")


async def _registry(sessions) -> None:
    async with sessions() as session, session.begin():
        await add_registry(session)
        await session.execute(insert(AdminUnit).values(
            code=OTHER_EAST_VILLAGE[0], name="东村", level="village", parent_code=OTHER_EAST_VILLAGE[2],
            **ancestors("village", OTHER_EAST_VILLAGE[0], OTHER_EAST_VILLAGE[2],
                        {"city_code": "410100000000", "district_code": "410103000000",
                         "township_code": "410103001000"})))


async def _persons(sessions, unit: str) -> list[tuple]:
    async with sessions() as session:
        rows = await session.execute(select(Contact.id, Contact.plan_id, Contact.role, Contact.name, Contact.position,
                                            Contact.phone, Contact.channels)
                                     .where(Contact.unit_code == unit).order_by(Contact.id))
        return [tuple(row) for row in rows]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_a_list_gives_each_named_unit_exactly_its_persons(sessions, tmp_path, suffix):
    await _registry(sessions)
    before_a = await _persons(sessions, DISTRICT_A)
    chief_ids = [row[0] for row in before_a if row[3] == "甲区区长"]
    assert len(chief_ids) == 2  # named in two plans
    path = tmp_path / f"责任人{suffix}"
    write_table(path, HEADERS, [
        [DISTRICT_A, "", "", "甲区区长", "区长", "责任人", "139 0000 1111", "0371-12345678"],
        [DISTRICT_A, "", "", "甲区新副区长", "副区长", "副责任人", "+86 13900002222", ""],
        ["", "东村", "甲区", "东村支书", "支部书记", "责任人", "13900000008", ""],
    ])
    async with sessions() as session, session.begin():
        result = await import_contact_file(session, path, actor="user:duty01")
    assert (result.units, result.created, result.updated, result.deleted, result.unchanged) == (2, 1, 2, 2, 0)

    after_a = await _persons(sessions, DISTRICT_A)
    # Both plan copies of 甲区区长 keep their ids and plans, with the new phone, position and landline.
    chiefs = [row for row in after_a if row[3] == "甲区区长"]
    assert [row[0] for row in chiefs] == chief_ids
    assert [row[1:] for row in chiefs] == [
        (plan, "responsible", "甲区区长", "区长", "13900001111", {"landline": "037112345678"})
        for plan in sorted({row[1] for row in before_a if row[3] == "甲区区长"})]
    assert "甲区副区长" not in {row[3] for row in after_a}
    new_deputy = next(row for row in after_a if row[3] == "甲区新副区长")
    assert new_deputy[1:] == (None, "deputy", "甲区新副区长", "副区长", "13900002222", {})
    # 东村 of 甲区: 东村主任, not listed, is gone; 东村支书 (two copies) takes the position.
    village = await _persons(sessions, EAST_VILLAGE)
    assert {(row[3], row[4]) for row in village} == {("东村支书", "支部书记")}
    # Units the file does not name are untouched.
    assert [row[3] for row in await _persons(sessions, "410103000000")] == ["乙区区长", "乙区前副区长"]

    async with sessions() as session, session.begin():
        again = await import_contact_file(session, path, actor="user:duty01")
    assert (again.created, again.updated, again.deleted, again.unchanged) == (0, 0, 0, 3)


async def test_each_changed_contact_is_audited_with_before_and_after(sessions, tmp_path):
    await _registry(sessions)
    path = tmp_path / "list.csv"
    write_table(path, HEADERS, [[DISTRICT_A, "", "", "甲区区长", "", "责任人", "13900001111", ""]])
    async with sessions() as session, session.begin():
        result = await import_contact_file(session, path, actor="user:duty01")
    async with sessions() as session:
        rows = (await session.execute(select(AuditRecord).order_by(AuditRecord.id))).scalars().all()
    by_action = {}
    for row in rows:
        by_action.setdefault(row.action, []).append(row)
    updates = by_action["contact.import.update"]
    assert len(updates) == 2 and {r.actor for r in updates} == {"user:duty01"}
    assert {(r.before["phone"], r.after["phone"]) for r in updates} == {("13900000001", "13900001111")}
    assert {r.target_id for r in updates} == {str(c.target_id) for c in result.changes if c.action == "update"}
    [deleted] = by_action["contact.import.delete"]
    assert deleted.before["name"] == "甲区副区长" and deleted.after is None
    [summary] = by_action["contacts.import"]
    assert summary.after == {"units": 1, "created": 0, "updated": 1, "deleted": 1, "unchanged": 0, "file": "list.csv"}


async def test_a_bad_list_is_refused_whole_naming_rows_and_fields(sessions, tmp_path):
    await _registry(sessions)
    path = tmp_path / "bad.xlsx"
    write_table(path, HEADERS, [
        [DISTRICT_A, "", "", "甲区区长", "", "责任人", "13900001111", ""],        # fine, but not written
        ["", "东村", "", "王五", "", "责任人", "13900003333", ""],                 # 3: two 东村
        ["", "北村", "甲区", "赵六", "", "责任人", "13900004444", ""],             # 4: no such unit
        [DISTRICT_A, "", "", "孙七", "", "组长", "12345", "12"],                  # 5: role, mobile, landline
        [DISTRICT_A, "", "", "甲区区长", "", "副责任人", "13900005555", ""],       # 6: listed twice
        ["410102000000", "乙区", "", "周八", "", "责任人", "13900006666", ""],     # 7: code and name disagree
    ])
    async with sessions() as session:
        before = await dump(session)
    with pytest.raises(ImportRejected) as caught:
        async with sessions() as session, session.begin():
            await import_contact_file(session, path, actor="user:duty01")
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {(3, "单位名称"), (4, "单位名称"), (5, "角色"), (5, "手机"), (5, "固话"), (6, "姓名"), (7, "单位名称")}
    texts = {(p.row, p.column): p.reason for p in caught.value.problems}
    assert "2 个同名单位" in texts[(3, "单位名称")] and "甲区 · 二号镇 · 东村" in texts[(3, "单位名称")]
    assert "第 2 行" in texts[(6, "姓名")]
    assert "未导入任何数据" in caught.value.detail
    async with sessions() as session:
        assert await dump(session) == before


async def test_a_list_without_unit_columns_or_rows_is_refused(sessions, tmp_path):
    await _registry(sessions)
    no_unit = tmp_path / "no_unit.csv"
    write_table(no_unit, ["姓名", "角色", "手机"], [["张三", "责任人", "13900001111"]])
    with pytest.raises(ImportRejected) as caught:
        async with sessions() as session, session.begin():
            await import_contact_file(session, no_unit)
    assert [(p.row, p.column) for p in caught.value.problems] == [(1, "区划代码")]
    missing_mobile = tmp_path / "no_mobile.csv"
    write_table(missing_mobile, ["区划代码", "姓名", "角色"], [[DISTRICT_A, "张三", "责任人"]])
    with pytest.raises(ImportRejected) as caught:
        async with sessions() as session, session.begin():
            await import_contact_file(session, missing_mobile)
    assert [(p.row, p.column) for p in caught.value.problems] == [(1, "手机")]


async def test_a_dry_run_lists_the_changes_and_writes_nothing(sessions, tmp_path):
    await _registry(sessions)
    path = tmp_path / "list.csv"
    write_table(path, HEADERS, [[DISTRICT_A, "", "", "甲区区长", "", "责任人", "13900001111", ""],
                                [TOWN_2, "", "", "二号镇新镇长", "镇长", "责任人", "13900007777", ""]])
    async with sessions() as session:
        before = await dump(session)
    async with sessions() as session, session.begin():
        result = await import_contact_file(session, path, actor="user:duty01", dry_run=True)
    assert result.dry_run and (result.created, result.updated, result.deleted) == (1, 1, 3)
    assert {(c.action, c.name) for c in result.changes} == {
        ("update", "甲区区长"), ("delete", "甲区副区长"), ("create", "二号镇新镇长"), ("delete", "二号镇镇长"),
        ("delete", "二号镇副镇长")}
    async with sessions() as session:
        assert await dump(session) == before

