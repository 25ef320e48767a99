"""What every navigation task shares: actions, goal targets, measures and the default reward.

A task module only says what its goal *is* (the goal observation and the points that count as
reaching it); the measures (success, SPL, SoftSPL, distance and angle to goal, collisions, steps,
path length) are computed here once, the way Habitat defines them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from navgym.sims.base import AgentSpec, AgentState, CameraSpec, Simulator, quaternion_to_yaw
from navgym.tasks.episodes import Episode

#: Habitat's discrete action order; tasks with a tiltable camera add look_up / look_down.
BASE_ACTIONS = ("stop", "move_forward", "turn_left", "turn_right")
TILT_ACTIONS = ("look_up", "look_down")
#: The agent sensors every task can emit (goal sensors come from the task).
AGENT_SENSORS = ("rgb", "depth", "semantic", "gps", "compass")


def wrap_angle(angle: float) -> float:
    """Wrap an angle to [-pi, pi)."""
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


@dataclass
class Measures:
    """Habitat's navigation measures for one episode; ``as_info()`` is what goes in ``info``."""

    distance_to_goal: float = float("inf")
    start_distance: float = float("inf")
    angle_to_goal: float = float("nan")
    success: bool = False
    spl: float = 0.0
    soft_spl: float = 0.0
    collisions: int = 0
    num_steps: int = 0
    path_length: float = 0.0
    called_stop: bool = False

    def as_info(self) -> dict[str, Any]:
        """The measures as ``info`` entries; ``angle_to_goal`` only where the task defines it."""
        info = {
            "success": float(self.success),
            "spl": self.spl,
            "soft_spl": self.soft_spl,
            "distance_to_goal": self.distance_to_goal,
            "collisions": self.collisions,
            "num_steps": self.num_steps,
            "path_length": self.path_length,
        }
        if not math.isnan(self.angle_to_goal):
            info["angle_to_goal"] = self.angle_to_goal
        return info


@dataclass
class Task:
    """A goal-oriented navigation task: its defaults, goal sensors and success rule.

    Subclasses set the class-level defaults and implement :meth:`goal_points`,
    :meth:`goal_observation_space` and :meth:`goal_observations`.

    Attributes:
        camera: The agent's camera.
        agent: The agent's body and motion.
        success_distance: Stopping within this geodesic distance of the goal points succeeds.
        success_reward, slack_reward: Terms of the default reward
            ``success_reward * success - (d_t - d_{t-1}) + slack_reward``.
    """

    name: ClassVar[str] = "task"
    goal_sensors: ClassVar[tuple[str, ...]] = ()
    default_sensors: ClassVar[tuple[str, ...]] = ("rgb",)
    uses_tilt: ClassVar[bool] = False

    camera: CameraSpec = field(default_factory=CameraSpec)
    agent: AgentSpec = field(default_factory=AgentSpec)
    success_distance: float = 1.0
    success_reward: float = 2.5
    slack_reward: float = -0.01

    def __post_init__(self) -> None:
        if not (0.0 < self.success_distance <= 10.0):
            raise ValueError(f"success_distance={self.success_distance!r} is out of range; allowed (0, 10] metres")

    @property
    def actions(self) -> tuple[str, ...]:
        return BASE_ACTIONS + (TILT_ACTIONS if self.uses_tilt else ())

    @property
    def valid_sensors(self) -> tuple[str, ...]:
        return AGENT_SENSORS + self.goal_sensors

    # -- what a task module defines ------------------------------------------------------------
    def goal_points(self, sim: Simulator, episode: Episode) -> np.ndarray:
        """(N, 3) points whose geodesic distance is the distance to goal."""
        raise NotImplementedError

    def goal_radius(self, episode: Episode) -> float:
        """Stopping within this distance of the goal points succeeds."""
        return self.success_distance

    def goal_heading(self, episode: Episode) -> float | None:
        """Yaw of the goal view, for the angle-to-goal measure; ``None`` when undefined."""
        return None

    def goal_observation_space(self) -> dict[str, spaces.Space]:
        raise NotImplementedError

    def goal_observations(self, sim: Simulator, episode: Episode) -> dict[str, Any]:
        """Goal observations, computed once per episode at reset."""
        raise NotImplementedError

    # -- shared machinery ----------------------------------------------------------------------
    def angle_to_goal(self, state: AgentState, episode: Episode) -> float:
        heading = self.goal_heading(episode)
        if heading is None:
            return float("nan")
        return abs(wrap_angle(state.yaw - heading))

    def start_measures(self, sim: Simulator, episode: Episode, goal_points: np.ndarray) -> Measures:
        state = sim.get_agent_state()
        distance = sim.geodesic_distance(state.position, goal_points)
        return Measures(
            distance_to_goal=distance,
            start_distance=distance,
            angle_to_goal=self.angle_to_goal(state, episode),
        )

    def update_measures(
        self,
        measures: Measures,
        sim: Simulator,
        episode: Episode,
        goal_points: np.ndarray,
        previous_position: np.ndarray,
        collided: bool,
        stopped: bool,
    ) -> Measures:
        """Advance the measures by one step (Habitat's definitions of SPL and SoftSPL)."""
        state = sim.get_agent_state()
        measures.num_steps += 1
        measures.collisions += int(collided)
        measures.path_length += float(np.linalg.norm(state.position - previous_position))
        measures.distance_to_goal = sim.geodesic_distance(state.position, goal_points)
        measures.angle_to_goal = self.angle_to_goal(state, episode)
        measures.called_stop = stopped
        measures.success = bool(stopped and measures.distance_to_goal <= self.goal_radius(episode))
        shortest = measures.start_distance
        ratio = shortest / max(shortest, measures.path_length) if math.isfinite(shortest) and shortest > 0 else 0.0
        measures.spl = ratio if measures.success else 0.0
        if math.isfinite(shortest) and shortest > 0 and math.isfinite(measures.distance_to_goal):
            progress = max(0.0, 1.0 - measures.distance_to_goal / shortest)
        else:
            progress = 0.0
        measures.soft_spl = progress * ratio
        return measures

    def reward(self, measures: Measures, previous_distance: float) -> float:
        """Habitat's default: ``success_reward * success - Δdistance + slack_reward``."""
        reward = self.slack_reward
        if math.isfinite(previous_distance) and math.isfinite(measures.distance_to_goal):
            reward += previous_distance - measures.distance_to_goal
        if measures.success:
            reward += self.success_reward
        return float(reward)


def episode_start_state(episode: Episode) -> AgentState:
    """The agent state an episode starts in."""
    return AgentState(np.asarray(episode.start_position, dtype=np.float64), np.asarray(episode.start_rotation, dtype=np.float64))


def yaw_of(rotation) -> float:
    return quaternion_to_yaw(rotation)
