"""Which units an area or a point falls in: an STRtree over unit polygons (EPSG:4326)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from fangxun.core.errors import BadInput

EARTH_RADIUS_M = 6371008.8
METRES_PER_DEGREE = 2 * math.pi * EARTH_RADIUS_M / 360


@dataclass(frozen=True, slots=True)
class Match:
    """A unit whose interior meets an area, with the fraction of the unit's own area that the area covers."""

    code: str
    level: str
    fraction: float


def circle(lon: float, lat: float, radius_km: float, segments: int = 64) -> shapely.Polygon:
    """A polygon approximating a circle of radius_km around (lon, lat), as in a CAP <circle>."""
    if not all(math.isfinite(v) for v in (lon, lat, radius_km)) or radius_km <= 0 or abs(lat) >= 90:
        raise BadInput(f"圆形区域无效：中心 ({lon}, {lat})，半径 {radius_km} 公里（半径须大于 0）")
    angles = np.linspace(0.0, 2 * math.pi, max(int(segments), 8), endpoint=False)
    dlat = radius_km * 1000.0 / METRES_PER_DEGREE
    dlon = dlat / math.cos(math.radians(lat))
    return shapely.Polygon(np.column_stack([lon + dlon * np.cos(angles), lat + dlat * np.sin(angles)]))


