"""The frontier baseline's parts against ground truth: analytic geometry, hand-made grids,
hand-built scenes rendered by the embedded simulator, and (when available) ProcHouse episodes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from navgym.agents.baselines.frontier import FrontierAgent
from navgym.agents.mapping import FREE, OBSTACLE, UNKNOWN, OccupancyMap, Pose2D, SemanticGoalRecognizer, camera_to_start_frame, depth_to_camera_points
from navgym.agents.planning import action_toward, distance_field, find_frontiers, frontier_mask, inflate_obstacles, nearest_frontier, plan_path
from navgym.sims.base import CameraSpec
from navgym.errors import InvalidArgumentError

CAMERA = CameraSpec(width=64, height=48, hfov=90.0, camera_height=1.0, max_depth=10.0)


def wall_depth(distance: float, camera: CameraSpec = CAMERA) -> np.ndarray:
    """z-depth of a fronto-parallel wall: the same value in every pixel."""
    return np.full((camera.height, camera.width, 1), distance, dtype=np.float32)


# -- geometry -------------------------------------------------------------------------------
def test_depth_to_points_of_a_flat_wall_matches_the_pinhole_model():
    points = depth_to_camera_points(wall_depth(2.0), CAMERA.hfov)
    assert points.shape == (48, 64, 3)
    np.testing.assert_allclose(points[..., 2], -2.0)
    # HFOV 90°: f = 32 px; the rightmost column centre is 31.5 px right of the axis.
    f = 32.0
    np.testing.assert_allclose(points[0, -1, 0], 2.0 * 31.5 / f)
    np.testing.assert_allclose(points[0, 0, 0], -2.0 * 31.5 / f)
    # Row 0 is the top of the image: above the axis, y > 0.
    np.testing.assert_allclose(points[0, 0, 1], 2.0 * 23.5 / f)
    np.testing.assert_allclose(points[-1, 0, 1], -2.0 * 23.5 / f)
    # Lateral offsets grow linearly across a row, by depth / f per pixel.
    np.testing.assert_allclose(np.diff(points[10, :, 0]), 2.0 / f)


def test_gps_and_compass_give_the_start_frame_pose():
    pose = Pose2D.from_gps_compass([1.5, -0.5], [math.pi / 2])
    assert (pose.x, pose.z, pose.yaw) == pytest.approx((-0.5, -1.5, math.pi / 2))
    np.testing.assert_allclose(pose.heading, [-1.0, 0.0], atol=1e-12)  # turned left: faces -x


def test_level_camera_puts_a_wall_two_metres_forward_at_the_start():
    points = camera_to_start_frame(depth_to_camera_points(wall_depth(2.0), CAMERA.hfov), Pose2D(0.0, 0.0, 0.0), 1.0)
    np.testing.assert_allclose(points[..., 2], -2.0)  # forward is -z
    centre = points[23:25, 31:33].reshape(-1, 3)
    np.testing.assert_allclose(centre[:, 0], 0.0, atol=2.0 / 32 + 1e-9)
    np.testing.assert_allclose(centre[:, 1], 1.0, atol=2.0 / 32 + 1e-9)  # at camera height


def test_a_wall_ahead_after_a_left_turn_lands_to_the_start_frames_left():
    pose = Pose2D.from_gps_compass([0.0, 0.0], [math.pi / 2])
    points = camera_to_start_frame(depth_to_camera_points(wall_depth(2.0), CAMERA.hfov), pose, 1.0)
    np.testing.assert_allclose(points[..., 0], -2.0, atol=1e-9)  # left of the start = -x = gps right -2
    # The image's right edge (the agent's right) is now the start frame's forward (-z).
    assert points[20, -1, 2] < -1.9 and points[20, 0, 2] > 1.9


def test_pitch_down_sees_the_floor_at_the_analytic_distance():
    # Camera 1 m high, pitched 45° down, centre ray hits the floor 1 m ahead at range sqrt(2):
    # the z-depth of that pixel is sqrt(2).
    depth = wall_depth(math.sqrt(2.0))
    points = camera_to_start_frame(depth_to_camera_points(depth, CAMERA.hfov), Pose2D(0.0, 0.0, 0.0), 1.0, pitch=-45.0)
    centre = points[23:25, 31:33].reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose(centre, [0.0, 0.0, -1.0], atol=0.05)


# -- occupancy map ----------------------------------------------------------------------------
def test_map_places_a_wall_ahead_and_frees_the_floor_before_it():
    camera = CAMERA.with_(camera_height=0.5)  # the wall's points span heights 0.5 ± 2 * 23.5/32 m
    grid_map = OccupancyMap(size=10.0, cell_size=0.05, obstacle_max_height=1.5)
    grid_map.integrate(wall_depth(2.0, camera), Pose2D(0.0, 0.0, 0.0), camera)
    grid = grid_map.grid
    rows, cols = np.nonzero(grid == OBSTACLE)
    world = grid_map.cell_to_world(rows, cols)
    np.testing.assert_allclose(world[:, 1], -2.0 + 0.025, atol=0.03)  # the cell holding z = -2
    assert world[:, 0].min() < -1.9 and world[:, 0].max() > 1.9  # 90° HFOV: ±2 m wide at 2 m
    # Straight ahead, every cell up to the wall is free; behind the agent is unknown.
    r0, c0 = grid_map.world_to_cell(np.array([0.01, 0.0]))
    r_wall, _ = grid_map.world_to_cell(np.array([0.01, -2.0]))
    assert (grid[r_wall + 2 : r0, c0] == FREE).all()
    r_back, _ = grid_map.world_to_cell(np.array([0.01, 1.0]))
    assert grid[r_back, c0] == UNKNOWN


def test_map_places_a_wall_after_a_left_turn_to_the_left():
    camera = CAMERA.with_(camera_height=0.5)
    grid_map = OccupancyMap(size=10.0, cell_size=0.05)
    grid_map.integrate(wall_depth(2.0, camera), Pose2D.from_gps_compass([0.0, 0.0], [math.pi / 2]), camera)
    rows, cols = np.nonzero(grid_map.obstacle)
    world = grid_map.cell_to_world(rows, cols)
    np.testing.assert_allclose(world[:, 0], -2.0 + 0.025, atol=0.03)  # 2 m to the left (-x)
    assert world[:, 1].min() < -1.9 and world[:, 1].max() > 1.9


def test_map_ignores_points_above_the_agent_and_marks_goal_pixels():
    camera = CAMERA.with_(camera_height=1.0)
    grid_map = OccupancyMap(size=10.0, cell_size=0.05, obstacle_min_height=0.1, obstacle_max_height=1.2)
    goal = np.zeros((camera.height, camera.width), dtype=bool)
    goal[30:, 40:] = True  # lower right of the image
    projection = grid_map.integrate(wall_depth(3.0, camera), Pose2D(0.0, 0.0, 0.0), camera, goal_mask=goal)
    rows, _ = np.nonzero(grid_map.obstacle)
    heights = projection.points[:, 1]
    assert heights.max() > 1.2  # some of the wall is above the agent...
    assert len(rows) > 0  # ...and the part below it is an obstacle
    goal_world = grid_map.cell_to_world(*np.nonzero(grid_map.goal))
    assert (goal_world[:, 0] > 0).all()  # right of the agent
    np.testing.assert_allclose(goal_world[:, 1], -3.0 + 0.025, atol=0.03)


# -- semantic goal recognition ------------------------------------------------------------------
def test_semantic_recognizer_maps_the_goal_category_to_its_instances():
    recognizer = SemanticGoalRecognizer(("chair", "bed"), {3: "chair", 4: "bed", 7: "chair", 9: "wall"})
    semantic = np.array([[0, 3, 4], [7, 9, 3]], dtype=np.int32)
    np.testing.assert_array_equal(recognizer({"semantic": semantic, "objectgoal": 0}), [[0, 1, 0], [1, 0, 1]])
    np.testing.assert_array_equal(recognizer({"semantic": semantic, "textgoal_category": np.array([1])}), [[0, 0, 1], [0, 0, 0]])
    assert not recognizer({"semantic": semantic}).any()  # no goal category: nothing recognised
    with pytest.raises(ValueError, match="objectgoal"):
        recognizer({"semantic": semantic, "objectgoal": 5})


# -- frontiers and planning ---------------------------------------------------------------------
def room_with_opening() -> np.ndarray:
    """A free 10 x 10 room (rows/cols 5..14) walled in, with a 3-cell opening in its top wall
    (row 4, cols 9..11) onto unknown space."""
    grid = np.full((20, 20), UNKNOWN, dtype=np.uint8)
    grid[4:16, 4:16] = OBSTACLE
    grid[5:15, 5:15] = FREE
    grid[4, 9:12] = FREE
    return grid


def test_frontier_is_exactly_the_opening():
    grid = room_with_opening()
    mask = frontier_mask(grid)
    np.testing.assert_array_equal(np.argwhere(mask), [[4, 9], [4, 10], [4, 11]])
    frontiers = find_frontiers(grid, min_size=2)
    assert len(frontiers) == 1 and frontiers[0].size == 3
    assert find_frontiers(grid, min_size=4) == []
    grid[4, 9:12] = OBSTACLE  # closed room: no frontier
    assert find_frontiers(grid) == []


def test_a_diagonal_wall_is_not_a_frontier():
    # Free below the diagonal, unknown above, a one-cell staircase of obstacles between: free cells
    # touch unknown ones only at corners, which is not a way through.
    rows, cols = np.indices((12, 12))
    grid = np.where(rows > cols, FREE, UNKNOWN).astype(np.uint8)
    grid[rows == cols] = OBSTACLE
    assert not frontier_mask(grid).any()
    grid[6, 6] = FREE  # a one-cell hole in the wall is a way through
    assert frontier_mask(grid)[6, 6]


def test_nearest_frontier_is_by_geodesic_distance():
    grid = np.full((30, 30), FREE, dtype=np.uint8)
    grid[:, 0] = UNKNOWN  # a frontier along column 1, 14 cells from the agent at (15, 15)...
    grid[0, :] = UNKNOWN
    grid[5, 0:29] = OBSTACLE  # ...and row 1, straight-line 14 cells away but behind a long wall
    frontiers = find_frontiers(grid)
    start = np.zeros(grid.shape, dtype=bool)
    start[15, 15] = True
    index, cell, distance = nearest_frontier(frontiers, distance_field(grid != OBSTACLE, start, 1.0))
    assert cell[1] == 1 and cell[0] > 5  # the left frontier, below the wall
    assert distance == pytest.approx(14.0, abs=0.7)


def test_planned_path_keeps_the_agent_radius_from_an_obstacle():
    cell = 0.05
    obstacle = np.zeros((60, 60), dtype=bool)
    obstacle[20:40, 28:32] = True  # a 1 m x 0.2 m block between start and goal
    traversable = ~inflate_obstacles(obstacle, 0.18, cell)
    goal = np.zeros_like(obstacle)
    goal[30, 55] = True
    path = plan_path(traversable, (30, 5), goal, cell)
    assert len(path) > 0 and tuple(path[-1]) == (30, 55)
    assert traversable[path[:, 0], path[:, 1]].all()
    # Every path cell is at least the radius (less a cell of discretisation) from the block.
    block = np.argwhere(obstacle)
    clearance = np.hypot(*(path[:, None, :] - block[None, :, :]).transpose(2, 0, 1)).min(axis=1) * cell
    assert clearance.min() > 0.18 - cell
    assert path[:, 0].min() < 20 or path[:, 0].max() >= 40  # it went around the block
    # Without inflation the straight line would cross it: the planner really avoids it.
    assert obstacle[30, 28:32].all()
    assert plan_path(~obstacle, (30, 5), np.zeros_like(goal), cell).shape == (0, 2)


def test_distance_field_is_inf_where_the_target_cannot_be_reached():
    traversable = np.ones((10, 10), dtype=bool)
    traversable[:, 5] = False
    target = np.zeros_like(traversable)
    target[5, 8] = True
    field = distance_field(traversable, target, 0.1)
    assert np.isinf(field[5, 2]) and field[5, 8] == 0.0 and np.isfinite(field[5, 7])


def test_controller_turns_toward_the_waypoint():
    pose = Pose2D(0.0, 0.0, 0.0)  # facing -z
    assert action_toward(pose, np.array([-1.0, -1.0]), 30.0) == "turn_left"  # 45° to the left
    assert action_toward(pose, np.array([1.0, -1.0]), 30.0) == "turn_right"
    assert action_toward(pose, np.array([0.1, -1.0]), 30.0) == "move_forward"  # 5.7° < 15°
    assert action_toward(pose, np.array([0.0, 1.0]), 30.0) in ("turn_left", "turn_right")  # behind
    turned = Pose2D(0.0, 0.0, math.pi / 2)  # facing -x; -z is now to the right
    assert action_toward(turned, np.array([0.0, -1.0]), 30.0) == "turn_right"
    with pytest.raises(ValueError, match="turn_angle"):
        action_toward(pose, np.array([0.0, -1.0]), 0.0)


def test_agent_options_are_validated():
    with pytest.raises(ValueError, match="stop_distance"):
        FrontierAgent(stop_distance=-1.0)
    with pytest.raises(ValueError, match="actions"):
        FrontierAgent(actions=("stop", "move_forward"))


# -- the agent on synthetic observations -------------------------------------------------------
def synthetic_obs(depth: float, goal: bool, camera: CameraSpec = CAMERA) -> dict:
    semantic = np.zeros((camera.height, camera.width), dtype=np.int32)
    if goal:
        semantic[20:28, 28:36] = 5  # a chair straight ahead
    return {
        "depth": wall_depth(depth, camera),
        "semantic": semantic,
        "gps": np.zeros(2, dtype=np.float32),
        "compass": np.zeros(1, dtype=np.float32),
        "objectgoal": 0,
    }


def make_agent(**options) -> FrontierAgent:
    return FrontierAgent(
        categories=("chair", "bed"),
        instance_categories={5: "chair"},
        hfov=CAMERA.hfov,
        camera_height=CAMERA.camera_height,
        max_depth=CAMERA.max_depth,
        initial_spin=False,
        **options,
    )


def test_agent_stops_when_the_goal_is_within_stop_distance():
    agent = make_agent(stop_distance=0.9)
    agent.reset()
    assert agent.actions[agent.policy(synthetic_obs(0.8, goal=True))] == "stop"
    agent.reset()
    assert agent.actions[agent.policy(synthetic_obs(3.0, goal=True))] != "stop"  # seen, too far: go
    assert agent.mode == "goal"
    agent.reset()
    assert agent.actions[agent.policy(synthetic_obs(0.8, goal=False))] != "stop"  # not the goal


def test_a_forward_step_that_did_not_move_marks_the_cells_ahead_blocked():
    agent = make_agent()
    agent.reset()
    obs = synthetic_obs(3.0, goal=False)
    agent.policy(obs)
    agent._last_action = "move_forward"  # as if the last action were a step forward...
    agent.policy(obs)  # ...and the pose did not change: a collision
    rows, cols = np.nonzero(agent.bumps)
    ahead = agent.map.cell_to_world(rows, cols)
    assert len(ahead) > 0
    np.testing.assert_allclose(ahead[:, 1], -(agent.agent_radius + agent.map.cell_size), atol=agent.map.cell_size)
    assert np.abs(ahead[:, 0]).max() < agent.agent_radius


# -- against the embedded simulator's renderer ------------------------------------------------------
try:
    from navgym.sims.embedded.simulator import EmbeddedSimulator
except ImportError as exc:  # embreex missing: only the renderer-backed tests are skipped
    EmbeddedSimulator, EMBEDDED_MISSING = None, str(exc)
else:
    EMBEDDED_MISSING = ""
needs_embedded = pytest.mark.skipif(EmbeddedSimulator is None, reason=f"the embedded simulator is unavailable: {EMBEDDED_MISSING}")


def box_room_scene():
    """A 4 m x 3 m room (x in [0, 4], z in [0, 3]); walls stop below the ceiling."""
    from navgym.scenes.builder import SceneBuilder

    b = SceneBuilder("frontier_room")
    paint = b.material("paint", "paint", (200, 200, 220))
    b.add_box((-0.2, -0.1, -0.2), (4.2, 0.0, 3.2), paint, category="floor")
    b.add_box((-0.2, 2.5, -0.2), (4.2, 2.6, 3.2), paint, category="ceiling")
    b.add_box((-0.2, 0.0, -0.2), (4.2, 2.4, 0.0), paint, category="wall")  # north, z = 0
    b.add_box((-0.2, 0.0, 3.0), (4.2, 2.4, 3.2), paint, category="wall")  # south
    b.add_box((-0.2, 0.0, 0.0), (0.0, 2.4, 3.0), paint, category="wall")  # west, x = 0
    b.add_box((4.0, 0.0, 0.0), (4.2, 2.4, 3.0), paint, category="wall")  # east
    return b.build()


@needs_embedded
def test_rendered_walls_land_where_they_are_after_turning():
    from navgym.sims.base import AgentState

    sim = EmbeddedSimulator(box_room_scene())
    camera = CameraSpec(128, 128, 79.0, 0.88, outputs=("depth",), max_depth=5.0)
    start = AgentState.from_yaw([2.0, 0.0, 2.5], 0.0)  # faces -z, the north wall 2.5 m ahead
    sim.set_agent_state(start)
    grid_map = OccupancyMap(size=12.0, obstacle_max_height=0.88)
    grid_map.integrate(sim.render_agent(camera)["depth"], Pose2D(0.0, 0.0, 0.0), camera)
    cells = grid_map.cell_to_world(*np.nonzero(grid_map.obstacle))
    north = cells[np.abs(cells[:, 0]) < 1.9]  # the side walls (x = +-2 m) show at the image edges
    assert len(north) > 50
    np.testing.assert_allclose(north[:, 1], -2.5, atol=0.03)  # start frame: 2.5 m forward
    for _ in range(3):
        sim.turn_agent(math.radians(30.0))  # 3 x 30° left: now faces the west wall, 2 m ahead
    yaw = sim.get_agent_state().yaw - start.yaw
    grid_map.reset()
    grid_map.integrate(sim.render_agent(camera)["depth"], Pose2D.from_gps_compass([0.0, 0.0], [yaw]), camera)
    cells = grid_map.cell_to_world(*np.nonzero(grid_map.obstacle))
    west = cells[np.abs(cells[:, 1]) < 0.45]  # the south wall is 0.5 m to the agent's left now
    assert len(west) > 10
    np.testing.assert_allclose(west[:, 0], -2.0, atol=0.03)  # 2 m to the start frame's left


def two_room_env():
    """Two 4 m x 4 m rooms joined by a 1 m door; the chair is in the far room, behind the wall."""
    from navgym.envs.nav_env import NavEnv
    from navgym.scenes.builder import SceneBuilder
    from navgym.core.geometry import yaw_to_quaternion
    from navgym.datasets.episodes import Episode, EpisodeDataset, ObjectGoal
    from navgym.tasks.objectnav import ObjectNavTask

    b = SceneBuilder("two_rooms")
    m = b.material("paint", "paint", (200, 200, 200))
    b.add_box((-0.2, -0.1, -0.2), (8.2, 0.0, 4.2), m, category="floor")
    b.add_box((-0.2, 2.5, -0.2), (8.2, 2.6, 4.2), m, category="ceiling")
    for lo, hi in [((-0.2, 0, -0.2), (8.2, 2.4, 0.0)), ((-0.2, 0, 4.0), (8.2, 2.4, 4.2)), ((-0.2, 0, 0.0), (0.0, 2.4, 4.0)), ((8.0, 0, 0.0), (8.2, 2.4, 4.0))]:
        b.add_box(lo, hi, m, category="wall")
    b.add_box((3.95, 0, 0.0), (4.05, 2.4, 2.5), m, category="wall")  # the door: z in [2.5, 3.5]
    b.add_box((3.95, 0, 3.5), (4.05, 2.4, 4.0), m, category="wall")
    chair = b.add_box((6.5, 0, 0.5), (7.0, 0.9, 1.0), m, category="chair")
    b.add_box((1.0, 0, 3.2), (1.8, 0.5, 3.8), m, category="bed")
    scene = b.build()
    episode = Episode(
        "0", "two_rooms", [1.0, 0.0, 1.0], yaw_to_quaternion(0.0).tolist(),
        goals=[ObjectGoal(position=[6.75, 0.0, 0.75], object_id=chair, object_category="chair")], object_category="chair",
    )  # fmt: skip
    sim = EmbeddedSimulator(scene)
    return NavEnv(ObjectNavTask(), EpisodeDataset([episode], kind="objectnav"), lambda scene_id: sim, sensors=("depth", "semantic", "gps", "compass", "objectgoal"))


def run_episode(env, agent, index: int = 0, max_steps: int = 500) -> dict:
    obs, info = env.reset(options={"episode_index": index})
    agent.reset()
    for _ in range(max_steps):
        obs, _, terminated, truncated, info = env.step(agent.policy(obs))
        if terminated or truncated:
            break
    return info


@needs_embedded
def test_agent_finds_the_chair_in_the_next_room():
    env = two_room_env()
    agent = FrontierAgent(env)
    info = run_episode(env, agent)
    assert agent.mode == "stop"
    assert info["success"] == 1.0
    assert info["num_steps"] < 150


@needs_embedded
def test_agent_explains_missing_sensors():
    env = two_room_env()
    env.sensors = ("depth", "gps", "compass", "objectgoal")  # as if built without 'semantic'
    with pytest.raises(ValueError, match="semantic"):
        FrontierAgent(env)


# -- ProcHouse ObjectNav (slow) -----------------------------------------------------------------
@pytest.mark.slow
def test_frontier_beats_random_on_prochouse_objectnav():
    gym = pytest.importorskip("gymnasium")
    import navgym  # noqa: F401
    from navgym.agents import make

    try:
        env = gym.make("ObjectNav-ProcHouse-v0", sensors=("depth", "semantic", "gps", "compass", "objectgoal"))
        env.reset(options={"episode_index": 0})
    except (ImportError, NotImplementedError) as exc:
        pytest.skip(f"ObjectNav-ProcHouse-v0 is not available: {exc}")
    episodes = range(10)
    frontier = [run_episode(env, make("frontier", env=env), i)["success"] for i in episodes]
    random = [run_episode(env, make("random", env=env, seed=0), i)["success"] for i in episodes]
    env.close()
    assert sum(frontier) >= 6, f"frontier succeeded on {sum(frontier)}/10"
    assert sum(frontier) > sum(random)


@pytest.mark.parametrize("value, expected", [("no", False), ("false", False), ("0", False), (False, False), ("yes", True), (True, True)])
def test_initial_spin_reads_command_line_strings(value, expected):
    # --agent-option initial_spin=no arrives as the string "no", which bool() made True.
    agent = FrontierAgent(initial_spin=value)
    assert agent.initial_spin is expected
    assert agent._spin_left == (12 if expected else 0)


def test_bad_initial_spin_and_agent_height_name_the_parameter():
    with pytest.raises(InvalidArgumentError, match=r"^initial_spin='nah' must be true or false"):
        FrontierAgent(initial_spin="nah")
    with pytest.raises(InvalidArgumentError, match=r"^agent_height=-1.0 is out of range"):
        FrontierAgent(agent_height=-1.0)


def test_a_velocity_commanded_body_is_refused_naming_the_body_and_the_fix():
    # It used to say "actions=[] lacks ['stop', 'move_forward', ...]": actions the user never gave.
    import gymnasium as gym

    from navgym.agents import make

    env = gym.make("ObjectNav-ProcHouse-v0", split="val", embodiment="jetbot")
    try:
        for name, who in (("frontier", "The frontier agent"), ("unigoal", "The unigoal agent"), ("vlfm", "The vlfm agent")):
            with pytest.raises(InvalidArgumentError, match=rf"^{who} takes discrete actions.*\(jetbot\) is velocity-commanded.*embodiment='habitat'"):
                make(name, env=env)
    finally:
        env.close()
