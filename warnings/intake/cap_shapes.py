"""CAP <polygon> and <circle> text read into (lon, lat) shapes, with Chinese remarks on what was changed or lost."""

from __future__ import annotations

import math
import re

Point = tuple[float, float]
Ring = tuple[Point, ...]
Circle = tuple[float, float, float]

# Characters that cannot belong to a number and cannot change one either: removed with a remark.
STRAY = "()[]{}"
# A longitude may go past ±180 (a ring drawn across the antimeridian, e.g. -180.005), never past a turn.
MAX_LONGITUDE = 360.0
MAX_RADIUS_KM = 20_000.0

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_COMMA = re.compile(r"\s*,\s*")
_STRAY = re.compile("[" + re.escape(STRAY) + "]")


def _snippet(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _pair(text: str) -> Point | None:
    """(lon, lat) from CAP's "lat,lon", or None when unreadable or out of range."""
    parts = text.split(",")
    if len(parts) != 2 or not all(_NUMBER.fullmatch(part) for part in parts):
        return None
    lat, lon = float(parts[0]), float(parts[1])
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -MAX_LONGITUDE <= lon <= MAX_LONGITUDE):
        return None
    return lon, lat


def _pairs(text: str) -> tuple[list[str], list[str]]:
    """The coordinate pairs of a shape's text and the stray characters taken out of them."""
    stray = sorted(set(_STRAY.findall(text)))
    return _COMMA.sub(",", _STRAY.sub("", text)).split(), stray


def _continuous(points: list[Point]) -> list[Point] | None:
    """The ring with no jump over 180° of longitude, moved by whole turns so its middle lies within ±180.

    A ring across the antimeridian (179.5 … -179.5) stays 1° wide instead of spanning the globe; None
    when the ring goes round a pole (it does not come back to its first longitude).
    """
    unwrapped = [points[0]]
    for lon, lat in points[1:]:
        previous = unwrapped[-1][0]
        lon += 360.0 * round((previous - lon) / 360.0)
        unwrapped.append((lon, lat))
    if unwrapped[-1] != unwrapped[0]:
        return None
    lons = [lon for lon, _ in unwrapped]
    turns = round((min(lons) + max(lons)) / 2 / 360.0)
    return [(lon - 360.0 * turns, lat) for lon, lat in unwrapped]


def read_polygon(text: str) -> tuple[Ring | None, list[str]]:
    """A closed ring of (lon, lat) from "lat,lon lat,lon …", or None; and remarks on what was done.

    Stray brackets are removed and an open ring is closed (both remarked); unreadable or out-of-range
    coordinates, too few points or a ring round a pole lose the polygon (the remark says why).
    """
    pairs, stray = _pairs(text)
    if not pairs:
        return None, ["为空"]
    remarks = [f"坐标中有多余字符“{''.join(stray)}”，已去除"] if stray else []
    points = []
    for pair in pairs:
        point = _pair(pair)
        if point is None:
            return None, [f"含无法读取或超出范围的坐标 '{_snippet(pair)}'"]
        points.append(point)
    if len(points) >= 3 and points[0] != points[-1]:
        points.append(points[0])
        remarks.append("未闭合（首点与末点不同），已按首点闭合")
    if len(set(points)) < 3:
        return None, [f"只有 {len(set(points))} 个不同的点，围不成区域"]
    ring = _continuous(points)
    if ring is None:
        return None, ["环绕极地，经度范围无法确定"]
    return tuple(ring), remarks


def read_circle(text: str) -> tuple[Circle | None, list[str]]:
    """(lon, lat, radius_km) from "lat,lon radius", or None; and remarks on what was done."""
    parts, stray = _pairs(text)
    if not parts:
        return None, ["为空"]
    point = _pair(parts[0]) if len(parts) == 2 else None
    radius = float(parts[1]) if point is not None and _NUMBER.fullmatch(parts[1]) else math.nan
    if point is None or not 0 <= radius < MAX_RADIUS_KM:
        return None, [f"'{_snippet(text)}' 无法读取（应为“纬度,经度 半径公里”）"]
    lon = (point[0] + 180.0) % 360.0 - 180.0 if abs(point[0]) > 180 else point[0]
    remarks = [f"坐标中有多余字符“{''.join(stray)}”，已去除"] if stray else []
    return (lon, point[1], radius), remarks
