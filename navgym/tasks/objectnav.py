"""ObjectNav: find any instance of a named object category (HM3D challenge setting).

Defaults: camera 0.88 m, HFOV 79°, 640x480 in Habitat (128x128 here, a keyword), turn 30°, look
up/down 30°, agent radius 0.18 m, 500 steps. Success: ``stop`` within 0.1 m of a goal view point,
Habitat's rule; where a dataset has no view points (ProcHouse) the view points are all navigable
points within ``success_distance`` (1 m) of an instance's bounding box, so success means stopping
within 1 m of any instance of the category.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from navgym.core.registry import did_you_mean
from navgym.core.specs import BodySpec, CameraSpec
from navgym.datasets import prochouse as gen
from navgym.datasets.episodes import Episode, EpisodeDataset
from navgym.datasets.goals import object_goal_points
from navgym.embodiments import Embodiment, HabitatDiscreteAgent
from navgym.errors import InvalidArgumentError
from navgym.sims.base import Simulator
from navgym.tasks.base import Task

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


def object_task_embodiment(camera_height: float) -> HabitatDiscreteAgent:
    """The Habitat agent of the object-goal tasks: HFOV 79°, depth to 5 m, at ``camera_height``."""
    return HabitatDiscreteAgent(camera=CameraSpec(128, 128, 79.0, camera_height, outputs=("rgb", "depth"), max_depth=5.0))


@dataclass
class ObjectGoalTask(Task):
    """What the object-goal tasks share: a category vocabulary and view-point success (0.1 m).

    Attributes:
        categories: The goal vocabulary (``objectgoal`` indexes it); on MP3D and Gibson data the
            default is MP3D's 21 categories.
    """

    categories: tuple[str, ...] = HM3D_CATEGORIES

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.categories, str) or not all(isinstance(c, str) for c in self.categories) or not self.categories:
            raise InvalidArgumentError(f"categories={self.categories!r} must be a non-empty list of category names, e.g. ['chair', 'bed']")
        self.categories = tuple(self.categories)
        repeated = sorted({c for c in self.categories if self.categories.count(c) > 1})
        if repeated:
            raise InvalidArgumentError(
                f"categories={list(self.categories)!r} names {', '.join(map(repr, repeated))} more than once: objectgoal indexes "
                "the list, so each category must appear once; remove the repeats"
            )

    @classmethod
    def dataset_defaults(cls, dataset: str) -> dict[str, Any]:
        return {"categories": MP3D_CATEGORIES} if dataset in ("MP3D", "Gibson") else {}

    def goal_points(self, sim: Simulator, episode: Episode, agent_id: int = 0) -> np.ndarray:
        return object_goal_points(sim, episode.goals[:1], self.success_distance, agent_id)

    def goal_radius(self, episode: Episode) -> float:
        return VIEW_POINT_RADIUS

    def category_index(self, category: str, episode: Episode | None = None) -> int:
        if category not in self.categories:
            where = f"Episode {episode.episode_id} (scene {episode.scene_id}): " if episode is not None else ""
            raise InvalidArgumentError(
                f"{where}object_category={category!r} is not in this task's categories {list(self.categories)}.{self._categories_fix([category])}"
            )
        return self.categories.index(category)

    def _categories_fix(self, missing: list) -> str:
        """How to give the task the ``missing`` categories of some episodes."""
        hint = "".join(did_you_mean(c, list(self.categories)) for c in missing[:3] if isinstance(c, str))
        names = [c for c in missing if isinstance(c, str) and c]
        if len(names) < len(missing):  # a missing or non-text category: only the file can be corrected
            return f"{hint} Give every episode an object_category (a name) in the episode file"
        return (
            f"{hint} Pass categories={list(self.categories) + names} to gym.make (a goal's index is its place in "
            "that list), or correct object_category in the episode file"
        )

    def check_dataset(self, dataset: EpisodeDataset) -> None:
        """Every episode's ``object_category`` is one of ``categories``: the goal observations
        index them. Else an :class:`InvalidArgumentError` naming each missing category, how many
        episodes ask for it, the first of them and the ``categories=`` that holds them all."""
        missing: dict[Any, list[Episode]] = {}
        for episode in dataset.episodes:
            if episode.object_category not in self.categories:
                missing.setdefault(episode.object_category, []).append(episode)
        if missing:
            found = "; ".join(
                f"object_category={c!r} in {len(eps)} episode(s), the first {eps[0].episode_id} (scene {eps[0].scene_id})"
                for c, eps in missing.items()
            )
            raise InvalidArgumentError(
                f"Episodes ask for categories not in this task's {list(self.categories)}: {found}.{self._categories_fix(list(missing))}"
            )


@dataclass
class ObjectNavTask(ObjectGoalTask):
    """Navigate to any instance of a goal category."""

    name: ClassVar[str] = "ObjectNav"
    goal_sensors: ClassVar[tuple[str, ...]] = ("objectgoal",)
    default_sensors: ClassVar[tuple[str, ...]] = ("rgb", "depth", "gps", "compass", "objectgoal")
    max_episode_steps: ClassVar[int] = 500
    episode_kind: ClassVar[str] = "objectnav"
    habitat_dirs: ClassVar[tuple[str, ...]] = ("objectnav",)
    generation_salt: ClassVar[int] = 13

    def default_embodiment(self) -> Embodiment:
        agent = object_task_embodiment(0.88)
        return agent.with_(body=BodySpec(radius=0.18, height=0.88), tilt_actions=True)

    def prepare_dataset(self, dataset: EpisodeDataset) -> None:
        dataset.category_to_task_category_id = {c: i for i, c in enumerate(self.categories)}

    def goal_points(self, sim: Simulator, episode: Episode, agent_id: int = 0) -> np.ndarray:
        return object_goal_points(sim, episode.goals, self.success_distance, agent_id)

    def goal_observation_space(self, camera: CameraSpec) -> dict[str, spaces.Space]:
        return {"objectgoal": spaces.Discrete(len(self.categories))}

    def goal_observations(self, sim: Simulator, episode: Episode, camera: CameraSpec, goal_camera: CameraSpec | None = None) -> dict[str, Any]:
        return {"objectgoal": self.category_index(episode.object_category, episode)}

    def make_prochouse_episode(self, sim, rng, distance_bin, episode_id, embodiment) -> Episode | None:
        graph = sim.scene_graph()
        reach = self.success_distance
        present = [c for c in self.categories if any(gen.reachable(sim, i, reach) for i in graph.objects(c))]
        if not present:
            return None
        category = present[int(rng.integers(len(present)))]
        goals = [gen.object_goal(inst, graph) for inst in graph.objects(category) if gen.reachable(sim, inst, reach)]
        points = object_goal_points(sim, goals, reach)
        start, rotation = gen.random_start(sim, rng)
        geodesic = gen.accept_distance(sim, rng, np.asarray(start), points, distance_bin)
        if geodesic is None:
            return None
        return gen.make_episode(sim, episode_id, start, rotation, goals, geodesic, object_category=category)
