"""``navgym benchmark`` on every task, continuous bodies included (their ``Box`` action space has
no ``n``: the benchmark crashed on SemanticNav)."""

import gymnasium as gym
import numpy as np

import navgym  # noqa: F401
from navgym.benchmark import _moving_actions, env_speed_table


def test_table_for_a_continuous_body_task():
    table = env_speed_table(["SemanticNav"], steps=10, resolution=16)
    row = next(line for line in table.splitlines() if line.startswith("SemanticNav-ProcHouse-v0"))
    env_fps, sim_fps, ratio = (float(v) for v in row.split()[1:])
    assert env_fps > 0 and sim_fps > 0 and ratio > 0


def test_moving_actions_never_stop():
    env = gym.make("SemanticNav-ProcHouse-Jetbot-v0", resolution=16)
    try:
        actions = _moving_actions(env, 200, np.random.default_rng(0))
        assert all(env.action_space.contains(a) for a in actions)
        assert max(float(a[-1]) for a in actions) < 0.5  # the stop component
        assert np.ptp([a[0] for a in actions]) > 0.5 * np.ptp([env.action_space.low[0], env.action_space.high[0]])
    finally:
        env.close()
    env = gym.make("PointNav-ProcHouse-v0", resolution=16)
    try:
        names = env.unwrapped.actions
        assert {names[a] for a in _moving_actions(env, 200, np.random.default_rng(0))} == set(names) - {"stop"}
    finally:
        env.close()
