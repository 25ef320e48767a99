"""Several agents in one scene: a PettingZoo parallel env (and its AEC form) over navgym's tasks,
embodiments and simulator (docs/multiagent.md).

```python
from navgym.multiagent import parallel_env

env = parallel_env("ObjectNav-ProcHouse-v0", num_agents=2, embodiments=["habitat", "jetbot"], num_scenes=1)
observations, infos = env.reset(seed=0)
while env.agents:
    actions = {agent: env.action_space(agent).sample() for agent in env.agents}
    observations, rewards, terminations, truncations, infos = env.step(actions)
```

Needs the ``multiagent`` extra (``pip install 'navgym[multiagent]'``: PettingZoo, SuperSuit, SB3).
Layers: the env, its pictures and the training helpers (``parallel``, ``draw``, ``training``) import
only ``envs`` and the layers below it; :mod:`navgym.multiagent.evaluate` also imports ``navgym.agents``
and ``navgym.evaluation``, so the package as a whole sits between ``navgym.training`` and
``navgym.evaluation`` (docs/multiagent.md).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

__all__ = ["env", "parallel_env", "raw_env", "require"]


def require() -> None:
    """Raise ``DependencyNotInstalled`` naming the extra when PettingZoo is missing."""
    try:
        import pettingzoo  # noqa: F401
    except ImportError as exc:
        raise gym.error.DependencyNotInstalled(
            "navgym.multiagent needs PettingZoo (and SuperSuit to train with SB3): pip install 'navgym[multiagent]'"
        ) from exc


def parallel_env(env_ids: Any = "ObjectNav-ProcHouse-v0", num_agents: int | None = None, **kwargs: Any):
    """A :class:`~navgym.multiagent.parallel.NavParallelEnv` (PettingZoo's parallel API): see its
    arguments (``embodiments``, ``shared_goal``, ``render_mode``, ``max_cycles``, ``state_size``,
    ``seat_kwargs``, and ``gym.make`` keywords for every seat)."""
    require()
    from navgym.multiagent.parallel import NavParallelEnv

    return NavParallelEnv(env_ids, num_agents, **kwargs)


def raw_env(env_ids: Any = "ObjectNav-ProcHouse-v0", num_agents: int | None = None, **kwargs: Any):
    """The AEC form of :func:`parallel_env` (PettingZoo's ``parallel_to_aec`` converter)."""
    require()
    from pettingzoo.utils.conversions import parallel_to_aec

    return parallel_to_aec(parallel_env(env_ids, num_agents, **kwargs))


def env(env_ids: Any = "ObjectNav-ProcHouse-v0", num_agents: int | None = None, **kwargs: Any):
    """The AEC env, as PettingZoo's ``env()`` constructors return it (order enforced)."""
    require()
    from pettingzoo.utils import wrappers

    aec = raw_env(env_ids, num_agents, **kwargs)
    return aec if isinstance(aec, wrappers.OrderEnforcingWrapper) else wrappers.OrderEnforcingWrapper(aec)
