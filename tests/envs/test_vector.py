"""ThreadedVectorEnv: sub-envs stepped on threads give SyncVectorEnv's results exactly."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import navgym
from navgym.envs.vector import ThreadedVectorEnv
from navgym.errors import InvalidArgumentError

ENV_ID = "ObjectNav-ProcHouse-v0"
KWARGS = {"num_scenes": 2, "episodes_per_scene": 3, "resolution": 64, "max_episode_steps": 7}


def _fns():
    return [lambda: gym.make(ENV_ID, **KWARGS) for _ in range(3)]


def _assert_equal(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _assert_equal(a[key], b[key])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_equal(x, y)
    elif isinstance(a, np.ndarray) and a.dtype == object:  # final_obs / final_info: one per env
        assert a.shape == b.shape
        for x, y in zip(a.ravel(), b.ravel()):
            _assert_equal(x, y)
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_threaded_steps_equal_sync_steps_through_autoresets(mode):
    sync = SyncVectorEnv(_fns(), autoreset_mode=mode)
    threaded = ThreadedVectorEnv(_fns(), threads=2, autoreset_mode=mode)
    try:
        _assert_equal(sync.reset(seed=3), threaded.reset(seed=3))
        rng = np.random.default_rng(0)
        ended = 0
        for _ in range(16):  # episodes end after 7 steps: every env autoresets at least twice
            actions = rng.integers(1, sync.single_action_space.n, size=3)
            a, b = sync.step(actions), threaded.step(actions)
            for x, y in zip(a, b):
                _assert_equal(x, y)
            ended += int(np.sum(a[2] | a[3]))
        assert ended >= 6
    finally:
        sync.close()
        threaded.close()


def test_make_vec_and_bad_arguments():
    envs = navgym.make_vec(ENV_ID, num_envs=2, threads=2, **KWARGS)
    try:
        observations, _ = envs.reset(seed=0)
        assert observations["rgb"].shape == (2, 64, 64, 3)
        assert envs.step(np.array([1, 2]))[0]["depth"].shape == (2, 64, 64, 1)
    finally:
        envs.close()
    with pytest.raises(InvalidArgumentError, match="threads=0"):
        ThreadedVectorEnv(_fns(), threads=0)
    with pytest.raises(InvalidArgumentError, match="num_envs=0"):
        navgym.make_vec(ENV_ID, num_envs=0)


def test_make_vec_applies_wrappers_to_each_copy_innermost_first():
    """As gymnasium.make_vec's wrappers=: each copy gets them in order (here RSRNav's reward
    around the user-matched goal camera, which must sit directly on gym.make)."""
    from navgym.wrappers import RSRNavReward, UserMatchedGoalCamera

    envs = navgym.make_vec("ImageNav-ProcHouse-v0", num_envs=2, threads=1, resolution=32, num_scenes=1, episodes_per_scene=2,
                           wrappers=[lambda env: UserMatchedGoalCamera(env, "user"), RSRNavReward])
    try:
        _, infos = envs.reset(seed=0)
        assert "goal_camera" in infos
        _, _, _, _, infos = envs.step(np.array([1, 2]))
        assert "reward_terms" in infos
    finally:
        envs.close()
    with pytest.raises(InvalidArgumentError, match="wrappers="):
        navgym.make_vec(ENV_ID, num_envs=1, wrappers=RSRNavReward)
