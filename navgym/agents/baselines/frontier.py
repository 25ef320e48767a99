"""The classic modular frontier-exploration baseline (Yamauchi 1997; the SemExp-style modular stack).

Each step: depth + GPS/compass -> top-down occupancy map (:mod:`navgym.agents.mapping`); goal
pixels (by default from the semantic sensor: ground-truth perception) -> the map's goal layer.
Once a goal has been seen the agent plans to it and calls ``stop`` within ``stop_distance``;
until then it goes to the nearest frontier by geodesic distance (fast marching on the map with
obstacles inflated by the agent radius, :mod:`navgym.agents.planning`). With no frontier left it
stops.

By task:

* **ObjectNav**: goal = any instance of ``categories[obs["objectgoal"]]``. The camera stays level.
* **TextNav**: goal = the nearest seen instance of ``categories[obs["textgoal_category"]]``, not
  necessarily the described one (the standard ground-truth-perception baseline).
* **ImageNav, InstanceImageNav**: no goal category in the observation, so by default this is an
  exploration-only baseline (it never recognises the goal and stops when the house is explored);
  pass a ``goal_recognizer`` (e.g. an image matcher) to make it a navigation agent.

Needed sensors: ``depth``, ``gps``, ``compass`` (+ ``semantic`` and the goal sensor for the
default goal recognition), e.g. ``gym.make("ObjectNav-ProcHouse-v0", sensors=("rgb", "depth",
"semantic", "gps", "compass", "objectgoal"))``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Mapping, Sequence

import gymnasium as gym
import numpy as np
from scipy import ndimage

from navgym.agents.mapping import GoalRecognizer, OccupancyMap, Pose2D, SceneInstanceCategories, SemanticGoalRecognizer, bearing_to
from navgym.agents.mapping.semantic import CATEGORY_KEYS
from navgym.agents.planning import action_toward, descend, distance_field, find_frontiers, inflate_obstacles, nearest_frontier
from navgym.core.checks import check_range
from navgym.core.options import flag
from navgym.core.specs import CameraSpec
from navgym.errors import InvalidArgumentError

def require_sensors(env: gym.Env, needed: Sequence[str], who: str) -> None:
    """Raise :class:`~navgym.errors.InvalidArgumentError` (a ``ValueError``) naming the sensors of
    ``needed`` that ``env`` does not emit, and the ``sensors=`` to make it with."""
    sensors = tuple(getattr(env.unwrapped, "sensors", ()))
    missing = [s for s in needed if s not in sensors]
    if missing:
        raise InvalidArgumentError(
            f"{who[:1].upper()}{who[1:]} needs the sensors {missing}, which this env does not emit (sensors={list(sensors)}); "
            f"make it with sensors={tuple(dict.fromkeys(list(sensors) + missing))}"
        )


#: Habitat's discrete actions, used when no env is given.
DEFAULT_ACTIONS = ("stop", "move_forward", "turn_left", "turn_right")
#: Metres around mapped obstacles where free cells never count as frontier: the unknown cells
#: seen through the gaps of a wall mapped at a glancing angle are not a way out.
FRONTIER_CLEARANCE = 0.1


class FrontierAgent:
    """Maps with depth, explores the nearest frontier, goes to the goal once recognised, stops near it.

    Camera and motion settings come from ``env`` (``env.unwrapped.embodiment``: its camera and
    motion) when it is given; the keyword arguments override them, so the agent can also
    be built without an env. The image size is read from each depth observation.

    Goal recognition is ground-truth semantic perception, not privileged position information: by
    default the ``semantic`` sensor's instance ids are looked up in ``instance_categories``; with
    ``env`` and no ``instance_categories``, the id -> category table is read lazily (once per
    scene) from ``env.unwrapped.sim.object_instances()``, the scene's semantic annotations (as
    Habitat's ``sim.semantic_annotations()``); only ids and categories are used, never positions
    or boxes. The agent keeps a reference to ``env`` for this.

    When planning fails it falls back, in order, to thinner obstacle inflations (tight doors),
    forgetting its collision marks, and giving up frontiers it cannot reach or clear. ``mode``
    says what it is doing: ``"spin"``, ``"explore"``, ``"goal"``, ``"stop"`` (goal reached) or
    ``"done"`` (nothing left to explore).

    Args:
        env: The env (optional): camera, motion, action names, goal vocabulary and the instance
            categories of its scenes.
        goal_recognizer: ``(obs) -> (H, W) bool`` goal-pixel mask; replaces the default.
        instance_categories: Instance id -> category name (dict), or a zero-argument callable
            returning the table of the current scene.
        categories: Goal vocabulary the goal sensors index (default ``env.unwrapped.task.categories``).
        actions: Action names in index order (default ``env.unwrapped.actions``).
        hfov, camera_height, min_depth, max_depth: The depth camera (degrees, metres).
        forward_step: ``move_forward`` distance, metres (collision detection).
        turn_angle: ``turn_left`` / ``turn_right`` angle, degrees.
        agent_radius: The agent's radius, metres.
        agent_height: Depth points higher than this pass over the agent, metres.
        map_size, cell_size: The occupancy map's side (centred on the start) and cell, metres.
        stop_distance: ``stop`` when the nearest goal point is this close (straight line), metres.
        min_frontier_size: Shorter frontiers are ignored, metres.
        lookahead: Distance along the planned path to the waypoint the controller steers to, metres.
        obstacle_margin: Obstacles are inflated by ``agent_radius + obstacle_margin``, metres.
        unknown_cost: Cost of crossing an unknown cell relative to a free one (>= 1).
        initial_spin: Turn a full circle first to map the surroundings.
    """

    privileged = False

    def __init__(
        self,
        env: gym.Env | None = None,
        *,
        goal_recognizer: GoalRecognizer | None = None,
        instance_categories: Mapping[int, str] | Callable[[], Mapping[int, str]] | None = None,
        categories: Sequence[str] | None = None,
        actions: Sequence[str] | None = None,
        hfov: float | None = None,
        camera_height: float | None = None,
        min_depth: float | None = None,
        max_depth: float | None = None,
        forward_step: float | None = None,
        turn_angle: float | None = None,
        agent_radius: float | None = None,
        agent_height: float | None = None,
        map_size: float = 40.0,
        cell_size: float = 0.05,
        stop_distance: float = 0.9,
        min_frontier_size: float = 0.25,
        lookahead: float = 0.5,
        obstacle_margin: float = 0.05,
        unknown_cost: float = 2.0,
        initial_spin: bool = True,
    ):
        embodiment = getattr(env.unwrapped, "embodiment", None) if env is not None else None
        base_camera = embodiment.camera if embodiment is not None else CameraSpec()
        camera_changes = {"hfov": hfov, "camera_height": camera_height, "min_depth": min_depth, "max_depth": max_depth}
        self.camera: CameraSpec = base_camera.with_(**{k: check_range(k, v, 0.0, 1000.0) for k, v in camera_changes.items() if v is not None})
        body = embodiment.body if embodiment is not None else None
        self.forward_step = float(forward_step if forward_step is not None else getattr(embodiment, "forward_step", 0.25))
        self.turn_angle = float(turn_angle if turn_angle is not None else getattr(embodiment, "turn_angle", 30.0))
        self.agent_radius = float(agent_radius if agent_radius is not None else (body.radius if body else 0.18))
        self.agent_height = float(agent_height if agent_height is not None else (body.height if body else 1.5))
        self.tilt_angle = float(getattr(embodiment, "tilt_angle", 30.0))
        self.actions = tuple(actions if actions is not None else (env.unwrapped.actions if env is not None else DEFAULT_ACTIONS))
        check_range("forward_step", self.forward_step, 0.0, 5.0, low_open=True)
        check_range("turn_angle", self.turn_angle, 0.0, 180.0, low_open=True)
        check_range("agent_radius", self.agent_radius, 0.0, 2.0, low_open=True)
        check_range("agent_height", self.agent_height, 0.1, 10.0, low_open=True)
        check_range("stop_distance", stop_distance, 0.0, 10.0, low_open=True)
        check_range("min_frontier_size", min_frontier_size, 0.0, 10.0)
        check_range("lookahead", lookahead, 0.0, 10.0, low_open=True)
        check_range("obstacle_margin", obstacle_margin, 0.0, 1.0)
        check_range("unknown_cost", unknown_cost, 1.0, 100.0)
        missing = [a for a in ("stop", "move_forward", "turn_left", "turn_right") if a not in self.actions]
        who = getattr(self, "who", "the frontier agent")
        if missing and actions is None and env is not None and isinstance(env.action_space, gym.spaces.Box):
            body = getattr(embodiment, "name", None) or type(embodiment).__name__
            raise InvalidArgumentError(
                f"{who[:1].upper()}{who[1:]} takes discrete actions (stop, move_forward, turn_left, turn_right); this env's body "
                f"({body}) is velocity-commanded ({env.action_space}): make the env with embodiment='habitat', or use an agent for "
                "velocity-commanded bodies (semnav-oracle, dual-heatmap, point-regression)"
            )
        if missing:
            raise ValueError(f"actions={list(self.actions)} lacks {missing}; {who} needs stop, move_forward, turn_left, turn_right")

        self.map = OccupancyMap(map_size, cell_size, obstacle_min_height=0.1, obstacle_max_height=self.agent_height)
        self.stop_distance = float(stop_distance)
        self.min_frontier_cells = max(1, int(round(min_frontier_size / cell_size)))
        self.lookahead_cells = max(1, int(round(lookahead / cell_size)))
        #: Frontier cells within this many cells of an obstacle do not count (a metric 0.1 m:
        #: 2 cells at 0.05 m, 1 at 0.125 m; a fixed 2 cells hid the doorways of a 0.125 m map).
        self.frontier_clearance_cells = max(1, int(math.ceil(FRONTIER_CLEARANCE / cell_size - 1e-9)))
        #: Obstacle inflations tried in turn: with the safety margin, the bare radius, a bit less.
        self.inflations = (self.agent_radius + float(obstacle_margin), self.agent_radius, max(self.agent_radius - cell_size, cell_size))
        self.unknown_cost = float(unknown_cost)
        self.initial_spin = flag("initial_spin", initial_spin)
        self.goal_recognizer = goal_recognizer or self._default_recognizer(env, instance_categories, categories)
        if env is not None:
            self._check_sensors(env)
        self.reset()

    # -- construction helpers ------------------------------------------------------------------
    def _default_recognizer(self, env: gym.Env | None, instance_categories: Any, categories: Sequence[str] | None) -> GoalRecognizer | None:
        """Ground-truth semantic recognition when the task names its goal by a category index."""
        if env is not None:
            task = env.unwrapped.task
            if not any(key in task.goal_sensors for key in CATEGORY_KEYS):
                return None  # ImageNav, InstanceImageNav: no goal category, exploration only
            categories = categories if categories is not None else task.categories
            if instance_categories is None:
                instance_categories = SceneInstanceCategories(env)
        if not categories or instance_categories is None:
            return None
        return SemanticGoalRecognizer(categories, instance_categories)

    @staticmethod
    def needed_sensors(task: Any, goal_recognition: bool = True) -> tuple[str, ...]:
        """The sensors the agent needs on a task (a :class:`~navgym.tasks.base.Task` or its class):
        ``depth``, ``gps``, ``compass``, and for the default goal recognition ``semantic`` and the
        task's goal-category sensor, e.g. ``gym.make(id, sensors=FrontierAgent.needed_sensors(TASKS.get("ObjectNav")))``."""
        needed = ["depth", "gps", "compass"]
        category_keys = [key for key in CATEGORY_KEYS if key in task.goal_sensors][:1]
        if goal_recognition and category_keys:
            needed += ["semantic"] + category_keys
        return tuple(needed)

    def _check_sensors(self, env: gym.Env) -> None:
        require_sensors(env, self.needed_sensors(env.unwrapped.task, isinstance(self.goal_recognizer, SemanticGoalRecognizer)), "the frontier agent")

    # -- Agent interface -----------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the map and the plan."""
        self.map.reset()
        self.tilt = 0.0
        self.ignored = np.zeros(self.map.shape, dtype=bool)
        #: Cells blocked by collisions (kept apart from the depth map so they can be forgotten).
        self.bumps = np.zeros(self.map.shape, dtype=bool)
        self.target: np.ndarray | None = None
        self._target_steps = 0
        self._spin_left = int(math.ceil(360.0 / self.turn_angle)) if self.initial_spin else 0
        self._last_pose: Pose2D | None = None
        self._last_action: str | None = None
        self._collisions_in_a_row = 0
        self._warned_off_map = False
        self.mode = "spin"

    def policy(self, obs: dict[str, Any]) -> int:
        """One action index for this observation."""
        for key in ("depth", "gps", "compass"):
            if key not in obs:
                raise KeyError(f"The frontier agent needs obs[{key!r}]; make the env with {key!r} in sensors=")
        pose = Pose2D.from_gps_compass(obs["gps"], obs["compass"])
        self._handle_collision(pose)
        goal_mask = self.goal_recognizer(obs) if self.goal_recognizer is not None else None
        projection = self.map.integrate(obs["depth"], pose, self.camera, pitch=self.tilt, goal_mask=goal_mask)
        self.map.mark_free_disk(pose.position, self.agent_radius)
        action = self._decide(pose, projection.goal_points)
        if action == "look_up":
            self.tilt = min(self.tilt + self.tilt_angle, 90.0)
        elif action == "look_down":
            self.tilt = max(self.tilt - self.tilt_angle, -90.0)
        self._last_pose, self._last_action = pose, action
        return self.actions.index(action)

    # -- decisions -----------------------------------------------------------------------------
    def _decide(self, pose: Pose2D, goal_points: np.ndarray) -> str:
        try:
            self.map.cell_of(pose)
        except ValueError as exc:
            if not self._warned_off_map:
                warnings.warn(f"{exc}; the frontier agent stops", stacklevel=3)
                self._warned_off_map = True
            return "stop"
        if self._spin_left > 0:
            self._spin_left -= 1
            return "turn_left"
        if self.map.goal.any():
            if self._goal_distance(pose, goal_points) <= self.stop_distance:
                self.mode = "stop"
                return "stop"
            action = self._with_fallbacks(self._go_to_goal, pose)
            if action is not None:
                self.mode = "goal"
                return action
        self.mode = "explore"
        action = self._with_fallbacks(self._explore, pose)
        if action is None:
            self.mode = "done"
            return "stop"
        return action

    def _with_fallbacks(self, plan: Callable[[Pose2D, float], str | None], pose: Pose2D) -> str | None:
        """Run a planner with the full obstacle inflation, then thinner ones (tight doors), then
        once more without the collision marks (they may have walled the agent in)."""
        for forget_bumps in (False, True):
            if forget_bumps:
                if not self.bumps.any():
                    break
                self.bumps[:] = False
            for inflation in self.inflations:
                action = plan(pose, inflation)
                if action is not None:
                    return action
        return None

    def _nearest_goal_point(self, pose: Pose2D) -> np.ndarray:
        """World (x, z) of the mapped goal cell nearest the agent (straight line)."""
        rows, cols = np.nonzero(self.map.goal)
        points = self.map.cell_to_world(rows, cols)
        return points[np.argmin(np.hypot(*(points - pose.position).T))]

    def _goal_distance(self, pose: Pose2D, goal_points: np.ndarray) -> float:
        """Straight-line floor distance to the nearest goal point seen now or mapped before."""
        rows, cols = np.nonzero(self.map.goal)
        mapped = self.map.cell_to_world(rows, cols)
        seen = goal_points[:, [0, 2]] if len(goal_points) else np.zeros((0, 2))
        points = np.concatenate([mapped, seen])
        return float(np.hypot(*(points - pose.position).T).min())

    def _handle_collision(self, pose: Pose2D) -> None:
        """After a ``move_forward`` that barely moved, mark a short strip in front of the agent blocked."""
        if self._last_action != "move_forward" or self._last_pose is None:
            return
        moved = float(np.hypot(*(pose.position - self._last_pose.position)))
        if moved >= 0.5 * self.forward_step:
            self._collisions_in_a_row = 0
            return
        self._collisions_in_a_row += 1
        ahead = self.agent_radius + self.map.cell_size
        lateral = np.linspace(-0.5 * self.agent_radius, 0.5 * self.agent_radius, 5)
        left = np.array([-math.cos(pose.yaw), math.sin(pose.yaw)])  # unit (x, z) to the agent's left
        rows, cols = self.map.world_to_cell(pose.position + ahead * pose.heading + lateral[:, None] * left)
        inside = self.map.inside(rows, cols)
        self.bumps[rows[inside], cols[inside]] = True
        if self._collisions_in_a_row >= 4:
            self._give_up_target()

    # -- planning ------------------------------------------------------------------------------
    def _window(self, pose: Pose2D) -> tuple[slice, slice]:
        """The part of the map worth planning on: what has been observed, plus a margin."""
        margin = int(math.ceil(1.0 / self.map.cell_size))
        rows, cols = self.map.observed_bounds(margin)
        r, c = self.map.cell_of(pose)
        rows = slice(max(0, min(rows.start, r - margin)), min(self.map.cells, max(rows.stop, r + margin + 1)))
        cols = slice(max(0, min(cols.start, c - margin)), min(self.map.cells, max(cols.stop, c + margin + 1)))
        return rows, cols

    def _planning_grid(self, pose: Pose2D, window: tuple[slice, slice], inflation: float) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
        """Traversable cells, per-cell speed and the agent's cell, all inside ``window``."""
        obstacle = self.map.obstacle[window] | self.bumps[window]
        traversable = ~inflate_obstacles(obstacle, inflation, self.map.cell_size)
        r, c = self.map.cell_of(pose)
        agent = (r - window[0].start, c - window[1].start)
        # The agent stands where it stands: free the disk it can turn in (the inflation radius)
        # except mapped obstacles, so it can leave an inflated zone it slid into; and its centre.
        n = max(1, int(math.ceil(inflation / self.map.cell_size)))
        rr, cc = np.mgrid[-n : n + 1, -n : n + 1]
        rows, cols = agent[0] + rr, agent[1] + cc
        ok = (rows >= 0) & (cols >= 0) & (rows < obstacle.shape[0]) & (cols < obstacle.shape[1]) & (rr**2 + cc**2 <= n * n)
        ok[ok] &= ~obstacle[rows[ok], cols[ok]] | (rr[ok] ** 2 + cc[ok] ** 2 <= 2)
        traversable[rows[ok], cols[ok]] = True
        speed = np.where(self.map.free[window] | ~traversable, 1.0, 1.0 / self.unknown_cost)
        return traversable, speed, agent

    def _steer(self, pose: Pose2D, field: np.ndarray, agent: tuple[int, int], window: tuple[slice, slice]) -> str | None:
        """The action that follows ``field`` downhill from the agent; ``None`` when it cannot."""
        if not np.isfinite(field[agent]):
            return None
        path = descend(field, agent, self.lookahead_cells)
        if len(path) < 2:
            return None
        end = path[-1]
        waypoint = self.map.cell_to_world(end[0] + window[0].start, end[1] + window[1].start)
        return action_toward(pose, waypoint, self.turn_angle)

    def _go_to_goal(self, pose: Pose2D, inflation: float) -> str | None:
        """Plan to the traversable cells near a mapped goal cell."""
        window = self._window(pose)
        goal = self.map.goal[window]
        if not goal.any():
            return None
        traversable, speed, agent = self._planning_grid(pose, window, inflation)
        approach = max(self.stop_distance - 0.2, self.map.cell_size)
        targets = (ndimage.distance_transform_edt(~goal) * self.map.cell_size <= approach) & traversable
        if not targets.any():
            return None
        field = distance_field(traversable, targets, self.map.cell_size, speed)
        if field[agent] == 0.0:
            # In the approach zone but not yet within stop_distance: face the goal and step.
            return action_toward(pose, self._nearest_goal_point(pose), self.turn_angle)
        return self._steer(pose, field, agent, window)

    def _explore(self, pose: Pose2D, inflation: float) -> str | None:
        """Steer to the nearest frontier (kept while it stays nearly the nearest)."""
        window = self._window(pose)
        origin = np.array([window[0].start, window[1].start])
        grid = self.map.grid_in(window)
        traversable, speed, agent = self._planning_grid(pose, window, inflation)
        start = np.zeros_like(traversable)
        start[agent] = True
        from_agent = distance_field(traversable, start, self.map.cell_size, speed)
        for _ in range(8):  # a few rounds in case targets are given up on
            frontiers = find_frontiers(grid, self.min_frontier_cells, ignore=self.ignored[window], obstacle_clearance=self.frontier_clearance_cells)
            choice = self._choose_frontier(frontiers, from_agent, origin)
            if choice is None:
                return None
            _, cell, best = choice
            target = self._keep_target(frontiers, from_agent, origin, best) if self.target is not None else None
            if target is None:
                target = cell + origin
                self._target_steps = 0
            self.target = target
            self._target_steps += 1
            goal_point = self.map.cell_to_world(*self.target)
            distance = float(np.hypot(*(goal_point - pose.position)))
            if distance <= 0.5 or self._target_steps > 60:
                # Close (or long chased) and still a frontier: look at it once, then give it up.
                if self._target_steps <= 60 and abs(bearing_to(pose, goal_point)) > math.radians(self.turn_angle) / 2.0:
                    return action_toward(pose, goal_point, self.turn_angle)
                self._give_up_target()
                continue
            # The path is the agent-rooted field followed down from the target (one fast march).
            path = descend(from_agent, tuple(self.target - origin), max_steps=from_agent.size)[::-1]
            if len(path) >= 2 and tuple(path[0]) == agent:
                waypoint = path[min(self.lookahead_cells, len(path) - 1)] + origin
                return action_toward(pose, self.map.cell_to_world(*waypoint), self.turn_angle)
            targets = np.zeros_like(traversable)
            targets[tuple(self.target - origin)] = True
            action = self._steer(pose, distance_field(traversable, targets, self.map.cell_size, speed), agent, window)
            if action is not None:
                return action
            self._give_up_target()
        return None

    def _choose_frontier(self, frontiers: list, from_agent: np.ndarray, origin: np.ndarray) -> tuple[int, np.ndarray, float] | None:
        """The frontier to explore: ``(index, cell in the window, geodesic distance)``; the nearest
        here (subclasses score frontiers, e.g. UniGoal's stage 1). ``origin`` is the window's
        (row, col) offset in the map."""
        return nearest_frontier(frontiers, from_agent)

    def _keep_target(self, frontiers: list, from_agent: np.ndarray, origin: np.ndarray, best: float) -> np.ndarray | None:
        """The frontier cell next to the current target, if it is still (nearly) the nearest."""
        cells = np.concatenate([f.cells for f in frontiers])
        near = np.hypot(*(cells + origin - self.target).T) * self.map.cell_size <= 0.3
        if not near.any():
            return None
        candidates = cells[near]
        values = from_agent[candidates[:, 0], candidates[:, 1]]
        i = int(np.argmin(values))
        if not np.isfinite(values[i]) or values[i] > best + 1.0:
            return None
        return candidates[i] + origin

    def _give_up_target(self) -> None:
        """Never count the frontier cells around the current target again."""
        if self.target is None:
            return
        n = int(math.ceil(0.5 / self.map.cell_size))
        r, c = int(self.target[0]), int(self.target[1])
        rr, cc = np.mgrid[-n : n + 1, -n : n + 1]
        disk = rr**2 + cc**2 <= n * n
        rows, cols = r + rr[disk], c + cc[disk]
        ok = self.map.inside(rows, cols)
        self.ignored[rows[ok], cols[ok]] = True
        self.target = None
        self._target_steps = 0
