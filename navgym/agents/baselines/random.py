"""The random baseline: uniform over the motion actions, stopping with a small probability."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np



class RandomAgent:
    """Uniformly random motions; stops with probability ``stop_probability`` per step.

    Args:
        env: The env (for its action count).
        seed: Seed of the agent's own generator.
        stop_probability: Chance of calling ``stop`` each step.
    """

    def __init__(self, env: gym.Env | None = None, seed: int | None = 0, stop_probability: float = 0.01, num_actions: int | None = None):
        if not 0.0 <= stop_probability <= 1.0:
            raise ValueError(f"stop_probability={stop_probability!r} is out of range; allowed [0, 1]")
        if num_actions is None:
            if env is None:
                raise ValueError("RandomAgent needs env= or num_actions=")
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
