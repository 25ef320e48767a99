"""Goal images taken by a user's camera instead of the agent's (RSRNav's "user-matched goal").

ImageNav agents are usually trained and tested with goal photos taken by their own camera. A user
holding a phone takes them from another height, tilt and field of view. :class:`UserMatchedGoalCamera`
re-takes each episode's goal image with a camera drawn at reset from one of these settings:

============  ==============  ===================  ====================  ===========================
setting       height (m)      pitch (°, + agent's)  HFOV (°)              source
============  ==============  ===================  ====================  ===========================
``agent``     agent's         agent's              agent's               the task's own goal image
``user``      U(0.8, 1.5)     U(-5, 5)             integer in [60, 120)  FGPrompt ``src/sensor.py``
``extreme``   U(0.4, 2.0)     U(-20, 20)           U(40, 140)            navgym's choice
============  ==============  ===================  ====================  ===========================

The image keeps the observation's size and the goal view's position and heading; roll stays 0 in
every setting, as in FGPrompt and RSRNav (see ``docs/wrappers.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from navgym.core.checks import check_range
from navgym.core.options import flag
from navgym.core.specs import CameraSpec
from navgym.errors import InvalidArgumentError

#: Goal sensors whose image this wrapper can re-take.
IMAGE_GOAL_SENSORS = ("imagegoal", "instance_imagegoal")

GoalCameraSetting = Literal["agent", "user", "extreme"]


def _check_interval(name: str, interval: Any, low: float, high: float, *, low_open: bool = False) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in interval)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"GoalCameraRanges.{name}={interval!r} is not a (low, high) pair of numbers") from exc
    for value in (lo, hi):
        check_range(f"GoalCameraRanges.{name}={interval!r}: each end", value, low, high, low_open=low_open)
    if lo > hi:
        raise InvalidArgumentError(f"GoalCameraRanges.{name}={interval!r} has low > high; write it as ({hi}, {lo})")
    return lo, hi


@dataclass(frozen=True)
class GoalCameraRanges:
    """Uniform ranges a goal camera is drawn from, one episode at a time.

    Attributes:
        height: Camera height above the goal's floor, metres, in (0, 10].
        pitch: Pitch added to the agent camera's pitch, degrees, in [-90, 90] (positive looks up);
            the sum is clipped to [-90, 90].
        hfov: Horizontal field of view, degrees, in (0, 179].
        integer_hfov: Draw the HFOV as an integer in ``[low, high)`` (FGPrompt's ``randint``)
            instead of a real number in ``[low, high]``.
        roll: Roll, degrees, in [-180, 180]; (0, 0) in every preset.
    """

    height: tuple[float, float]
    pitch: tuple[float, float]
    hfov: tuple[float, float]
    integer_hfov: bool = False
    roll: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "height", _check_interval("height", self.height, 0.0, 10.0, low_open=True))
        object.__setattr__(self, "pitch", _check_interval("pitch", self.pitch, -90.0, 90.0))
        object.__setattr__(self, "hfov", _check_interval("hfov", self.hfov, 0.0, 179.0, low_open=True))
        object.__setattr__(self, "roll", _check_interval("roll", self.roll, -180.0, 180.0))
        object.__setattr__(self, "integer_hfov", flag("GoalCameraRanges.integer_hfov", self.integer_hfov))
        if self.integer_hfov and math.ceil(self.hfov[0]) >= self.hfov[1]:
            raise ValueError(
                f"GoalCameraRanges.hfov={self.hfov!r} holds no integer in [low, high) for integer_hfov=True; "
                "widen the range or set integer_hfov=False"
            )


#: FGPrompt's public ranges (``src/sensor.py``), which RSRNav follows: 1.25 m + U(-0.45, 0.25).
USER_MATCHED = GoalCameraRanges(height=(0.8, 1.5), pitch=(-5.0, 5.0), hfov=(60.0, 120.0), integer_hfov=True)
#: navgym's "extreme" setting (RSRNav's numbers are lost from its text): a child's to a tall adult's
#: raised phone, a clearly tilted shot, from telephoto to ultra-wide.
EXTREME = GoalCameraRanges(height=(0.4, 2.0), pitch=(-20.0, 20.0), hfov=(40.0, 140.0))
#: The named settings; ``"agent"`` means the task's own goal image, nothing drawn.
GOAL_CAMERA_SETTINGS: dict[str, GoalCameraRanges | None] = {"agent": None, "user": USER_MATCHED, "extreme": EXTREME}


def draw_goal_camera(ranges: GoalCameraRanges, agent_camera: CameraSpec, rng: np.random.Generator) -> CameraSpec:
    """Draw one goal camera: the agent's camera with height, pitch, HFOV and roll from ``ranges``.

    Args:
        ranges: Where to draw from.
        agent_camera: The agent's camera; the goal camera keeps its image size and depth range,
            and its pitch is the base the drawn pitch is added to.
        rng: The generator to draw from (four draws per call, in a fixed order).

    Returns:
        A camera producing ``rgb`` only.
    """
    height = float(rng.uniform(*ranges.height))
    pitch = float(np.clip(agent_camera.pitch + rng.uniform(*ranges.pitch), -90.0, 90.0))
    if ranges.integer_hfov:
        hfov = float(rng.integers(math.ceil(ranges.hfov[0]), math.ceil(ranges.hfov[1])))
    else:
        hfov = float(rng.uniform(*ranges.hfov))
    roll = float(rng.uniform(*ranges.roll))
    return agent_camera.with_(camera_height=height, pitch=pitch, hfov=hfov, roll=roll, outputs=("rgb",))


def goal_camera_info(camera: CameraSpec, setting: str) -> dict[str, Any]:
    """The plain-number description of a goal camera that goes in ``info["goal_camera"]``."""
    return {
        "setting": setting,
        "camera_height": float(camera.camera_height),
        "pitch": float(camera.pitch),
        "hfov": float(camera.hfov),
        "roll": float(camera.roll),
        "width": int(camera.width),
        "height": int(camera.height),
    }


def _task_goal_camera_info(nav) -> dict[str, Any]:
    """``info["goal_camera"]`` for the task's own goal image: the agent's camera (ImageNav), or
    the episode's stored goal view (InstanceImageNav: its HFOV and height above the start's floor)."""
    info = goal_camera_info(nav.embodiment.camera, "agent")
    if hasattr(nav.task, "image_goal"):
        view = nav.task.image_goal(nav.episode)
        info.update(
            camera_height=float(view.position[1]) - float(nav.episode.start_position[1]),
            pitch=0.0,
            roll=0.0,
            hfov=float(view.hfov),
        )
    return info


class UserMatchedGoalCamera(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Re-takes each episode's goal image with a user's camera drawn at reset.

    At every reset the wrapped :class:`~navgym.envs.nav_env.NavEnv` picks its episode as usual; the
    wrapper then draws a goal camera and calls ``retake_goal``, so ``imagegoal`` (ImageNav) or
    ``instance_imagegoal`` (InstanceImageNav) shows the same goal view (position and heading) seen
    by that camera, for the whole episode. ``info["goal_camera"]`` (reset only) describes the
    camera used: for ``"agent"`` the task's own, i.e. the agent's camera for ImageNav and the
    episode's stored goal view for InstanceImageNav.

    The draws come from a generator spawned from the env's ``np_random``: the same reset seed gives
    the same camera, and the env's own stream, hence its sequence of episodes, is the same as
    without the wrapper, so agent-matched and user-matched runs play the same episodes.

    Example:
        >>> env = UserMatchedGoalCamera(gym.make("ImageNav-ProcHouse-v0"), setting="user")
        >>> obs, info = env.reset(seed=0)
        >>> info["goal_camera"]["camera_height"]  # somewhere in [0.8, 1.5]

    Args:
        env: A navgym env with an image goal in its observations.
        setting: ``"agent"`` (the goal image is left as the task renders it), ``"user"``
            (FGPrompt's ranges), ``"extreme"`` (navgym's wider ranges) or a :class:`GoalCameraRanges`.
    """

    def __init__(self, env: gym.Env, setting: GoalCameraSetting | GoalCameraRanges = "user"):
        gym.utils.RecordConstructorArgs.__init__(self, setting=setting)
        gym.Wrapper.__init__(self, env)
        if isinstance(setting, GoalCameraRanges):
            self.setting_name = "custom"
            self.ranges: GoalCameraRanges | None = setting
        elif isinstance(setting, str) and setting in GOAL_CAMERA_SETTINGS:
            self.setting_name = setting
            self.ranges = GOAL_CAMERA_SETTINGS[setting]
        else:
            raise InvalidArgumentError(
                f"setting={setting!r} is not a goal camera setting; use one of {list(GOAL_CAMERA_SETTINGS)} "
                "or a GoalCameraRanges(height=..., pitch=..., hfov=...)"
            )
        nav = env.unwrapped
        if not hasattr(nav, "retake_goal") or not hasattr(nav, "task"):
            raise TypeError(f"UserMatchedGoalCamera needs a navgym NavEnv underneath; got {type(nav).__name__}")
        observed = [s for s in IMAGE_GOAL_SENSORS if s in nav.task.goal_sensors and s in nav.sensors]
        if not observed:
            raise ValueError(
                f"UserMatchedGoalCamera needs an image goal in the observations, one of {list(IMAGE_GOAL_SENSORS)}; "
                f"this {nav.task.name} env observes {list(nav.sensors)}. Use an ImageNav or InstanceImageNav env "
                "with its image goal sensor."
            )
        space = env.observation_space
        changed = [
            k for k in observed
            if not isinstance(space, gym.spaces.Dict) or k not in space.spaces or space[k] != nav.observation_space[k]
        ]
        if changed:
            raise InvalidArgumentError(
                f"UserMatchedGoalCamera replaces {changed[0]!r} in the navgym env's observations, but the wrapper below it "
                f"changes that observation (its observation space is {space}); put UserMatchedGoalCamera directly around "
                "gym.make(...), inside observation wrappers such as FrameStackObservation, FilterObservation or "
                "FlattenObservation: UserMatchedGoalCamera(gym.make(...)) first, then wrap that"
            )
        self.goal_sensors = tuple(observed)
        self.goal_camera: CameraSpec | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        nav = self.env.unwrapped
        if self.ranges is None:
            self.goal_camera = None
            info["goal_camera"] = _task_goal_camera_info(nav)
            return obs, info
        self.goal_camera = draw_goal_camera(self.ranges, nav.embodiment.camera, self._spawn_rng())
        new_goal = nav.retake_goal(self.goal_camera)
        obs = {**obs, **{k: new_goal[k] for k in self.goal_sensors}}
        info["goal_camera"] = goal_camera_info(self.goal_camera, self.setting_name)
        return obs, info

    def _spawn_rng(self) -> np.random.Generator:
        """A generator derived from the env's ``np_random`` that leaves the env's own stream alone."""
        parent = self.env.unwrapped.np_random
        try:
            return parent.spawn(1)[0]
        except (TypeError, ValueError, AttributeError):
            # A generator without a seed sequence cannot spawn: take one draw from it as a seed.
            return np.random.default_rng(int(parent.integers(2**63 - 1)))
