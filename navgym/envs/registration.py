"""The one registration table of navgym's Gymnasium ids: ``{Task}-{Dataset}-v0`` for every
registered task and dataset, plus the variants below.

``import navgym`` registers them; ``gym.make("navgym:ImageNav-ProcHouse-v0")`` imports navgym
itself. Keyword arguments of ``gym.make`` reach :func:`navgym.envs.factory.make_nav_env`; step
limits come from each task's ``max_episode_steps``.
"""

from __future__ import annotations

import gymnasium as gym

from navgym.datasets import DATASETS
from navgym.tasks import TASKS

#: Extra variants: id -> (task, dataset, kwargs, max steps; ``None``: the task's).
VARIANTS = {
    # Goals within a few metres: learning shows within a CPU budget (RSRNav issue).
    "ImageNav-ProcHouseEasy-v0": ("ImageNav", "ProcHouse", {"difficulty": "easy", "max_goal_distance": 4.0}, 200),
    "ImageNav-ProcHouseNear-v0": ("ImageNav", "ProcHouse", {"difficulty": "near"}, 100),
    # PointNav for a course: 4 houses, goals 1.5-3 m away, the Habitat Challenge's 0.36 m radius,
    # 100 steps (PPO from scratch: training success 0.02 -> 0.83 in 30 CPU minutes, docs/training.md).
    "PointNav-ProcHouseSmall-v0": ("PointNav", "ProcHouse", {"difficulty": "easy", "num_scenes": 4, "success_distance": 0.36}, 100),
    # One id per body of the dual-heatmap paper (SemanticNav-ProcHouse-v0 takes embodiment= as well).
    **{
        f"SemanticNav-ProcHouse-{label}-v0": ("SemanticNav", "ProcHouse", {"embodiment": body}, None)
        for label, body in (("Jetbot", "jetbot"), ("H1", "h1"), ("Aliengo", "aliengo"))
    },
    # RAGNav's setting: MultiGoalVLN on the AirSim backend (sim="airsim", docs/tasks.md), ProcHouse episodes.
    "MultiGoalVLN-AirSim-v0": ("MultiGoalVLN", "ProcHouse", {"sim": "airsim"}, None),
}


def _table() -> dict[str, tuple[str, str, dict, int]]:
    table = {}
    for task in TASKS.names():
        steps = TASKS.get(task).max_episode_steps
        for dataset in DATASETS:
            table[f"{task}-{dataset}-v0"] = (task, dataset, {}, steps)
    variants = {
        env_id: (task, dataset, kwargs, TASKS.get(task).max_episode_steps if steps is None else steps)
        for env_id, (task, dataset, kwargs, steps) in VARIANTS.items()
    }
    return {**table, **variants}


def env_ids() -> list[str]:
    """Every registered navgym id."""
    return list(_table())


def register_envs() -> None:
    """Register every navgym id with Gymnasium (idempotent)."""
    for env_id, (task, dataset, kwargs, steps) in _table().items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point="navgym.envs.factory:make_nav_env",
                kwargs={"task": task, "dataset": dataset, **kwargs},
                max_episode_steps=steps,
            )
