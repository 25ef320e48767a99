"""navgym: Gymnasium environments for goal-oriented embodied navigation.

``import navgym`` registers the env ids (``ImageNav-ProcHouse-v0``, ``ObjectNav-HM3D-v0``, ...;
see :func:`navgym.envs.registration.env_ids`). ``navgym.agents``, ``navgym.wrappers`` and the
other subpackages are imported on first attribute access, so ``import navgym`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from navgym.envs.registration import env_ids, register_envs

__version__ = "0.1.0"

register_envs()

_SUBPACKAGES = ("agents", "core", "datasets", "embodiments", "envs", "errors", "scenes", "semnav", "sims", "tasks", "testing", "wrappers")


def __getattr__(name: str) -> Any:
    if name == "make_vec":  # several envs stepped on threads in one process (navgym/envs/vector.py)
        from navgym.envs.vector import make_vec

        return make_vec
    if name in _SUBPACKAGES:
        return importlib.import_module(f"navgym.{name}")
    raise AttributeError(f"module 'navgym' has no attribute {name!r}")


__all__ = ["env_ids", "make_vec", "register_envs", "__version__", *_SUBPACKAGES]
