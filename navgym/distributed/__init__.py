"""Evaluation and PPO rollouts spread over Ray actors, on one machine or a cluster (docs/scaling.md).

Ray is optional (``pip install "navgym[ray]"``); nothing here imports it until used, and using it
without Ray raises ``gymnasium.error.DependencyNotInstalled`` naming the extra.
"""

from navgym.distributed.cluster import RayConnectionError, check_address, connect, require_ray
from navgym.distributed.evaluation import RayEpisodeRunner, WorkerError, WorkerLostWarning
from navgym.distributed.vec_env import EnvWorkerDiedError, RayVecEnv

__all__ = [
    "EnvWorkerDiedError", "RayConnectionError", "RayEpisodeRunner", "RayVecEnv", "WorkerError", "WorkerLostWarning", "check_address", "connect",
    "require_ray",
]
