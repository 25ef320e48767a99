"""The MPPI local planner: rollouts reproduce each body's locomotion model, closed-loop runs reach
a goal point in open space, go around an obstacle seen in depth and face a target, heatmaps and
depth project to the right ground points, the potentials behave, it is deterministic, and bad
parameters are clear errors naming the parameter. (Speed is measured by scripts/bench_mppi.py,
not here.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from navgym.agents.mapping.geometry import Pose2D
from navgym.agents.mapping.occupancy import OccupancyMap
from navgym.agents.planning.mppi import (
    BodyModel, Costmap, GroundPoints, LocalGrid, MPPIConfig, MPPIPlanner, ego_points_from_depth, goal_potential,
    heatmap_facing_point, heatmap_to_ground, obstacles_from_depth, obstacles_from_map, path_potential,
)  # fmt: skip
from navgym.core.specs import AgentState, CameraSpec
from navgym.embodiments import AliengoAgent, H1Agent, HabitatDiscreteAgent, JetbotAgent, UnicycleAgent
from navgym.errors import InvalidArgumentError
from navgym.scenes.builder import SceneBuilder
from navgym.sims.embedded.simulator import EmbeddedSimulator

BODIES = {"jetbot": JetbotAgent, "h1": H1Agent, "aliengo": AliengoAgent}
#: A command of each body that exercises lag, acceleration bounds and (Jetbot) the wheel limit.
COMMANDS = {"jetbot": [0.3, 4.0], "h1": [0.8, 0.5], "aliengo": [0.6, -0.4, 0.5]}


def _scene(boxes=()):
    """A 12 m x 12 m floor (x, z in [0, 12]) under a 2.5 m ceiling, plus boxes (x0, z0, x1, z1, height)."""
    builder = SceneBuilder("open")
    paint = builder.material("paint", "paint", (200, 200, 200))
    builder.add_box((0.0, -0.1, 0.0), (12.0, 0.0, 12.0), paint, category="floor")
    builder.add_box((0.0, 2.5, 0.0), (12.0, 2.6, 12.0), paint, category="ceiling")
    for x0, z0, x1, z1, height in boxes:
        builder.add_box((x0, 0.0, z0), (x1, height, z1), paint, category="cabinet")
    return builder.build()


@pytest.fixture(scope="module")
def open_scene():
    return _scene()


def _sim(body, scene, position=(6.0, 0.0, 9.0), yaw=0.0):
    sim = EmbeddedSimulator(scene, body=body.body)
    sim.set_agent_state(AgentState.from_yaw(list(position), yaw))
    body.reset(sim, 0, np.random.default_rng(0))
    return sim


def _ego(state: AgentState, start: AgentState) -> tuple[float, float, float]:
    """``state`` in ``start``'s ego frame: (forward, left, yaw change)."""
    d = state.position - start.position
    s, c = math.sin(start.yaw), math.cos(start.yaw)
    return -d[0] * s - d[2] * c, -d[0] * c + d[2] * s, state.yaw - start.yaw


def _world_to_ego(state: AgentState, point) -> np.ndarray:
    d = np.asarray(point, dtype=np.float64) - state.position
    s, c = math.sin(state.yaw), math.cos(state.yaw)
    return np.array([-d[0] * s - d[2] * c, -d[0] * c + d[2] * s])


def _wrap(angle):
    return (np.asarray(angle) + math.pi) % (2 * math.pi) - math.pi


