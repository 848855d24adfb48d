"""A warning entered by hand (the JSON form) -> NormalisedWarning, with Chinese errors naming the field."""

from __future__ import annotations

import math
import re
import secrets
from datetime import datetime

import shapely

from fangxun.core.errors import BadInput
from fangxun.core.times import parse_local_time
from fangxun.warnings.intake.normalised import COLOUR_SEVERITY, NormalisedWarning, Reference, WarningArea, utc
from fangxun.warnings.vocabulary import COLOUR_LABELS, COLOUR_NAMES, MSG_TYPES

EVENTS = ("暴雨", "雷电", "大风", "暴雪", "道路结冰", "冰雹", "高温", "大雾", "寒潮", "霜冻", "干旱", "台风",
          "沙尘暴", "霾")
STATUSES = ("Actual", "Exercise", "Test")
FIELDS = ("event", "colour", "areas", "onset", "expires", "headline", "description", "instruction",
          "msg_type", "references", "status", "sender_name")
AREA_FIELDS = ("unit_codes", "polygon", "description")
TEXT_LIMITS = {"headline": 200, "description": 4000, "instruction": 4000, "sender_name": 100,
               "areas.description": 500}
MAX_VERTICES = 10_000
MAX_UNIT_CODES = 10_000
MAX_REFERENCES = 100
DEFAULT_SENDER_NAME = "郑州市防汛抗旱指挥部办公室"
# The description of a drawn area given none (an area of unit codes only is named after its units once
# the registry is read: manual_areas.named_areas).
DRAWN_AREA = "手工划定区域"
# Times typed without a zone are Beijing time (China has no daylight saving).

_UNIT_CODE = re.compile(r"\d{12}")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CAP_ID = re.compile(r"[^\s,<&]+")
_VERBS = {"Alert": "发布", "Update": "更新", "Cancel": "解除"}
_VALIDITY = {"Self-intersection": "自相交", "Ring Self-intersection": "环自相交", "Too few points": "点数过少"}


def _bad(field: str, message: str) -> BadInput:
    return BadInput(f"字段 {field}：{message}", extra={"field": field})


def parse_manual(body: dict, now: datetime, sender: str) -> NormalisedWarning:
    """Validate the hand-entry form and build the warning (identifier generated, sent = now)."""
    now = utc(now).replace(microsecond=0)
    if not isinstance(body, dict):
        raise _bad("", "表单必须是 JSON 对象")
    for key in body:
        if key not in FIELDS:
            raise _bad(str(key), f"未知字段（可用字段：{'、'.join(FIELDS)}）")

    event = body.get("event")
    if event not in EVENTS:
        raise _bad("event", f"预警种类 {event!r} 不在列表中（{'、'.join(EVENTS)}）")
    colour = COLOUR_NAMES.get(body["colour"].strip().lower()) if isinstance(body.get("colour"), str) else None
    if colour is None and body.get("colour") in (None, ""):
        raise _bad("colour", "必须选择预警颜色（蓝、黄、橙、红或 blue、yellow、orange、red）")
    if colour is None:
        raise _bad("colour", f"颜色 {body.get('colour')!r} 无法识别（蓝、黄、橙、红或 blue、yellow、orange、red）")
    msg_type = body.get("msg_type", "Alert")
    if msg_type not in MSG_TYPES:
        raise _bad("msg_type", f"{msg_type!r} 无法识别（Alert、Update 或 Cancel）")
    status = body.get("status", "Actual")
    if status not in STATUSES:
        raise _bad("status", f"{status!r} 无法识别（Actual、Exercise 或 Test）")
    references = _references(body.get("references"), msg_type)

    onset = _time(body.get("onset"), "onset") or now
    expires = _time(body.get("expires"), "expires")
    if expires is None and msg_type != "Cancel":
        raise _bad("expires", "必须填写失效时间")
    if expires is not None and expires <= onset:
        raise _bad("expires", "失效时间必须晚于生效时间 onset")
    if expires is not None and expires <= now:
        raise _bad("expires", "失效时间必须晚于当前时间")

    areas = _areas(body.get("areas"), required=msg_type != "Cancel")
    colour_zh = COLOUR_LABELS[colour]
    headline = _text(body, "headline") or f"郑州市气象台{_VERBS[msg_type]}{event}{colour_zh}预警信号"
    return NormalisedWarning(
        identifier=f"fangxun-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}",
        sender=sender,
        sent=now,
        status=status,
        msg_type=msg_type,
        scope="Public",
        references=references,
        event=event,
        colour=colour,
        severity=COLOUR_SEVERITY[colour],
        urgency="Immediate" if onset <= now else "Expected",
        certainty="Likely",
        onset=onset,
        expires=expires,
        headline=headline,
        description=_text(body, "description"),
        instruction=_text(body, "instruction"),
        sender_name=_text(body, "sender_name") or DEFAULT_SENDER_NAME,
        language="zh-CN",
        areas=areas,
    )


