"""Geometry benchmark: the demo city's synthetic unit polygons, area and point matching vs geopandas.sjoin.

Builds ~3,530 unit polygons without a database (the packaged unit list, the real city and district
boundaries, synthetic townships, villages and development zones) and prints medians of several runs:
UnitIndex.intersecting against geopandas.sjoin for city-wide areas (and against sjoin plus overlay areas
where fractions are computed), and UnitIndex.locate / units_at against
sjoin for 1,000 points (target: ours at least 3× faster). Nothing is asserted.
Run: .venv/bin/python tests/bench/bench_geo.py
"""

from __future__ import annotations

import gc
import statistics
import time

import geopandas
import numpy as np
import shapely

from fangxun.demo.geometry import URBAN_FOCUS, demo_geometry
from fangxun.demo.registry import read_units
from fangxun.geo.spatial_index import UnitIndex, circle

CITY = "410100000000"
RUNS = 21
POINTS = 1000


def timed_in_turns(ours, theirs, runs: int) -> tuple[list[float], list[float], list[float], list[float]]:
    """Wall and CPU seconds of each run of both, run in turns (one warm-up each, garbage collector paused)."""
    ours(), theirs()
    wall, cpu = ([], []), ([], [])
    gc.disable()
    try:
        for _ in range(runs):
            for side, action in enumerate((ours, theirs)):
                start, start_cpu = time.perf_counter(), time.process_time()
                action()
                wall[side].append(time.perf_counter() - start)
                cpu[side].append(time.process_time() - start_cpu)
    finally:
        gc.enable()
    return wall[0], wall[1], cpu[0], cpu[1]


def compare(label: str, ours, theirs) -> None:
    """Print both medians and the speed-up; the two run in turns, so the machine's load weighs on both alike.
    The CPU-time ratio beside it (this process's own CPU seconds) moves less when other work shares the cores."""
    mine, sjoin, mine_cpu, sjoin_cpu = timed_in_turns(ours, theirs, RUNS)
    mine_ms, sjoin_ms = statistics.median(mine) * 1000, statistics.median(sjoin) * 1000
    print(f"  {label:<44} ours {mine_ms:7.2f} ms   sjoin {sjoin_ms:7.2f} ms   speed-up ×{sjoin_ms / mine_ms:.1f},"
          f" target ≥ 3× (CPU time ×{statistics.median(sjoin_cpu) / statistics.median(mine_cpu):.1f})")


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
        compare("intersecting, with fractions (vs sjoin + overlay areas)", lambda a=area: index.intersecting(a),
                lambda f=frame, a=area: sjoin_with_fractions(f, a, units))
        compare("intersecting, with_fraction=False", lambda a=area: index.intersecting(a, with_fraction=False),
                lambda f=frame: geopandas.sjoin(f, units, predicate="intersects"))
        if area is city:
            # A unit's own outline is answered from what the index keeps after a query with fractions (as
            # routing asks) or a second one; this row drops what was kept before every query (it still uses
            # which units below the outline it covers, worked out when the index was built).
            compare("  the same, first query of this outline", lambda a=area: first_query(index, a),
                    lambda f=frame: geopandas.sjoin(f, units, predicate="intersects"))


def first_query(index: UnitIndex, area) -> list:
    """intersecting(area, with_fraction=False) with nothing kept from earlier queries of a unit's outline."""
    index._outlines.clear()
    index._outlines_asked.clear()
    return index.intersecting(area, with_fraction=False)


def sjoin_with_fractions(frame: geopandas.GeoDataFrame, area, units: geopandas.GeoDataFrame):
    """The same work done with geopandas: sjoin, then the covered share of each unit's area."""
    shapes = geopandas.sjoin(units, frame, predicate="intersects").geometry.values
    return shapely.area(shapely.intersection(shapes, area)) / shapely.area(shapes)


def bench_points(index: UnitIndex, units: geopandas.GeoDataFrame, city: shapely.Geometry) -> None:
    """Point location: ours against sjoin(points, units, within)."""
    lons, lats = random_points(city, POINTS)
    points = geopandas.GeoDataFrame(geometry=geopandas.points_from_xy(lons, lats), crs="EPSG:4326")
    villages = units[units["level"] == "village"].reset_index(drop=True)
    print(f"{POINTS} random points inside the city:")
    compare("locate(level='village') vs sjoin on villages", lambda: index.locate(lons, lats, "village"),
            lambda: geopandas.sjoin(points, villages, predicate="within"))
    compare("units_at (every level) vs sjoin on all units", lambda: index.units_at(lons, lats),
            lambda: geopandas.sjoin(points, units, predicate="within"))


def main() -> dict:
    """Run the geometry benchmark; returns what it built so later sections can reuse it."""
    units_list, _ = read_units()
    start = time.perf_counter()
    shapes = demo_geometry([(u.code, u.name, u.level, u.parent_code) for u in units_list])
    generated = time.perf_counter() - start
    codes = [u.code for u in units_list]
    levels = [u.level for u in units_list]
    geometries = [shapes[c][0] for c in codes]
    vertices = int(shapely.get_num_coordinates(np.array(geometries, dtype=object)).sum())
    print(f"city geometry: {len(codes)} units, {vertices:,} vertices, generated in {generated:.2f} s "
          "(the demo's construction: real city/districts, synthetic zones, townships and villages)")
    start = time.perf_counter()
    index = UnitIndex(codes, levels, geometries, parents=[u.parent_code for u in units_list])
    built = time.perf_counter() - start
    units = geopandas.GeoDataFrame({"code": codes, "level": levels}, geometry=geometries, crs="EPSG:4326")
    start = time.perf_counter()
    _ = units.sindex  # sjoin builds (and caches) the same kind of tree; keep it out of the timings
    sindex_ms = (time.perf_counter() - start) * 1000
    print(f"UnitIndex built in {built * 1000:.1f} ms; geopandas sindex in {sindex_ms:.1f} ms")
    city = shapes[CITY][0]
    bench_areas(index, units, city)
    bench_points(index, units, city)
    return {"codes": codes, "levels": levels, "geometries": geometries, "index": index, "units": units}


def bench_map(runs: int = 5) -> None:
    """The duty map of the demo registry (SQLite file): build time and bytes sent (targets < 3 s, < 6 MB)."""
    import asyncio
    import gzip
    import tempfile
    from datetime import date

    from fangxun.core.db import create_engine, session_factory
    from fangxun.core.migrate import upgrade
    from fangxun.demo.registry import load_demo
    from fangxun.geo.map_assets import LEAFLET_URL, MAP_FILES, leaflet_dir, static_dir
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
                    page = await coverage_map_html(session, settings.registry, today)
                times.append(time.perf_counter() - start)
            async with sessions() as session:
                exported = await coverage_map_html(session, settings.registry, today, inline_assets=True)
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
