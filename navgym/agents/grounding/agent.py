"""SemanticNav agents driven by a grounding model and the MPPI planner: the dual-heatmap agent
(``make("dual-heatmap", checkpoint=...)``) and the point-regression baseline
(``make("point-regression", checkpoint=...)``), as in the dual-heatmap paper
(``../shared/papers/dual-heatmap.txt``, Sec. 3.5): the same planner for both, the only difference
being the goal it is given, the navigation heatmap's ground potential or one point.

Each episode:

1. **Ground** (first step, and every ``reground_every`` steps after it when that is > 0): the
   :class:`~navgym.agents.grounding.models.GroundingPredictor` reads the current ``rgb`` and the
   prompt (``prompt_kind`` says which of ``prompt_text`` / ``prompt_image`` it uses). The heatmap
   agent projects the navigation heatmap (normalised by its peak, pixels at or above
   ``heat_floor`` of it) to the ground through ``depth``
   (:func:`~navgym.agents.planning.mppi.heatmap_to_ground`) as weighted points, and the facing
   heatmap to one facing point (:func:`~navgym.agents.planning.mppi.heatmap_facing_point`); the
   point agent takes the depth hit of its regressed navigation pixel (the nearest pixel with a
   depth return within a few pixels) and of its facing pixel. A SemanticNav episode starts with
   the target in view, so the agent acts on its best guess even when the model's confidence is
   under its threshold (the confidence is kept in :attr:`GroundingAgent.last_confidence`). A
   later grounding replaces the goal only when it has a goal point (the target may have left
   the view). With no goal on the ground at all (no depth return under the prediction), the
   agent stops.
2. **Remember** the goal in the episode's *start frame* (x forward, y left at the start): with
   ``gps`` and ``compass`` in the observation (the agents ask for them: ``needed_sensors``) the
   pose is read from them; without them the agent integrates its own commands through the body's
   kinematic model (:meth:`~navgym.agents.planning.mppi.BodyModel.rollout`: dead reckoning, which
   drifts with the body's command noise and collisions).
3. **Stop** when the body is within ``stop_distance`` (default 0.3 x the task's
   ``success_distance``) of the goal (the nearest of its heaviest points: at least half the peak)
   and the facing point is within ``facing_tolerance`` (default half the task's ``facing_angle``)
   of the heading, or when it has not got 2 cm closer for ``patience`` steps (default 8: the
   planner has converged, e.g. at a goal point on the object itself) and is facing; near the goal
   (or converged) but not facing, it turns in place.
4. Otherwise **plan** with :class:`~navgym.agents.planning.mppi.MPPIPlanner` under the body's own
   model (``env.unwrapped.embodiment``): goal potential
   (:func:`~navgym.agents.planning.mppi.goal_potential`) of the goal points, obstacles from the
   current depth frame plus an :class:`~navgym.agents.mapping.OccupancyMap` accumulated with
   gps / compass (as :class:`~navgym.agents.baselines.semantic_oracle.SemanticOracleAgent`), the
   facing point for the final heading.

A heatmap checkpoint given to the point agent, or the reverse, is a clear error naming the file.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from navgym.agents.mapping.occupancy import OccupancyMap
from navgym.agents.planning.mppi import (
    BodyModel, Costmap, GroundPoints, LocalGrid, MPPIPlanner, ego_points_from_depth, heatmap_facing_point, heatmap_to_ground,
    ego_obstacles,
)  # fmt: skip
from navgym.core.checks import check_int, check_range
from navgym.errors import InvalidArgumentError

__all__ = ["DualHeatmapAgent", "GroundingAgent", "PointRegressionAgent"]

#: ``prompt_kind`` indices (navgym.datasets.episodes.PROMPT_KINDS order).
_TEXT, _IMAGE, _INTERLEAVED = 0, 1, 2


def _compose(pose: np.ndarray, dx: float, dy: float, dyaw: float) -> np.ndarray:
    """A start-frame pose (x, y, yaw) moved by an ego displacement."""
    c, s = math.cos(pose[2]), math.sin(pose[2])
    return np.array([pose[0] + c * dx - s * dy, pose[1] + s * dx + c * dy, pose[2] + dyaw])


def _to_start(pose: np.ndarray, ego: np.ndarray) -> np.ndarray:
    c, s = math.cos(pose[2]), math.sin(pose[2])
    ego = np.asarray(ego, dtype=np.float64).reshape(-1, 2)
    return np.stack([pose[0] + c * ego[:, 0] - s * ego[:, 1], pose[1] + s * ego[:, 0] + c * ego[:, 1]], axis=1)


def _to_ego(pose: np.ndarray, start: np.ndarray) -> np.ndarray:
    c, s = math.cos(pose[2]), math.sin(pose[2])
    d = np.asarray(start, dtype=np.float64).reshape(-1, 2) - pose[:2]
    return np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]], axis=1)


class GroundingAgent:
    """Grounding model + MPPI for SemanticNav (module docstring); use :class:`DualHeatmapAgent` or
    :class:`PointRegressionAgent`.

    Args:
        env: The env (its embodiment gives the planner's model and camera, its task the success
            distance and facing angle).
        checkpoint: A grounding checkpoint (``scripts/train_grounding.py``) of this agent's model kind.
        seed: Seed of the planner's sampling.
        reground_every: Run the model again every this many steps (0: only at the first step).
        stop_distance: Metres from the goal at which it may stop (default 0.3 x success distance).
        facing_tolerance: Degrees from the facing point at which it may stop (default half the
            task's facing angle; 15° without one).
        patience: Steps without getting 2 cm closer to the goal after which it counts as arrived
            (it stops when facing, else turns in place).
        heat_floor: Heatmap agent: pixels below this share of the heatmap's peak are not goal points.
        cell_size: Metres per cell of the planner's local grid.
        map_cell_size: Metres per cell of the obstacle map (used with gps / compass).
        threads: Torch CPU threads (1: runs side by side do not oversubscribe the cores).
        **mppi: :class:`~navgym.agents.planning.mppi.MPPIConfig` fields (``samples=``, ``horizon=`` ...).
    """

    #: The model kind (``GroundingConfig.model``) this agent's checkpoint must hold.
    model_kind = ""
    #: The registered name (for messages).
    agent_name = ""

    def __init__(
        self,
        env: gym.Env | None = None,
        checkpoint: str | Path | None = None,
        seed: int = 0,
        reground_every: int = 0,
        stop_distance: float | None = None,
        facing_tolerance: float | None = None,
        heat_floor: float = 0.3,
        patience: int = 8,
        cell_size: float = 0.1,
        map_cell_size: float = 0.05,
        threads: int | None = 1,
        **mppi: Any,
    ):
        if env is None:
            raise InvalidArgumentError(f"agent {self.agent_name!r} needs env= (its body and task)")
        if checkpoint is None or str(checkpoint) == "":
            raise InvalidArgumentError(
                f"agent {self.agent_name!r} needs checkpoint=<a {self.model_kind!r} grounding checkpoint> "
                f"(navgym evaluate --checkpoint FILE; train one with: python scripts/train_grounding.py --data DIR "
                f"--model {self.model_kind} --out FILE)"
            )
        if not isinstance(env.action_space, gym.spaces.Box):
            raise InvalidArgumentError(
                f"agent {self.agent_name!r} drives velocity-commanded bodies (Box actions: embodiment=jetbot|h1|aliengo); "
                f"this env's actions are {env.action_space}"
            )
        sensors = tuple(getattr(env.unwrapped, "sensors", ()))
        if sensors and not {"prompt_text", "prompt_image"} & set(sensors):
            raise InvalidArgumentError(
                f"agent {self.agent_name!r} grounds a SemanticNav prompt (the prompt_text / prompt_image sensors); this env "
                f"emits {list(sensors)}: use a SemanticNav env, e.g. --env SemanticNav-ProcHouse-v0 --env-option embodiment=jetbot"
            )
        missing = [s for s in ("rgb", "depth") if sensors and s not in sensors]
        if missing:
            raise InvalidArgumentError(
                f"agent {self.agent_name!r} needs the sensors {missing}, which this env does not emit (sensors={list(sensors)}); "
                f"make it with sensors={tuple(dict.fromkeys(list(sensors) + missing))}"
            )
        import torch

        from navgym.agents.grounding.models import GroundingPredictor

        if threads is not None:
            torch.set_num_threads(check_int("threads", threads, 1))
        self.checkpoint = str(checkpoint)
        predictor = GroundingPredictor.from_checkpoint(checkpoint)
        kind = predictor.config.model
        if kind != self.model_kind:
            other = "dual-heatmap" if kind == "heatmap" else "point-regression"
            raise InvalidArgumentError(
                f"grounding checkpoint {self.checkpoint!r} holds a {kind!r} model; agent {self.agent_name!r} needs a "
                f"{self.model_kind!r} model (use --agent {other} for this checkpoint)"
            )
        #: The model's own confidence threshold; the predictor decodes best guesses (see module doc).
        self.threshold = predictor.config.threshold
        predictor.config = dataclasses.replace(predictor.config, threshold=1e-6)
        self.predictor = predictor

        nav = env.unwrapped
        embodiment = nav.embodiment
        task = nav.task
        success = float(getattr(task, "success_distance", 1.0))
        facing_angle = getattr(task, "facing_angle", None)
        self.stop_distance = check_range("stop_distance", 0.3 * success if stop_distance is None else stop_distance, 0.0, 100.0)
        default_tolerance = 0.5 * float(facing_angle) if facing_angle is not None else 15.0
        self.facing_tolerance = check_range("facing_tolerance", default_tolerance if facing_tolerance is None else facing_tolerance, 0.0, 180.0)
        self.uses_facing = facing_angle is not None
        self.reground_every = check_int("reground_every", reground_every, 0)
        self.patience = check_int("patience", patience, 1)
        self.heat_floor = check_range("heat_floor", heat_floor, 0.0, 1.0, low_open=True)
        self.model = BodyModel.from_embodiment(embodiment)
        self.planner = MPPIPlanner(self.model, seed=seed, **mppi)
        self.grid = LocalGrid(cell_size=check_range("cell_size", cell_size, 0.02, 0.5))
        self.camera = embodiment.camera
        body = embodiment.body
        self.min_height = max(0.05, float(body.max_climb))
        self.max_height = float(body.height)
        self.map = OccupancyMap(size=30.0, cell_size=check_range("map_cell_size", map_cell_size, 0.01, 0.5),
                                obstacle_min_height=self.min_height, obstacle_max_height=self.max_height)  # fmt: skip
        self.reset()

    @staticmethod
    def needed_sensors(task: Any) -> tuple[str, ...]:
        return ("rgb", "depth", "gps", "compass")

    def reset(self) -> None:
        self.planner.reset()
        self.map.reset()
        self.steps = 0
        #: Start-frame (x, y, yaw) dead-reckoned pose (used without gps / compass).
        self._reckoned = np.zeros(3)
        self._velocity = np.zeros(3)
        #: The goal: start-frame points (N, 2) and weights (N,); the facing point (2,) or None.
        self.goal_points: np.ndarray | None = None
        self.goal_weights: np.ndarray | None = None
        self.facing_point: np.ndarray | None = None
        self.last_confidence: float = float("nan")
        self.groundings = 0
        self._best, self._since = math.inf, 0

    # -- pose ---------------------------------------------------------------------------------------
    def _pose(self, obs: dict[str, Any]) -> np.ndarray:
        """Start-frame (x forward, y left, yaw left positive) of the body."""
        if "gps" in obs and "compass" in obs:
            gps = np.asarray(obs["gps"], dtype=np.float64).reshape(-1)
            yaw = float(np.asarray(obs["compass"], dtype=np.float64).reshape(-1)[0])
            return np.array([gps[0], -gps[1], yaw])
        return self._reckoned.copy()

    def _advance(self, command: np.ndarray) -> None:
        """Dead reckoning: move the estimate by the model's response to ``command`` (and keep the
        planner's velocity estimate in step with commands it did not choose)."""
        command = np.asarray(command, dtype=np.float64)
        roll = self.model.rollout(command[None, None, :], self._velocity)
        self._reckoned = _compose(self._reckoned, float(roll.x[-1, 0]), float(roll.y[-1, 0]), float(roll.yaw[-1, 0]))
        self._velocity = self.model.step_velocity(command, self._velocity)
        self.planner.velocity = self._velocity.copy()
        self.planner.last_command = command.copy()

    # -- grounding ----------------------------------------------------------------------------------
    def _prompt(self, obs: dict[str, Any]) -> tuple[str, np.ndarray | None]:
        kind = int(np.asarray(obs.get("prompt_kind", _TEXT)).reshape(-1)[0])
        text = str(obs.get("prompt_text", "")) if kind != _IMAGE else ""
        image = obs.get("prompt_image") if kind != _TEXT else None
        if image is not None:
            image = np.asarray(image, dtype=np.uint8)
        if not text and image is None:
            raise InvalidArgumentError(
                f"agent {self.agent_name!r} needs a prompt: obs['prompt_text'] and/or obs['prompt_image'] (a SemanticNav env)"
            )
        return text, image

    def _ground(self, obs: dict[str, Any], pose: np.ndarray) -> None:
        for key in ("rgb", "depth"):
            if key not in obs:
                raise KeyError(f"agent {self.agent_name!r} needs obs[{key!r}]: build the env with sensors including rgb and depth")
        text, image = self._prompt(obs)
        prediction = self.predictor.predict(np.asarray(obs["rgb"], dtype=np.uint8), text, image)
        self.last_confidence = float(prediction.nav_confidence)
        depth = np.asarray(obs["depth"], dtype=np.float64)
        if depth.ndim == 3:
            depth = depth[..., 0]
        points = ego_points_from_depth(depth, self.camera)
        goal, facing = self._goal_from(prediction, depth, points, np.shape(obs["rgb"])[:2])
        if goal is None:
            return  # nothing on the ground: keep the previous goal (or stay without one)
        self.goal_points = _to_start(pose, goal.points)
        self.goal_weights = goal.weights / max(float(goal.weights.max()), 1e-9)
        self.facing_point = None if facing is None else _to_start(pose, facing)[0]
        self.groundings += 1
        self._best, self._since = math.inf, 0

    def _goal_from(self, prediction, depth: np.ndarray, points, image_shape) -> tuple[GroundPoints | None, np.ndarray | None]:
        raise NotImplementedError

    @staticmethod
    def _pixel_point(pixel, image_shape: tuple[int, int], points, radius: int = 4) -> np.ndarray | None:
        """Ego (x, y) of the depth hit of a pixel of an ``image_shape`` image (scaled to the depth
        frame's size; the nearest pixel with a hit within ``radius``)."""
        if pixel is None:
            return None
        xyz, valid = points
        rows, cols = valid.shape
        r0 = min(int((int(pixel[0]) + 0.5) * rows / image_shape[0]), rows - 1)
        c0 = min(int((int(pixel[1]) + 0.5) * cols / image_shape[1]), cols - 1)
        best, where = None, None
        for r in range(max(0, r0 - radius), min(rows, r0 + radius + 1)):
            for c in range(max(0, c0 - radius), min(cols, c0 + radius + 1)):
                if valid[r, c]:
                    d = (r - r0) ** 2 + (c - c0) ** 2
                    if best is None or d < best:
                        best, where = d, (r, c)
        return None if where is None else xyz[where][:2].astype(np.float64)

    # -- acting -------------------------------------------------------------------------------------
    def _command(self, command: np.ndarray, stop: bool = False) -> np.ndarray:
        command = np.clip(np.asarray(command, dtype=np.float64), self.model.low, self.model.high)
        if not stop:
            self._advance(command)
        return np.append(command, 1.0 if stop else 0.0).astype(np.float32)

    def _rest(self) -> np.ndarray:
        return np.clip(np.zeros(len(self.model.command_low)), self.model.low, self.model.high)

    def policy(self, obs: dict[str, Any]) -> np.ndarray:
        pose = self._pose(obs)
        obstacles = self._obstacles(obs, pose)
        due = self.steps == 0 or (self.reground_every > 0 and self.steps % self.reground_every == 0)
        self.steps += 1
        if due:
            self._ground(obs, pose)
        if self.goal_points is None:
            return self._command(self._rest(), stop=True)  # nothing to go to
        goal = _to_ego(pose, self.goal_points)
        facing = None if self.facing_point is None else _to_ego(pose, self.facing_point)[0]
        heavy = goal[self.goal_weights >= 0.5]
        distance = float(np.hypot(heavy[:, 0], heavy[:, 1]).min())
        bearing = None if facing is None else math.degrees(math.atan2(facing[1], facing[0]))
        facing_ok = not self.uses_facing or bearing is None or abs(bearing) <= self.facing_tolerance
        if distance < self._best - 0.02:
            self._best, self._since = distance, 0
        else:
            self._since += 1
        settled = self._since >= self.patience  # the planner stopped getting closer (a goal on an object, a tight spot)
        if distance <= self.stop_distance or settled:
            if facing_ok:
                return self._command(self._rest(), stop=True)
            command = self._rest()
            command[-1] = float(np.clip(2.0 * math.radians(bearing), self.model.low[-1], self.model.high[-1]))
            return self._command(command)
        costmap = Costmap.build(self.grid, goal=GroundPoints(goal, self.goal_weights), obstacles=obstacles)
        use_facing = facing if self.uses_facing and facing is not None and float(np.hypot(*facing)) > 1e-3 else None
        result = self.planner.plan(costmap, facing_point=use_facing, velocity=self._velocity)
        return self._command(result.command)

    def _obstacles(self, obs: dict[str, Any], pose: np.ndarray) -> np.ndarray | None:
        """The ego obstacle grid: this depth frame's, plus the map's (with gps / compass)."""
        return ego_obstacles(obs, self.camera, self.grid, self.map, min_height=self.min_height, max_height=self.max_height)


class DualHeatmapAgent(GroundingAgent):
    """The dual-heatmap agent: the navigation heatmap's ground potential and the facing heatmap's
    point drive MPPI (:class:`GroundingAgent`; ``checkpoint=`` a ``"heatmap"`` model)."""

    model_kind = "heatmap"
    agent_name = "dual-heatmap"

    def _goal_from(self, prediction, depth, points, image_shape):
        nav = np.asarray(prediction.nav_heatmap, dtype=np.float64)
        peak = float(nav.max()) if nav.size else 0.0
        if peak <= 0.0:
            return None, None
        goal = heatmap_to_ground(nav / peak, depth, self.camera, min_weight=self.heat_floor, points=points)
        if len(goal) == 0:
            return None, None
        facing = heatmap_facing_point(prediction.facing_heatmap, depth, self.camera, threshold=0.0, points=points)
        return goal, facing


class PointRegressionAgent(GroundingAgent):
    """The point-regression baseline: one regressed navigation point drives the same MPPI, its
    regressed facing point the final heading (:class:`GroundingAgent`; ``checkpoint=`` a
    ``"point"`` model)."""

    model_kind = "point"
    agent_name = "point-regression"

    def _goal_from(self, prediction, depth, points, image_shape):
        nav = self._pixel_point(prediction.nav_point, image_shape, points)
        if nav is None:
            return None, None
        return GroundPoints.target(nav), self._pixel_point(prediction.facing_point, image_shape, points)
