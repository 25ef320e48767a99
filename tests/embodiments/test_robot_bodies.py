"""The Jetbot, Unitree H1 and Unitree Aliengo bodies: action spaces, clipping, the locomotion
model (lag, acceleration bounds, noise, gait), determinism, the quadruped's rectangle footprint,
each body's navigability through narrow gaps, and real envs."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import navgym  # noqa: F401
from navgym.core.specs import AgentState
from navgym.embodiments import EMBODIMENTS, AliengoAgent, H1Agent, JetbotAgent, VelocityBody
from navgym.errors import InvalidArgumentError, UnknownNameError
from navgym.scenes.builder import SceneBuilder
from navgym.sims.base import Simulator
from navgym.sims.embedded.simulator import EmbeddedSimulator

BODIES = {"jetbot": JetbotAgent, "h1": H1Agent, "aliengo": AliengoAgent}
#: Exact kinematics for clipping checks: no lag, no noise, (nearly) unbounded acceleration.
IDEAL = {"velocity_time_constant": 0.0, "command_noise": 0.0, "max_linear_acceleration": 100.0, "max_angular_acceleration": 100.0}


def _scene(walls=()):
    """A 6 m x 6 m floor (x, z in [0, 6]) under a 2.5 m ceiling, plus wall boxes (x0, z0, x1, z1)."""
    builder = SceneBuilder("boxes")
    paint = builder.material("paint", "paint", (200, 200, 200))
    builder.add_box((0.0, -0.1, 0.0), (6.0, 0.0, 6.0), paint, category="floor")
    builder.add_box((0.0, 2.5, 0.0), (6.0, 2.6, 6.0), paint, category="ceiling")
    for x0, z0, x1, z1 in walls:
        builder.add_box((x0, 0.0, z0), (x1, 2.5, z1), paint, category="wall")
    return builder.build()


def _gap_scene(gap: float):
    """A wall across the floor at z = 3 (0.1 m thick) with one opening of ``gap`` metres at x = 3."""
    return _scene([(0.0, 2.95, 3.0 - gap / 2, 3.05), (3.0 + gap / 2, 2.95, 6.0, 3.05)])


def _sim(agent, scene, position, yaw=0.0):
    sim = EmbeddedSimulator(scene, body=agent.body)
    sim.set_agent_state(AgentState.from_yaw(position, yaw))
    return sim


# -- registry and spaces -----------------------------------------------------------------------
def test_registered_with_box_action_spaces_and_stop_last():
    for name, cls in BODIES.items():
        agent = EMBODIMENTS.get(name)()
        assert isinstance(agent, cls) and isinstance(agent, VelocityBody)
        assert isinstance(agent.action_space, gym.spaces.Box) and agent.action_names == ()
        assert agent.command_names[-1] == "stop" and agent.action_space.shape == (len(agent.command_names),)
        assert agent.action_space.low[-1] == 0.0 and agent.action_space.high[-1] == 1.0
    jetbot = JetbotAgent()
    np.testing.assert_allclose(jetbot.action_space.high[:2], [0.3, 2 * 0.3 / 0.1125], rtol=1e-6)  # r * w_max, 2 r w_max / base
    np.testing.assert_allclose(jetbot.action_space.low[:2], -jetbot.action_space.high[:2])
    h1 = H1Agent()
    np.testing.assert_allclose(h1.action_space.low, [0.0, -1.0, 0.0])  # Isaac Lab's H1: vx in [0, 1], yaw rate +-1
    np.testing.assert_allclose(h1.action_space.high, [1.0, 1.0, 1.0])
    aliengo = AliengoAgent()
    assert aliengo.command_names == ("vx", "vy", "yaw_rate", "stop")
    np.testing.assert_allclose(aliengo.action_space.low, [-1.0, -1.0, -1.0, 0.0])


def test_unknown_names_get_did_you_mean():
    with pytest.raises(UnknownNameError, match="Did you mean 'jetbot'"):
        EMBODIMENTS.get("jetbt")
    with pytest.raises(UnknownNameError, match="Did you mean 'aliengo'"):
        EMBODIMENTS.get("alien_go")
    with pytest.raises(UnknownNameError, match="Did you mean 'imx219-145'"):
        JetbotAgent.with_lens("imx219-154")


def test_bodies_and_cameras_follow_their_sources():
    h1 = H1Agent()
    assert h1.camera.camera_height == pytest.approx(1.05 + 0.693, abs=1e-3)  # pelvis + URDF head camera
    assert h1.camera.pitch == pytest.approx(-50.8, abs=0.05)  # the URDF's optical frame
    assert AliengoAgent().footprint == (0.647, 0.31) and AliengoAgent().body.radius == pytest.approx(0.155)
    assert AliengoAgent().camera.camera_height == 0.5
    jetbot = JetbotAgent()
    assert jetbot.camera.camera_height <= 0.15 and jetbot.camera.hfov >= 110 and jetbot.footprint is None
    assert JetbotAgent.with_lens("imx219-145").camera.hfov == 116.0
    assert jetbot.body.radius < AliengoAgent().body.radius < h1.body.radius


# -- clipping and bad input --------------------------------------------------------------------
def test_out_of_range_commands_are_clipped():
    h1 = H1Agent(**IDEAL, dt=1.0)
    sim = _sim(h1, _scene(), [3.0, 0.0, 5.0])
    h1.apply(sim, [5.0, 0.0, 0.0])  # vx clipped to 1 m/s
    assert sim.get_agent_state().position[2] == pytest.approx(4.0, abs=1e-6)
    h1.apply(sim, [-1.0, 0.0, 0.0])  # H1 has no backward command: clipped to 0
    assert sim.get_agent_state().position[2] == pytest.approx(4.0, abs=1e-6)
    h1.apply(sim, [0.0, -9.0, 0.0])  # yaw rate clipped to -1 rad/s
    assert sim.get_agent_state().yaw == pytest.approx(-1.0, abs=1e-6)

    aliengo = AliengoAgent(**IDEAL, dt=1.0)
    sim = _sim(aliengo, _scene(), [3.0, 0.0, 3.0])
    aliengo.apply(sim, [0.0, 3.0, 0.0, 0.0])  # vy (left) clipped to 1 m/s: yaw 0 faces -z, left is -x
    np.testing.assert_allclose(sim.get_agent_state().position[[0, 2]], [2.0, 3.0], atol=1e-6)

    # Full speed and a full turn need a wheel at 20 rad/s: both wheels scale by 1/2, curvature kept.
    jetbot = JetbotAgent(**IDEAL)
    v, yaw_rate = jetbot.action_space.high[:2]
    np.testing.assert_allclose(jetbot.body_velocity(np.array([v, yaw_rate])), [v / 2, 0.0, yaw_rate / 2], rtol=1e-6)
    assert max(abs(w) for w in jetbot.wheel_speeds(v / 2, yaw_rate / 2)) == pytest.approx(jetbot.max_wheel_speed)


def test_bad_commands_are_clear_errors_naming_the_component():
    sim = _sim(AliengoAgent(), _scene(), [3.0, 0.0, 3.0])
    with pytest.raises(InvalidArgumentError, match=r"vy=nan"):
        AliengoAgent().apply(sim, [0.5, np.nan, 0.0, 0.0])
    with pytest.raises(InvalidArgumentError, match=r"yaw_rate=inf"):
        H1Agent().apply(sim, [0.5, np.inf, 0.0])
    with pytest.raises(InvalidArgumentError, match=r"\[vx, vy, yaw_rate, stop\]"):
        AliengoAgent().apply(sim, [0.5, 0.0, 0.0])
    with pytest.raises(InvalidArgumentError, match="velocity_time_constant"):
        JetbotAgent(velocity_time_constant=-1.0)
    with pytest.raises(InvalidArgumentError, match="footprint"):
        AliengoAgent(footprint=(0.6,))
    assert AliengoAgent().apply(sim, [0.0, 0.0, 0.0, 0.7]).stopped


# -- locomotion model --------------------------------------------------------------------------
def test_velocity_lags_the_command_with_bounded_acceleration():
    # Lag alone: after dt the velocity is 1 - exp(-dt / tau) of the command (exact integration).
    lag = H1Agent(command_noise=0.0, max_linear_acceleration=100.0, velocity_time_constant=0.3, dt=0.5)
    sim = _sim(lag, _scene(), [3.0, 0.0, 5.5])
    lag.reset(sim, 0, np.random.default_rng(0))
    lag.apply(sim, [1.0, 0.0, 0.0])
    assert lag.motion_state().velocity[0] == pytest.approx(1.0 - math.exp(-0.5 / 0.3), rel=1e-9)
    travelled = 5.5 - sim.get_agent_state().position[2]
    assert 0.0 < travelled < 0.5 * lag.motion_state().velocity[0] + 1e-9  # it was slower all along

    # The acceleration bound: every substep's change of speed is at most a_max * substep.
    bounded = H1Agent(command_noise=0.0, max_linear_acceleration=0.8, max_angular_acceleration=0.5)
    velocity, target, speeds = np.zeros(3), np.array([1.0, 0.0, 1.0]), []
    for _ in range(40):
        new = bounded.track(velocity, target, bounded.substep)
        assert math.hypot(*(new - velocity)[:2]) <= 0.8 * bounded.substep + 1e-12
        assert abs(new[2] - velocity[2]) <= 0.5 * bounded.substep + 1e-12
        velocity = new
        speeds.append(velocity[0])
    assert speeds == sorted(speeds) and 0.95 < speeds[-1] <= 1.0
    # Slowing to a zero command the body comes to rest exactly.
    for _ in range(200):
        velocity = bounded.track(velocity, np.zeros(3), bounded.substep)
    assert not velocity.any()


def _trajectory(agent, seed, actions, start=(3.0, 0.0, 3.0)):
    sim = _sim(agent, _scene(), list(start))
    agent.reset(sim, 0, np.random.default_rng(seed))
    poses, cameras = [], []
    for action in actions:
        agent.apply(sim, action)
        state = sim.get_agent_state()
        poses.append((*state.position, state.yaw))
        cameras.append(agent.mounted_camera(agent.camera))
    return np.array(poses), cameras


def test_the_same_seed_gives_the_same_motion():
    actions = [[0.6, 0.3, 0.0, 0.0], [0.4, -0.2, 0.5, 0.0], [0.8, 0.0, -0.4, 0.0]] * 2
    first, cameras_a = _trajectory(AliengoAgent(), 7, actions)
    again, cameras_b = _trajectory(AliengoAgent(), 7, actions)
    other, _ = _trajectory(AliengoAgent(), 8, actions)
    np.testing.assert_array_equal(first, again)
    assert cameras_a == cameras_b
    assert not np.allclose(first, other)  # command noise and the gait phase come from the seed
    noiseless = [_trajectory(AliengoAgent(command_noise=0.0), seed, actions)[0] for seed in (1, 2)]
    np.testing.assert_array_equal(noiseless[0], noiseless[1])


def test_gait_moves_the_camera_only_for_legged_bodies_and_only_when_moving():
    for cls in (H1Agent, AliengoAgent):
        agent = cls()
        _, standing = _trajectory(agent, 0, [[0.0] * len(agent.command_names)] * 3)
        assert all(camera == agent.camera for camera in standing)
        forward = [1.0] + [0.0] * (len(agent.command_names) - 1)
        _, walking = _trajectory(agent, 0, [forward] * 6, start=(3.0, 0.0, 5.7))
        heights = {round(c.camera_height, 6) for c in walking}
        assert len(heights) > 3 and max(abs(h - agent.camera.camera_height) for h in heights) <= agent.gait_height + 1e-9
        assert max(abs(c.pitch - agent.camera.pitch) for c in walking) <= agent.gait_pitch + 1e-9
        assert any(c.roll != 0.0 for c in walking)
    jetbot = JetbotAgent()
    _, cameras = _trajectory(jetbot, 0, [[0.3, 1.0, 0.0]] * 8)
    assert all(camera == jetbot.camera for camera in cameras)


# -- collisions: the rectangle footprint -------------------------------------------------------
def test_the_quadrupeds_rectangle_collides_by_its_ends():
    scene = _scene([(0.0, 1.0, 6.0, 1.1)])  # a wall whose face is z = 1.1
    aliengo = AliengoAgent()
    sim = EmbeddedSimulator(scene, body=aliengo.body)
    centre = [3.0, 0.0, 1.35]  # 0.25 m from the wall: the 0.155 m disc fits, the 0.32 m nose does not
    assert sim.is_navigable(centre)
    length, width = aliengo.footprint
    assert sim.footprint_collisions(centre, 0.0, length, width) > 0  # facing the wall (-z)
    assert sim.footprint_collisions(centre, math.pi / 2, length, width) == 0  # along it
    assert sim.footprint_collisions([3.0, 0.0, 3.0], 0.0, length, width) == 0
    # A round footprint is the simulator's own disc: never reported.
    assert sim.footprint_collisions(centre, 0.0, 2 * aliengo.body.radius, 2 * aliengo.body.radius) == 0
    # The interface's default (the cylinder swept along the long axis) agrees here.
    assert Simulator.footprint_collisions(sim, centre, 0.0, length, width) > 0
    assert Simulator.footprint_collisions(sim, centre, math.pi / 2, length, width) == 0
    with pytest.raises(InvalidArgumentError, match="footprint_collisions"):
        sim.footprint_collisions(centre, float("nan"), length, width)


def test_walking_into_a_wall_stops_each_body_at_its_own_front():
    scene = _scene([(0.0, 1.0, 6.0, 1.1)])
    stops = {}
    for name, cls in BODIES.items():
        agent = cls(**IDEAL)
        sim = _sim(agent, scene, [3.0, 0.0, 2.5])  # facing the wall (-z), 1.4 m away
        collided = [agent.apply(sim, [0.3] + [0.0] * (len(agent.command_names) - 1)).collided for _ in range(12)]
        assert collided[-1] and not collided[0]
        stops[name] = sim.get_agent_state().position[2] - 1.1
    assert stops["jetbot"] == pytest.approx(0.1, abs=0.05)  # its radius
    assert stops["aliengo"] == pytest.approx(0.647 / 2, abs=0.06)  # its half length, not its radius 0.155
    assert stops["h1"] == pytest.approx(0.25, abs=0.06)


def test_a_long_body_cannot_turn_in_place_in_a_narrow_corridor():
    corridor = _scene([(0.0, 2.65, 6.0, 2.75), (0.0, 3.25, 6.0, 3.35)])  # 0.5 m wide, along x
    aliengo = AliengoAgent(**IDEAL)
    sim = _sim(aliengo, corridor, [3.0, 0.0, 3.0], yaw=-math.pi / 2)  # facing +x, along the corridor
    results = [aliengo.apply(sim, [0.0, 0.0, 1.0, 0.0]) for _ in range(4)]  # 2 rad asked
    turned = abs(sim.get_agent_state().yaw + math.pi / 2)
    # Its corners reach the walls after about 26 degrees (0.2985 sin + 0.13 cos = 0.25).
    assert any(r.collided for r in results) and turned < math.radians(30)
    assert sim.footprint_collisions(sim.get_agent_state().position, sim.get_agent_state().yaw, *aliengo.footprint) == 0
    jetbot = JetbotAgent(**IDEAL)
    sim = _sim(jetbot, corridor, [3.0, 0.0, 3.0], yaw=-math.pi / 2)
    assert not any(jetbot.apply(sim, [0.0, 1.0, 0.0]).collided for _ in range(4))
    assert abs(sim.get_agent_state().yaw + math.pi / 2) == pytest.approx(2.0, abs=1e-6)


# -- navigability: narrow gaps -----------------------------------------------------------------
def test_a_wider_body_cannot_pass_a_gap_the_jetbot_can():
    start, goal = [3.0, 0.0, 1.5], [3.0, 0.0, 4.5]
    reachable = {}
    for gap in (0.3, 0.45):
        scene = _gap_scene(gap)
        for name, cls in BODIES.items():
            sim = EmbeddedSimulator(scene, body=cls().body)
            reachable[gap, name] = math.isfinite(sim.geodesic_distance(start, [goal]))
    assert reachable == {
        (0.3, "jetbot"): True, (0.3, "aliengo"): False, (0.3, "h1"): False,
        (0.45, "jetbot"): True, (0.45, "aliengo"): True, (0.45, "h1"): False,
    }
    # Driving straight at the 0.3 m gap: the Jetbot goes through, the quadruped is stopped.
    scene = _gap_scene(0.3)
    for cls, passes in ((JetbotAgent, True), (AliengoAgent, False)):
        agent = cls(**IDEAL)
        sim = _sim(agent, scene, [3.0, 0.0, 4.5])  # facing -z, toward the wall at z = 3
        forward = [0.3] + [0.0] * (len(agent.command_names) - 1)
        for _ in range(20):
            agent.apply(sim, forward)
        assert (sim.get_agent_state().position[2] < 2.9) == passes


# -- real envs ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["jetbot", "h1", "aliengo"])
def test_objectnav_runs_with_each_body(name):
    env = gym.make("ObjectNav-ProcHouse-v0", embodiment=name, num_scenes=1, episodes_per_scene=2)
    unwrapped = env.unwrapped
    assert isinstance(env.action_space, gym.spaces.Box) and isinstance(unwrapped.embodiment, BODIES[name])
    check_env(unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=3)
    camera = unwrapped.embodiment.camera
    assert obs["rgb"].shape == (camera.height, camera.width, 3)
    start = unwrapped.sim.get_agent_state()
    forward = np.zeros(env.action_space.shape, dtype=np.float32)
    forward[0], forward[-2] = 0.3, 0.2  # forward, turning left
    for _ in range(3):
        obs, _, terminated, _, info = env.step(forward)
        assert not terminated and obs["rgb"].shape == (camera.height, camera.width, 3)
    moved = unwrapped.sim.get_agent_state()
    assert np.linalg.norm((moved.position - start.position)[[0, 2]]) > 0.05 or info["collided"]
    assert moved.yaw != start.yaw
    stop = np.zeros(env.action_space.shape, dtype=np.float32)
    stop[-1] = 1.0
    _, _, terminated, _, info = env.step(stop)
    assert terminated and info["num_steps"] == 4


def test_env_episodes_are_reproducible_with_a_seed():
    def run():
        env = gym.make("ObjectNav-ProcHouse-v0", embodiment="h1", num_scenes=1, episodes_per_scene=2)
        obs, _ = env.reset(seed=11)
        frames = [obs["rgb"]]
        for _ in range(3):
            obs, *_ = env.step(np.array([0.8, 0.3, 0.0], dtype=np.float32))
            frames.append(obs["rgb"])
        state = env.unwrapped.sim.get_agent_state()
        return np.stack(frames), state.position, state.yaw

    first, second = run(), run()
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert first[2] == second[2]


def test_the_embodiments_doc_example_runs():
    import re
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "embodiments.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(doc), "exec"), {"__name__": "docs_example"})
