"""Warnings that tell the truth (issue 14), as parsed: <effective> as the start, an assumed expiry said in a note,
all-clears, and strict meaning the schema: a shape that cannot be used is dropped with a note, never the document.

Every document here is written for these tests (after the shape of Chinese meteorological and international CAP).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import shapely
from lxml import etree

from fangxun.warnings.config import EventLifetime, Lifetime
from fangxun.warnings.intake.cap_intake import read_cap
from fangxun.warnings.intake.cap_parse import CapRejected, parse_cap, schema_error
from fangxun.warnings.intake.cap_shapes import read_circle, read_polygon
from fangxun.warnings.intake.expiry import assume_expiry

UTC = timezone.utc
BEIJING = timezone(timedelta(hours=8))
SENDER = "41010041600000"
# A box over 甲区 in CAP order "lat,lon", and the point of Zhengzhou it holds.
BOX = "34.80,113.60 34.80,113.75 34.70,113.75 34.70,113.60 34.80,113.60"
ZHENGZHOU = shapely.Point(113.65, 34.75)
GEOCODE = "<geocode><valueName>行政区划代码</valueName><value>410102000000</value></geocode>"
MODES = [False, True]


def document(*, msg_type: str = "Alert", references: str = "", event: str = "暴雨橙色预警信号",
             headline: str = "郑州市气象台发布暴雨橙色预警信号", response_types: tuple[str, ...] = ("Prepare",),
             times: str = "<effective>2026-07-20T08:00:00+08:00</effective>",
             areas: str = f"<area><areaDesc>甲区</areaDesc><polygon>{BOX}</polygon>{GEOCODE}</area>",
             identifier: str = f"{SENDER}_20260720080000", sent: str = "2026-07-20T08:00:00+08:00") -> bytes:
    """A CAP 1.2 document in the shape Chinese meteorological offices send (zh-CN, <effective>, 预警级别)."""
    refs = f"<references>{references}</references>" if references else ""
    responses = "".join(f"<responseType>{value}</responseType>" for value in response_types)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>{SENDER}</sender>
  <sent>{sent}</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {refs}
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>{event}</event>
    {responses}
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    {times}
    <senderName>郑州市气象台</senderName>
    <headline>{headline}</headline>
    <description>预计未来6小时甲区降雨量将达50毫米以上。</description>
    <parameter><valueName>预警级别</valueName><value>橙色</value></parameter>
    {areas}
  </info>
</alert>""".encode()


