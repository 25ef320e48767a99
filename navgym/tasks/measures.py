"""Measures: what ``info`` reports every step, Habitat's definitions, one small class each.

A task lists its measures (:meth:`navgym.tasks.base.Task.measures`) in dependency order; each
reads the step's :class:`StepContext` and the measures before it. A new task adds its own (a
multi-goal task's per-subgoal progress) by returning a longer list; nothing shared is edited.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from navgym.core.geometry import wrap_angle
from navgym.core.specs import AgentState
from navgym.datasets.episodes import Episode


@dataclass
class StepContext:
    """What measures may read after a reset or a step.

    Attributes:
        sim: The simulator; ``agent_id`` is whose measures these are.
        task: The task (goal radius, goal heading).
        episode: The current episode.
        goal_points: The points the distance to goal is measured to.
        state: The agent's state after the step.
        previous_position: Its position before the step (the start position at reset).
        collided, stopped: What the step's action did.
        measures: The episode's measures so far, by name (earlier ones already updated).
        embodiment: Who acts (its footprint, camera), or ``None`` where the caller has none.
    """

    sim: Any
    task: Any
    episode: Episode
    goal_points: np.ndarray
    state: AgentState
    previous_position: np.ndarray
    agent_id: int = 0
    collided: bool = False
    stopped: bool = False
    measures: "MeasureSet" = field(default_factory=lambda: MeasureSet([]))
    embodiment: Any = None


@runtime_checkable
class Measure(Protocol):
    """One measure: ``name`` (its ``info`` key), ``value``, ``reset`` and ``update``."""

    name: str
    value: Any

    def reset(self, ctx: StepContext) -> None:
        """Start an episode."""

    def update(self, ctx: StepContext) -> None:
        """Advance by one step."""


class MeasureSet:
    """The measures of an episode, in order; ``measures["spl"]`` (or ``measures.spl``) is a value."""

    def __init__(self, measures: list[Measure]):
        self._measures = {m.name: m for m in measures}

    def __getitem__(self, name: str) -> Any:
        return self._measures[name].value

    def __getattr__(self, name: str) -> Any:
        measures = self.__dict__.get("_measures", {})
        if name in measures:
            return measures[name].value
        raise AttributeError(name)

    def measure(self, name: str) -> Measure:
        """The measure object itself (for values besides ``value``, e.g. ``start_distance``)."""
        return self._measures[name]

    def __contains__(self, name: str) -> bool:
        return name in self._measures

    def reset(self, ctx: StepContext) -> None:
        ctx.measures = self
        for measure in self._measures.values():
            measure.reset(ctx)

    def update(self, ctx: StepContext) -> None:
        ctx.measures = self
        for measure in self._measures.values():
            measure.update(ctx)

    def as_info(self) -> dict[str, Any]:
        """Every measure's ``info`` entries; a measure whose value is NaN (undefined for this
        episode, e.g. the angle to an object goal) is left out. ``success`` is copied to
        ``is_success`` (a bool), the key stable-baselines3 reads."""
        info: dict[str, Any] = {}
        for name, measure in self._measures.items():
            value = measure.value
            if isinstance(value, float) and math.isnan(value):
                continue
            info[name] = float(value) if isinstance(value, bool) else value
        if "success" in info:  # stable-baselines3's name (Monitor, EvalCallback, rollout/success_rate read it at episode end)
            info["is_success"] = bool(info["success"])
        return info


class _Counter:
    name = "counter"

    def __init__(self) -> None:
        self.value: Any = 0

    def reset(self, ctx: StepContext) -> None:
        self.value = 0


class NumSteps(_Counter):
    """Actions taken, ``stop`` included."""

    name = "num_steps"

    def update(self, ctx: StepContext) -> None:
        self.value += 1


class Collisions(_Counter):
    """Motions that hit an obstacle (and slid)."""

    name = "collisions"

    def update(self, ctx: StepContext) -> None:
        self.value += int(ctx.collided)


class PathLength(_Counter):
    """Metres travelled."""

    name = "path_length"

    def reset(self, ctx: StepContext) -> None:
        self.value = 0.0

    def update(self, ctx: StepContext) -> None:
        self.value += float(np.linalg.norm(ctx.state.position - ctx.previous_position))


class DistanceToGoal:
    """Geodesic distance to the nearest goal point; ``start_distance`` is the episode's first."""

    name = "distance_to_goal"

    def __init__(self) -> None:
        self.value = float("inf")
        self.start_distance = float("inf")

    def reset(self, ctx: StepContext) -> None:
        self.value = ctx.sim.geodesic_distance(ctx.state.position, ctx.goal_points, agent_id=ctx.agent_id)
        self.start_distance = self.value

    def update(self, ctx: StepContext) -> None:
        self.value = ctx.sim.geodesic_distance(ctx.state.position, ctx.goal_points, agent_id=ctx.agent_id)


class AngleToGoal:
    """Absolute yaw difference to the goal view's heading (radians); NaN where the task has none."""

    name = "angle_to_goal"

    def __init__(self) -> None:
        self.value = float("nan")

    def _angle(self, ctx: StepContext) -> float:
        heading = ctx.task.goal_heading(ctx.episode)
        return float("nan") if heading is None else abs(wrap_angle(ctx.state.yaw - heading))

    def reset(self, ctx: StepContext) -> None:
        self.value = self._angle(ctx)

    def update(self, ctx: StepContext) -> None:
        self.value = self._angle(ctx)


class Success:
    """Called ``stop`` within the task's goal radius of the goal points."""

    name = "success"

    def __init__(self) -> None:
        self.value = False

    def reset(self, ctx: StepContext) -> None:
        self.value = False

    def update(self, ctx: StepContext) -> None:
        self.value = bool(ctx.stopped and ctx.measures["distance_to_goal"] <= ctx.task.goal_radius(ctx.episode))


def _path_ratio(ctx: StepContext) -> float:
    """shortest / max(shortest, travelled), 0 when the start distance is undefined."""
    shortest = ctx.measures.measure("distance_to_goal").start_distance
    if not (math.isfinite(shortest) and shortest > 0):
        return 0.0
    return shortest / max(shortest, ctx.measures["path_length"])


class SPL:
    """Success weighted by path length (Anderson et al. 2018)."""

    name = "spl"

    def __init__(self) -> None:
        self.value = 0.0

    def reset(self, ctx: StepContext) -> None:
        self.value = 0.0

    def update(self, ctx: StepContext) -> None:
        self.value = _path_ratio(ctx) if ctx.measures["success"] else 0.0


class SoftSPL:
    """Habitat's SoftSPL: progress toward the goal weighted by path length."""

    name = "soft_spl"

    def __init__(self) -> None:
        self.value = 0.0

    def reset(self, ctx: StepContext) -> None:
        self.value = 0.0

    def update(self, ctx: StepContext) -> None:
        shortest = ctx.measures.measure("distance_to_goal").start_distance
        distance = ctx.measures["distance_to_goal"]
        if math.isfinite(shortest) and shortest > 0 and math.isfinite(distance):
            progress = max(0.0, 1.0 - distance / shortest)
        else:
            progress = 0.0
        self.value = progress * _path_ratio(ctx)


def habitat_measures() -> list[Measure]:
    """Habitat's navigation measures, in dependency order."""
    return [NumSteps(), Collisions(), PathLength(), DistanceToGoal(), AngleToGoal(), Success(), SPL(), SoftSPL()]
