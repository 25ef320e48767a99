"""navgym.make_vec's sub-envs reset on the pool's threads, with SyncVectorEnv's results."""

from __future__ import annotations

import threading

import gymnasium as gym
import numpy as np
from gymnasium.vector import SyncVectorEnv

import navgym  # noqa: F401  (registers the envs)
from navgym.envs.vector import ThreadedVectorEnv

KWARGS = {"num_scenes": 1, "episodes_per_scene": 4, "resolution": 32}


class ResetThreads(gym.Wrapper):
    """Records the name of the thread each reset runs on."""

    def __init__(self, env, threads: list):
        super().__init__(env)
        self.threads = threads

    def reset(self, **kwargs):
        self.threads.append(threading.current_thread().name)
        return self.env.reset(**kwargs)


def _fns(threads: list):
    return [lambda: ResetThreads(gym.make("PointNav-ProcHouse-v0", **KWARGS), threads) for _ in range(3)]


def _assert_same(a, b, where="obs"):
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=where)


def test_reset_runs_on_the_pool_with_sync_vector_env_results():
    threaded_names, sync_names = [], []
    threaded = ThreadedVectorEnv(_fns(threaded_names), threads=2)
    sync = SyncVectorEnv(_fns(sync_names))
    try:
        calls = [
            {"seed": 5},
            {"seed": [11, None, 13], "options": {"episode_index": 2}},
            {"seed": [3, 4, 5], "options": {"reset_mask": np.array([False, True, True])}},
        ]
        for call in calls:
            threaded_names.clear()
            # each reset_mask is popped from the options by the vector env: a copy for each
            options = call.get("options")
            got = threaded.reset(seed=call["seed"], options=None if options is None else dict(options))
            want = sync.reset(seed=call["seed"], options=None if options is None else dict(options))
            _assert_same(got[0], want[0], f"observations of {call}")
            _assert_same(got[1], want[1], f"infos of {call}")
            expected = int(options["reset_mask"].sum()) if options and "reset_mask" in options else 3
            assert len(threaded_names) == expected
            assert all(name.startswith("navgym-vector") for name in threaded_names), threaded_names
        # after a partial reset the envs step on from the same states as SyncVectorEnv's
        actions = np.array([1, 2, 3])
        _assert_same(threaded.step(actions)[0], sync.step(actions)[0], "observations after a step")
    finally:
        threaded.close()
        sync.close()


def test_bad_reset_arguments_say_what_to_pass():
    import pytest

    envs = ThreadedVectorEnv(_fns([]), threads=2)
    try:
        with pytest.raises(ValueError, match=r"got 2 seeds for num_envs=3"):
            envs.reset(seed=[0, 1])
        with pytest.raises(ValueError, match=r"has shape \(2,\); pass one bool per sub-env, shape \(3,\)"):
            envs.reset(options={"reset_mask": np.array([True, False])})
        with pytest.raises(ValueError, match="resets no sub-env"):
            envs.reset(options={"reset_mask": np.zeros(3, dtype=bool)})
        with pytest.raises(TypeError, match="is a list; pass a numpy bool array"):
            envs.reset(options={"reset_mask": [True, True, True]})
    finally:
        envs.close()
