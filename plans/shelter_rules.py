"""What makes a shelter's figures and place acceptable: capacity a whole number ≥ 0, longitude and latitude both or
neither and on the globe, and the point inside its unit's boundary or within NEAR_METRES of it. Pure."""

from __future__ import annotations

import math

import shapely

# A shelter at the edge of its unit (a school across the boundary road) is still its unit's shelter.
NEAR_METRES = 1000
MAX_CAPACITY = 10_000_000
METRES_PER_DEGREE = 111_320


def parse_capacity(text: object) -> int:
    """A capacity from a cell or body value; ValueError in Chinese unless a whole number from 0 to MAX_CAPACITY."""
    raw = str(text if text is not None else "").strip().replace(",", "")
    if not raw:
        raise ValueError("不能为空")
    try:
        number = float(raw)
    except ValueError:
        raise ValueError(f"应为整数人数：“{text}”") from None
    if not number.is_integer():
        raise ValueError(f"应为整数人数：“{text}”")
    if number < 0:
        raise ValueError(f"不能小于 0：{text}")
    if number > MAX_CAPACITY:
        raise ValueError(f"不能大于 {MAX_CAPACITY}：{text}")
    return int(number)


def parse_coordinate(text: object, low: float, high: float) -> float | None:
    """A longitude or latitude in decimal degrees from low to high; blank is None."""
    raw = str(text if text is not None else "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"应为十进制度数：“{text}”") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"应在 {low:g} 到 {high:g} 之间：{text}")
    return value


def both_or_neither(lon: float | None, lat: float | None) -> str | None:
    """Why a place with only one of its coordinates is refused; None when both or neither are given."""
    if (lon is None) != (lat is None):
        return "经度和纬度须同时填写（或都不填）"
    return None


def metres_outside(boundary: shapely.Geometry, lon: float, lat: float) -> float:
    """How far (metres, approximately) the point lies outside `boundary`; 0 inside or on it."""
    point = shapely.Point(lon, lat)
    if boundary.covers(point):
        return 0.0
    nearest = shapely.shortest_line(point, boundary)
    (x1, y1), (x2, y2) = nearest.coords
    dx = (x2 - x1) * METRES_PER_DEGREE * math.cos(math.radians((y1 + y2) / 2))
    dy = (y2 - y1) * METRES_PER_DEGREE
    return math.hypot(dx, dy)


def too_far(boundary: shapely.Geometry | None, unit_label: str, lon: float | None, lat: float | None) -> str | None:
    """Why the point is refused for a unit with this real boundary (None: a unit without one is not checked)."""
    if boundary is None or lon is None or lat is None:
        return None
    distance = metres_outside(boundary, lon, lat)
    if distance <= NEAR_METRES:
        return None
    return (f"位置（{lon:g}, {lat:g}）在{unit_label}边界外约 {distance / 1000:.1f} 公里"
            f"（允许在边界外 {NEAR_METRES / 1000:g} 公里以内），请核对经纬度或所属单位")
