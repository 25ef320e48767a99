"""PointNav: the GPS+compass point goal follows habitat-lab's convention, the env passes the
checkers, the shortest-path follower succeeds, and episodes are deterministic for a seed."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import navgym
from navgym.core.specs import AgentState
from navgym.tasks.pointnav import POINTGOAL_SENSOR, PointNavTask, polar_goal
from navgym.wrappers.privileged import PrivilegedObservation

SMALL = {"num_scenes": 2, "episodes_per_scene": 3}
SENSORS = ("depth", POINTGOAL_SENSOR)


def make(env_id="PointNav-ProcHouse-v0", **kwargs):
    return gym.make(env_id, **{**SMALL, "resolution": 32, "sensors": SENSORS, **kwargs})


def test_ids_are_registered_with_their_settings():
    assert {"PointNav-ProcHouse-v0", "PointNav-ProcHouseHard-v0", "PointNav-ProcHouseSmall-v0"} <= set(navgym.env_ids())
    assert gym.spec("PointNav-ProcHouse-v0").max_episode_steps == 500
    small = gym.spec("PointNav-ProcHouseSmall-v0")
    assert small.max_episode_steps == 100
    assert small.kwargs["difficulty"] == "easy" and small.kwargs["success_distance"] == 0.36
    assert PointNavTask().success_distance == 0.2  # habitat-lab's PointNav radius


def test_gymnasium_check_env_passes():
    env = make(render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=False)


def test_navgym_env_checks_pass():
    from navgym.testing import check_nav_env

    report = check_nav_env(make, seeds=(0,), steps=5)  # raises on failure
    assert report.ok


def test_observation_space_and_default_sensors():
    env = gym.make("PointNav-ProcHouse-v0", **SMALL, resolution=32)
    assert set(env.observation_space.spaces) == {"rgb", "depth", POINTGOAL_SENSOR}
    space = env.observation_space[POINTGOAL_SENSOR]
    assert space.shape == (2,) and space.dtype == np.float32
    obs, _ = env.reset(seed=0)
    assert obs[POINTGOAL_SENSOR].dtype == np.float32 and obs[POINTGOAL_SENSOR] in space
    assert list(env.unwrapped.actions) == ["stop", "move_forward", "turn_left", "turn_right"]


def test_polar_goal_convention_on_hand_made_poses():
    # Yaw 0 faces -z; +x is to the right. phi is positive to the left (habitat's [rho, -phi]).
    origin = AgentState.from_yaw(np.zeros(3), 0.0)
    np.testing.assert_allclose(polar_goal(origin, np.array([0.0, 0.0, -2.0])), [2.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(polar_goal(origin, np.array([-1.0, 0.0, 0.0])), [1.0, math.pi / 2], atol=1e-6)  # left
    np.testing.assert_allclose(polar_goal(origin, np.array([1.0, 0.0, 0.0])), [1.0, -math.pi / 2], atol=1e-6)  # right
    np.testing.assert_allclose(polar_goal(origin, np.array([3.0, 5.0, -4.0])), [5.0, -math.atan2(3, 4)], atol=1e-6)  # height ignored
    # Facing +x (yaw -90°), a goal at +x is straight ahead.
    facing_x = AgentState.from_yaw(np.array([1.0, 0.0, 1.0]), -math.pi / 2)
    np.testing.assert_allclose(polar_goal(facing_x, np.array([3.0, 0.0, 1.0])), [2.0, 0.0], atol=1e-6)


def _goal_reading(env):
    nav = env.unwrapped
    state = nav.sim.get_agent_state()
    goal = nav.goal_points[0]
    dx, dz = goal[0] - state.position[0], goal[2] - state.position[2]
    rho = math.hypot(dx, dz)
    # The goal's bearing from the agent's heading, counter-clockwise seen from above (left positive).
    bearing = math.atan2(-dx, -dz) - state.yaw
    return rho, math.remainder(bearing, 2 * math.pi)


def test_reading_follows_the_goal_through_known_moves():
    env = make()
    obs, _ = env.reset(seed=0, options={"episode_index": 0})
    rho, phi = _goal_reading(env)
    np.testing.assert_allclose(obs[POINTGOAL_SENSOR], [rho, phi], atol=1e-5)
    actions = env.unwrapped.actions
    # Turning left by 30° moves the goal 30° to the right: phi drops by 30° (modulo 2 pi), rho stays.
    before = obs[POINTGOAL_SENSOR].copy()
    obs, *_ = env.step(actions.index("turn_left"))
    after = obs[POINTGOAL_SENSOR]
    assert after[0] == pytest.approx(before[0], abs=1e-5)
    assert math.remainder(float(after[1] - before[1]) + math.radians(30), 2 * math.pi) == pytest.approx(0.0, abs=1e-5)
    obs, *_ = env.step(actions.index("turn_right"))
    np.testing.assert_allclose(obs[POINTGOAL_SENSOR], before, atol=1e-5)
    # Face the goal exactly and step: rho drops by the 0.25 m step and phi stays 0.
    nav = env.unwrapped
    moved = False
    for episode_index in range(len(nav.dataset.episodes)):
        env.reset(options={"episode_index": episode_index})
        state = nav.sim.get_agent_state()
        goal = nav.goal_points[0]
        yaw = math.atan2(-(goal[0] - state.position[0]), -(goal[2] - state.position[2]))
        nav.sim.set_agent_state(AgentState.from_yaw(state.position, yaw))
        before = polar_goal(nav.sim.get_agent_state(), goal)
        assert before[1] == pytest.approx(0.0, abs=1e-5)
        obs, _, _, _, info = env.step(actions.index("move_forward"))
        if info["collided"] or before[0] < 0.5:
            continue  # a wall in the way: try the next episode
        np.testing.assert_allclose(obs[POINTGOAL_SENSOR], [before[0] - 0.25, 0.0], atol=1e-4)
        moved = True
        break
    assert moved, "no episode had a free straight step toward its goal"


def test_shortest_path_follower_succeeds():
    env = PrivilegedObservation(gym.make("PointNav-ProcHouseSmall-v0", split="val", num_scenes=2, episodes_per_scene=3, resolution=32, sensors=SENSORS))
    results = []
    for index in range(len(env.unwrapped.dataset.episodes)):
        obs, info = env.reset(options={"episode_index": index})
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(obs["oracle_action"])
            done = terminated or truncated
        results.append(info)
    assert len(results) >= 3  # a small house may host fewer 1.5-3 m episodes than asked
    assert [r["success"] for r in results] == [1.0] * len(results)
    assert min(r["spl"] for r in results) > 0.6
    assert all(r["distance_to_goal"] <= 0.36 for r in results)


def test_random_agent_rarely_succeeds():
    env = make("PointNav-ProcHouseSmall-v0", split="val")
    rng = np.random.default_rng(0)
    successes = []
    for index in range(20):
        env.reset(seed=index)
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(int(rng.integers(4)))
            done = terminated or truncated
        successes.append(info["success"])
    assert np.mean(successes) <= 0.2


def test_generation_is_deterministic_for_a_seed():
    from navgym.datasets.prochouse import DIFFICULTY_BINS, generate_scene_episodes
    from navgym.scenes.prochouse import SPLITS
    from navgym.scenes.sources import prochouse_scene_id

    task = PointNavTask()
    nav = make().unwrapped
    sim = nav.sim_factory(prochouse_scene_id(SPLITS["val"][0], False))

    def draw(seed):
        rng = np.random.default_rng([seed, task.generation_salt])
        return generate_scene_episodes(task, nav.embodiment, sim, rng, "s", 3, (DIFFICULTY_BINS["easy"][0], DIFFICULTY_BINS["hard"][1]))

    first, again, other = draw(1), draw(1), draw(2)
    assert len(first) >= 2 and first == again
    assert [e.goals[0].position for e in first] != [e.goals[0].position for e in other]
    for episode in first:
        assert 1.5 <= episode.info["geodesic_distance"] <= 10.0
        assert sim.is_navigable(np.asarray(episode.goals[0].position))


def test_same_seed_same_episode_and_readings():
    env_a, env_b = make(), make()
    obs_a, info_a = env_a.reset(seed=7)
    obs_b, info_b = env_b.reset(seed=7)
    assert info_a["episode_id"] == info_b["episode_id"]
    for action in (1, 2, 1, 3, 1):
        obs_a, *_ = env_a.step(action)
        obs_b, *_ = env_b.step(action)
    for key in SENSORS:
        np.testing.assert_array_equal(obs_a[key], obs_b[key])
    assert len({env_a.reset(seed=s)[1]["episode_id"] for s in range(6)}) > 1


def test_stopping_at_the_goal_succeeds_and_short_of_it_fails():
    env = make()
    _, info = env.reset(seed=0, options={"episode_index": 0})
    start_distance = info["distance_to_goal"]
    nav = env.unwrapped
    nav.sim.set_agent_state(AgentState.from_yaw(nav.goal_points[0], 0.0))
    _, reward, terminated, _, info = env.step(0)
    assert terminated and info["success"] == 1.0 and info["distance_to_goal"] <= 0.2
    assert reward == pytest.approx(2.5 + start_distance - info["distance_to_goal"] - 0.01)  # Habitat's reward
    _, info = env.reset(seed=0, options={"episode_index": 0})
    _, _, terminated, _, info = env.step(0)
    assert terminated and info["success"] == 0.0 and info["distance_to_goal"] > 0.2


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="valid sensors for PointNav.*pointgoal_with_gps_compass"):
        make(sensors=("depth", "pointgoal"))
    with pytest.raises(ValueError, match="success_distance"):
        make(success_distance=-1.0)
    with pytest.raises(ValueError, match="difficulty"):
        make(difficulty="trivial")
    with pytest.raises(TypeError, match="PointNav: .*unexpected keyword argument 'goal_radius'"):
        make(goal_radius=1.0)
