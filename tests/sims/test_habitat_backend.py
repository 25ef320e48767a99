"""Tests of the habitat-sim backend (``navgym/sims/habitat``) without habitat-sim.

habitat-sim has no pip wheel for Linux and renders on a GPU, so navgym's machines and CI do not
have it. These tests check:

* that ``import navgym`` imports no habitat-sim module and ``sim="habitat"`` without it raises
  ``DependencyNotInstalled`` naming the conda install;
* the pure mapping logic (``navgym/sims/habitat/config.py``): quaternion order, camera poses,
  sensor specs, output conversions, navmesh settings, the collision rule, semantic objects ->
  instances, the exported stage (y-up config, PLY instance mesh in habitat's PLY frame);
* the adapter against **fake** ``habitat_sim`` / ``quaternion`` modules
  (``tests/sims/fake_habitat.py``) that record calls and stand in for rendering and the navmesh.

**The fakes test navgym's adapter logic only.** Passing here says the adapter sends habitat-sim
v0.3.x's documented API the poses, quaternions, sensor specs, navmesh settings and steps it means
to, and maps the answers back; it says nothing about what real habitat-sim does with them.
``test_conformance_kit_on_real_habitat_sim`` runs the conformance kit on the real thing wherever
``habitat_sim`` is importable (skipped here).
"""

from __future__ import annotations

import importlib.machinery
import math
import pickle
import subprocess
import sys
import types

import gymnasium as gym
import numpy as np
import pytest

from navgym.core.geometry import camera_rotation, heading_vector, quat_wxyz_from_matrix
from navgym.core.specs import AgentState, BodySpec, CameraSpec
from navgym.errors import InvalidArgumentError
from navgym.sims.habitat import config as hc

HABITAT_PREFIXES = ("habitat_sim", "quaternion", "magnum")


