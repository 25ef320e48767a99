"""SB3's ``DummyVecEnv`` stepping its envs on a few threads, in the training process.

The SB3 twin of :class:`navgym.envs.vector.ThreadedVectorEnv`. A navgym step is mostly a camera
frame, and the embedded simulator renders without holding the GIL (the compiled raster and packet
kernels), so several envs' steps run on several cores while their Python parts take turns. Against
envs in subprocesses (``SubprocVecEnv``) it saves sending actions and observations through pipes
and waking one process per env; against ``DummyVecEnv`` it uses the second core. Results are
``DummyVecEnv``'s exactly: each env steps alone, in its own state, and resets on its thread when
its episode ends (a reset may build a house's simulator; the parts the envs of one process share,
the Embree device and the scene cache, are safe to use from several threads). Measured in
docs/results/rsrnav_log.md, "Training speed".
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from copy import deepcopy
from typing import Callable, Sequence

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import DummyVecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

from navgym.envs.vector import check_threads


class ThreadedDummyVecEnv(DummyVecEnv):
    """``DummyVecEnv`` whose envs step on ``threads`` threads.

    Args:
        env_fns: Functions that each create one env (called in this process, in order).
        threads: Threads stepping envs at once (2 on a 2-core machine; 1 steps them one after
            another on the calling thread, as ``DummyVecEnv``).
    """

    def __init__(self, env_fns: Sequence[Callable[[], gym.Env]], threads: int = 2):
        threads = check_threads(threads)
        super().__init__(list(env_fns))
        self.threads = threads
        workers = min(self.threads, self.num_envs)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="navgym-vec") if workers > 1 else None

    def step_wait(self) -> VecEnvStepReturn:
        actions = self.actions

        def one(index: int):
            # Step and, at an episode's end, reset: DummyVecEnv's calls for this env, on a thread.
            env = self.envs[index]
            obs, reward, terminated, truncated, info = env.step(actions[index])
            reset_info = None
            if terminated or truncated:
                info["terminal_observation"] = obs
                obs, reset_info = env.reset()
            return obs, reward, terminated, truncated, info, reset_info

        indices = range(self.num_envs)
        results = list(self._pool.map(one, indices)) if self._pool is not None else [one(i) for i in indices]
        for index, (obs, reward, terminated, truncated, info, reset_info) in enumerate(results):
            self.buf_rews[index] = reward
            self.buf_dones[index] = terminated or truncated
            info["TimeLimit.truncated"] = truncated and not terminated
            self.buf_infos[index] = info
            if reset_info is not None:
                self.reset_infos[index] = reset_info
            self._save_obs(index, obs)
        return self._obs_from_buf(), np.copy(self.buf_rews), np.copy(self.buf_dones), deepcopy(self.buf_infos)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        super().close()
