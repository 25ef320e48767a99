"""ImageNav: reach the place a goal photo was taken from (RSRNav / FGPrompt setting).

Defaults: 128x128 RGB, HFOV 90°, camera 1.25 m, forward 0.25 m, turn 30°, success when the agent
calls ``stop`` within 1 m (geodesic) of the goal position, 500 steps. The goal image is taken at the
goal position, facing the goal heading, with the agent's own camera (or, under
:class:`~navgym.wrappers.UserMatchedGoalCamera`, with a user's camera).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from navgym.core.geometry import quaternion_to_yaw, yaw_to_quaternion
from navgym.core.specs import AgentState, CameraSpec
from navgym.datasets import prochouse as gen
from navgym.datasets.episodes import Episode, NavigationGoal
from navgym.errors import DatasetFormatError
from navgym.sims.base import Simulator
from navgym.tasks.base import Task


def goal_rotation(episode: Episode) -> np.ndarray:
    """The goal view's rotation [x, y, z, w]: ``info["goal_rotation"]`` when the episode has it,
    else a heading drawn from the episode id (as Habitat's ImageGoalSensor does, but stable
    across Python processes).

    Raises:
        DatasetFormatError: the stored rotation is not 4 finite numbers, not all zero.
    """
    stored = (episode.info or {}).get("goal_rotation")
    if stored is not None:
        try:
            rotation = np.asarray(stored, dtype=np.float64)
        except (TypeError, ValueError):
            rotation = np.zeros(0)
        if rotation.shape != (4,) or not np.all(np.isfinite(rotation)) or not np.any(rotation):
            raise DatasetFormatError(
                f"Episode {episode.episode_id} (scene {episode.scene_id}): info.goal_rotation={stored!r} must be 4 finite "
                "numbers, a quaternion [x, y, z, w] (e.g. [0, 0, 0, 1]: facing -z); or leave it out to draw the heading "
                "from the episode id"
            )
        return rotation
    rng = np.random.default_rng(zlib.crc32(str(episode.episode_id).encode()))
    return yaw_to_quaternion(float(rng.uniform(0.0, 2.0 * math.pi)))


def fit_image(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an RGB image to (height, width) so goal images keep the observation's size."""
    if image.shape[:2] == (height, width):
        return image
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))


@dataclass
class ImageNavTask(Task):
    """Navigate to the position a goal image was taken from."""

    name: ClassVar[str] = "ImageNav"
    goal_sensors: ClassVar[tuple[str, ...]] = ("imagegoal",)
    default_sensors: ClassVar[tuple[str, ...]] = ("rgb", "imagegoal")
    max_episode_steps: ClassVar[int] = 500
    episode_kind: ClassVar[str] = "imagenav"
    #: ImageNav reuses PointNav episodes in Habitat's layout.
    habitat_dirs: ClassVar[tuple[str, ...]] = ("imagenav", "pointnav")
    generation_salt: ClassVar[int] = 11

    def goal_points(self, sim: Simulator, episode: Episode, agent_id: int = 0) -> np.ndarray:
        return np.asarray([episode.goals[0].position], dtype=np.float64)

    def goal_heading(self, episode: Episode) -> float | None:
        return quaternion_to_yaw(goal_rotation(episode))

    def goal_camera_pose(self, episode: Episode) -> AgentState:
        """Where the goal photo is taken from: the goal position, facing the goal heading."""
        return AgentState(np.asarray(episode.goals[0].position, dtype=np.float64), goal_rotation(episode))

    def goal_observation_space(self, camera: CameraSpec) -> dict[str, spaces.Space]:
        return {"imagegoal": spaces.Box(0, 255, (camera.height, camera.width, 3), dtype=np.uint8)}

    def goal_observations(self, sim: Simulator, episode: Episode, camera: CameraSpec, goal_camera: CameraSpec | None = None) -> dict[str, Any]:
        taker = (goal_camera or camera).with_(outputs=("rgb",))
        image = sim.render([(self.goal_camera_pose(episode), taker)])[0]["rgb"]
        return {"imagegoal": fit_image(image, camera.height, camera.width)}

    def make_prochouse_episode(self, sim, rng, distance_bin, episode_id, embodiment) -> Episode | None:
        start, rotation = gen.random_start(sim, rng)
        goal = sim.sample_navigable_point(rng)
        geodesic = gen.accept_distance(sim, rng, np.asarray(start), goal[None], distance_bin)
        if geodesic is None:
            return None
        goal_yaw = gen.open_view_yaw(sim, goal, rng, embodiment.camera)
        if goal_yaw is None:
            return None
        return gen.make_episode(
            sim, episode_id, start, rotation, [NavigationGoal(position=gen.rounded(goal), radius=None)], geodesic,
            info={"goal_rotation": gen.rounded(yaw_to_quaternion(goal_yaw))},
        )
