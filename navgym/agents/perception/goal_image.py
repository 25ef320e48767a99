"""Detections in goal images (InstanceImageNav), and the privileged wrapper that ground-truth
perception needs for them.

An env's ``instance_imagegoal`` sensor gives the goal photo's RGB only: no instance ids, no
depth, no field of view (Habitat's IIN gives the same). A real detector needs nothing more
(:func:`goal_image_detections` passes the RGB to ``detect_image``); ground-truth perception needs
the photo's instance ids, which only the simulator has. :class:`GoalImageSemantics` (privileged,
like :class:`~navgym.wrappers.PrivilegedObservation`) renders them, with the photo's depth and
field of view, from the task's goal camera, and adds them to every observation. It never adds the
goal camera's pose.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from navgym.agents.perception.detection import Detection, Perception
from navgym.core.specs import AgentState, CameraSpec
from navgym.errors import InvalidArgumentError

#: The goal sensor whose photo this module reads.
GOAL_KEY = "instance_imagegoal"
#: Keys :class:`GoalImageSemantics` adds.
SEMANTIC_KEY, DEPTH_KEY, HFOV_KEY = f"{GOAL_KEY}_semantic", f"{GOAL_KEY}_depth", f"{GOAL_KEY}_hfov"


class GoalImageSemantics(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """PRIVILEGED: adds the InstanceImageNav goal photo's instance ids, depth and HFOV.

    ``obs["instance_imagegoal_semantic"]`` (H, W) int32, ``obs["instance_imagegoal_depth"]``
    (H, W, 1) float32 metres (its own camera's z-depth) and ``obs["instance_imagegoal_hfov"]``
    (1,) float32 degrees, rendered once per episode at the task's goal camera (the pose stored in
    the episode, the same render as the goal photo; the pose itself is not passed on). What it
    gives away: perfect segmentation of the goal photo (which instance each pixel shows), exactly
    what :class:`~navgym.agents.perception.ground_truth.GroundTruthPerception` gives for the
    agent's own frames. When the photo was re-taken by another camera
    (:class:`~navgym.wrappers.UserMatchedGoalCamera`) the render no longer equals the photo; this
    is checked at each reset and warned about, and the semantics then describe the task's own
    goal view.

    Args:
        env: An InstanceImageNav env emitting ``instance_imagegoal``.
    """

    privileged = True

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        if not isinstance(env.observation_space, spaces.Dict) or GOAL_KEY not in env.observation_space.spaces:
            raise InvalidArgumentError(f"GoalImageSemantics needs an env emitting {GOAL_KEY!r} (InstanceImageNav with it in sensors=)")
        shape = env.observation_space.spaces[GOAL_KEY].shape[:2]
        self.observation_space = spaces.Dict(
            {
                **env.observation_space.spaces,
                SEMANTIC_KEY: spaces.Box(0, np.iinfo(np.int32).max, shape, dtype=np.int32),
                DEPTH_KEY: spaces.Box(0.0, np.inf, (*shape, 1), dtype=np.float32),
                HFOV_KEY: spaces.Box(0.0, 180.0, (1,), dtype=np.float32),
            }
        )
        self._cache_key: tuple[str, str] | None = None
        self._extra: dict[str, np.ndarray] = {}

    def _render(self, goal_rgb: np.ndarray) -> dict[str, np.ndarray]:
        nav = self.env.unwrapped
        episode = nav.episode
        key = (episode.scene_id, episode.episode_id)
        if key == self._cache_key:
            return self._extra
        view = nav.task.image_goal(episode)
        height, width = goal_rgb.shape[:2]
        # The task renders the photo at the observation's size with the stored HFOV, from the stored
        # camera position (zero mount height): the same render, with semantics and depth added.
        taker = CameraSpec(width, height, float(view.hfov), 0.0, outputs=("rgb", "depth", "semantic"))
        pose = AgentState(np.asarray(view.position, dtype=np.float64), np.asarray(view.rotation, dtype=np.float64))
        frame = nav.sim.render([(pose, taker)])[0]
        if not np.array_equal(frame["rgb"], goal_rgb):
            warnings.warn(
                "GoalImageSemantics: the goal photo differs from the task's goal view (re-taken by another camera?); "
                "its semantics describe the task's own goal view",
                stacklevel=3,
            )
        self._extra = {
            SEMANTIC_KEY: np.asarray(frame["semantic"], dtype=np.int32),
            DEPTH_KEY: np.asarray(frame["depth"], dtype=np.float32).reshape(height, width, 1),
            HFOV_KEY: np.array([view.hfov], dtype=np.float32),
        }
        self._cache_key = key
        return self._extra

    def observation(self, observation: dict[str, Any]) -> dict[str, Any]:
        extra = self._render(np.asarray(observation[GOAL_KEY]))
        return {**observation, **{k: v.copy() for k, v in extra.items()}}


def goal_image_detections(perception: Perception, obs: dict[str, Any], key: str = GOAL_KEY) -> list[Detection]:
    """Detections in the goal photo ``obs[key]``, in its camera frame; passes its instance ids,
    depth and HFOV too when a privileged wrapper (:class:`GoalImageSemantics`) added them."""
    if key not in obs:
        raise KeyError(f"obs has no {key!r}; make the env with {key!r} in sensors=")
    extra = {"semantic": obs.get(f"{key}_semantic"), "hfov": None}
    if f"{key}_hfov" in obs:
        extra["hfov"] = float(np.asarray(obs[f"{key}_hfov"]).reshape(-1)[0])
    return perception.detect_image(obs[key], obs.get(f"{key}_depth"), **extra)


def central_detection(detections: Sequence[Detection], shape: tuple[int, int]) -> Detection | None:
    """The detection at the image centre (the goal object of an InstanceImageNav photo, which is
    taken facing the object's centre): the one whose mask or box covers the centre, the largest if
    several do; else the one whose mask comes nearest the centre; ``None`` with no detection."""
    if not detections:
        return None
    height, width = shape
    cy, cx = (height - 1) / 2.0, (width - 1) / 2.0

    def distance(det: Detection) -> float:
        if det.mask is not None:
            rows, cols = np.nonzero(det.mask)
            if len(rows) == 0:
                return float("inf")
            return float(np.min(np.hypot(rows - cy, cols - cx)))
        x0, y0, x1, y1 = det.box
        dx = max(x0 - cx, 0.0, cx - (x1 - 1))
        dy = max(y0 - cy, 0.0, cy - (y1 - 1))
        return float(np.hypot(dx, dy))

    return min(detections, key=lambda d: (round(distance(d), 6) > 0.75, distance(d), -d.pixels))
