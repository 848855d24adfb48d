"""Geometry benchmark: the demo city's synthetic unit polygons, area and point matching vs geopandas.sjoin.

Builds ~3,530 unit polygons without a database (the packaged unit list, the real city and district
boundaries, synthetic townships, villages and development zones) and prints medians of several runs:
UnitIndex.intersecting against geopandas.sjoin for city-wide areas, and UnitIndex.locate against
sjoin for 1,000 points (target: ours at least 3× faster). Nothing is asserted.
Run: .venv/bin/python tests/bench/bench_geo.py   (FANGXUN_SHARED_DATA=/path/to/shared/data optional)
"""

from __future__ import annotations

import csv
import gc
import os
import statistics
import time
from importlib import resources
from pathlib import Path

import geopandas
import numpy as np
import shapely

from fangxun.geo.boundary_file import read_boundaries
from fangxun.geo.spatial_index import UnitIndex, circle
from fangxun.geo.synthetic import partition, zone

CITY = "410100000000"
# The same construction as the demo (fangxun/plans/demo_geometry.py): the urban core and the
# approximate centres and areas (km²) of the development zones, which have no published boundary.
URBAN_FOCUS = (113.665, 34.757)
ZONES = {
    "410171000000": ((113.745, 34.715), 130.0),
    "410172000000": ((113.545, 34.815), 99.0),
    "410173000000": ((113.840, 34.530), 415.0),
}
URBAN_SUFFIXES = ("街道", "社区", "居委会", "居民委员会")
LEVELS = {"city": "city", "county": "district", "district": "district", "township": "township",
          "village": "village"}
RUNS = 21
POINTS = 1000


def boundary_folder() -> Path:
    """The shared boundaries: $FANGXUN_SHARED_DATA, shared/ beside the checkout, else the packaged copy."""
    candidates = []
    if os.environ.get("FANGXUN_SHARED_DATA"):
        candidates.append(Path(os.environ["FANGXUN_SHARED_DATA"]) / "boundaries")
    repo = Path(__file__).resolve().parents[2]
    candidates += [repo.parent / "shared" / "data" / "boundaries", Path("/work/shared/data/boundaries")]
    for folder in candidates:
        if (folder / f"{CITY}.geojson").is_file():
            return folder
    return Path(str(resources.files("fangxun.plans.data").joinpath("boundaries")))