# -- imports and the missing-dependency error ------------------------------------------------------
def test_importing_navgym_imports_no_habitat_module():
    code = (
        "import sys, navgym, navgym.envs\n"
        "from navgym.sims import SIMULATORS\n"
        "SIMULATORS.get('habitat')\n"
        "import navgym.sims.habitat.config, navgym.sims.habitat.simulator\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {HABITAT_PREFIXES!r}]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_sim_habitat_without_habitat_sim_raises_dependency_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "habitat_sim", None)  # `import habitat_sim` raises ImportError
    with pytest.raises(gym.error.DependencyNotInstalled) as info:
        gym.make("ObjectNav-ProcHouse-v0", sim="habitat", num_scenes=1, episodes_per_scene=1)
    message = str(info.value)
    assert "conda install habitat-sim headless -c conda-forge -c aihabitat-nightly" in message and "Python >= 3.10" in message
    assert "docs/simulator.md" in message and "sim='embedded'" in message
    from navgym.sims.habitat import HabitatSimulator
    from navgym.sims.habitat.simulator import HabitatSimulator as same

    assert HabitatSimulator is same
    with pytest.raises(gym.error.DependencyNotInstalled, match="habitat-sim"):
        HabitatSimulator("prochouse/1000000")


def test_registry_entry_points_at_the_backend():
    from navgym.sims import SIMULATORS
    from navgym.sims.habitat import HabitatSimulator

    assert SIMULATORS.get("habitat") is HabitatSimulator


# -- pure mapping logic ----------------------------------------------------------------------------
def _fake_qt():
    import fake_habitat

    return types.SimpleNamespace(quaternion=fake_habitat.quaternion)


def test_quaternion_order_navgym_xyzw_to_habitat_wxyz():
    q_xyzw = np.array([0.1, 0.7, -0.2, 0.67])
    q_xyzw /= np.linalg.norm(q_xyzw)
    q_wxyz = hc.xyzw_to_wxyz(q_xyzw)
    assert np.allclose(q_wxyz, [q_xyzw[3], *q_xyzw[:3]])
    assert np.allclose(hc.wxyz_to_xyzw(q_wxyz), q_xyzw)
    q = hc.to_habitat_quaternion(q_wxyz, _fake_qt())
    assert (q.w, q.x, q.y, q.z) == pytest.approx(tuple(q_wxyz))
    assert np.allclose(hc.from_habitat_quaternion(q), q_xyzw)
    magnum_like = types.SimpleNamespace(scalar=q_xyzw[3], vector=q_xyzw[:3])
    assert np.allclose(hc.from_habitat_quaternion(magnum_like), q_xyzw)
    assert np.allclose(hc.from_habitat_quaternion(list(q_xyzw)), q_xyzw)  # quat_to_coeffs order


@pytest.mark.parametrize(("yaw", "pitch", "roll", "tilt"), [(0.0, 0.0, 0.0, 0.0), (0.9, -30.0, 0.0, 10.0), (-2.4, 12.0, 8.0, -25.0)])
def test_camera_pose_is_navgyms_camera(yaw, pitch, roll, tilt):
    """The rig pose: eye camera_height above the floor point; the quaternion (w, x, y, z) turns the
    node's -z into navgym's viewing direction and +y into its image up."""
    from fake_habitat import matrix_of, quaternion

    state = AgentState.from_yaw([1.0, 0.3, -2.0], yaw, tilt=tilt)
    spec = CameraSpec(camera_height=0.88, pitch=pitch, roll=roll)
    eye, q_wxyz = hc.camera_pose(state, spec)
    assert np.allclose(eye, [1.0, 0.3 + 0.88, -2.0])
    expected = camera_rotation(yaw, math.radians(np.clip(pitch + tilt, -90, 90)), math.radians(roll))
    assert np.allclose(matrix_of(quaternion(*q_wxyz)), expected, atol=1e-9)
    if pitch == roll == tilt == 0.0:
        assert np.allclose(matrix_of(quaternion(*q_wxyz)) @ [0, 0, -1], heading_vector(yaw))


def test_camera_sensor_spec_resolution_is_height_width():
    import fake_habitat

    hs = types.SimpleNamespace(CameraSensorSpec=fake_habitat.CameraSensorSpec, SensorType=fake_habitat.SensorType, SensorSubType=fake_habitat.SensorSubType)
    spec = CameraSpec(width=160, height=90, hfov=79.0)
    for output, kind in (("rgb", "COLOR"), ("depth", "DEPTH"), ("semantic", "SEMANTIC")):
        key = hc.sensor_key(output, spec)
        s = hc.camera_sensor_spec(hs, key)
        assert s.uuid == f"navgym_{output}_160x90_hfov79" and s.sensor_type == getattr(fake_habitat.SensorType, kind)
        assert list(s.resolution) == [90, 160] and s.hfov == 79.0 and s.sensor_subtype == fake_habitat.SensorSubType.PINHOLE
        assert list(s.position) == [0.0, 0.0, 0.0] and list(s.orientation) == [0.0, 0.0, 0.0]
    assert hc.sensor_key("rgb", spec) == hc.sensor_key("rgb", spec.with_(camera_height=0.3, pitch=-20.0, max_depth=3.0))


def test_output_conversions():
    depth = np.array([[0.0, 0.05], [2.0, np.nan], [40.0, np.inf]], dtype=np.float32)
    out = hc.depth_to_navgym(depth, 0.1, 5.0)
    assert out.shape == (3, 2, 1) and out.dtype == np.float32
    assert out[..., 0].tolist() == [[5.0, pytest.approx(0.1)], [2.0, 5.0], [5.0, 5.0]]
    ids = np.array([[0, 7, 9], [7, 65535, 3]], dtype=np.uint32)
    sem = hc.semantic_to_navgym(ids, np.array([3, 7]))
    assert sem.dtype == np.int32 and sem.tolist() == [[0, 7, 0], [7, 0, 3]]
    rgba = np.arange(2 * 2 * 4, dtype=np.uint8).reshape(2, 2, 4)
    assert np.array_equal(hc.rgb_to_navgym(rgba), rgba[..., :3])


def test_navmesh_settings_follow_the_body():
    import fake_habitat

    hs = types.SimpleNamespace(NavMeshSettings=fake_habitat.NavMeshSettings)
    s = hc.navmesh_settings(hs, BodySpec(radius=0.25, height=0.9, max_climb=0.1), cell_size=0.04, cell_height=0.1)
    assert (s.agent_radius, s.agent_height, s.agent_max_climb, s.cell_size, s.cell_height) == (0.25, 0.9, 0.1, 0.04, 0.1)
    assert s.defaults_set and s.include_static_objects is False and s.agent_max_slope == 45.0


def test_collision_rule_is_habitats():
    start = np.zeros(3)
    assert not hc.collided(start, [0.25, 0.0, 0.0], [0.25, 0.0, 0.0])
    assert not hc.collided(start, [0.25, 0.0, 0.0], [0.25 - 1e-6, 0.0, 0.0])  # within habitat's EPS
    assert hc.collided(start, [0.25, 0.0, 0.0], [0.2, 0.0, 0.0])
    assert hc.collided(start, [0.25, 0.0, 0.25], [0.25, 0.0, 0.1])  # slid: still a collision


def test_semantic_objects_become_instances():
    from fake_habitat import SemanticObject, SemanticScene

    objects = [
        SemanticObject("0_1_3", 12, "chair", [1, 0, 2], [1.5, 0.9, 2.6]),
        None,  # habitat's lists can hold None
        SemanticObject("0_1_4", 0, "wall", [0, 0, 0], [1, 1, 1]),  # id 0: not an instance
        SemanticObject("0_1_5", 12, "sofa", [0, 0, 0], [1, 1, 1]),  # repeated id
        SemanticObject("0_1_6", 5, None, [-1, 0, -1], [0, 2, 0]),
    ]
    instances = hc.instances_from_semantic_scene(SemanticScene(objects))
    assert [(i.id, i.category) for i in instances] == [(12, "chair"), (5, "unknown")]
    assert np.allclose(instances[0].bbox_min, [1, 0, 2]) and np.allclose(instances[0].bbox_max, [1.5, 0.9, 2.6])
    assert instances[0].attributes["habitat_id"] == "0_1_3" and instances[0].room_id is None
    old = types.SimpleNamespace(objects=[types.SimpleNamespace(id="x", semantic_id=3, category=None,
                                                               aabb=types.SimpleNamespace(center=[1.0, 0.5, 1.0], sizes=[2.0, 1.0, 0.5]))])
    (inst,) = hc.instances_from_semantic_scene(old)
    assert np.allclose(inst.bbox_min, [0.0, 0.0, 0.75]) and np.allclose(inst.bbox_max, [2.0, 1.0, 1.25])


def test_ply_frame_undoes_habitats_rotation():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(10, 3))
    ply = hc.nav_to_ply(points)
    habitat = np.stack([ply[:, 0], ply[:, 2], -ply[:, 1]], axis=-1)  # GenericSemanticMeshData's rotation of .ply meshes
    assert np.allclose(habitat, points) and np.allclose(hc.ply_to_nav(ply), points)
    assert np.allclose(hc.nav_to_ply([0.0, 1.0, 0.0]), [0.0, 0.0, 1.0])  # up is the file's +z