# -- the model ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(BODIES))
def test_rollouts_reproduce_the_body_stepping_in_the_simulator(name, open_scene):
    """Noise off, in open space, ``embodiment.apply`` (what ``NavEnv.step`` calls) and the model agree:
    exactly at the model's own 0.05 s substep, within 5 cm / 8° at the planner's 0.1 s."""
    body = BODIES[name](command_noise=0.0)
    model = BodyModel.from_embodiment(body)
    assert model.substep == body.substep and model.dt == body.dt and model.holonomic == (name == "aliengo")
    # A constant command, then a change and a stop: lag, bounds and the wheel limit all act.
    plan = [COMMANDS[name]] * 4 + [list(-np.asarray(COMMANDS[name]) * [0.0, *([1.0] * (len(COMMANDS[name]) - 1))])] * 2 + [[0.0] * len(COMMANDS[name])] * 2
    plan = np.asarray(plan, dtype=np.float64)
    exact = model.rollout(plan[None])
    coarse = MPPIPlanner(model).rollout_model.rollout(plan[None])
    sim = _sim(body, open_scene)
    start = sim.get_agent_state()
    for t, command in enumerate(plan):
        result = body.apply(sim, np.append(command, 0.0))
        assert not result.collided
        forward, left, turned = _ego(sim.get_agent_state(), start)
        k = (t + 1) * model.substeps - 1
        np.testing.assert_allclose([exact.x[k, 0], exact.y[k, 0]], [forward, left], atol=1e-6)
        assert abs(_wrap(exact.yaw[k, 0] - turned)) < 1e-6
        kc = (t + 1) * (coarse.x.shape[0] // len(plan)) - 1
        assert math.hypot(coarse.x[kc, 0] - forward, coarse.y[kc, 0] - left) < 0.05
        assert abs(_wrap(coarse.yaw[kc, 0] - turned)) < math.radians(8.0)


def test_model_details_follow_the_embodiments():
    jetbot = BodyModel.from_embodiment(JetbotAgent())
    v, w = JetbotAgent().action_space.high[:2]
    # Full speed and a full turn exceed the wheel limit: both scale by 1/2, as JetbotAgent.body_velocity does.
    np.testing.assert_allclose(jetbot.body_velocity(np.array([v, w])), JetbotAgent().body_velocity(np.array([v, w])), rtol=1e-6)
    h1 = BodyModel.from_embodiment(H1Agent())
    assert h1.command_low == (0.0, -1.0) and h1.footprint == (0.3, 0.5)
    np.testing.assert_allclose(h1.body_velocity(np.array([-1.0, 0.0])), [0.0, 0.0, 0.0])  # clipped: no backward walking
    unicycle = BodyModel.from_embodiment(UnicycleAgent())
    assert unicycle.substeps == 1 and unicycle.velocity_time_constant == 0.0
    roll = unicycle.rollout(np.array([[[0.5, 0.0]] * 2]))
    assert roll.x[-1, 0] == pytest.approx(0.5)  # two 0.5 s steps at 0.5 m/s, no lag
    # The quadruped's rectangle: circles reach its ends and sides exactly.
    centres, radii = BodyModel.from_embodiment(AliengoAgent()).footprint_circles()
    assert max(abs(centres[:, 0]) + radii) == pytest.approx(0.647 / 2) and max(abs(centres[:, 1]) + radii) == pytest.approx(0.155)


# -- closed loop -------------------------------------------------------------------------------------
def _drive(body, sim, planner, goal_world, *, steps, camera=None, facing_world=None, stop_within=0.25):
    """Plan and act until within ``stop_within`` of the goal (and facing, if asked); returns
    (reached, collisions, final state)."""
    collisions = 0
    grid = LocalGrid()
    for _ in range(steps):
        state = sim.get_agent_state()
        goal = _world_to_ego(state, goal_world)
        facing = _world_to_ego(state, facing_world) if facing_world is not None else None
        aligned = facing is None or abs(math.atan2(facing[1], facing[0])) < math.radians(10.0)
        if math.hypot(*goal) < stop_within and aligned:
            return True, collisions, state
        obstacles = None
        if camera is not None:
            depth = sim.render([(state, camera)])[0]["depth"]
            obstacles = obstacles_from_depth(depth, camera, grid, min_height=0.05, max_height=body.body.height)
        costmap = Costmap.build(grid, goal=goal, obstacles=obstacles)
        result = planner.plan(costmap, facing_point=facing)
        collisions += body.apply(sim, np.append(result.command, 0.0)).collided
    return False, collisions, sim.get_agent_state()


@pytest.mark.parametrize("name", list(BODIES))
def test_reaches_a_goal_point_in_open_space(name, open_scene):
    body = BODIES[name]()  # with its command noise
    sim = _sim(body, open_scene, yaw=0.4)
    goal = [5.0, 0.0, 6.5]  # 2.7 m away, 20° off the heading
    reached, collisions, _ = _drive(body, sim, MPPIPlanner.for_embodiment(body, seed=1), goal, steps=40)
    assert reached and collisions == 0


@pytest.mark.parametrize("name", ["h1", "aliengo"])
def test_goes_around_an_obstacle_seen_in_depth(name):
    body = BODIES[name]()
    # A 1.2 m wide, 1 m tall cabinet straight between the start (z = 9) and the goal (z = 5.5).
    sim = _sim(body, _scene([(5.4, 7.0, 6.6, 7.6, 1.0)]))
    camera = body.camera.with_(outputs=("depth",))
    reached, collisions, _ = _drive(body, sim, MPPIPlanner.for_embodiment(body, seed=0), [6.0, 0.0, 5.5], steps=40, camera=camera)
    assert reached and collisions == 0
    # Without the obstacle cost the straight line runs into it.
    sim = _sim(body, _scene([(5.4, 7.0, 6.6, 7.6, 1.0)]))
    _, collisions, _ = _drive(body, sim, MPPIPlanner.for_embodiment(body, seed=0), [6.0, 0.0, 5.5], steps=20)
    assert collisions > 0


def test_the_facing_term_turns_the_body_at_the_goal(open_scene):
    for name in ("h1", "aliengo"):
        body = BODIES[name]()
        sim = _sim(body, open_scene)
        start = sim.get_agent_state()
        target = start.position + np.array([-2.0, 0.0, 0.0])  # 2 m to the left, the body already at its goal
        reached, _, state = _drive(body, sim, MPPIPlanner.for_embodiment(body, seed=0), start.position, steps=20, facing_world=target, stop_within=0.3)
        assert reached
        facing = _world_to_ego(state, target)
        assert abs(math.atan2(facing[1], facing[0])) < math.radians(10.0)
    # One planning step: a facing point to the right turns right, a facing yaw to the left turns left.
    planner = MPPIPlanner.for_embodiment(H1Agent(), seed=0)
    here = Costmap.build(goal=(0.0, 0.0))
    assert planner.plan(here, facing_point=(0.0, -2.0)).command[1] < -0.1
    planner.reset()
    assert planner.plan(here, facing_yaw=math.pi / 2).command[1] > 0.1


def test_a_trajectory_goes_around_an_obstacle_on_the_grid():
    grid = LocalGrid()
    obstacles = np.zeros(grid.shape, dtype=bool)
    i, j = grid.cells(np.array([1.5, 1.9]), np.array([-0.6, 0.6]))
    obstacles[i[0] : i[1] + 1, j[0] : j[1] + 1] = True  # a wall 1.5-1.9 m ahead, 1.2 m wide
    costmap = Costmap.build(grid, goal=(3.5, 0.0), obstacles=obstacles)
    planner = MPPIPlanner.for_embodiment(AliengoAgent(), seed=0, iterations=5)
    result = planner.plan(costmap)
    roll = planner.rollout_model.rollout(result.sequence[None])
    x, y, yaw = roll.x[:, 0], roll.y[:, 0], roll.yaw[:, 0]
    centres, radii = planner.model.footprint_circles()
    gaps = [
        costmap.clearance_at(x + ox * np.cos(yaw) - oy * np.sin(yaw), y + ox * np.sin(yaw) + oy * np.cos(yaw)) - r
        for (ox, oy), r in zip(centres, radii)
    ]
    assert np.min(gaps) > -0.01  # no circle of the quadruped's footprint enters the wall
    assert np.abs(y[(x > 1.4) & (x < 2.0)]).min() > 0.6  # it passed beside the wall, not through it
    assert np.hypot(result.trajectory[-1, 0] - 3.5, result.trajectory[-1, 1]) < 1.0


# -- projection and potentials ---------------------------------------------------------------------
def test_depth_and_heatmaps_project_to_the_right_ground_points(open_scene):
    body = H1Agent()
    camera = body.camera.with_(outputs=("depth",))
    sim = _sim(body, open_scene)
    depth = sim.render([(sim.get_agent_state(), camera)])[0]["depth"]
    points, valid = ego_points_from_depth(depth, camera)
    assert valid.all() and np.abs(points[..., 2]).max() < 0.02  # all floor
    # The image centre's ray meets the floor camera_height / tan(pitch) ahead.
    heat = np.zeros(depth.shape[:2])
    rows, cols = heat.shape
    heat[rows // 2 - 1 : rows // 2 + 1, cols // 2 - 1 : cols // 2 + 1] = 1.0
    ground = heatmap_to_ground(heat, depth, camera)
    shared = heatmap_to_ground(heat, depth, camera, points=ego_points_from_depth(depth, camera))
    np.testing.assert_array_equal(ground.points, shared.points)  # one projection can serve every use of a frame
    expected = camera.camera_height / math.tan(math.radians(-camera.pitch))
    assert len(ground) == 4 and np.allclose(ground.points[:, 0], expected, atol=0.05) and np.abs(ground.points[:, 1]).max() < 0.03
    # A heatmap at another resolution is resized; weights below min_weight are dropped; a pixel to
    # the right lands on the right (negative y).
    small = np.zeros((9, 16))
    small[4, 12] = 0.8
    small[4, 3] = 0.01
    ground = heatmap_to_ground(small, depth, camera)
    assert len(ground) > 0 and np.all(ground.points[:, 1] < 0) and np.allclose(ground.weights, 0.8)
    facing = heatmap_facing_point(heat, depth, camera)
    assert facing is not None and facing[0] == pytest.approx(expected, abs=0.05)
    assert heatmap_facing_point(heat * 0.3, depth, camera) is None  # peak under the 0.5 confidence threshold
    # No obstacles on a bare floor; a box in view is one, and the map agrees.
    grid = LocalGrid()
    assert not obstacles_from_depth(depth, camera, grid).any()
    sim = _sim(body, _scene([(5.5, 7.0, 6.5, 7.5, 1.0)]))
    state = sim.get_agent_state()
    depth = sim.render([(state, camera)])[0]["depth"]
    seen = obstacles_from_depth(depth, camera, grid, min_height=0.1, max_height=1.8)
    xs, ys = grid.centres()
    assert seen.any() and 1.4 <= xs[seen].min() <= 1.6 and np.abs(ys[seen]).max() <= 0.6  # the box's near face is 1.5 m ahead
    occupancy = OccupancyMap(size=20.0, cell_size=0.05, obstacle_min_height=0.1, obstacle_max_height=1.8)
    pose = Pose2D(0.0, 0.0, 0.0)
    occupancy.integrate(depth, pose, camera)
    mapped = obstacles_from_map(occupancy, pose, grid)
    assert (mapped & seen).sum() >= 0.8 * seen.sum() and (mapped & ~seen).sum() <= 0.2 * seen.sum()
    # The same map seen from a pose turned left by 90°: the box is now to the right.
    turned = obstacles_from_map(occupancy, Pose2D(0.0, 0.0, math.pi / 2), grid)
    assert turned.any() and ys[turned].max() < -1.3


def test_potentials_prefer_near_heavy_points_and_follow_paths():
    grid = LocalGrid()
    goal = GroundPoints([[2.0, 0.0], [1.0, 1.0], [4.0, -2.0]], [1.0, 0.2, 0.9])
    phi = goal_potential(grid, goal, levels=3, weight_scale=2.0)
    cm = Costmap(grid, potential=phi)
    at = lambda x, y: float(cm.potential_at(np.array([x]), np.array([y]))[0])  # noqa: E731
    assert at(2.0, 0.0) == pytest.approx(0.0, abs=0.1)  # the heaviest point (within a cell)
    assert at(1.0, 1.0) > at(2.0, 0.0) + 0.5  # a light point costs its weight gap
    assert at(0.0, 0.0) > at(1.0, 0.0) > at(2.0, 0.0)
    assert at(20.0, 0.0) > at(6.9, 0.0)  # off the grid costs more
    # Geodesic: a wall between the body and the goal makes the potential at the body larger.
    obstacles = np.zeros(grid.shape, dtype=bool)
    i, j = grid.cells(np.array([1.0, 1.1]), np.array([-1.5, 1.5]))
    obstacles[i[0] : i[1] + 1, j[0] : j[1] + 1] = True
    euclid = goal_potential(grid, (2.0, 0.0))
    geo = goal_potential(grid, (2.0, 0.0), method="geodesic", obstacles=obstacles, inflation=0.1)
    origin = grid.cells(np.array([0.0]), np.array([0.0]))
    assert geo[origin][0] > euclid[origin][0] + 0.5
    # A path potential falls along the path to its end.
    path = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [2.0, 1.0]])
    pp = Costmap(grid, potential=path_potential(grid, path))
    values = pp.potential_at(np.array([0.0, 1.0, 1.0, 2.0]), np.array([0.0, 0.0, 1.0, 1.0]))
    assert np.all(np.diff(values) < 0) and values[-1] == pytest.approx(0.0, abs=0.15) and values[0] == pytest.approx(3.0, abs=0.2)


