"""Tests of the Isaac Sim backend (``navgym/sims/isaac``) without Isaac Sim.

Isaac Sim needs an RTX GPU that navgym's machines and CI do not have. These tests check:

* that ``import navgym`` imports no Isaac module and ``sim="isaac"`` without Isaac raises
  ``DependencyNotInstalled`` naming what to install;
* the pure mapping logic: frames (navgym's y-up to Isaac's z-up, both quaternion orders), camera
  poses and intrinsics from a ``CameraSpec``, command mapping per robot, the USD layer writer;
* the adapter against **fake** ``isaaclab`` / ``isaacsim`` / ``omni`` / ``pxr`` modules
  (``tests/sims/fake_isaac.py``) that record calls and stand in for rendering and physics.

**The fakes test navgym's adapter logic only.** Passing here says the adapter sends Isaac Lab's
documented API the poses, intrinsics, commands and prim paths it means to, and maps the answers
back; it says nothing about what real Isaac Sim does with them (docs/isaac.md).
"""

from __future__ import annotations

import math
import pickle
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

from navgym.core.geometry import camera_rotation, heading_vector
from navgym.core.specs import AgentState, BodySpec, CameraSpec
from navgym.errors import InvalidArgumentError, UnknownNameError
from navgym.sims.isaac import frames, robots
from navgym.sims.isaac.runtime import depth_to_navgym, detect_quat_order, instance_lut_map, missing_modules
from navgym.sims.isaac.usd import _fan_triangulate, instance_id_of_path, write_usda

ISAAC_PREFIXES = ("isaaclab", "isaacsim", "omni", "pxr", "carb")


# -- imports and the missing-dependency error ------------------------------------------------------
def test_importing_navgym_imports_no_isaac_module():
    code = (
        "import sys, navgym, navgym.envs\n"
        "from navgym.sims import SIMULATORS\n"
        "SIMULATORS.get('isaac')\n"
        "import navgym.sims.isaac.runtime, navgym.sims.isaac.usd\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {ISAAC_PREFIXES!r}]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def _hide_isaac(monkeypatch):
    for name in list(sys.modules):
        if name.split(".")[0] in ISAAC_PREFIXES:
            monkeypatch.delitem(sys.modules, name)
    real_find_spec = __import__("importlib.util").util.find_spec
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None if name.split(".")[0] in ISAAC_PREFIXES else real_find_spec(name, *a))


def test_sim_isaac_without_isaac_raises_dependency_not_installed(monkeypatch):
    _hide_isaac(monkeypatch)
    assert missing_modules() == ["isaacsim", "isaaclab"]
    with pytest.raises(gym.error.DependencyNotInstalled) as info:
        gym.make("ObjectNav-ProcHouse-v0", sim="isaac", num_scenes=1, episodes_per_scene=1)
    message = str(info.value)
    assert "isaacsim" in message and "isaaclab" in message
    assert "pip install" in message and "isaaclab[isaacsim,all]==2.3.2" in message and "docs/isaac.md" in message
    assert "sim='embedded'" in message
    from navgym.sims.isaac.simulator import IsaacSimulator

    with pytest.raises(gym.error.DependencyNotInstalled):
        IsaacSimulator("prochouse/1000000")


def test_a_backend_registered_with_preset_options_still_fails_at_make_time(monkeypatch):
    """docs/isaac.md registers ``functools.partial(IsaacSimulator, motion="velocity")``: gym.make
    must still say what is missing, not defer the error to the first reset."""
    import functools

    from navgym.sims import SIMULATORS
    from navgym.sims.isaac.simulator import IsaacSimulator

    _hide_isaac(monkeypatch)
    monkeypatch.setattr(SIMULATORS, "_entries", dict(SIMULATORS._entries))  # the registration ends with the test
    SIMULATORS.register("isaac-preset-test", functools.partial(functools.partial(IsaacSimulator, motion="velocity"), show_robots=True))
    with pytest.raises(gym.error.DependencyNotInstalled, match="isaaclab"):
        gym.make("ObjectNav-ProcHouse-v0", sim="isaac-preset-test", num_scenes=1, episodes_per_scene=1)


# -- frames --------------------------------------------------------------------------------------
def test_nav_to_isaac_is_a_proper_rotation_taking_y_up_to_z_up():
    m = frames.NAV_TO_ISAAC
    assert np.allclose(m @ m.T, np.eye(3)) and math.isclose(np.linalg.det(m), 1.0)
    assert np.allclose(m @ [0, 1, 0], [0, 0, 1])  # up stays up
    assert np.allclose(m @ [0, 0, -1], [0, 1, 0])  # navgym's yaw-0 forward is Isaac +Y
    rng = np.random.default_rng(0)
    points = rng.normal(size=(20, 3))
    origin = (500.0, -3.0, 0.25)
    back = frames.from_isaac_points(frames.to_isaac_points(points, origin), origin)
    assert np.allclose(back, points)
    assert np.allclose(frames.to_isaac_points([1.0, 2.0, 3.0]), [1.0, -3.0, 2.0])


