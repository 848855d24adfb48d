"""Places for the demo registry: approximate unit locations and evacuation shelters."""

from __future__ import annotations

import math
import random

from fangxun.demo.names import short_name, unit_type
from fangxun.demo.plan_set import DemoUnit

# Approximate seat of each county-level unit (lon, lat) and the radius (degrees) its towns spread over.
DISTRICT_CENTRES = {
    "410102": (113.613, 34.748, 0.05),  # 中原区
    "410103": (113.640, 34.715, 0.06),  # 二七区
    "410104": (113.690, 34.745, 0.06),  # 管城回族区
    "410105": (113.670, 34.800, 0.06),  # 金水区
    "410106": (113.309, 34.803, 0.03),  # 上街区
    "410108": (113.617, 34.867, 0.06),  # 惠济区
    "410122": (113.976, 34.719, 0.15),  # 中牟县
    "410171": (113.750, 34.705, 0.06),  # 郑州经济技术开发区
    "410172": (113.545, 34.820, 0.05),  # 郑州高新技术产业开发区
    "410173": (113.850, 34.530, 0.10),  # 郑州航空港经济综合实验区
    "410181": (113.022, 34.748, 0.15),  # 巩义市
    "410182": (113.383, 34.787, 0.13),  # 荥阳市
    "410183": (113.391, 34.539, 0.13),  # 新密市
    "410184": (113.740, 34.396, 0.12),  # 新郑市
    "410185": (113.050, 34.454, 0.15),  # 登封市
}
CITY_CENTRE = (113.625, 34.747)
# Zhengzhou's extent (the packaged city boundary's bounds, rounded outwards).
BBOX = (112.71, 34.26, 114.22, 35.00)

_TOWNSHIP_SHELTERS = {
    "street": ("{name}党群服务中心避险安置点", "{name}综合文化站避险安置点", "{stem}小学避险安置点",
               "{stem}中学避险安置点", "{stem}体育馆避险安置点"),
    "town": ("{stem}镇中心小学避险安置点", "{stem}镇初级中学避险安置点", "{stem}镇文化广场避险安置点",
             "{stem}镇便民服务中心避险安置点", "{stem}镇敬老院避险安置点"),
    "rural": ("{stem}乡中心小学避险安置点", "{stem}乡初级中学避险安置点", "{stem}乡便民服务中心避险安置点",
              "{stem}乡文化站避险安置点"),
    "area": ("{stem}游客服务中心避险安置点", "{stem}管委会避险安置点"),
}
_VILLAGE_SHELTERS = {
    "village": ("{short}村委会避险安置点", "{stem}小学避险安置点", "{short}文化大院避险安置点"),
    "community": ("{short}服务中心", "{short}党群服务中心避险安置点", "{stem}小学避险安置点"),
}


def _clamp(lon: float, lat: float) -> tuple[float, float]:
    west, south, east, north = BBOX
    return round(min(max(lon, west), east), 6), round(min(max(lat, south), north), 6)


def jitter(rng: random.Random, lon: float, lat: float, radius: float) -> tuple[float, float]:
    """A point uniformly inside a disc around (lon, lat), kept in the bbox."""
    distance = radius * math.sqrt(rng.random())
    angle = rng.random() * 2 * math.pi
    # A degree of longitude is shorter than one of latitude at 34.7°N.
    return _clamp(lon + distance * math.cos(angle) / 0.82, lat + distance * math.sin(angle))


def township_point(rng: random.Random, district_code: str, name: str) -> tuple[float, float]:
    """Where a township's seat is: streets near the district seat, towns further out."""
    lon, lat, radius = DISTRICT_CENTRES.get(district_code[:6], (*CITY_CENTRE, 0.2))
    spread = 0.5 if unit_type(name, "township") == "street" else 1.0
    return jitter(rng, lon, lat, radius * spread)


def village_point(rng: random.Random, township: tuple[float, float], district_code: str) -> tuple[float, float]:
    """Where a village lies: close to its township's seat."""
    radius = DISTRICT_CENTRES.get(district_code[:6], (0, 0, 0.2))[2]
    return jitter(rng, *township, radius * 0.3)


def local_name(name: str, district_name: str) -> str:
    """A township's name without its zone prefix (郑州经济技术开发区明湖街道 -> 明湖街道)."""
    return name[len(district_name):] if name.startswith(district_name) and name != district_name else name


def _stem(name: str) -> str:
    for suffix in ("街道", "镇", "乡", "社区", "村"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def township_shelters(rng: random.Random, name: str, address: str, point: tuple[float, float],
                      district_code: str) -> list[dict]:
    """One to three shelters of a township (schools, squares, service centres)."""
    templates = _TOWNSHIP_SHELTERS[unit_type(name, "township")]
    chosen = rng.sample(templates, min(len(templates), rng.randint(1, 3)))
    radius = DISTRICT_CENTRES.get(district_code[:6], (0, 0, 0.2))[2] * 0.15
    return [{"name": template.format(name=name, stem=_stem(name)), "capacity": rng.randrange(200, 2001, 50),
             "address": address, "point": jitter(rng, *point, radius)} for template in chosen]


def village_shelter(rng: random.Random, name: str, address: str, point: tuple[float, float]) -> dict:
    """The shelter of a village or community (its committee, school or service centre)."""
    short = short_name(name, "village")
    template = rng.choice(_VILLAGE_SHELTERS[unit_type(name, "village")])
    return {"name": template.format(short=short, stem=_stem(short)), "capacity": rng.randrange(50, 501, 10),
            "address": address, "point": jitter(rng, *point, 0.004)}


def build_shelters(units: list[DemoUnit]) -> list[dict]:
    """Shelter rows (without plan_id): one to three per township, about one per three villages."""
    rng = random.Random("fangxun-demo:shelters")
    by_code = {unit.code: unit for unit in units}
    points: dict[str, tuple[float, float]] = {}
    rows: list[dict] = []
    for level in ("township", "village"):
        for unit in (u for u in units if u.level == level):
            parent = by_code[unit.parent_code]
            if level == "township":
                local = local_name(unit.name, parent.name)
                points[unit.code] = township_point(rng, unit.code, local)
                made = township_shelters(rng, local, f"郑州市{parent.name}{local}", points[unit.code], unit.code)
            elif rng.random() < 1 / 3:
                district = by_code[parent.parent_code]
                address = f"郑州市{district.name}{local_name(parent.name, district.name)}{unit.short}"
                made = [village_shelter(rng, unit.name, address, village_point(rng, points[parent.code], unit.code))]
            else:
                continue
            rows.extend({"unit_code": unit.code, "name": item["name"], "capacity": item["capacity"],
                         "address": item["address"], "lon": item["point"][0], "lat": item["point"][1]}
                        for item in made)
    return rows