# -- determinism and errors ---------------------------------------------------------------------------
def test_same_seed_same_commands():
    costmap = Costmap.build(goal=(2.0, 1.0))
    runs = []
    for seed in (3, 3, 4):
        planner = MPPIPlanner.for_embodiment(AliengoAgent(), seed=seed)
        runs.append(np.array([planner.plan(costmap, facing_point=(3.0, 1.0)).command for _ in range(4)]))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    planner = MPPIPlanner.for_embodiment(AliengoAgent(), seed=3)
    planner.plan(costmap)
    planner.reset()  # forgets the mean and re-seeds
    np.testing.assert_array_equal(np.array([planner.plan(costmap, facing_point=(3.0, 1.0)).command for _ in range(4)]), runs[0])


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: MPPIConfig(samples=1), "samples"),
        (lambda: MPPIConfig(horizon=0), "horizon"),
        (lambda: MPPIConfig(temperature=0.0), "temperature"),
        (lambda: MPPIConfig(noise=-0.1), "noise"),
        (lambda: MPPIConfig(noise_smoothing=1.0), "noise_smoothing"),
        (lambda: MPPIConfig(collision_weight=-1.0), "collision_weight"),
        (lambda: MPPIConfig(facing_range=0.0), "facing_range"),
        (lambda: MPPIConfig(integration_step=0.0), "integration_step"),
        (lambda: MPPIConfig().with_(sample=3), "sample"),
        (lambda: MPPIPlanner.for_embodiment(H1Agent(), temperature=float("nan")), "temperature"),
        (lambda: MPPIPlanner.for_embodiment(H1Agent(), seed=-1), "seed"),
        (lambda: MPPIPlanner.for_embodiment(HabitatDiscreteAgent()), "habitat"),
        (lambda: BodyModel("x", (0.0,), (1.0,)), "command_low"),
        (lambda: BodyModel("x", (0.0, -1.0), (1.0, 1.0), dt=0.0), "dt"),
        (lambda: BodyModel("x", (0.0, -1.0), (1.0, 1.0), footprint=(0.5,)), "footprint"),
        (lambda: LocalGrid(cell_size=0.0), "cell_size"),
        (lambda: LocalGrid(x_min=1.0, x_max=1.05), "x_min"),
        (lambda: goal_potential(LocalGrid(), (1.0, 1.0), method="astar"), "method"),
        (lambda: goal_potential(LocalGrid(), (1.0, 1.0), levels=0), "levels"),
        (lambda: goal_potential(LocalGrid(), GroundPoints(np.zeros((0, 2)), np.zeros(0))), "goal"),
        (lambda: path_potential(LocalGrid(), np.zeros((0, 2))), "path"),
        (lambda: heatmap_to_ground(np.zeros((2, 2, 2)), np.ones((4, 4)), CameraSpec()), "heatmap"),
        (lambda: heatmap_to_ground(np.zeros((4, 4)), np.ones((4, 4)), CameraSpec(), min_weight=2.0), "min_weight"),
        (lambda: obstacles_from_depth(np.ones((4, 4, 2)), CameraSpec(), LocalGrid()), "depth"),
        (lambda: heatmap_to_ground(np.ones((4, 4)), np.ones((4, 4)), CameraSpec(), points=(np.zeros((2, 2, 3)), np.ones((2, 2), bool))), "points"),
        (lambda: Costmap(LocalGrid(), potential=np.zeros((3, 3))), "potential"),
        (lambda: Costmap.build(goal=(1.0, 0.0), path=np.zeros((2, 2))), "goal="),
        (lambda: MPPIPlanner.for_embodiment(H1Agent()).plan(Costmap.build(goal=(1.0, 0.0)), facing_point=(np.nan, 0.0)), "facing_point"),
        (lambda: MPPIPlanner.for_embodiment(H1Agent()).plan(None, facing_point=(1.0, 0.0), facing_yaw=0.0), "facing_yaw"),
    ],
)
def test_bad_parameters_are_clear_errors_naming_them(make, name):
    with pytest.raises(InvalidArgumentError, match=name):
        make()
