"""The oracle: follows the geodesic shortest path. Privileged; an upper bound, not a method.

It reads ``obs["oracle_action"]``, which only :class:`~navgym.wrappers.privileged.PrivilegedObservation`
adds: wrap the env with it (``navgym evaluate --agent oracle`` does).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym



class OracleAgent:
    """Takes the shortest-path follower's action from the privileged observation."""

    privileged = True

    def __init__(self, env: gym.Env | None = None):
        pass

    def reset(self) -> None:
        pass

    def policy(self, obs: dict[str, Any]) -> int:
        if "oracle_action" not in obs:
            raise KeyError(
                "The oracle needs obs['oracle_action']: wrap the env with "
                "navgym.wrappers.PrivilegedObservation (privileged information, for upper bounds only)"
            )
        return int(obs["oracle_action"])
