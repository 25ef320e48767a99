"""PointNav: reach a point given as its distance and direction from the agent (Habitat's PointGoal
task with the PointGoalWithGPSCompass sensor, as in DD-PPO).

Defaults: 128x128 RGB and depth, HFOV 90°, camera 1.25 m, forward 0.25 m, turn 30°, success when
the agent calls ``stop`` within 0.2 m (geodesic) of the goal position (habitat-lab's PointNav
``success_distance``), 500 steps.

The goal sensor ``pointgoal_with_gps_compass`` is habitat-lab's ``PointGoalWithGPSCompassSensor``
with ``dimensionality=2`` and ``goal_format="POLAR"``, read after every step: ``[rho, phi]``
(float32), with ``rho`` the straight-line floor distance (metres) from the agent to the goal and
``phi`` the goal's bearing in the agent's frame (radians, in [-pi, pi)): 0 straight ahead,
**positive to the left**, negative to the right. Habitat writes it as ``[rho, -phi_h]`` with
``phi_h = atan2(right, forward)``; ``phi`` above is that ``-phi_h``. So turning left by 30° lowers
``phi`` by 30° (the goal moves to the right of the view) and a step straight toward the goal lowers
``rho`` by the step length. Heights are ignored (Habitat's 2-D sensor also drops the vertical axis).

ProcHouse episodes: a navigable start with a random heading, a navigable goal with free floor
0.2 m around it (:data:`GOAL_CLEARANCE`), the geodesic distance in the difficulty bin, and
Habitat's rejection of most near-straight episodes (:mod:`navgym.datasets.prochouse`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from navgym.core.specs import AgentState, CameraSpec
from navgym.datasets import prochouse as gen
from navgym.datasets.episodes import Episode, EpisodeDataset, NavigationGoal
from navgym.errors import DatasetFormatError
from navgym.sims.base import Simulator
from navgym.tasks.base import Task

#: The goal sensor's observation key (habitat-lab's uuid).
POINTGOAL_SENSOR = "pointgoal_with_gps_compass"
#: habitat-lab's PointNav success radius (metres).
HABITAT_SUCCESS_DISTANCE = 0.2
#: ProcHouse goals have free floor (navigable points) this far (metres) around them in 8
#: directions: goals lie on open floor, not against a wall or in a corner.
GOAL_CLEARANCE = 0.2


def has_clearance(sim: Simulator, point: np.ndarray, clearance: float = GOAL_CLEARANCE) -> bool:
    """Whether the floor is navigable ``clearance`` metres around ``point`` in 8 directions."""
    for angle in np.arange(8) * (math.pi / 4):
        probe = np.array([point[0] + clearance * math.cos(angle), point[1], point[2] + clearance * math.sin(angle)])
        if not sim.is_navigable(probe):
            return False
    return True


def polar_goal(state: AgentState, goal: np.ndarray) -> np.ndarray:
    """``[rho, phi]`` (float32) of ``goal`` (x, y, z) seen from ``state``: floor distance and bearing
    (left positive), habitat-lab's 2-D polar PointGoalWithGPSCompass reading (module docstring)."""
    dx = float(goal[0] - state.position[0])
    dz = float(goal[2] - state.position[2])
    cos_y, sin_y = math.cos(state.yaw), math.sin(state.yaw)
    forward = -(dx * sin_y + dz * cos_y)  # yaw 0 faces -z
    right = dx * cos_y - dz * sin_y
    rho = math.hypot(forward, right)
    phi = math.atan2(-right, forward)  # Habitat's -atan2(right, forward), in [-pi, pi]
    if phi >= math.pi:
        phi = -math.pi
    return np.array([rho, phi], dtype=np.float32)


class PointGoalReading(Mapping):
    """The PointNav goal observation of one episode, read from the simulator's agent state each
    time it is asked for (the env asks once per step, after the step), so it follows the agent."""

    def __init__(self, sim: Simulator, goal: np.ndarray, agent_id: int = 0):
        self._sim, self._goal, self._agent_id = sim, np.asarray(goal, dtype=np.float64), agent_id

    def __iter__(self) -> Iterator[str]:
        return iter((POINTGOAL_SENSOR,))

    def __len__(self) -> int:
        return 1

    def __getitem__(self, name: str) -> Any:
        if name != POINTGOAL_SENSOR:
            raise KeyError(name)
        return polar_goal(self._sim.get_agent_state(self._agent_id), self._goal)


@dataclass
class PointNavTask(Task):
    """Navigate to a goal point given in polar coordinates relative to the agent (GPS+compass)."""

    name: ClassVar[str] = "PointNav"
    goal_sensors: ClassVar[tuple[str, ...]] = (POINTGOAL_SENSOR,)
    default_sensors: ClassVar[tuple[str, ...]] = ("rgb", "depth", POINTGOAL_SENSOR)
    max_episode_steps: ClassVar[int] = 500
    episode_kind: ClassVar[str] = "pointnav"
    habitat_dirs: ClassVar[tuple[str, ...]] = ("pointnav",)
    generation_salt: ClassVar[int] = 31

    success_distance: float = HABITAT_SUCCESS_DISTANCE

    @staticmethod
    def goal_position(episode: Episode) -> np.ndarray:
        if not episode.goals or episode.goals[0].position is None:
            raise DatasetFormatError(f"Episode {episode.episode_id}: a PointNav episode needs goals[0].position (x, y, z)")
        return np.asarray(episode.goals[0].position, dtype=np.float64)

    def goal_points(self, sim: Simulator, episode: Episode, agent_id: int = 0) -> np.ndarray:
        return self.goal_position(episode)[None]

    def check_dataset(self, dataset: EpisodeDataset) -> None:
        """Every episode has its goal point, checked when the env is made (not at its reset)."""
        for episode in dataset.episodes:
            self.goal_position(episode)

    def goal_observation_space(self, camera: CameraSpec) -> dict[str, spaces.Space]:
        low = np.array([0.0, -math.pi], dtype=np.float32)
        high = np.array([np.finfo(np.float32).max, math.pi], dtype=np.float32)  # Habitat's bound for rho
        return {POINTGOAL_SENSOR: spaces.Box(low, high, (2,), dtype=np.float32)}

    def goal_observations(self, sim: Simulator, episode: Episode, camera: CameraSpec, goal_camera: CameraSpec | None = None,
                          agent_id: int = 0) -> Mapping:
        return PointGoalReading(sim, self.goal_position(episode), agent_id)

    def make_prochouse_episode(self, sim, rng, distance_bin, episode_id, embodiment) -> Episode | None:
        start, rotation = gen.random_start(sim, rng)
        goal = sim.sample_navigable_point(rng)
        if not has_clearance(sim, goal):
            return None
        geodesic = gen.accept_distance(sim, rng, np.asarray(start), goal[None], distance_bin)
        if geodesic is None:
            return None
        return gen.make_episode(sim, episode_id, start, rotation, [NavigationGoal(position=gen.rounded(goal), radius=None)], geodesic)
