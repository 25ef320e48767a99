"""Goal-image detections for InstanceImageNav: the env gives the photo's RGB only; the privileged
GoalImageSemantics wrapper adds its instance ids, depth and HFOV for ground-truth perception."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest

import navgym  # noqa: F401
from navgym.agents.perception import GoalImageSemantics, GroundTruthPerception, NoisyPerception, central_detection, goal_image_detections
from navgym.core.geometry import quaternion_to_yaw
from navgym.errors import InvalidArgumentError

SENSORS = ("rgb", "depth", "semantic", "gps", "compass", "instance_imagegoal")


@pytest.fixture(scope="module")
def iin():
    env = GoalImageSemantics(gym.make("InstanceImageNav-ProcHouse-v0", num_scenes=1, episodes_per_scene=3, sensors=SENSORS))
    yield env
    env.close()


def test_the_env_itself_gives_no_goal_semantics(iin):
    keys = set(iin.env.observation_space.spaces)
    assert "instance_imagegoal" in keys and not any(k.startswith("instance_imagegoal_") for k in keys)


def test_central_goal_detection_is_the_goal_instance(iin):
    perception = GroundTruthPerception.from_env(iin)
    hits = 0
    for index in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the render must equal the goal photo
            obs, _ = iin.reset(options={"episode_index": index})
        assert obs["instance_imagegoal_semantic"].shape == obs["instance_imagegoal"].shape[:2]
        assert iin.observation_space.contains(obs)
        detections = goal_image_detections(perception, obs)
        assert detections and all(d.frame == "camera" and d.front is None for d in detections)
        goal = central_detection(detections, obs["instance_imagegoal"].shape[:2])
        episode = iin.unwrapped.episode
        hits += goal.instance_id == episode.goal_object_id
        # Its camera-frame position, put back at the stored goal camera (the test knows it), lies in the true box.
        view = iin.unwrapped.task.image_goal(episode)
        yaw = quaternion_to_yaw(view.rotation)
        c, s = math.cos(yaw), math.sin(yaw)
        p = goal.position
        world = np.array([c * p[0] + s * p[2], p[1], -s * p[0] + c * p[2]]) + np.asarray(view.position)
        inst = iin.unwrapped.sim.scene_graph().instance(goal.instance_id)
        assert np.all(world >= inst.bbox_min - 0.05) and np.all(world <= inst.bbox_max + 0.05)
    assert hits == 3
    # Any backend works through the same call; noisy perception corrupts goal photos too.
    noisy = NoisyPerception(perception, seed=0, miss_rate=1.0)
    assert goal_image_detections(noisy, obs) == []


def test_central_detection_without_masks_and_empty():
    from navgym.agents.perception import Detection

    left = Detection("chair", box=(0, 0, 10, 10), pixels=100)
    centre = Detection("table", box=(20, 20, 40, 40), pixels=400)
    assert central_detection([left, centre], (64, 64)) is centre
    assert central_detection([], (64, 64)) is None


def test_wrapper_needs_an_image_goal_env():
    with pytest.raises(InvalidArgumentError, match="instance_imagegoal"):
        GoalImageSemantics(gym.make("ObjectNav-ProcHouse-v0", num_scenes=1, episodes_per_scene=2, sensors=("rgb", "depth")))
