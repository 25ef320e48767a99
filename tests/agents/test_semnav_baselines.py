"""Baselines for velocity-commanded bodies: the random agent on Box action spaces (its Discrete
behaviour unchanged), the privileged observation for Box actions, and the SemanticNav oracle
(shortest path + MPPI, face, stop) succeeding with each body."""

from __future__ import annotations

import math
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest

import navgym  # noqa: F401
from navgym.agents import make, make_for_env
from navgym.agents.baselines.random import RandomAgent
from navgym.agents.baselines.semantic_oracle import SemanticOracleAgent
from navgym.errors import InvalidArgumentError
from navgym.testing import check_agent
from navgym.wrappers.privileged import PATH_POINTS, PrivilegedObservation

BODIES = ("Jetbot", "H1", "Aliengo")
SENSORS = ("rgb", "depth", "gps", "compass", "prompt_kind", "prompt_text", "prompt_image")
SMALL = {"num_scenes": 1, "episodes_per_scene": 2, "sensors": SENSORS}


@pytest.fixture(scope="module")
def envs():
    made = {body: gym.make(f"SemanticNav-ProcHouse-{body}-v0", **SMALL) for body in BODIES}
    yield made
    for env in made.values():
        env.close()


# -- the random agent --------------------------------------------------------------------------------
def test_random_agent_samples_box_actions_within_bounds_and_stops_with_its_probability(envs):
    for body, env in envs.items():
        space = env.action_space
        agent = make("random", env=env, seed=0, stop_probability=0.2)
        actions = np.array([agent.policy({}) for _ in range(2000)])
        assert all(space.contains(a) for a in actions[:50]) and actions.dtype == np.float32
        stops = actions[:, -1] >= 0.5
        assert 0.15 < stops.mean() < 0.25
        assert set(np.unique(actions[:, -1])) == {0.0, 1.0}
        moving = actions[~stops, :-1]
        low, high = space.low[:-1], space.high[:-1]
        assert np.all(moving >= low) and np.all(moving <= high)
        span = (moving.max(axis=0) - moving.min(axis=0)) / (high - low)
        assert np.all(span > 0.95), body  # uniform over the whole box
        np.testing.assert_allclose(moving.mean(axis=0), (low + high) / 2, atol=0.06 * (high - low).max())
        # The stop command moves nothing: zero velocity clipped into the box.
        np.testing.assert_array_equal(actions[stops][0, :-1], np.clip(0.0, low, high))
    env = envs["H1"]
    obs, _ = env.reset(seed=0)
    agent = make("random", env=env, seed=3)
    for _ in range(5):  # the env takes them
        obs, *_ = env.step(agent.policy(obs))
    a, b = make("random", env=env, seed=3), make("random", env=env, seed=3)
    np.testing.assert_array_equal([a.policy({}) for _ in range(20)], [b.policy({}) for _ in range(20)])
    assert all(make("random", env=env, stop_probability=1.0).policy({})[-1] == 1.0 for _ in range(10))
    assert all(make("random", env=env, stop_probability=0.0).policy({})[-1] == 0.0 for _ in range(100))


def test_random_agent_discrete_draws_are_unchanged():
    """The Discrete branch draws exactly what it always did (the code before Box support)."""
    agent = RandomAgent(num_actions=4, seed=7, stop_probability=0.1)
    rng = np.random.default_rng(7)
    expected = [0 if rng.random() < 0.1 else int(rng.integers(1, 4)) for _ in range(500)]
    assert [agent.policy({}) for _ in range(500)] == expected
    env = SimpleNamespace(action_space=gym.spaces.Discrete(6), unwrapped=None)
    agent = RandomAgent(env, seed=1)
    rng = np.random.default_rng(1)
    assert [agent.policy({}) for _ in range(300)] == [0 if rng.random() < 0.01 else int(rng.integers(1, 6)) for _ in range(300)]


def test_random_agent_rejects_box_spaces_it_cannot_sample():
    unbounded = SimpleNamespace(action_space=gym.spaces.Box(-np.inf, np.inf, (3,)))
    with pytest.raises(InvalidArgumentError, match="unbounded"):
        RandomAgent(unbounded)
    image = SimpleNamespace(action_space=gym.spaces.Box(0, 1, (2, 2)))
    with pytest.raises(InvalidArgumentError, match="1-D Box"):
        RandomAgent(image)
    no_stop = SimpleNamespace(action_space=gym.spaces.Box(0, 1, (3,)), unwrapped=SimpleNamespace(embodiment=SimpleNamespace(command_names=("vx", "vy", "yaw_rate"))))
    with pytest.raises(InvalidArgumentError, match="'stop' as the last"):
        RandomAgent(no_stop)
    with pytest.raises(InvalidArgumentError, match="Discrete or Box"):
        RandomAgent(SimpleNamespace(action_space=gym.spaces.Tuple((gym.spaces.Discrete(2),))))


