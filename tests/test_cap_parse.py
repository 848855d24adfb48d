"""CAP intake: the spec examples, the Zhengzhou GB/T 35965.1-style sample, strict and lenient parsing."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from support.cap_samples import (SPEC_EXAMPLES, ZZ_GEOCODES, ZZ_IDENTIFIER, ZZ_POLYGON_LONLAT, ZZ_SENDER, alert,
                                 spec_example, zhengzhou_rainstorm)

from fangxun.core.errors import BadInput
from fangxun.warnings.intake.cap_parse import CapRejected, parse_cap, read_cap_file
from fangxun.warnings.intake.normalised import NormalisedWarning, Reference, chinese_event, colour_from_text

UTC = timezone.utc


@pytest.mark.parametrize("name", SPEC_EXAMPLES)
def test_spec_examples_parse_strictly(name):
    warning = parse_cap(spec_example(name))
    assert warning.sent.tzinfo is UTC
    assert warning.msg_type in ("Alert", "Update")
    assert warning.skipped == ()


def test_a3_is_an_update_with_its_reference_and_circle():
    warning = parse_cap(spec_example("A3"))
    assert warning.key == ("TRI13970876.2", "trinet@caltech.edu", datetime(2003, 6, 12, 3, 56, tzinfo=UTC))
    assert warning.msg_type == "Update"
    assert warning.references == (
        Reference("trinet@caltech.edu", "TRI13970876.1", datetime(2003, 6, 12, 3, 30, tzinfo=UTC)),)
    assert warning.references[0].key == ("TRI13970876.1", "trinet@caltech.edu",
                                         datetime(2003, 6, 12, 3, 30, tzinfo=UTC))
    (area,) = warning.areas
    assert area.circles == ((-115.5527, 32.9525, 0.0),)
    assert area.polygons == () and area.geocodes == ()
    assert (warning.event, warning.severity, warning.urgency, warning.certainty) == (
        "Earthquake", "Minor", "Past", "Observed")
    assert warning.colour == "blue"  # from severity Minor
    assert warning.headline == "EQ 3.4 Imperial County CA"


def test_a2_polygon_is_stored_lon_lat_and_times_are_utc():
    warning = parse_cap(spec_example("A2"))
    (area,) = warning.areas
    assert area.polygons[0][0] == (-120.14, 38.47)
    assert area.polygons[0][0] == area.polygons[0][-1] and len(area.polygons[0]) == 5
    assert area.geocodes == ("006109", "006009", "006003")
    assert warning.expires == datetime(2003, 6, 17, 23, 0, tzinfo=UTC)
    assert warning.onset is None


def test_a4_takes_the_first_block_when_none_is_chinese():
    warning = parse_cap(spec_example("A4"))
    assert warning.language == "en-US"
    assert warning.event == "Child Abduction"
    assert [a.description for a in warning.areas] == ["Los Angeles County"]


def test_a1_dry_run_json_shape():
    data = parse_cap(spec_example("A1")).as_json()
    for key in ("identifier", "sender", "sent", "msg_type", "references", "event", "colour", "severity",
                "urgency", "certainty", "onset", "expires", "headline", "description", "instruction",
                "areas"):
        assert key in data
    assert data["sent"] == "2003-04-02T19:39:01+00:00"
    assert data["colour"] == "orange"
    assert data["areas"] == [{"description": "U.S. nationwide and interests worldwide", "polygons": [],
                              "circles": [], "geocodes": []}]


def test_zhengzhou_sample_reads_the_chinese_block():
    warning = parse_cap(zhengzhou_rainstorm())
    assert warning.key == (ZZ_IDENTIFIER, ZZ_SENDER, datetime(2021, 7, 19, 22, 2, tzinfo=UTC))
    assert (warning.event, warning.colour, warning.severity) == ("暴雨", "red", "Extreme")
    assert warning.language == "zh-CN"
    assert warning.headline == "郑州市气象台发布暴雨红色预警信号"
    assert warning.sender_name == "郑州市气象台"
    (area,) = warning.areas  # the en-US block's area is not used
    assert area.description == "郑州市金水区、二七区、中原区"
    assert area.polygons == (ZZ_POLYGON_LONLAT,)
    assert area.geocodes == ZZ_GEOCODES
    assert warning.geocodes == ZZ_GEOCODES
    assert warning.onset == datetime(2021, 7, 19, 22, 2, tzinfo=UTC)
    assert warning.expires == datetime(2021, 7, 20, 22, 2, tzinfo=UTC)
    assert NormalisedWarning.from_json(warning.as_json()) == warning


@pytest.mark.parametrize("colour", ["blue", "yellow", "orange", "red"])
def test_zhengzhou_colours_and_a_cancel_chain(colour):
    first = parse_cap(zhengzhou_rainstorm(colour))
    assert first.colour == colour
    cancel = parse_cap(zhengzhou_rainstorm(
        colour, "Cancel", identifier="41010041600000_20210720120000_0", sent="2021-07-20T12:00:00+08:00",
        references=((ZZ_SENDER, ZZ_IDENTIFIER, "2021-07-20T06:02:00+08:00"),)))
    assert cancel.msg_type == "Cancel"
    assert cancel.headline.startswith("郑州市气象台解除暴雨")
    assert [r.key for r in cancel.references] == [first.key]


def test_colour_falls_back_to_parameter_then_severity_then_none():
    def info(event, severity, parameter=""):
        return alert(f"""<info><language>zh-CN</language><category>Met</category><event>{event}</event>
            <urgency>Expected</urgency><severity>{severity}</severity><certainty>Likely</certainty>
            {parameter}<area><areaDesc>郑州市</areaDesc></area></info>""")

    colour_param = "<parameter><valueName>COLOR</valueName><value>橙色</value></parameter>"
    assert parse_cap(info("暴雨", "Minor", colour_param)).colour == "orange"
    level_param = "<parameter><valueName>预警级别</valueName><value>Ⅱ级</value></parameter>"
    assert parse_cap(info("大风", "Minor", level_param)).colour == "orange"
    assert parse_cap(info("大风", "Moderate")).colour == "yellow"
    assert parse_cap(info("大风", "Unknown")).colour is None
    text_wins = parse_cap(info("暴雪蓝色预警信号", "Extreme", colour_param))
    assert (text_wins.event, text_wins.colour) == ("暴雪", "blue")


def test_chinese_event_and_colour_text():
    assert chinese_event("暴雨红色预警信号") == "暴雨"
    assert chinese_event("道路结冰橙色预警") == "道路结冰"
    assert chinese_event("雷电黄色预警[Ⅲ级/较重]") == "雷电"
    assert chinese_event(" 高温 ") == "高温"
    assert chinese_event("SEVERE THUNDERSTORM") == "SEVERE THUNDERSTORM"
    assert colour_from_text("郑州市气象台发布暴雨红色预警信号") == "red"
    assert colour_from_text("红色暴雨预警") == "red"
    assert colour_from_text("郑州市气象台解除大雾蓝色预警信号") == "blue"
    assert colour_from_text("郑州市气象台将暴雨橙色预警信号升级为红色预警信号") == "red"
    assert colour_from_text("暴雨黄色预警信号降级为蓝色预警信号") == "blue"
    assert colour_from_text("Red Rainstorm Warning") is None


# A document with one schema error and several things lenient parsing must drop.
_FAULTY = alert("""<info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨橙色预警信号</event>
    <urgency>Soon</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <onset>明天早上</onset>
    <expires>2026-07-21T06:00:00+08:00</expires>
    <headline>郑州市气象台发布暴雨橙色预警信号</headline>
    <area>
      <areaDesc>金水区</areaDesc>
      <polygon>34.8,113.6 34.8,113.7 34.8,113.6</polygon>
      <polygon>34.8,113.6 34.8,113.7 34.7,113.7 34.7,113.6</polygon>
      <polygon>34.8,113.6 34.8,113.7 34.7,113.7 34.7,113.6 34.8,113.6</polygon>
      <circle>34.75,113.65</circle>
      <circle>34.75,113.65 5</circle>
      <geocode><valueName>ADCODE</valueName><value>410105000000</value></geocode>
      <geocode><valueName>ADCODE</valueName><value>金水</value></geocode>
    </area>
  </info>""")


def test_strict_refuses_with_the_first_schema_error():
    with pytest.raises(CapRejected) as caught:
        parse_cap(_FAULTY)
    error = caught.value
    assert isinstance(error, BadInput) and error.code == "cap_rejected" and error.status == 400
    assert "不符合 CAP 1.2 模式" in error.detail
    assert "cap:urgency" in error.detail and "Soon" in error.detail
    assert error.extra["line"] == 13


def test_lenient_parses_what_it_can_and_says_what_it_skipped():
    warning = parse_cap(_FAULTY, lenient=True)
    assert (warning.event, warning.colour, warning.severity) == ("暴雨", "orange", "Severe")
    assert warning.urgency == "Unknown"
    assert warning.onset is None
    assert warning.expires == datetime(2026, 7, 20, 22, 0, tzinfo=UTC)
    (area,) = warning.areas
    square = ((113.6, 34.8), (113.7, 34.8), (113.7, 34.7), (113.6, 34.7), (113.6, 34.8))
    # The open ring is closed on its first point; the two-point ring and the circle without a radius are
    # dropped: shapes the schema lets through are noted on the warning (strict or lenient), not skipped.
    assert area.polygons == (square, square)
    assert area.circles == ((113.65, 34.75, 5.0),)
    assert area.geocodes == ("410105000000",)
    skipped = "\n".join(warning.skipped)
    assert len(warning.skipped) == 3
    for words in ("urgency", "onset", "金水"):
        assert words in skipped
    notes = "\n".join(warning.notes)
    assert len(warning.notes) == 3
    for words in ("只有 2 个不同的点", "已略去该多边形", "未闭合", "已按首点闭合", "圆", "已略去该圆"):
        assert words in notes
    assert warning.as_json()["skipped"] == list(warning.skipped)
    assert warning.as_json()["notes"] == list(warning.notes)


@pytest.mark.parametrize("lenient", [False, True])
def test_a_bad_polygon_the_schema_lets_through_loses_only_itself(lenient):
    document = alert("""<info><category>Met</category><event>暴雨</event><urgency>Expected</urgency>
        <severity>Severe</severity><certainty>Likely</certainty>
        <area><areaDesc>金水区</areaDesc><polygon>34.8,113.6 34.8,113.7 34.8,113.6</polygon>
        <geocode><valueName>ADCODE</valueName><value>410105</value></geocode></area></info>""")
    warning = parse_cap(document, lenient=lenient)
    (area,) = warning.areas
    assert area.polygons == () and area.geocodes == ("410105",)
    assert warning.skipped == ()
    assert warning.notes == ("区域“金水区”的多边形只有 2 个不同的点，围不成区域，已略去该多边形",)


@pytest.mark.parametrize("change, reason", [
    (("<identifier>T-1</identifier>", ""), "identifier"),
    (("<sender>test@fangxun</sender>", "<sender> </sender>"), "sender"),
    (("2026-07-20T06:00:00+08:00", "2026-07-20T06:00:00"), "sent"),
    (("2026-07-20T06:00:00+08:00", "昨天"), "sent"),
    (("<msgType>Alert</msgType>", "<msgType>Warning</msgType>"), "msgType"),
    (("<msgType>Alert</msgType>", "<msgType>Ack</msgType>"), "不是预警消息"),
    (("<status>Actual</status>", "<status>Real</status>"), "真实预警"),
])
def test_lenient_still_refuses_without_identity_or_type(change, reason):
    document = alert("<info><category>Met</category><event>暴雨</event><urgency>Expected</urgency>"
                     "<severity>Severe</severity><certainty>Likely</certainty></info>")
    document = document.decode().replace(*change).encode()
    with pytest.raises(CapRejected, match=reason):
        parse_cap(document, lenient=True)


def test_lenient_reads_colour_words_in_severity_and_letter_case():
    document = alert("""<info><language>zh-CN</language><category>Met</category><event>暴雨</event>
        <urgency>immediate</urgency><severity>Red</severity><certainty>Likely</certainty>
        <area><areaDesc>郑州市</areaDesc><geocode><valueName>ADCODE</valueName><value>410100</value></geocode>
        </area></info>""")
    with pytest.raises(CapRejected, match="cap:urgency"):
        parse_cap(document)
    warning = parse_cap(document, lenient=True)
    assert (warning.colour, warning.severity, warning.urgency) == ("red", "Extreme", "Immediate")
    assert len(warning.skipped) == 2


def test_an_alert_needs_info_but_a_cancel_does_not():
    with pytest.raises(CapRejected, match="没有 <info>"):
        parse_cap(alert(""))
    cancel = parse_cap(alert("<references>test@fangxun,T-0,2026-07-20T05:00:00+08:00</references>")
                       .replace(b"<msgType>Alert", b"<msgType>Cancel"))
    assert cancel.msg_type == "Cancel" and cancel.event == "" and cancel.colour is None
    assert cancel.references[0].identifier == "T-0"


def test_read_cap_file(tmp_path):
    path = tmp_path / "zz.xml"
    path.write_bytes(zhengzhou_rainstorm())
    assert read_cap_file(path).event == "暴雨"
    with pytest.raises(CapRejected) as caught:
        read_cap_file(tmp_path / "missing.xml")
    assert "无法读取文件" in caught.value.detail
    (tmp_path / "bad.xml").write_bytes(b"<alert/>")
    with pytest.raises(CapRejected) as caught:
        read_cap_file(tmp_path / "bad.xml")
    assert caught.value.extra["path"].endswith("bad.xml")
