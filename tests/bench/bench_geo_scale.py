"""Geometry benchmark at province scale: the 河北 list (56,712 units, 5 levels) on synthetic polygons vs sjoin.

The 河北 list has no boundaries: a wiggly province outline of about 河北's area is cut into its cities,
counties, townships and villages by the demo's Voronoi partition, so children tile their parent (about 4 s).
Each case prints the median of several runs for UnitIndex and for geopandas.sjoin on the same data in the
same run, and the speed-up (target: ours at least 3× faster). Nothing is asserted.
Run: FANGXUN_SHARED_DATA=/work/shared/data .venv/bin/python tests/bench/bench_geo_scale.py
"""

from __future__ import annotations

import csv
import math
import statistics
import sys
import time
from pathlib import Path

import geopandas
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_geo import first_query, random_points, sjoin_with_fractions, timed_in_turns  # noqa: E402
from support.shared_data import shared_data_file  # noqa: E402

from fangxun.geo.spatial_index import METRES_PER_DEGREE, UnitIndex, circle  # noqa: E402
from fangxun.geo.synthetic import partition, zone  # noqa: E402

PROVINCE_CENTRE = (115.9, 39.2)
PROVINCE_KM2 = 188_000.0
CITY = "130600000000"          # 保定市, the largest city
POINTS = 1000
RUNS = 15
URBAN_SUFFIXES = ("街道", "社区", "居委会", "居民委员会")


def province_units() -> list[tuple[str, str, str, str | None]]:
    """(code, name, level, parent_code) of every unit of the 河北 list."""
    with shared_data_file("divisions", "hebei_nbs_2023_codes.csv").open(encoding="utf-8") as handle:
        return [(row["code"], row["name"], row["level"], row["parent_code"] or None) for row in csv.DictReader(handle)]


def province_outline(vertices: int = 3000, seed: int = 13) -> shapely.Polygon:
    """A star-shaped outline of about 河北's area with a ragged edge of `vertices` points."""
    rng = np.random.default_rng(seed)
    angles = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
    radii = np.ones(vertices)
    for wave in range(2, 60):
        radii += rng.normal(0, 0.25 / wave) * np.cos(wave * angles + rng.uniform(0, 2 * math.pi))
    radii = np.clip(radii, 0.3, None)
    x, y = radii * np.cos(angles), radii * np.sin(angles)
    shape_area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    dlat = math.sqrt(PROVINCE_KM2 / shape_area) * 1000 / METRES_PER_DEGREE
    dlon = dlat / math.cos(math.radians(PROVINCE_CENTRE[1]))
    return shapely.Polygon(np.column_stack([PROVINCE_CENTRE[0] + x * dlon, PROVINCE_CENTRE[1] + y * dlat]))


def province_geometry(units) -> dict[str, shapely.Geometry]:
    """A polygon per unit; children tile their parent and boundaries are as ragged as the villages below.

    A top-down partition (the demo's, per parent) places one seed per village; the villages are then the
    cells of one Voronoi diagram of all seeds clipped to the outline, and every unit above is the exact
    union of its villages, so a city's outline follows its villages' edges (thousands of vertices).
    """
    outline = province_outline()
    shapes = {code: outline for code, _, level, _ in units if level == "province"}
    children: dict[str, list[tuple[str, str]]] = {}
    for code, name, _, parent in units:
        if parent:
            children.setdefault(parent, []).append((code, "urban" if name.endswith(URBAN_SUFFIXES) else "rural"))
    for level in ("province", "city", "county", "township"):
        for code, _, unit_level, _ in units:
            if unit_level == level and code in children and code in shapes:
                shapes.update(partition(shapes[code], children[code], seed=int(code[:9])))
    villages = [code for code, _, level, _ in units if level == "village"]
    seeds = shapely.point_on_surface(np.array([shapes[code] for code in villages]))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=outline))
    seed_index, cell_index = shapely.STRtree(cells).query(seeds, predicate="within")
    cell_of = np.empty(len(villages), dtype=np.int64)
    cell_of[seed_index] = cell_index
    shapes.update(zip(villages, shapely.intersection(cells[cell_of], outline)))
    for level in ("township", "county", "city", "province"):
        for code, _, unit_level, _ in units:
            if unit_level == level and code in children:
                shapes[code] = shapely.coverage_union_all([shapes[child] for child, _ in children[code]])
    return shapes


