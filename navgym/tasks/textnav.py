"""TextNav: find the one object instance a sentence describes (the PSL / UniGoal text goal).

The description is built from the instance's attributes and relations, e.g. "the red wooden chair
next to the dining table in the kitchen" (:mod:`navgym.scenes.describe`). Success within 1 m of the
instance, 1000 steps. The goal comes as ``textgoal`` (a Gymnasium ``Text`` space) and
``textgoal_category`` (the described instance's category index) for policies that need a number.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from navgym.core.specs import CameraSpec
from navgym.datasets import prochouse as gen
from navgym.datasets.episodes import Episode
from navgym.datasets.goals import object_goal_points
from navgym.embodiments import Embodiment
from navgym.errors import DatasetFormatError
from navgym.scenes.describe import describe_instance
from navgym.sims.base import Simulator
from navgym.tasks.objectnav import ObjectGoalTask, object_task_embodiment
from navgym.tasks.text_goals import goal_text

#: Longest description the ``textgoal`` space admits.
MAX_TEXT_LENGTH = 512
_CHARSET = string.ascii_letters + string.digits + " ,.;:'-_()/&!?\""


def episode_text(episode: Episode) -> str:
    """The episode's description: ``instruction``, else the PSL-style goal_attributes joined."""
    if episode.instruction:
        return str(episode.instruction)
    attributes = episode.goal_attributes or {}
    parts = [attributes.get("intrinsic_attributes", ""), attributes.get("extrinsic_attributes", "")]
    text = " ".join(p.strip() for p in parts if p and p.strip())
    if not text:
        raise DatasetFormatError(f"Episode {episode.episode_id}: a TextNav episode needs `instruction` or `goal_attributes`")
    return text


@dataclass
class TextNavTask(ObjectGoalTask):
    """Navigate to the object instance a text describes."""

    name: ClassVar[str] = "TextNav"
    goal_sensors: ClassVar[tuple[str, ...]] = ("textgoal", "textgoal_category")
    default_sensors: ClassVar[tuple[str, ...]] = ("rgb", "depth", "gps", "compass", "textgoal", "textgoal_category")
    max_episode_steps: ClassVar[int] = 1000
    episode_kind: ClassVar[str] = "textnav"
    habitat_dirs: ClassVar[tuple[str, ...]] = ("textnav", "text_nav", "textgoal_nav")
    generation_salt: ClassVar[int] = 19

    def default_embodiment(self) -> Embodiment:
        return object_task_embodiment(0.88)

    @classmethod
    def extra_episode_files(cls, dataset: str, split: str, root: Path) -> list[Path]:
        # PSL's text-goal set: datasets/instancenav/<split>/<split>_text.json.gz (HM3D only).
        if dataset != "HM3D":
            return []
        base = root / "datasets" / "instancenav" / split
        return [base / f"{split}_text.json.gz", base / f"{split}_text.json"]

    def goal_observation_space(self, camera: CameraSpec) -> dict[str, spaces.Space]:
        return {
            "textgoal": spaces.Text(max_length=MAX_TEXT_LENGTH, min_length=0, charset=_CHARSET),
            "textgoal_category": spaces.Discrete(len(self.categories)),
        }

    def goal_observations(self, sim: Simulator, episode: Episode, camera: CameraSpec, goal_camera: CameraSpec | None = None) -> dict[str, Any]:
        field = "instruction" if episode.instruction else "goal_attributes (PSL's attribute_data)"
        text = goal_text(episode_text(episode), episode, field, "textgoal", _CHARSET, MAX_TEXT_LENGTH)
        return {"textgoal": text, "textgoal_category": self.category_index(episode.object_category, episode)}

    def make_prochouse_episode(self, sim, rng, distance_bin, episode_id, embodiment) -> Episode | None:
        graph = sim.scene_graph()
        inst = gen.goal_instance(sim, graph, rng, self.categories, self.success_distance)
        if inst is None:
            return None
        description = describe_instance(graph, inst)
        if description is None:
            return None
        intrinsic, extrinsic = description
        goal = gen.object_goal(inst, graph)
        points = object_goal_points(sim, [goal], self.success_distance)
        start, rotation = gen.random_start(sim, rng)
        geodesic = gen.accept_distance(sim, rng, np.asarray(start), points, distance_bin)
        if geodesic is None:
            return None
        instruction = f"{intrinsic} {extrinsic}".strip()
        return gen.make_episode(
            sim, episode_id, start, rotation, [goal], geodesic,
            object_category=inst.category, goal_object_id=int(inst.id),
            goal_attributes={"intrinsic_attributes": intrinsic, "extrinsic_attributes": extrinsic},
            instruction=instruction,
        )
