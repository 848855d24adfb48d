"""The annual report in every format: through GET /api/reports/annual (both databases) and `fangxun report annual`
(a SQLite file); the XLSX opens with openpyxl with its sheets and Chinese headers, the CSV holds every table."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import openpyxl
import pytest
from support.api_fixtures import bearer
from support.report_year import YEAR, add_year

from fangxun.core.db import create_engine, session_factory
from fangxun.core.migrate import upgrade
from fangxun.report.render_xlsx import sheet_name
from fangxun.settings import load_settings

URL = "/api/reports/annual"
# The tables in order, by title (sheet names), after the 摘要.
TITLES = ["预案（按级别）", "预案（按类型）", "预案状态（按区县）", "预案覆盖（年末）", "预案覆盖（按级别和类型）", "覆盖缺口明细",
          "预案评估修订", "各月统计", "应对过程一览", "气象预警发布（按类型和颜色）", "通知与叫应", "叫应方式", "电话叫应", "叫应用时分布",
          "演练（不计入预警发布）", "应急响应决定（按级别）", "应急响应决定明细", "灾情与处置（合计）"]


@pytest.fixture
async def year(sessions, settings, today):
    async with sessions() as session, session.begin():
        return await add_year(session, settings, today)


async def _get(client, token, **query):
    return await client.get(URL, params=query, headers=bearer(token))


async def test_json_for_any_role(client, tokens, year):
    response = await _get(client, tokens["viewer"], year=str(YEAR))
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert 'filename="fangxun-annual-2025.json"' in response.headers["Content-Disposition"]
    body = await response.json()
    assert body["year"] == YEAR and body["generated_at"] == "2026-06-01T02:00:00+00:00"
    assert body["summary"].startswith("2025年，全市共编制防汛应急预案及避险安置预案12个")
    assert body["figures"]["warnings"]["total"] == 6 and body["figures"]["drills"]["exercise_warnings"] == 1
    assert [table["title"] for table in body["tables"]] == TITLES


async def test_bad_year_or_format_is_refused(client, tokens):
    for query, field in (({}, "year"), ({"year": "1999"}, "year"), ({"year": "2101"}, "year"),
                         ({"year": "二〇二五"}, "year"), ({"year": "2025", "format": "pdf"}, "format")):
        response = await _get(client, tokens["viewer"], **query)
        assert response.status == 400, query
        body = await response.json()
        assert body["error"] == "bad_input" and body["detail"].startswith(field), body


async def test_signing_in_is_required(client):
    assert (await client.get(URL, params={"year": "2025"})).status == 401


async def test_csv_holds_every_table_under_its_title(client, tokens, year):
    response = await _get(client, tokens["viewer"], year=str(YEAR), format="csv")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="fangxun-annual-2025.csv"' == response.headers["Content-Disposition"]
    raw = await response.read()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    # every table starts after a blank line (the first at the top) with its title alone on a row
    titles = [rows[0][0]] + [rows[i + 1][0] for i, row in enumerate(rows[:-1]) if row == []]
    assert titles == ["摘要", *TITLES]
    start = rows.index(["预案（按级别）"])
    assert rows[start + 1] == ["级别", "预案总数", "有效", "即将到期", "逾期未评估", "修订中", "已废止"]
    assert rows[start + 2] == ["市", "2", "1", "0", "1", "0", "0"]


async def test_xlsx_opens_with_a_sheet_per_table(client, tokens, year):
    response = await _get(client, tokens["viewer"], year=str(YEAR), format="xlsx")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="fangxun-annual-2025.xlsx"' in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(await response.read()))
    assert book.sheetnames == ["摘要", *TITLES]
    assert all(len(name) <= 31 for name in book.sheetnames)
    summary = {row[0]: row[1] for row in book["摘要"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert summary["摘要"].startswith("2025年，全市共编制防汛应急预案及避险安置预案12个")
    warnings = list(book["气象预警发布（按类型和颜色）"].iter_rows(values_only=True))
    assert warnings[0] == ("预警类型", "蓝色", "黄色", "橙色", "红色", "无颜色", "合计")
    assert warnings[1] == ("暴雨", 0, 1, 1, 1, 0, 3)
    drills = list(book["演练（不计入预警发布）"].iter_rows(values_only=True))
    assert drills[:2] == [("类型", "时间", "名称", "通知（人次）", "已叫应", "叫应率（%）"),
                          ("演练预警", "2025-05-10 10:00", "暴雨黄色预警（演练）", 0, 0, None)]
    notifications = {row[0]: row[1:] for row in book["通知与叫应"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert notifications["叫应用时中位数（分钟）"] == (12, 20)


async def test_html_is_self_contained_with_charts(client, tokens, year):
    response = await _get(client, tokens["viewer"], year=str(YEAR), format="html")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["Content-Disposition"] == 'inline; filename="fangxun-annual-2025.html"'
    html = await response.text()
    assert html.count("<svg") == 4 and "<script" not in html
    for chart in ("events_by_month", "warnings_by_month", "ack_times", "plans_by_district"):
        assert f'data-chart="{chart}"' in html
    assert "src=" not in html and "href=" not in html   # nothing to load
    assert "未发生因灾死亡" in html


def test_sheet_names_are_valid_and_unique():
    taken: set[str] = set()
    long = "很长的表名" * 8
    first, second = sheet_name(long, taken), sheet_name(long, taken)
    assert len(first) == 31 and len(second) == 31 and first != second
    assert sheet_name("a/b:c*?[d]", taken) == "abcd"


def test_the_command_writes_every_format(tmp_path):
    import asyncio
    from datetime import date

    url = f"sqlite:///{tmp_path}/report.db"

    async def build():
        engine = create_engine(url)
        try:
            await upgrade(engine)
            async with session_factory(engine)() as session, session.begin():
                await add_year(session, load_settings(), date(2026, 6, 1))
        finally:
            await engine.dispose()

    asyncio.run(build())
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "fangxun.cli", "--database-url", url, "report", "annual",
                           "--year", str(YEAR), "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "全市共编制防汛应急预案及避险安置预案12个" in done.stdout
    names = sorted(path.name for path in out.iterdir())
    assert {"fangxun-annual-2025.json", "fangxun-annual-2025.xlsx", "fangxun-annual-2025.html",
            "fangxun-annual-2025-summary.csv", "fangxun-annual-2025-warnings.csv"} <= set(names)
    assert len([name for name in names if name.endswith(".csv")]) == 1 + len(TITLES)
    assert json.loads((out / "fangxun-annual-2025.json").read_text("utf-8"))["figures"]["events"]["total"] == 3
    warnings_csv = (out / "fangxun-annual-2025-warnings.csv").read_text("utf-8-sig").splitlines()
    assert warnings_csv[0] == "预警类型,蓝色,黄色,橙色,红色,无颜色,合计"

    refused = subprocess.run([sys.executable, "-m", "fangxun.cli", "--database-url", url, "report", "annual",
                              "--year", "1999", "--out", str(tmp_path / "none")], capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode == 2 and "year" in refused.stderr
    assert not (tmp_path / "none").exists()


def test_chart_axes_use_whole_steps():
    from fangxun.report.charts import axis

    # at most five steps of 1, 2 or 5 × 10ⁿ: 4 events -> 0..4 by 1; 18 warnings -> 0..20 by 5; 743 -> 0..800 by 200
    assert [axis(value) for value in (0, 4, 6, 18, 743, 18937)] == [
        (1, 1), (4, 1), (6, 2), (20, 5), (800, 200), (20000, 5000)]


def test_charts_escape_their_labels_and_draw_a_bar_per_value():
    from fangxun.report.charts import Series, bar_chart, column_chart

    hostile = '<script>alert(1)</script>"'
    svg = column_chart("x", hostile, ["1月", hostile], [Series(hostile, (1, 0), "#123456"),
                                                       Series("乙", (2, 3), "#654321")])
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<rect") == 2 + 3      # two legend swatches, three non-zero values
    svg = bar_chart("y", "区县", [hostile, "乙区"], [Series("有效", (5, 0), "#0f0")])
    assert "<script" not in svg and svg.count("<rect") == 1 + 1


def test_a_long_gap_list_is_cut_on_the_page_only():
    from fangxun.report.model import Table
    from fangxun.report.render_html import table_html

    table = Table("coverage_gaps", "覆盖缺口明细", ("区划代码",), tuple((f"{i:012d}",) for i in range(500)))
    html = table_html(table, 300)
    assert html.count("<tr>") == 1 + 300 and "共 500 行" in html
    assert table_html(table).count("<tr>") == 1 + 500