@pytest.mark.parametrize("yaw", [0.0, 0.7, -2.0, math.pi / 2, 3.0])
def test_robot_heading_matches_navgym_heading(yaw):
    # A robot's base looks along its +X; after the root rotation it must look where navgym's
    # heading vector points (mapped into the Isaac frame).
    _, q = frames.robot_root_pose(AgentState.from_yaw([0, 0, 0], yaw), 0.0, (0, 0, 0), "wxyz")
    forward_isaac = frames.matrix_from_quat_wxyz(q) @ [1.0, 0.0, 0.0]
    assert np.allclose(forward_isaac, frames.NAV_TO_ISAAC @ heading_vector(yaw), atol=1e-12)


@pytest.mark.parametrize("order", ["wxyz", "xyzw"])
def test_robot_root_pose_round_trip(order):
    state = AgentState.from_yaw([1.5, 0.3, -2.25], 1.1, tilt=-5.0)
    origin = (500.0, 0.0, 0.0)
    position, quat = frames.robot_root_pose(state, 1.05, origin, order)
    assert np.allclose(position, [501.5, 2.25, 0.3 + 1.05])
    if order == "xyzw":
        assert quat[0] == 0.0 and quat[1] == 0.0  # (x, y, z, w) of a rotation about z
    back = frames.state_from_robot_root(position, quat, origin, order, floor_y=0.3, tilt=-5.0)
    assert np.allclose(back.position, state.position)
    assert math.isclose(back.yaw, state.yaw, abs_tol=1e-9) and back.tilt == -5.0


def test_quaternion_matrix_round_trip_and_orders():
    rng = np.random.default_rng(1)
    for _ in range(50):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        q = q if q[0] >= 0 else -q
        assert np.allclose(frames.quat_wxyz_from_matrix(frames.matrix_from_quat_wxyz(q)), q, atol=1e-9)
        assert np.allclose(frames.from_isaac_quat(frames.to_isaac_quat(q, "xyzw"), "xyzw"), q)
    assert np.allclose(frames.to_isaac_quat([1.0, 0.1, 0.2, 0.3], "xyzw"), [0.1, 0.2, 0.3, 1.0])
    with pytest.raises(ValueError):
        frames.to_isaac_quat([1, 0, 0, 0], "zyxw")  # type: ignore[arg-type]


def test_quat_order_follows_isaaclab_major_version(monkeypatch):
    import types

    monkeypatch.setitem(sys.modules, "isaaclab", types.SimpleNamespace(__version__="2.3.2"))
    assert detect_quat_order() == "wxyz"
    monkeypatch.setitem(sys.modules, "isaaclab", types.SimpleNamespace(__version__="3.0.0"))
    assert detect_quat_order() == "xyzw"


@pytest.mark.parametrize(("yaw", "pitch", "roll", "tilt"), [(0.0, 0.0, 0.0, 0.0), (0.8, -30.0, 0.0, 10.0), (-2.5, 12.0, 7.0, -20.0)])
def test_camera_pose_sees_what_navgym_sees(yaw, pitch, roll, tilt):
    """Project navgym's own pixel rays, expressed in the Isaac frame, through the Isaac camera
    (pose in the OpenGL convention, intrinsics K): every pixel must land on itself."""
    from navgym.sims.embedded.raycast import pixel_directions

    spec = CameraSpec(width=40, height=30, hfov=75.0, camera_height=0.9, pitch=pitch, roll=roll)
    state = AgentState.from_yaw([2.0, 0.1, -1.0], yaw, tilt=tilt)
    origin = (500.0, 0.0, 0.0)
    position, quat = frames.camera_pose(state, spec, origin, "wxyz")
    rot = frames.matrix_from_quat_wxyz(quat)
    k = frames.intrinsic_matrix(spec)
    eye = state.position + [0.0, spec.camera_height, 0.0]
    r_nav = camera_rotation(state.yaw, math.radians(np.clip(pitch + tilt, -90, 90)), math.radians(roll))
    local = pixel_directions(spec.width, spec.height, spec.hfov).reshape(-1, 3)
    points_nav = eye + 3.0 * (local @ r_nav.T)
    points_isaac = frames.to_isaac_points(points_nav, origin)
    cam = (points_isaac - position) @ rot  # world -> camera (OpenGL: looks along -z, y up)
    u = k[0, 0] * cam[:, 0] / -cam[:, 2] + k[0, 2]
    v = k[1, 2] - k[1, 1] * cam[:, 1] / -cam[:, 2]
    cols, rows = np.meshgrid(np.arange(spec.width) + 0.5, np.arange(spec.height) + 0.5)
    assert np.allclose(u, cols.ravel(), atol=1e-6) and np.allclose(v, rows.ravel(), atol=1e-6)


