"""A new task is one class plus one registry line; a new measure is one small class. Both are
checked end to end through the env factory, as a third party would add them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

import navgym  # noqa: F401
from navgym.datasets import prochouse as gen
from navgym.datasets.episodes import NavigationGoal
from navgym.envs.factory import make_nav_env
from navgym.errors import UnknownNameError
from navgym.tasks import TASKS
from navgym.tasks.base import Task
from navgym.tasks.measures import StepContext, habitat_measures


class TurnCount:
    """A measure a task adds without touching shared code: turns taken so far."""

    name = "turns"

    def __init__(self) -> None:
        self.value = 0

    def reset(self, ctx: StepContext) -> None:
        self.value = 0

    def update(self, ctx: StepContext) -> None:
        # A step that neither moved nor stopped turned (or hit a wall head-on).
        self.value += int(not ctx.stopped and np.allclose(ctx.previous_position, ctx.state.position))


@dataclass
class PointGoalTask(Task):
    """PointNav-like: the goal is a position, given as (forward, right) from the start."""

    name: ClassVar[str] = "PointGoalTest"
    goal_sensors: ClassVar[tuple[str, ...]] = ("pointgoal",)
    default_sensors: ClassVar[tuple[str, ...]] = ("depth", "pointgoal")
    max_episode_steps: ClassVar[int] = 50
    episode_kind: ClassVar[str] = "pointnav"
    generation_salt: ClassVar[int] = 23

    def goal_points(self, sim, episode, agent_id: int = 0) -> np.ndarray:
        return np.asarray([episode.goals[0].position], dtype=np.float64)

    def goal_observation_space(self, camera) -> dict[str, spaces.Space]:
        return {"pointgoal": spaces.Box(-100.0, 100.0, (3,), dtype=np.float32)}

    def goal_observations(self, sim, episode, camera, goal_camera=None) -> dict[str, Any]:
        return {"pointgoal": (np.asarray(episode.goals[0].position) - np.asarray(episode.start_position)).astype(np.float32)}

    def measures(self):
        return habitat_measures() + [TurnCount()]

    def make_prochouse_episode(self, sim, rng, distance_bin, episode_id, embodiment):
        start, rotation = gen.random_start(sim, rng)
        goal = sim.sample_navigable_point(rng)
        geodesic = gen.accept_distance(sim, rng, np.asarray(start), goal[None], distance_bin)
        if geodesic is None:
            return None
        return gen.make_episode(sim, episode_id, start, rotation, [NavigationGoal(position=gen.rounded(goal), radius=None)], geodesic)


@pytest.fixture
def registered_task():
    TASKS.register("PointGoalTest", PointGoalTask, "test task")
    yield
    TASKS._entries.pop("PointGoalTest")


def test_a_task_registered_in_one_line_builds_generates_and_runs(registered_task):
    env = make_nav_env("PointGoalTest", "ProcHouse", num_scenes=1, episodes_per_scene=3)
    check_env(env)
    assert env.sensors == ("depth", "pointgoal")
    obs, info = env.reset(seed=0)
    assert obs["pointgoal"].shape == (3,) and info["turns"] == 0
    _, _, _, _, info = env.step(2)  # turn_left: position unchanged
    _, _, _, _, info = env.step(2)
    assert info["turns"] == 2 and info["num_steps"] == 2


def test_unknown_task_and_dataset_names_suggest_the_registered_ones():
    with pytest.raises(UnknownNameError, match="Did you mean 'ObjectNav'"):
        make_nav_env("ObjectNavv", "ProcHouse")
    with pytest.raises(UnknownNameError, match="Did you mean 'ProcHouse'"):
        make_nav_env("ObjectNav", "Prochouse")
    with pytest.raises(UnknownNameError, match="sim='embeded' is not a registered simulator backend. Did you mean 'embedded'"):
        make_nav_env("ObjectNav", "ProcHouse", sim="embeded", num_scenes=1, episodes_per_scene=1)
    with pytest.raises(gym.error.Error, match="Did you mean: `ObjectNav-ProcHouse`"):
        gym.make("ObjectNav-ProcHous-v0")


def test_every_registered_task_declares_what_the_registry_and_factory_need():
    for name in TASKS.names():
        cls = TASKS.get(name)
        assert cls.name == name
        assert cls.max_episode_steps > 0 and cls.habitat_dirs and cls.episode_kind
        task = cls()
        assert set(task.default_sensors) <= set(task.valid_sensors)
        assert task.default_embodiment().action_space is not None