def validates(data: bytes) -> bool:
    """Whether the document passes the packaged CAP 1.2 schema."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return schema_error(etree.fromstring(data, parser)) is None


def with_lifetime(settings, lifetime: Lifetime):
    return settings.model_copy(update={"warnings": settings.warnings.model_copy(update={"lifetime": lifetime})})


# --- times ---------------------------------------------------------------------------------------------------

def test_a_cma_style_update_starts_at_its_effective_time(settings):
    update = document(msg_type="Update", references=f"{SENDER},{SENDER}_20260720060000,2026-07-20T06:00:00+08:00",
                      event="暴雨红色预警信号", headline="郑州市气象台将暴雨橙色预警信号升级为红色预警信号",
                      times="<effective>2026-07-20T08:00:00+08:00</effective>"
                            "<expires>2026-07-20T20:00:00+08:00</expires>")
    warning = read_cap(update, settings)
    assert warning.onset is None
    assert warning.effective == warning.start == datetime(2026, 7, 20, 0, 0, tzinfo=UTC)
    assert warning.expires == datetime(2026, 7, 20, 12, 0, tzinfo=UTC) and warning.expires_assumed is False
    assert (warning.msg_type, warning.colour, warning.all_clear) == ("Update", "red", False)
    shown = warning.as_json()
    assert shown["effective"] == "2026-07-20T00:00:00+00:00" and shown["onset"] is None
    assert shown["notes"] == [] and shown["expires_assumed"] is False


def test_onset_is_the_start_when_both_are_given():
    warning = parse_cap(document(times="<effective>2026-07-20T08:00:00+08:00</effective>"
                                       "<onset>2026-07-20T10:00:00+08:00</onset>"))
    assert warning.effective == datetime(2026, 7, 20, 0, 0, tzinfo=UTC)
    assert warning.start == warning.onset == datetime(2026, 7, 20, 2, 0, tzinfo=UTC)


def test_without_expires_a_day_from_the_start_is_assumed_and_said(settings):
    warning = read_cap(document(), settings)
    assert warning.expires == datetime(2026, 7, 21, 0, 0, tzinfo=UTC)  # effective 08:00 Beijing + 24 h
    assert warning.expires_assumed is True
    assert warning.notes == ("未注明失效时间，按 24 小时计",)
    # parse_cap itself reads only what the document says.
    assert parse_cap(document()).expires is None


def test_without_any_start_the_lifetime_runs_from_sent(settings):
    warning = read_cap(document(times="", sent="2026-07-20T09:30:00+08:00"), settings)
    assert warning.start is None
    assert warning.expires == datetime(2026, 7, 21, 1, 30, tzinfo=UTC)


def test_the_configured_lifetime_per_event_and_colour_is_honoured(settings):
    lifetime = Lifetime(default_hours=12, events={"暴雨": EventLifetime(orange=6), "大风": EventLifetime(hours=3)})
    configured = with_lifetime(settings, lifetime)
    rain = read_cap(document(), configured)
    assert rain.expires == datetime(2026, 7, 20, 6, 0, tzinfo=UTC)
    assert rain.notes == ("未注明失效时间，按 6 小时计",)
    wind = read_cap(document(event="大风橙色预警信号", headline="郑州市气象台发布大风橙色预警信号"), configured)
    assert wind.notes == ("未注明失效时间，按 3 小时计",)
    red_rain = read_cap(document(event="暴雨红色预警信号", headline="郑州市气象台发布暴雨红色预警信号"), configured)
    assert red_rain.notes == ("未注明失效时间，按 12 小时计",)


def test_assuming_is_done_once_and_never_for_an_all_clear():
    lifetime = Lifetime()
    warning = parse_cap(document())
    once = assume_expiry(warning, lifetime)
    assert assume_expiry(once, lifetime) == once
    for lifted in (document(response_types=("AllClear",)),
                   document(headline="郑州市气象台解除暴雨橙色预警信号"),
                   document(msg_type="Cancel", references=f"{SENDER},{SENDER}_1,2026-07-20T06:00:00+08:00")):
        cleared = parse_cap(lifted)
        assert cleared.all_clear is True
        assert assume_expiry(cleared, lifetime) == cleared and cleared.expires is None


def test_response_types_are_read_and_all_clear_follows_them():
    warning = parse_cap(document(response_types=("Monitor", "AllClear")))
    assert warning.response_types == ("Monitor", "AllClear")
    assert warning.all_clear is True and warning.as_json()["all_clear"] is True
    assert parse_cap(document()).all_clear is False


def test_a_time_the_schema_allows_is_never_a_refusal():
    # 24:00:00 is midnight at the end of the day in XML Schema; year 0001 cannot be shown in Beijing time.
    data = document(times="<onset>2026-07-20T24:00:00+08:00</onset><expires>0001-01-01T00:00:00+08:00</expires>")
    assert validates(data)
    warning = parse_cap(data)
    assert warning.onset == datetime(2026, 7, 20, 16, 0, tzinfo=UTC)
    assert warning.expires is None
    assert warning.notes == ("<expires> 的时间 '0001-01-01T00:00:00+08:00' 超出可处理的范围，已略去",)


# --- strict means the schema --------------------------------------------------------------------------------

def _area(polygons: tuple[str, ...] = (), circles: tuple[str, ...] = (), geocodes: str = GEOCODE,
          description: str = "甲区") -> str:
    shapes = "".join(f"<polygon>{p}</polygon>" for p in polygons) + "".join(f"<circle>{c}</circle>" for c in circles)
    return f"<area><areaDesc>{description}</areaDesc>{shapes}{geocodes}</area>"


@pytest.mark.parametrize("lenient", MODES)
def test_a_polygon_across_the_antimeridian_stays_where_it_is(lenient):
    # Longitudes a little past -180 as GDACS-style documents carry them, and a ring going over +180 to -180.
    beyond = "-16.5,179.8 -16.5,-180.005 -17.5,-180.005 -17.5,179.8 -16.5,179.8"
    across = "30.0,179.5 30.0,-179.5 40.0,-179.5 40.0,179.5 30.0,179.5"
    data = document(areas=_area((beyond, across), geocodes="", description="Pacific"))
    assert validates(data)
    warning = parse_cap(data, lenient=lenient)
    assert warning.notes == () and warning.skipped == ()
    first, second = warning.areas[0].polygons
    # -180.005 is 179.995 next to 179.8: the ring keeps one side of the antimeridian.
    assert first[0] == (179.8, -16.5) and first[1] == pytest.approx((179.995, -16.5))
    for ring in (first, second):
        lons = [lon for lon, _ in ring]
        assert max(lons) - min(lons) < 1.01  # not a band round the whole globe
        assert ring[0] == ring[-1]
    polygon = shapely.Polygon(second)
    assert polygon.area == pytest.approx(10.0)
    assert not polygon.intersects(shapely.box(73, 18, 135, 54))  # nowhere near China


@pytest.mark.parametrize("lenient", MODES)
def test_a_stray_bracket_inside_a_coordinate_pair_is_taken_out_and_noted(lenient):
    stray = "34.80,113.60 34.80,113.75) 34.70,113.75 34.70,113.60 34.80,113.60"
    data = document(areas=_area((stray,)))
    assert validates(data)
    warning = parse_cap(data, lenient=lenient)
    (area,) = warning.areas
    assert area.polygons[0] == ((113.6, 34.8), (113.75, 34.8), (113.75, 34.7), (113.6, 34.7), (113.6, 34.8))
    assert warning.notes == ("区域“甲区”的多边形坐标中有多余字符“)”，已去除",)


@pytest.mark.parametrize("lenient", MODES)
def test_an_unreadable_polygon_or_circle_loses_only_itself(lenient):
    data = document(areas=_area(("34.80,113.60 34.80,abc 34.70,113.75 34.80,113.60", BOX), ("34.75,113.65",)))
    assert validates(data)
    warning = parse_cap(data, lenient=lenient)
    (area,) = warning.areas
    assert len(area.polygons) == 1 and area.circles == () and area.geocodes == ("410102000000",)
    assert warning.notes == (
        "区域“甲区”的多边形含无法读取或超出范围的坐标 '34.80,abc'，已略去该多边形",
        "区域“甲区”的圆'34.75,113.65' 无法读取（应为“纬度,经度 半径公里”），已略去该圆")


@pytest.mark.parametrize("lenient", MODES)
def test_an_empty_polygon_is_dropped_and_the_areas_geocodes_still_count(lenient):
    data = document(areas=_area(("",)) + _area(("   ",), description="乙区", geocodes=GEOCODE.replace(
        "410102000000", "410103000000")))
    assert validates(data)
    warning = parse_cap(data, lenient=lenient)
    assert [area.polygons for area in warning.areas] == [(), ()]
    assert warning.geocodes == ("410102000000", "410103000000")
    assert warning.notes == ("区域“甲区”的多边形为空，已略去该多边形", "区域“乙区”的多边形为空，已略去该多边形")


def test_a_schema_valid_document_with_every_oddity_is_accepted_strictly():
    data = document(
        msg_type="Update",
        references=f"{SENDER},{SENDER}_1,2026-07-20T06:00:00+08:00 garbled-reference",
        event="", response_types=(),
        areas=_area(("91.0,113.6 91.0,113.7 90.5,113.7 91.0,113.6", "34.8,113.6 34.8,113.7 34.7,113.7",
                     "0,0 0,90 0,180 0,-90 0,0"), ("34.75,113.65 -5", "34.75,500 1"))
        + _area((BOX,), description="乙区", geocodes=""))
    assert validates(data)
    warning = parse_cap(data)
    assert [r.identifier for r in warning.references] == [f"{SENDER}_1"]
    first, second = warning.areas
    assert first.geocodes == ("410102000000",) and first.circles == ()
    assert first.polygons == (((113.6, 34.8), (113.7, 34.8), (113.7, 34.7), (113.6, 34.8)),)  # closed on its first
    assert len(second.polygons) == 1
    notes = "\n".join(warning.notes)
    for words in ("garbled-reference", "<event> 为空", "超出范围的坐标 '91.0,113.6'", "已按首点闭合",
                  "环绕极地", "'34.75,113.65 -5' 无法读取", "'34.75,500 1' 无法读取"):
        assert words in notes, notes
    assert warning.skipped == ()


@pytest.mark.parametrize("lenient", MODES)
@pytest.mark.parametrize("change, reason", [
    (("<msgType>Update</msgType>", "<msgType>Ack</msgType>"), "不是预警消息"),
    (("<msgType>Update</msgType>", "<msgType>Error</msgType>"), "不是预警消息"),
    ((f"<identifier>{SENDER}_20260720080000</identifier>", "<identifier></identifier>"), "identifier"),
])
def test_what_is_really_not_a_warning_is_still_refused(lenient, change, reason):
    data = document(msg_type="Update").replace(*(part.encode() for part in change))
    with pytest.raises(CapRejected, match=reason):
        parse_cap(data, lenient=lenient)


def test_a_schema_invalid_document_is_still_refused_strictly_and_read_leniently():
    data = document(response_types=("allclear",))
    assert not validates(data)
    with pytest.raises(CapRejected, match="不符合 CAP 1.2 模式"):
        parse_cap(data)
    warning = parse_cap(data, lenient=True)
    assert warning.response_types == ("AllClear",) and warning.all_clear is True
    assert warning.skipped == ("<responseType> 'allclear' 按 'AllClear' 读取",)


# --- the shape readers on their own --------------------------------------------------------------------------

def test_a_ring_round_a_pole_has_no_longitude_range():
    ring, remarks = read_polygon("80,0 80,90 80,180 80,-90 80,0")
    assert ring is None and remarks == ["环绕极地，经度范围无法确定"]


def test_a_ring_drawn_past_180_is_moved_back_by_a_whole_turn():
    ring, remarks = read_polygon("10,200 10,210 20,210 20,200 10,200")
    assert remarks == [] and ring == ((-160.0, 10.0), (-150.0, 10.0), (-150.0, 20.0), (-160.0, 20.0), (-160.0, 10.0))


def test_circles_past_180_come_back_and_spaces_after_commas_are_read():
    assert read_circle("-16.5,-180.005 50") == ((179.995, -16.5, 50.0), [])
    assert read_circle("34.75, 113.65 5") == ((113.65, 34.75, 5.0), [])
    assert read_circle("34.75,113.65) 5") == ((113.65, 34.75, 5.0), ["坐标中有多余字符“)”，已去除"])
    assert read_circle("") == (None, ["为空"])
