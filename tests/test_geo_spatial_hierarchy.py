"""UnitIndex with parent codes: the nested shortcut gives exactly the brute-force answer, slivers and zones included."""

import math

import numpy as np
import pytest
import shapely

from fangxun.geo import spatial_index
from fangxun.geo.spatial_index import UnitIndex, circle
from fangxun.geo.synthetic import partition, zone

CITY = "410100000000"
ZONE = "410171000000"          # a development zone over parts of several districts (not inside any of them)
SLIVER = "410102001001"        # a village poking out of its township
GAPPY = "410103002000"         # a township one of whose villages was cut back (children do not tile it)
EXCLAVE = "410104001000"       # a township with a detached second part
NO_SHAPE = "410105000000"      # a district without a polygon; its townships are tested on their own


def tree() -> tuple[list[str], list[str], list[str | None], list]:
    """A city cut into 4 districts, 3 townships each, 5 villages each, then spoilt in the ways named above."""
    city = shapely.Polygon([(0, 0), (1.2, 0), (1.2, 0.5), (0.7, 0.5), (0.7, 1.0), (0, 1.0)])
    shapes, parents, levels = {CITY: city}, {CITY: None}, {CITY: "city"}
    districts = [f"4101{d:02d}000000" for d in (2, 3, 4, 5)]
    for code, cell in partition(city, [(c, "rural") for c in districts], seed=1).items():
        shapes[code], parents[code], levels[code] = cell, CITY, "district"
    for district in districts:
        townships = [f"{district[:6]}{t:03d}000" for t in (1, 2, 3)]
        for code, cell in partition(shapes[district], [(c, "urban") for c in townships], seed=int(district[:6])).items():
            shapes[code], parents[code], levels[code] = cell, district, "township"
        for township in townships:
            villages = [f"{township[:9]}{v:03d}" for v in range(1, 6)]
            for code, cell in partition(shapes[township], [(c, "rural") for c in villages], seed=int(township[:9])).items():
                shapes[code], parents[code], levels[code] = cell, township, "village"
    # The sliver village reaches 0.02° beyond its township.
    sliver = shapes[SLIVER]
    shapes[SLIVER] = shapely.union(sliver, shapely.buffer(sliver, 0.02).difference(shapes[parents[SLIVER]]).buffer(-0.005))
    assert not shapely.covers(shapes[parents[SLIVER]], shapes[SLIVER])
    # One village of GAPPY shrinks: a strip of the township belongs to none of its villages.
    gappy_village = f"{GAPPY[:9]}003"
    shapes[gappy_village] = shapely.buffer(shapes[gappy_village], -0.01)
    # EXCLAVE gets a detached square outside the city, with a village of its own there.
    island = shapely.box(1.5, 1.5, 1.6, 1.6)
    shapes[EXCLAVE] = shapely.MultiPolygon(list(shapely.get_parts(shapes[EXCLAVE])) + [island])
    shapes[f"{EXCLAVE[:9]}009"], parents[f"{EXCLAVE[:9]}009"], levels[f"{EXCLAVE[:9]}009"] = (
        shapely.box(1.5, 1.5, 1.55, 1.6), EXCLAVE, "village")
    shapes[ZONE], parents[ZONE], levels[ZONE] = zone((0.55, 0.45), 900.0, seed=4, clip_to=city), CITY, "district"
    shapes[NO_SHAPE] = None
    codes = sorted(shapes)
    return codes, [levels[c] for c in codes], [parents[c] for c in codes], [shapes[c] for c in codes]


@pytest.fixture(params=["level by level", "one pass"], autouse=True)
def query_mode(request, monkeypatch):
    """Small areas are tested in one pass; these trees are small, so both ways are forced in turn."""
    monkeypatch.setattr(spatial_index, "_LEVEL_BY_LEVEL_FROM", 0 if request.param == "level by level" else 10**9)
    # (Parts near the boundary are found with the grid in one mode and with the tree in the other.)
    monkeypatch.setattr(spatial_index, "_TREE_BOXES_UP_TO", 0 if request.param == "level by level" else 10**9)


