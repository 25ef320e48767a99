"""The one agent interface: ``reset()`` then ``policy(obs) -> action`` every step.

Agents are built by name with :func:`navgym.agents.make` (``navgym.agents.make("frontier", ...)``);
any stable-baselines3 model becomes an agent through :class:`SB3Agent`.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Agent(Protocol):
    """What navgym's evaluator, CLI and users call."""

    def reset(self) -> None:
        """Forget the previous episode. An agent that draws random numbers may take a keyword
        ``seed`` here (``reset(self, seed=None)``): the evaluator then passes the episode's seed, so
        its records do not depend on which episodes ran before (serial and Ray runs agree)."""

    def policy(self, obs: dict[str, Any]) -> Any:
        """The action for this observation (an index into the env's actions)."""


class SB3Agent:
    """Any stable-baselines3 model (recurrent ones included) as an :class:`Agent`.

    Args:
        model: A trained SB3 / sb3-contrib model.
        deterministic: Take the most likely action instead of sampling.
    """

    def __init__(self, model: Any, deterministic: bool = True):
        self.model = model
        self.deterministic = deterministic
        self._state = None
        self._episode_start = True

    def reset(self, seed: int | None = None) -> None:
        """Start an episode; with ``seed`` and ``deterministic=False`` the sampled actions are
        seeded (torch's generator), so an episode's actions do not depend on the ones before."""
        self._state = None
        self._episode_start = True
        if seed is not None and not self.deterministic:
            import torch

            torch.manual_seed(seed)

    def policy(self, obs: dict[str, Any]) -> Any:
        """The model's action: an ``int`` for a ``Discrete`` action space, else an array of the
        action space's shape (velocity commands of a ``Box`` body: Jetbot, H1, Aliengo, unicycle)."""
        import numpy as np
        from gymnasium import spaces

        action, self._state = self.model.predict(
            obs, state=self._state, episode_start=np.array([self._episode_start]), deterministic=self.deterministic
        )
        self._episode_start = False
        action = np.asarray(action)
        space = getattr(self.model, "action_space", None)
        if isinstance(space, spaces.Discrete) or (space is None and action.size == 1 and np.issubdtype(action.dtype, np.integer)):
            return int(action.item())
        if space is not None and space.shape is not None and action.size == int(np.prod(space.shape)):
            return action.reshape(space.shape)
        return action