def compare(label: str, ours, theirs, results: list) -> None:
    """Print both medians and the speed-up; keep the row for the closing table.

    The two run in turns (one warm-up each, garbage collector paused), so a change in the machine's load
    during the case weighs on both alike; the CPU-time ratio (this process's own CPU seconds) moves less.
    """
    mine, sjoin, mine_cpu, sjoin_cpu = timed_in_turns(ours, theirs, RUNS)
    mine_ms, sjoin_ms = statistics.median(mine) * 1000, statistics.median(sjoin) * 1000
    cpu_ratio = statistics.median(sjoin_cpu) / statistics.median(mine_cpu)
    results.append((label, mine_ms, sjoin_ms, cpu_ratio))
    print(f"  {label:<52} ours {mine_ms:8.2f} ms   sjoin {sjoin_ms:8.2f} ms   ×{sjoin_ms / mine_ms:5.1f}"
          f" (target ≥ 3×; CPU time ×{cpu_ratio:.1f})", flush=True)


def bench_area(label, area, index, units, results: list) -> None:
    """One area with and without fractions."""
    frame = geopandas.GeoDataFrame(geometry=[area], crs="EPSG:4326")
    matches = index.intersecting(area)
    partly = sum(1 for m in matches if m.fraction < 1)
    print(f"{label}: {len(matches)} units, {partly} partly covered, {shapely.get_num_coordinates(area)} vertices")
    compare(f"{label}, with fractions", lambda: index.intersecting(area),
            lambda: sjoin_with_fractions(frame, area, units), results)
    compare(f"{label}, without fractions", lambda: index.intersecting(area, with_fraction=False),
            lambda: geopandas.sjoin(frame, units, predicate="intersects"), results)


def main() -> list[tuple[str, float, float, float]]:
    """Build the province, run every case; returns (case, ours ms, sjoin ms, CPU-time ratio) rows."""
    units = province_units()
    start = time.perf_counter()
    shapes = province_geometry(units)
    print(f"province geometry: {len(shapes)} units, "
          f"{int(shapely.get_num_coordinates(np.array(list(shapes.values()))).sum()):,} vertices, "
          f"generated in {time.perf_counter() - start:.1f} s")
    codes = [code for code, *_ in units]
    levels = [level for _, _, level, _ in units]
    parents = [parent for *_, parent in units]
    geometries = [shapes[code] for code in codes]
    start = time.perf_counter()
    index = UnitIndex(codes, levels, geometries, parents=parents)
    built = time.perf_counter() - start
    frame = geopandas.GeoDataFrame({"code": codes, "level": levels}, geometry=geometries, crs="EPSG:4326")
    start = time.perf_counter()
    _ = frame.sindex
    print(f"UnitIndex built in {built:.2f} s; geopandas sindex in {time.perf_counter() - start:.2f} s")
    results: list = []
    city = shapes[CITY]
    centre = city.point_on_surface()
    bench_area("city outline (保定)", city, index, frame, results)
    # A unit's outline is answered from what the index keeps after its first query: dropped before each run
    # (which units below the outline it covers, worked out when the index was built, is still used).
    compare("city outline (保定), without fractions, first query", lambda: first_query(index, city),
            lambda: geopandas.sjoin(geopandas.GeoDataFrame(geometry=[city], crs="EPSG:4326"), frame,
                                    predicate="intersects"), results)
    bench_area("15 km circle", circle(centre.x, centre.y, 15), index, frame, results)
    district = zone((centre.x, centre.y), 1500.0, seed=3)
    bench_area("district-sized polygon (1,500 km²)", district, index, frame, results)
    lons, lats = random_points(shapes[codes[0]], POINTS)
    points = geopandas.GeoDataFrame(geometry=geopandas.points_from_xy(lons, lats), crs="EPSG:4326")
    villages = frame[frame["level"] == "village"].reset_index(drop=True)
    _ = villages.sindex
    print(f"{POINTS} random points in the province:")
    compare("locate(level='village') vs sjoin on villages", lambda: index.locate(lons, lats, "village"),
            lambda: geopandas.sjoin(points, villages, predicate="within"), results)
    compare("units_at (every level) vs sjoin on all units", lambda: index.units_at(lons, lats),
            lambda: geopandas.sjoin(points, frame, predicate="within"), results)
    print("\n| case | ours ms | sjoin ms | speed-up | CPU time |\n|---|---:|---:|---:|---:|")
    for label, mine, sjoin, cpu_ratio in results:
        print(f"| {label} | {mine:.2f} | {sjoin:.2f} | ×{sjoin / mine:.1f} | ×{cpu_ratio:.1f} |")
    return results


if __name__ == "__main__":
    main()