@pytest.fixture(scope="module")
def units():
    codes, levels, parents, geometries = tree()
    # (Every unit tiled by its children is measured as their sum here, however few its vertices.)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spatial_index, "_TILED_FROM", 0)
        nested = UnitIndex(codes, levels, geometries, parents=parents)
    return {"codes": codes, "levels": levels, "parents": parents, "geometries": geometries,
            "nested": nested, "flat": UnitIndex(codes, levels, geometries)}


def brute_force(area, codes, geometries) -> dict[str, float]:
    """Every unit whose interior meets the area's, with the share of its area the area covers."""
    found = {}
    for code, geometry in zip(codes, geometries):
        # (Cells cut by GEOS overlays can "meet" along an edge with zero common area: no match then.)
        if geometry is not None and shapely.relate_pattern(area, geometry, "T********"):
            if (covered := shapely.intersection(area, geometry).area) > 0:
                found[code] = covered / geometry.area
    return found


def areas(codes, geometries) -> list[tuple[str, shapely.Geometry]]:
    """Random shapes and shapes along unit borders: stars, holes, multipolygons, units' own outlines."""
    by_code = dict(zip(codes, geometries))
    rng = np.random.default_rng(29)
    shapes = []
    for number in range(12):
        angles = np.sort(rng.uniform(0, 2 * math.pi, 11))
        radii = rng.uniform(0.05, 0.45, 11)
        cx, cy = rng.uniform(0.1, 1.0), rng.uniform(0.1, 0.9)
        star = shapely.make_valid(shapely.Polygon(np.column_stack([cx + radii * np.cos(angles),
                                                                   cy + radii * np.sin(angles)])))
        shapes.append((f"star {number}", star))
    shapes += [
        ("city outline", by_code[CITY]),
        ("district outline", by_code["410102000000"]),
        ("township outline", by_code["410103001000"]),
        ("gappy township outline", by_code[GAPPY]),
        ("sliver's township", by_code["410102001000"]),
        ("two townships", shapely.union(by_code["410102002000"], by_code["410102003000"])),
        ("city with a district-sized hole", shapely.Polygon(
            by_code[CITY].exterior, [shapely.buffer(by_code["410103000000"], -0.02).exterior.coords])),
        ("a township's villages but one", shapely.union_all([by_code[f"410104003{v:03d}"] for v in (1, 2, 4, 5)])),
        ("townships of two districts", shapely.MultiPolygon(
            list(shapely.get_parts(by_code["410104002000"])) + list(shapely.get_parts(by_code["410102003000"])))),
        ("village buffered out", shapely.buffer(by_code["410104002003"], 0.03)),
        ("exclave island and more", shapely.box(1.4, 1.4, 1.7, 1.7)),
        ("the zone", by_code[ZONE]),
        ("circle", circle(0.4, 0.4, 20)),
        ("everything", shapely.box(-1, -1, 3, 3)),
        ("box on the city's west edge", shapely.box(-0.5, 0.2, 0.0, 0.6)),
    ]
    return shapes


def test_nested_answer_equals_brute_force_and_the_flat_index(units):
    codes, geometries = units["codes"], units["geometries"]
    for label, area in areas(codes, geometries):
        assert area.is_valid, label
        expected = brute_force(area, codes, geometries)
        nested = {m.code: m.fraction for m in units["nested"].intersecting(area)}
        flat = {m.code: m.fraction for m in units["flat"].intersecting(area)}
        assert nested.keys() == expected.keys(), label
        assert nested.keys() == flat.keys(), label
        for code, fraction in expected.items():
            assert nested[code] == pytest.approx(fraction, rel=1e-3, abs=1e-12), (label, code)
            assert nested[code] == pytest.approx(flat[code], rel=1e-9, abs=1e-12), (label, code)
            assert (nested[code] == 1.0) == (flat[code] == 1.0), (label, code)
        quick = units["nested"].intersecting(area, with_fraction=False)
        quick_flat = units["flat"].intersecting(area, with_fraction=False)
        assert [m.code for m in quick] == [m.code for m in quick_flat], label
        assert set(expected) <= {m.code for m in quick}, label
        for match, same in zip(quick, quick_flat):
            assert match.fraction == 1.0 if same.fraction == 1.0 else math.isnan(match.fraction), label


