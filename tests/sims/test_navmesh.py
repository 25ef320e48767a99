"""Habitat ``.navmesh`` files without habitat-sim: round trips, rasterisation, the simulator following one."""

from __future__ import annotations

import base64
import copy
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from navgym.errors import DataNotFoundError, DatasetFormatError
from navgym.scenes.prochouse import SPLITS, generate_house
from navgym.sims.embedded.navmesh import (
    DETAIL_DTYPE, POLY_DTYPE, POLYFLAGS_WALK, NavMesh, NavMeshTile, read_navmesh, write_navmesh,
)
from navgym.sims.embedded.simulator import EmbeddedSimulator

SEED = SPLITS["val"][3]  # a small 4-room house (~26 m² navigable, grid in ~1 s)
#: A navmesh that Recast itself built of house SEED, and Detour's answers on it (see the JSON's
#: "about" and docs/simulator.md, "Habitat navmeshes"); the test using them skips without them.
RECAST_FIXTURE = Path(__file__).resolve().parents[1] / "data" / "navmesh"


@pytest.fixture(scope="module")
def house():
    """(scene, the simulator on navgym's grid, its storey grid, the grid's navmesh)."""
    scene = generate_house(SEED)
    sim = EmbeddedSimulator(scene, navmesh="grid")
    grid = sim.grid(0.0)
    return scene, sim, grid, NavMesh.from_grid(grid)


def _room_cells(grid, room):
    x0, z0, x1, z1 = room.bounds
    xs = grid.origin[0] + (np.arange(grid.cols) + 0.5) * grid.cell_size
    zs = grid.origin[1] + (np.arange(grid.rows) + 0.5) * grid.cell_size
    return ((zs[:, None] >= z0) & (zs[:, None] <= z1)) & ((xs[None, :] >= x0) & (xs[None, :] <= x1))


def test_write_then_read_gives_identical_arrays_and_bytes(house, tmp_path):
    _, _, _, navmesh = house
    first = write_navmesh(navmesh, tmp_path / "a.navmesh")
    back = read_navmesh(first)
    assert back.equals(navmesh)
    assert back.vertex_count == navmesh.vertex_count and back.polygon_count == navmesh.polygon_count
    second = write_navmesh(back, tmp_path / "b.navmesh")
    assert first.read_bytes() == second.read_bytes()
    # habitat-sim's version 2 (NavMeshSettings after the header) and a 64-bit-ref Detour build.
    back.version, back.settings = 2, {"cell_size": 0.05, "agent_radius": 0.18, "filter_ledge_spans": 1}
    back.ref_bits = 64
    write_navmesh(back, tmp_path / "c.navmesh")
    again = read_navmesh(tmp_path / "c.navmesh")
    assert again.version == 2 and again.ref_bits == 64
    assert again.settings["cell_size"] == pytest.approx(0.05) and again.settings["filter_ledge_spans"] == 1
    assert [t.verts.tobytes() for t in again.tiles] == [t.verts.tobytes() for t in navmesh.tiles]
    assert all(np.array_equal(a.polys["neis"], b.polys["neis"]) for a, b in zip(again.tiles, navmesh.tiles))


def test_grid_navmesh_is_a_valid_detour_tile(house):
    """What Detour needs of a tile: ≤ 6 vertices per polygon, Recast's winding (dtTriArea2D > 0
    over the fan), neighbour links symmetric and along the same edge walked the other way."""
    _, _, grid, navmesh = house
    (tile,) = navmesh.tiles
    p, v = tile.polys, tile.verts
    assert p["vert_count"].min() >= 3 and p["vert_count"].max() <= 6
    total = 0.0
    for i in range(len(p)):
        ring = v[p["verts"][i, : p["vert_count"][i]]].astype(np.float64)
        area2 = sum((ring[j, 0] - ring[0, 0]) * (ring[j - 1, 2] - ring[0, 2]) - (ring[j - 1, 0] - ring[0, 0]) * (ring[j, 2] - ring[0, 2])
                    for j in range(2, len(ring)))
        assert area2 > 0, f"polygon {i} is wound the wrong way"
        total += area2 / 2
        for j in range(p["vert_count"][i]):
            n = int(p["neis"][i, j])
            if not n:
                continue
            a, b = ring[j, [0, 2]], ring[(j + 1) % len(ring), [0, 2]]
            other = v[p["verts"][n - 1, : p["vert_count"][n - 1]]][:, [0, 2]].astype(np.float64)
            k = int(np.flatnonzero(p["neis"][n - 1] == i + 1)[0])
            np.testing.assert_allclose(other[k], b, atol=1e-6)
            np.testing.assert_allclose(other[(k + 1) % len(other)], a, atol=1e-6)
    assert total == pytest.approx(grid.navigable.sum() * grid.cell_size**2, rel=1e-5)
    assert navmesh.area() == pytest.approx(total, rel=1e-5)