def test_intrinsics_and_usd_apertures_agree():
    spec = CameraSpec(width=128, height=72, hfov=87.0)
    k = frames.intrinsic_matrix(spec)
    params = frames.usd_camera_parameters(spec)
    # Isaac Lab's rule: f_x = width * focal_length / horizontal_aperture, square pixels.
    assert math.isclose(k[0, 0], spec.width * params["focal_length"] / params["horizontal_aperture"])
    assert math.isclose(k[0, 0], k[1, 1]) and (k[0, 2], k[1, 2]) == (64.0, 36.0)
    assert math.isclose(params["vertical_aperture"] / params["horizontal_aperture"], 72 / 128)
    assert math.isclose(2 * math.degrees(math.atan(params["horizontal_aperture"] / (2 * params["focal_length"]))), 87.0)


def test_body_frame_displacement():
    yaw = 0.6
    forward, left = 0.3, -0.1
    d = forward * heading_vector(yaw) + left * heading_vector(yaw + math.pi / 2)
    assert np.allclose(frames.body_frame_displacement(d, yaw), (forward, left))


# -- robots and command mapping ------------------------------------------------------------------
def test_robot_for_navgym_bodies_and_names():
    from navgym.embodiments import AliengoAgent, H1Agent, JetbotAgent

    assert robots.resolve_robot("auto", JetbotAgent().body).name == "jetbot"
    assert robots.resolve_robot("auto", H1Agent().body).name == "h1"
    assert robots.resolve_robot("auto", AliengoAgent().body).name == "go2"
    assert robots.resolve_robot("auto", BodySpec()).name == "h1"  # 1.5 m tall by default
    assert robots.resolve_robot("auto", BodySpec(radius=0.2, height=0.7)).name == "go2"
    assert robots.resolve_robot("aliengo", BodySpec()).name == "go2"
    assert robots.resolve_robot(None, BodySpec()) is None and robots.resolve_robot("none", BodySpec()) is None
    with pytest.raises(UnknownNameError, match="Did you mean 'jetbot'"):
        robots.resolve_robot("jetbott", BodySpec())
    assert robots.H1.asset == "isaaclab_assets.robots.unitree:H1_CFG"
    assert robots.GO2.asset.endswith("UNITREE_GO2_CFG") and robots.GO2.stands_in_for == "aliengo"
    assert (robots.JETBOT.wheel_radius, robots.JETBOT.wheel_base) == (0.03, 0.1125)


def test_jetbot_wheel_speeds_and_limit():
    left, right = robots.wheel_speeds(robots.JETBOT, 0.2, 1.0)
    assert math.isclose(left, (0.4 - 0.1125) / 0.06) and math.isclose(right, (0.4 + 0.1125) / 0.06)
    fast = robots.wheel_speeds(robots.JETBOT, 0.3, 5.0)  # needs > 10 rad/s: scaled as a whole
    assert math.isclose(np.max(np.abs(fast)), 10.0)
    raw = np.array([(0.6 - 5.0 * 0.1125) / 0.06, (0.6 + 5.0 * 0.1125) / 0.06])
    assert np.allclose(fast / np.linalg.norm(fast), raw / np.linalg.norm(raw))
    v = robots.body_velocity_within_wheel_limit(robots.JETBOT, np.array([0.3, 0.0, 5.0]))
    assert math.isclose(v[2] / v[0], 5.0 / 0.3)  # curvature kept
    with pytest.raises(InvalidArgumentError):
        robots.wheel_speeds(robots.H1, 0.1, 0.0)


