"""The random baseline: uniform over the motion actions, stopping with a small probability."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from navgym.core.checks import check_range
from navgym.errors import InvalidArgumentError



class RandomAgent:
    """Uniformly random motions; stops with probability ``stop_probability`` per step.

    Args:
        env: The env (for its action count).
        seed: Seed of the agent's own generator.
        stop_probability: Chance of calling ``stop`` each step.
    """

    def __init__(self, env: gym.Env | None = None, seed: int | None = 0, stop_probability: float = 0.01, num_actions: int | None = None):
        stop_probability = check_range("stop_probability", stop_probability, 0.0, 1.0)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise InvalidArgumentError(f"seed={seed!r} must be a non-negative integer or None")
        if num_actions is None:
            if env is None:
                raise InvalidArgumentError("RandomAgent needs env= or num_actions=")
            if not hasattr(env.action_space, "n"):
                raise InvalidArgumentError(f"the random agent needs a Discrete action space; this env's is {env.action_space}")
            num_actions = int(env.action_space.n)
        self.num_actions = num_actions
        self.stop_probability = stop_probability
        self.rng = np.random.default_rng(seed)

    def reset(self) -> None:
        pass

    def policy(self, obs: dict[str, Any]) -> int:
        if self.rng.random() < self.stop_probability:
            return 0
        return int(self.rng.integers(1, self.num_actions))