def test_stage_files(tmp_path):
    import json

    from fake_habitat import read_ply

    from navgym.testing.simulator import room_scene

    scene = room_scene().scene
    path = hc.write_stage(scene, tmp_path / "stage")
    config = json.loads(path.read_text())
    assert path.name.endswith(".stage_config.json")
    assert config["up"] == [0.0, 1.0, 0.0] and config["front"] == [0.0, 0.0, -1.0]
    assert (path.parent / config["render_asset"]).exists() and (path.parent / "stage.navgym.json").exists()
    triangles, ids = read_ply(path.parent / config["semantic_asset"])
    assert np.allclose(hc.ply_to_nav(triangles), scene.vertices[scene.faces], atol=1e-5)
    assert np.array_equal(ids, scene.face_instance)
    again, ids2 = hc.read_semantic_ply(path.parent / config["semantic_asset"])
    assert np.allclose(again, triangles) and np.array_equal(ids2, ids)
    assert hc.ensure_stage(scene, tmp_path / "cache") == hc.ensure_stage(scene, tmp_path / "cache")
    too_many = scene.__class__(**{**scene.__dict__, "face_instance": np.full(len(scene.faces), 70000), "instances": []})
    with pytest.raises(InvalidArgumentError, match="65535"):
        hc.write_semantic_ply(too_many, tmp_path / "x.ply")


# -- the adapter against fake habitat-sim modules ---------------------------------------------------
@pytest.fixture
def fake(monkeypatch, tmp_path):
    import fake_habitat

    monkeypatch.setenv("NAVGYM_CACHE", str(tmp_path / "cache"))
    return fake_habitat.install(monkeypatch)