# -- the privileged observation ----------------------------------------------------------------------
def test_privileged_observation_for_box_actions_is_the_ego_path(envs):
    env = PrivilegedObservation(envs["Aliengo"])
    obs, info = env.reset(seed=0, options={"episode_index": 0})
    assert "oracle_action" not in obs and env.observation_space.contains(obs)
    path, distance, facing = obs["oracle_path"], float(obs["oracle_distance"][0]), obs["oracle_facing"]
    assert path.shape == (PATH_POINTS, 2) and np.allclose(path[0], 0.0)
    assert distance == pytest.approx(info["distance_to_goal"], abs=1e-4)
    steps = np.hypot(*np.diff(path, axis=0).T)
    assert np.all(steps <= 0.1 + 1e-4) and float(steps.sum()) == pytest.approx(min(distance, (PATH_POINTS - 1) * 0.1), abs=0.05)
    # The facing target is the target's centre, in the ego frame: its bearing is the task's angle.
    assert abs(math.atan2(facing[1], facing[0])) == pytest.approx(info["angle_to_target"], abs=1e-4)
    # The path ends on the goal region: in the ego frame, near one of the goal points.
    nav = env.unwrapped
    state = nav.sim.get_agent_state()
    s, c = math.sin(state.yaw), math.cos(state.yaw)
    d = nav.goal_points - state.position
    goals = np.stack([-d[:, 0] * s - d[:, 2] * c, -d[:, 0] * c + d[:, 2] * s], axis=1)
    end = path[min(int(round(distance / 0.1)), PATH_POINTS - 1)]
    assert np.hypot(*(goals - end).T).min() < 0.15


# -- the oracle -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", BODIES)
def test_the_oracle_reaches_and_faces_the_target_with_each_body(envs, body):
    agent, env = make_for_env("semnav-oracle", envs[body])
    assert agent.privileged and isinstance(env, PrivilegedObservation)
    for index in (0, 1):
        agent.reset()
        obs, info = env.reset(seed=index, options={"episode_index": index})
        done = False
        while not done:
            action = agent.policy(obs)
            assert env.action_space.contains(action)
            obs, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
        assert terminated and info["success"] == 1.0, (body, index, info)
        assert info["angle_to_target"] <= math.radians(30) and info["traversable"]


def test_the_oracle_passes_the_agent_conformance_kit_and_explains_misuse(envs):
    check_agent("semnav-oracle", envs["Jetbot"], episodes=1, max_steps=5)
    agent = SemanticOracleAgent(envs["Jetbot"])
    obs, _ = envs["Jetbot"].reset(seed=0)
    with pytest.raises(KeyError, match="PrivilegedObservation"):
        agent.policy(obs)
    discrete = gym.make("ObjectNav-ProcHouse-v0", num_scenes=1, episodes_per_scene=1)
    with pytest.raises(InvalidArgumentError, match="'oracle' agent"):
        make("semnav-oracle", env=discrete)
    discrete.close()
    with pytest.raises(InvalidArgumentError, match="obstacles"):
        SemanticOracleAgent(envs["H1"], obstacles="lidar")
    with pytest.raises(InvalidArgumentError, match="samples"):
        SemanticOracleAgent(envs["H1"], samples=0)


def test_random_agent_reset_with_a_seed_forgets_earlier_draws():
    """reset(seed=...) (the evaluator passes the episode's seed) makes an episode's draws depend
    on (agent seed, episode seed) only, so serial and Ray evaluations agree; reset() runs on."""
    fresh = RandomAgent(num_actions=4, seed=7)
    fresh.reset(seed=12)
    used = RandomAgent(num_actions=4, seed=7)
    [used.policy({}) for _ in range(37)]  # an earlier episode
    used.reset(seed=12)
    assert [fresh.policy({}) for _ in range(50)] == [used.policy({}) for _ in range(50)]
    other = RandomAgent(num_actions=4, seed=8)
    other.reset(seed=12)
    fresh.reset(seed=12)
    assert [fresh.policy({}) for _ in range(50)] != [other.policy({}) for _ in range(50)]
    plain = RandomAgent(num_actions=4, seed=7)
    plain.reset()
    rng = np.random.default_rng(7)
    assert [plain.policy({}) for _ in range(20)] == [0 if rng.random() < 0.01 else int(rng.integers(1, 4)) for _ in range(20)]