def test_levels_filter_still_uses_ancestors_but_returns_only_the_wanted(units):
    codes, geometries = units["codes"], units["geometries"]
    for label, area in areas(codes, geometries):
        expected = brute_force(area, codes, geometries)
        villages = units["nested"].intersecting(area, levels=["village"])
        assert [m.code for m in villages] == sorted(c for c in expected if units["levels"][codes.index(c)] == "village")
        for match in villages:
            assert match.fraction == pytest.approx(expected[match.code], rel=1e-3), label


def test_sliver_outside_its_township_is_not_taken_for_whole(units):
    by_code = dict(zip(units["codes"], units["geometries"]))
    township = by_code["410102001000"]
    found = {m.code: m.fraction for m in units["nested"].intersecting(township)}
    assert found["410102001000"] == 1.0
    assert 0 < found[SLIVER] < 1                    # its part beyond the township is not covered
    beyond = shapely.difference(by_code[SLIVER], township)
    found = {m.code: m.fraction for m in units["nested"].intersecting(beyond)}
    assert SLIVER in found                           # matched although its township is not
    assert "410102001000" not in found
    # Areas keeping clear of the township's edge: the township is decided at once, the sliver still on its own.
    found = {m.code: m.fraction for m in units["nested"].intersecting(shapely.buffer(beyond, -0.001))}
    assert SLIVER in found and "410102001000" not in found
    found = {m.code: m.fraction for m in units["nested"].intersecting(shapely.buffer(township, 0.0005))}
    assert found["410102001000"] == 1.0 and 0 < found[SLIVER] < 1


def test_zone_over_several_districts_is_matched_on_its_own(units):
    by_code = dict(zip(units["codes"], units["geometries"]))
    districts = [code for code, level in zip(units["codes"], units["levels"])
                 if level == "district" and code != ZONE and by_code[code] is not None
                 and shapely.intersection(by_code[ZONE], by_code[code]).area > 1e-4]
    assert len(districts) >= 2
    for district in districts:
        found = {m.code: m.fraction for m in units["nested"].intersecting(
            shapely.intersection(by_code[ZONE], by_code[district]))}
        assert ZONE in found and 0 < found[ZONE] < 1
        assert district in found


def test_points_give_the_same_units_with_and_without_parents(units):
    rng = np.random.default_rng(3)
    lons, lats = rng.uniform(-0.1, 1.7, 400), rng.uniform(-0.1, 1.7, 400)
    # Points on vertices of unit polygons: on shared edges and corners.
    corners = shapely.get_coordinates(np.array([g for g in units["geometries"] if g is not None]))[::7]
    lons, lats = np.concatenate([lons, corners[:, 0]]), np.concatenate([lats, corners[:, 1]])
    # The index's outer corners, beyond them, and no position at all.
    xmin, ymin, xmax, ymax = units["nested"].bounds
    lons = np.concatenate([lons, [xmin, xmax, xmax, xmax + 1e-9, -50.0, np.nan, 0.5]])
    lats = np.concatenate([lats, [ymin, ymax, ymin, ymax, 0.5, 0.5, np.inf]])
    by_point = units["nested"].units_at(lons, lats)
    assert by_point == units["flat"].units_at(lons, lats)
    shapes = [(code, shape) for code, shape in zip(units["codes"], units["geometries"]) if shape is not None]
    for lon, lat, found in zip(lons, lats, by_point):
        assert found == [code for code, shape in shapes if shapely.intersects_xy(shape, lon, lat)], (lon, lat)
    assert not any(by_point[-4:])
    for level in ("district", "township", "village"):
        assert units["nested"].locate(lons, lats, level) == units["flat"].locate(lons, lats, level)


