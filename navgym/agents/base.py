"""The one agent interface: ``reset()`` then ``policy(obs) -> action`` every step.

Agents are built by name with :func:`make` (``navgym.agents.make("frontier", ...)``); any
stable-baselines3 model becomes an agent through :class:`SB3Agent`.
"""

from __future__ import annotations

import difflib
from typing import Any, Callable, Protocol, runtime_checkable

import gymnasium as gym


@runtime_checkable
class Agent(Protocol):
    """What navgym's evaluator, CLI and users call."""

    def reset(self) -> None:
        """Forget the previous episode."""

    def policy(self, obs: dict[str, Any]) -> Any:
        """The action for this observation (an index into the env's actions)."""


_REGISTRY: dict[str, Callable[..., Agent]] = {}
_DESCRIPTIONS: dict[str, str] = {}


def register_agent(name: str, description: str = "") -> Callable:
    """Decorator: make an agent class or factory buildable as ``make(name, ...)``."""

    def decorate(factory: Callable[..., Agent]) -> Callable[..., Agent]:
        _REGISTRY[name] = factory
        _DESCRIPTIONS[name] = description or (factory.__doc__ or "").strip().splitlines()[0]
        return factory

    return decorate


def agent_names() -> dict[str, str]:
    """Registered agent names and one-line descriptions."""
    _load_builtin_agents()
    return dict(sorted(_DESCRIPTIONS.items()))


def make(name: str, env: gym.Env | None = None, **kwargs: Any) -> Agent:
    """Build a registered agent by name; ``env`` gives it the action and observation spaces.

    Raises:
        ValueError: for an unknown name, with the closest registered names.
    """
    _load_builtin_agents()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"agent={name!r} is not a registered agent.{hint} Registered agents: {sorted(_REGISTRY)}")
    return _REGISTRY[name](env=env, **kwargs)


def make_for_env(name: str, env: gym.Env, **kwargs: Any) -> tuple[Agent, gym.Env]:
    """:func:`make` plus the env the agent must act in: a privileged agent (``agent.privileged``,
    e.g. the oracle) gets ``env`` wrapped in :class:`~navgym.wrappers.PrivilegedObservation`."""
    agent = make(name, env=env, **kwargs)
    if getattr(agent, "privileged", False):
        from navgym.wrappers.privileged import PrivilegedObservation

        env = PrivilegedObservation(env)
    return agent, env


def sensors_for(name: str, task: Any) -> tuple[str, ...] | None:
    """The sensors an env should emit for agent ``name`` on ``task`` (a Task or its class): the
    task's defaults plus what the agent declares with a ``needed_sensors(task)`` static method;
    ``None`` when the agent declares nothing."""
    _load_builtin_agents()
    needed = getattr(_REGISTRY.get(name), "needed_sensors", None)
    if needed is None:
        return None
    return tuple(dict.fromkeys(tuple(task.default_sensors) + tuple(needed(task))))


def _load_builtin_agents() -> None:
    # Importing the modules runs their @register_agent decorators.
    from navgym.agents import frontier, oracle, random_agent, rsrnav  # noqa: F401  (rsrnav imports torch only when loading)


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

    def reset(self) -> None:
        self._state = None
        self._episode_start = True

    def policy(self, obs: dict[str, Any]) -> int:
        import numpy as np

        action, self._state = self.model.predict(
            obs, state=self._state, episode_start=np.array([self._episode_start]), deterministic=self.deterministic
        )
        self._episode_start = False
        return int(np.asarray(action).item())
