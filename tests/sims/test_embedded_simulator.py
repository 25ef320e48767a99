"""The embedded simulator against ground truth it can be checked by: hand-built box scenes."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from navgym.scenes.builder import SceneBuilder
from navgym.embodiments import HabitatDiscreteAgent, UnicycleAgent
from navgym.sims.base import AgentState, BodySpec, CameraSpec
from navgym.sims.embedded.simulator import EmbeddedSimulator

#: Habitat's discrete agent drives the simulator in these tests (the simulator knows no actions).
AGENT = HabitatDiscreteAgent(tilt_actions=True)


def step(sim, action: str) -> bool:
    return AGENT.apply(sim, action).collided

ALL = ("rgb", "depth", "semantic")


def room_scene(table: bool = True):
    """A 4 m x 3 m room (x in [0, 4], z in [0, 3]) with 0.1 m walls, 2.5 m high, and a table."""
    b = SceneBuilder("room")
    wood = b.material("wood", "wood", (150, 100, 60), np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8))
    paint = b.material("paint", "paint", (200, 200, 220))
    ids = {
        "floor": b.add_box((-0.1, -0.1, -0.1), (4.1, 0.0, 3.1), wood, category="floor"),
        "ceiling": b.add_box((-0.1, 2.5, -0.1), (4.1, 2.6, 3.1), paint, category="ceiling"),
        "wall_north": b.add_box((-0.1, 0.0, -0.1), (4.1, 2.5, 0.0), paint, category="wall"),
        "wall_south": b.add_box((-0.1, 0.0, 3.0), (4.1, 2.5, 3.1), paint, category="wall"),
        "wall_west": b.add_box((-0.1, 0.0, 0.0), (0.0, 2.5, 3.0), paint, category="wall"),
        "wall_east": b.add_box((4.0, 0.0, 0.0), (4.1, 2.5, 3.0), paint, category="wall"),
    }
    if table:
        ids["table"] = b.add_box((1.5, 0.0, 1.0), (2.5, 0.75, 1.6), wood, category="table")
    return b.build(), ids


def l_corridor_scene():
    """An L-shaped corridor 1 m wide: leg 1 along x (z in [0, 1], x in [0, 5]), leg 2 along z
    (x in [4, 5], z in [0, 5]). The block x < 4, z > 1 is solid."""
    b = SceneBuilder("l_corridor")
    m = b.material("paint", "paint", (180, 180, 180))
    b.add_box((-0.2, -0.1, -0.2), (5.2, 0.0, 5.2), m, category="floor")
    b.add_box((-0.2, 2.5, -0.2), (5.2, 2.6, 5.2), m, category="ceiling")
    b.add_box((-0.2, 0.0, -0.2), (5.2, 2.5, 0.0), m, category="wall")  # z < 0
    b.add_box((-0.2, 0.0, 0.0), (0.0, 2.5, 1.0), m, category="wall")  # x < 0
    b.add_box((5.0, 0.0, 0.0), (5.2, 2.5, 5.2), m, category="wall")  # x > 5
    b.add_box((-0.2, 0.0, 1.0), (4.0, 2.5, 5.2), m, category="wall")  # the inner block
    b.add_box((4.0, 0.0, 5.0), (5.0, 2.5, 5.2), m, category="wall")  # z > 5
    return b.build()


@pytest.fixture(scope="module")
def room():
    scene, ids = room_scene()
    return EmbeddedSimulator(scene), ids


def test_depth_is_the_analytic_distance_to_a_wall(room):
    sim, ids = room
    for z in (2.5, 1.9, 0.7):
        sim.set_agent_state(AgentState.from_yaw([3.5, 0.0, z], 0.0))  # faces -z, the wall at z = 0
        frame = sim.render_agent(CameraSpec(outputs=ALL))
        on_wall = frame["semantic"] == ids["wall_north"]
        assert on_wall.sum() > 100
        # z-depth of a fronto-parallel wall is the same in every pixel.
        np.testing.assert_allclose(frame["depth"][..., 0][on_wall], z, atol=1e-4)


def test_centre_pixel_sees_the_object_the_camera_faces(room):
    sim, ids = room
    sim.set_agent_state(AgentState.from_yaw([2.0, 0.0, 2.2], 0.0))
    frame = sim.render_agent(CameraSpec(pitch=-30.0, outputs=ALL))
    # From 1.25 m, 30° down: the axis meets the 0.75 m table top 0.5/tan(30°) = 0.87 m ahead
    # (z = 1.33, over the table), at range 0.5/sin(30°) = 1.0 m, which is the z-depth on the axis.
    assert frame["semantic"][64, 64] == ids["table"]
    assert frame["depth"][64, 64, 0] == pytest.approx(1.0, rel=0.02)


def test_a_left_turn_of_ninety_degrees_faces_the_west_wall(room):
    sim, ids = room
    sim.set_agent_state(AgentState.from_yaw([2.0, 0.0, 2.5], 0.0))
    spec = CameraSpec(outputs=ALL)
    before = sim.render_agent(spec)
    assert before["semantic"][64, 64] == ids["wall_north"]
    for _ in range(3):  # 3 x 30°
        assert step(sim, "turn_left") is False
    after = sim.render_agent(spec)
    assert after["semantic"][64, 64] == ids["wall_west"]
    assert after["depth"][64, 64, 0] == pytest.approx(2.0, abs=1e-4)
    assert sim.get_agent_state().yaw == pytest.approx(math.pi / 2)
    assert not np.array_equal(before["rgb"], after["rgb"])


def test_rgb_is_textured_and_lit():
    scene, _ = room_scene()
    sim = EmbeddedSimulator(scene)
    sim.set_agent_state(AgentState.from_yaw([2.0, 0.0, 2.5], 0.0))
    rgb = sim.render_agent(CameraSpec(pitch=-60.0, outputs=("rgb",)))["rgb"]
    assert rgb.dtype == np.uint8 and rgb.shape == (128, 128, 3)
    # The random floor texture shows as many distinct colours, not one flat colour.
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 30


def test_geodesic_distance_in_an_l_corridor_equals_its_known_length():
    sim = EmbeddedSimulator(l_corridor_scene())
    r = sim.body().radius
    a, b = np.array([0.5, 0.0, 0.5]), np.array([4.5, 0.0, 4.5])
    corner = np.array([4.0, 1.0])  # the inner corner; the free space of the centre bends around it at r

    def tangent(p):
        d = float(np.hypot(*(p - corner)))
        return math.sqrt(d * d - r * r), d

    (ta, da), (tb, db) = tangent(a[[0, 2]]), tangent(b[[0, 2]])
    # Angle around the corner between the two tangent points.
    ang_a = math.atan2(a[2] - corner[1], a[0] - corner[0]) + math.acos(r / da)
    ang_b = math.atan2(b[2] - corner[1], b[0] - corner[0]) - math.acos(r / db)
    arc = r * abs(ang_a - ang_b)
    expected = ta + tb + arc
    measured = sim.geodesic_distance(a, [b])
    assert measured == pytest.approx(expected, rel=0.03)
    assert measured > np.linalg.norm(b - a)
    path = sim.shortest_path(a, b)
    assert len(path) >= 3
    assert np.linalg.norm(np.diff(path, axis=0), axis=1).sum() == pytest.approx(expected, rel=0.03)
    for p in path:
        assert sim.is_navigable(p)


def test_geodesic_distance_is_never_below_the_euclidean_one(room):
    sim, _ = room
    rng = np.random.default_rng(1)
    for _ in range(50):
        p, q = sim.sample_navigable_point(rng), sim.sample_navigable_point(rng)
        assert sim.geodesic_distance(p, [q]) >= np.linalg.norm((p - q)[[0, 2]]) - 1e-9


def test_walking_into_a_wall_never_crosses_it(room):
    sim, _ = room
    sim.set_agent_state(AgentState.from_yaw([3.5, 0.0, 2.0], 0.0))
    collided = [step(sim, "move_forward") for _ in range(40)]
    z = sim.get_agent_state().position[2]
    assert any(collided)
    assert z >= sim.body().radius - 0.05  # stopped in front of the wall at z = 0
    assert z < 0.5
    rng = np.random.default_rng(0)
    actions = ["move_forward", "move_forward", "turn_left", "turn_right"]
    for action in rng.choice(actions, size=1500):
        step(sim, str(action))
        p = sim.get_agent_state().position
        assert 0.0 < p[0] < 4.0 and 0.0 < p[2] < 3.0
        assert not (1.5 < p[0] < 2.5 and 1.0 < p[2] < 1.6), "walked into the table"
        assert sim.is_navigable(p)


def test_collision_slides_along_the_wall(room):
    sim, _ = room
    # 45° between -z and -x, close to the north wall: the motion slides west along it.
    sim.set_agent_state(AgentState.from_yaw([3.5, 0.0, 0.3], math.radians(45.0)))
    before = sim.get_agent_state().position
    collided = step(sim, "move_forward")
    after = sim.get_agent_state().position
    assert collided
    assert after[0] < before[0] - 0.1  # slid along x
    assert after[2] >= sim.body().radius - 0.05


def test_velocity_commands_move_and_turn(room):
    sim, _ = room
    sim.set_agent_state(AgentState.from_yaw([3.5, 0.0, 2.5], 0.0))
    body = UnicycleAgent(max_linear_velocity=1.0, max_angular_velocity=2.0, dt=1.0)
    result = body.apply(sim, [0.5, 0.0, 0.0])
    assert not result.collided and not result.stopped
    np.testing.assert_allclose(sim.get_agent_state().position, [3.5, 0.0, 2.0], atol=1e-6)
    body.apply(sim, [0.0, math.pi / 2, 0.0])
    assert sim.get_agent_state().yaw == pytest.approx(math.pi / 2)
    assert body.apply(sim, [0.0, 0.0, 1.0]).stopped
    with pytest.raises(ValueError, match="dt"):
        UnicycleAgent(dt=-1.0)


def test_cameras_render_at_any_pose_in_one_batch(room):
    sim, _ = room
    low = AgentState.from_yaw([2.0, 0.0, 2.7], 0.0)
    requests = [(low, CameraSpec(camera_height=0.4, outputs=ALL)), (low, CameraSpec(camera_height=1.5, hfov=60, width=64, height=48, outputs=ALL))]
    frames = sim.render(requests)
    assert frames[0]["rgb"].shape == (128, 128, 3)
    assert frames[1]["rgb"].shape == (48, 64, 3) and frames[1]["depth"].shape == (48, 64, 1)
    # The 0.4 m camera looks under the table top; the 1.5 m one sees over it.
    single = sim.render([requests[1]])[0]
    np.testing.assert_array_equal(single["depth"], frames[1]["depth"])


def test_look_up_and_down_tilt_the_camera(room):
    sim, ids = room
    sim.set_agent_state(AgentState.from_yaw([2.0, 0.0, 2.5], 0.0))
    step(sim, "look_down")
    step(sim, "look_down")
    assert sim.get_agent_state().tilt == -60.0
    frame = sim.render_agent(CameraSpec(outputs=ALL))
    assert frame["semantic"][64, 64] in (ids["floor"], ids["table"])


def test_bad_camera_and_motion_parameters_name_the_parameter():
    with pytest.raises(ValueError, match="hfov"):
        CameraSpec(hfov=200.0)
    with pytest.raises(ValueError, match="width"):
        CameraSpec(width=0)
    with pytest.raises(ValueError, match="pitch"):
        CameraSpec(pitch=120.0)
    with pytest.raises(ValueError, match="outputs"):
        CameraSpec(outputs=("thermal",))
    with pytest.raises(ValueError, match="turn_angle"):
        HabitatDiscreteAgent(turn_angle=-5.0)
    with pytest.raises(ValueError, match="forward_step"):
        HabitatDiscreteAgent(forward_step=0.0)


def test_placing_the_agent_off_the_navigable_area(room):
    sim, _ = room
    inside_table = AgentState.from_yaw([2.0, 0.0, 1.3], 0.0)
    with pytest.raises(ValueError, match=r"not navigable; the nearest navigable point is 0\.\d+ m away"):
        sim.set_agent_state(inside_table)
    placed = sim.set_agent_state(inside_table, snap=True)
    assert sim.is_navigable(placed.position)
    assert np.linalg.norm(placed.position - inside_table.position) < 0.6
    with pytest.raises(ValueError, match="move_backward"):
        step(sim, "move_backward")


def test_simulator_pickles_and_renders_the_same(room):
    sim, _ = room
    sim.set_agent_state(AgentState.from_yaw([2.0, 0.0, 2.5], 0.3))
    clone = pickle.loads(pickle.dumps(sim))
    spec = CameraSpec(outputs=ALL)
    a, b = sim.render_agent(spec), clone.render_agent(spec)
    for key in ALL:
        np.testing.assert_array_equal(a[key], b[key])


def test_unannotated_scene_warns_once_and_returns_zero():
    scene, _ = room_scene()
    scene.face_instance[:] = 0
    scene.instances = []
    scene.annotated = False
    sim = EmbeddedSimulator(scene)
    with pytest.warns(UserWarning, match="no semantic annotations"):
        sim.render_agent(CameraSpec(outputs=ALL))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = sim.render_agent(CameraSpec(outputs=ALL))
    assert not frame["semantic"].any()


def test_topdown_map_marks_navigable_and_blocked_cells(room):
    sim, _ = room
    top = sim.topdown_map()
    row, col = top.world_to_cell(np.array([0.6, 0.0, 0.6]))
    assert top.grid[row, col] == 2
    row, col = top.world_to_cell(np.array([2.0, 0.0, 1.3]))  # under the table
    assert top.grid[row, col] != 2
    assert top.to_rgb().shape == top.grid.shape + (3,)


def test_wall_interiors_are_blocked_even_where_walls_touch_the_ceiling(room):
    # The room's walls reach exactly the ceiling's height: vertical rays alone tie there.
    sim, _ = room
    grid = sim.grid()
    for point in ([-0.05, 0.0, 2.0], [4.05, 0.0, 2.0], [2.0, 0.0, -0.05], [2.0, 0.0, 3.05]):
        assert not grid.free[grid.to_cell(point)], point
    # The agent's centre stays a radius (plus half a cell) away from every wall.
    assert not sim.is_navigable([0.15, 0.0, 2.0])
    assert sim.is_navigable([0.25, 0.0, 2.0])


def test_agents_are_addressed_by_id_each_with_its_own_body(room):
    sim, _ = room
    sim.set_agent_state(AgentState.from_yaw([1.0, 0.0, 2.5], 0.0))
    wide = sim.add_agent(BodySpec(radius=0.45, height=1.5), AgentState.from_yaw([3.0, 0.0, 2.5], 0.0))
    try:
        assert wide in sim.agent_ids and sim.body(wide).radius == 0.45
        assert step(sim, "move_forward") is False  # agent 0 moves ...
        np.testing.assert_allclose(sim.get_agent_state(wide).position, [3.0, 0.0, 2.5], atol=1e-9)  # ... the other stays
        AGENT.apply(sim, "turn_left", wide)
        assert sim.get_agent_state(wide).yaw == pytest.approx(math.radians(30.0))
        assert sim.get_agent_state().yaw == pytest.approx(0.0)
        # A point 0.3 m from the east wall: navigable for the 0.18 m body, not for the 0.45 m one.
        near_wall = [3.7, 0.0, 2.0]
        assert sim.is_navigable(near_wall) and not sim.is_navigable(near_wall, agent_id=wide)
        with pytest.raises(ValueError, match="agent_id=99"):
            sim.get_agent_state(99)
    finally:
        sim._bodies.pop(wide)
        sim._states.pop(wide)
