"""The one registration table of navgym's Gymnasium ids: ``{Task}-{Dataset}-v0``.

``import navgym`` registers them; ``gym.make("navgym:ImageNav-ProcHouse-v0")`` imports navgym
itself. Keyword arguments of ``gym.make`` reach :func:`navgym.envs.factory.make_nav_env`.
"""

from __future__ import annotations

import gymnasium as gym

from navgym.envs.factory import DATASETS, TASKS

#: Step limits from the papers (500 for ImageNav/ObjectNav, 1000 for InstanceImageNav/TextNav).
MAX_EPISODE_STEPS = {"ImageNav": 500, "InstanceImageNav": 1000, "ObjectNav": 500, "TextNav": 1000}
#: Extra variants: id -> (task, dataset, kwargs, max steps).
VARIANTS = {
    # Small houses, goals within a few metres: learning shows within a CPU budget (RSRNav issue).
    "ImageNav-ProcHouseEasy-v0": ("ImageNav", "ProcHouse", {"difficulty": "easy", "max_goal_distance": 4.0}, 200),
    "ImageNav-ProcHouseNear-v0": ("ImageNav", "ProcHouse", {"difficulty": "near"}, 100),
}


def env_ids() -> list[str]:
    """Every registered navgym id."""
    ids = [f"{task}-{dataset}-v0" for task in TASKS for dataset in DATASETS]
    return ids + list(VARIANTS)


def register_envs() -> None:
    """Register every navgym id with Gymnasium (idempotent)."""
    for task in TASKS:
        for dataset in DATASETS:
            env_id = f"{task}-{dataset}-v0"
            if env_id not in gym.registry:
                gym.register(
                    id=env_id,
                    entry_point="navgym.envs.factory:make_nav_env",
                    kwargs={"task": task, "dataset": dataset},
                    max_episode_steps=MAX_EPISODE_STEPS[task],
                )
    for env_id, (task, dataset, kwargs, steps) in VARIANTS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point="navgym.envs.factory:make_nav_env",
                kwargs={"task": task, "dataset": dataset, **kwargs},
                max_episode_steps=steps,
            )