def _room():
    from navgym.testing.simulator import room_scene

    return room_scene()


def _sim(scene=None, **kwargs):
    from navgym.sims.habitat import HabitatSimulator

    return HabitatSimulator(scene if scene is not None else _room().scene, body=kwargs.pop("body", BodySpec()), **kwargs)


def test_adapter_configures_the_simulator_and_the_rig(fake):
    sim = _sim(gpu_device_id=1)
    (call,) = fake.of("Simulator")
    _, scene_id, dataset, physics, gpu, sliding = call
    assert scene_id.endswith("stage.stage_config.json") and dataset == "default" and physics is False and gpu == 1 and sliding is True
    sensors = fake.of("sensor")
    assert [s[3] for s in sensors] == ["SensorType.COLOR", "SensorType.DEPTH", "SensorType.SEMANTIC"]
    assert all(s[1] == 0 and s[5] == [128, 128] and s[6] == 90.0 and s[7] == [0.0, 0.0, 0.0] and s[8] == [0.0, 0.0, 0.0] for s in sensors)
    assert fake.sims[0].config.sim_cfg.load_semantic_mesh
    no_semantic = _sim(semantic=False)
    assert [s[3] for s in fake.of("sensor")[3:]] == ["SensorType.COLOR", "SensorType.DEPTH"]
    with pytest.raises(InvalidArgumentError, match="semantic=False"):
        no_semantic.render_agent(CameraSpec(outputs=("semantic",)))
    assert sim.scene_id == "conformance_room" and {i.category for i in sim.object_instances()} >= {"table", "wall"}


def test_render_poses_quaternions_and_sensor_pool(fake):
    sim = _sim()
    state = AgentState.from_yaw([2.0, 0.0, 2.6], 0.8, tilt=-10.0)
    specs = [
        CameraSpec(width=32, height=24, hfov=90.0, camera_height=1.0, pitch=-30.0, outputs=("rgb", "depth", "semantic")),
        CameraSpec(width=32, height=24, hfov=90.0, camera_height=0.4, roll=12.0, outputs=("depth",)),
        CameraSpec(width=16, height=16, hfov=60.0, outputs=("semantic",)),
    ]
    before = len(fake.of("set_state"))
    frames = sim.render([(state, spec) for spec in specs])
    poses = fake.of("set_state")[before:]
    assert len(poses) == 3
    for (_, agent, position, q, reset, infer), spec in zip(poses, specs):
        eye, q_wxyz = hc.camera_pose(state, spec)
        expected = quat_wxyz_from_matrix(camera_rotation(0.8, math.radians(spec.pitch - 10.0), math.radians(spec.roll)))
        assert agent == 0 and reset and infer
        assert np.allclose(position, eye, atol=1e-6) and np.allclose(q, q_wxyz) and np.allclose(q, expected)
    uuids = [s[2] for s in fake.of("sensor")[3:]]  # after the three seed sensors
    assert uuids == ["navgym_rgb_32x24_hfov90", "navgym_depth_32x24_hfov90", "navgym_semantic_32x24_hfov90", "navgym_semantic_16x16_hfov60"]
    assert [f.keys() for f in frames] == [{"rgb", "depth", "semantic"}, {"depth"}, {"semantic"}]
    assert frames[0]["rgb"].shape == (24, 32, 3) and frames[0]["depth"].shape == (24, 32, 1) and frames[2]["semantic"].shape == (16, 16)
    table = next(i.id for i in sim.object_instances() if i.category == "table")
    assert table in np.unique(frames[0]["semantic"])


def test_renders_match_the_embedded_simulator_through_the_fake(fake):
    from navgym.sims.embedded.simulator import EmbeddedSimulator

    sim = _sim()
    reference = EmbeddedSimulator(_room().scene, body=BodySpec())
    state = AgentState.from_yaw([1.2, 0.0, 2.4], -0.7, tilt=-15.0)
    spec = CameraSpec(width=40, height=30, hfov=80.0, camera_height=1.1, roll=5.0, outputs=("depth", "semantic"), max_depth=3.0)
    ours, theirs = sim.render([(state, spec)])[0], reference.render([(state, spec)])[0]
    assert (np.abs(ours["depth"] - theirs["depth"]) < 1e-3).mean() > 0.97
    assert (ours["semantic"] == theirs["semantic"]).mean() > 0.97