def test_translation_commands_per_robot():
    # Go2: omnidirectional; a fast motion is slowed (longer), never cut.
    cmd, duration = robots.translation_command(robots.GO2, 0.1, 0.05, 0.05)
    assert np.allclose(cmd, [1.0, 0.5, 0.0]) and math.isclose(duration, 0.1)
    cmd, duration = robots.translation_command(robots.GO2, -0.02, 0.0, 0.05)
    assert np.allclose(cmd, [-0.4, 0.0, 0.0]) and math.isclose(duration, 0.05)
    # H1: no lateral and no backward command (Isaac Lab's H1 ranges): those parts are dropped.
    cmd, _ = robots.translation_command(robots.H1, 0.05, 0.05, 0.05)
    assert np.allclose(cmd, [1.0, 0.0, 0.0])
    cmd, _ = robots.translation_command(robots.H1, -0.05, 0.0, 0.05)
    assert np.allclose(cmd, 0.0)
    # Jetbot: forward/backward only, at most 0.3 m/s.
    cmd, duration = robots.translation_command(robots.JETBOT, 0.03, 0.01, 0.05)
    assert np.allclose(cmd, [0.3, 0.0, 0.0]) and math.isclose(duration, 0.1)
    cmd, duration = robots.rotation_command(robots.H1, -0.2, 0.05)
    assert np.allclose(cmd, [0.0, 0.0, -1.0]) and math.isclose(duration, 0.2)
    cmd, duration = robots.rotation_command(robots.JETBOT, 0.1, 0.05)
    assert np.allclose(cmd, [0.0, 0.0, 2.0]) and math.isclose(duration, 0.05)
    with pytest.raises(InvalidArgumentError):
        robots.clip_command(robots.GO2, [np.nan, 0.0, 0.0])


