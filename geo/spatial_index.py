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
    """Unit polygons by code and level, answering area and point queries.

    With `parents` (the parent code of each unit), a unit whose polygon is covered by its parent's is
    nested: an area containing the parent contains it and an area missing the parent misses it, so area
    queries test a nested unit only when its parent lies across the area's edge, and a point inside a
    unit is inside its ancestors. Nesting is checked exactly (covers) when the index is built. A unit
    sticking out of its parent by rounding noise only (within NEST_TOLERANCE, as overlays and imported
    boundaries leave them) is nested loosely: it follows its parent only when none of its own parts comes
    that near the area's edge, and never for points. A unit sticking out further (a development zone
    over several districts, a sliver) is tested on its own. Which ancestors cover each unit exactly is
    worked out at build time: an area that is a unit's own outline (a city-wide warning) has those units
    whole from its first query on, and later queries answer the subtree from what the first one left. A
    large unit its children tile (checked at build time) is measured as the sum of its children's covered
    areas. Every answer is the unit-by-unit one.
    """

    def __init__(self, codes, levels, geometries, parents=None):
        codes = [str(c) for c in codes]
        levels = [str(v) for v in levels]
        geometries = np.asarray(list(geometries) if not isinstance(geometries, np.ndarray) else geometries,
                                dtype=object)
        parents = [None] * len(codes) if parents is None else [None if p is None else str(p) for p in parents]
        if not len(codes) == len(levels) == len(geometries) == len(parents):
            raise ValueError("codes, levels, geometries and parents must have the same length")
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
        self._partly = np.empty(len(self._codes), dtype=object)   # partly covered, fraction not computed
        self._partly[:] = [Match(c, lv, math.nan) for c, lv in zip(self._codes, self._levels)]

        shapes = _repaired(geometries[order] if len(order) else geometries)
        parts, owners = _polygon_parts(shapes)
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
        self._outlines: dict[int, tuple] = {}
        self._outlines_asked: set[int] = set()
        samples = shapely.point_on_surface(parts)
        self._sample_x = shapely.get_x(samples)
        self._sample_y = shapely.get_y(samples)
        # Boundary boxes about the size of a typical part keep few parts "near" a long straight edge.
        bounds = shapely.bounds(parts)
        self._part_bounds = bounds
        self._unit_bounds = np.full((n, 4), np.nan)
        if len(parts):
            present = self._unit_parts > 0
            starts = np.cumsum(self._unit_parts) - self._unit_parts
            self._unit_bounds[present, :2] = np.minimum.reduceat(bounds[:, :2], starts[present])
            self._unit_bounds[present, 2:] = np.maximum.reduceat(bounds[:, 2:], starts[present])
        self._step = float(np.median(np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]))) \
            if len(parts) else 0.0
        self._part_coords = shapely.get_num_coordinates(parts)
        shapely.prepare(parts)
        self._tree = shapely.STRtree(parts)
        self._level_grids: dict[str, tuple[_PartGrid, np.ndarray, np.ndarray]] = {}
        self._grid: _PartGrid | None = None
        self._point_grid: _PartGrid | None = None
        self._nest([parents[i] for i in order], shapes)

    def _nest(self, parents: list[str | None], shapes: np.ndarray) -> None:
        """Each unit's nesting parent (n for none) and depth below its topmost nesting ancestor."""
        n = len(self._codes)
        position = {code: number for number, code in enumerate(self._codes)}
        # Each unit's parent as listed (n for none): a unit's outline as the area settles its whole subtree.
        self._parent = np.array([position.get(p, n) if p != self._codes[u] else n for u, p in enumerate(parents)],
                                dtype=np.int64)
        has_parts = self._unit_parts > 0
        child = np.array([u for u, p in enumerate(parents) if p in position and p != self._codes[u]], dtype=np.int64)
        parent = np.array([position[parents[u]] for u in child.tolist()], dtype=np.int64)
        keep = has_parts[child] & has_parts[parent] if len(child) else np.zeros(0, dtype=bool)
        child, parent = child[keep], parent[keep]
        nested = np.full(n, n, dtype=np.int64)
        self._loose = np.zeros(n + 1, dtype=bool)
        if len(child):
            shapely.prepare(shapes[parent])
            covered = shapely.covers(shapes[parent], shapes[child])
            nested[child[covered]] = parent[covered]
            # Boundaries cut by overlays (or imported) often stick out of their parent by rounding noise:
            # nested loosely, within NEST_TOLERANCE of the parent.
            loose_child, loose_parent = child[~covered], parent[~covered]
            if len(loose_child):
                owners, slot = np.unique(loose_parent, return_inverse=True)
                grown = shapely.buffer(shapes[owners], NEST_TOLERANCE, quad_segs=2)
                shapely.prepare(grown)
                near = shapely.covers(grown[slot], shapes[loose_child])
                nested[loose_child[near]] = loose_parent[near]
                self._loose[loose_child[near]] = True
        self._any_loose = bool(self._loose.any())
        exact = np.where(self._loose[:n], n, nested)
        depth, exact_depth = _depths(nested), _depths(exact)
        if depth is None or exact_depth is None:  # a cycle of parent codes between equal polygons
            nested[:], exact[:], self._loose[:] = n, n, False
            depth, exact_depth = _depths(nested), _depths(exact)
        self._nested_parent = nested
        # The ancestor of each unit at each depth of its exact nesting chain (itself at its own; n elsewhere):
        # a point inside a unit is inside these (not necessarily inside a loose parent).
        self._ancestors = np.full((n + 1, int(exact_depth.max()) + 1), n, dtype=np.int64)
        unit, ancestor = np.arange(n), np.arange(n)
        while len(unit):
            self._ancestors[unit, exact_depth[ancestor]] = ancestor
            ancestor = exact[ancestor]
            unit, ancestor = unit[ancestor < n], ancestor[ancestor < n]
        self._exact_depth = exact_depth
        self._covering(shapes, nested)
        self._tiling(nested)
        self._points_by_ancestors = int((exact < n).sum()) * 2 >= n
        self._exact_leaf = np.ones(n + 1, dtype=bool)
        self._exact_leaf[exact[exact < n]] = False
        self._part_exact_depth = exact_depth[self._owner] if len(self._owner) else np.zeros(0, dtype=np.int64)
        self._part_depth = depth[self._owner] if len(self._owner) else np.zeros(0, dtype=np.int64)

    def _tiling(self, nested: np.ndarray) -> None:
        """Single-part units exactly tiled by their children (each covered by it, no overlaps, their areas adding
        up to its own): the area of such a unit an area covers is the sum of its children's."""
        n = len(self._codes)
        self._tiled, self._any_tiled = np.zeros(n + 1, dtype=bool), False
        self._part_raw = shapely.area(self._parts)
        child = np.flatnonzero((self._parent[:n] < n) & (self._unit_parts > 0))
        if len(child) == 0:
            return
        parent = self._parent[child]
        untidy = np.zeros(n + 1, dtype=bool)
        untidy[parent[(nested[child] != parent) | self._loose[child]]] = True
        raw = np.bincount(self._owner, weights=self._part_raw, minlength=n)
        total = np.bincount(parent, weights=raw[child], minlength=n)
        # (Only units with many vertices: measuring a small one costs less than checking its children.)
        vertices = np.bincount(self._owner, weights=self._part_coords, minlength=n)
        candidates = np.flatnonzero((self._unit_parts == 1) & ~untidy[:n] & (np.bincount(parent, minlength=n) > 0)
                                    & (vertices >= _TILED_FROM)
                                    & np.isclose(total, raw, rtol=1e-9, atol=0.0))
        order = np.argsort(parent, kind="stable")
        child, parent = child[order], parent[order]
        self._children, self._children_start = child, np.searchsorted(parent, np.arange(n + 2))
        # (Children covered by the unit with areas adding up to its own and no overlaps leave no gap.) The
        # children of every candidate at one depth are checked at once (no overlaps among all of them is no
        # overlaps among each one's), each candidate's on their own when that fails.
        starts = np.searchsorted(self._owner, np.arange(n + 1))
        candidate = np.zeros(n + 1, dtype=bool)
        for level in np.unique(self._listed_depth[candidates]).tolist():
            units = candidates[self._listed_depth[candidates] == level]
            candidate[:] = False
            candidate[units] = True
            if shapely.coverage_is_valid(self._parts[self._owner_mask_parts(candidate[parent], child, starts)]):
                self._tiled[units] = True
                continue
            for unit in units.tolist():
                chosen = np.zeros(len(child), dtype=bool)
                chosen[self._children_start[unit]:self._children_start[unit + 1]] = True
                self._tiled[unit] = bool(shapely.coverage_is_valid(self._parts[self._owner_mask_parts(chosen, child, starts)]))
        self._any_tiled = bool(self._tiled.any())

    @staticmethod
    def _owner_mask_parts(chosen: np.ndarray, child: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """The part numbers of the chosen children."""
        kids = child[chosen]
        counts = starts[kids + 1] - starts[kids]
        return np.repeat(starts[kids], counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)

    def _resolve_tiled(self, full: np.ndarray, partial: np.ndarray, pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The covered areas left open (NaN) for tiled units, as the sums of their children's, deepest first;
        such a unit meets the area when that sum is positive."""
        open_ = np.isnan(pieces)
        if not open_.any():
            return partial, pieces
        n = len(self._codes)
        known = ~open_
        # Raw (unscaled) covered area of each unit so far: each part's own scale differs from its parent's.
        raw = (np.bincount(self._owner[full], weights=self._part_raw[full], minlength=n)
               + np.bincount(self._owner[partial[known]], weights=pieces[known] / self._part_scale[partial[known]],
                             minlength=n))
        waiting = self._owner[partial[open_]]
        depth = self._listed_depth[waiting]
        for level in sorted(set(depth.tolist()), reverse=True):
            units = waiting[depth == level]
            first, last = self._children_start[units], self._children_start[units + 1]
            counts = last - first
            rank = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            kids = self._children[np.repeat(first, counts) + rank]
            raw[units] = np.bincount(np.repeat(np.arange(len(units)), counts), weights=raw[kids], minlength=len(units))
        pieces = pieces.copy()
        pieces[open_] = raw[waiting] * self._part_scale[partial[open_]]
        keep = pieces > 0
        return partial[keep], pieces[keep]

    def _covering(self, shapes: np.ndarray, nested: np.ndarray) -> None:
        """Each unit's ancestor at each depth of its parent codes, and whether that ancestor covers it exactly
        (a unit's own outline as the area then has those units wholly inside without testing them)."""
        n = len(self._codes)
        depth = _depths(self._parent)
        if depth is None:                                  # parent codes in a cycle: nothing known
            depth = np.zeros(n + 1, dtype=np.int64)
        self._listed_depth = depth
        width = int(depth.max()) + 1
        self._listed_ancestors = np.full((n + 1, width), n, dtype=np.int64)
        self._covered_by = np.zeros((n + 1, width), dtype=bool)
        has_parts = np.append(self._unit_parts > 0, False)
        exact = np.append((nested < n) & ~self._loose[:n], False)
        for level in range(width):
            units = np.flatnonzero(depth[:n] == level)
            self._listed_ancestors[units, level] = units
            self._covered_by[units, level] = has_parts[units]
            if level == 0:
                continue
            parent = self._parent[units]
            # Covered by an ancestor when covered by the parent (exactly nested) and the parent by that
            # ancestor; else tested (loose units, units whose parent sticks out of its own).
            for above in range(level - 1, -1, -1):
                ancestor = self._listed_ancestors[parent, above]
                self._listed_ancestors[units, above] = ancestor
                known = exact[units] & self._covered_by[parent, above]
                self._covered_by[units, above] = known
                test = np.flatnonzero(~known & has_parts[units] & has_parts[ancestor])
                if len(test):
                    self._covered_by[units[test], above] = shapely.covers(shapes[ancestor[test]], shapes[units[test]])

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
        if len(candidates) == 0:
            return []
        wanted = np.ones(len(self._level_ids), dtype=bool)
        if levels is not None:
            wanted[:] = False
            wanted[[self._level_ids[lv] for lv in ([levels] if isinstance(levels, str) else levels)
                    if lv in self._level_ids]] = True
        nothing = np.zeros(0, dtype=np.int64)
        full, partial, pieces = [nothing], [nothing], [np.zeros(0)]
        # A unit's own outline as the area: its subtree's answer is kept from the first query with every
        # fraction, or worked out when the outline comes again.
        outline, kept = self._outline_of(area, candidates), None
        if outline is not None:
            kept = self._outlines.get(outline)
            if kept is None and outline in self._outlines_asked:
                kept = self._outline_answer(outline)
        if kept is not None:
            inside, meeting, covered, subtree = kept
            full.append(inside)
            partial.append(meeting)
            pieces.append(covered)
            candidates = candidates[~subtree[self._owner[candidates]]]
        query = _AreaQuery(self, area, wanted, with_fraction)
        if outline is not None and kept is None:
            # The first query of an outline: the unit and every unit below it that it covers are whole, the
            # others below it are not inside (both known since the build); only whether those meet it is tested.
            subtree, covered = self._below(outline)
            below = subtree[self._owner[candidates]]
            inside = covered[self._owner[candidates]]
            full.append(candidates[inside])
            meeting, measured = query.meeting(candidates[below & ~inside])
            partial.append(meeting)
            pieces.append(measured)
            candidates = candidates[~below]
        if len(candidates) < _LEVEL_BY_LEVEL_FROM:
            # (Few candidates are quicker tested in one pass, each on its own, than level by level.)
            inside, meeting, covered = query.classify(candidates)
            full.append(inside)
            partial.append(meeting)
            pieces.append(covered)
        else:
            # Status of each unit (and of "no nesting parent", index n): whole, missed, or to be looked into.
            status = np.full(len(self._codes) + 1, _OPEN, dtype=np.int8)
            depths = self._part_depth[candidates]
            for depth in np.flatnonzero(np.bincount(depths)).tolist():
                parts = candidates[depths == depth]
                owners = self._owner[parts]
                inherited = status[self._nested_parent[owners]]
                if self._any_loose:
                    # A loosely nested unit sticks out of its parent by up to NEST_TOLERANCE: it follows its
                    # parent only when none of its parts comes that near the area's boundary.
                    loose = np.flatnonzero(self._loose[owners] & (inherited != _OPEN))
                    if len(loose):
                        inherited[loose[query.unit_near[owners[loose]]]] = _OPEN
                for decided in (_WHOLE, _MISSED):
                    status[owners[inherited == decided]] = decided
                whole = parts[inherited == _WHOLE]
                parts = parts[inherited == _OPEN]
                inside, meeting, covered = query.classify(parts)
                full += [whole, inside]
                partial.append(meeting)
                pieces.append(covered)
                # Missed unless a part is inside or meets the area; whole when every part is inside.
                status[self._owner[parts]] = _MISSED
                status[self._owner[meeting]] = _OPEN
                owners = self._owner[inside]
                status[owners] = _OPEN
                single = self._unit_parts[owners] == 1
                status[owners[single]] = _WHOLE
                if not single.all():
                    units, counts = np.unique(owners[~single], return_counts=True)
                    status[units[counts == self._unit_parts[units]]] = _WHOLE
        full = np.concatenate(full)
        partial, pieces = self._resolve_tiled(full, np.concatenate(partial), np.concatenate(pieces))
        if outline is not None and kept is None:
            if with_fraction and levels is None:
                self._keep_outline(outline, full, partial, pieces)
            else:
                if len(self._outlines_asked) >= 16 * _OUTLINES_KEPT:
                    self._outlines_asked.clear()
                self._outlines_asked.add(outline)
        full = full[wanted[self._part_level[full]]]
        keep = wanted[self._part_level[partial]]
        return self._matches(full, partial[keep], pieces[keep], with_fraction)

    def _outline_of(self, area, candidates: np.ndarray) -> int | None:
        """The unit whose polygons are exactly the area's, in order, if one is among the candidates."""
        bounds = shapely.bounds(area)
        # (Such a unit has a part as far west as the area reaches.)
        units = np.unique(self._owner[candidates[self._part_bounds[candidates, 0] == bounds[0]]])
        units = units[(self._unit_bounds[units] == bounds).all(axis=1)]
        if len(units) == 0:
            return None
        polygons = shapely.get_parts(area)
        units = units[self._unit_parts[units] == len(polygons)]
        for unit in units.tolist():
            first = int(np.searchsorted(self._owner, unit))
            if shapely.equals_exact(self._parts[first:first + len(polygons)], polygons, 0.0).all():
                return unit
        return None

    def _below(self, unit: int) -> tuple[np.ndarray, np.ndarray]:
        """Whether each unit is the unit or below it by parent codes, and whether also covered by it."""
        level = self._listed_depth[unit]
        below = self._listed_ancestors[:-1, level] == unit
        return below, below & self._covered_by[:-1, level]

    def _outline_answer(self, unit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(parts inside, parts meeting, their covered areas, units of the subtree) for the unit's own
        outline as the area, for the unit and every unit below it."""
        subtree = self._subtree(unit)
        first = int(np.searchsorted(self._owner, unit))
        polygons = self._parts[first:first + int(self._unit_parts[unit])]
        area = polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(list(polygons))
        query = _AreaQuery(self, area, np.ones(len(self._level_ids), dtype=bool), True)
        inside, meeting, covered = query.classify(np.flatnonzero(subtree[self._owner]))
        meeting, covered = self._resolve_tiled(inside, meeting, covered)
        return self._keep_outline(unit, inside, meeting, covered)

    def _keep_outline(self, unit: int, inside, meeting, covered) -> tuple:
        """Keep the subtree's share of a full answer (every level, fractions) for the unit's outline; the
        last _OUTLINES_KEPT units are kept."""
        subtree = self._subtree(unit)
        mine = subtree[self._owner[meeting]]
        answer = (inside[subtree[self._owner[inside]]], meeting[mine], covered[mine], subtree)
        if len(self._outlines) >= _OUTLINES_KEPT:
            try:
                self._outlines.pop(next(iter(self._outlines)))
            except (KeyError, RuntimeError, StopIteration):   # another thread got there first
                pass
        self._outlines[unit] = answer
        return answer

    def _subtree(self, unit: int) -> np.ndarray:
        """Whether each unit is the unit or below it by parent codes."""
        n = len(self._codes)
        subtree = np.zeros(n + 1, dtype=bool)
        subtree[unit] = True
        for _ in range(64):   # (parent codes deeper than that, or in a cycle, are not followed)
            grown = subtree[:n] | subtree[self._parent]
            if np.array_equal(grown, subtree[:n]):
                break
            subtree[:n] = grown
        return subtree[:n]

    def _matches(self, full, partial, pieces, with_fraction: bool) -> list[Match]:
        n = len(self._codes)
        # Counts per unit (cheaper than sorting thousands of parts); units come out in code order.
        full_count = np.bincount(self._owner[full], minlength=n)
        units = np.flatnonzero(full_count + np.bincount(self._owner[partial], minlength=n))
        result = self._full[units]
        slots = np.flatnonzero(full_count[units] != self._unit_parts[units])
        part_of = units[slots]
        if not with_fraction:
            result[slots] = self._partly[part_of]
            return result.tolist()
        covered = np.bincount(np.concatenate([self._owner[full], self._owner[partial]]),
                              weights=np.concatenate([self._part_area[full], pieces]), minlength=n)[part_of]
        fractions = np.minimum(1.0, covered / self._unit_area[part_of]).tolist()
        for slot, unit, fraction in zip(slots.tolist(), part_of.tolist(), fractions):
            result[slot] = Match(self._codes[unit], self._levels[unit], fraction)
        return result.tolist()

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
        grid, members, bounds = self._level_grid(level)
        # Candidates from the level's own grid, ordered by point then part (so by code): the first part
        # found to hold a point is its lowest code. Pairs whose part covers the point's cell need no test.
        point_index, hit, inside = grid.query(lons, lats, bounds)
        test = np.flatnonzero(~inside)
        test = test[np.argsort(hit[test], kind="stable")]   # one polygon's tests in a row run faster
        inside[test] = shapely.intersects_xy(self._parts[members[hit[test]]], lons[point_index[test]],
                                             lats[point_index[test]])
        point_index, hit = point_index[inside], hit[inside]
        first = np.concatenate([[True], point_index[1:] != point_index[:-1]])
        out[point_index[first]] = self._code_array[self._owner[members[hit[first]]]]
        return out.tolist()

    def units_at(self, lons, lats) -> list[list[str]]:
        """For each point, the codes of every unit containing it (all levels, sorted), in one tree pass."""
        lons = np.asarray(lons, dtype=float).ravel()
        lats = np.asarray(lats, dtype=float).ravel()
        if lons.shape != lats.shape:
            raise ValueError("lons and lats must have the same length")
        point_index, hit, inside = self._point_candidates(lons, lats)
        owner, depth = self._owner[hit], self._part_exact_depth[hit]
        leaf = self._exact_leaf[owner] if self._points_by_ancestors else None

        def test(pairs: np.ndarray) -> None:
            pairs = pairs[np.argsort(hit[pairs], kind="stable")]   # one polygon's tests in a row run faster
            inside[pairs] = shapely.intersects_xy(self._parts[hit[pairs]], lons[point_index[pairs]],
                                                  lats[point_index[pairs]])

        # Pairs whose part covers the point's grid cell are known. Units with nothing exactly nested in
        # them next: a point inside a unit is inside every unit that unit is exactly nested in (taken from
        # the deepest unit found for each point); every other pair is tested. (When few units are exactly
        # nested, as with boundaries cut by overlays, that saves less than it costs: all are tested at once.)
        if self._points_by_ancestors:
            test(np.flatnonzero(leaf & ~inside))
            hits = np.flatnonzero(inside)
            hits = hits[np.argsort(depth[hits], kind="stable")]
            found = np.full(len(lons), len(self._codes))
            found[point_index[hits]] = owner[hits]
            inside |= self._ancestors[found[point_index], depth] == owner
            test(np.flatnonzero(~inside & ~leaf))
        else:
            test(np.flatnonzero(~inside))
        # One key per (point, unit), already in order: a multi-part unit hit twice counts once.
        stride = len(self._codes) + 1
        known = point_index[inside] * stride + owner[inside]
        known = known[np.concatenate([[True], known[1:] != known[:-1]])]
        points, owners = np.divmod(known, stride)
        edges = np.searchsorted(points, np.arange(len(lons) + 1)).tolist()
        codes = self._code_array[owners].tolist()
        return [codes[start:end] for start, end in zip(edges, edges[1:])]

    def _point_candidates(self, lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point, part) pairs whose part's box holds the point, ordered by point then part, and whether the
        part is known to hold the point, from a grid of cells."""
        if self._point_grid is None:
            # Finer cells while their entries stay few (memory and the first query's cell checks grow with them).
            step = self._step / _POINT_CELLS_PER_PART
            sizes = (self._part_bounds[:, 2:] - self._part_bounds[:, :2]) / max(step, 1e-12) + 2
            small = float(np.prod(sizes, axis=1).sum()) <= _POINT_GRID_ENTRIES
            self._point_grid = _PartGrid(self._part_bounds, step, self._parts) if small else self.grid
        return self._point_grid.query(lons, lats, self._part_bounds)

    @property
    def grid(self) -> _PartGrid:
        """The parts by grid cell (built on first use)."""
        if self._grid is None:
            self._grid = _PartGrid(self._part_bounds, self._step, self._parts)
        return self._grid

    def _level_grid(self, level: str) -> tuple[_PartGrid, np.ndarray, np.ndarray]:
        """A grid of one level's parts (cells about their median size), their part numbers and boxes."""
        if level not in self._level_grids:
            members = np.flatnonzero(self._part_level == self._level_ids[level])
            bounds = self._part_bounds[members]
            step = float(np.median(np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])))
            self._level_grids[level] = (_PartGrid(bounds, step, self._parts[members]), members, bounds)
        return self._level_grids[level]

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


class _PartGrid:
    """Parts listed by the cells of a regular grid their boxes reach: box candidates for many points at once,
    each marked when the part covers the whole cell (a point in that cell is then in the part) or misses it
    (a point in that cell is then not)."""

    MAX_CELLS_PER_SIDE = 1024

    def __init__(self, bounds: np.ndarray, step: float, shapes: np.ndarray):
        low, high = (bounds[:, :2].min(axis=0), bounds[:, 2:].max(axis=0)) if len(bounds) else (np.zeros(2),) * 2
        span = float(max(high[0] - low[0], high[1] - low[1], 1e-12))
        self.low, self.cell = low, max(step, span / self.MAX_CELLS_PER_SIDE, 1e-12)
        self.shape = (np.floor((high - low) / self.cell).astype(np.int64) + 1) if len(bounds) else np.ones(2, np.int64)
        first, last = self._cells(bounds[:, 0], bounds[:, 1]), self._cells(bounds[:, 2], bounds[:, 3])
        width, height = last[0] - first[0] + 1, last[1] - first[1] + 1
        counts = width * height
        part = np.repeat(np.arange(len(bounds)), counts)
        rank = np.arange(len(part)) - np.repeat(np.cumsum(counts) - counts, counts)
        cell = (first[1][part] + rank // width[part]) * self.shape[0] + first[0][part] + rank % width[part]
        order = np.argsort(cell, kind="stable")
        self.parts = part[order]
        self.cells = cell[order]
        self.starts = np.searchsorted(self.cells, np.arange(int(self.shape.prod()) + 1))
        self._bounds, self._shapes, self._covered, self._missed = bounds, shapes, None, None

    @property
    def covered(self) -> np.ndarray:
        """For each entry, whether its part covers the whole cell (checked on first use, for the cells
        inside the part's box: parts larger than a cell)."""
        if self._covered is None:
            self._check_cells()
        return self._covered

    @property
    def missed(self) -> np.ndarray:
        """For each entry, whether its part and the (closed) cell have no point in common (checked on first use)."""
        if self._missed is None:
            self._check_cells()
        return self._missed

    def _check_cells(self) -> None:
        """Which entries' parts cover their cell, and which miss it: a cell no segment box of the part's rings
        reaches lies wholly inside or wholly outside the part, and its centre tells which."""
        rings, ring_part = shapely.get_rings(self._shapes, return_index=True)
        coords, ring = shapely.get_coordinates(rings, return_index=True)
        same = np.flatnonzero(ring[:-1] == ring[1:])
        start, end = coords[same], coords[same + 1]
        low, high = np.minimum(start, end), np.maximum(start, end)
        # (Cell numbers widened by a hair: a segment box touching a cell's edge counts for both cells.)
        first = [np.clip(np.floor((low[:, axis] - self.low[axis]) / self.cell - _CELL_EDGE), 0, self.shape[axis] - 1)
                 .astype(np.int64) for axis in (0, 1)]
        last = [np.clip(np.floor((high[:, axis] - self.low[axis]) / self.cell + _CELL_EDGE), 0, self.shape[axis] - 1)
                .astype(np.int64) for axis in (0, 1)]
        width = last[0] - first[0] + 1
        counts = width * (last[1] - first[1] + 1)
        segment = np.repeat(np.arange(len(same)), counts)
        rank = np.arange(len(segment)) - np.repeat(np.cumsum(counts) - counts, counts)
        cell = (first[1][segment] + rank // width[segment]) * self.shape[0] + first[0][segment] + rank % width[segment]
        # Entries are in (cell, part) order, so their keys are sorted.
        stride = len(self._shapes)
        keys = self.cells * stride + self.parts
        crossed = np.unique(cell * stride + ring_part[ring[same]][segment])
        where = np.minimum(np.searchsorted(keys, crossed), len(keys) - 1)
        touched = np.zeros(len(keys), dtype=bool)
        touched[where[keys[where] == crossed]] = True
        clear = np.flatnonzero(~touched)
        column, row = self.cells[clear] % self.shape[0], self.cells[clear] // self.shape[0]
        inside = shapely.contains_xy(self._shapes[self.parts[clear]], self.low[0] + (column + 0.5) * self.cell,
                                     self.low[1] + (row + 0.5) * self.cell)
        self._covered = np.zeros(len(keys), dtype=bool)
        self._missed = np.zeros(len(keys), dtype=bool)
        self._covered[clear[inside]] = True
        self._missed[clear[~inside]] = True

    def _cells(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (np.floor((x - self.low[0]) / self.cell).astype(np.int64),
                np.floor((y - self.low[1]) / self.cell).astype(np.int64))

    def overlapping(self, boxes: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """The parts whose box meets one of the boxes (each part once per box it meets)."""
        first, last = self._cells(boxes[:, 0], boxes[:, 1]), self._cells(boxes[:, 2], boxes[:, 3])
        reach = ((last[0] >= 0) & (last[1] >= 0) & (first[0] < self.shape[0]) & (first[1] < self.shape[1]))
        boxes = boxes[reach]
        low = [np.clip(first[axis][reach], 0, self.shape[axis] - 1) for axis in (0, 1)]
        high = [np.clip(last[axis][reach], 0, self.shape[axis] - 1) for axis in (0, 1)]
        width = high[0] - low[0] + 1
        cells_of = width * (high[1] - low[1] + 1)
        box = np.repeat(np.arange(len(boxes)), cells_of)
        rank = np.arange(len(box)) - np.repeat(np.cumsum(cells_of) - cells_of, cells_of)
        cell = (low[1][box] + rank // width[box]) * self.shape[0] + low[0][box] + rank % width[box]
        counts = self.starts[cell + 1] - self.starts[cell]
        box = np.repeat(box, counts)
        entry = np.repeat(self.starts[cell] - np.cumsum(counts) + counts, counts) + np.arange(len(box))
        part = self.parts[entry]
        mine, theirs = bounds[part], boxes[box]
        meet = ((mine[:, 0] <= theirs[:, 2]) & (theirs[:, 0] <= mine[:, 2])
                & (mine[:, 1] <= theirs[:, 3]) & (theirs[:, 1] <= mine[:, 3]))
        return part[meet]

    def _cell_box(self, column: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, ...]:
        return (self.low[0] + column * self.cell, self.low[1] + row * self.cell,
                self.low[0] + (column + 1) * self.cell, self.low[1] + (row + 1) * self.cell)

    def query(self, x: np.ndarray, y: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point, part) pairs whose part's box holds the point, ordered by point then part, and whether
        the part is known to hold the point (it covers the point's cell)."""
        with np.errstate(invalid="ignore"):
            inside = (np.isfinite(x) & np.isfinite(y) & (x >= self.low[0]) & (y >= self.low[1]))
            column = np.where(inside, np.floor((np.where(inside, x, self.low[0]) - self.low[0]) / self.cell), 0)
            row = np.where(inside, np.floor((np.where(inside, y, self.low[1]) - self.low[1]) / self.cell), 0)
        column, row = column.astype(np.int64), row.astype(np.int64)
        inside &= (column < self.shape[0]) & (row < self.shape[1])
        cell = np.where(inside, row * self.shape[0] + column, 0)
        counts = np.where(inside, self.starts[cell + 1] - self.starts[cell], 0)
        point = np.repeat(np.arange(len(x)), counts)
        rank = np.arange(len(point)) - np.repeat(np.cumsum(counts) - counts, counts)
        entry = self.starts[cell][point] + rank
        part = self.parts[entry]
        box = bounds[part]
        px, py = x[point], y[point]
        keep = (box[:, 0] <= px) & (px <= box[:, 2]) & (box[:, 1] <= py) & (py <= box[:, 3])
        # (Rounding may file a point on a cell's edge under its neighbour: only a point within the box
        # the cover was checked on counts.)
        x0, y0, x1, y1 = self._cell_box(column, row)
        in_cell = (x0 <= x) & (x <= x1) & (y0 <= y) & (y <= y1)
        # An entry whose part misses the point's cell is dropped (the point is not in the part).
        keep &= ~(self.missed[entry] & in_cell[point])
        point, entry = point[keep], entry[keep]
        return point, part[keep], self.covered[entry] & in_cell[point]


_OPEN, _WHOLE, _MISSED = 0, 1, 2
# How far (degrees, about 0.1 mm) a child may stick out of its parent and still count as (loosely) nested.
NEST_TOLERANCE = 1e-9
# Parts whose box stays this many tolerances from the area's boundary are far enough to follow a loose parent.
_MARGIN = 8
# Parts with more vertices than this are cut to the area's box before the overlay that measures them.
_CUT_FROM = 64
# Units whose answer for their own outline as the area is kept.
_OUTLINES_KEPT = 64
# Below this many parts to classify, the boundary is tested against each part without the box filter.
_FEW_PARTS = 256
# Units with this many vertices or more are measured as the sum of their children when these tile them.
_TILED_FROM = 256
# Up to this many boundary boxes, the parts near an area's boundary are found with the tree (else the grid).
_TREE_BOXES_UP_TO = 256
# How far (in cells) a segment's box may fall short of a cell's edge and still count as reaching the cell.
_CELL_EDGE = 1e-9
# Point queries over every level use grid cells this many times finer than a typical part (more pairs known
# from a cell the part covers or misses; more cells to check on first use).
_POINT_CELLS_PER_PART = 2
# ... unless that grid would list more entries (part, cell) than this.
_POINT_GRID_ENTRIES = 400_000
# From this many candidate parts on, an area query goes level by level, nested units following their parent.
_LEVEL_BY_LEVEL_FROM = 2000


class _AreaQuery:
    """One area's tests on unit parts: wholly inside, meeting (with the covered area), or missed."""

    def __init__(self, index: UnitIndex, area, wanted: np.ndarray, with_fraction: bool):
        self.index, self.area = index, area
        self.wanted, self.with_fraction = wanted, with_fraction
        # With every level's fractions, a tiled unit's covered area is its children's sum (left NaN here).
        self.tiled = index._tiled if with_fraction and wanted.all() and index._any_tiled else None
        self._edge = self._inner = self._near = self._unit_near = None
        self.bounds = shapely.bounds(area)
        self.measure = shapely.area(area)
        self.polygons = shapely.get_parts(area)

    @property
    def edge(self):
        """The area's boundary, prepared."""
        if self._edge is None:
            self._edge = shapely.boundary(self.area)
            shapely.prepare(self._edge)
        return self._edge

    @property
    def inner(self) -> tuple[float, float] | None:
        """A point strictly inside the area (None if the one found is not, which a valid polygon prevents)."""
        if self._inner is None:
            point = self.area.point_on_surface()
            self._inner = (point.x, point.y) if shapely.contains_xy(self.area, point.x, point.y) else ()
        return self._inner or None

    def classify(self, parts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(parts inside, parts whose interior meets the area's, the covered area of each meeting part)."""
        index, area = self.index, self.area
        if len(parts) == 0:
            return parts, parts, np.zeros(0)
        near_edge = self._near_edge(parts)
        # A part whose box no boundary box reaches lies wholly inside or wholly outside: one point decides.
        away = parts[~near_edge]
        full = [away[shapely.contains_xy(area, index._sample_x[away], index._sample_y[away])]]
        # Near the boundary: one prepared containment test settles most parts (cheaper than first asking
        # which parts the boundary touches); a part whose box reaches beyond the area's is not contained.
        border = parts[near_edge]
        contained = self._in_box(border)
        contained[contained] = self._contains(border[contained])
        full.append(border[contained])
        partial, pieces = self.meeting(border[~contained])
        return np.concatenate(full), partial, pieces

    def meeting(self, partial: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Of parts not inside the area: those whose interior meets the area's, with their covered areas
        (measured for the wanted levels when fractions are asked)."""
        pieces = np.zeros(len(partial))
        meet = np.zeros(len(partial), dtype=bool)
        measured = self.wanted[self.index._part_level[partial]] & self.with_fraction
        if self.tiled is not None:
            summed = self.tiled[self.index._owner[partial]]
            pieces[summed], meet[summed], measured = math.nan, True, measured & ~summed
        if measured.any():
            pieces[measured] = self._covered(partial[measured])
            meet[measured] = pieces[measured] > 0
        unmeasured = ~measured & ~meet if self.tiled is not None else ~measured
        if unmeasured.any():
            meet[unmeasured] = self._interiors_meet(partial[unmeasured])
        return partial[meet], pieces[meet]

    def _near_edge(self, parts: np.ndarray) -> np.ndarray:
        """Parts whose box meets a boundary box (grown by _MARGIN tolerances); all of them when few (testing
        each is then cheaper)."""
        if len(parts) < _FEW_PARTS and self._near is None:
            return np.ones(len(parts), dtype=bool)
        return self.near[parts]

    @property
    def near(self) -> np.ndarray:
        """For each part, whether its box meets a boundary box grown by _MARGIN tolerances (else the part
        lies farther than that from the area's boundary, wholly inside or wholly outside)."""
        if self._near is None:
            pad = _MARGIN * NEST_TOLERANCE
            self._near = np.zeros(len(self.index._parts), dtype=bool)
            index = self.index
            boxes = _boundary_boxes(self.area, index._step, pad)
            if len(boxes) < _TREE_BOXES_UP_TO:
                near = index._tree.query(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]))[1]
            else:
                near = index.grid.overlapping(boxes, index._part_bounds)
            self._near[near] = True
        return self._near

    @property
    def unit_near(self) -> np.ndarray:
        """For each unit, whether one of its parts is near the area's boundary (see near)."""
        if self._unit_near is None:
            self._unit_near = np.zeros(len(self.index._codes), dtype=bool)
            self._unit_near[self.index._owner[self.near]] = True
        return self._unit_near

    def _contains(self, parts: np.ndarray) -> np.ndarray:
        """Whether the area contains each part; a part identical to a polygon of the area (a unit's own
        outline) is, without the costly test of two equal boundaries."""
        shapes = self.index._parts[parts]
        counts = self.index._part_coords[parts]
        same = np.zeros(len(parts), dtype=bool)
        for polygon, count in zip(self.polygons, shapely.get_num_coordinates(self.polygons).tolist()):
            alike = np.flatnonzero(~same & (counts == count))
            if len(alike):
                same[alike] = shapely.equals_exact(shapes[alike], polygon, 0.0)
        contained = same.copy()
        contained[~same] = shapely.contains(self.area, shapes[~same])
        return contained

    def _in_box(self, parts: np.ndarray) -> np.ndarray:
        """Whether each part's box lies within the area's."""
        bounds = self.index._part_bounds[parts]
        return ((bounds[:, 0] >= self.bounds[0]) & (bounds[:, 1] >= self.bounds[1])
                & (bounds[:, 2] <= self.bounds[2]) & (bounds[:, 3] <= self.bounds[3]))

    def _around(self, parts: np.ndarray) -> np.ndarray:
        """Whether each part's box holds the area's."""
        bounds = self.index._part_bounds[parts]
        return ((bounds[:, 0] <= self.bounds[0]) & (bounds[:, 1] <= self.bounds[1])
                & (bounds[:, 2] >= self.bounds[2]) & (bounds[:, 3] >= self.bounds[3]))

    def _covers_area(self, parts: np.ndarray) -> np.ndarray:
        """Whether each part covers the whole area (a district around a small circle)."""
        shapes = self.index._parts[parts]
        around = self._around(parts)
        if around.any():
            around[around] = shapely.covers(shapes[around], self.area)
        return around

    def _covered(self, parts: np.ndarray) -> np.ndarray:
        """The area of each part the area covers (cos-latitude scaled like the parts' own)."""
        index = self.index
        covered = np.empty(len(parts))
        around = self._covers_area(parts)
        covered[around] = self.measure
        rest = parts[~around]
        shapes = index._parts[rest]
        # A large part reaching beyond the area's box is first cut to that box (a cheap, linear cut), so
        # the overlay sees only its vertices near the area; a cut that comes out invalid is not used.
        large = np.flatnonzero((index._part_coords[rest] > _CUT_FROM) & ~self._in_box(rest))
        if len(large):
            cut = shapely.clip_by_rect(shapes[large], *self.bounds)
            usable = shapely.is_valid(cut)
            shapes = shapes.copy()
            shapes[large[usable]] = cut[usable]
        covered[~around] = shapely.area(shapely.intersection(shapes, self.area))
        return covered * index._part_scale[parts]

    def _interiors_meet(self, parts: np.ndarray) -> np.ndarray:
        """For parts near the area's boundary and not inside it: whether their interiors meet the area's."""
        index, area = self.index, self.area
        meet = np.zeros(len(parts), dtype=bool)
        # A point strictly inside both proves it: the part's own inner point (settles most), the area's
        # (settles parts around a small area in one test), else one of the part's vertices. Parts the area
        # misses altogether are dropped before their vertices are looked at.
        meet[:] = shapely.contains_xy(area, index._sample_x[parts], index._sample_y[parts])
        undecided = np.flatnonzero(~meet)
        if len(undecided) and self.inner is not None:
            meet[undecided] = shapely.contains_xy(index._parts[parts[undecided]], *self.inner)
            undecided = undecided[~meet[undecided]]
        undecided = undecided[shapely.intersects(area, index._parts[parts[undecided]])]
        coords, owner = shapely.get_coordinates(index._parts[parts[undecided]], return_index=True)
        meet[undecided[owner[shapely.contains_xy(area, coords[:, 0], coords[:, 1])]]] = True
        undecided = undecided[~meet[undecided]]
        if len(undecided):
            # Left: parts the area touches, or whose edge it crosses without holding one of their vertices.
            meet[undecided] = shapely.relate_pattern(area, index._parts[parts[undecided]], "T********")
        return meet


def _depths(parent: np.ndarray) -> np.ndarray | None:
    """Depth of each unit below its topmost nesting ancestor (index n: none); None on a cycle."""
    n = len(parent)
    depth = np.zeros(n + 1, dtype=np.int64)
    for _ in range(64):
        deeper = np.where(parent < n, depth[np.minimum(parent, n)] + 1, 0)
        if np.array_equal(deeper, depth[:n]):
            return depth
        depth[:n] = deeper
    return None


def _by_part(point_index: np.ndarray, hit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(point, part) pairs ordered by part: point-in-polygon tests on one polygon in a row run faster."""
    order = np.argsort(hit, kind="stable")
    return point_index[order], hit[order]


def _repaired(geometries: np.ndarray) -> np.ndarray:
    """The geometries with invalid ones made valid (overlays need valid polygons), None kept."""
    shapes = geometries.copy()
    present = np.array([g is not None for g in shapes], dtype=bool)
    invalid = np.zeros(len(shapes), dtype=bool)
    invalid[present] = ~shapely.is_valid(shapes[present])
    if invalid.any():
        shapes[invalid] = shapely.make_valid(shapes[invalid])
    return shapes


def _polygon_parts(geometries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The single polygons of each geometry and the index of the geometry each came from."""
    present = np.array([g is not None for g in geometries], dtype=bool)
    if not present.any():
        return np.empty(0, dtype=object), np.zeros(0, dtype=np.int64)
    index = np.flatnonzero(present)
    shapes = geometries[index]
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


def _boundary_boxes(area, step: float, pad: float = 0.0) -> np.ndarray:
    """Boxes (min x, min y, max x, max y) covering the area's rings segment by segment, long segments cut
    into pieces of about `step`."""
    rings = shapely.get_rings(shapely.get_parts(area))
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same_ring = ring[:-1] == ring[1:]
    start, end = coords[:-1][same_ring], coords[1:][same_ring]
    length = np.hypot(*(end - start).T)
    if step <= 0 or (length <= step).all():           # (no segment to cut: a box per segment)
        return np.hstack([np.minimum(start, end) - pad, np.maximum(start, end) + pad])
    pieces = np.maximum(np.ceil(length / step), 1).astype(np.int64) if step > 0 else np.ones(len(start), np.int64)
    segment = np.repeat(np.arange(len(start)), pieces)
    # Position of each piece within its segment, as fractions t0..t1 of the segment.
    first = np.cumsum(pieces) - pieces
    rank = np.arange(len(segment)) - np.repeat(first, pieces)
    t0 = (rank / pieces[segment])[:, None]
    t1 = ((rank + 1) / pieces[segment])[:, None]
    delta = end[segment] - start[segment]
    a, b = start[segment] + t0 * delta, start[segment] + t1 * delta
    return np.hstack([np.minimum(a, b) - pad, np.maximum(a, b) + pad])
