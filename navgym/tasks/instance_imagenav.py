"""InstanceImageNav: find the one object instance shown in a goal photo (Habitat's IIN).

The goal image is taken by an independent camera whose pose, HFOV and size are stored in the
episode (``image_goals`` of the goal, as in Habitat's format); it is rendered at the observation's
size so policies see a fixed shape. Success: ``stop`` within 1 m of the instance (0.1 m of its view
points), 1000 steps; camera 1.31 m as in Habitat's HM3D IIN config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from navgym.sims.base import AgentState, CameraSpec, Simulator
from navgym.tasks.base import Task, yaw_of
from navgym.tasks.episodes import Episode
from navgym.tasks.imagenav import _fit
from navgym.tasks.objectnav import HM3D_CATEGORIES, VIEW_POINT_RADIUS, object_goal_points


@dataclass
class InstanceImageNavTask(Task):
    """Navigate to the object instance pictured by the goal image."""

    name: ClassVar[str] = "InstanceImageNav"
    goal_sensors: ClassVar[tuple[str, ...]] = ("instance_imagegoal",)
    default_sensors: ClassVar[tuple[str, ...]] = ("rgb", "depth", "gps", "compass", "instance_imagegoal")

    camera: CameraSpec = field(default_factory=lambda: CameraSpec(128, 128, 79.0, 1.31, outputs=("rgb", "depth"), max_depth=5.0))
    #: Categories goal instances are drawn from when generating episodes (HM3D IIN uses these six).
    categories: tuple[str, ...] = HM3D_CATEGORIES

    def goal_points(self, sim: Simulator, episode: Episode) -> np.ndarray:
        return object_goal_points(sim, episode.goals[:1], self.success_distance)

    def goal_radius(self, episode: Episode) -> float:
        return VIEW_POINT_RADIUS

    def image_goal(self, episode: Episode):
        goal = episode.goals[0]
        index = int(episode.goal_image_id or 0)
        if not goal.image_goals or not 0 <= index < len(goal.image_goals):
            raise ValueError(
                f"Episode {episode.episode_id}: goal_image_id={episode.goal_image_id!r} does not index the "
                f"goal's {len(goal.image_goals or [])} image_goals"
            )
        return goal.image_goals[index]

    def goal_heading(self, episode: Episode) -> float | None:
        return yaw_of(self.image_goal(episode).rotation)

    def goal_observation_space(self) -> dict[str, spaces.Space]:
        shape = (self.camera.height, self.camera.width, 3)
        return {"instance_imagegoal": spaces.Box(0, 255, shape, dtype=np.uint8)}

    def goal_observations(self, sim: Simulator, episode: Episode, goal_camera: CameraSpec | None = None) -> dict[str, Any]:
        view = self.image_goal(episode)
        # The stored position is the camera's own position: render with zero mount height.
        pose = AgentState(np.asarray(view.position, dtype=np.float64), np.asarray(view.rotation, dtype=np.float64))
        if goal_camera is None:
            # Rendered straight at the observation's size with the stored HFOV (Habitat stores
            # image_dimensions as [height, width]; a square observation keeps the HFOV exact).
            camera = CameraSpec(self.camera.width, self.camera.height, float(view.hfov), 0.0, outputs=("rgb",))
        else:
            # Another camera at the same spot: its height counts from the floor, taken as the
            # start's storey (IIN goals lie on the start's storey).
            camera = goal_camera.with_(outputs=("rgb",))
            pose.position = np.array([pose.position[0], float(episode.start_position[1]), pose.position[2]])
        image = sim.render([(pose, camera)])[0]["rgb"]
        return {"instance_imagegoal": _fit(image, self.camera.height, self.camera.width)}
