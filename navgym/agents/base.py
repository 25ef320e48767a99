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

    The env's observations go to ``model.predict`` as they are (SB3 itself turns channel-last
    images channel-first). A model trained behind SB3's ``VecNormalize`` needs its statistics:
    pass that ``VecNormalize`` (``vec_normalize=``; its observations are normalised with them, its
    statistics left unchanged). One trained behind ``VecFrameStack`` needs the env wrapped the same
    way (``gymnasium.wrappers.FrameStackObservation``): the shape error says so.

    Args:
        model: A trained SB3 / sb3-contrib model.
        deterministic: Take the most likely action instead of sampling.
        vec_normalize: The ``VecNormalize`` the model was trained behind (its observation
            statistics), or None.
    """

    def __init__(self, model: Any, deterministic: bool = True, vec_normalize: Any = None):
        self.model = model
        self.deterministic = deterministic
        if vec_normalize is not None and not callable(getattr(vec_normalize, "normalize_obs", None)):
            from navgym.errors import InvalidArgumentError

            raise InvalidArgumentError(
                f"vec_normalize={vec_normalize!r} must be the stable_baselines3 VecNormalize the model was trained behind "
                "(VecNormalize.load(path, venv) restores a saved one), or None"
            )
        self.vec_normalize = vec_normalize
        self._state = None
        self._episode_start = True
        self._rng_state = None  # this agent's own torch generator state (sampling), never torch's global one

    def reset(self, seed: int | None = None) -> None:
        """Start an episode; with ``seed`` and ``deterministic=False`` the sampled actions are
        seeded, so an episode's actions do not depend on the ones before. The seed drives a
        generator state of the agent's own: torch's global generator (a training run's, when an
        evaluation runs inside it) is left as it was."""
        self._state = None
        self._episode_start = True
        if seed is not None and not self.deterministic:
            import torch

            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                self._rng_state = torch.get_rng_state()

    def policy(self, obs: dict[str, Any]) -> Any:
        """The model's action: an ``int`` for a ``Discrete`` action space, else an array of the
        action space's shape (velocity commands of a ``Box`` body: Jetbot, H1, Aliengo, unicycle)."""
        import numpy as np
        import torch
        from gymnasium import spaces

        if self.vec_normalize is not None:
            obs = self.vec_normalize.normalize_obs(obs)
        try:
            if self._rng_state is None:
                action, self._state = self._predict(obs)
            else:
                with torch.random.fork_rng(devices=[]):
                    torch.set_rng_state(self._rng_state)
                    action, self._state = self._predict(obs)
                    self._rng_state = torch.get_rng_state()
        except ValueError as exc:
            if "Unexpected observation shape" not in str(exc):
                raise
            from navgym.errors import InvalidArgumentError

            raise InvalidArgumentError(
                f"{exc}. SB3Agent hands the model the env's observations as they are: a model trained behind VecFrameStack "
                "needs the env wrapped alike (gymnasium.wrappers.FrameStackObservation(env, n)), one trained on other "
                "sensors or resolutions needs the env made with those"
            ) from exc
        self._episode_start = False
        action = np.asarray(action)
        space = getattr(self.model, "action_space", None)
        if isinstance(space, spaces.Discrete) or (space is None and action.size == 1 and np.issubdtype(action.dtype, np.integer)):
            return int(action.item())
        if space is not None and space.shape is not None and action.size == int(np.prod(space.shape)):
            return action.reshape(space.shape)
        return action

    def _predict(self, obs: Any) -> tuple[Any, Any]:
        import numpy as np

        return self.model.predict(obs, state=self._state, episode_start=np.array([self._episode_start]), deterministic=self.deterministic)
