"""docs/tasks.md states the goal distances the ProcHouse difficulty variants really generate
(issue 19: Easy was documented as 1.5-4 m; its episodes are 1.5-3 m)."""

from __future__ import annotations

import re
from pathlib import Path

import gymnasium as gym
import pytest

import navgym  # noqa: F401
from navgym.datasets.prochouse import DIFFICULTY_BINS
from navgym.envs.registration import VARIANTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "tasks.md"
DIFFICULTY_IDS = [env_id for env_id, (_, dataset, kwargs, _) in VARIANTS.items() if dataset == "ProcHouse" and "difficulty" in kwargs]


def effective_bin(env_id: str) -> tuple[float, float]:
    """The geodesic bin generation uses: the difficulty's, capped by ``max_goal_distance``."""
    kwargs = VARIANTS[env_id][2]
    low, high = DIFFICULTY_BINS[kwargs["difficulty"]]
    return low, min(high, kwargs.get("max_goal_distance", high))


@pytest.mark.parametrize("env_id", DIFFICULTY_IDS)
def test_tasks_doc_states_the_generated_goal_distances(env_id):
    documented = re.search(rf"`{env_id}`: goals ([\d.]+)-([\d.]+) m", " ".join(DOC.read_text().split()))
    assert documented, f"docs/tasks.md does not say `{env_id}`: goals <low>-<high> m"
    assert tuple(map(float, documented.groups())) == effective_bin(env_id)
    assert f", {VARIANTS[env_id][3]} steps" in " ".join(DOC.read_text().split())[documented.end():][:200]


@pytest.mark.parametrize("env_id", DIFFICULTY_IDS)
def test_generated_episodes_are_inside_the_bin(env_id):
    low, high = effective_bin(env_id)
    env = gym.make(env_id, split="val", num_scenes=2, episodes_per_scene=4)
    episodes = env.unwrapped.dataset.episodes
    assert episodes
    distances = [env.reset(options={"episode_id": e.episode_id})[1]["distance_to_goal"] for e in episodes]
    assert all(low <= d <= high for d in distances), (env_id, distances)
    env.close()
