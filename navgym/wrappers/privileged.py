"""Privileged information, made explicit: what a shortest-path follower knows, as an observation.

Agents never see privileged state through the ordinary observation space. An oracle (an upper
bound, not a method) must wrap its env with :class:`PrivilegedObservation`, which adds, for
discrete action spaces, ``obs["oracle_action"]``: the next action of a follower of the simulator's
geodesic shortest path (Habitat's ``ShortestPathFollower`` rule). Velocity-commanded bodies
(``Box`` actions: Jetbot, H1, Aliengo, unicycle) have no such action; they get the path itself, in
the body's ego ground frame (x forward, y left, metres):

* ``oracle_path`` ``(PATH_POINTS, 2)``: the simulator's shortest path from the body to the goal
  points, resampled every ``PATH_SPACING`` m from the body (first row ``(0, 0)``), padded with its
  last point (truncated after ``PATH_POINTS`` points: 9.9 m); all zeros when no goal is reachable;
* ``oracle_distance`` ``(1,)``: the geodesic distance to the goal points (``inf``: unreachable);
* ``oracle_facing`` ``(2,)``: the target the task's facing rule aims at (the centre of the goal
  object's box, :func:`navgym.tasks.semantic_nav.target_center`; the first goal's position without
  an object), on the ground.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from navgym.core.geometry import wrap_angle, yaw_toward

#: Rows of ``oracle_path`` and their spacing along the path, metres (velocity-commanded bodies).
PATH_POINTS = 100
PATH_SPACING = 0.1
#: Bound of ``oracle_facing`` (metres): the target as seen from the body, clipped to it.
FACING_RANGE = 1000.0
#: Observation keys for discrete and for continuous (``Box``) action spaces.
DISCRETE_KEYS = ("oracle_action",)
CONTINUOUS_KEYS = ("oracle_path", "oracle_distance", "oracle_facing")


def to_ego(state, points) -> np.ndarray:
    """World points (N, 3) as (N, 2) ego ground coordinates (x forward, y left) of ``state``."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    dx = points[:, 0] - state.position[0]
    dz = points[:, 2] - state.position[2]
    sin, cos = math.sin(state.yaw), math.cos(state.yaw)
    return np.stack([-dx * sin - dz * cos, -dx * cos + dz * sin], axis=1)


def shortest_path_ego(env, points: int = PATH_POINTS, spacing: float = PATH_SPACING) -> tuple[np.ndarray, float]:
    """``(path (points, 2) float32, geodesic distance)``: the shortest path from the body to the
    goal points of a :class:`~navgym.envs.nav_env.NavEnv` in the body's ego frame, resampled every
    ``spacing`` metres (see the module docstring)."""
    nav = env.unwrapped
    sim, goals = nav.sim, nav.goal_points
    state = sim.get_agent_state()
    out = np.zeros((points, 2), dtype=np.float32)
    distance = float(sim.geodesic_distance(state.position, goals)) if len(goals) else math.inf
    path = sim.shortest_path(state.position, goals) if math.isfinite(distance) else np.zeros((0, 3))
    if len(path) == 0:
        return out, distance
    ego = np.concatenate([np.zeros((1, 2)), to_ego(state, path)])
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(ego, axis=0).T))])
    s = np.minimum(np.arange(points) * spacing, along[-1])
    out[:, 0] = np.interp(s, along, ego[:, 0])
    out[:, 1] = np.interp(s, along, ego[:, 1])
    return out, distance


def facing_target_ego(env) -> np.ndarray:
    """The task's facing target in the body's ego frame, (2,) float32 (see the module docstring)."""
    from navgym.tasks.semantic_nav import target_center

    nav = env.unwrapped
    state = nav.sim.get_agent_state()
    try:
        target = target_center(nav.sim, nav.episode)
    except ValueError:  # no goal at all: face where the path ends
        goals = nav.goal_points
        target = goals[0] if len(goals) else state.position
    return np.clip(to_ego(state, target)[0], -FACING_RANGE, FACING_RANGE).astype(np.float32)


