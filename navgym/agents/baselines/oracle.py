"""The oracle: follows the geodesic shortest path. Privileged; an upper bound, not a method.

It reads ``obs["oracle_action"]``, which only :class:`~navgym.wrappers.privileged.PrivilegedObservation`
adds, and only for discrete actions: wrap the env with it (``navgym evaluate --agent oracle`` does).
Velocity-commanded bodies (``Box`` actions) get the path instead: use ``semnav-oracle``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from navgym.errors import InvalidArgumentError


class OracleAgent:
    """Takes the shortest-path follower's action from the privileged observation.

    Raises:
        InvalidArgumentError: ``env``'s actions are not discrete (a velocity-commanded body).
    """

    privileged = True

    def __init__(self, env: gym.Env | None = None):
        space = getattr(env, "action_space", None)
        if space is not None and not isinstance(space, gym.spaces.Discrete):
            raise InvalidArgumentError(
                f"the oracle agent needs discrete actions (it takes obs['oracle_action'], the shortest-path follower's "
                f"next action), but env's action space is a {type(space).__name__}"
                f"{f' of shape {space.shape}' if space.shape else ''}; for velocity-commanded bodies use "
                "agent 'semnav-oracle' (the same shortest path, followed by the MPPI planner), or a discrete "
                "embodiment (embodiment='habitat')"
            )

    def reset(self) -> None:
        pass

    def policy(self, obs: dict[str, Any]) -> int:
        if "oracle_action" not in obs:
            raise KeyError(
                "The oracle needs obs['oracle_action']: wrap the env with "
                "navgym.wrappers.PrivilegedObservation (privileged information, for upper bounds only)"
            )
        return int(obs["oracle_action"])