def unit_rows() -> list[dict]:
    """The packaged unit list: code, name, level, parent_code."""
    text = resources.files("fangxun.plans.data").joinpath("zhengzhou_nbs_2023_codes.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def city_geometry(rows: list[dict], folder: Path) -> dict[str, shapely.Geometry]:
    """Every unit's polygon: real city/district boundaries, synthetic zones, townships and villages."""
    shapes = {path.stem: read_boundaries(path).frame.geometry.iloc[0] for path in sorted(folder.glob("*.geojson"))}
    for code, (centre, area) in ZONES.items():
        shapes[code] = zone(centre, area, seed=int(code[:6]), clip_to=shapes[CITY])
    children: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        if row["level"] in ("township", "village"):
            kind = "urban" if row["name"].endswith(URBAN_SUFFIXES) else "rural"
            children.setdefault(row["parent_code"], []).append((row["code"], kind))
    for level in ("county", "township"):
        for row in rows:
            parent = row["code"]
            if row["level"] == level and parent in children and parent in shapes:
                shapes.update(partition(shapes[parent], children[parent], seed=int(parent[:9]), focus=URBAN_FOCUS))
    return shapes


def median_ms(action, runs: int = RUNS) -> float:
    """Median wall time of `action` in milliseconds (one warm-up run, garbage collector paused)."""
    action()
    times = []
    gc.disable()
    try:
        for _ in range(runs):
            start = time.perf_counter()
            action()
            times.append(time.perf_counter() - start)
    finally:
        gc.enable()
    return statistics.median(times) * 1000


def compare(label: str, ours, theirs) -> None:
    """Print both medians and the speed-up."""
    mine, sjoin = median_ms(ours), median_ms(theirs)
    print(f"  {label:<44} ours {mine:7.2f} ms   sjoin {sjoin:7.2f} ms   speed-up ×{sjoin / mine:.1f}, target ≥ 3×")


def random_points(city: shapely.Geometry, count: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random points inside the city."""
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = city.bounds
    lons, lats = np.empty(0), np.empty(0)
    while len(lons) < count:
        x, y = rng.uniform(xmin, xmax, count), rng.uniform(ymin, ymax, count)
        inside = shapely.contains_xy(city, x, y)
        lons, lats = np.concatenate([lons, x[inside]]), np.concatenate([lats, y[inside]])
    return lons[:count], lats[:count]


def bench_areas(index: UnitIndex, units: geopandas.GeoDataFrame, city: shapely.Geometry) -> None:
    """Area matching: ours (with and without fractions) against sjoin(area, units, intersects)."""
    hull = shapely.simplify(shapely.buffer(city.convex_hull, 0.02), 0.01)
    west = shapely.intersection(hull, shapely.box(112.0, 33.0, 113.45, 36.0))
    areas = [
        ("city outline itself (worst case)", city),
        ("city-wide warning polygon (hull + 2 km)", hull),
        ("western third of the city", west),
        ("CAP circle, 15 km around the centre", circle(URBAN_FOCUS[0], URBAN_FOCUS[1], 15)),
    ]
    for label, area in areas:
        frame = geopandas.GeoDataFrame(geometry=[area], crs="EPSG:4326")
        matches = index.intersecting(area)
        partly = sum(1 for m in matches if m.fraction < 1)
        print(f"{label}: {len(matches)} units, {partly} partly covered, {shapely.get_num_coordinates(area)} vertices")
        compare("intersecting, with fractions", lambda a=area: index.intersecting(a),
                lambda f=frame: geopandas.sjoin(f, units, predicate="intersects"))
        compare("intersecting, with_fraction=False", lambda a=area: index.intersecting(a, with_fraction=False),
                lambda f=frame: geopandas.sjoin(f, units, predicate="intersects"))


def bench_points(index: UnitIndex, units: geopandas.GeoDataFrame, city: shapely.Geometry) -> None:
    """Point location: ours against sjoin(points, units, within)."""
    lons, lats = random_points(city, POINTS)
    points = geopandas.GeoDataFrame(geometry=geopandas.points_from_xy(lons, lats), crs="EPSG:4326")
    villages = units[units["level"] == "village"].reset_index(drop=True)
    print(f"{POINTS} random points inside the city:")
    compare("locate(level='village') vs sjoin on villages", lambda: index.locate(lons, lats, "village"),
            lambda: geopandas.sjoin(points, villages, predicate="within"))
    levels = ("city", "district", "township", "village")
    compare("locate at all 4 levels vs sjoin on all units",
            lambda: [index.locate(lons, lats, level) for level in levels],
            lambda: geopandas.sjoin(points, units, predicate="within"))


def main() -> dict:
    """Run the geometry benchmark; returns what it built so later sections can reuse it."""
    folder = boundary_folder()
    rows = unit_rows()
    start = time.perf_counter()
    shapes = city_geometry(rows, folder)
    generated = time.perf_counter() - start
    rows = [r for r in rows if r["code"] in shapes]
    codes = [r["code"] for r in rows]
    levels = [LEVELS[r["level"]] for r in rows]
    geometries = [shapes[c] for c in codes]
    vertices = int(shapely.get_num_coordinates(np.array(geometries, dtype=object)).sum())
    print(f"boundaries from {folder}")
    print(f"city geometry: {len(codes)} units, {vertices:,} vertices, generated in {generated:.2f} s "
          "(real city/districts read, zones, townships and villages synthesised)")
    start = time.perf_counter()
    index = UnitIndex(codes, levels, geometries)
    built = time.perf_counter() - start
    units = geopandas.GeoDataFrame({"code": codes, "level": levels}, geometry=geometries, crs="EPSG:4326")
    start = time.perf_counter()
    _ = units.sindex  # sjoin builds (and caches) the same kind of tree; keep it out of the timings
    sindex_ms = (time.perf_counter() - start) * 1000
    print(f"UnitIndex built in {built * 1000:.1f} ms; geopandas sindex in {sindex_ms:.1f} ms")
    city = shapes[CITY]
    bench_areas(index, units, city)
    bench_points(index, units, city)
    return {"codes": codes, "levels": levels, "geometries": geometries, "index": index, "units": units}


def bench_map(runs: int = 5) -> None:
    """The duty map of the demo registry (SQLite file): build time and bytes sent (targets < 3 s, < 6 MB)."""
    import asyncio
    import gzip
    import tempfile
    from datetime import date

    from fangxun.db import create_engine, session_factory
    from fangxun.geo.map_assets import LEAFLET_URL, MAP_FILES, leaflet_dir, static_dir
    from fangxun.migrate import upgrade
    from fangxun.plans.demo import load_demo
    from fangxun.plans.map_data import coverage_map_html
    from fangxun.settings import load_settings

    settings, today = load_settings(), date(2026, 6, 1)

    async def measure(folder: str) -> tuple[list[float], str, str]:
        engine = create_engine(f"sqlite:///{folder}/map.db")
        try:
            await upgrade(engine)
            sessions = session_factory(engine)
            async with sessions() as session, session.begin():
                await load_demo(session, settings, today)
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                async with sessions() as session:
                    page = await coverage_map_html(session, settings, today)
                times.append(time.perf_counter() - start)
            async with sessions() as session:
                exported = await coverage_map_html(session, settings, today, inline_assets=True)
            return times, page, exported
        finally:
            await engine.dispose()

    with tempfile.TemporaryDirectory() as folder:
        times, page, exported = asyncio.run(measure(folder))
    html = page.encode("utf-8")
    assets = sum(len((leaflet_dir() if base == LEAFLET_URL else static_dir()).joinpath(name).read_bytes())
                 for _, base, name in MAP_FILES)
    # /map is sent gzip-compressed; the static files as they are (and cached after the first visit).
    sent = len(gzip.compress(html, 6)) + assets
    print("duty map of the demo registry (coverage_map_html on SQLite, 3,530 units):")
    print(f"  build: median {statistics.median(times):.2f} s, best {min(times):.2f} s of {runs} (target < 3 s)")
    total = len(html) + assets
    print(f"  page {len(html) / 1e6:.2f} MB + scripts/styles {assets / 1e6:.2f} MB = {total / 1e6:.2f} MB"
          f" uncompressed (target < 6 MB); sent with gzip: {sent / 1e6:.2f} MB")
    print(f"  exported file (fangxun map export, everything inline): {len(exported.encode('utf-8')) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
    bench_map()