def _text(body: dict, field: str, name: str | None = None) -> str:
    value = body.get(name or field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _bad(field, "必须是文本")
    value = value.strip()
    if len(value) > TEXT_LIMITS[field]:
        raise _bad(field, f"长度 {len(value)} 超过上限 {TEXT_LIMITS[field]} 字")
    if _NOT_XML.search(value):
        raise _bad(field, "含有不能出现在 CAP 文档中的控制字符")
    return value


def _time(value, field: str) -> datetime | None:
    """ISO 8601; a time without zone is Beijing time; whole seconds (as CAP carries them)."""
    moment = parse_local_time(value, field, empty=True, dates=False,
                              not_text="字段 {field}：必须是 ISO 8601 时间文本，如 2026-07-20T06:00:00+08:00",
                              unreadable="字段 {field}：时间 {value!r} 无法读取（ISO 8601，如 2026-07-20T06:00:00+08:00）")
    return None if moment is None else moment.replace(microsecond=0)


def _references(value, msg_type: str) -> tuple[Reference, ...]:
    if msg_type == "Alert":
        if value:
            raise _bad("references", "只有 Update 和 Cancel 才引用先前的预警")
        return ()
    if not isinstance(value, list) or not value:
        raise _bad("references", f"{msg_type} 必须列出所引用的预警（sender、identifier、sent）")
    if len(value) > MAX_REFERENCES:
        raise _bad("references", f"最多引用 {MAX_REFERENCES} 条预警")
    found = []
    for index, item in enumerate(value):
        where = f"references[{index}]"
        if not isinstance(item, dict):
            raise _bad(where, "必须是含 sender、identifier、sent 的对象")
        for key in item:
            if key not in ("sender", "identifier", "sent"):
                raise _bad(f"{where}.{key}", "未知字段")
        for key in ("sender", "identifier"):
            text = item.get(key)
            if not isinstance(text, str) or not _CAP_ID.fullmatch(text) or len(text) > 200:
                raise _bad(f"{where}.{key}", "必须是不含空白、逗号的文本")
        sent = _time(item.get("sent"), f"{where}.sent")
        if sent is None:
            raise _bad(f"{where}.sent", "必须填写所引用预警的发布时间")
        found.append(Reference(item["sender"], item["identifier"], sent))
    return tuple(found)


def _areas(value, required: bool) -> tuple[WarningArea, ...]:
    if value is None and not required:
        return ()
    if not isinstance(value, dict):
        raise _bad("areas", "必须是对象：unit_codes（12 位区划代码列表）和/或 polygon（GeoJSON 多边形）")
    for key in value:
        if key not in AREA_FIELDS:
            raise _bad(f"areas.{key}", f"未知字段（可用：{'、'.join(AREA_FIELDS)}）")
    codes = _unit_codes(value.get("unit_codes"))
    rings = _polygon(value["polygon"]) if value.get("polygon") is not None else ()
    if not codes and not rings:
        if not required:
            return ()
        raise _bad("areas", "至少给出 unit_codes 或 polygon 之一")
    description = _text(value, "areas.description", "description") or (DRAWN_AREA if rings else "")
    return (WarningArea(description, rings, (), codes),)


def _unit_codes(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _bad("areas.unit_codes", "必须是 12 位区划代码的列表")
    if len(value) > MAX_UNIT_CODES:
        raise _bad("areas.unit_codes", f"最多 {MAX_UNIT_CODES} 个区划代码")
    for index, code in enumerate(value):
        if not isinstance(code, str) or not _UNIT_CODE.fullmatch(code):
            raise _bad(f"areas.unit_codes[{index}]", f"{code!r} 不是 12 位统计用区划代码（文本）")
    return tuple(dict.fromkeys(value))


def _polygon(value) -> tuple[tuple[tuple[float, float], ...], ...]:
    """Exterior rings (lon, lat) of a GeoJSON Polygon/MultiPolygon (or a Feature holding one)."""
    field = "areas.polygon"
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise _bad(field, "必须是 GeoJSON Polygon 或 MultiPolygon 几何（经度、纬度）")
    coordinates = value.get("coordinates")
    polygons = [coordinates] if value["type"] == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise _bad(f"{field}.coordinates", "缺少坐标")
    rings, vertices = [], 0
    for p, polygon in enumerate(polygons):
        where = f"{field}.coordinates" + (f"[{p}]" if value["type"] == "MultiPolygon" else "")
        if not isinstance(polygon, list) or not polygon:
            raise _bad(where, "必须是环的列表")
        if len(polygon) > 1:
            raise _bad(where, "不支持内环（洞）：CAP 多边形只有外环")
        ring = polygon[0]
        if not isinstance(ring, list):
            raise _bad(f"{where}[0]", "必须是坐标点列表")
        vertices += len(ring)
        if vertices > MAX_VERTICES:
            raise _bad(field, f"顶点总数超过上限 {MAX_VERTICES}")
        rings.append(_ring(ring, f"{where}[0]"))
    return tuple(rings)


def _ring(ring: list, where: str) -> tuple[tuple[float, float], ...]:
    points = []
    for index, position in enumerate(ring):
        if (not isinstance(position, list) or len(position) not in (2, 3)
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in position)):
            raise _bad(f"{where}[{index}]", "坐标点必须是 [经度, 纬度]")
        lon, lat = float(position[0]), float(position[1])
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise _bad(f"{where}[{index}]", f"坐标 [{position[0]}, {position[1]}] 超出经度 ±180、纬度 ±90 的范围")
        points.append((lon, lat))
    if len(points) < 4:
        raise _bad(where, f"只有 {len(points)} 个点：多边形至少 4 个点（首尾相同）")
    if points[0] != points[-1]:
        raise _bad(where, "多边形未闭合：首点与末点必须相同")
    reason = shapely.is_valid_reason(shapely.Polygon(points))
    if reason != "Valid Geometry":
        kind = reason.split("[")[0].strip()
        raise _bad(where, f"多边形无效：{_VALIDITY.get(kind, kind)}（{reason}）")
    return tuple(points)