def test_locomotion_observation_layout_and_targets():
    obs = robots.locomotion_observation([1, 2, 3], [4, 5, 6], [0, 0, -1], [0.5, 0, 0.2], [0.1, 0.2], [0.3, 0.4], [0.5, 0.6])
    assert obs.dtype == np.float32 and obs.shape == (18,)
    assert np.allclose(obs[9:12], [0.5, 0, 0.2]) and np.allclose(obs[12:], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert np.allclose(robots.joint_position_targets([0.1, -0.1], [1.0, 2.0], 0.25), [0.35, 0.4])


# -- USD layer -----------------------------------------------------------------------------------
def _small_scene():
    from navgym.testing.simulator import room_scene

    return room_scene().scene


def test_usda_layer_is_z_up_with_labels_and_colliders(tmp_path):
    scene = _small_scene()
    path = write_usda(scene, tmp_path / "room.usda")
    text = path.read_text()
    assert text.startswith("#usda 1.0") and 'upAxis = "Z"' in text and "metersPerUnit = 1" in text
    table = next(inst for inst in scene.instances if inst.category == "table")
    assert f'def Mesh "inst_{table.id}_m' in text
    assert 'token[] semantics:labels:class = ["table"]' in text and f"int navgym:instanceId = {table.id}" in text
    assert '"PhysicsCollisionAPI"' in text and 'physics:approximation = "none"' in text
    assert '"SemanticsLabelsAPI:class"' in text
    from fake_isaac import parse_usda_meshes

    triangles, names = parse_usda_meshes(str(path))
    assert len(triangles) == len(scene.faces)
    # Same triangles, rotated into z-up: compare the sets of rotated vertices.
    expected = np.sort(np.round(frames.to_isaac_points(scene.vertices[scene.faces].reshape(-1, 3)), 4), axis=0)
    assert np.allclose(np.sort(np.round(triangles.reshape(-1, 3), 4), axis=0), expected, atol=2e-4)
    assert instance_id_of_path(f"/World/navgym/Scene_0/Geometry/{names[0]}") is not None
    with pytest.raises(ValueError):
        write_usda(scene, tmp_path / "room.usd")


def test_usda_round_trip_through_pxr(tmp_path):
    pytest.importorskip("pxr.Usd", reason="usd-core is not installed (optional; Isaac Sim ships pxr)")
    from navgym.sims.isaac.usd import scene_from_usd

    scene = _small_scene()
    path = write_usda(scene, tmp_path / "room.usda")
    back = scene_from_usd(path)
    assert len(back.faces) == len(scene.faces)
    assert {(i.id, i.category) for i in back.instances} == {(i.id, i.category) for i in scene.instances}
    lo, hi = back.bounds
    lo0, hi0 = scene.bounds
    assert np.allclose(lo, lo0, atol=1e-4) and np.allclose(hi, hi0, atol=1e-4)


def test_fan_triangulation():
    tris = _fan_triangulate(np.array([4, 3, 2]), np.array([0, 1, 2, 3, 4, 5, 6, 7, 8]))
    assert tris.tolist() == [[0, 1, 2], [0, 2, 3], [4, 5, 6]]


# -- output conversions --------------------------------------------------------------------------
def test_instance_ids_map_through_prim_paths_of_this_scene_only():
    seg = np.array([[0, 1, 7], [9, 12, 7]], dtype=np.int32)[..., None]
    labels = {
        "0": "BACKGROUND",
        "1": "UNLABELLED",
        "7": "/World/navgym/Scene_0/Geometry/inst_5_m2",
        "9": "/World/navgym/Scene_1/Geometry/inst_6_m0",  # another simulator's scene
        "12": "/World/navgym/Robots/sim0_agent0/base",  # a robot
    }
    out = instance_lut_map(seg, labels, "/World/navgym/Scene_0")
    assert out.dtype == np.int32 and out.tolist() == [[0, 0, 5], [0, 0, 5]]
    assert instance_lut_map(seg, None, "/World/navgym/Scene_0").max() == 0


def test_depth_conversion_follows_navgym_rules():
    depth = np.array([[0.05, 2.0], [np.inf, np.nan]], dtype=np.float32)
    out = depth_to_navgym(depth, 0.1, 5.0)
    assert out.shape == (2, 2, 1) and out.dtype == np.float32
    assert out[..., 0].tolist() == [[pytest.approx(0.1), 2.0], [5.0, 5.0]]


# -- the adapter against fake Isaac modules ------------------------------------------------------
@pytest.fixture
def fake_isaac(monkeypatch, tmp_path):
    pytest.importorskip("torch")
    import fake_isaac

    monkeypatch.setenv("NAVGYM_CACHE", str(tmp_path / "cache"))
    return fake_isaac.install(monkeypatch)


def _room_sim(**kwargs):
    from navgym.sims.isaac.simulator import IsaacSimulator

    kwargs.setdefault("device", "cpu")  # the fakes hold torch tensors on the CPU
    return IsaacSimulator(_small_scene(), body=kwargs.pop("body", BodySpec()), **kwargs)


def test_adapter_launches_headless_with_cameras_and_references_the_scene(fake_isaac):
    sim = _room_sim()
    world = fake_isaac
    assert world.launches == [{"headless": True, "enable_cameras": True, "device": "cpu"}]
    spawns = [c for c in world.calls if c[0] == "spawn"]
    assert ("spawn", "dome_light", "/World/navgym/Light", None) in spawns
    assert ("spawn", "usd", "/World/navgym/Scene_0", (0.0, 0.0, 0.0)) in spawns
    assert "/World/navgym/Scene_0" in world.scenes
    robot = world.articulations[0]
    assert robot.cfg.prim_path == "/World/navgym/Robots/sim0_agent0" and "h1" in robot.cfg.spawn.usd_path.lower()
    assert sim.robot(0).name == "h1"
    # A second simulator of another layer goes 500 m away; one of the same layer shares it.
    other = _room_sim(body=BodySpec(radius=0.1, height=0.2, max_climb=0.02))
    assert other._client.scene is sim._client.scene
    assert world.articulations[1].cfg.prim_path == "/World/navgym/Robots/sim1_agent0"
    assert "jetbot" in world.articulations[1].cfg.spawn.usd_path.lower() and world.articulations[1].cfg.spawn.usd_path.startswith("omniverse://fake/Isaac/")
    from navgym.sims.isaac.simulator import IsaacSimulator
    from navgym.testing.simulator import l_corridor_scene

    third = IsaacSimulator(l_corridor_scene().scene, body=BodySpec(), device="cpu")
    assert third._client.scene.root == "/World/navgym/Scene_1" and np.allclose(third._client.scene.origin, [500.0, 0.0, 0.0])
    third.close()
    assert "/World/navgym/Scene_1" in world.removed and "/World/navgym/Robots/sim2_agent0" in world.removed


def test_adapter_reuses_an_app_the_script_launched(fake_isaac):
    from fake_isaac import AppLauncher

    AppLauncher(headless=False, enable_cameras=True)  # the user's script
    _room_sim()
    assert len(fake_isaac.launches) == 1 and fake_isaac.launches[0]["headless"] is False


def test_adapter_writes_robot_root_poses(fake_isaac):
    sim = _room_sim()
    robot = fake_isaac.articulations[0]
    state = sim.set_agent_state(AgentState.from_yaw([2.0, 0.0, 2.5], 0.4))
    pose = [w for w in robot.writes if w[0] == "root_pose"][-1][1]
    position, quat = frames.robot_root_pose(state, 1.05, (0, 0, 0), "wxyz")
    assert np.allclose(pose[:3], position, atol=1e-5) and np.allclose(pose[3:], quat, atol=1e-6)
    assert [w[0] for w in robot.writes[-3:]] == ["root_pose", "root_velocity", "joint_state"]
    collided = sim.move_agent(0.5 * heading_vector(0.4))
    assert not collided
    pose = [w for w in robot.writes if w[0] == "root_pose"][-1][1]
    assert np.allclose(frames.from_isaac_points(pose[:3] - [0, 0, 1.05]), sim.get_agent_state().position, atol=1e-5)
    sim.turn_agent(math.pi / 2)
    pose = [w for w in robot.writes if w[0] == "root_pose"][-1][1]
    assert math.isclose(frames.heading_of_quat_wxyz(pose[3:]), frames.isaac_yaw(0.4 + math.pi / 2), abs_tol=1e-5)


def test_adapter_quaternion_order_for_isaaclab_3(monkeypatch, tmp_path):
    pytest.importorskip("torch")
    import fake_isaac

    monkeypatch.setenv("NAVGYM_CACHE", str(tmp_path / "cache"))
    world = fake_isaac.install(monkeypatch, isaaclab_version="3.0.0")
    sim = _room_sim()
    state = sim.set_agent_state(AgentState.from_yaw([2.0, 0.0, 2.5], 1.0))
    pose = [w for w in world.articulations[0].writes if w[0] == "root_pose"][-1][1]
    _, q_wxyz = frames.robot_root_pose(state, 1.05, (0, 0, 0), "wxyz")
    assert np.allclose(pose[3:], q_wxyz[[1, 2, 3, 0]], atol=1e-6)


def test_adapter_render_sets_intrinsics_poses_and_maps_ids(fake_isaac):
    sim = _room_sim()
    table = next(inst for inst in sim.object_instances() if inst.category == "table")
    state = sim.set_agent_state(AgentState.from_yaw([2.0, 0.0, 2.6], 0.0))
    specs = [
        CameraSpec(width=32, height=24, hfov=90.0, camera_height=1.0, pitch=-30.0, outputs=("rgb", "depth", "semantic")),
        CameraSpec(width=32, height=24, hfov=60.0, camera_height=1.2, outputs=("rgb", "depth", "semantic"), max_depth=3.0),
        CameraSpec(width=16, height=16, hfov=90.0, outputs=("depth",)),
    ]
    frames_out = sim.render([(state, spec) for spec in specs])
    assert [f.keys() for f in frames_out][2] == {"depth"}
    assert frames_out[0]["rgb"].shape == (24, 32, 3) and frames_out[0]["rgb"].dtype == np.uint8
    assert frames_out[0]["depth"].shape == (24, 32, 1) and frames_out[0]["semantic"].dtype == np.int32
    assert table.id in np.unique(frames_out[0]["semantic"])  # looking down at the table
    assert frames_out[1]["depth"].max() <= 3.0
    cams = fake_isaac.cameras
    assert len(cams) == 3  # a pool of two 32x24 cameras and one 16x16
    assert tuple(cams[0].cfg.data_types) == ("rgb", "distance_to_image_plane", "instance_segmentation_fast")
    assert cams[0].cfg.colorize_instance_segmentation is False and cams[0].cfg.depth_clipping_behavior == "max"
    assert tuple(cams[2].cfg.data_types) == ("distance_to_image_plane",)
    k, focal, env_ids = cams[1].intrinsics_calls[-1]
    assert np.allclose(k[0], frames.intrinsic_matrix(specs[1]), atol=1e-4) and focal == frames.DEFAULT_FOCAL_LENGTH and env_ids == [0]
    p, q, env_ids, convention = cams[0].pose_calls[-1]
    position, quat = frames.camera_pose(state, specs[0], (0, 0, 0), "wxyz")
    assert np.allclose(p[0], position, atol=1e-5) and np.allclose(q[0], quat, atol=1e-6) and convention == "opengl"
    # Robots are hidden from renders by default; the scene is shown.
    assert fake_isaac.visible["/World/navgym/Robots/sim0_agent0"] is False and fake_isaac.visible["/World/navgym/Scene_0"] is True
    assert fake_isaac.resets >= 1 and fake_isaac.renders >= 1


def test_adapter_matches_the_embedded_simulator_through_the_fake_renderer(fake_isaac):
    from navgym.sims.embedded.simulator import EmbeddedSimulator

    sim = _room_sim()
    reference = EmbeddedSimulator(_small_scene(), body=BodySpec())
    state = AgentState.from_yaw([1.2, 0.0, 2.4], -0.7, tilt=-15.0)
    spec = CameraSpec(width=40, height=30, hfov=80.0, camera_height=1.1, roll=5.0, outputs=("depth", "semantic"))
    ours, theirs = sim.render([(state, spec)])[0], reference.render([(state, spec)])[0]
    close = np.abs(ours["depth"] - theirs["depth"]) < 1e-3
    assert close.mean() > 0.97  # edges may differ by a pixel
    assert (ours["semantic"] == theirs["semantic"]).mean() > 0.97


def test_conformance_kit_runs_through_the_adapter(fake_isaac, tmp_path):
    """navgym.testing.check_simulator, as a user with Isaac runs it (docs/isaac.md), here with
    the fake renderer: every check of the kit passes through the adapter's mapping."""
    from navgym.sims.isaac.simulator import IsaacSimulator
    from navgym.testing import check_simulator

    report = check_simulator(lambda scene, body: IsaacSimulator(scene, body=body, usd_cache=tmp_path / "usd", device="cpu"))
    assert report.passed


def test_velocity_mode_drives_the_jetbot_wheels(fake_isaac):
    from navgym.embodiments import JetbotAgent

    sim = _room_sim(body=JetbotAgent().body, motion="velocity", control_dt=0.1, settle_time=0.05)
    robot = fake_isaac.articulations[0]
    controller = fake_isaac.controllers[0]
    assert (controller.wheel_radius, controller.wheel_base) == (0.03, 0.1125)
    start = sim.set_agent_state(AgentState.from_yaw([1.0, 0.0, 2.0], -math.pi / 2))  # facing +x
    collided = sim.move_agent(0.03 * heading_vector(-math.pi / 2))
    assert controller.commands[0] == pytest.approx([0.3, 0.0])  # 0.03 m at 0.3 m/s over 0.1 s
    ids = robot.velocity_targets[0][1]
    assert ids == [0, 1] and np.allclose(robot.velocity_targets[0][0], [10.0, 10.0])
    assert controller.commands[-1] == pytest.approx([0.0, 0.0])  # then stopped
    after = sim.get_agent_state()
    assert not collided and math.isclose(after.position[0] - start.position[0], 0.03, abs_tol=2e-3)
    sim.turn_agent(0.5)
    assert controller.commands[-2] == pytest.approx([0.0, 5.0])
    assert math.isclose(sim.get_agent_state().yaw, -math.pi / 2 + 0.5, abs_tol=0.02)
    # Lateral motion: the Jetbot cannot; the backend says it collided.
    assert sim.move_agent(0.05 * heading_vector(sim.get_agent_state().yaw + math.pi / 2))
    # A combined command: clipped to the wheel bound with its curvature kept.
    before = sim.get_agent_state()
    after = sim.drive_agent([0.3, 0.5, 5.0], 0.2)
    v, _, w = robots.body_velocity_within_wheel_limit(robots.JETBOT, np.array([0.3, 0.0, 5.0]))
    assert controller.commands[-2] == pytest.approx([v, w])
    assert math.isclose(after.yaw - before.yaw, w * 0.2, abs_tol=0.02)
    with pytest.raises(InvalidArgumentError):
        sim.drive_agent([0.1, 0.0, 0.0], -1.0)


def test_velocity_mode_runs_the_legged_policy(fake_isaac):
    from navgym.embodiments import AliengoAgent
    from navgym.sims.isaac.simulator import IsaacSimulator

    with pytest.raises(InvalidArgumentError, match="Isaac-Velocity-Flat-Unitree-Go2-v0"):
        IsaacSimulator(_small_scene(), body=AliengoAgent().body, motion="velocity", device="cpu")
    observations = []

    def policy(obs):
        observations.append(obs)
        robot = next(a for a in fake_isaac.articulations if "go2" in a.cfg.spawn.usd_path.lower())
        robot.body_velocity = obs[9:12].astype(float)  # a perfect velocity tracker
        return np.ones(12) * 0.4

    sim = IsaacSimulator(_small_scene(), body=AliengoAgent().body, motion="velocity", locomotion_policy={"aliengo": policy}, control_dt=0.04, device="cpu")
    robot = next(a for a in fake_isaac.articulations if "go2" in a.cfg.spawn.usd_path.lower())
    sim.set_agent_state(AgentState.from_yaw([2.0, 0.0, 2.5], 0.0))
    collided = sim.move_agent(0.02 * heading_vector(math.pi / 2))  # sideways: the quadruped can
    obs = observations[0]
    assert obs.shape == (3 + 3 + 3 + 3 + 12 * 3,)
    assert np.allclose(obs[9:12], [0.0, 0.5, 0.0])  # 2 cm left in 0.04 s: two 50 Hz policy steps
    assert np.allclose(obs[6:9], [0.0, 0.0, -1.0])
    assert np.allclose(obs[12:24], 0.01) and np.allclose(obs[24:36], 0.02)
    assert np.allclose(robot.position_targets[0], robot.default + 0.25 * 0.4)  # Go2 action scale
    assert np.allclose(obs[36:], 0.0) and np.allclose(observations[1][36:], 0.4)  # last action
    assert not collided
    assert math.isclose(sim.get_agent_state().position[0], 2.0 - 0.02, abs_tol=2e-3)


def test_simulator_pickles_without_isaac_objects(fake_isaac):
    sim = _room_sim()
    sim.set_agent_state(AgentState.from_yaw([2.0, 0.0, 2.5], 0.3))
    clone = pickle.loads(pickle.dumps(sim))
    spec = CameraSpec(width=24, height=20, outputs=("depth", "semantic"))
    a, b = sim.render_agent(spec), clone.render_agent(spec)
    assert np.array_equal(a["depth"], b["depth"]) and np.array_equal(a["semantic"], b["semantic"])
    assert clone._client.scene is sim._client.scene and clone._client.id != sim._client.id


def test_adapter_rejects_bad_options(fake_isaac):
    with pytest.raises(InvalidArgumentError, match="motion"):
        _room_sim(motion="teleport")
    with pytest.raises(InvalidArgumentError, match="unknown options"):
        _room_sim(headles=True)
    with pytest.raises(InvalidArgumentError, match="needs a robot"):
        _room_sim(robot=None, motion="velocity")


def test_docs_snippets_reach_the_dependency_error(tmp_path):
    """docs/isaac.md's usage snippets run as written, up to the missing Isaac install: each in a
    fresh interpreter, as a user runs them (in the suite, simulators and registrations made by
    the fake-Isaac tests above would linger in this process)."""
    import os
    import re
    import subprocess
    from pathlib import Path

    import importlib.machinery

    if importlib.machinery.PathFinder.find_spec("isaaclab") is not None:  # on sys.path, not the fakes
        pytest.skip("Isaac is installed here: the snippets would start it")
    text = (Path(__file__).resolve().parents[2] / "docs" / "isaac.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    usage = [b for b in blocks if "gym.make" in b]
    assert len(usage) == 2 and any("check_simulator" in b for b in blocks)
    for i, block in enumerate(usage):
        script = tmp_path / f"snippet{i}.py"
        script.write_text(block)
        result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path,
                                env={**os.environ, "OMP_NUM_THREADS": "1"})
        assert result.returncode != 0, result.stdout
        assert "DependencyNotInstalled" in result.stderr and "isaaclab" in result.stderr, result.stderr[-2000:]


def test_isaaclab_3_proxy_arrays_and_xyzw_end_to_end(monkeypatch, tmp_path):
    """Isaac Lab 3.x: data fields are ProxyArrays (``.torch``, no ``.clone()``, numpy cannot read
    one on the GPU) and every quaternion is (x, y, z, w), also the camera orientations and the
    root pose read back. Rendering and velocity driving must give what they give on 2.3."""
    pytest.importorskip("torch")
    import fake_isaac

    from navgym.embodiments import JetbotAgent
    from navgym.sims.embedded.simulator import EmbeddedSimulator

    monkeypatch.setenv("NAVGYM_CACHE", str(tmp_path / "cache"))
    fake_isaac.install(monkeypatch, isaaclab_version="3.0.0")
    sim = _room_sim(body=JetbotAgent().body, motion="velocity", control_dt=0.1, settle_time=0.05)
    from navgym.sims.isaac.runtime import IsaacRuntime

    assert IsaacRuntime.get().quat_order == "xyzw"
    reference = EmbeddedSimulator(_small_scene(), body=JetbotAgent().body)
    state = AgentState.from_yaw([1.2, 0.0, 2.4], -0.7, tilt=-15.0)
    spec = CameraSpec(width=40, height=30, hfov=80.0, camera_height=1.1, roll=5.0, outputs=("rgb", "depth", "semantic"))
    ours, theirs = sim.render([(state, spec)])[0], reference.render([(state, spec)])[0]
    assert ours["rgb"].shape == (30, 40, 3) and ours["rgb"].dtype == np.uint8
    assert (np.abs(ours["depth"] - theirs["depth"]) < 1e-3).mean() > 0.97
    assert (ours["semantic"] == theirs["semantic"]).mean() > 0.97

    start = sim.set_agent_state(AgentState.from_yaw([1.0, 0.0, 2.0], -math.pi / 2))  # facing +x
    assert math.isclose(sim.get_agent_state().yaw, -math.pi / 2, abs_tol=1e-6)
    assert not sim.move_agent(0.03 * heading_vector(-math.pi / 2))
    after = sim.get_agent_state()
    assert math.isclose(after.position[0] - start.position[0], 0.03, abs_tol=2e-3) and abs(after.position[2] - start.position[2]) < 2e-3
    sim.turn_agent(0.5)
    assert math.isclose(sim.get_agent_state().yaw, -math.pi / 2 + 0.5, abs_tol=0.02)
