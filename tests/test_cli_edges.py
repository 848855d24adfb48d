"""The `fangxun` command at its edges, run as a user runs it: argparse speaks Chinese, a busy port is one Chinese line
and exit 2, and the expected failures (a bad configuration, a database that cannot be reached, a missing or
unwritable file) are one Chinese line on stderr without a traceback, on SQLite and on PostgreSQL."""

from __future__ import annotations

import errno
import re
import socket

import pytest
from support.command_line import run
from support.databases import PG_URL, empty_database_url

from fangxun.core.os_errors import os_error_text

# What must never reach a user of the command: argparse's and the system's English, a traceback.
ENGLISH = ("usage:", "error:", "Traceback", "the following arguments", "invalid choice", "unrecognized arguments",
           "expected one argument", "invalid int value", "show this help", "Address already in use",
           "No such file", "Connect call failed", "Connection refused", "does not exist", "Name or service")


def _refused_port() -> int:
    with socket.socket() as probe:   # bound and closed: nothing listens there now
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _english_in(text: str) -> list[str]:
    return [phrase for phrase in ENGLISH if phrase in text]


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path):
    """A URL of an empty database: a SQLite file, or a throwaway PostgreSQL database."""
    async with empty_database_url(request.param, tmp_path, "edges") as url:
        yield url


def test_a_busy_port_is_one_chinese_line_and_exit_2(tmp_path, database_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for extra in ((), ("--demo",)):   # said at once, before the demo would load
            code, out, err = run("--database-url", database_url, "serve", "--port", str(port), *extra)
            assert code == 2 and out == ""
            assert err.splitlines() == [f"fangxun: 无法监听 127.0.0.1:{port}：端口已被占用（另一个程序正在使用它）；"
                                        f"请换一个端口，如 --port {port + 1}"], err
    assert not (tmp_path / "edges.db").exists()


@pytest.mark.parametrize(("args", "said"), [
    ((), "fangxun：错误：缺少必需的参数：命令"),
    (("nosuch",), "fangxun：错误：参数 命令：无效的取值 'nosuch'（可选：'serve', 'db'"),
    (("token", "create"), "fangxun token create：错误：缺少必需的参数：--role"),
    (("token", "create", "--role", "boss"),
     "fangxun token create：错误：参数 --role：无效的取值 'boss'（可选：'viewer', 'reporter', 'editor', 'admin'）"),
    (("stats", "--bogus"), "fangxun：错误：无法识别的参数：--bogus"),
    (("serve", "--port"), "fangxun serve：错误：参数 --port：缺少参数值"),
    (("serve", "--port", "abc"), "fangxun serve：错误：参数 --port：应为整数，而不是 'abc'"),
])
def test_argparse_errors_are_in_chinese(args, said):
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert err.startswith("用法：fangxun") and said in err, err
    assert _english_in(err) == []


def test_help_is_in_chinese_and_documents_the_port():
    code, out, err = run("serve", "--help")
    assert code == 0 and err == ""
    assert out.startswith("用法：fangxun serve") and "选项:" in out and "显示本帮助并退出" in out
    assert re.search(r"--port PORT\s+监听的端口", out) and "--host HOST" in out
    assert _english_in(out) == []
    code, out, _ = run("--help")
    assert code == 0 and "显示版本号并退出" in out and "位置参数:" in out and _english_in(out) == []


def _config(tmp_path, text: str) -> str:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("case", "config", "said"), [
    ("syntax", "[server]\nport = 80a\n", "不是有效的 TOML：第 2 行第 10 列：一行只能写一个键值"),
    ("unclosed table", "[server\n", "不是有效的 TOML：第 1 行第 8 列：表名后缺少“]”"),
    ("unknown key", "[server]\nprot = 8080\n", "server.prot: 不认识的配置项（拼写错误？）"),
    ("proxy", '[server]\ntrusted_proxies = ["proxy.intranet"]\n', "server.trusted_proxies: 'proxy.intranet' 不是 IP 地址或网段"),
    ("old throttle key", "[auth]\nlogin_attempts = 5\n", "auth.login_attempts: 不认识的配置项"),
])
def test_a_bad_configuration_file_is_one_line_naming_file_and_key(tmp_path, database_url, case, config, said):
    path = _config(tmp_path, config)
    code, out, err = run("--database-url", database_url, "--config", path, "stats")
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and path in err and said in err, (case, err)
    assert _english_in(err) == []


