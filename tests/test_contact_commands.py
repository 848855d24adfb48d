"""fangxun contacts import, shelters import and audit as a user runs them, on both databases."""

from __future__ import annotations

import json

import pytest

from fangxun.plans.tabular import write_table

DISTRICT_A = "410102000000"


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
async def test_list_imports_with_a_dry_run_first_then_the_audit_of_a_contact(dialect, tmp_path):
    from support.command_line import registry_database, run

    contacts = tmp_path / "责任人.xlsx"
    write_table(contacts, ["单位名称", "所属区县", "姓名", "职务", "角色", "手机", "固话"],
                [["甲区", "甲区", "甲区区长", "区长", "责任人", "13900001111", ""]])
    shelters = tmp_path / "安置点.csv"
    write_table(shelters, ["区划代码", "名称", "容量", "地址", "经度", "纬度"],
                [[DISTRICT_A, "甲区体育馆", "2000", "体育路 1 号", "113.65", "34.75"]])
    async with registry_database(dialect, tmp_path) as url:
        status, out, err = run("--database-url", url, "contacts", "import", str(contacts), "--dry-run")
        assert status == 0, err
        assert "检查通过（--dry-run，未写入）：涉及 1 个单位：新增 0 条，更新 1 条，删除 1 条" in out
        assert "删除\t410102000000\t甲区副区长" in out
        status, out, err = run("--database-url", url, "contacts", "import", str(contacts), "--json")
        assert status == 0, err
        changed = json.loads(out)
        assert (changed["dry_run"], changed["updated"], changed["deleted"]) == (False, 1, 1)
        contact_id = next(c["target_id"] for c in changed["changes"] if c["action"] == "update")

        status, out, err = run("--database-url", url, "audit", "--target", f"contact:{contact_id}", "--json")
        assert status == 0, err
        [item] = json.loads(out)["items"]
        assert (item["actor"], item["action"]) == ("cli", "contact.import.update")
        assert (item["before"]["phone"], item["after"]["phone"]) == ("13900000001", "13900001111")
        status, out, err = run("--database-url", url, "audit", "--target", f"contact:{contact_id}",
                               "--since", "2000-01-01")
        assert status == 0 and "contact.import.update" in out and "共 1 条" in out

        status, out, err = run("--database-url", url, "shelters", "import", str(shelters))
        assert status == 0, err
        assert "避险安置点导入完成：涉及 1 个单位：新增 1 条" in out
        bad = tmp_path / "bad.csv"
        write_table(bad, ["区划代码", "名称", "容量"], [[DISTRICT_A, "甲区体育馆", "-1"]])
        status, out, err = run("--database-url", url, "shelters", "import", str(bad))
        assert status == 2 and "第 2 行 [容量]：不能小于 0" in err
