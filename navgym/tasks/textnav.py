"""TextNav: find the one object instance a sentence describes (the PSL / UniGoal text goal).

The description is built from the instance's attributes and relations, e.g. "the red wooden chair
next to the dining table in the kitchen". Success within 1 m of the instance, 1000 steps. The goal
comes as ``textgoal`` (a Gymnasium ``Text`` space) and ``textgoal_category`` (the described
instance's category index) for policies that need a number.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from navgym.sims.base import CameraSpec, Simulator
from navgym.tasks.base import Task
from navgym.tasks.episodes import Episode
from navgym.tasks.objectnav import HM3D_CATEGORIES, VIEW_POINT_RADIUS, object_goal_points

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
        raise ValueError(f"Episode {episode.episode_id}: a TextNav episode needs `instruction` or `goal_attributes`")
    return text


@dataclass
class TextNavTask(Task):
    """Navigate to the object instance a text describes."""

    name: ClassVar[str] = "TextNav"
    goal_sensors: ClassVar[tuple[str, ...]] = ("textgoal", "textgoal_category")
    default_sensors: ClassVar[tuple[str, ...]] = ("rgb", "depth", "gps", "compass", "textgoal", "textgoal_category")

    camera: CameraSpec = field(default_factory=lambda: CameraSpec(128, 128, 79.0, 0.88, outputs=("rgb", "depth"), max_depth=5.0))
    categories: tuple[str, ...] = HM3D_CATEGORIES

    def goal_points(self, sim: Simulator, episode: Episode) -> np.ndarray:
        return object_goal_points(sim, episode.goals[:1], self.success_distance)

    def goal_radius(self, episode: Episode) -> float:
        return VIEW_POINT_RADIUS

    def goal_observation_space(self) -> dict[str, spaces.Space]:
        return {
            "textgoal": spaces.Text(max_length=MAX_TEXT_LENGTH, min_length=0, charset=_CHARSET),
            "textgoal_category": spaces.Discrete(len(self.categories)),
        }

    def goal_observations(self, sim: Simulator, episode: Episode, goal_camera: CameraSpec | None = None) -> dict[str, Any]:
        text = "".join(c for c in episode_text(episode) if c in _CHARSET)[:MAX_TEXT_LENGTH]
        category = episode.object_category
        if category not in self.categories:
            raise ValueError(f"Episode {episode.episode_id}: object_category={category!r} is not in this task's categories {self.categories}")
        index = self.categories.index(category)
        return {"textgoal": text, "textgoal_category": index}
