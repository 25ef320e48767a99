"""The MultiGoalVLN oracle: **privileged**, an upper bound and a solvability check, not a method.

It reads the simulator and the task's sub-goal tracker straight from the env (the sub-goals'
view points and which are reached), orders the sub-goals by the shortest feasible tour
(:func:`navgym.tasks.multigoal_vln.shortest_tour`: the given order when the instruction has one,
else the best permutation), follows the geodesic shortest path to each (Habitat's follower rule:
turn toward the next waypoint, else move forward) and calls ``found`` on arrival, ``stop`` at
the last one.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from navgym.core.geometry import wrap_angle, yaw_toward
from navgym.errors import InvalidArgumentError
from navgym.tasks.multigoal_vln import shortest_tour


class MultiGoalOracleAgent:
    """PRIVILEGED: visits MultiGoalVLN's sub-goals along shortest paths in the best feasible order.

    Args:
        env: A MultiGoalVLN env (``gym.make("MultiGoalVLN-ProcHouse-v0")``); read, never stepped.
    """

    privileged = True

    def __init__(self, env: gym.Env | None = None):
        if env is None or getattr(env.unwrapped, "task", None) is None or env.unwrapped.task.name != "MultiGoalVLN":
            raise InvalidArgumentError("the multigoal-oracle agent needs env= a MultiGoalVLN env, e.g. gym.make('MultiGoalVLN-ProcHouse-v0')")
        self.env = env.unwrapped
        actions = self.env.actions
        missing = [a for a in ("stop", "move_forward", "turn_left", "turn_right", "found") if a not in actions]
        if missing:
            raise InvalidArgumentError(f"the multigoal-oracle agent needs discrete actions with {missing}; this env's are {list(actions)}")
        self._episode: Any = None
        self._plan: list[int] = []
        self._steps = 0

    def reset(self) -> None:
        self._episode = None
        self._steps = 0

    def _replan(self) -> None:
        tracker = self.env.measures.measure("subgoals_reached")
        position = self.env.sim.get_agent_state().position
        left = tracker.unreached()
        tour = shortest_tour(self.env.sim, position, [tracker.regions[i] for i in left], tracker.ordered)
        self._plan = [left[i] for i in tour.order]
        self._episode = self.env.episode

    def policy(self, obs: dict[str, Any]) -> int:
        env = self.env
        tracker = env.measures.measure("subgoals_reached")
        # A new episode, or the same episode object reset again (env.reset with the same seed,
        # without agent.reset()): the step counter went back, so plan again.
        steps = int(env.measures.measure("num_steps").value)
        if self._episode is not env.episode or steps == 0 or steps < self._steps:
            self._replan()
        self._steps = steps
        self._plan = [i for i in self._plan if i not in tracker.reached]
        if not self._plan:
            return env.actions.index("stop")
        target = tracker.regions[self._plan[0]]
        sim = env.sim
        state = sim.get_agent_state()
        distance = sim.geodesic_distance(state.position, target)
        if distance <= 0.5 * tracker.radius:
            return env.actions.index("stop" if len(self._plan) == 1 else "found")
        if not math.isfinite(distance):
            return env.actions.index("stop")
        path = sim.shortest_path(state.position, target)
        if len(path) < 2:
            return env.actions.index("found" if distance <= tracker.radius else "stop")
        waypoint = next((p for p in path[1:] if np.hypot(p[0] - state.position[0], p[2] - state.position[2]) > 0.05), path[-1])
        error = wrap_angle(yaw_toward(state.position, waypoint) - state.yaw)
        half_turn = math.radians(env.embodiment.turn_angle) / 2.0
        if error > half_turn + 1e-6:
            return env.actions.index("turn_left")
        if error < -half_turn - 1e-6:
            return env.actions.index("turn_right")
        return env.actions.index("move_forward")
