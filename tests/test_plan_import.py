"""Importing and exporting plans: validation, atomicity, idempotence, review revisions, round trip."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from support.registry_factories import (BISHAGANG, CITY, HUAIHE_VILLAGE, LINSHANZHAI, PLAN_HEADERS, PLANS, ZHONGYUAN,
                                        dump, fresh_database, registry_content, write_plans, write_units)

from fangxun.core.audit import AuditRecord
from fangxun.core.errors import ImportRejected
from fangxun.plans.models import Contact, Plan, PlanRevision
from fangxun.plans import plan_import
from fangxun.plans.plan_export import PLAN_EXPORT_COLUMNS, export_plan_file, export_unit_file
from fangxun.plans.plan_import import PLAN_ALIASES, import_plan_file
from fangxun.plans.tabular import read_table
from fangxun.plans.unit_import import import_unit_file


@pytest.fixture
async def tree(sessions, tmp_path):
    """The hand-built unit tree, imported."""
    async with sessions() as session, session.begin():
        await import_unit_file(session, write_units(tmp_path / "units.csv"))


async def _import(sessions, path, settings, actor="tester"):
    async with sessions() as session, session.begin():
        return await import_plan_file(session, path, settings.registry, actor=actor)


async def _plans(sessions) -> dict[tuple[str, str], Plan]:
    async with sessions() as session:
        return {(p.unit_code, p.kind): p for p in await session.scalars(select(Plan))}


async def _contacts(sessions) -> dict[tuple[str, str, str], Contact]:
    async with sessions() as session:
        rows = await session.execute(select(Plan.unit_code, Plan.kind, Contact)
                                     .join(Plan, Plan.id == Contact.plan_id))
        return {(code, kind, c.role): c for code, kind, c in rows}


async def _state(sessions):
    async with sessions() as session:
        return await dump(session)


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_import_creates_plans_with_cycle_defaults_due_dates_and_contacts(sessions, tree, tmp_path,
                                                                                 settings):
    result = await _import(sessions, write_plans(tmp_path / "plans.csv"), settings)

    assert (result.created, result.updated, result.unchanged) == (6, 0, 0)
    plans = await _plans(sessions)
    city = plans[(CITY, "flood_plan")]
    assert (city.title, city.version, city.lifecycle) == ("郑州市防汛应急预案", "2.0", "active")
    assert city.review_cycle_months == settings.registry.review_cycle_months["flood_plan"] == 36
    assert (city.approved_on, city.last_reviewed_on, city.next_review_due) == (
        date(2024, 3, 1), date(2025, 3, 1), date(2028, 3, 1))
    district = plans[(ZHONGYUAN, "flood_plan")]
    assert (district.review_cycle_months, district.next_review_due) == (12, date(2021, 1, 1))
    assert plans[(LINSHANZHAI, "flood_scheme")].lifecycle == "revising"
    village = plans[(BISHAGANG, "flood_plan")]
    assert (village.version, village.lifecycle, village.owner_org, village.next_review_due) == (
        "1.0", "active", "", None)
    contacts = await _contacts(sessions)
    assert {(k, c.name, c.phone) for k, c in contacts.items()} == {
        ((CITY, "flood_plan", "responsible"), "王建国", "13900001234"),
        ((CITY, "flood_plan", "deputy"), "李红", "13800001111"),
        ((CITY, "evacuation", "responsible"), "王建国", "13900001234"),
        ((ZHONGYUAN, "flood_plan", "responsible"), "赵刚", "037167881234"),
        ((ZHONGYUAN, "flood_plan", "deputy"), "钱敏", "13700002222"),
        ((LINSHANZHAI, "flood_scheme", "responsible"), "孙丽", "13600003333"),
        ((HUAIHE_VILLAGE, "evacuation", "responsible"), "周强", "13500004444"),
        ((HUAIHE_VILLAGE, "evacuation", "deputy"), "吴芳", "13500005555"),
    }
    assert all(c.unit_code == key[0] for key, c in contacts.items())
    async with sessions() as session:
        audits = (await session.scalars(select(AuditRecord).where(AuditRecord.action == "plans.import"))).all()
    assert [(a.actor, a.after) for a in audits] == [
        ("tester", {"created": 6, "updated": 0, "unchanged": 0})]


async def test_every_bad_row_is_listed_with_its_column_and_a_clean_reason(sessions, tree, tmp_path,
                                                                          settings):
    good = [list(row) for row in PLANS]
    bad = [
        ["410199000000", "flood_plan", "未知单位预案", "", "", "", "", "", "", "", "", "", ""],   # row 8
        ["4101", "flood_plan", "短代码预案", "", "", "", "", "", "", "", "", "", ""],             # row 9
        [CITY, "防汛应急预案", "重复预案", "", "", "", "", "", "", "", "", "", ""],                # row 10
        [ZHONGYUAN, "evacuation", "坏电话", "", "", "", "", "", "", "赵刚", "12ab", "", ""],      # row 11
        [ZHONGYUAN, "other", "坏日期", "", "2024-13-45", "", "", "", "", "", "", "", ""],         # row 12
        [LINSHANZHAI, "应急预案", "未知类型", "", "", "", "", "", "", "", "", "", ""],             # row 13
        [LINSHANZHAI, "flood_plan", "", "", "", "", "", "", "", "", "", "", ""],                 # row 14
        [BISHAGANG, "evacuation", "先评估后批准", "", "2024-05-01", "2024-01-01", "", "", "", "", "",
         "", ""],                                                                                 # row 15
        [BISHAGANG, "other", "周期过长", "", "", "", "300", "", "", "", "", "", ""],              # row 16
        [HUAIHE_VILLAGE, "flood_plan", "有电话无人", "", "", "", "", "", "", "", "", "",
         "13500006666"],                                                                          # row 17
        [HUAIHE_VILLAGE, "other", "未知状态", "", "", "", "", "", "作废", "", "", "", ""],         # row 18
    ]
    path = write_plans(tmp_path / "plans.xlsx", good + bad)

    with pytest.raises(ImportRejected) as caught:
        await _import(sessions, path, settings)

    problems = caught.value.problems
    assert [(p.row, p.column) for p in problems] == [
        (8, "区划代码"), (9, "区划代码"), (10, "预案类型"), (11, "责任人电话"), (12, "批准日期"),
        (13, "预案类型"), (14, "预案名称"), (15, None), (16, "评估周期(月)"), (17, "副责任人"),
        (18, "状态")]
    reasons = {p.row: p.reason for p in problems}
    assert all("Value error" not in r and "Field required" not in r for r in reasons.values())
    assert reasons[8] == "区划代码 410199000000 不在行政区划表中，请先导入区划"
    assert reasons[9].startswith("区划代码应为 12 位数字")
    assert reasons[10] == "与第 2 行重复：同一单位的同类预案只能有一条"
    assert reasons[11].startswith("电话号码无效")
    assert reasons[12].startswith("不是有效日期")
    assert reasons[13].startswith("未知预案类型")
    assert reasons[14] == "不能为空"
    assert reasons[15] == "最近评估日期早于批准日期"
    assert reasons[16] == "不能大于 240"
    assert "副责任人不能为空" in reasons[17]
    assert reasons[18].startswith("未知状态")
    assert "11 处错误" in caught.value.detail
    assert await _count(sessions, Plan) == 0


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_a_bad_file_leaves_the_database_exactly_as_it_was(sessions, tree, tmp_path, settings, suffix):
    await _import(sessions, write_plans(tmp_path / f"good{suffix}"), settings)
    before = await _state(sessions)
    rows = [list(row) for row in PLANS]
    rows[0][5] = "2026-05-01"                                          # a review (would add a revision)
    rows[1][9:11] = ["新责任人", "13911112222"]                          # a contact change
    rows.append([LINSHANZHAI, "flood_plan", "新预案", "", "", "", "", "", "", "", "", "", ""])  # an insert
    rows.append([ZHONGYUAN, "other", "坏电话", "", "", "", "", "", "", "某人", "123", "", ""])  # row 9: bad

    async with sessions() as session, session.begin():
        with pytest.raises(ImportRejected) as caught:
            await import_plan_file(session, write_plans(tmp_path / f"bad{suffix}", rows), settings.registry)
        # The transaction is committed anyway: the import must refuse before writing anything.

    assert [(p.row, p.column) for p in caught.value.problems] == [(9, "责任人电话")]
    assert await _state(sessions) == before


async def test_a_bad_row_in_a_late_chunk_undoes_the_chunks_written_before_and_every_row_is_checked(
        sessions, tree, tmp_path, settings, monkeypatch):
    monkeypatch.setattr(plan_import, "CHUNK_ROWS", 2)  # six good rows write three chunks before the bad ones
    before = await _state(sessions)
    rows = [list(row) for row in PLANS]
    rows.append([ZHONGYUAN, "other", "坏电话", "", "", "", "", "", "", "某人", "123", "", ""])       # row 8
    rows.append([LINSHANZHAI, "flood_plan", "好预案", "", "", "", "", "", "", "", "", "", ""])        # row 9
    rows.append([BISHAGANG, "other", "周期过长", "", "", "", "300", "", "", "", "", "", ""])           # row 10

    with pytest.raises(ImportRejected) as caught:
        await _import(sessions, write_plans(tmp_path / "late.csv", rows), settings)

    assert [(p.row, p.column) for p in caught.value.problems] == [(8, "责任人电话"), (10, "评估周期(月)")]
    assert await _state(sessions) == before


async def test_a_file_of_many_chunks_imports_whole_and_again_changes_nothing(sessions, tree, tmp_path, settings,
                                                                             monkeypatch):
    monkeypatch.setattr(plan_import, "CHUNK_ROWS", 4)
    path = write_plans(tmp_path / "plans.csv")
    first = await _import(sessions, path, settings)
    after_first = await _state(sessions)

    again = await _import(sessions, path, settings)

    assert (first.created, again.created, again.updated, again.unchanged) == (6, 0, 0, 6)
    assert len(await _contacts(sessions)) == 8
    assert await _state(sessions) == after_first


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_reimporting_the_same_file_changes_nothing(sessions, tree, tmp_path, settings, suffix):
    path = write_plans(tmp_path / f"plans{suffix}")
    await _import(sessions, path, settings)
    before = await _state(sessions)

    result = await _import(sessions, path, settings)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 6)
    assert await _state(sessions) == before  # same updated_at, contacts, no revision, no audit row


async def test_a_new_review_date_adds_a_revision_and_only_changed_contacts_are_replaced(
        sessions, tree, tmp_path, settings):
    await _import(sessions, write_plans(tmp_path / "plans.csv"), settings)
    old_plans, old_contacts = await _plans(sessions), await _contacts(sessions)
    rows = [list(row) for row in PLANS]
    rows[0][5] = "2026-05-20"           # city flood plan reviewed again
    rows[0][7] = "2.1"
    rows[2][12] = "13700009999"         # district deputy's phone changed
    rows[3][9:11] = ["", ""]            # township plan loses its responsible person

    result = await _import(sessions, write_plans(tmp_path / "changes.csv", rows), settings, actor="李科员")

    assert (result.created, result.updated, result.unchanged) == (0, 3, 3)
    plans, contacts = await _plans(sessions), await _contacts(sessions)
    city = plans[(CITY, "flood_plan")]
    assert (city.last_reviewed_on, city.next_review_due, city.version) == (
        date(2026, 5, 20), date(2029, 5, 20), "2.1")
    async with sessions() as session:
        revisions = (await session.scalars(select(PlanRevision))).all()
    assert [(r.plan_id, r.action, r.revised_on, r.summary, r.version, r.entered_by) for r in revisions] == [
        (city.id, "review", date(2026, 5, 20), "导入文件更新评估日期", "2.1", "李科员")]
    changed = {key for key in plans if plans[key].updated_at != old_plans[key].updated_at}
    assert changed == {(CITY, "flood_plan")}  # contact changes do not touch the plan row
    deputy = contacts[(ZHONGYUAN, "flood_plan", "deputy")]
    assert (deputy.name, deputy.phone) == ("钱敏", "13700009999")
    assert deputy.id != old_contacts[(ZHONGYUAN, "flood_plan", "deputy")].id
    assert (LINSHANZHAI, "flood_scheme", "responsible") not in contacts
    kept = [(CITY, "flood_plan", "responsible"), (ZHONGYUAN, "flood_plan", "responsible"),
            (HUAIHE_VILLAGE, "evacuation", "deputy")]
    assert all(contacts[key].id == old_contacts[key].id for key in kept)


async def test_a_file_without_contact_columns_leaves_contacts_alone(sessions, tree, tmp_path, settings):
    await _import(sessions, write_plans(tmp_path / "plans.csv"), settings)
    before = await _contacts(sessions)
    rows = [row[:9] for row in PLANS]
    rows[4][2] = "碧沙岗社区防汛应急预案（修订）"

    result = await _import(sessions, write_plans(tmp_path / "bare.csv", rows, PLAN_HEADERS[:9]), settings)

    assert (result.updated, result.unchanged) == (1, 5)
    assert {k: c.id for k, c in (await _contacts(sessions)).items()} == {k: c.id for k, c in before.items()}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_export_then_import_into_a_fresh_database_round_trips(engine, sessions, tree, tmp_path,
                                                                    settings, today, suffix):
    await _import(sessions, write_plans(tmp_path / "plans.csv"), settings)
    units_path, plans_path = tmp_path / f"units{suffix}", tmp_path / f"plans{suffix}"
    async with sessions() as session:
        await export_unit_file(session, units_path)
        assert await export_plan_file(session, plans_path, settings.registry, today) == 6
        original = await registry_content(session)

    async with fresh_database(engine.dialect.name, tmp_path) as other:
        async with other() as session, session.begin():
            await import_unit_file(session, units_path)
            result = await import_plan_file(session, plans_path, settings.registry)
        async with other() as session:
            copied = await registry_content(session)

    assert result.created == 6
    assert copied == original
    assert len(original["contacts"]) == 8


async def test_export_labels_statuses_order_and_subtrees(sessions, tree, tmp_path, settings, today):
    await _import(sessions, write_plans(tmp_path / "plans.csv"), settings)
    path = tmp_path / "export.xlsx"
    async with sessions() as session:
        await export_plan_file(session, path, settings.registry, today)

    rows = [row for _, row in read_table(path, PLAN_ALIASES)]
    assert list(rows[0]) == list(PLAN_EXPORT_COLUMNS)
    assert [(r["unit_code"], r["kind"], r["status"]) for r in rows] == [
        (CITY, "防汛应急预案", "有效"),
        (CITY, "紧急避险安置预案", "即将到期"),
        (ZHONGYUAN, "防汛应急预案", "逾期未评估"),
        (LINSHANZHAI, "防汛应急方案", "修订中"),
        (BISHAGANG, "防汛应急预案", "逾期未评估"),
        (HUAIHE_VILLAGE, "紧急避险安置预案", "有效"),
    ]
    first = rows[0]
    assert (first["lifecycle"], first["approved_on"], first["next_review_due"], first["unit_name"],
            first["responsible_phone"], first["review_cycle_months"]) == (
        "有效", "2024-03-01", "2028-03-01", "郑州市", "13900001234", "36")

    async def exported(root):
        async with sessions() as session:
            return await export_plan_file(session, tmp_path / f"{root}.csv", settings.registry, today, root=root)

    assert await exported(CITY) == 6
    assert await exported(ZHONGYUAN) == 3
    assert await exported(LINSHANZHAI) == 2
    assert await exported(BISHAGANG) == 1
    assert await exported("410103000000") == 1


@pytest.mark.parametrize("headers", [
    PLAN_HEADERS,
    ["UNIT_CODE", "Kind", "title", "owner_org", "approved_on", "last_reviewed_on", "review_cycle_months",
     "version", "lifecycle", "responsible_name", "responsible_phone", "deputy_name", "deputy_phone"],
    ["单位代码", "预案类别", "预案名称", "编制单位", "批准日期", "最近评估日期", "评估周期（月）", "版本",
     "状态", "责任人", "责任人电话", "副责任人", "副责任人电话"],
])
async def test_english_chinese_and_synonym_headers(sessions, tree, tmp_path, settings, headers):
    result = await _import(sessions, write_plans(tmp_path / "plans.csv", headers=headers), settings)

    assert result.created == 6
    assert (await _plans(sessions))[(ZHONGYUAN, "flood_plan")].review_cycle_months == 12


async def test_informational_columns_are_accepted_and_ignored(sessions, tree, tmp_path, settings):
    headers = ["序号", *PLAN_HEADERS, "单位名称", "下次评估日期", "评估状态"]
    rows = [[str(i), *row, "随便写", "1999-01-01", "已废止"] for i, row in enumerate(PLANS, 1)]

    await _import(sessions, write_plans(tmp_path / "plans.csv", rows, headers), settings)

    city = (await _plans(sessions))[(CITY, "flood_plan")]
    assert (city.next_review_due, city.lifecycle) == (date(2028, 3, 1), "active")


async def test_gb18030_csv_with_chinese_headers(sessions, tree, tmp_path, settings):
    lines = [",".join(["区划代码", "预案类型", "预案名称", "批准日期", "责任人", "责任人电话"]),
             f"{ZHONGYUAN},防汛应急预案,中原区防汛应急预案,2024年5月1日,赵刚,13900001234"]
    path = tmp_path / "gbk.csv"
    path.write_bytes("\r\n".join(lines).encode("gb18030"))

    await _import(sessions, path, settings)

    plan = (await _plans(sessions))[(ZHONGYUAN, "flood_plan")]
    assert (plan.title, plan.approved_on) == ("中原区防汛应急预案", date(2024, 5, 1))
    assert (await _contacts(sessions))[(ZHONGYUAN, "flood_plan", "responsible")].name == "赵刚"


async def test_typed_xlsx_cells_numbers_and_dates(sessions, tree, tmp_path, settings):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["区划代码", "预案类型", "预案名称", "批准日期", "评估周期(月)", "版本", "责任人", "责任人电话"])
    sheet.append([int(ZHONGYUAN), "防汛应急预案", "中原区防汛应急预案", datetime(2024, 5, 1), 24, 2,
                  "赵刚", 13900001234])
    sheet.append([float(CITY), "evacuation", "郑州市避险预案", date(2023, 1, 31), 12.0, "1.0", "王建国",
                  13800001111.0])
    path = tmp_path / "typed.xlsx"
    workbook.save(path)

    await _import(sessions, path, settings)

    plans = await _plans(sessions)
    district = plans[(ZHONGYUAN, "flood_plan")]
    assert (district.approved_on, district.review_cycle_months, district.version,
            district.next_review_due) == (date(2024, 5, 1), 24, "2", date(2026, 5, 1))
    city = plans[(CITY, "evacuation")]
    assert (city.approved_on, city.review_cycle_months, city.next_review_due) == (
        date(2023, 1, 31), 12, date(2024, 1, 31))
    phones = {key: c.phone for key, c in (await _contacts(sessions)).items()}
    assert phones == {(ZHONGYUAN, "flood_plan", "responsible"): "13900001234",
                      (CITY, "evacuation", "responsible"): "13800001111"}