class UnitIndex:
    """Unit polygons by code and level, answering area and point queries."""

    def __init__(self, codes, levels, geometries):
        codes = [str(c) for c in codes]
        levels = [str(v) for v in levels]
        geometries = np.asarray(list(geometries) if not isinstance(geometries, np.ndarray) else geometries,
                                dtype=object)
        if not len(codes) == len(levels) == len(geometries):
            raise ValueError("codes, levels and geometries must have the same length")
        if len(set(codes)) != len(codes):
            raise ValueError("unit codes must be unique")
        # Units sorted by code: part order then follows code order, so results need no sorting.
        order = sorted(range(len(codes)), key=codes.__getitem__)
        self._codes = [codes[i] for i in order]
        self._levels = [levels[i] for i in order]
        self._known = set(self._codes)
        level_names = sorted(set(self._levels))
        self._level_ids = {name: number for number, name in enumerate(level_names)}
        self._code_array = np.array(self._codes, dtype=object)
        self._full = np.empty(len(self._codes), dtype=object)
        self._full[:] = [Match(c, lv, 1.0) for c, lv in zip(self._codes, self._levels)]

        parts, owners = _polygon_parts(geometries[order] if len(order) else geometries)
        self._parts = parts
        self._owner = owners
        unit_levels = np.array([self._level_ids[lv] for lv in self._levels], dtype=np.int64)
        self._part_level = unit_levels[owners] if len(owners) else np.zeros(0, dtype=np.int64)
        n = len(self._codes)
        # Areas in deg² scaled by cos(latitude) of each part: an equal-area-ish measure, ample for ratios.
        centroids = shapely.centroid(parts)
        self._part_scale = np.cos(np.radians(shapely.get_y(centroids))) if len(parts) else np.zeros(0)
        self._part_area = shapely.area(parts) * self._part_scale
        self._unit_area = np.bincount(owners, weights=self._part_area, minlength=n)
        self._unit_parts = np.bincount(owners, minlength=n)
        samples = shapely.point_on_surface(parts)
        self._sample_x = shapely.get_x(samples)
        self._sample_y = shapely.get_y(samples)
        # Boundary boxes about the size of a typical part keep few parts "near" a long straight edge.
        bounds = shapely.bounds(parts)
        self._step = float(np.median(np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]))) \
            if len(parts) else 0.0
        shapely.prepare(parts)
        self._tree = shapely.STRtree(parts)
        self._level_trees: dict[str, tuple[shapely.STRtree, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._codes)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) of every indexed polygon."""
        return tuple(float(v) for v in shapely.total_bounds(self._parts))

    def intersecting(self, area, levels=None, with_fraction: bool = True) -> list[Match]:
        """Units whose interior meets the area's, sorted by code, with the covered fraction of each unit.

        A unit only sharing an edge or a corner with the area is not a match. Without fractions, units
        entirely inside get 1.0 and partly covered ones get NaN.
        """
        area = _polygonal_area(area)
        if area is None or len(self._parts) == 0:
            return []
        shapely.prepare(area)
        candidates = self._tree.query(area)
        if levels is not None:
            wanted = [self._level_ids[lv] for lv in ([levels] if isinstance(levels, str) else levels)
                      if lv in self._level_ids]
            candidates = candidates[np.isin(self._part_level[candidates], wanted)]
        if len(candidates) == 0:
            return []
        near_edge = np.zeros(len(self._parts), dtype=bool)
        near_edge[self._tree.query(_boundary_boxes(area, self._step))[1]] = True
        # A part whose box no boundary box reaches lies wholly inside or wholly outside: one point decides.
        away = candidates[~near_edge[candidates]]
        full = away[shapely.contains_xy(area, self._sample_x[away], self._sample_y[away])]
        # Near the boundary: a part the boundary misses is again decided by one point; only parts the
        # boundary touches need the full containment test.
        border = candidates[near_edge[candidates]]
        edge = shapely.boundary(area)
        shapely.prepare(edge)
        touched = shapely.intersects(edge, self._parts[border])
        clear = border[~touched]
        full = np.concatenate([full, clear[shapely.contains_xy(area, self._sample_x[clear], self._sample_y[clear])]])
        touching = border[touched]
        # Vertices settle most touching parts: one strictly outside rules out containment, one strictly
        # inside proves the interiors meet. GEOS containment runs only on the rest.
        coords, owner = shapely.get_coordinates(self._parts[touching], return_index=True)
        outside = np.zeros(len(touching), dtype=bool)
        outside[owner[~shapely.intersects_xy(area, coords[:, 0], coords[:, 1])]] = True
        maybe = touching[~outside]
        contained = shapely.contains(area, self._parts[maybe])
        full = np.concatenate([full, maybe[contained]])
        partial = np.sort(np.concatenate([touching[outside], maybe[~contained]]))
        if with_fraction:
            pieces = shapely.area(shapely.intersection(self._parts[partial], area)) * self._part_scale[partial]
            partial, pieces = partial[pieces > 0], pieces[pieces > 0]
        else:
            partial = partial[self._interiors_meet(area, partial)]
            pieces = np.zeros(len(partial))
        return self._matches(full, partial, pieces, with_fraction)

    def _interiors_meet(self, area, parts: np.ndarray) -> np.ndarray:
        """For parts that touch the area's boundary: whether more than their boundaries meet it."""
        coords, owner = shapely.get_coordinates(self._parts[parts], return_index=True)
        meet = np.zeros(len(parts), dtype=bool)
        meet[owner[shapely.contains_xy(area, coords[:, 0], coords[:, 1])]] = True
        undecided = np.flatnonzero(~meet)
        if len(undecided):
            meet[undecided] = shapely.relate_pattern(area, self._parts[parts[undecided]], "T********")
        return meet

    def _matches(self, full, partial, pieces, with_fraction: bool) -> list[Match]:
        n = len(self._codes)
        full_owner = self._owner[full]
        full_count = np.bincount(full_owner, minlength=n)
        # (np.bincount of nothing is an integer array: start from floats)
        covered = np.zeros(n)
        covered += np.bincount(full_owner, weights=self._part_area[full], minlength=n)
        covered += np.bincount(self._owner[partial], weights=pieces, minlength=n)
        hit = np.zeros(n, dtype=bool)
        hit[full_owner] = True
        hit[self._owner[partial]] = True
        whole = hit & (full_count == self._unit_parts)
        result = np.where(whole, self._full, None)
        for unit in np.flatnonzero(hit & ~whole).tolist():
            fraction = min(1.0, covered[unit] / self._unit_area[unit]) if with_fraction else math.nan
            result[unit] = Match(self._codes[unit], self._levels[unit], float(fraction))
        return result[hit].tolist()

    def containing(self, lon: float, lat: float, level: str | None = None) -> list[str]:
        """Codes of the units containing the point, sorted; a point on a boundary counts for both sides."""
        hits = self._tree.query(shapely.Point(lon, lat))
        if level is not None:
            if level not in self._level_ids:
                return []
            hits = hits[self._part_level[hits] == self._level_ids[level]]
        hits = hits[shapely.intersects_xy(self._parts[hits], lon, lat)]
        return [self._codes[u] for u in np.unique(self._owner[hits]).tolist()]

    def locate(self, lons, lats, level: str) -> list[str | None]:
        """For each point, the code of the unit of `level` containing it (the lowest code on a shared edge)."""
        lons = np.asarray(lons, dtype=float).ravel()
        lats = np.asarray(lats, dtype=float).ravel()
        if lons.shape != lats.shape:
            raise ValueError("lons and lats must have the same length")
        out = np.full(len(lons), None, dtype=object)
        if level not in self._level_ids or len(lons) == 0:
            return out.tolist()
        tree, members = self._level_tree(level)
        # Box candidates from the tree, then point-in-polygon on the prepared parts (much faster than
        # a predicate query, which prepares the points instead of the polygons).
        point_index, hit = tree.query(shapely.points(lons, lats))
        inside = shapely.intersects_xy(self._parts[members[hit]], lons[point_index], lats[point_index])
        point_index, hit = point_index[inside], hit[inside]
        if len(hit):
            # Tree order follows code order, so the first hit of each point is its lowest code.
            order = np.lexsort((hit, point_index))
            first_points, first = np.unique(point_index[order], return_index=True)
            out[first_points] = self._code_array[self._owner[members[hit[order][first]]]]
        return out.tolist()

    def units_at(self, lons, lats) -> list[list[str]]:
        """For each point, the codes of every unit containing it (all levels, sorted), in one tree pass."""
        lons = np.asarray(lons, dtype=float).ravel()
        lats = np.asarray(lats, dtype=float).ravel()
        if lons.shape != lats.shape:
            raise ValueError("lons and lats must have the same length")
        point_index, hit = self._tree.query(shapely.points(lons, lats))
        inside = shapely.intersects_xy(self._parts[hit], lons[point_index], lats[point_index])
        # One key per (point, unit): a multi-part unit hit twice counts once; sorting orders by point, then code.
        keys = np.unique(point_index[inside] * len(self._codes) + self._owner[hit[inside]])
        points, owners = np.divmod(keys, len(self._codes))
        edges = np.searchsorted(points, np.arange(len(lons) + 1)).tolist()
        codes = self._code_array[owners].tolist()
        return [codes[start:end] for start, end in zip(edges, edges[1:])]

    def _level_tree(self, level: str) -> tuple[shapely.STRtree, np.ndarray]:
        if level not in self._level_trees:
            members = np.flatnonzero(self._part_level == self._level_ids[level])
            self._level_trees[level] = (shapely.STRtree(self._parts[members]), members)
        return self._level_trees[level]

    def by_geocodes(self, geocodes) -> list[str]:
        """Indexed unit codes named by 12-digit codes, 6-digit adcodes or 9-digit township codes, sorted."""
        found = set()
        for raw in geocodes:
            text = str(raw).strip()
            if not text.isdigit():
                continue
            code = {12: text, 9: text + "000", 6: text + "000000"}.get(len(text))
            if code in self._known:
                found.add(code)
        return sorted(found)


