"""The SemanticNav oracle: the simulator's shortest path, followed by the MPPI planner, then face
the target and stop. Privileged; an upper bound (the dual-heatmap paper's Table 3 has none; its
"Ours" row is what this bounds), never a method.

It reads the privileged observation :class:`~navgym.wrappers.privileged.PrivilegedObservation`
adds for velocity-commanded bodies (``oracle_path``: the shortest path to the target's reachable
region in the body's ego frame, ``oracle_distance``: its length, ``oracle_facing``: the target's
centre). Obstacles come from the body's own sensors, as for a method: ``depth`` frames
accumulated in an :class:`~navgym.agents.mapping.OccupancyMap` with ``gps`` and ``compass`` (a
camera pitched down, like the H1's, never sees what is beside the body; with ``obstacles="frame"``,
or without gps / compass in the observation, only the current frame). ``navgym evaluate --agent
semnav-oracle`` wraps the env and asks it for those sensors.

Each step:

1. **Stop** when the path length left is at most ``stop_distance`` (default 0.75 x the task's
   ``success_distance``: 0.75 m) and the target's centre is within ``facing_tolerance`` (default
   half the task's ``facing_angle``: 15°) of the heading.
2. Otherwise plan with :class:`~navgym.agents.planning.mppi.MPPIPlanner` (the body's own model):
   the goal potential is :func:`~navgym.agents.planning.mppi.path_potential` of the path cut
   where ``approach_distance`` (0.35 x ``success_distance``) of it is left, so the body stands
   short of the object with room to turn; the obstacles are the current depth frame's and the
   map's (:func:`~navgym.agents.planning.mppi.obstacles_from_depth`,
   :func:`~navgym.agents.planning.mppi.obstacles_from_map`: points between the body's climb and
   its height); the final heading faces the target's centre.
3. When the body has neither moved nor turned for ``stuck_steps`` steps (a tight spot: the
   planner sees only what the camera sees, the path hugs corners), it tracks the path itself
   for ``recovery_steps`` steps with a simple controller (turn in place toward the path point
   ``recovery_lookahead`` ahead, drive slowly when it is within 10° of the heading; holonomic
   bodies step straight to it), then the planner starts afresh.

Works on any task with velocity-commanded bodies (without a ``facing_angle`` it stops on distance
alone).
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from navgym.agents.mapping.occupancy import OccupancyMap
from navgym.agents.planning.mppi import (
    BodyModel, Costmap, LocalGrid, MPPIPlanner, ego_obstacles, path_potential,
)  # fmt: skip
from navgym.core.checks import check_int, check_range
from navgym.errors import InvalidArgumentError


#: Where the oracle's obstacles come from: depth accumulated with gps / compass, the current frame, none.
OBSTACLE_SOURCES = ("map", "frame", "none")


class SemanticOracleAgent:
    """Privileged shortest-path follower for velocity-commanded bodies (see the module docstring).

    Args:
        env: The env (its embodiment gives the planner's model and camera, its task the success
            distance and facing angle).
        seed: Seed of the planner's sampling.
        stop_distance: Metres of path left at which it may stop (default 0.75 x success distance).
        approach_distance: Metres of path left where it aims to stand (default 0.35 x success distance).
        facing_tolerance: Degrees from the target's centre at which it may stop (default half
            the task's facing angle; 15° without one).
        stuck_steps: Steps without motion before the path-tracking recovery.
        recovery_steps: Steps of that recovery.
        recovery_lookahead: Metres along the path it aims at.
        cell_size: Metres per cell of the planner's local grid.
        obstacles: ``"map"`` (depth accumulated with ``gps`` and ``compass``; the current frame alone
            when they are missing), ``"frame"`` (the current depth frame) or ``"none"`` (trust the
            path: collision-free for the body's cylinder by construction).
        map_cell_size: Metres per cell of that map.
        **mppi: :class:`~navgym.agents.planning.mppi.MPPIConfig` fields (``samples=``, ``horizon=`` ...).
    """

    privileged = True

    def __init__(
        self,
        env: gym.Env | None = None,
        seed: int = 0,
        stop_distance: float | None = None,
        approach_distance: float | None = None,
        facing_tolerance: float | None = None,
        stuck_steps: int = 3,
        recovery_steps: int = 6,
        recovery_lookahead: float = 0.2,
        cell_size: float = 0.1,
        obstacles: str = "map",
        map_cell_size: float = 0.05,
        **mppi: Any,
    ):
        if env is None:
            raise InvalidArgumentError("SemanticOracleAgent needs env= (its body and task)")
        nav = env.unwrapped
        embodiment = nav.embodiment
        if not isinstance(env.action_space, gym.spaces.Box):
            raise InvalidArgumentError(
                f"semnav-oracle drives velocity-commanded bodies (Box actions); this env's are {env.action_space}: use the 'oracle' agent"
            )
        task = nav.task
        success = float(getattr(task, "success_distance", 1.0))
        facing_angle = getattr(task, "facing_angle", None)
        self.stop_distance = check_range("stop_distance", 0.75 * success if stop_distance is None else stop_distance, 0.0, 100.0)
        self.approach_distance = check_range(
            "approach_distance", 0.35 * success if approach_distance is None else approach_distance, 0.0, 100.0
        )
        default_tolerance = 0.5 * float(facing_angle) if facing_angle is not None else 15.0
        self.facing_tolerance = check_range("facing_tolerance", default_tolerance if facing_tolerance is None else facing_tolerance, 0.0, 180.0)
        self.uses_facing = facing_angle is not None
        self.stuck_steps = check_int("stuck_steps", stuck_steps, 1)
        self.recovery_steps = check_int("recovery_steps", recovery_steps, 0)
        self.recovery_lookahead = check_range("recovery_lookahead", recovery_lookahead, 0.0, 5.0, low_open=True)
        self.model = BodyModel.from_embodiment(embodiment)
        self.planner = MPPIPlanner(self.model, seed=seed, **mppi)
        self.grid = LocalGrid(cell_size=check_range("cell_size", cell_size, 0.02, 0.5))
        self.camera = embodiment.camera
        body = embodiment.body
        self.min_height = max(0.05, float(body.max_climb))
        self.max_height = float(body.height)
        if obstacles not in OBSTACLE_SOURCES:
            raise InvalidArgumentError(f"obstacles={obstacles!r} is not an obstacle source; use one of {list(OBSTACLE_SOURCES)}")
        self.obstacle_source = obstacles
        self.map = None
        if obstacles == "map":
            self.map = OccupancyMap(size=30.0, cell_size=map_cell_size, obstacle_min_height=self.min_height, obstacle_max_height=self.max_height)
        self.reset()

    @staticmethod
    def needed_sensors(task: Any) -> tuple[str, ...]:
        return ("depth", "gps", "compass")

    def reset(self) -> None:
        self.planner.reset()
        if self.map is not None:
            self.map.reset()
        self._still = 0
        self._last = None
        self._recovering = 0

    def _stop(self) -> np.ndarray:
        action = np.zeros(len(self.model.command_low) + 1, dtype=np.float32)
        action[:-1] = np.clip(0.0, self.model.low, self.model.high)
        action[-1] = 1.0
        return action

    def policy(self, obs: dict[str, Any]) -> np.ndarray:
        missing = [k for k in ("oracle_path", "oracle_distance", "oracle_facing") if k not in obs]
        if missing:
            raise KeyError(
                f"The SemanticNav oracle needs obs[{missing[0]!r}]: wrap the env with "
                "navgym.wrappers.PrivilegedObservation (privileged information, for upper bounds only)"
            )
        path = np.asarray(obs["oracle_path"], dtype=np.float64)
        distance = float(np.asarray(obs["oracle_distance"]).reshape(-1)[0])
        facing = np.asarray(obs["oracle_facing"], dtype=np.float64).reshape(2)
        obstacles = self._obstacles(obs)
        if not math.isfinite(distance):
            return self._stop()  # nothing reachable
        bearing = math.degrees(math.atan2(facing[1], facing[0]))
        if distance <= self.stop_distance and (not self.uses_facing or abs(bearing) <= self.facing_tolerance):
            return self._stop()

        # Stuck: neither the path length left nor the target's ego position changed.
        moved = self._last is None or abs(distance - self._last[0]) > 0.01 or float(np.hypot(*(facing - self._last[1]))) > 0.03
        self._still = 0 if moved else self._still + 1
        self._last = (distance, facing)
        along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(path, axis=0).T))])
        if self._still >= self.stuck_steps and self._recovering == 0:
            self._still = 0
            self._recovering = self.recovery_steps
        if self._recovering > 0:
            self._recovering -= 1
            if self._recovering == 0:
                self.planner.reset()
            if distance <= self.stop_distance and self.uses_facing:
                return self._turn_toward(facing)
            point = path[min(int(np.searchsorted(along, self.recovery_lookahead)), len(path) - 1)]
            return self._drive_to(point)

        keep = distance - along >= self.approach_distance
        keep[0] = True
        keep[1:] &= np.diff(along) > 1e-6  # padding repeats the last point
        costmap = Costmap.build(self.grid, potential=path_potential(self.grid, path[keep]), obstacles=obstacles)
        result = self.planner.plan(costmap, facing_point=facing if self.uses_facing else None)
        return np.append(result.command, 0.0).astype(np.float32)

    def _obstacles(self, obs: dict[str, Any]) -> np.ndarray | None:
        """The ego obstacle grid: this depth frame's, plus the map's (updated with it)."""
        if self.obstacle_source == "none":
            return None
        return ego_obstacles(obs, self.camera, self.grid, self.map, min_height=self.min_height, max_height=self.max_height)

    def _turn_toward(self, point: np.ndarray) -> np.ndarray:
        """Turn in place toward an ego point (proportional, saturated)."""
        low, high = self.model.low, self.model.high
        command = np.clip(np.zeros(len(low)), low, high)
        bearing = math.atan2(point[1], point[0])
        command[-1] = float(np.clip(2.0 * bearing, low[-1], high[-1]))
        return np.append(command, 0.0).astype(np.float32)

    def _drive_to(self, point: np.ndarray) -> np.ndarray:
        """The recovery controller: toward an ego point a short way along the path."""
        low, high = self.model.low, self.model.high
        bearing = math.atan2(point[1], point[0])
        command = np.clip(np.zeros(len(low)), low, high)
        distance = float(np.hypot(*point))
        speed = min(0.3 * float(high[0]), distance / self.model.dt)
        if self.model.holonomic:
            # Step straight to it, turning toward it on the way.
            command[0] = float(np.clip(speed * math.cos(bearing), low[0], high[0]))
            command[1] = float(np.clip(speed * math.sin(bearing), low[1], high[1]))
            command[2] = float(np.clip(bearing, low[2], high[2]))
        else:
            command[-1] = float(np.clip(2.0 * bearing, low[-1], high[-1]))
            if abs(bearing) < math.radians(10.0):
                command[0] = float(np.clip(speed, low[0], high[0]))
        return np.append(command, 0.0).astype(np.float32)
