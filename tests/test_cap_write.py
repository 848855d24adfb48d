"""CAP out: documents validate against the schema and round-trip; the Atom feed embeds valid alerts."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import defusedxml.ElementTree as safe_et
import pytest
from lxml import etree
from support.cap_samples import SPEC_EXAMPLES, alert, spec_example, zhengzhou_rainstorm

from fangxun.warnings.intake.cap_parse import CAP_NS, cap_schema, parse_cap
from fangxun.warnings.intake.cap_write import ATOM_NS, CAP_MIME, CapInvalid, atom_feed, cap_document
from fangxun.warnings.intake.manual_form import parse_manual
from fangxun.warnings.intake.normalised import WarningArea

UTC = timezone.utc
NOW = datetime(2026, 7, 20, 6, 0, tzinfo=UTC)


def _manual(**changes):
    body = {"event": "暴雨", "colour": "橙", "expires": "2026-07-21T06:00:00+08:00",
            "areas": {"unit_codes": ["410105000000"], "description": "金水区",
                      "polygon": {"type": "Polygon", "coordinates": [[[113.6012345, 34.8], [113.75, 34.8],
                                                                      [113.75, 34.7], [113.6012345, 34.8]]]}},
            "description": "预计未来3小时降雨量将达50毫米以上。", "instruction": "转移低洼地带人员。"}
    body.update(changes)
    return parse_manual(body, NOW, "duty@fangxun")


def _assert_valid(document: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(document, parser)
    cap_schema().assertValid(root)
    return root


def _warnings():
    warnings = [parse_cap(spec_example(name)) for name in SPEC_EXAMPLES]
    warnings.append(parse_cap(zhengzhou_rainstorm()))
    warnings.append(parse_cap(zhengzhou_rainstorm(
        "orange", "Update", identifier="41010041600000_20210720090000_0", sent="2021-07-20T09:00:00+08:00",
        references=(("41010041600000", "41010041600000_20210720060200_0", "2021-07-20T06:02:00+08:00"),))))
    warnings.append(parse_cap(alert("<references>test@fangxun,T-0,2026-07-20T05:00:00+08:00</references>")
                              .replace(b"<msgType>Alert", b"<msgType>Cancel")))
    warnings.append(_manual())
    warnings.append(_manual(msg_type="Cancel", references=[
        {"sender": "duty@fangxun", "identifier": "fangxun-1", "sent": "2026-07-20T05:00:00+08:00"}]))
    return warnings


@pytest.mark.parametrize("index", range(9))
def test_documents_validate_and_round_trip(index):
    warning = _warnings()[index]
    document = cap_document(warning)
    _assert_valid(document)
    assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert parse_cap(document) == dataclasses.replace(warning, skipped=())


def test_chinese_text_survives_as_utf8():
    document = cap_document(parse_cap(zhengzhou_rainstorm()))
    text = document.decode("utf-8")
    assert "郑州市气象台发布暴雨红色预警信号" in text and "<event>暴雨</event>" in text
    assert "<language>zh-CN</language>" in text
    assert "<polygon>34.8,113.6 34.8,113.75 34.7,113.75 34.7,113.6 34.8,113.6</polygon>" in text
    assert "<valueName>COLOR</valueName>" in text and "<value>red</value>" in text
    assert "<sent>2021-07-20T06:02:00+08:00</sent>" in text


def test_manual_warning_gets_the_default_sender_name_and_closed_rings():
    warning = dataclasses.replace(_manual(), sender_name="",
                                  areas=(WarningArea("开环", (((113.6, 34.8), (113.7, 34.8), (113.7, 34.7)),)),))
    text = cap_document(warning).decode()
    assert "<senderName>郑州市防汛抗旱指挥部办公室</senderName>" in text
    assert "<polygon>34.8,113.6 34.8,113.7 34.7,113.7 34.8,113.6</polygon>" in text


def test_text_xml_cannot_carry_is_refused():
    with pytest.raises(CapInvalid):
        cap_document(dataclasses.replace(_manual(), description="注意\x07"))
    with pytest.raises(CapInvalid, match="模式"):
        cap_document(dataclasses.replace(_manual(), urgency="Soon"))


def test_atom_feed_embeds_valid_alerts():
    warnings = _warnings()
    entries = [(w, f"https://fangxun.example/cap/{i}.xml") for i, w in enumerate(warnings)]
    feed = atom_feed(entries, "https://fangxun.example/cap/feed.xml", datetime(2026, 7, 20, 6, 5, tzinfo=UTC))
    root = safe_et.fromstring(feed, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    atom = f"{{{ATOM_NS}}}"
    assert root.tag == atom + "feed"
    assert root.findtext(atom + "id") == "https://fangxun.example/cap/feed.xml"
    assert root.findtext(atom + "updated") == "2026-07-20T14:05:00+08:00"
    assert root.find(atom + "author").findtext(atom + "name")
    assert root.find(atom + "link").get("rel") == "self"
    found = root.findall(atom + "entry")
    assert len(found) == len(warnings)
    for entry, (warning, url) in zip(found, entries):
        assert entry.findtext(atom + "id") == url
        assert entry.findtext(atom + "title")
        assert datetime.fromisoformat(entry.findtext(atom + "updated")) == warning.sent
        link = entry.find(atom + "link")
        assert (link.get("href"), link.get("type"), link.get("rel")) == (url, CAP_MIME, "alternate")
        content = entry.find(atom + "content")
        assert content.get("type") == CAP_MIME
        (embedded,) = list(content)
        assert embedded.tag == f"{{{CAP_NS}}}alert"
        document = safe_et.tostring(embedded, encoding="utf-8")
        _assert_valid(document)
        assert parse_cap(document).key == warning.key
    assert "暴雨" in feed.decode("utf-8")


def test_empty_feed():
    feed = atom_feed([], "https://fangxun.example/cap/feed.xml", NOW)
    root = safe_et.fromstring(feed)
    assert root.findall(f"{{{ATOM_NS}}}entry") == []
