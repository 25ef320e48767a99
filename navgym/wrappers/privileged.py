"""Privileged information, made explicit: the shortest-path follower's action as an observation.

Agents never see privileged state through the ordinary observation space. An oracle (an upper
bound, not a method) must wrap its env with :class:`PrivilegedObservation`, which adds
``obs["oracle_action"]``: the next action of a follower of the simulator's geodesic shortest path
(Habitat's ``ShortestPathFollower`` rule).
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from navgym.core.geometry import wrap_angle, yaw_toward


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
    if not math.isfinite(distance):
        return "stop"
    path = sim.shortest_path(state.position, goals)
    if len(path) < 2:
        return "stop"
    target = next((p for p in path[1:] if np.hypot(p[0] - state.position[0], p[2] - state.position[2]) > 0.05), path[-1])
    heading = yaw_toward(state.position, target)
    error = wrap_angle(heading - state.yaw)
    half_turn = math.radians(nav.embodiment.turn_angle) / 2.0
    if error > half_turn + 1e-6:
        return "turn_left"
    if error < -half_turn - 1e-6:
        return "turn_right"
    return "move_forward"


class PrivilegedObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Adds ``oracle_action`` (the shortest-path follower's next action index) to observations.

    Privileged: for oracles and upper bounds only, never for methods under evaluation.
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        if not isinstance(env.observation_space, spaces.Dict):
            raise TypeError("PrivilegedObservation needs a Dict observation space (a navgym NavEnv)")
        self.observation_space = spaces.Dict({**env.observation_space.spaces, "oracle_action": spaces.Discrete(env.action_space.n)})

    def observation(self, observation):
        name = follow_shortest_path(self.env)
        return {**observation, "oracle_action": self.env.unwrapped.actions.index(name)}