def test_per_body_navmeshes(fake):
    body = BodySpec(radius=0.2, height=1.4, max_climb=0.15)
    sim = _sim(body=body, navmesh_cell_size=0.04)
    calls = fake.of("recompute_navmesh")
    assert calls == [("recompute_navmesh", True, 0.2, 1.4, 0.15, 0.04, 0.2, True)]  # agent 0 into sim.pathfinder
    small = BodySpec(radius=0.08, height=1.4, max_climb=0.15)
    a1 = sim.add_agent(small)
    a2 = sim.add_agent(small)
    calls = fake.of("recompute_navmesh")
    assert len(calls) == 2 and calls[1][:3] == ("recompute_navmesh", False, 0.08)  # one more, shared by both small agents
    assert sim.pathfinder(a1) is sim.pathfinder(a2) and sim.pathfinder(a1) is not sim.pathfinder(0)
    assert sim.pathfinder(0) is fake.sims[0].pathfinder
    # A point 0.14 m from the west wall: navigable for the small body only.
    assert sim.is_navigable([0.14, 0.0, 2.0], agent_id=a1) and not sim.is_navigable([0.14, 0.0, 2.0], agent_id=0)


def test_move_agent_uses_try_step_and_habitats_collision_rule(fake):
    sim = _sim()
    sim.set_agent_state(AgentState.from_yaw([2.0, 0.0, 0.6], 0.0))
    start = sim.get_agent_state().position
    collided = sim.move_agent([0.0, 0.0, -0.5])  # into the north wall (z = 0), radius 0.18
    (_, s, e) = fake.of("try_step")[-1]
    assert np.allclose(s, start, atol=1e-6) and np.allclose(e, start + [0.0, 0.0, -0.5], atol=1e-6)
    assert collided and sim.get_agent_state().position[2] == pytest.approx(0.18, abs=0.05)
    # Diagonally into the wall: slides along x.
    sim.set_agent_state(AgentState.from_yaw([2.0, 0.0, 0.3], 0.0))
    collided = sim.move_agent([0.3, 0.0, -0.3])
    after = sim.get_agent_state().position
    assert collided and after[0] > 2.15 and after[2] == pytest.approx(0.18, abs=0.05)
    assert not sim.move_agent([0.0, 0.0, 0.5]) and sim.get_agent_state().position[2] == pytest.approx(after[2] + 0.5, abs=1e-4)
    no_slide = _sim(allow_sliding=False)
    assert fake.of("Simulator")[-1][-1] is False
    no_slide.set_agent_state(AgentState.from_yaw([2.0, 0.0, 0.3], 0.0))
    assert no_slide.move_agent([0.3, 0.0, -0.3]) and fake.of("try_step_no_sliding")
    assert no_slide.get_agent_state().position[0] < 2.15  # stopped at the wall, no slide


def test_set_agent_state_snaps_to_the_navmesh_floor(fake):
    sim = _sim()
    placed = sim.set_agent_state(AgentState.from_yaw([3.0, 0.3, 2.0], 0.5, tilt=120.0))
    assert placed.position.tolist() == pytest.approx([3.0, 0.0, 2.0], abs=1e-6) and placed.tilt == 90.0
    with pytest.raises(ValueError, match=r"0\.\d+ m away"):
        sim.set_agent_state(AgentState.from_yaw([2.0, 0.0, 1.3], 0.0))  # inside the table


def test_sampling_seeds_the_pathfinder_from_the_generator_and_uses_the_largest_island(fake):
    from navgym.testing.simulator import l_corridor_scene

    sim = _sim(l_corridor_scene().scene)
    pf = sim.pathfinder(0)
    assert pf.num_islands == 2 and pf.island_area(0) < pf.island_area(1)  # the fake numbers islands in reverse
    seeds_before = len(fake.of("seed"))
    points = [sim.sample_navigable_point(np.random.default_rng(5)) for _ in range(3)]
    assert all(np.allclose(p, points[0]) for p in points)
    assert len(fake.of("seed")) == seeds_before + 3
    rng = np.random.default_rng(1)
    assert all(sim.sample_navigable_point(rng)[0] < 5.5 for _ in range(30))  # never in the closet


