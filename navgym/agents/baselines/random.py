"""The random baseline: uniform over the motion actions, stopping with a small probability.

Discrete action spaces: ``stop`` (action 0) with probability ``stop_probability``, else a uniform
motion action. ``Box`` action spaces (navgym's velocity-commanded bodies, ``stop`` last): with
probability ``stop_probability`` the stop command (motion zeros clipped into the box, ``stop`` at
its upper bound), else each motion component uniform within its bounds and ``stop`` at its lower
bound.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from navgym.core.checks import check_range
from navgym.errors import InvalidArgumentError


class RandomAgent:
    """Uniformly random motions; stops with probability ``stop_probability`` per step.

    Args:
        env: The env (for its action space: ``Discrete``, or a ``Box`` whose last component is
            ``stop``).
        seed: Seed of the agent's own generator.
        stop_probability: Chance of calling ``stop`` each step.
        num_actions: The number of discrete actions, without an env.
    """

    def __init__(self, env: gym.Env | None = None, seed: int | None = 0, stop_probability: float = 0.01, num_actions: int | None = None):
        stop_probability = check_range("stop_probability", stop_probability, 0.0, 1.0)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise InvalidArgumentError(f"seed={seed!r} must be a non-negative integer or None")
        self.box: gym.spaces.Box | None = None
        if num_actions is None:
            if env is None:
                raise InvalidArgumentError("RandomAgent needs env= or num_actions=")
            space = env.action_space
            if isinstance(space, gym.spaces.Box):
                self.box = _check_box(space, env)
            elif not hasattr(space, "n"):
                raise InvalidArgumentError(f"the random agent needs a Discrete or Box action space; this env's is {space}")
            else:
                num_actions = int(space.n)
        self.num_actions = num_actions
        self.stop_probability = stop_probability
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        """Start an episode. With ``seed`` (the evaluator passes the episode's seed) the draws of
        this episode come from ``(agent seed, seed)``, so they do not depend on the episodes run
        before; without it (or with ``seed=None`` at construction) the generator runs on."""
        if seed is not None and self.seed is not None:
            self.rng = np.random.default_rng([int(self.seed), int(seed)])

    def policy(self, obs: dict[str, Any]) -> int | np.ndarray:
        if self.box is not None:
            return self._box_action()
        if self.rng.random() < self.stop_probability:
            return 0
        return int(self.rng.integers(1, self.num_actions))

    def _box_action(self) -> np.ndarray:
        low = self.box.low.astype(np.float64)
        high = self.box.high.astype(np.float64)
        action = np.zeros(low.shape)
        if self.rng.random() < self.stop_probability:
            action[:-1] = np.clip(0.0, low[:-1], high[:-1])
            action[-1] = high[-1]
        else:
            action[:-1] = self.rng.uniform(low[:-1], high[:-1])
            action[-1] = low[-1]
        return action.astype(self.box.dtype)


def _check_box(space: gym.spaces.Box, env: gym.Env) -> gym.spaces.Box:
    """A ``Box`` the agent can sample: 1-D, bounded, ``stop`` last (checked against the
    embodiment's ``command_names`` when it has them)."""
    if len(space.shape) != 1 or space.shape[0] < 2:
        raise InvalidArgumentError(f"the random agent needs a 1-D Box action space [motion..., stop]; this env's is {space}")
    if not (np.isfinite(space.low).all() and np.isfinite(space.high).all()):
        raise InvalidArgumentError(f"the random agent samples within the action bounds; this env's Box is unbounded: {space}")
    names = getattr(getattr(getattr(env, "unwrapped", env), "embodiment", None), "command_names", None)
    if names is not None and (len(names) != space.shape[0] or names[-1] != "stop"):
        raise InvalidArgumentError(f"the random agent needs 'stop' as the last action component; this body's are {list(names)}")
    return space
