"""The hand-entry JSON form: a valid warning, and each error naming its field."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timezone

import pytest

from fangxun.core.errors import BadInput
from fangxun.warnings.intake.manual_form import EVENTS, parse_manual
from fangxun.warnings.intake.normalised import Reference

UTC = timezone.utc
NOW = datetime(2026, 7, 20, 6, 0, 30, 123456, tzinfo=UTC)
SENDER = "duty@fangxun"
SQUARE = {"type": "Polygon",
          "coordinates": [[[113.60, 34.80], [113.75, 34.80], [113.75, 34.70], [113.60, 34.70], [113.60, 34.80]]]}


def _form(**changes) -> dict:
    body = {
        "event": "暴雨",
        "colour": "红",
        "areas": {"unit_codes": ["410105000000", "410103000000"], "polygon": copy.deepcopy(SQUARE)},
        "onset": "2026-07-20T14:00:00+08:00",
        "expires": "2026-07-21T14:00:00+08:00",
        "description": "预计未来3小时降雨量将达100毫米以上。",
        "instruction": "各级防汛责任人立即到岗。",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def test_happy_path():
    warning = parse_manual(_form(), NOW, SENDER)
    assert re.fullmatch(r"fangxun-20260720060030-[0-9a-f]{8}", warning.identifier)
    assert warning.sender == SENDER
    assert warning.sent == datetime(2026, 7, 20, 6, 0, 30, tzinfo=UTC)  # whole seconds, as CAP carries
    assert (warning.status, warning.msg_type, warning.scope) == ("Actual", "Alert", "Public")
    assert (warning.event, warning.colour, warning.severity) == ("暴雨", "red", "Extreme")
    assert (warning.urgency, warning.certainty) == ("Immediate", "Likely")
    assert warning.onset == datetime(2026, 7, 20, 6, 0, tzinfo=UTC)
    assert warning.expires == datetime(2026, 7, 21, 6, 0, tzinfo=UTC)
    assert warning.headline == "郑州市气象台发布暴雨红色预警信号"
    assert warning.language == "zh-CN"
    (area,) = warning.areas
    assert area.geocodes == ("410105000000", "410103000000")
    assert area.polygons == ((((113.60, 34.80), (113.75, 34.80), (113.75, 34.70), (113.60, 34.70),
                               (113.60, 34.80))),)
    assert warning.references == () and warning.skipped == ()
    assert parse_manual(_form(), NOW, SENDER).identifier != warning.identifier


def test_variants():
    later = parse_manual(_form(colour="Orange", onset="2026-07-20T18:00:00", headline=" 自定标题 "), NOW, SENDER)
    assert (later.colour, later.severity, later.urgency) == ("orange", "Severe", "Expected")
    assert later.onset == datetime(2026, 7, 20, 10, 0, tzinfo=UTC)  # no zone given: Beijing time
    assert later.headline == "自定标题"
    only_codes = parse_manual(_form(areas={"unit_codes": ["410100000000"]}, onset=None), NOW, SENDER)
    assert only_codes.areas[0].polygons == () and only_codes.onset == NOW.replace(microsecond=0)
    # Units only: named after them once the registry is read (manual_areas); a drawn area says so.
    assert only_codes.areas[0].description == ""
    assert parse_manual(_form(), NOW, SENDER).areas[0].description == "手工划定区域"
    feature = {"type": "Feature", "properties": {}, "geometry": SQUARE}
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"],
                                                     [[[113.0, 34.0], [113.1, 34.0], [113.1, 34.1], [113.0, 34.0]]]]}
    assert len(parse_manual(_form(areas={"polygon": feature, "description": "金水区"}), NOW, SENDER)
               .areas[0].polygons) == 1
    assert len(parse_manual(_form(areas={"polygon": multi}), NOW, SENDER).areas[0].polygons) == 2
    for event in EVENTS:
        assert parse_manual(_form(event=event, colour="blue"), NOW, SENDER).headline.endswith("蓝色预警信号")


def test_update_and_cancel_reference_the_original():
    refs = [{"sender": SENDER, "identifier": "fangxun-20260720050000-0a1b2c3d", "sent": "2026-07-20T05:00:00Z"}]
    update = parse_manual(_form(msg_type="Update", references=refs, colour="red"), NOW, SENDER)
    assert update.references == (Reference(SENDER, "fangxun-20260720050000-0a1b2c3d",
                                           datetime(2026, 7, 20, 5, 0, tzinfo=UTC)),)
    assert update.headline == "郑州市气象台更新暴雨红色预警信号"
    cancel = parse_manual(_form(msg_type="Cancel", references=refs, areas=None, expires=None), NOW, SENDER)
    assert cancel.headline == "郑州市气象台解除暴雨红色预警信号"
    assert cancel.areas == () and cancel.expires is None


def _ring(n):
    return [[113.0 + 0.001 * i, 34.0 + (0.001 if i % 2 else 0)] for i in range(n)] + [[113.0, 34.0]]


@pytest.mark.parametrize("changes, field", [
    ({"event": "洪水"}, "event"),
    ({"event": None}, "event"),
    ({"colour": "紫"}, "colour"),
    ({"colour": 3}, "colour"),
    ({"msg_type": "Ack"}, "msg_type"),
    ({"status": "Real"}, "status"),
    ({"urgent": True}, "urgent"),
    ({"msg_type": "Update"}, "references"),
    ({"references": [{"sender": "a", "identifier": "b", "sent": "2026-07-20T05:00:00Z"}]}, "references"),
    ({"msg_type": "Cancel", "references": [{"sender": "a b", "identifier": "x", "sent": "2026-07-20T05:00:00Z"}]},
     "references[0].sender"),
    ({"msg_type": "Cancel", "references": [{"sender": "a", "identifier": "x"}]}, "references[0].sent"),
    ({"msg_type": "Cancel", "references": ["x"]}, "references[0]"),
    ({"onset": "明天"}, "onset"),
    ({"onset": 20260720}, "onset"),
    ({"expires": None}, "expires"),
    ({"expires": "2026-07-20T13:00:00+08:00"}, "expires"),
    ({"onset": "2026-07-20T08:00:00+08:00", "expires": "2026-07-20T13:30:00+08:00"}, "expires"),
    ({"headline": "暴" * 201}, "headline"),
    ({"description": ["x"]}, "description"),
    ({"instruction": "注意\x07防范"}, "instruction"),
    ({"areas": None}, "areas"),
    ({"areas": []}, "areas"),
    ({"areas": {}}, "areas"),
    ({"areas": {"codes": ["410105000000"]}}, "areas.codes"),
    ({"areas": {"unit_codes": "410105000000"}}, "areas.unit_codes"),
    ({"areas": {"unit_codes": ["410105"]}}, "areas.unit_codes[0]"),
    ({"areas": {"unit_codes": ["410105000000", 410103000000]}}, "areas.unit_codes[1]"),
    ({"areas": {"polygon": {"type": "Point", "coordinates": [113.6, 34.8]}}}, "areas.polygon"),
    ({"areas": {"polygon": {"type": "Polygon", "coordinates": []}}}, "areas.polygon.coordinates"),
    ({"areas": {"polygon": {"type": "Polygon", "coordinates": [SQUARE["coordinates"][0], _ring(4)]}}},
     "areas.polygon.coordinates"),
    ({"areas": {"polygon": {"type": "Polygon", "coordinates": [[[113.6, 34.8], [113.7, 34.8], [113.6, 34.8]]]}}},
     "areas.polygon.coordinates[0]"),
    ({"areas": {"polygon": {"type": "Polygon",
                            "coordinates": [[[113.6, 34.8], [113.7, 34.8], [113.7, 34.7], [113.6, 34.7]]]}}},
     "areas.polygon.coordinates[0]"),
    ({"areas": {"polygon": {"type": "Polygon",
                            "coordinates": [[[113.6, 34.8], [213.7, 34.8], [113.7, 34.7], [113.6, 34.8]]]}}},
     "areas.polygon.coordinates[0][1]"),
    ({"areas": {"polygon": {"type": "Polygon",
                            "coordinates": [[[113.6, 34.8], [113.7, float("nan")], [113.7, 34.7], [113.6, 34.8]]]}}},
     "areas.polygon.coordinates[0][1]"),
    ({"areas": {"polygon": {"type": "Polygon",
                            "coordinates": [[[113.6, 34.8], ["113.7", 34.8], [113.7, 34.7], [113.6, 34.8]]]}}},
     "areas.polygon.coordinates[0][1]"),
    ({"areas": {"polygon": {"type": "Polygon",  # a bow tie
                            "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}},
     "areas.polygon.coordinates[0]"),
    ({"areas": {"polygon": {"type": "Polygon", "coordinates": [_ring(10_001)]}}}, "areas.polygon"),
    ({"areas": {"polygon": {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"], "x"]}}},
     "areas.polygon.coordinates[1]"),
    ({"areas": {"unit_codes": ["410105000000"], "description": "区" * 501}}, "areas.description"),
])
def test_each_error_names_its_field(changes, field):
    with pytest.raises(BadInput) as caught:
        parse_manual(_form(**changes), NOW, SENDER)
    error = caught.value
    assert error.extra == {"field": field}
    assert error.detail.startswith(f"字段 {field}：")
    assert re.search(r"[\u4e00-\u9fff]", error.detail)


def test_body_must_be_an_object():
    with pytest.raises(BadInput):
        parse_manual(["暴雨"], NOW, SENDER)