def test_geodesics_and_paths_through_find_path(fake):
    from navgym.testing.simulator import l_corridor_scene

    sim = _sim(l_corridor_scene().scene)
    a, b = [0.5, 0.0, 0.5], [4.5, 0.0, 4.5]
    assert 7.0 < sim.geodesic_distance(a, [b]) < 7.6
    assert fake.of("find_path")[-1] == ("find_path", "multi", 1)
    assert sim.geodesic_distance(a, [[7.5, 0.0, 1.0]]) == math.inf
    path = sim.shortest_path(a, b)
    assert path.shape[1] == 3 and len(path) >= 3 and fake.of("find_path")[-1][1] == "single"
    assert sim.shortest_path(a, [7.5, 0.0, 1.0]).shape == (0, 3)
    two = sim.shortest_path(a, np.array([b, [4.5, 0.0, 0.5]]))
    assert np.allclose(two[-1][[0, 2]], [4.5, 0.5], atol=0.1)  # the nearer goal


def test_topdown_map_cells_are_centred_on_habitats_samples(fake):
    sim = _sim()
    top = sim.topdown_map()
    for point, value in (((3.0, 0.0, 0.6), 2), ((2.0, 0.0, 1.3), 1), ((2.0, 0.0, -0.05), 0)):
        row, col = top.world_to_cell(np.array(point))
        assert top.grid[row, col] == value, point
    # habitat's pixel (h, w) samples the bounds' corner + (w, h) pixels: that point is the centre
    # of the map's cell (pad + h, pad + w).
    lower, _ = sim.pathfinder(0).get_bounds()
    view = sim.pathfinder(0).get_topdown_view(meters_per_pixel=0.05, height=0.0)
    pad = (top.grid.shape[0] - view.shape[0]) // 2
    h, w = 17, 23
    centre = np.array(top.origin) + (np.array([pad + w, pad + h]) + 0.5) * top.cell_size
    assert np.allclose(centre, [lower[0] + w * 0.05, lower[2] + h * 0.05], atol=1e-6)
    assert top.grid[pad + h, pad + w] == (2 if view[h, w] else 1)


def test_habitat_dataset_scene_ids_and_semantic_ids(fake, tmp_path):
    """A scene habitat-sim loads itself (here registered with the fake): instances and semantic
    output come from ``semantic_scene`` / the semantic sensor, ids being habitat's semantic ids."""
    from fake_habitat import SemanticObject

    room = _room()
    mesh = tmp_path / "scene_datasets" / "hm3d" / "val" / "00800-X" / "X.basis.glb"
    mesh.parent.mkdir(parents=True)
    mesh.write_bytes(b"glTF")  # only its existence matters to the adapter
    table = next(i for i in room.scene.instances if i.category == "table")
    walls = [i.id for i in room.scene.instances if i.category == "wall"]
    ids = {table.id: 41, walls[0]: 7, walls[1]: 300}  # 300: on the mesh, not in semantic_scene
    objects = [SemanticObject("0_0_41", 41, "table", table.bbox_min, table.bbox_max), SemanticObject("0_0_7", 7, "wall", [0, 0, 0], [4, 2.5, 0.1])]
    fake.register_scene(str(mesh), room.scene, ids, objects)
    from navgym.sims.habitat import HabitatSimulator

    dataset = tmp_path / "scene_datasets" / "hm3d" / "hm3d.scene_dataset_config.json"
    dataset.write_text("{}")
    sim = HabitatSimulator("hm3d/val/00800-X/X.basis.glb", data_root=tmp_path, scene_dataset_config="hm3d/hm3d.scene_dataset_config.json")
    assert fake.of("Simulator")[-1][1:3] == (str(mesh), str(dataset.resolve()))  # found under scene_datasets/, given absolute
    assert sim.scene is None and sim.scene_id == "hm3d/val/00800-X/X.basis.glb"
    assert sorted((i.id, i.category) for i in sim.object_instances()) == [(7, "wall"), (41, "table")]
    sim.set_agent_state(AgentState.from_yaw([2.0, 0.0, 2.2], 0.0))
    frame = sim.render_agent(CameraSpec(width=65, height=65, pitch=-30.0, outputs=("semantic",)))
    assert frame["semantic"][32, 32] == 41
    assert 300 not in np.unique(frame["semantic"])
    from navgym.errors import DataNotFoundError

    with pytest.raises(DataNotFoundError, match="scene_dataset_config"):
        HabitatSimulator("hm3d/val/missing.glb", data_root=tmp_path)


