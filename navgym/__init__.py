"""navgym: Gymnasium environments for goal-oriented embodied navigation.

``import navgym`` registers the env ids (``ImageNav-ProcHouse-v0``, ``ObjectNav-HM3D-v0``, ...);
see :func:`navgym.envs.registration.env_ids`.
"""

from navgym.envs.registration import env_ids, register_envs

__version__ = "0.1.0"

register_envs()

__all__ = ["env_ids", "register_envs", "__version__"]
