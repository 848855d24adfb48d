"""Deterministic demo geometry: Voronoi partitions of a parent polygon and irregular zone polygons."""

from __future__ import annotations

import math

import numpy as np
import shapely

from fangxun.geo.spatial_index import METRES_PER_DEGREE

KINDS = ("urban", "rural")
# Urban seeds thin out as exp(-distance / (this × the parent's size)).
_URBAN_DECAY = 0.2
_MAX_DRAWS = 2000


def partition(parent, children: list[tuple[str, str]], seed: int,
              focus: tuple[float, float] | None = None) -> dict[str, shapely.Polygon | shapely.MultiPolygon]:
    """Cut `parent` into one cell per (code, kind) child; the cells tile the parent exactly."""
    codes = [code for code, _ in children]
    if not codes:
        raise ValueError("partition needs at least one child")
    if len(set(codes)) != len(codes):
        raise ValueError("child codes must be unique")
    unknown = {kind for _, kind in children} - set(KINDS)
    if unknown:
        raise ValueError(f"unknown child kinds: {sorted(unknown)}")
    parent = _polygonal(parent if parent.is_valid else shapely.make_valid(parent))
    if parent is None:
        raise ValueError("the parent has no area")
    if len(codes) == 1:
        return {codes[0]: parent}

    rng = np.random.default_rng(seed)
    region = shapely.from_wkb(shapely.to_wkb(parent))  # a private copy to prepare
    shapely.prepare(region)
    urban = np.array([kind == "urban" for _, kind in children])
    seeds = np.empty((len(codes), 2))
    centre = _urban_centre(region, focus)
    sampler = _Sampler(region, rng)
    seeds[urban] = sampler.draw(int(urban.sum()), centre)
    seeds[~urban] = sampler.draw(int((~urban).sum()), None)

    sites = shapely.points(seeds)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=region))
    site_index, cell_index = shapely.STRtree(cells).query(sites, predicate="within")
    cell_of = np.empty(len(codes), dtype=np.int64)
    cell_of[site_index] = cell_index
    clipped = shapely.intersection(cells[cell_of], region)
    return {code: _polygonal(geom) for code, geom in zip(codes, clipped)}


class _Sampler:
    """Rejection sampling of distinct points strictly inside a region, optionally crowding a centre."""

    def __init__(self, region, rng: np.random.Generator):
        self.region, self.rng = region, rng
        self.bounds = region.bounds
        self.cos_lat = math.cos(math.radians((self.bounds[1] + self.bounds[3]) / 2))
        # The parent's size in (cos-scaled) degrees sets the decay length of urban density.
        self.decay = _URBAN_DECAY * math.sqrt(region.area * self.cos_lat)
        self.taken: set[tuple[float, float]] = set()

    def draw(self, count: int, centre: tuple[float, float] | None) -> np.ndarray:
        xmin, ymin, xmax, ymax = self.bounds
        points: list[tuple[float, float]] = []
        for _ in range(_MAX_DRAWS):
            if len(points) >= count:
                break
            batch = max(64, 8 * (count - len(points)))
            x = self.rng.uniform(xmin, xmax, batch)
            y = self.rng.uniform(ymin, ymax, batch)
            keep = shapely.contains_xy(self.region, x, y)
            if centre is not None:
                distance = np.hypot((x - centre[0]) * self.cos_lat, y - centre[1])
                keep &= self.rng.random(batch) < np.exp(-distance / self.decay)
            for point in zip(x[keep].tolist(), y[keep].tolist()):
                if point not in self.taken and len(points) < count:
                    self.taken.add(point)
                    points.append(point)
        if len(points) < count:
            raise ValueError("could not place seed points inside the parent (is it a sliver?)")
        return np.array(points, dtype=float).reshape(-1, 2)


def _urban_centre(region, focus) -> tuple[float, float]:
    """Where urban cells crowd: the focus if inside, else the parent's point nearest to it."""
    if focus is None:
        point = region.point_on_surface()
        return point.x, point.y
    target = shapely.Point(focus)
    if region.contains(target):
        return float(focus[0]), float(focus[1])
    nearest = shapely.get_coordinates(shapely.shortest_line(region, target))[0]
    return float(nearest[0]), float(nearest[1])


def _polygonal(geom):
    """The Polygon/MultiPolygon content of a geometry (dropping stray lines and points), or None."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polygons = [p for p in shapely.get_parts(shapely.get_parts(geom)) if p.geom_type == "Polygon" and not p.is_empty]
    if not polygons:
        return None
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def zone(centre: tuple[float, float], area_km2: float, seed: int, clip_to=None) -> shapely.Polygon:
    """An irregular 12–16-gon of about area_km2 around centre (lon, lat), clipped to `clip_to`."""
    if not area_km2 > 0:
        raise ValueError("a zone needs a positive area")
    rng = np.random.default_rng(seed)
    sides = int(rng.integers(12, 17))
    # Jittered angles stay increasing, so the polygon is star-shaped around the centre and simple.
    angles = 2 * math.pi * (np.arange(sides) + rng.uniform(-0.3, 0.3, sides)) / sides
    radii = rng.uniform(0.75, 1.25, sides)
    x, y = radii * np.cos(angles), radii * np.sin(angles)
    unit_area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    km = math.sqrt(area_km2 / unit_area)
    dlat = km * 1000.0 / METRES_PER_DEGREE
    dlon = dlat / math.cos(math.radians(centre[1]))
    polygon = shapely.Polygon(np.column_stack([centre[0] + x * dlon, centre[1] + y * dlat]))
    if clip_to is None:
        return polygon
    clipped = _polygonal(shapely.intersection(polygon, clip_to))
    if clipped is None:
        raise ValueError("the zone lies outside clip_to")
    parts = shapely.get_parts(clipped)
    return max(parts, key=lambda p: p.area)
