"""InstanceImageNav: find the one object instance shown in a goal photo (Habitat's IIN).

The goal image is taken by an independent camera whose pose, HFOV and size are stored in the
episode (``image_goals`` of the goal, as in Habitat's format); it is rendered at the observation's
size so policies see a fixed shape. Success: ``stop`` within 1 m of the instance (0.1 m of its view
points), 1000 steps; camera 1.31 m as in Habitat's HM3D IIN config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from navgym.core.geometry import quaternion_to_yaw
from navgym.core.specs import AgentState, CameraSpec
from navgym.datasets import prochouse as gen
from navgym.datasets.episodes import Episode, EpisodeDataset, InstanceImageGoal
from navgym.datasets.goals import object_goal_points
from navgym.embodiments import Embodiment
from navgym.errors import DatasetFormatError
from navgym.sims.base import Simulator
from navgym.tasks.imagenav import fit_image
from navgym.tasks.objectnav import ObjectGoalTask, object_task_embodiment


@dataclass
class InstanceImageNavTask(ObjectGoalTask):
    """Navigate to the object instance pictured by the goal image (goal instances are drawn from
    ``categories`` when generating episodes; HM3D IIN uses the six HM3D categories)."""

    name: ClassVar[str] = "InstanceImageNav"
    goal_sensors: ClassVar[tuple[str, ...]] = ("instance_imagegoal",)
    default_sensors: ClassVar[tuple[str, ...]] = ("rgb", "depth", "gps", "compass", "instance_imagegoal")
    max_episode_steps: ClassVar[int] = 1000
    episode_kind: ClassVar[str] = "instance_imagenav"
    habitat_dirs: ClassVar[tuple[str, ...]] = ("instance_imagenav",)
    generation_salt: ClassVar[int] = 17

    @classmethod
    def dataset_defaults(cls, dataset: str) -> dict[str, Any]:
        return {}

    def default_embodiment(self) -> Embodiment:
        return object_task_embodiment(1.31)

    def check_dataset(self, dataset: EpisodeDataset) -> None:
        """Nothing to check: the goal is the pictured instance, its category is not observed."""

    def image_goal(self, episode: Episode):
        goal = episode.goals[0]
        index = int(episode.goal_image_id or 0)
        if not goal.image_goals or not 0 <= index < len(goal.image_goals):
            raise DatasetFormatError(
                f"Episode {episode.episode_id}: goal_image_id={episode.goal_image_id!r} does not index the "
                f"goal's {len(goal.image_goals or [])} image_goals"
            )
        return goal.image_goals[index]

    def goal_heading(self, episode: Episode) -> float | None:
        return quaternion_to_yaw(self.image_goal(episode).rotation)

    def goal_observation_space(self, camera: CameraSpec) -> dict[str, spaces.Space]:
        return {"instance_imagegoal": spaces.Box(0, 255, (camera.height, camera.width, 3), dtype=np.uint8)}

    def goal_observations(self, sim: Simulator, episode: Episode, camera: CameraSpec, goal_camera: CameraSpec | None = None) -> dict[str, Any]:
        view = self.image_goal(episode)
        # The stored position is the camera's own position: render with zero mount height.
        pose = AgentState(np.asarray(view.position, dtype=np.float64), np.asarray(view.rotation, dtype=np.float64))
        if goal_camera is None:
            # Rendered straight at the observation's size with the stored HFOV (Habitat stores
            # image_dimensions as [height, width]; a square observation keeps the HFOV exact).
            taker = CameraSpec(camera.width, camera.height, float(view.hfov), 0.0, outputs=("rgb",))
        else:
            # Another camera at the same spot: its height counts from the floor, taken as the
            # start's storey (IIN goals lie on the start's storey).
            taker = goal_camera.with_(outputs=("rgb",))
            pose.position = np.array([pose.position[0], float(episode.start_position[1]), pose.position[2]])
        image = sim.render([(pose, taker)])[0]["rgb"]
        return {"instance_imagegoal": fit_image(image, camera.height, camera.width)}

    def make_prochouse_episode(self, sim, rng, distance_bin, episode_id, embodiment) -> Episode | None:
        graph = sim.scene_graph()
        inst = gen.goal_instance(sim, graph, rng, self.categories, self.success_distance)
        if inst is None:
            return None
        view = gen.instance_view(sim, inst, rng, embodiment.camera)
        if view is None:
            return None
        goal = gen.object_goal(inst, graph, cls=InstanceImageGoal, image_goals=[view])
        points = object_goal_points(sim, [goal], self.success_distance)
        start, rotation = gen.random_start(sim, rng)
        geodesic = gen.accept_distance(sim, rng, np.asarray(start), points, distance_bin)
        if geodesic is None:
            return None
        return gen.make_episode(
            sim, episode_id, start, rotation, [goal], geodesic,
            object_category=inst.category, goal_object_id=int(inst.id), goal_image_id=0,
        )
