"""The one decision of where links point, what `serve` and `dispatch` say about it, and the sockets serve binds."""

from __future__ import annotations

import socket

import pytest

from fangxun.api.listen import bind, bound_addresses, bound_port
from fangxun.core.errors import FangxunError
from fangxun.core.host_address import machine_address, reachable_address
from fangxun.core.public_base import CONFIGURED, GUESSED, LISTEN, PUBLIC_URL, is_loopback, public_base
from fangxun.core.service_settings import ServerSettings
from fangxun.warnings.acks.link_notice import link_lines, separate_dispatch_lines

CONFIGURED_SERVER = ServerSettings(host="127.0.0.1", port=8080)


def no_address(family: int) -> None:
    return None


def test_public_url_wins_over_any_address():
    server = ServerSettings(public_url=" https://fx.example.gov.cn/ ")
    for host, port in (("127.0.0.1", 19101), ("0.0.0.0", 80), (None, None)):
        base = public_base(server, host, port, guess=no_address)
        assert (base.url, base.source, base.local_only) == ("https://fx.example.gov.cn", PUBLIC_URL, False)
    assert link_lines(base) == ["叫应链接：https://fx.example.gov.cn/ack/…（取自配置 [server] public_url）"]


def test_without_public_url_the_address_serve_listens_on_not_the_configured_one():
    base = public_base(CONFIGURED_SERVER, "127.0.0.1", 19101)
    assert (base.url, base.source, base.local_only) == ("http://127.0.0.1:19101", LISTEN, True)
    assert link_lines(base) == ["注意：消息中的叫应链接为 http://127.0.0.1:19101/ack/…，只能在本机打开；"
                                "请在配置文件 [server] public_url 中填写他人可访问的地址"]
    base = public_base(CONFIGURED_SERVER, "10.8.0.12", 19101)
    assert (base.url, base.local_only) == ("http://10.8.0.12:19101", False)
    assert link_lines(base) == ["叫应链接：http://10.8.0.12:19101/ack/…（按监听地址生成）"]
    assert public_base(CONFIGURED_SERVER, "fd00::12", 8443).url == "http://[fd00::12]:8443"
    assert public_base(CONFIGURED_SERVER, "fangxun-01", 8000).url == "http://fangxun-01:8000"


def test_a_process_that_does_not_listen_takes_the_configured_address_and_says_so():
    base = public_base(ServerSettings(host="10.8.0.12", port=9000))
    assert (base.url, base.source, base.local_only) == ("http://10.8.0.12:9000", CONFIGURED, False)
    assert "按配置的 host/port 生成" in link_lines(base)[0]
    assert public_base(ServerSettings(host="::1", port=9000)).url == "http://[::1]:9000"
    assert public_base(ServerSettings()).local_only


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost", "LOCALHOST.", "app.localhost",
                                  "::ffff:127.0.0.1"])
def test_loopback_in_every_spelling_opens_only_here(host):
    assert is_loopback(host) and public_base(CONFIGURED_SERVER, host, 19101).local_only


@pytest.mark.parametrize("host", ["10.0.0.1", "192.0.2.2", "fd00::2", "fangxun-01", "0.0.0.0"])
def test_other_hosts_are_not_loopback(host):
    assert not is_loopback(host)


def test_a_name_that_binds_only_loopback_addresses_opens_only_here():
    assert public_base(CONFIGURED_SERVER, "vm", 19101, bound=["127.0.1.1"]).local_only
    assert not public_base(CONFIGURED_SERVER, "vm", 19101, bound=["127.0.1.1", "192.0.2.2"]).local_only


def test_every_interface_names_this_machines_address_in_links_and_warns():
    asked = []

    def guess(family: int) -> str | None:
        asked.append(family)
        return {socket.AF_INET: "10.8.0.12", socket.AF_INET6: "fd00::12"}[family]

    base = public_base(CONFIGURED_SERVER, "0.0.0.0", 19101, bound=["0.0.0.0"], guess=guess)
    assert (base.url, base.source, base.local_only, asked) == ("http://10.8.0.12:19101", GUESSED, False,
                                                                [socket.AF_INET])
    (line,) = link_lines(base)
    assert line.startswith("注意：服务监听所有网卡（0.0.0.0:19101）且未配置 [server] public_url")
    assert "http://10.8.0.12:19101/ack/…" in line and "[server] public_url 中填写他人可访问的地址" in line
    asked.clear()
    assert public_base(CONFIGURED_SERVER, "::", 19101, bound=["::"], guess=guess).url == "http://[fd00::12]:19101"
    assert asked == [socket.AF_INET6]
    asked.clear()
    assert public_base(CONFIGURED_SERVER, "", 19101, bound=["0.0.0.0", "::"], guess=guess).url == \
        "http://10.8.0.12:19101"


def test_every_interface_on_a_machine_without_an_address_falls_back_to_loopback_and_says_so():
    base = public_base(CONFIGURED_SERVER, "0.0.0.0", 19101, guess=no_address)
    assert (base.url, base.local_only) == ("http://127.0.0.1:19101", True)
    assert "只能在本机打开" in link_lines(base)[0]
    assert public_base(CONFIGURED_SERVER, "::", 19101, guess=no_address).url == "http://[::1]:19101"


def test_serve_without_dispatch_warns_when_a_separate_dispatcher_would_link_elsewhere():
    served = public_base(CONFIGURED_SERVER, "127.0.0.1", 19101)
    (line,) = separate_dispatch_lines(served, public_base(CONFIGURED_SERVER))
    assert "http://127.0.0.1:8080/ack/…" in line and "http://127.0.0.1:19101" in line and "打不开" in line
    assert separate_dispatch_lines(public_base(CONFIGURED_SERVER, "127.0.0.1", 8080),
                                   public_base(CONFIGURED_SERVER)) == []
    with_url = ServerSettings(public_url="https://fx.example.gov.cn")
    assert separate_dispatch_lines(public_base(with_url, "127.0.0.1", 19101), public_base(with_url)) == []


def test_the_public_url_setting_is_checked():
    assert ServerSettings(public_url=" https://fx.example.gov.cn/fangxun/ ").public_url == \
        "https://fx.example.gov.cn/fangxun"
    for bad in ("fx.example.gov.cn", "ftp://fx.example", "https://"):
        with pytest.raises(ValueError, match="应为 http:// 或 https:// 开头的地址"):
            ServerSettings(public_url=bad)


def test_this_machines_address_is_never_loopback():
    for family in (socket.AF_INET, socket.AF_INET6):
        address = machine_address(family)
        assert address is None or reachable_address(address)
    assert not any(map(reachable_address, ("127.0.0.1", "::1", "0.0.0.0", "fe80::1", "224.0.0.1", "vm")))
    assert reachable_address("10.8.0.12") and reachable_address("fd00::12")


def test_port_zero_binds_every_address_of_a_name_on_one_free_port_and_a_taken_port_is_refused():
    sockets = bind("localhost", 0)
    try:
        port = bound_port(sockets)
        assert port != 0 and {sock.getsockname()[1] for sock in sockets} == {port}
        assert all(is_loopback(address) for address in bound_addresses(sockets))
        for sock in sockets:
            sock.listen()
        with pytest.raises(FangxunError, match=f"无法监听 127.0.0.1:{port}"):
            bind("127.0.0.1", port)
    finally:
        for sock in sockets:
            sock.close()