def test_a_missing_configuration_file_is_one_line():
    code, _, err = run("--config", "/nonexistent/fangxun.toml", "check-config")
    assert code == 2 and err == "fangxun: /nonexistent/fangxun.toml：配置文件不存在\n"


UNREACHABLE = {
    "pg-refused": (lambda tmp: f"postgresql://postgres@127.0.0.1:{_refused_port()}/test", "连接被拒绝（对方没有在该端口监听）"),
    "pg-no-database": (lambda tmp: PG_URL.rsplit("/", 1)[0] + "/fx_no_such_database", "数据库 fx_no_such_database 不存在"),
    "pg-unknown-host": (lambda tmp: "postgresql://postgres@db-host.invalid/test", "找不到该主机"),
    "sqlite-not-a-database": (lambda tmp: f"sqlite:///{tmp}/garbage.db", "garbage.db 不是 SQLite 数据库文件"),
    "sqlite-a-directory": (lambda tmp: f"sqlite:///{tmp}", "是目录，不是数据库文件"),
}


@pytest.mark.parametrize(("case", "command"), [
    *[(case, ("stats",)) for case in UNREACHABLE],
    *[(case, command) for case in ("pg-refused", "sqlite-not-a-database")
      for command in (("serve", "--port", "0"), ("dispatch",))],
])
def test_a_database_that_cannot_be_reached_is_one_chinese_line(tmp_path, case, command):
    (tmp_path / "garbage.db").write_bytes(b"not a database, only text " * 20)
    url, said = UNREACHABLE[case]
    code, out, err = run("--database-url", url(tmp_path), *command)
    assert code == 1, err
    assert len(err.splitlines()) == 1 and err.startswith("fangxun: 无法连接数据库 ") and said in err, err
    assert "fangxun 已启动" not in out
    assert _english_in(err) == []


def test_missing_and_unwritable_files_are_one_chinese_line(tmp_path, database_url):
    missing = tmp_path / "missing.xml"
    code, _, err = run("--database-url", database_url, "warnings", "ingest", str(missing))
    assert code == 2 and f"无法读取文件 {missing}：文件或目录不存在" in err and _english_in(err) == []
    code, _, err = run("--database-url", database_url, "plans", "import", str(tmp_path / "missing.xlsx"))
    assert code == 2 and len(err.splitlines()) == 1 and _english_in(err) == []
    unwritable = tmp_path / "no-such-folder" / "map.html"
    code, _, err = run("--database-url", database_url, "map", "export", str(unwritable))
    assert code == 1 and err == f"fangxun: {unwritable}：文件或目录不存在\n"


def test_os_errors_read_in_chinese():
    assert os_error_text(FileNotFoundError(errno.ENOENT, "No such file or directory", "/a/b")) == "/a/b：文件或目录不存在"
    assert os_error_text(PermissionError(errno.EACCES, "Permission denied", "/etc/x")) == "/etc/x：权限不足"
    assert os_error_text(OSError(errno.EADDRINUSE, "Address already in use")).startswith("地址已被占用")
    assert os_error_text(ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed")).startswith("连接被拒绝")
    assert os_error_text(socket.gaierror(socket.EAI_NONAME, "Name or service not known")) == "找不到该主机"
    assert os_error_text(OSError(errno.EXDEV, "Invalid cross-device link")) == "Invalid cross-device link"
