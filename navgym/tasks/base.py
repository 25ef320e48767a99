"""What every navigation task shares: the goal interface, measures, the default reward, and how a
task describes itself to the registry, the env factory and ProcHouse generation.

A task says only what its goal *is* (the goal observation and the points that count as reaching
it), how to make one ProcHouse episode, and its defaults (step limit, embodiment, Habitat folders).
Who acts (body, cameras, actions) is the embodiment's business (:mod:`navgym.embodiments`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Mapping

import numpy as np
from gymnasium import spaces

from navgym.core.checks import check_range
from navgym.core.specs import AgentState, CameraSpec
from navgym.datasets.episodes import Episode, EpisodeDataset
from navgym.embodiments import Embodiment, HabitatDiscreteAgent
from navgym.sims.base import Simulator
from navgym.tasks.measures import Measure, MeasureSet, habitat_measures

#: The agent sensors every task can emit (goal sensors come from the task).
AGENT_SENSORS = ("rgb", "depth", "semantic", "gps", "compass")


@dataclass
class Task:
    """A goal-oriented navigation task: its goal sensors, success rule, measures and reward.

    Subclasses set the class-level declarations and implement :meth:`goal_points`,
    :meth:`goal_observation_space`, :meth:`goal_observations` and :meth:`make_prochouse_episode`.

    Attributes:
        success_distance: Stopping within this geodesic distance of the goal points succeeds.
        success_reward, slack_reward: Terms of the default reward
            ``success_reward * success - (d_t - d_{t-1}) + slack_reward``.
    """

    #: The task's name, as in env ids (``{name}-{Dataset}-v0``).
    name: ClassVar[str] = "task"
    goal_sensors: ClassVar[tuple[str, ...]] = ()
    #: The goal sensors that say which goal to seek (an env with none of them warns); ``None``:
    #: all of :attr:`goal_sensors` (SemanticNav's ``prompt_kind`` or MultiGoalVLN's ``pose`` do not).
    goal_naming_sensors: ClassVar[tuple[str, ...] | None] = None
    default_sensors: ClassVar[tuple[str, ...]] = ("rgb",)
    #: Step limit of the registered ids (the papers').
    max_episode_steps: ClassVar[int] = 500
    #: The Habitat episode-file kind (:data:`navgym.datasets.episodes.KINDS`).
    episode_kind: ClassVar[str] = "pointnav"
    #: Task folders under ``datasets/`` in Habitat's layout, tried in order.
    habitat_dirs: ClassVar[tuple[str, ...]] = ()
    #: Seeds ProcHouse generation's random stream, so tasks draw different episodes.
    generation_salt: ClassVar[int] = 0
    #: ProcHouse: caps the start-goal distance bin when ``max_goal_distance`` is not given (and
    #: the cap is above the bin's minimum); ``None``: the bins as they are.
    default_max_goal_distance: ClassVar[float | None] = None

    success_distance: float = 1.0
    success_reward: float = 2.5
    slack_reward: float = -0.01

    def __post_init__(self) -> None:
        check_range("success_distance", self.success_distance, 0.0, 10.0, low_open=True)
        self.success_reward = check_range("success_reward", self.success_reward, -1e6, 1e6)
        self.slack_reward = check_range("slack_reward", self.slack_reward, -1e6, 1e6)

    @property
    def valid_sensors(self) -> tuple[str, ...]:
        return AGENT_SENSORS + self.goal_sensors

    # -- declarations ----------------------------------------------------------------------------
    def default_embodiment(self) -> Embodiment:
        """Who performs the task unless ``embodiment=`` says otherwise: Habitat's discrete agent
        with the papers' camera."""
        return HabitatDiscreteAgent(camera=CameraSpec(128, 128, 90.0, 1.25, outputs=("rgb", "depth")))

    @classmethod
    def dataset_defaults(cls, dataset: str) -> dict[str, Any]:
        """Task keyword defaults for a Habitat dataset (e.g. MP3D's 21 ObjectNav categories)."""
        return {}

    @classmethod
    def extra_episode_files(cls, dataset: str, split: str, root: Path) -> list[Path]:
        """Episode files outside Habitat's ``datasets/<dir>/<name>/<version>/<split>`` layout."""
        return []

    def prepare_dataset(self, dataset: EpisodeDataset) -> None:
        """Fill dataset-level tables after ProcHouse generation (e.g. category ids)."""

    def check_dataset(self, dataset: EpisodeDataset) -> None:
        """Check the episodes of an episode file against the task's settings (e.g. ObjectNav's
        ``categories``), for the env factory to call before the first reset; raises a navgym
        error naming the episode. Nothing to check by default."""

    def generation_key(self, embodiment: Embodiment) -> str:
        """Settings beyond the shared ones (body, camera, distances, categories) that change the
        ProcHouse episodes this task generates, as a short string for the cache key; ``""``: none."""
        return ""

    # -- what a task module defines --------------------------------------------------------------
    def goal_points(self, sim: Simulator, episode: Episode, agent_id: int = 0) -> np.ndarray:
        """(N, 3) points whose geodesic distance is the distance to goal."""
        raise NotImplementedError

    def goal_radius(self, episode: Episode) -> float:
        """Stopping within this distance of the goal points succeeds."""
        return self.success_distance

    def goal_heading(self, episode: Episode) -> float | None:
        """Yaw of the goal view, for the angle-to-goal measure; ``None`` when undefined."""
        return None

    def goal_observation_space(self, camera: CameraSpec) -> dict[str, spaces.Space]:
        """The goal sensors' spaces; image goals take the size of the agent's ``camera``."""
        raise NotImplementedError

    def goal_observations(self, sim: Simulator, episode: Episode, camera: CameraSpec, goal_camera: CameraSpec | None = None,
                          agent_id: int = 0) -> Mapping[str, Any]:
        """Goal observations, computed once per episode at reset; ``camera`` is the agent's own,
        ``goal_camera`` another camera that takes the goal picture instead. Readings that follow
        the agent (PointNav's GPS+compass) follow agent ``agent_id`` (several agents in one
        scene: :mod:`navgym.multiagent`); a task may leave ``agent_id`` out of its signature when
        none of its goal observations depends on the agent (:func:`agent_goal_observations`)."""
        raise NotImplementedError

    def make_prochouse_episode(self, sim: Simulator, rng: np.random.Generator, distance_bin: tuple[float, float],
                               episode_id: str, embodiment: Embodiment) -> Episode | None:
        """One episode in ``sim``'s scene with a start-goal geodesic distance in ``distance_bin``,
        or ``None`` when this draw failed (the generator tries again)."""
        raise NotImplementedError(f"{self.name} has no ProcHouse episode generator")

    # -- measures and reward ---------------------------------------------------------------------
    def measures(self) -> list[Measure]:
        """Fresh measures for an episode, in dependency order (Habitat's by default)."""
        return habitat_measures()

    def new_measures(self) -> MeasureSet:
        return MeasureSet(self.measures())

    def reward(self, measures: MeasureSet, previous_distance: float) -> float:
        """Habitat's default: ``success_reward * success - Δdistance + slack_reward``."""
        reward = self.slack_reward
        distance = measures["distance_to_goal"]
        if math.isfinite(previous_distance) and math.isfinite(distance):
            reward += previous_distance - distance
        if measures["success"]:
            reward += self.success_reward
        return float(reward)


def episode_start_state(episode: Episode) -> AgentState:
    """The agent state an episode starts in."""
    return AgentState(np.asarray(episode.start_position, dtype=np.float64), np.asarray(episode.start_rotation, dtype=np.float64))


def agent_goal_observations(task: Task, sim: Simulator, episode: Episode, camera: CameraSpec, agent_id: int = 0) -> Mapping[str, Any]:
    """``task.goal_observations`` for agent ``agent_id``: passes ``agent_id`` when the task's
    method takes it (navgym's tasks do; a plugin task written before it may not)."""
    import inspect

    if agent_id != 0 and "agent_id" in inspect.signature(task.goal_observations).parameters:
        return task.goal_observations(sim, episode, camera, agent_id=agent_id)
    return task.goal_observations(sim, episode, camera)
