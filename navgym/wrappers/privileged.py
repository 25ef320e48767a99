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

:class:`CriticObservation` adds ``obs["critic"]`` (:data:`CRITIC_FEATURES` numbers, see
:func:`critic_features`) for a learned agent's *training* critic (an asymmetric actor-critic):
the value estimate may read the geodesic distance, the path's direction and the goal heading,
while the actor, the only part that acts, never does.
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
#: The observation key :class:`CriticObservation` adds and the length of its vector.
CRITIC_KEY = "critic"
CRITIC_FEATURES = 6
#: Distances in ``obs["critic"]`` are divided by this (metres) and clipped to ``CRITIC_MAX_DISTANCE``.
CRITIC_DISTANCE_SCALE = 5.0
CRITIC_MAX_DISTANCE = 4.0


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


class LookThenGoalView:
    """A teacher that first looks for the goal photo's scene, then follows
    :func:`follow_to_goal_view` (``bc_teacher="look"``); privileged, one instance per episode
    (:meth:`reset` at its start: it remembers whether it has looked).

    The path and view teachers set off along the shortest path at once, even when the goal and
    the scene of the goal photo are out of the agent's view, so a policy that sees only its own
    camera and the photo cannot tell from its inputs which way they turn first. This one begins,
    before any forward move, by turning toward the goal photo's heading until the photo's centre
    direction is inside the agent's field of view (within ``hfov / 2`` of its heading, so the
    photo's scene is in view when the goal is near; within half a turn step where turns are wider
    than the field of view): the shorter way while the two views overlap (heading difference
    under ``hfov``, so the photo's scene is partly in view and its side can be told), else always
    to the left (nothing in view tells the side). Then, or once the agent has
    moved, it is :func:`follow_to_goal_view`. Made for ImageNav (a goal heading); without one it is
    :func:`follow_to_goal_view` throughout.
    """

    def __init__(self, stop_distance: float = 0.3):
        self.stop_distance = stop_distance
        self.reset()

    def reset(self) -> None:
        """Forget the episode (call at each episode's start)."""
        self.looked = False
        self._start: np.ndarray | None = None

    def __call__(self, env) -> str:
        nav = env.unwrapped
        if not self.looked:
            state = nav.sim.get_agent_state()
            position = np.asarray(state.position, dtype=np.float64)
            if self._start is None:
                self._start = position
            heading = nav.task.goal_heading(nav.episode)
            moved = float(np.hypot(*(position - self._start)[[0, 2]])) > 0.01
            # A turn step wider than the field of view could step over the window: widen it to the step.
            window = max(math.radians(nav.embodiment.camera.hfov), math.radians(getattr(nav.embodiment, "turn_angle", 0.0)))
            if heading is None or moved:
                self.looked = True
            else:
                error = wrap_angle(heading - state.yaw)
                if abs(error) <= window / 2.0:
                    self.looked = True
                elif abs(error) < window:  # the shorter way
                    return "turn_left" if error > 0 else "turn_right"
                else:
                    return "turn_left"
        return follow_to_goal_view(env, self.stop_distance)


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


def critic_features(env, elapsed: int = 0, max_steps: int | None = None) -> np.ndarray:
    """What a training critic may know of a :class:`~navgym.envs.nav_env.NavEnv`'s state,
    ``(CRITIC_FEATURES,)`` float32:

    0. the geodesic distance to the goal points / ``CRITIC_DISTANCE_SCALE`` (5 m), clipped to
       ``CRITIC_MAX_DISTANCE`` (also when no goal is reachable);
    1-2. sin and cos of the direction of the shortest path's next turn point from the agent's
       heading (left positive; 0 and 1 when no path is left);
    3-4. sin and cos of the goal heading (ImageNav: the goal photo's) from the agent's heading
       (0 and 1 for tasks without one);
    5. ``elapsed / max_steps``, the share of the time limit used (0 without a limit).
    """
    nav = env.unwrapped
    sim, goals = nav.sim, nav.goal_points
    state = sim.get_agent_state()
    out = np.array([CRITIC_MAX_DISTANCE, 0.0, 1.0, 0.0, 1.0, 0.0], dtype=np.float32)
    distance = float(sim.geodesic_distance(state.position, goals)) if len(goals) else math.inf
    if math.isfinite(distance):
        out[0] = min(distance / CRITIC_DISTANCE_SCALE, CRITIC_MAX_DISTANCE)
        path = sim.shortest_path(state.position, goals)
        target = next((p for p in path[1:] if np.hypot(p[0] - state.position[0], p[2] - state.position[2]) > 0.05), None)
        if target is not None:
            bearing = wrap_angle(yaw_toward(state.position, target) - state.yaw)
            out[1:3] = math.sin(bearing), math.cos(bearing)
    heading = nav.task.goal_heading(nav.episode)
    if heading is not None:
        error = wrap_angle(heading - state.yaw)
        out[3:5] = math.sin(error), math.cos(error)
    if max_steps:
        out[5] = min(elapsed / max_steps, 1.0)
    return out


class CriticObservation(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Adds ``obs["critic"]`` (:func:`critic_features`) for an asymmetric actor-critic: a
    *training* critic reads it, the actor must not (RSRNav's ``privileged_critic`` setting, see
    :class:`navgym.agents.rsrnav.model.RSRNavConfig`). Privileged: never an input of a policy
    under evaluation.

    Args:
        env: A navgym env.
        max_steps: The time limit the elapsed share is of; ``None``: the env spec's
            ``max_episode_steps`` (0 when it has none).
    """

    def __init__(self, env: gym.Env, max_steps: int | None = None):
        gym.utils.RecordConstructorArgs.__init__(self, max_steps=max_steps)
        gym.Wrapper.__init__(self, env)
        if not isinstance(env.observation_space, spaces.Dict):
            raise TypeError("CriticObservation needs a Dict observation space (a navgym NavEnv)")
        if CRITIC_KEY in env.observation_space.spaces:
            raise ValueError(f"the env already has an observation {CRITIC_KEY!r}; wrap it with CriticObservation once")
        if max_steps is None:
            max_steps = getattr(env.spec, "max_episode_steps", None) if env.spec is not None else None
        if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1):
            raise ValueError(f"max_steps={max_steps!r} must be an integer >= 1, or None (the env spec's max_episode_steps)")
        self.max_steps = max_steps
        self._elapsed = 0
        low = np.array([0.0, -1.0, -1.0, -1.0, -1.0, 0.0], dtype=np.float32)
        high = np.array([CRITIC_MAX_DISTANCE, 1.0, 1.0, 1.0, 1.0, 1.0], dtype=np.float32)
        self.observation_space = spaces.Dict({**env.observation_space.spaces, CRITIC_KEY: spaces.Box(low, high, dtype=np.float32)})

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._elapsed = 0
        return self._add(obs), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._elapsed += 1
        return self._add(obs), reward, terminated, truncated, info

    def _add(self, obs):
        return {**obs, CRITIC_KEY: critic_features(self.env, self._elapsed, self.max_steps)}
