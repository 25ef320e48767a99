"""ObjectNav: find any instance of a named object category (HM3D challenge setting).

Defaults: camera 0.88 m, HFOV 79°, 640x480 in Habitat (128x128 here, a keyword), turn 30°, look
up/down 30°, agent radius 0.18 m, 500 steps. Success: ``stop`` within 0.1 m of a goal view point,
Habitat's rule; where a dataset has no view points (ProcHouse) the view points are all navigable
points within ``success_distance`` (1 m) of an instance's bounding box, so success means stopping
within 1 m of any instance of the category.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

import numpy as np
from gymnasium import spaces

from navgym.sims.base import AgentSpec, CameraSpec, Simulator
from navgym.tasks.base import Task
from navgym.tasks.episodes import Episode

#: HM3D ObjectNav's six goal categories, in the challenge's index order.
HM3D_CATEGORIES = ("chair", "bed", "plant", "toilet", "tv_monitor", "sofa")
#: MP3D ObjectNav's 21 goal categories, in habitat-lab's index order.
MP3D_CATEGORIES = (
    "chair", "table", "picture", "cabinet", "cushion", "sofa", "bed", "chest_of_drawers", "plant",
    "sink", "toilet", "stool", "towel", "tv_monitor", "shower", "bathtub", "counter", "fireplace",
    "gym_equipment", "seating", "clothes",
)  # fmt: skip
#: Habitat's success radius around view points.
VIEW_POINT_RADIUS = 0.1


def object_goal_points(sim: Simulator, goals: Sequence[Any], success_distance: float) -> np.ndarray:
    """View points of object goals: the dataset's, or navigable points near each instance."""
    points = [vp.position for goal in goals for vp in (getattr(goal, "view_points", None) or [])]
    if points:
        return np.asarray(points, dtype=np.float64)
    by_id = {inst.id: inst for inst in sim.object_instances()}
    chunks = []
    for goal in goals:
        inst = by_id.get(_instance_id(goal.object_id)) if getattr(goal, "object_id", None) is not None else None
        if inst is not None:
            lo, hi = inst.bbox_min, inst.bbox_max
        else:  # no annotation: a box around the goal position
            lo = hi = np.asarray(goal.position, dtype=np.float64)
        chunks.append(sim.navigable_points_near(lo, hi, success_distance))
    points_array = np.concatenate(chunks) if chunks else np.zeros((0, 3))
    if len(points_array) == 0:
        points_array = np.asarray([sim.snap_point(goal.position) for goal in goals], dtype=np.float64)
    return points_array


def _instance_id(object_id: Any) -> int | None:
    """Habitat object ids are ints or strings like ``"chair_12"``: take the trailing integer."""
    if isinstance(object_id, (int, np.integer)):
        return int(object_id)
    tail = str(object_id).rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else None


@dataclass
class ObjectNavTask(Task):
    """Navigate to any instance of a goal category.

    Attributes:
        categories: The goal vocabulary; ``objectgoal`` is an index into it.
    """

    name: ClassVar[str] = "ObjectNav"
    goal_sensors: ClassVar[tuple[str, ...]] = ("objectgoal",)
    default_sensors: ClassVar[tuple[str, ...]] = ("rgb", "depth", "gps", "compass", "objectgoal")
    uses_tilt: ClassVar[bool] = True

    camera: CameraSpec = field(default_factory=lambda: CameraSpec(128, 128, 79.0, 0.88, outputs=("rgb", "depth"), max_depth=5.0))
    agent: AgentSpec = field(default_factory=lambda: AgentSpec(radius=0.18, height=0.88, tilt_angle=30.0))
    categories: tuple[str, ...] = HM3D_CATEGORIES

    def goal_points(self, sim: Simulator, episode: Episode) -> np.ndarray:
        return object_goal_points(sim, episode.goals, self.success_distance)

    def goal_radius(self, episode: Episode) -> float:
        return VIEW_POINT_RADIUS

    def category_index(self, category: str) -> int:
        if category not in self.categories:
            raise ValueError(f"object_category={category!r} is not in this task's categories {self.categories}")
        return self.categories.index(category)

    def goal_observation_space(self) -> dict[str, spaces.Space]:
        return {"objectgoal": spaces.Discrete(len(self.categories))}

    def goal_observations(self, sim: Simulator, episode: Episode, goal_camera: CameraSpec | None = None) -> dict[str, Any]:
        return {"objectgoal": self.category_index(episode.object_category)}