def _polygon_parts(geometries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The single polygons of each geometry and the index of the geometry each came from."""
    present = np.array([g is not None for g in geometries], dtype=bool)
    if not present.any():
        return np.empty(0, dtype=object), np.zeros(0, dtype=np.int64)
    index = np.flatnonzero(present)
    shapes = geometries[index]
    # Overlays need valid polygons; stored boundaries normally are, but repair rather than fail later.
    invalid = ~shapely.is_valid(shapes)
    if invalid.any():
        shapes = shapes.copy()
        shapes[invalid] = shapely.make_valid(shapes[invalid])
    parts, owners = shapely.get_parts(shapes, return_index=True)
    owners = index[owners]
    # A GeometryCollection may hold MultiPolygons: flatten once more, then keep polygons only.
    parts, inner = shapely.get_parts(parts, return_index=True)
    owners = owners[inner]
    keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    return parts[keep], owners[keep].astype(np.int64)


def _polygonal_area(area):
    """The area as a valid polygonal geometry, None when empty; anything without area is refused."""
    if area is None or area.is_empty:
        return None
    if area.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        raise BadInput(f"区域必须是面（多边形或圆），不能是 {area.geom_type}")
    if not area.is_valid:
        area = shapely.make_valid(area)
    if area.geom_type not in ("Polygon", "MultiPolygon"):
        polygons = [p for p in shapely.get_parts(shapely.get_parts(area)) if p.geom_type == "Polygon"]
        if not polygons:
            return None
        area = shapely.MultiPolygon(polygons)
    return None if area.area <= 0 else area


def _boundary_boxes(area, step: float) -> np.ndarray:
    """Boxes covering the area's rings segment by segment, long segments cut into pieces of about `step`."""
    rings = shapely.get_rings(shapely.get_parts(area))
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same_ring = ring[:-1] == ring[1:]
    start, end = coords[:-1][same_ring], coords[1:][same_ring]
    length = np.hypot(*(end - start).T)
    pieces = np.maximum(np.ceil(length / step), 1).astype(np.int64) if step > 0 else np.ones(len(start), np.int64)
    segment = np.repeat(np.arange(len(start)), pieces)
    # Position of each piece within its segment, as fractions t0..t1 of the segment.
    first = np.cumsum(pieces) - pieces
    rank = np.arange(len(segment)) - np.repeat(first, pieces)
    t0 = (rank / pieces[segment])[:, None]
    t1 = ((rank + 1) / pieces[segment])[:, None]
    delta = end[segment] - start[segment]
    a, b = start[segment] + t0 * delta, start[segment] + t1 * delta
    low, high = np.minimum(a, b), np.maximum(a, b)
    return shapely.box(low[:, 0], low[:, 1], high[:, 0], high[:, 1])