def test_rasterised_navmesh_gives_the_grids_geodesics(house, tmp_path):
    """The navmesh's polygons lie on cell edges and float32 moves them by < 1 µm, far from any
    cell centre (half a cell away): the covered cells are the grid's exactly, so distances agree
    to rounding (tolerance 1e-9 m)."""
    scene, ref, grid, navmesh = house
    path = write_navmesh(navmesh, tmp_path / "house.navmesh")
    covered, heights = read_navmesh(path).rasterize(grid.origin, grid.cell_size, grid.navigable.shape, floor_y=grid.floor_y)
    np.testing.assert_array_equal(covered, grid.navigable)
    assert np.nanmax(np.abs(heights - grid.floor_y)) < 1e-6
    sim = EmbeddedSimulator(scene, navmesh=path)
    assert sim.grid(0.0).source == str(path)
    np.testing.assert_array_equal(sim.grid(0.0).navigable, grid.navigable)
    rng = np.random.default_rng(0)
    gaps = []
    for _ in range(20):
        a, b = ref.sample_navigable_point(rng), ref.sample_navigable_point(rng)
        gaps.append(abs(sim.geodesic_distance(a, [b]) - ref.geodesic_distance(a, [b])))
    assert max(gaps) <= 1e-9


def test_the_simulator_follows_a_navmesh_that_differs_from_the_geometry(house, tmp_path):
    scene, ref, grid, _ = house
    room = max(scene.rooms, key=lambda r: int((_room_cells(grid, r) & grid.navigable).sum()))
    inside = _room_cells(grid, room) & grid.navigable
    cut = NavMesh.from_grid(grid, mask=grid.navigable & ~inside)
    path = write_navmesh(cut, tmp_path / "cut.navmesh")
    sim = EmbeddedSimulator(scene, navmesh=path)
    row, col = np.argwhere(inside)[len(np.argwhere(inside)) // 2]
    point = grid.to_world(int(row), int(col))
    assert ref.is_navigable(point) and not sim.is_navigable(point)
    rng = np.random.default_rng(1)
    for _ in range(40):
        p = sim.sample_navigable_point(rng)
        r, c = grid.to_cell(p)
        assert not inside[r, c]
    start = sim.sample_navigable_point(rng)
    for p in sim.shortest_path(start, point):
        r, c = grid.to_cell(p)
        assert not inside[r, c]


def test_auto_uses_the_navmesh_next_to_the_scene_mesh_and_grid_ignores_it(house, tmp_path):
    scene, _, grid, _ = house
    room = scene.rooms[0]
    inside = _room_cells(grid, room) & grid.navigable
    write_navmesh(NavMesh.from_grid(grid, mask=grid.navigable & ~inside), tmp_path / "house.navmesh")
    scene.mesh_file = tmp_path / "house.glb"  # as load_scene records the file it read
    try:
        auto = EmbeddedSimulator(scene)
        plain = EmbeddedSimulator(scene, navmesh="grid")
        assert auto.active_navmesh() is not None and plain.active_navmesh() is None
        assert auto.grid(0.0).navigable.sum() == grid.navigable.sum() - inside.sum()
        np.testing.assert_array_equal(plain.grid(0.0).navigable, grid.navigable)
        (tmp_path / "house.navmesh").write_bytes(b"not a navmesh at all, just some bytes" * 2)
        with pytest.warns(UserWarning, match="bad magic"):
            fallback = EmbeddedSimulator(scene)
        np.testing.assert_array_equal(fallback.grid(0.0).navigable, grid.navigable)
    finally:
        scene.mesh_file = None


def test_rasterisation_keeps_only_surfaces_near_the_floor(house):
    _, _, grid, navmesh = house
    shape = grid.navigable.shape
    for lift, expected in ((0.3, grid.navigable.sum()), (1.0, 0)):
        raised = copy.deepcopy(navmesh)
        raised.tiles[0].verts[:, 1] += lift
        covered, _ = raised.rasterize(grid.origin, grid.cell_size, shape, floor_y=grid.floor_y)
        assert covered.sum() == expected


def test_bad_files_raise_a_clear_error(house, tmp_path):
    _, _, _, navmesh = house
    good = write_navmesh(navmesh, tmp_path / "good.navmesh").read_bytes()
    cases = {
        "magic.navmesh": (b"XXXX" + good[4:], "bad magic"),
        "version.navmesh": (good[:4] + struct.pack("<i", 9) + good[8:], "unsupported navmesh set version 9"),
        "header.navmesh": (good[:20], "truncated"),
        "tile.navmesh": (good[: len(good) // 2], "truncated tile 0"),
        "tileheader.navmesh": (good[:40], "tile 0 of 1 has no tile header"),
        "dnav.navmesh": (good[48:], "bare Detour tile"),
        "tilemagic.navmesh": (good[:48] + b"ZZZZ" + good[52:], "tile 0 has bad magic"),
    }
    for name, (data, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(DatasetFormatError, match=message) as info:
            read_navmesh(path)
        assert str(path) in str(info.value) and "navmesh='grid'" in str(info.value)
    with pytest.raises(DataNotFoundError, match="missing.navmesh"):
        read_navmesh(tmp_path / "missing.navmesh")
    with pytest.raises(DatasetFormatError):
        EmbeddedSimulator(house[0], navmesh=tmp_path / "magic.navmesh")


def test_detail_meshes_give_the_surface_height(tmp_path):
    """One 1 m square polygon whose detail mesh raises its centre 0.4 m (4 triangles through a
    detail vertex): rasterised heights follow the detail triangles, and the tile round trips."""
    tile = NavMeshTile(walkable_radius=0.1, walkable_height=1.5, walkable_climb=0.2, tile_ref=1)  # tile 0, salt 1
    tile.verts = np.array([[0, 0, 0], [0, 0, 1], [1, 0, 1], [1, 0, 0]], np.float32)  # Recast winding
    tile.polys = np.zeros(1, POLY_DTYPE)
    tile.polys["verts"][0, :4] = [0, 1, 2, 3]
    tile.polys["vert_count"] = 4
    tile.polys["flags"] = POLYFLAGS_WALK
    tile.detail_meshes = np.zeros(1, DETAIL_DTYPE)
    tile.detail_meshes[0] = (0, 0, 1, 4)
    tile.detail_verts = np.array([[0.5, 0.4, 0.5]], np.float32)
    tile.detail_tris = np.array([[0, 1, 4, 0], [1, 2, 4, 0], [2, 3, 4, 0], [3, 0, 4, 0]], np.uint8)
    tile.bmin, tile.bmax = np.zeros(3, np.float32), np.array([1, 0.4, 1], np.float32)
    navmesh = NavMesh(tiles=[tile], tile_width=1.0, tile_height=1.0, max_polys=1)
    covered, height = navmesh.rasterize((0.0, 0.0), 0.1, (10, 10), floor_y=0.0)
    assert covered.all()
    assert height[5, 5] == pytest.approx(0.4 * (1 - 2 * 0.05), abs=1e-6)  # 5 cm from the apex
    assert height[0, 5] == pytest.approx(0.4 * 2 * 0.05, abs=1e-6)  # 5 cm in from an edge
    assert navmesh.area() > 1.0  # the raised surface is larger than its 1 m² footprint
    assert not navmesh.rasterize((0.0, 0.0), 0.1, (10, 10), floor_y=-0.45)[0][5, 5]  # apex 0.85 m above
    assert read_navmesh(write_navmesh(navmesh, tmp_path / "d.navmesh")).equals(navmesh)


@pytest.mark.skipif(not (RECAST_FIXTURE / "recast_house.navmesh").is_file(), reason="tests/data/navmesh/ fixture not present")
def test_a_navmesh_built_by_recast_matches_detours_own_answers(house, tmp_path):
    """Recast's own navmesh of the house (BV tree, runtime links, 32-bit refs): parsed, written
    back byte for byte, covering the points Detour says are on it, with geodesics that agree with
    Detour's string-pulled paths up to navgym's fast-marching overestimate (measured: median 2.0 %,
    max 6.3 %; Detour's path is the exact shortest path through its polygons)."""
    scene, _, grid, _ = house
    path = RECAST_FIXTURE / "recast_house.navmesh"
    expected = json.loads((RECAST_FIXTURE / "recast_house_detour.json").read_text())
    navmesh = read_navmesh(path)
    assert (navmesh.version, navmesh.ref_bits, len(navmesh.tiles)) == (1, 32, 1)
    assert (navmesh.vertex_count, navmesh.polygon_count, len(navmesh.tiles[0].bv_nodes)) == (259, 140, 280)
    assert write_navmesh(navmesh, tmp_path / "r.navmesh").read_bytes() == path.read_bytes()
    sim = EmbeddedSimulator(scene, navmesh=path)
    lattice = expected["lattice"]
    over = np.unpackbits(np.frombuffer(base64.b64decode(expected["detour_over_polygon_packbits_b64"]), np.uint8))[: expected["count"]]
    ox, oz = lattice["origin"]
    points = [[ox + (c + 0.5) * lattice["cell_size"], lattice["y"], oz + (r + 0.5) * lattice["cell_size"]]
              for r in lattice["rows"] for c in lattice["cols"]]
    ours = np.array([sim.is_navigable(p) for p in points])
    assert over.sum() > 2000 and (ours != over.astype(bool)).sum() <= 0.001 * len(points)
    detour = np.array(expected["detour_path_lengths"])
    navgym = np.array([sim.geodesic_distance(a, [b]) for a, b in expected["pairs"]])
    rel = (navgym - detour) / detour
    assert rel.min() >= -0.01 and np.median(rel) <= 0.03 and rel.max() <= 0.08
