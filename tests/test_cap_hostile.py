"""Hostile CAP input: entity bombs, XXE, DTDs, oversize, non-CAP and broken XML are refused cleanly."""

from __future__ import annotations

import random
import select
import socket

import pytest
from support.cap_samples import (BILLION_LAUGHS, PLAIN_DTD, QUADRATIC_BLOWUP, RSS, alert, external_dtd,
                                 parameter_entity, xxe, zhengzhou_rainstorm)
from support.watchdog import returns_in_time

from fangxun.warnings.intake.cap_parse import MAX_CAP_BYTES, CapRejected, parse_cap, read_cap_file
from fangxun.warnings.intake.normalised import NormalisedWarning

MODES = [False, True]


class _Listener:
    """A local TCP port that records whether anything connected to it."""

    def __init__(self):
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/evil"

    def connected(self) -> bool:
        readable, _, _ = select.select([self.server], [], [], 0.2)
        return bool(readable)


@pytest.fixture
def listener():
    """A listening local port; the test checks nothing connected."""
    listening = _Listener()
    yield listening
    listening.server.close()


def _refused(data: bytes, lenient: bool) -> CapRejected:
    with pytest.raises(CapRejected) as caught:
        returns_in_time(lambda: parse_cap(data, lenient=lenient))
    assert caught.value.code == "cap_rejected"
    return caught.value


@pytest.mark.parametrize("lenient", MODES)
@pytest.mark.parametrize("document", [BILLION_LAUGHS, QUADRATIC_BLOWUP], ids=["billion_laughs", "quadratic"])
def test_entity_bombs_are_refused_without_expansion(document, lenient):
    error = _refused(document, lenient)
    assert "实体炸弹" in error.detail


@pytest.mark.parametrize("lenient", MODES)
def test_xxe_to_a_file_reads_nothing(tmp_path, lenient):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    for url in (f"file://{secret}", "file:///etc/passwd"):
        error = _refused(xxe(url), lenient)
        assert "外部实体" in error.detail and url in error.detail
        assert "TOP-SECRET-MARKER" not in error.detail and "root:" not in error.detail


@pytest.mark.parametrize("lenient", MODES)
def test_network_references_make_no_request(listener, lenient):
    url = listener.url
    for document, words in ((xxe(url), "外部实体"), (parameter_entity(url), "外部实体"),
                            (external_dtd(url), "外部 DTD")):
        error = _refused(document, lenient)
        assert words in error.detail and url in error.detail
    assert not listener.connected(), "the parser opened a connection"


@pytest.mark.parametrize("lenient", MODES)
def test_any_dtd_is_refused(lenient):
    assert "DTD" in _refused(PLAIN_DTD, lenient).detail


@pytest.mark.parametrize("lenient", MODES)
def test_oversize_is_refused_before_parsing(lenient):
    huge = b"<" * 50_000_000  # would be a parse error, if it were ever parsed
    error = _refused(huge, lenient)
    assert "超过上限" in error.detail
    assert error.extra == {"size": 50_000_000, "max_bytes": MAX_CAP_BYTES}
    with pytest.raises(CapRejected, match="超过上限"):
        parse_cap(zhengzhou_rainstorm(), lenient=lenient, max_bytes=1000)


def test_oversize_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.xml"
    with path.open("wb") as handle:
        handle.truncate(50_000_000)
    with pytest.raises(CapRejected, match="超过上限") as caught:
        returns_in_time(lambda: read_cap_file(path))
    assert caught.value.extra["size"] == 50_000_000  # the size on disk, not what a read could hold


@pytest.mark.parametrize("lenient", MODES)
def test_non_cap_xml_is_refused_with_the_root_named(lenient):
    assert "<rss>" in _refused(RSS, lenient).detail
    assert "<feed>" in _refused(b'<feed xmlns="http://www.w3.org/2005/Atom"/>', lenient).detail
    cap11 = _refused(alert("", namespace="urn:oasis:names:tc:emergency:cap:1.1"), lenient)
    assert "urn:oasis:names:tc:emergency:cap:1.1" in cap11.detail and "CAP 1.1" in cap11.detail
    assert "没有命名空间" in _refused(b"<alert><identifier>x</identifier></alert>", lenient).detail
    assert "不是 CAP 文档" in _refused(b'<html xmlns="http://www.w3.org/1999/xhtml"/>', lenient).detail


@pytest.mark.parametrize("lenient", MODES)
@pytest.mark.parametrize("data", [b"", b"hello", b"\xff\xfe\x00garbage", "暴雨红色预警".encode(), b"{\"a\": 1}",
                                  b'<?xml version="1.0" encoding="no-such"?><alert/>', b"<alert>"],
                         ids=["empty", "text", "binary", "chinese", "json", "encoding", "unclosed"])
def test_not_xml_is_refused(data, lenient):
    _refused(data, lenient)


def test_a_string_instead_of_bytes_is_refused():
    with pytest.raises(CapRejected):
        parse_cap(zhengzhou_rainstorm().decode())


@pytest.mark.parametrize("lenient", MODES)
def test_deep_nesting_and_huge_attributes_never_hang_or_crash(lenient):
    _refused(b"<a>" * 200_000 + b"</a>" * 200_000, lenient)
    deep = alert("<info>" + "<x>" * 100_000 + "</x>" * 100_000 + "</info>")
    attribute = zhengzhou_rainstorm().replace(b"<identifier>", b'<identifier a="' + b"x" * 900_000 + b'">')
    for data in (deep, attribute):
        try:
            returns_in_time(lambda: parse_cap(data, lenient=lenient))  # lenient may keep what it can read
        except CapRejected as exc:
            assert exc.detail
        else:
            assert lenient, "strict mode accepted a schema-invalid document"


@pytest.mark.parametrize("lenient", MODES)
def test_fuzz_never_escapes_as_a_raw_exception(lenient):
    rng = random.Random(35965)
    sample = zhengzhou_rainstorm()
    inputs = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))) for _ in range(150)]
    inputs += [sample[:cut] for cut in range(0, len(sample), 23)]
    for _ in range(300):
        mutated = bytearray(sample)
        for _ in range(rng.randrange(1, 6)):
            mutated[rng.randrange(len(mutated))] = rng.choice(b"<>&\"'/=;,.-: \x00\xff9aZ")
        inputs.append(bytes(mutated))
    outcomes = {"parsed": 0, "refused": 0}
    for data in inputs:
        try:
            result = parse_cap(data, lenient=lenient)
        except CapRejected as exc:
            assert exc.detail
            outcomes["refused"] += 1
        else:
            assert isinstance(result, NormalisedWarning)
            outcomes["parsed"] += 1
    assert outcomes["refused"] > 0 and outcomes["parsed"] > 0
