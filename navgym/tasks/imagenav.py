"""ImageNav: reach the place a goal photo was taken from (RSRNav / FGPrompt setting).

Defaults: 128x128 RGB, HFOV 90°, camera 1.25 m, forward 0.25 m, turn 30°, success when the agent
calls ``stop`` within 1 m (geodesic) of the goal position, 500 steps. The goal image is taken at the
goal position, facing the goal heading, with the agent's own camera (or, under
:class:`~navgym.wrappers.UserMatchedGoalCamera`, with a user's camera).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from navgym.sims.base import AgentState, CameraSpec, Simulator, yaw_to_quaternion
from navgym.tasks.base import Task, yaw_of
from navgym.tasks.episodes import Episode


def goal_rotation(episode: Episode) -> np.ndarray:
    """The goal view's rotation [x, y, z, w]: ``info["goal_rotation"]`` when the episode has it,
    else a heading drawn from the episode id (as Habitat's ImageGoalSensor does, but stable
    across Python processes)."""
    stored = (episode.info or {}).get("goal_rotation")
    if stored is not None:
        return np.asarray(stored, dtype=np.float64)
    rng = np.random.default_rng(zlib.crc32(str(episode.episode_id).encode()))
    return yaw_to_quaternion(float(rng.uniform(0.0, 2.0 * math.pi)))


@dataclass
class ImageNavTask(Task):
    """Navigate to the position a goal image was taken from."""

    name: ClassVar[str] = "ImageNav"
    goal_sensors: ClassVar[tuple[str, ...]] = ("imagegoal",)
    default_sensors: ClassVar[tuple[str, ...]] = ("rgb", "imagegoal")

    camera: CameraSpec = field(default_factory=lambda: CameraSpec(128, 128, 90.0, 1.25, outputs=("rgb", "depth")))

    def goal_points(self, sim: Simulator, episode: Episode) -> np.ndarray:
        return np.asarray([episode.goals[0].position], dtype=np.float64)

    def goal_heading(self, episode: Episode) -> float | None:
        return yaw_of(goal_rotation(episode))

    def goal_camera_pose(self, episode: Episode) -> AgentState:
        """Where the goal photo is taken from: the goal position, facing the goal heading."""
        return AgentState(np.asarray(episode.goals[0].position, dtype=np.float64), goal_rotation(episode))

    def goal_observation_space(self) -> dict[str, spaces.Space]:
        shape = (self.camera.height, self.camera.width, 3)
        return {"imagegoal": spaces.Box(0, 255, shape, dtype=np.uint8)}

    def goal_observations(self, sim: Simulator, episode: Episode, goal_camera: CameraSpec | None = None) -> dict[str, Any]:
        camera = (goal_camera or self.camera).with_(outputs=("rgb",))
        image = sim.render([(self.goal_camera_pose(episode), camera)])[0]["rgb"]
        return {"imagegoal": _fit(image, self.camera.height, self.camera.width)}


def _fit(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an RGB image to (height, width) so goal images keep the observation's size."""
    if image.shape[:2] == (height, width):
        return image
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))