def test_pickled_simulator_builds_its_own_habitat_sim(fake):
    sim = _sim()
    sim.set_agent_state(AgentState.from_yaw([2.0, 0.0, 2.5], 0.3, tilt=-10.0))
    clone = pickle.loads(pickle.dumps(sim))
    assert clone._sim is None
    spec = CameraSpec(width=24, height=20, outputs=("rgb", "depth", "semantic"))
    a, b = sim.render_agent(spec), clone.render_agent(spec)
    assert all(np.array_equal(a[k], b[k]) for k in spec.outputs)
    assert len(fake.sims) == 2 and clone._sim is fake.sims[1]
    sim.close()
    assert fake.sims[0].closed and sim._sim is None


def test_bad_options(fake):
    with pytest.raises(InvalidArgumentError, match="navmesh_cell_size"):
        _sim(navmesh_cell_size=2.0)
    with pytest.raises(InvalidArgumentError, match="BodySpec"):
        _sim(body="tall")


@pytest.mark.parametrize(
    ("option", "value"),
    [("navmesh_cell_size", "abc"), ("navmesh_cell_height", None), ("gpu_device_id", "cuda:1"), ("gpu_device_id", -1), ("random_seed", "x"),
     ("random_seed", 1.5)],
)
def test_bad_numbers_name_the_option(fake, option, value):
    """Not a bare ``could not convert string to float``: the option and its value are named."""
    with pytest.raises(InvalidArgumentError, match=rf"{option}={value!r}".replace("(", r"\(").replace(")", r"\)")):
        _sim(**{option: value})


def test_a_missing_scene_dataset_config_is_named(fake, tmp_path):
    """habitat-sim makes an empty dataset of a missing config's name and loads the scene without
    its semantics; navgym stops with the path instead."""
    from navgym.errors import DataNotFoundError

    with pytest.raises(DataNotFoundError, match=r"scene_dataset_config='hm3d/typo\.scene_dataset_config\.json' does not exist"):
        _sim(scene_dataset_config="hm3d/typo.scene_dataset_config.json", data_root=tmp_path)
    with pytest.raises(InvalidArgumentError, match="scene_dataset_config"):
        _sim(scene_dataset_config="")


def test_gym_make_with_the_fake(fake):
    env = gym.make("PointNav-ProcHouseSmall-v0", sim="habitat", num_scenes=1, episodes_per_scene=1, resolution=32)
    obs, info = env.reset(seed=0)
    assert env.unwrapped.sim.__class__.__name__ == "HabitatSimulator"
    for action in (1, 2, 1):
        obs, reward, terminated, truncated, info = env.step(action)
    assert "distance_to_goal" in info and fake.of("try_step")
    env.close()


def test_conformance_kit_runs_through_the_adapter(fake, tmp_path):
    """navgym.testing.check_simulator, as a user with habitat-sim runs it, here with the fakes:
    every check of the kit passes through the adapter's mapping."""
    from navgym.sims.habitat import HabitatSimulator
    from navgym.testing import check_simulator

    report = check_simulator(lambda scene, body: HabitatSimulator(scene, body=body, stage_cache=tmp_path / "stages"))
    assert report.passed


def test_conformance_kit_on_real_habitat_sim(tmp_path):
    """The kit against the real habitat-sim (needs a conda habitat-sim and a GPU; skipped where
    ``habitat_sim`` is not importable, as on navgym's machines)."""
    if importlib.machinery.PathFinder.find_spec("habitat_sim") is None:  # on sys.path, not a fake
        pytest.skip("habitat-sim is not installed (docs/simulator.md, habitat-sim backend)")
    pytest.importorskip("habitat_sim")
    from navgym.sims.habitat import HabitatSimulator
    from navgym.testing import check_simulator

    report = check_simulator(lambda scene, body: HabitatSimulator(scene, body=body, stage_cache=tmp_path / "stages"))
    print(report)
    assert report.passed