def test_parent_codes_must_match_the_units(units):
    with pytest.raises(ValueError):
        UnitIndex(["410100000000"], ["city"], [shapely.box(0, 0, 1, 1)], parents=[])
    # A parent code that is unknown or the unit itself is no nesting.
    index = UnitIndex(["410100000000", "410102000000"], ["city", "district"],
                      [shapely.box(0, 0, 1, 1), shapely.box(0, 0, 1, 1)], parents=["410100000000", "999"])
    assert [(m.code, m.fraction) for m in index.intersecting(shapely.box(0, 0, 0.5, 1))] == [
        ("410100000000", 0.5), ("410102000000", 0.5)]


def test_child_sticking_out_by_rounding_noise_is_decided_exactly():
    parent = shapely.box(0, 0, 1, 1)
    child = shapely.box(0, 0, 0.5, 1 + 1e-12)            # loosely nested: 1e-12 beyond its parent's top edge
    codes, levels = ["410102000000", "410102001000"], ["district", "township"]
    index = UnitIndex(codes, levels, [parent, child], parents=[None, "410102000000"])
    found = {m.code: m.fraction for m in index.intersecting(parent)}
    assert found["410102000000"] == 1.0 and 0.999 < found["410102001000"] < 1.0   # its noise is outside
    found = {m.code: m.fraction for m in index.intersecting(shapely.box(-1, -1, 2, 2))}
    assert found == {"410102000000": 1.0, "410102001000": 1.0}
    above = shapely.box(0, 1, 1, 2)                       # touches the parent: only the noise is inside
    assert [m.code for m in index.intersecting(above)] == ["410102001000"]
    assert [m.code for m in index.intersecting(above, with_fraction=False)] == ["410102001000"]
    assert index.intersecting(shapely.box(0, 1.5, 1, 2)) == []
    assert index.units_at([0.25, 0.25], [1 + 0.5e-12, 0.5]) == [["410102001000"], codes]


def test_child_reaching_far_beyond_its_parent_is_never_nested():
    parent = shapely.box(0, 0, 1, 1)
    child = shapely.union(shapely.box(0, 0, 0.5, 1), shapely.box(0.2, 0.9, 0.3, 3))   # a long arm northwards
    index = UnitIndex(["410102000000", "410102001000"], ["district", "township"], [parent, child],
                      parents=[None, "410102000000"])
    far_north = shapely.box(0.15, 2.5, 0.35, 2.8)         # far from the parent, over the arm
    assert [m.code for m in index.intersecting(far_north)] == ["410102001000"]
    around = shapely.box(-0.5, -0.5, 1.5, 1.5)            # the parent whole, the arm mostly outside
    found = {m.code: m.fraction for m in index.intersecting(around, with_fraction=True)}
    assert found["410102000000"] == 1.0 and 0 < found["410102001000"] < 1
    assert index.units_at([0.25], [2.0]) == [["410102001000"]]


@pytest.mark.parametrize("code", [CITY, "410102000000", EXCLAVE, GAPPY, "410102001000", ZONE, SLIVER])
def test_unit_outline_as_area_is_answered_for_its_subtree_exactly(units, code):
    """A unit's own outline as the area: the subtree's answer is kept (from the first query with fractions, or
    worked out when the outline comes again) and is exact each time."""
    codes, geometries = units["codes"], units["geometries"]
    outline = dict(zip(codes, geometries))[code]
    shapes = [outline] + ([shapely.MultiPolygon([outline])] if outline.geom_type == "Polygon" else [])
    expected = brute_force(outline, codes, geometries)

    def check(index, area):
        found = {m.code: m.fraction for m in index.intersecting(area)}
        assert found.keys() == expected.keys(), code
        for unit, fraction in expected.items():
            assert found[unit] == pytest.approx(fraction, rel=1e-3, abs=1e-12), (code, unit)
        return found

    def quick(index, area):
        return [(m.code, m.fraction == 1.0) for m in index.intersecting(area, with_fraction=False)]

    for name in ("nested", "flat"):
        index = units[name]
        for area in shapes:
            index._outlines.clear()
            index._outlines_asked.clear()
            first = quick(index, area)                    # as any area; the outline is noted
            assert codes.index(code) not in index._outlines
            assert quick(index, area) == first            # worked out for the subtree now, and kept
            assert codes.index(code) in index._outlines
            # (Without fractions, cells cut by GEOS overlays may also "meet" along an edge, as in the flat index.)
            assert expected.keys() <= {c for c, _ in first}, (name, code)
            assert first == quick(units["flat"], area)
            kept = check(index, area)
            assert [m.code for m in index.intersecting(area, levels="village")] == sorted(
                c for c in expected if units["levels"][codes.index(c)] == "village")
            # (A unit sticking out by rounding noise is partly covered, though its fraction rounds to 1.0.)
            assert all(kept[c] == 1.0 for c, whole in first if whole), (name, code)
            index._outlines.clear()
            index._outlines_asked.clear()
            answered = check(index, area)                  # the full answer: its subtree's share is kept
            assert codes.index(code) in index._outlines
            assert check(index, area) == answered
            assert answered == pytest.approx(kept, rel=1e-9, abs=1e-12)
            assert quick(index, area) == first


