"""A page of units as GeoJSON Feature text with their plan status, written in a worker process (core.cpu_pool):
thousands of features are tens of milliseconds of CPU, and a server thread doing it holds the event loop whenever
a loaded machine stops it in the middle."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from fangxun.geo.geometry_json import NULL, Packed, geometry_json
from fangxun.plans.config import RegistrySettings
from fangxun.plans.review_clock import plan_status
from fangxun.plans.unit_status import missing_kinds, status_counts, unit_status


@dataclass(frozen=True)
class PageInput:
    """What a page is made of: units (code, name, level, parent_code, synthetic) in order, their plans (unit_code,
    kind, lifecycle, next_review_due), one boundary each (GeoJSON text, or WKB when `wkb`), label points or none."""

    units: list[tuple]
    plans: list[tuple]
    geometries: Packed
    wkb: bool
    label_lons: list[float] | None = None
    label_lats: list[float] | None = None


def _properties(units: list[tuple], plans: list[tuple], registry: RegistrySettings, today: date) -> list[dict]:
    statuses: dict[str, dict[str, str]] = defaultdict(dict)
    for code, kind, lifecycle, due in plans:
        statuses[code][kind] = plan_status(lifecycle, due, today, registry.due_soon_days)
    rows = []
    for code, name, level, parent_code, synthetic in units:
        by_kind = statuses.get(code, {})
        required = registry.required_kinds_for(level)
        missing = missing_kinds(required, by_kind)
        rows.append({"code": code, "name": name, "level": level, "parent_code": parent_code,
                     "synthetic": bool(synthetic), "status": unit_status(required, by_kind),
                     **status_counts(by_kind), "missing": len(missing), "missing_kinds": ",".join(missing)})
    return rows


def page_features(page: PageInput, registry: RegistrySettings, today: date) -> bytes:
    """The page's Features as JSON text, comma-separated (the caller adds the brackets)."""
    rows = _properties(page.units, page.plans, registry, today)
    if page.label_lons is not None:
        for row, lon, lat in zip(rows, page.label_lons, page.label_lats):   # where the map puts the unit's name
            row["label_lon"], row["label_lat"] = lon, lat
    geometries = geometry_json(page.geometries) if page.wkb else page.geometries
    return b",".join(b'{"type":"Feature","id":' + json.dumps(row["code"], ensure_ascii=False).encode()
                     + b',"geometry":' + (geometries[index] or NULL) + b',"properties":'
                     + json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"}"
                     for index, row in enumerate(rows))
