"""``navmesh="auto"`` follows the mesh file a scene was loaded from, never ``metadata["source"]``."""

from __future__ import annotations

import os

import numpy as np
import pytest
import trimesh

from navgym.scenes.builder import SceneBuilder
from navgym.scenes.io import load_scene, save_scene
from navgym.sims.embedded.navmesh import NavMesh, write_navmesh
from navgym.sims.embedded.simulator import EmbeddedSimulator


@pytest.fixture(scope="module")
def room():
    """(a 4 m x 2 m floor under a ceiling, its grid, the grid's navigable cells in its left and
    right halves): two navmeshes of this room that can be told apart by what they cover."""
    b = SceneBuilder("built")
    m = b.material("floor", "wood", (150, 110, 70))
    b.add_box((0, -0.1, 0), (4, 0, 2), m, category="floor")
    b.add_box((0, 2.5, 0), (4, 2.6, 2), m, category="ceiling")
    scene = b.build()
    grid = EmbeddedSimulator(scene, navmesh="grid").grid(0.0)
    left = grid.navigable.copy()
    left[:, grid.cols // 2 :] = False
    right = grid.navigable & ~left
    assert left.any() and right.any()
    return scene, grid, left, right


def _navmesh(grid, mask, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_navmesh(NavMesh.from_grid(grid, mask=mask), path)


def _followed(scene):
    sim = EmbeddedSimulator(scene)
    navmesh = sim.active_navmesh()
    return (None if navmesh is None else os.path.abspath(navmesh.path)), sim.grid(0.0).navigable


def test_a_built_and_saved_scene_follows_the_navmesh_beside_its_file(room, tmp_path):
    scene, grid, left, _ = room
    glb, _ = save_scene(scene, tmp_path / "own" / "Built.glb")
    navmesh = _navmesh(grid, left, tmp_path / "own" / "Built.navmesh")
    loaded = load_scene(glb)
    assert loaded.mesh_file == glb.resolve() and "source" not in loaded.metadata
    path, navigable = _followed(loaded)
    assert path == str(navmesh)
    np.testing.assert_array_equal(navigable, left)
    # HSSD's layout: stages/<stem>.glb with navmeshes/<stem>.navmesh.
    stage, _ = save_scene(scene, tmp_path / "hssd" / "stages" / "Stage.glb")
    hssd = _navmesh(grid, left, tmp_path / "hssd" / "navmeshes" / "Stage.navmesh")
    assert _followed(load_scene(stage))[0] == str(hssd)


@pytest.mark.parametrize("up_axis", ["y", "z"])
def test_a_converted_scan_follows_its_own_navmesh_not_the_scans(room, tmp_path, up_axis):
    """docs/scene_format.md's conversion: load a scan, annotate it, save it in navgym's format."""
    scene, grid, left, right = room
    vertices = scene.vertices if up_axis == "y" else scene.vertices @ np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]])
    (tmp_path / "scans").mkdir()
    trimesh.Trimesh(vertices, scene.faces, process=False).export(tmp_path / "scans" / "flat.ply")
    scan_navmesh = _navmesh(grid, left, tmp_path / "scans" / "flat.navmesh")
    scan = load_scene(tmp_path / "scans" / "flat.ply", up_axis=up_axis)
    assert scan.metadata["source"] == str(tmp_path / "scans" / "flat.ply")
    # The scan itself follows its navmesh: a z-up scan is turned y-up as habitat-sim turns it, so
    # its navmesh (in habitat-sim's y-up world frame, as the grid it was written from) fits.
    path, navigable = _followed(scan)
    assert path == str(scan_navmesh)
    np.testing.assert_array_equal(navigable, left)
    scan.annotated = True
    glb, _ = save_scene(scan, tmp_path / "scenes" / "flat.glb")  # the annotations keep metadata["source"]
    own = _navmesh(grid, right, tmp_path / "scenes" / "flat.navmesh")
    converted = load_scene(glb)
    assert converted.metadata["source"] == str(tmp_path / "scans" / "flat.ply")
    path, navigable = _followed(converted)
    assert path == str(own)
    np.testing.assert_array_equal(navigable, right)
    own.unlink()  # without its own navmesh, the grid: still not the scan's
    assert _followed(load_scene(glb))[0] is None


def test_a_source_in_an_annotation_file_is_never_read(room, tmp_path):
    """An annotation file naming a mesh outside the data root makes nothing outside it read."""
    scene, grid, left, _ = room
    elsewhere = tmp_path / "elsewhere" / "Elsewhere.glb"
    save_scene(scene, elsewhere)
    _navmesh(grid, left, elsewhere.with_suffix(".navmesh"))
    root = tmp_path / "data"
    scene.metadata["source"] = str(elsewhere)
    try:
        save_scene(scene, root / "scene_datasets" / "own" / "Built.glb")
    finally:
        scene.metadata.pop("source")
    sim = EmbeddedSimulator("own/Built.glb", data_root=root)
    assert sim.scene.metadata["source"] == str(elsewhere)
    assert sim.active_navmesh() is None
    np.testing.assert_array_equal(sim.grid(0.0).navigable, grid.navigable)
    # A scene made in memory has no file: its metadata's source is not followed either.
    scene.metadata["source"] = str(elsewhere)
    try:
        assert EmbeddedSimulator(scene).active_navmesh() is None
    finally:
        scene.metadata.pop("source")
