"""Several envs in one process, stepped at once on a few threads.

A navgym step is mostly a ray cast, and the embedded simulator's cast releases the GIL (the packet
backend, ``navgym/sims/embedded/packets.py``). :class:`ThreadedVectorEnv` is Gymnasium's
``SyncVectorEnv`` whose sub-envs step, and reset, on a pool of threads, so the casts of one step's
envs run on several cores while their Python parts take turns. Results are those of
``SyncVectorEnv`` exactly: each sub-env steps alone, in its own state, and ``reset()`` and the
resets an autoreset asks for run on the pool's threads too (a reset may build a house's
simulator; what the sub-envs of a process share, the Embree device and the grid and scene caches,
is safe to use from several threads).

    >>> import navgym
    >>> envs = navgym.make_vec("ObjectNav-ProcHouse-v0", num_envs=2, threads=2)
    >>> observations, infos = envs.reset(seed=0)
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from copy import deepcopy
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from gymnasium.vector.utils import concatenate, iterate

from navgym.errors import InvalidArgumentError


def check_threads(threads: Any) -> int:
    """``threads`` of a threaded vector env as an int, or an error naming the value and the fix."""
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise InvalidArgumentError(f"threads={threads!r} must be a whole number >= 1 (2 on a 2-core machine; 1 steps the envs in turn)")
    return int(threads)


class ThreadedVectorEnv(SyncVectorEnv):
    """``SyncVectorEnv`` stepping and resetting its sub-envs on ``threads`` threads.

    Args:
        env_fns: Functions that each create one sub-env.
        threads: Threads stepping sub-envs at once (2 on a 2-core machine; 1 is ``SyncVectorEnv``).
        **kwargs: ``SyncVectorEnv``'s (``copy``, ``observation_mode``, ``autoreset_mode``).
    """

    def __init__(self, env_fns: Sequence[Callable[[], gym.Env]], threads: int = 2, **kwargs: Any):
        threads = check_threads(threads)
        super().__init__(env_fns, **kwargs)
        self.threads = threads
        self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="navgym-vector") if self.threads > 1 else None

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        """``SyncVectorEnv.reset`` (the same seeds, options and ``options["reset_mask"]``), each
        sub-env's reset on the pool's threads, as in :meth:`step`."""
        if seed is None:
            seed = [None for _ in range(self.num_envs)]
        elif isinstance(seed, int):
            seed = [seed + i for i in range(self.num_envs)]
        if len(seed) != self.num_envs:
            raise InvalidArgumentError(f"reset(seed=...) got {len(seed)} seeds for num_envs={self.num_envs}: pass one per sub-env, an int or None")
        if options is not None and "reset_mask" in options:
            mask = options.pop("reset_mask")
            if not isinstance(mask, np.ndarray):
                raise TypeError(f"options['reset_mask'] is a {type(mask).__name__}; pass a numpy bool array of shape ({self.num_envs},)")
            if mask.shape != (self.num_envs,):
                raise InvalidArgumentError(f"options['reset_mask'] has shape {mask.shape}; pass one bool per sub-env, shape ({self.num_envs},)")
            if mask.dtype != np.bool_:
                raise TypeError(f"options['reset_mask'] has dtype {mask.dtype}; pass a numpy bool array (dtype=np.bool_)")
            if not np.any(mask):
                raise InvalidArgumentError(f"options['reset_mask']={mask} resets no sub-env; set at least one True")
            self._terminations[mask] = False
            self._truncations[mask] = False
            self._autoreset_envs[mask] = False
        else:
            mask = np.ones(self.num_envs, dtype=np.bool_)
            self._terminations = np.zeros((self.num_envs,), dtype=np.bool_)
            self._truncations = np.zeros((self.num_envs,), dtype=np.bool_)
            self._autoreset_envs = np.zeros((self.num_envs,), dtype=np.bool_)

        def one(i: int):
            return self.envs[i].reset(seed=seed[i], options=options)

        indices = np.flatnonzero(mask).tolist()
        results = list(self._pool.map(one, indices)) if self._pool is not None else [one(i) for i in indices]
        infos: dict[str, Any] = {}
        for i, (obs, info) in zip(indices, results):
            self._env_obs[i] = obs
            infos = self._add_info(infos, info, i)
        self._observations = concatenate(self.single_observation_space, self._env_obs, self._observations)
        return (deepcopy(self._observations) if self.copy else self._observations), infos

    def step(self, actions):
        actions = list(iterate(self.action_space, actions))
        mode = self.autoreset_mode
        if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP, AutoresetMode.DISABLED):
            raise ValueError(f"Unexpected autoreset mode, {mode}")
        infos: dict[str, Any] = {}
        if mode == AutoresetMode.DISABLED:
            assert not np.any(self._autoreset_envs), f"{self._autoreset_envs=}"
        resetting = set(np.flatnonzero(self._autoreset_envs).tolist()) if mode == AutoresetMode.NEXT_STEP else set()

        def one(i: int):
            # SyncVectorEnv's calls for sub-env i, on a thread: a reset where its last episode
            # ended (NEXT_STEP), else a step, and after an episode's end its reset (SAME_STEP).
            env = self.envs[i]
            if i in resetting:
                obs, info = env.reset()
                return obs, 0.0, False, False, info, None
            obs, reward, terminated, truncated, info = env.step(actions[i])
            final = None
            if mode == AutoresetMode.SAME_STEP and (terminated or truncated):
                final = {"final_obs": obs, "final_info": info}
                obs, info = env.reset()
            return obs, reward, terminated, truncated, info, final

        indices = range(self.num_envs)
        results = list(self._pool.map(one, indices)) if self._pool is not None else [one(i) for i in indices]
        for i, (obs, reward, terminated, truncated, info, final) in enumerate(results):
            self._env_obs[i], self._rewards[i], self._terminations[i], self._truncations[i] = obs, reward, terminated, truncated
            if final is not None:
                infos = self._add_info(infos, final, i)
            infos = self._add_info(infos, info, i)
        self._observations = concatenate(self.single_observation_space, self._env_obs, self._observations)
        self._autoreset_envs = np.logical_or(self._terminations, self._truncations)
        observations = deepcopy(self._observations) if self.copy else self._observations
        return observations, np.copy(self._rewards), np.copy(self._terminations), np.copy(self._truncations), infos

    def close_extras(self, **kwargs: Any) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        super().close_extras(**kwargs)


def make_vec(env_id: str, num_envs: int, threads: int = 2, wrappers: Sequence[Callable[[gym.Env], gym.Env]] | None = None,
             **kwargs: Any) -> ThreadedVectorEnv:
    """``num_envs`` copies of ``gym.make(env_id, **kwargs)`` stepped on ``threads`` threads; each
    copy wrapped by ``wrappers`` in order (the first innermost), as ``gymnasium.make_vec``'s
    ``wrappers=`` does: ``make_vec(id, 4, wrappers=[lambda e: UserMatchedGoalCamera(e, "user")])``."""
    if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
        raise InvalidArgumentError(f"num_envs={num_envs!r} must be a whole number >= 1")
    if wrappers is None:
        wrappers = ()
    if isinstance(wrappers, (str, bytes)) or not isinstance(wrappers, Sequence) or not all(callable(w) for w in wrappers):
        raise InvalidArgumentError(
            f"wrappers={wrappers!r} must be a list of callables taking an env and returning the wrapped env, "
            "e.g. [lambda env: RSRNavReward(env)] or [RSRNavReward]"
        )
    wrappers = tuple(wrappers)

    def make_one() -> gym.Env:
        env = gym.make(env_id, **kwargs)
        for wrap in wrappers:
            env = wrap(env)
        return env

    return ThreadedVectorEnv([make_one for _ in range(int(num_envs))], threads=threads)