def test_points_on_grid_cell_edges_and_in_covered_cells(units):
    """Points known from a cell their unit covers, on the cells' edges and corners, as brute force finds them."""
    grid = units["nested"].grid
    columns, rows = np.meshgrid(np.arange(-1, grid.shape[0] + 1), np.arange(-1, grid.shape[1] + 1))
    corners_x = grid.low[0] + columns.ravel() * grid.cell
    corners_y = grid.low[1] + rows.ravel() * grid.cell
    rng = np.random.default_rng(11)
    lons = np.concatenate([corners_x, corners_x + grid.cell / 2, rng.uniform(-0.1, 1.7, 600)])
    lats = np.concatenate([corners_y, corners_y, rng.uniform(-0.1, 1.7, 600)])
    shapes = [(code, shape) for code, shape in zip(units["codes"], units["geometries"]) if shape is not None]
    for name in ("nested", "flat"):
        by_point = units[name].units_at(lons, lats)
        for lon, lat, found in zip(lons, lats, by_point):
            assert found == [code for code, shape in shapes if shapely.intersects_xy(shape, lon, lat)], (lon, lat)
        for level in ("district", "township", "village"):
            located = units[name].locate(lons, lats, level)
            for lon, lat, code in zip(lons, lats, located):
                inside = [c for c, shape in shapes if units["levels"][units["codes"].index(c)] == level
                          and shapely.intersects_xy(shape, lon, lat)]
                assert code == (inside[0] if inside else None), (lon, lat, level)
    assert units["nested"].grid.covered.any()             # some pairs were known from their cell


def test_large_part_partly_covered_is_measured_exactly():
    """A many-vertex unit crossing the area's edge (cut to the area's box before measuring) gets the exact fraction."""
    angles = np.linspace(0, 2 * math.pi, 400, endpoint=False)
    radii = 0.3 + 0.01 * np.sin(37 * angles)
    wavy = shapely.Polygon(np.column_stack([0.5 + radii * np.cos(angles), 0.5 + radii * np.sin(angles)]))
    codes, levels = ["410102000000", "410102001000"], ["district", "township"]
    shapes = [wavy, shapely.intersection(wavy, shapely.box(0, 0, 0.5, 1))]
    index = UnitIndex(codes, levels, shapes, parents=[None, "410102000000"])
    for area in (shapely.box(0.45, 0.3, 0.9, 0.6), circle(0.7, 0.6, 8), shapely.box(-1, 0.49, 2, 0.51)):
        expected = brute_force(area, codes, shapes)
        found = {m.code: m.fraction for m in index.intersecting(area)}
        assert found.keys() == expected.keys()
        for code, fraction in expected.items():
            assert found[code] == pytest.approx(fraction, rel=1e-9)


