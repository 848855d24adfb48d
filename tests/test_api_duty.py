"""The duty roster through the API: lines listed, set and removed by editors, checked like the import, audited."""

from __future__ import annotations

from sqlalchemy import func, select
from support.api_fixtures import bearer

from fangxun.core.audit import AuditRecord
from fangxun.plans.tabular import write_table
from fangxun.warnings.duty.roster_import import import_roster_file
from fangxun.warnings.duty.tables import DutyRosterEntry

LINE = {"officer_name": "张三", "officer_phone": "139-0000-0101", "leader_name": "王局长", "leader_phone": "13800000101"}


async def audit(sessions, action: str) -> list[AuditRecord]:
    async with sessions() as session:
        return list((await session.execute(select(AuditRecord).where(AuditRecord.action == action)
                                           .order_by(AuditRecord.id))).scalars())


async def lines(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(DutyRosterEntry))


async def test_an_editor_sets_changes_lists_and_removes_a_line(client, sessions, tokens):
    editor = bearer(tokens["editor"])
    response = await client.put("/api/duty/roster/water/2026-06-01/全天", json=LINE, headers=editor)
    assert response.status == 201, await response.text()
    created = await response.json()
    assert (created["desk_name"], created["officer_phone"], created["shift"]) == ("市水利局值班室", "13900000101", "全天")

    now = await (await client.get("/api/duty/now", headers=bearer(tokens["viewer"]))).json()
    on_duty = {desk["desk"]: desk for desk in now["desks"]}
    assert on_duty["water"]["officer_name"] == "张三" and on_duty["city"]["officer_name"] is None

    changed = {**LINE, "officer_name": "李四"}
    response = await client.put("/api/duty/roster/water/2026-06-01/全天", json=changed, headers=editor)
    assert response.status == 200
    listed = await (await client.get("/api/duty/roster?desk=water&from=2026-06-01&to=2026-06-07",
                                     headers=bearer(tokens["viewer"]))).json()
    assert [(line["duty_date"], line["officer_name"]) for line in listed["lines"]] == [("2026-06-01", "李四")]
    [put, again] = await audit(sessions, "duty.roster.put")
    assert put.before is None and put.after["officer_name"] == "张三"
    assert (again.before["officer_name"], again.after["officer_name"]) == ("张三", "李四")

    response = await client.delete("/api/duty/roster/water/2026-06-01/全天", headers=editor)
    assert response.status == 200 and (await response.json())["deleted"]["officer_name"] == "李四"
    assert await lines(sessions) == 0
    [removed] = await audit(sessions, "duty.roster.delete")
    assert removed.before["officer_name"] == "李四" and removed.after is None
    response = await client.delete("/api/duty/roster/water/2026-06-01/全天", headers=editor)
    assert response.status == 404


async def test_bad_lines_are_refused_naming_the_field_and_change_nothing(client, sessions, tokens):
    editor = bearer(tokens["editor"])
    cases = [
        ("/api/duty/roster/water/2026-06-01/全天", {**LINE, "officer_phone": "12"}, "officer_phone", "电话"),
        ("/api/duty/roster/water/2026-06-01/全天", {**LINE, "leader_name": ""}, "leader_name", "不能为空"),
        ("/api/duty/roster/water/2026-06-01/早班", LINE, "shift", "未知班次"),
        ("/api/duty/roster/nowhere/2026-06-01/全天", LINE, "desk", "未知值班席位"),
        ("/api/duty/roster/water/2026-02-30/全天", LINE, "duty_date", "日期"),
        ("/api/duty/roster/water/2026-06-01/全天", {**LINE, "officer_name": ["张三"]}, "officer_name", "应为文本"),
    ]
    for path, body, field, words in cases:
        response = await client.put(path, json=body, headers=editor)
        answer = await response.json()
        assert response.status == 400, (path, answer)
        assert answer["field"] == field and words in answer["detail"], answer
    assert await lines(sessions) == 0
    assert await audit(sessions, "duty.roster.put") == []

    assert (await client.put("/api/duty/roster/water/2026-06-01/白班", json=LINE, headers=editor)).status == 201
    response = await client.put("/api/duty/roster/water/2026-06-01/全天", json=LINE, headers=editor)
    assert response.status == 409 and "重叠" in (await response.json())["detail"]
    assert (await client.put("/api/duty/roster/water/2026-06-01/夜班", json=LINE, headers=editor)).status == 201
    assert await lines(sessions) == 2


async def test_viewers_read_but_do_not_write(client, sessions, tokens):
    viewer = bearer(tokens["viewer"])
    assert (await client.put("/api/duty/roster/water/2026-06-01/全天", json=LINE, headers=viewer)).status == 403
    assert (await client.delete("/api/duty/roster/water/2026-06-01/全天", headers=viewer)).status == 403
    assert (await client.get("/api/duty/roster", headers=viewer)).status == 200
    assert (await client.get("/api/duty/roster?from=2026-06-08&to=2026-06-01", headers=viewer)).status == 400
    assert await lines(sessions) == 0


async def test_an_import_is_audited_with_what_it_replaced(sessions, settings, tmp_path):
    path = tmp_path / "water.csv"
    write_table(path, ["日期", "班次", "值班员", "电话", "带班领导", "电话"],
                [["2026-06-01", "全天", "张三", "13900000101", "王局长", "13800000101"]])
    for _ in range(2):
        async with sessions() as session, session.begin():
            await import_roster_file(session, path, "water", settings.warnings.departments, actor="admin")
    first, second = await audit(sessions, "duty.import")
    assert (first.actor, first.target_id, first.before, first.after["file"]) == ("admin", "water", {"lines": []},
                                                                                 "water.csv")
    assert [line["officer_name"] for line in second.before["lines"]] == ["张三"]
    assert second.after["lines"][0]["officer_phone"] == "13900000101"