def follow_shortest_path(env) -> str:
    """The next action name of a shortest-path follower in a :class:`~navgym.envs.nav_env.NavEnv`."""
    nav = env.unwrapped
    sim, task, goals = nav.sim, nav.task, nav.goal_points
    state = sim.get_agent_state()
    radius = task.goal_radius(nav.episode)
    distance = sim.geodesic_distance(state.position, goals)
    # Stop well inside the success radius (any-angle distances on a 5 cm grid are approximate).
    if distance <= 0.75 * radius or (distance <= radius and distance <= 0.5 * nav.embodiment.forward_step):
        return "stop"
    return _steer(nav, state, goals, distance)


def follow_to_goal_view(env, stop_distance: float = 0.3) -> str:
    """The next action name of a follower that walks the shortest path on to within
    ``stop_distance`` metres of the goal (not merely inside the success radius, where
    :func:`follow_shortest_path` stops), then turns to the task's goal heading (ImageNav: the goal
    photo's, so it stops where its view is the goal photo) and stops. Made for ImageNav: tasks
    without a goal heading stop on arrival, and other tasks' extra success rules (ObjectNav's
    facing, InstanceImageNav's goal object) are not followed. A teacher for imitation
    (``bc_teacher="view"``); privileged."""
    nav = env.unwrapped
    sim, goals = nav.sim, nav.goal_points
    state = sim.get_agent_state()
    distance = sim.geodesic_distance(state.position, goals)
    if distance > max(stop_distance, 0.5 * nav.embodiment.forward_step):
        return _steer(nav, state, goals, distance)
    heading = nav.task.goal_heading(nav.episode)
    if heading is None:
        return "stop"
    return _turn_toward(nav, wrap_angle(heading - state.yaw)) or "stop"


def _turn_toward(nav, error: float) -> str | None:
    """``turn_left``/``turn_right`` when a heading ``error`` (radians, left positive) is more than
    half a turn step; else ``None``."""
    half_turn = math.radians(nav.embodiment.turn_angle) / 2.0
    if error > half_turn + 1e-6:
        return "turn_left"
    if error < -half_turn - 1e-6:
        return "turn_right"
    return None


def _steer(nav, state, goals, distance: float) -> str:
    """One step along the shortest path to ``goals`` (``stop`` when none is reachable)."""
    if not math.isfinite(distance):
        return "stop"
    path = nav.sim.shortest_path(state.position, goals)
    if len(path) < 2:
        return "stop"
    target = next((p for p in path[1:] if np.hypot(p[0] - state.position[0], p[2] - state.position[2]) > 0.05), path[-1])
    return _turn_toward(nav, wrap_angle(yaw_toward(state.position, target) - state.yaw)) or "move_forward"


class PrivilegedObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Adds ``oracle_action`` (the shortest-path follower's next action index) to observations;
    for ``Box`` action spaces ``oracle_path``, ``oracle_distance`` and ``oracle_facing`` instead
    (the module docstring).

    Privileged: for oracles and upper bounds only, never for methods under evaluation.
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        if not isinstance(env.observation_space, spaces.Dict):
            raise TypeError("PrivilegedObservation needs a Dict observation space (a navgym NavEnv)")
        self.continuous = isinstance(env.action_space, spaces.Box)
        if self.continuous:
            added = {
                "oracle_path": spaces.Box(-PATH_POINTS * PATH_SPACING, PATH_POINTS * PATH_SPACING, (PATH_POINTS, 2), dtype=np.float32),
                "oracle_distance": spaces.Box(0.0, np.inf, (1,), dtype=np.float32),
                "oracle_facing": spaces.Box(-FACING_RANGE, FACING_RANGE, (2,), dtype=np.float32),
            }
        elif hasattr(env.action_space, "n"):
            added = {"oracle_action": spaces.Discrete(env.action_space.n)}
        else:
            raise TypeError(f"PrivilegedObservation needs a Discrete or Box action space, not {env.action_space}")
        self.observation_space = spaces.Dict({**env.observation_space.spaces, **added})

    def observation(self, observation):
        if self.continuous:
            path, distance = shortest_path_ego(self.env)
            return {
                **observation,
                "oracle_path": path,
                "oracle_distance": np.array([distance], dtype=np.float32),
                "oracle_facing": facing_target_ego(self.env),
            }
        name = follow_shortest_path(self.env)
        return {**observation, "oracle_action": self.env.unwrapped.actions.index(name)}