def test_parent_tiled_by_its_children_sums_them_and_overlapping_children_do_not_count_as_tiling(units, monkeypatch):
    """A unit tiled by its children gets the sum of theirs; children overlapping as much as they leave open do not tile."""
    assert units["nested"]._tiled.any()
    monkeypatch.setattr(spatial_index, "_TILED_FROM", 0)
    parent, left = shapely.box(0, 0, 2, 1), shapely.box(0, 0, 1, 1)
    codes, levels = ["410102000000", "410102001000", "410102002000"], ["district", "township", "township"]
    index = UnitIndex(codes, levels, [parent, left, left], parents=[None, codes[0], codes[0]])
    assert not index._tiled.any()                       # areas add up (1 + 1 = 2) but the right half is open
    assert {m.code: m.fraction for m in index.intersecting(shapely.box(1.5, 0, 3, 1))} == {"410102000000": 0.25}
    halves = [left, shapely.box(1, 0, 2, 1)]
    index = UnitIndex(codes, levels, [parent] + halves, parents=[None, codes[0], codes[0]])
    assert index._tiled[0]
    found = {m.code: m.fraction for m in index.intersecting(shapely.box(0.5, 0, 3, 1))}
    assert found == pytest.approx({"410102000000": 0.75, "410102001000": 0.5, "410102002000": 1.0}, rel=1e-12)
    assert [m.code for m in index.intersecting(shapely.box(2, 0, 3, 1))] == []     # touching only


def test_points_tested_at_once_when_few_units_are_exactly_nested(units):
    """units_at gives the same answer whether it derives ancestors from exact nesting or tests every pair."""
    index = UnitIndex(units["codes"], units["levels"], units["geometries"], parents=units["parents"])
    rng = np.random.default_rng(5)
    lons, lats = rng.uniform(-0.1, 1.7, 500), rng.uniform(-0.1, 1.7, 500)
    derived = index.units_at(lons, lats)
    index._points_by_ancestors = not index._points_by_ancestors
    assert index.units_at(lons, lats) == derived
    shapes = [(code, shape) for code, shape in zip(units["codes"], units["geometries"]) if shape is not None]
    for lon, lat, found in zip(lons, lats, derived):
        assert found == [code for code, shape in shapes if shapely.intersects_xy(shape, lon, lat)], (lon, lat)


def test_points_on_unit_edges_and_fine_cell_corners_where_outlines_are_not_nested(units):
    """Points on units' vertices and edges (the zone over several districts, the sliver village) and on the corners
    of the finer point grid's cells, known from cells their parts cover or miss: the brute-force units."""
    index = units["nested"]
    index.units_at([0.5], [0.5])
    grid = index._point_grid
    assert grid is not index.grid and grid.cell < index.grid.cell      # a small index gets the finer point grid
    assert grid.covered.any() and grid.missed.any()
    columns, rows = np.meshgrid(np.arange(-1, grid.shape[0] + 1), np.arange(-1, grid.shape[1] + 1))
    corners = np.column_stack([grid.low[0] + columns.ravel() * grid.cell, grid.low[1] + rows.ravel() * grid.cell])
    edges = []
    for code in (ZONE, SLIVER, CITY, "410102000000", "410103000000"):
        ring = shapely.get_coordinates(units["geometries"][units["codes"].index(code)])
        edges += [ring, (ring[:-1] + ring[1:]) / 2]
    points = np.concatenate([corners, corners + grid.cell / 2] + edges)
    shapes = [(code, shape) for code, shape in zip(units["codes"], units["geometries"]) if shape is not None]
    for name in ("nested", "flat"):
        found = units[name].units_at(points[:, 0], points[:, 1])
        for (lon, lat), codes in zip(points, found):
            assert codes == [code for code, shape in shapes if shapely.intersects_xy(shape, lon, lat)], (lon, lat)


def test_large_index_points_use_the_shared_grid(units, monkeypatch):
    """Past _POINT_GRID_ENTRIES the point queries use the area queries' grid, with the same answers."""
    monkeypatch.setattr(spatial_index, "_POINT_GRID_ENTRIES", 0)
    index = UnitIndex(units["codes"], units["levels"], units["geometries"], parents=units["parents"])
    rng = np.random.default_rng(17)
    lons, lats = rng.uniform(-0.1, 1.7, 400), rng.uniform(-0.1, 1.7, 400)
    assert index.units_at(lons, lats) == units["nested"].units_at(lons, lats)
    assert index._point_grid is index.grid
