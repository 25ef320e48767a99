"""RSRNav's training reward: ZER's distance and angle shaping with success and view bonuses.

Each step, with d the geodesic distance to the goal and θ the angle (radians) between the agent's
heading and the goal view's heading, both read from ``info``::

    r_t = (d_{t-1} - d_t) + [d_t <= success_distance] * (θ_{t-1} - θ_t) + slack_reward
          + success_reward * success + angle_reward * [success and θ_t < angle_success]
          + (failed_stop_reward + failed_stop_per_metre * max(0, d_t - success_distance))
            * [the episode ended by stop without success]

``success`` is the env's measure, true only on the step the agent calls ``stop`` close enough.
``failed_stop_reward`` and ``failed_stop_per_metre`` are navgym's additions (0, RSRNav's reward,
by default): RSRNav's reward does not penalise a ``stop`` far from the goal, so giving up costs
nothing beyond the forgone bonus. The first is a flat cost for any such stop, the second one that
grows with the distance left beyond the success radius (a stop just short of the goal costs
little, giving up far from it much).
"""

from __future__ import annotations

import math
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from navgym.errors import InvalidArgumentError


def _finite(value: Any) -> bool:
    """A finite real number: not a bool, not a string of digits (as ``gym.make``'s own keywords)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    return math.isfinite(float(value))


class RSRNavReward(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Replaces the env's reward with RSRNav's (ZER-style) shaped reward.

    The terms of each step's reward are in ``info["reward_terms"]`` (``distance``, ``angle``,
    ``slack``, ``success``, ``angle_success``, ``failed_stop``); the reward is their sum. Terms whose measure is missing
    or not finite are 0: with no goal view (ObjectNav, TextNav report no ``angle_to_goal``, or NaN)
    both angle terms are 0, and an unreachable goal (infinite distance) gives no distance term.

    Example:
        >>> env = RSRNavReward(gym.make("ImageNav-ProcHouse-v0"))

    Args:
        env: A navgym env whose ``info`` has ``distance_to_goal`` and ``success`` (and
            ``angle_to_goal`` where the goal has a view).
        success_reward: Bonus for a successful ``stop`` (RSRNav: 5).
        angle_reward: Further bonus when that stop also faces the goal view (RSRNav: 5).
        angle_success: Angle to the goal view, radians, under which the angle bonus is given
            (ZER: 25°).
        slack_reward: Added every step (RSRNav: -0.01).
        success_distance: Within this distance (metres) of the goal the angle shaping is on;
            ``None`` takes the episode's success radius from the task (1 m for ImageNav, 0.1 m
            from a view point for InstanceImageNav).
        failed_stop_reward: Added when the agent ends the episode (``terminated``: it called
            ``stop``) without success; 0 (RSRNav's reward) by default, a negative number
            penalises giving up (navgym's addition).
        failed_stop_per_metre: Added per metre of geodesic distance beyond ``success_distance``
            when the agent ends the episode without success (0 by default; a negative number:
            a cost for giving up that grows with the distance left; navgym's addition).
    """

    def __init__(
        self,
        env: gym.Env,
        success_reward: float = 5.0,
        angle_reward: float = 5.0,
        angle_success: float = math.radians(25.0),
        slack_reward: float = -0.01,
        success_distance: float | None = None,
        failed_stop_reward: float = 0.0,
        failed_stop_per_metre: float = 0.0,
    ):
        gym.utils.RecordConstructorArgs.__init__(
            self,
            success_reward=success_reward,
            angle_reward=angle_reward,
            angle_success=angle_success,
            slack_reward=slack_reward,
            success_distance=success_distance,
            failed_stop_reward=failed_stop_reward,
            failed_stop_per_metre=failed_stop_per_metre,
        )
        gym.Wrapper.__init__(self, env)
        for name, value in (("success_reward", success_reward), ("angle_reward", angle_reward), ("slack_reward", slack_reward),
                            ("failed_stop_reward", failed_stop_reward), ("failed_stop_per_metre", failed_stop_per_metre)):
            if not _finite(value):
                raise InvalidArgumentError(f"{name}={value!r} must be a finite number (an int or float, not a bool or a string)")
        if not (_finite(angle_success) and 0.0 < angle_success <= math.pi):
            raise InvalidArgumentError(f"angle_success={angle_success!r} is out of range; allowed (0, pi] radians (25° is math.radians(25))")
        if success_distance is not None and not (_finite(success_distance) and 0.0 < success_distance <= 10.0):
            raise InvalidArgumentError(f"success_distance={success_distance!r} is out of range; allowed (0, 10] metres, or None for the task's")
        self.success_reward = float(success_reward)
        self.angle_reward = float(angle_reward)
        self.angle_success = float(angle_success)
        self.slack_reward = float(slack_reward)
        self.failed_stop_reward = float(failed_stop_reward)
        self.failed_stop_per_metre = float(failed_stop_per_metre)
        self.success_distance = None if success_distance is None else float(success_distance)
        self._episode_success_distance = float("nan")
        self._previous_distance = float("nan")
        self._previous_angle = float("nan")

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._remember(info)
        self._episode_success_distance = self.success_distance if self.success_distance is not None else self._task_success_distance()
        return obs, info

    def _task_success_distance(self) -> float:
        nav = self.env.unwrapped
        task = getattr(nav, "task", None)
        if task is None:
            raise TypeError(f"RSRNavReward needs success_distance=... for a non-navgym env ({type(nav).__name__})")
        return float(task.goal_radius(nav.episode))

    def _remember(self, info: dict[str, Any]) -> tuple[float, float]:
        """Keep this step's distance and angle (NaN when the env reports no goal view) for the next."""
        if "distance_to_goal" not in info:
            raise ValueError("RSRNavReward reads info['distance_to_goal'], which this env does not report; wrap a navgym env")
        self._previous_distance = float(info["distance_to_goal"])
        self._previous_angle = float(info.get("angle_to_goal", float("nan")))
        return self._previous_distance, self._previous_angle

    def step(self, action) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, _, terminated, truncated, info = self.env.step(action)
        previous_distance, previous_angle = self._previous_distance, self._previous_angle
        distance, angle = self._remember(info)
        success = bool(info.get("success", False))
        terms = {"distance": 0.0, "angle": 0.0, "slack": self.slack_reward, "success": 0.0, "angle_success": 0.0, "failed_stop": 0.0}
        if _finite(distance) and _finite(previous_distance):
            terms["distance"] = previous_distance - distance
        near = _finite(distance) and distance <= self._episode_success_distance
        if near and _finite(angle) and _finite(previous_angle):
            terms["angle"] = previous_angle - angle
        if terminated and not success:
            beyond = distance - self._episode_success_distance if _finite(distance) else 0.0
            terms["failed_stop"] = self.failed_stop_reward + self.failed_stop_per_metre * max(0.0, beyond)
        if success:
            terms["success"] = self.success_reward
            if _finite(angle) and angle < self.angle_success:
                terms["angle_success"] = self.angle_reward
        info["reward_terms"] = terms
        return obs, float(sum(terms.values())), terminated, truncated, info
