"""The `fangxun` command end to end, as a user runs it, on a SQLite file and on PostgreSQL."""

import json
import subprocess
import sys
from importlib import resources

import pytest
from support.databases import empty_database_url

UNITS_CSV = """区划代码,名称,级别,上级代码
410100000000,测试市,city,410000000000
410102000000,甲区,county,410100000000
410102001000,一号街道,,410102000000
410102001001,东村,village,410102001000
"""
PLANS_CSV = """区划代码,预案类型,预案名称,编制单位,批准日期,最近评估日期,评估周期(月),版本,状态,责任人,责任人电话,副责任人,副责任人电话
410102001001,防汛应急预案,东村防汛应急预案,东村村民委员会,2024-05-01,,12,1.0,有效,张三,13900000001,李四,13900000002
410102000000,flood_plan,甲区防汛应急预案,甲区人民政府,2021-01-01,,36,1.0,有效,王五,13900000003,,
"""


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path):
    """A URL of an empty database: a SQLite file, or a throwaway PostgreSQL database."""
    async with empty_database_url(request.param, tmp_path, "cli") as url:
        yield url


def fangxun(url, *args, stdin=None):
    """Run the command; returns (exit status, stdout, stderr)."""
    done = subprocess.run([sys.executable, "-m", "fangxun.cli", "--database-url", url, *args],
                          input=stdin, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def stats(url):
    code, out, err = fangxun(url, "stats", "--json")
    assert code == 0, err
    return json.loads(out)


def test_import_export_stats_round_trip(database_url, tmp_path):
    units, plans, exported = tmp_path / "units.csv", tmp_path / "plans.csv", tmp_path / "out.xlsx"
    units.write_text(UNITS_CSV, encoding="utf-8")
    plans.write_text(PLANS_CSV, encoding="utf-8")
    assert fangxun(database_url, "units", "import", str(units))[0] == 0
    code, out, err = fangxun(database_url, "plans", "import", str(plans))
    assert code == 0, err
    assert "新增 2" in out
    assert "未变 2" in fangxun(database_url, "plans", "import", str(plans))[1]   # idempotent
    assert fangxun(database_url, "plans", "export", str(exported))[0] == 0
    assert "未变 2" in fangxun(database_url, "plans", "import", str(exported))[1]  # export round-trips
    figures = stats(database_url)
    assert figures["units_by_level"] == {"city": 1, "district": 1, "township": 1, "village": 1}
    assert figures["plans_by_kind"]["flood_plan"] == 2


def test_bad_file_lists_every_row_exits_2_and_changes_nothing(database_url, tmp_path):
    good, bad = tmp_path / "units.csv", tmp_path / "bad.csv"
    good.write_text(UNITS_CSV, encoding="utf-8")
    assert fangxun(database_url, "units", "import", str(good))[0] == 0
    before = stats(database_url)
    bad.write_text("code,name,level,parent_code\n"
                   "410102002000,二号镇,township,410102000000\n"
                   "41010200300,短代码,township,410102000000\n"
                   "410102004001,孤村,village,410102004000\n", encoding="utf-8")
    code, out, err = fangxun(database_url, "units", "import", str(bad))
    assert code == 2
    assert "第 3 行" in err and "第 4 行" in err
    assert "二号镇" not in out
    assert stats(database_url) == before


def test_token_user_and_config_commands(database_url, tmp_path):
    code, out, _ = fangxun(database_url, "token", "create", "--role", "viewer", "--label", "大屏")
    assert code == 0 and out.strip().splitlines()[-1].startswith("fx_")
    assert fangxun(database_url, "token", "create", "--role", "boss")[0] == 2
    assert fangxun(database_url, "user", "create", "duty01", "--role", "editor", stdin="long-enough-pw\n")[0] == 0
    code, _, err = fangxun(database_url, "user", "create", "duty01", "--role", "editor", stdin="long-enough-pw\n")
    assert code == 2 and "已存在" in err
    code, _, err = fangxun(database_url, "user", "create", "duty02", "--role", "editor", stdin="short\n")
    assert code == 2 and len(err.strip().splitlines()) == 1
    bad = tmp_path / "bad.toml"
    bad.write_text('[registry.required_kinds]\nvillage = ["dam_plan"]\n', encoding="utf-8")
    code, _, err = fangxun(database_url, "--config", str(bad), "check-config")
    assert code == 2 and "dam_plan" in err and str(bad) in err


def test_geo_import_and_map_export(database_url, tmp_path):
    units = tmp_path / "units.csv"
    units.write_text(UNITS_CSV.replace("410102000000,甲区", "410105000000,金水区")
                     .replace("410102001000,一号街道,,410102000000", "410105001000,一号街道,,410105000000")
                     .replace("410102001001,东村,village,410102001000", "410105001001,东村,village,410105001000"),
                     encoding="utf-8")
    assert fangxun(database_url, "units", "import", str(units))[0] == 0
    jinshui = resources.files("fangxun.demo.data").joinpath("boundaries/410105000000.geojson")
    with resources.as_file(jinshui) as path:
        code, out, err = fangxun(database_url, "geo", "import", str(path), "--level", "district")
    assert code == 0, err
    assert "已更新 1 个区划的边界" in out
    stranger = tmp_path / "stranger.geojson"
    stranger.write_text(jinshui.read_text(encoding="utf-8").replace('"410105"', '"410199"'), encoding="utf-8")
    code, _, err = fangxun(database_url, "geo", "import", str(stranger))
    assert code == 2 and "410199" in err
    page = tmp_path / "map.html"
    code, out, err = fangxun(database_url, "map", "export", str(page))
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    assert "金水区" in html and "https://" not in html.replace("https://leafletjs.com", "")
