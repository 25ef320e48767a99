"""MultiGoalVLN: follow an instruction naming 2-4 object instances to visit (RAGNav's multi-goal
VLN setting, ``../shared/papers/ragnav.txt``).

An episode holds an instruction and its ordered sub-goals, each one object instance. Instruction
kinds (:data:`~navgym.tasks.multigoal_language.INSTRUCTION_KINDS`):

* ``sequential``: "First go to the sofa, then to the red chair." (the listed order is required);
* ``any_order``: "Visit the sofa, the bed and the sink, in any order.";
* ``spatial``: sequential, with every sub-goal named through a spatial constraint: "the chair
  near the bed", "the lamp in the kitchen" (*near*: horizontal gap between the two boxes at most
  ``near_distance`` = 1.0 m).

Each phrase picks out exactly one instance of the house (:mod:`navgym.tasks.multigoal_language`).

Actions: Habitat's discrete agent plus ``found``: ``0 stop, 1 move_forward, 2 turn_left,
3 turn_right, 4 found`` (:class:`FoundDiscreteAgent`). A sub-goal is *reached* when the agent
calls ``found`` (or ``stop`` for the last remaining one) within ``view_point_radius`` (0.1 m,
Habitat's) of the sub-goal's view points: the dataset's, or on ProcHouse every navigable point
within ``success_distance`` (1 m) of the instance's box, so "within 1 m of the instance", as for
ObjectNav and TextNav. Ordered kinds accept only the next sub-goal; ``any_order`` the nearest
unreached one in range. ``found`` on the last sub-goal ends the episode (success).

A **wrong ``found``** (no acceptable sub-goal in range) ends the episode as a failure by default
(``wrong_found="end"``), MultiON's rule (Wani et al., 2020): otherwise calling ``found`` every step
claims sub-goals for free. ``wrong_found="count"`` keeps the episode going instead; the claim is
counted (``wrong_found`` measure), does not advance, and costs ``wrong_found_reward``. ``stop``
always ends the episode; before the last sub-goal it is a failure.

Measures: ``success`` (every sub-goal reached, in the required order), ``progress`` (fraction
reached), ``subgoals_reached``, ``path_length`` (the travel distance), ``shortest_tour`` (the
shortest feasible tour from the start, geodesic, respecting the order: :func:`shortest_tour`),
``spl`` (success x shortest_tour / max(shortest_tour, path_length)), ``distance_to_goal`` (the
remaining tour, a lower bound: geodesic to the next sub-goal plus the region-to-region distances
left; any-order: the best order of what is left), ``wrong_found``, ``num_steps``, ``collisions``,
``wall_time`` (seconds since reset; with ``measure_wall_time=True`` only, as it is not
deterministic).

Observations: ``rgb``, ``depth`` (and ``semantic``, ``gps``, ``compass``), ``instruction`` (a
Gymnasium ``Text``), ``pose`` (6-DoF: world position and quaternion, ``(7,)``), ``lidar`` (a
point cloud in the agent frame, :class:`~navgym.tasks.multigoal_sensors.LidarSpec`) and
``temperature`` (°C per pixel from the semantic sensor). RAGNav's inputs: Text = ``instruction``
(+ ``rgb``), Text+Location = + ``pose``, Text+Location+Sensor = + ``temperature``.
"""

from __future__ import annotations

import itertools
import math
import string
import time
import weakref
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterator, Sequence

import numpy as np
from gymnasium import spaces

from navgym.core.checks import check_range
from navgym.core.options import flag
from navgym.core.specs import BodySpec, CameraSpec
from navgym.datasets import prochouse as gen
from navgym.datasets.episodes import Episode, ObjectGoal
from navgym.datasets.goals import instance_id_of, object_goal_points
from navgym.embodiments import Embodiment, HabitatDiscreteAgent
from navgym.embodiments.base import ActionResult
from navgym.errors import DatasetFormatError, InvalidArgumentError
from navgym.sims.base import Simulator
from navgym.tasks.base import Task
from navgym.tasks.measures import Collisions, Measure, MeasureSet, NumSteps, PathLength, StepContext
from navgym.tasks.multigoal_language import (
    INSTRUCTION_KINDS, NEAR_DISTANCE, ORDERED_KINDS, Description, instruction_text, resolve, unique_description,
)  # fmt: skip
from navgym.tasks.multigoal_sensors import (
    LidarSpec, TEMPERATURE_RANGE, lidar_scan, pose_vector, temperature_image, temperature_table,
)  # fmt: skip
from navgym.tasks.semantic_nav import DEFAULT_CATEGORIES
from navgym.tasks.text_goals import goal_text

#: Bump when generation changes: cached episode sets of older versions are not reused.
#: 2: one sub-goal "in any order" reads "Go to X." (was "Visit X, in any order.").
MULTIGOAL_GENERATION_VERSION = 2
#: Longest instruction the ``instruction`` space admits.
MAX_INSTRUCTION_LENGTH = 512
INSTRUCTION_CHARSET = string.ascii_letters + string.digits + " ,.;:'-_()/&!?\""
#: Habitat's success radius around view points.
VIEW_POINT_RADIUS = 0.1
#: What a wrong ``found`` does.
WRONG_FOUND_RULES = ("end", "count")
#: Representative points per sub-goal region when searching the shortest feasible tour.
TOUR_REPRESENTATIVES = 4
#: Regions are thinned to this many points (farthest-point sampling) for tour and region-to-region
#: distances: a distance query's cost grows with its goal set, and tours need thousands of them.
THIN_POINTS = 48


# -- the found action --------------------------------------------------------------------------
@dataclass(frozen=True)
class FoundDiscreteAgent(HabitatDiscreteAgent):
    """Habitat's discrete agent plus a ``found`` action (last index): ``0 stop, 1 move_forward,
    2 turn_left, 3 turn_right, 4 found`` (look up/down, when enabled, come before ``found``).

    ``found`` does not move the body; the task's referee (bound at reset by the sub-goal measure)
    judges the claim and says whether it ends the episode. Unbound, ``found`` does nothing.
    """

    name: ClassVar[str] = "habitat_found"

    _referees: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def action_names(self) -> tuple[str, ...]:
        return super().action_names + ("found",)

    def bind_referee(self, agent_id: int, referee: Any) -> None:
        """Route ``found`` calls of ``agent_id`` to ``referee.claim(sim, agent_id) -> bool`` (ends the episode)."""
        self._referees[agent_id] = referee

    def apply(self, sim: Simulator, action: Any, agent_id: int = 0) -> ActionResult:
        name = self.action_name(action)
        if name == "found":
            referee = self._referees.get(agent_id)
            return ActionResult(stopped=bool(referee.claim(sim, agent_id)) if referee is not None else False)
        return super().apply(sim, name, agent_id)


def multigoal_embodiment() -> FoundDiscreteAgent:
    """The default body: TextNav's (camera 0.88 m, HFOV 79°, depth to 5 m, radius 0.18 m) plus ``found``."""
    camera = CameraSpec(128, 128, 79.0, 0.88, outputs=("rgb", "depth"), max_depth=5.0)
    return FoundDiscreteAgent(body=BodySpec(radius=0.18, height=0.88), camera=camera)


# -- the shortest feasible tour ----------------------------------------------------------------
@dataclass(frozen=True)
class Tour:
    """A tour through sub-goal regions: its geodesic ``length`` and the region ``order``."""

    length: float
    order: tuple[int, ...]


def thin(points: np.ndarray, count: int = THIN_POINTS) -> np.ndarray:
    """At most ``count`` of ``points``, spread over them (farthest-point sampling)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    return points if len(points) <= count else _farthest_points(points, count)


def _farthest_points(points: np.ndarray, count: int) -> np.ndarray:
    """``count`` points spread over ``points`` (farthest-point sampling from the first)."""
    chosen = [0]
    gap = np.linalg.norm(points - points[0], axis=1)
    while len(chosen) < min(count, len(points)):
        index = int(np.argmax(gap))
        if gap[index] <= 0.0:
            break
        chosen.append(index)
        gap = np.minimum(gap, np.linalg.norm(points - points[index], axis=1))
    return points[chosen]


def region_distance(sim: Simulator, a: np.ndarray, b: np.ndarray, agent_id: int = 0) -> float:
    """Geodesic distance between two point sets: the closest pair of their :func:`thin` samples
    (so at most the thinned points' spacing above the exact set distance)."""
    b = thin(b)
    return float(min(sim.geodesic_distance(p, b, agent_id=agent_id) for p in thin(a)))


def shortest_tour(sim: Simulator, start: Sequence[float], regions: Sequence[np.ndarray], ordered: bool, agent_id: int = 0,
                  representatives: int = TOUR_REPRESENTATIVES) -> Tour:
    """The shortest feasible tour from ``start`` through every region (geodesic metres).

    ``ordered``: the regions in the given order; else the best of every order (exact over the
    ``n!`` orders, n <= 4 in MultiGoalVLN). Within an order it is a dynamic programme over entry
    points: each region is entered at one of its representative points (``representatives``
    spread over the region plus its points closest to the start and to each other region), the
    last one at its nearest :func:`thin` point. The result is a tour an agent can follow (every
    leg ends on a region point), so it is at least the true optimum and at most a few
    decimetres (the thinned points' spacing) above it, per leg.
    """
    start = np.asarray(start, dtype=np.float64)
    regions = [thin(r) for r in regions]
    n = len(regions)
    if n == 0:
        return Tour(0.0, ())
    if any(len(r) == 0 for r in regions):
        return Tour(math.inf, tuple(range(n)))
    geo = sim.geodesic_distance
    reps: list[np.ndarray] = []
    for i, region in enumerate(regions):
        scan = region
        extra = [scan[int(np.argmin([geo(p, start[None], agent_id=agent_id) for p in scan]))]]
        for j, other in enumerate(regions):
            if j != i:
                extra.append(scan[int(np.argmin([geo(p, other, agent_id=agent_id) for p in scan]))])
        reps.append(np.unique(np.concatenate([_farthest_points(region, representatives), np.asarray(extra)]), axis=0))
    orders = [tuple(range(n))] if ordered else list(itertools.permutations(range(n)))
    # Representative-to-representative legs: one distance field per target representative
    # (only the legs some order uses), read at every source representative.
    legs = {(o[k], o[k + 1]) for o in orders for k in range(n - 2)}
    between: dict[tuple[int, int], np.ndarray] = {}
    for j in sorted({b for _, b in legs}):
        sources = sorted(i for i, b in legs if b == j)
        columns = [[geo(r, target[None], agent_id=agent_id) for i in sources for r in reps[i]] for target in reps[j]]
        table = np.asarray(columns).T  # (all source reps, reps of j)
        offset = 0
        for i in sources:
            between[i, j] = table[offset : offset + len(reps[i])]
            offset += len(reps[i])
    from_start = [np.array([geo(r, start[None], agent_id=agent_id) for r in rep]) for rep in reps]  # one field: the start's
    to_region = [[np.array([geo(r, regions[j], agent_id=agent_id) for r in reps[i]]) for j in range(n)] for i in range(n)]
    best = Tour(math.inf, orders[0])
    for order in orders:
        if n == 1:
            length = float(geo(start, regions[order[0]], agent_id=agent_id))
        else:
            cost = from_start[order[0]]
            for prev, nxt in zip(order[:-2], order[1:-1]):
                cost = np.min(cost[:, None] + between[prev, nxt], axis=0)
            length = float(np.min(cost + to_region[order[-2]][order[-1]]))
        if length < best.length:
            best = Tour(length, tuple(order))
    return best


# -- live observations -------------------------------------------------------------------------
class MultiGoalReadings(Mapping):
    """The task's observations of one episode: ``instruction`` fixed, ``pose``, ``lidar`` and
    ``temperature`` read from the simulator's agent state each time they are asked for (the env
    asks once per step, after the step), so they follow the body through the episode."""

    def __init__(self, task: "MultiGoalVLNTask", sim: Simulator, episode: Episode, camera: CameraSpec, agent_id: int = 0):
        self._task, self._sim, self._episode, self._agent_id = task, sim, episode, agent_id
        self._camera = camera.with_(outputs=("semantic",))
        self._instruction = task.instruction(episode)
        self._frames = 0

    def __iter__(self) -> Iterator[str]:
        return iter(self._task.goal_sensors)

    def __len__(self) -> int:
        return len(self._task.goal_sensors)

    def __getitem__(self, name: str) -> Any:
        if name == "instruction":
            return self._instruction
        state = self._sim.get_agent_state(self._agent_id)
        if name == "pose":
            return pose_vector(state)
        if name == "lidar":
            return lidar_scan(self._sim, state, self._task.lidar)
        if name == "temperature":
            semantic = self._sim.render([(state, self._camera)])[0]["semantic"]
            rng = None
            if self._task.temperature_noise > 0:
                key = zlib.crc32(f"{self._episode.scene_id}/{self._episode.episode_id}".encode())
                rng = np.random.default_rng([self._task.temperature_seed, key, self._frames])
            self._frames += 1
            return temperature_image(semantic, self._task.temperature_table(self._sim), self._task.temperature_noise, rng)
        raise KeyError(name)


# -- measures ----------------------------------------------------------------------------------
class SubgoalTracker:
    """Which sub-goals are reached; the referee of ``found`` (bound to the embodiment at reset).

    ``value`` is the number reached; ``reached`` their indices in the order claimed;
    ``wrong`` the wrong ``found`` calls; ``new_reached`` / ``new_wrong`` this step's.
    """

    name = "subgoals_reached"

    def __init__(self) -> None:
        self.value = 0
        self.reached: list[int] = []
        self.wrong = 0
        self.new_reached = 0
        self.new_wrong = 0
        self.regions: list[np.ndarray] = []
        self.ordered = True
        self.radius = VIEW_POINT_RADIUS
        self.end_on_wrong = True
        self.pair = np.zeros((0, 0))
        self._claimed = 0
        self._wrong_claims = 0
        self._found_called = False

    @property
    def count(self) -> int:
        return len(self.regions)

    def unreached(self) -> list[int]:
        return [i for i in range(self.count) if i not in self.reached]

    def acceptable(self) -> list[int]:
        """Sub-goals a claim may reach now: the next one (ordered) or any unreached one."""
        left = self.unreached()
        return left[:1] if self.ordered else left

    def reset(self, ctx: StepContext) -> None:
        task, sim = ctx.task, ctx.sim
        self.regions, self.pair = task.episode_geometry(sim, ctx.episode, ctx.agent_id)
        self.ordered = task.is_ordered(ctx.episode)
        self.radius = task.goal_radius(ctx.episode)
        self.end_on_wrong = task.wrong_found == "end"
        self.reached, self.wrong, self.new_reached, self.new_wrong = [], 0, 0, 0
        self._claimed = self._wrong_claims = 0
        self._found_called = False
        embodiment = ctx.embodiment
        if embodiment is not None:
            if not hasattr(embodiment, "bind_referee"):
                names = list(getattr(embodiment, "action_names", ()))
                raise InvalidArgumentError(
                    f"MultiGoalVLN needs an embodiment with a 'found' action; embodiment={getattr(embodiment, 'name', embodiment)!r} "
                    f"has {names or 'continuous actions'}. Use the task's default (embodiment=None) or "
                    "navgym.tasks.multigoal_vln.FoundDiscreteAgent(...)"
                )
            embodiment.bind_referee(ctx.agent_id, self)
        self.value = 0

    def _in_range(self, sim: Simulator, position: np.ndarray, agent_id: int, candidates: list[int]) -> int | None:
        best, best_distance = None, math.inf
        for i in candidates:
            distance = sim.geodesic_distance(position, self.regions[i], agent_id=agent_id)
            if distance <= self.radius and distance < best_distance:
                best, best_distance = i, distance
        return best

    def claim(self, sim: Simulator, agent_id: int = 0) -> bool:
        """A ``found`` call: reach an acceptable sub-goal in range, else count a wrong claim.
        Returns whether the episode ends (all reached, or a wrong claim under ``wrong_found="end"``)."""
        self._found_called = True
        hit = self._in_range(sim, sim.get_agent_state(agent_id).position, agent_id, self.acceptable())
        if hit is None:
            self._wrong_claims += 1
            return self.end_on_wrong
        self.reached.append(hit)
        self._claimed += 1
        return len(self.reached) == self.count

    def update(self, ctx: StepContext) -> None:
        if ctx.stopped and not self._found_called:  # stop reaches the last remaining sub-goal
            left = self.unreached()
            if len(left) == 1 and self._in_range(ctx.sim, ctx.state.position, ctx.agent_id, left) is not None:
                self.reached.append(left[0])
                self._claimed += 1
        self.new_reached, self.new_wrong = self._claimed, self._wrong_claims
        self.wrong += self._wrong_claims
        self._claimed = self._wrong_claims = 0
        self._found_called = False
        self.value = len(self.reached)

    def remaining_distance(self, sim: Simulator, position: np.ndarray, agent_id: int = 0) -> float:
        """Lower bound of the tour left: geodesic to the next region plus region-to-region
        distances (any order: the best order of the unreached regions)."""
        left = self.unreached()
        if not left:
            return 0.0
        orders = [tuple(left)] if self.ordered else list(itertools.permutations(left))
        first = {i: sim.geodesic_distance(position, self.regions[i], agent_id=agent_id) for i in {o[0] for o in orders}}
        return float(min(first[o[0]] + sum(self.pair[a, b] for a, b in zip(o, o[1:])) for o in orders))


class _Reads:
    """A measure computed from earlier ones."""

    name = "reads"

    def __init__(self) -> None:
        self.value: Any = 0.0

    def reset(self, ctx: StepContext) -> None:
        self.update(ctx)


class RemainingDistance:
    """``distance_to_goal``: the remaining tour (:meth:`SubgoalTracker.remaining_distance`);
    ``start_distance`` its value at reset."""

    name = "distance_to_goal"

    def __init__(self) -> None:
        self.value = math.inf
        self.start_distance = math.inf

    def reset(self, ctx: StepContext) -> None:
        self.update(ctx)
        self.start_distance = self.value

    def update(self, ctx: StepContext) -> None:
        self.value = ctx.measures.measure("subgoals_reached").remaining_distance(ctx.sim, ctx.state.position, ctx.agent_id)


class Progress(_Reads):
    """Fraction of the sub-goals reached."""

    name = "progress"

    def update(self, ctx: StepContext) -> None:
        tracker = ctx.measures.measure("subgoals_reached")
        self.value = len(tracker.reached) / tracker.count if tracker.count else 0.0


class MultiGoalSuccess(_Reads):
    """Every sub-goal reached, in the required order (claims accept only the next one when the
    order is required, so reaching them all is success)."""

    name = "success"

    def update(self, ctx: StepContext) -> None:
        tracker = ctx.measures.measure("subgoals_reached")
        self.value = bool(tracker.count and len(tracker.reached) == tracker.count)


class ShortestTour:
    """The shortest feasible tour from the start (:func:`shortest_tour`), metres; constant."""

    name = "shortest_tour"

    def __init__(self) -> None:
        self.value = math.inf

    def reset(self, ctx: StepContext) -> None:
        self.value = ctx.task.shortest_tour_length(ctx.sim, ctx.episode, ctx.state.position, ctx.agent_id)

    def update(self, ctx: StepContext) -> None:
        pass


class TourSPL(_Reads):
    """Success weighted by the shortest feasible tour over max(tour, path travelled)."""

    name = "spl"

    def update(self, ctx: StepContext) -> None:
        shortest = ctx.measures["shortest_tour"]
        if not ctx.measures["success"] or not (math.isfinite(shortest) and shortest > 0):
            self.value = 0.0
            return
        self.value = shortest / max(shortest, ctx.measures["path_length"])


class WrongFound(_Reads):
    """``found`` calls with no acceptable sub-goal in range."""

    name = "wrong_found"

    def update(self, ctx: StepContext) -> None:
        self.value = ctx.measures.measure("subgoals_reached").wrong


class WallTime:
    """Seconds since reset (RAGNav's total task time); not deterministic."""

    name = "wall_time"

    def __init__(self) -> None:
        self.value = 0.0
        self._start = time.perf_counter()

    def reset(self, ctx: StepContext) -> None:
        self._start = time.perf_counter()
        self.value = 0.0

    def update(self, ctx: StepContext) -> None:
        self.value = time.perf_counter() - self._start


# -- the task ----------------------------------------------------------------------------------
_SCENE_CACHE: "weakref.WeakKeyDictionary[Simulator, dict]" = weakref.WeakKeyDictionary()


@dataclass
class MultiGoalVLNTask(Task):
    """Visit the 2-4 object instances an instruction names, in its order when it has one.

    Attributes:
        success_distance: ProcHouse view points: navigable points within this distance of an
            instance's box (1 m).
        view_point_radius: A claim counts within this geodesic distance of a sub-goal's view
            points (0.1 m, Habitat's).
        wrong_found: ``"end"`` (default: the episode ends, a failure) or ``"count"`` (counted,
            no advance, ``wrong_found_reward``).
        subgoal_reward: Reward per sub-goal reached (besides the final ``success_reward``).
        wrong_found_reward: Reward per wrong ``found``.
        instruction_kinds: Kinds generation draws from, uniformly.
        min_subgoals, max_subgoals: Sub-goals per episode (2-4).
        near_distance: "near" = box gap at most this, metres.
        min_separation: Generation: sub-goal regions at least this far apart (geodesic), metres.
        categories: Categories sub-goals are drawn from (anchors of "near" may be any object).
        lidar: The LiDAR (:class:`~navgym.tasks.multigoal_sensors.LidarSpec`) or a dict of its fields.
        temperature_noise: Standard deviation (°C) of Gaussian noise on ``temperature``; 0: none.
        temperature_seed: Seeds that noise (with the episode and the frame index).
        measure_wall_time: Add the ``wall_time`` measure (seconds since reset). Off by default:
            it differs between identical runs, and Gymnasium's env checker requires identical
            ``info`` for identical seeds and actions.
    """

    name: ClassVar[str] = "MultiGoalVLN"
    goal_sensors: ClassVar[tuple[str, ...]] = ("instruction", "pose", "lidar", "temperature")
    goal_naming_sensors: ClassVar[tuple[str, ...] | None] = ("instruction",)
    default_sensors: ClassVar[tuple[str, ...]] = ("rgb", "depth", "instruction", "pose", "lidar", "temperature")
    max_episode_steps: ClassVar[int] = 1000
    episode_kind: ClassVar[str] = "multigoal_vln"
    habitat_dirs: ClassVar[tuple[str, ...]] = ("multigoal_vln", "multigoal")
    generation_salt: ClassVar[int] = 37

    success_distance: float = 1.0
    view_point_radius: float = VIEW_POINT_RADIUS
    wrong_found: str = "end"
    subgoal_reward: float = 1.0
    wrong_found_reward: float = -0.5
    instruction_kinds: tuple[str, ...] = INSTRUCTION_KINDS
    min_subgoals: int = 2
    max_subgoals: int = 4
    near_distance: float = NEAR_DISTANCE
    min_separation: float = 1.0
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    lidar: LidarSpec = field(default_factory=LidarSpec)
    temperature_noise: float = 0.0
    temperature_seed: int = 0
    measure_wall_time: bool = False
    _tours: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "measure_wall_time", flag("measure_wall_time", self.measure_wall_time))  # "no" is no
        check_range("view_point_radius", self.view_point_radius, 0.0, 10.0, low_open=True)
        check_range("near_distance", self.near_distance, 0.0, 10.0, low_open=True)
        check_range("min_separation", self.min_separation, 0.0, 50.0)
        check_range("temperature_noise", self.temperature_noise, 0.0, 50.0)
        check_range("subgoal_reward", self.subgoal_reward, -1e6, 1e6)
        check_range("wrong_found_reward", self.wrong_found_reward, -1e6, 1e6)
        if self.wrong_found not in WRONG_FOUND_RULES:
            raise InvalidArgumentError(f"wrong_found={self.wrong_found!r} must be one of {list(WRONG_FOUND_RULES)} ('end': the episode ends as a failure)")
        for name in ("min_subgoals", "max_subgoals"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 4:
                raise InvalidArgumentError(f"{name}={value!r} must be an integer in [1, 4]")
        if self.min_subgoals > self.max_subgoals:
            raise InvalidArgumentError(f"min_subgoals={self.min_subgoals} exceeds max_subgoals={self.max_subgoals}; make min_subgoals <= max_subgoals")
        if isinstance(self.temperature_seed, bool) or not isinstance(self.temperature_seed, (int, np.integer)) or self.temperature_seed < 0:
            raise InvalidArgumentError(f"temperature_seed={self.temperature_seed!r} must be a non-negative integer")
        kinds = (self.instruction_kinds,) if isinstance(self.instruction_kinds, str) else tuple(self.instruction_kinds)
        bad = [k for k in kinds if k not in INSTRUCTION_KINDS]
        if not kinds or bad:
            raise InvalidArgumentError(f"instruction_kinds={self.instruction_kinds!r} must be a non-empty list of {list(INSTRUCTION_KINDS)}")
        self.instruction_kinds = tuple(dict.fromkeys(kinds))
        if isinstance(self.categories, str) or not self.categories or not all(isinstance(c, str) for c in self.categories):
            raise InvalidArgumentError(f"categories={self.categories!r} must be a non-empty list of category names, e.g. ['sofa', 'bed']")
        self.categories = tuple(self.categories)
        if isinstance(self.lidar, dict):
            try:
                self.lidar = LidarSpec(**self.lidar)
            except TypeError as exc:
                raise InvalidArgumentError(f"lidar={self.lidar!r}: {exc}; fields: channels, points_per_ring, vertical_fov, max_range, min_range, mount_height, cameras, oversample") from None
        if not isinstance(self.lidar, LidarSpec):
            raise InvalidArgumentError(f"lidar={self.lidar!r} must be a LidarSpec or a dict of its fields, e.g. lidar={{'channels': 8}}")

    # -- declarations ----------------------------------------------------------------------------
    def default_embodiment(self) -> Embodiment:
        return multigoal_embodiment()

    def generation_key(self, embodiment: Embodiment) -> str:
        kinds = "".join(str(INSTRUCTION_KINDS.index(k)) for k in self.instruction_kinds)
        return (
            f"mg{MULTIGOAL_GENERATION_VERSION}k{kinds}n{self.min_subgoals}-{self.max_subgoals}"
            f"nd{self.near_distance:g}sep{self.min_separation:g}"
        )

    # -- episode fields ----------------------------------------------------------------------------
    def instruction_kind(self, episode: Episode) -> str:
        kind = episode.extra.get("instruction_kind")
        if kind not in INSTRUCTION_KINDS:
            raise DatasetFormatError(f"Episode {episode.episode_id}: instruction_kind must be one of {list(INSTRUCTION_KINDS)}, got {kind!r}")
        return kind

    def is_ordered(self, episode: Episode) -> bool:
        return self.instruction_kind(episode) in ORDERED_KINDS

    def instruction(self, episode: Episode) -> str:
        if not episode.instruction:
            raise DatasetFormatError(f"Episode {episode.episode_id}: a MultiGoalVLN episode needs its `instruction` text")
        return goal_text(str(episode.instruction), episode, "instruction", "instruction", INSTRUCTION_CHARSET, MAX_INSTRUCTION_LENGTH)

    def subgoal_regions(self, sim: Simulator, episode: Episode, agent_id: int = 0) -> list[np.ndarray]:
        """Each sub-goal's view points, in sub-goal order (after :meth:`check_subgoals`)."""
        self.check_subgoals(sim, episode)
        return [object_goal_points(sim, [goal], self.success_distance, agent_id) for goal in episode.goals]

    def check_subgoals(self, sim: Simulator, episode: Episode) -> None:
        """On an annotated scene, every sub-goal must name one of its instances, and a sub-goal
        with ``constraints`` must be one of the instances they describe (:func:`resolve`): a
        hand-written episode whose instruction names nothing in the scene, or names the wrong
        instance, is a :class:`DatasetFormatError` at reset, not a silently unreachable goal."""
        if not episode.goals:
            raise DatasetFormatError(f"Episode {episode.episode_id}: a MultiGoalVLN episode needs its sub-goals in `goals`")
        instances = {inst.id: inst for inst in sim.object_instances()}
        if not instances:  # no annotation: goals are positions (Habitat's convention)
            return
        graph = None
        for index, goal in enumerate(episode.goals):
            where = f"Episode {episode.episode_id} (scene {episode.scene_id}): goals[{index}]"
            object_id = getattr(goal, "object_id", None)
            inst = instances.get(instance_id_of(object_id)) if object_id is not None else None
            if inst is None:
                raise DatasetFormatError(
                    f"{where} names object {object_id!r}, which the scene has no instance of; use an id of "
                    f"sim.object_instances() (the scene's annotations), e.g. {sorted(instances)[:5]}"
                )
            constraints = (getattr(goal, "extra", None) or {}).get("constraints")
            if constraints is None:
                continue
            description = Description.from_dict(constraints, f"{where}.constraints")
            graph = graph if graph is not None else sim.scene_graph()
            fits = [i.id for i in resolve(graph, description, self.near_distance)]
            if inst.id not in fits:
                named = f"instances {fits}" if fits else "nothing in the scene"
                raise DatasetFormatError(
                    f"{where}: its constraints {constraints} ({description.text()!r}) describe {named}, not object "
                    f"{object_id!r} ({inst.category}); fix the constraints or the object id"
                )

    def episode_geometry(self, sim: Simulator, episode: Episode, agent_id: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
        """The sub-goals' view points and their region-to-region distances (:func:`region_distance`),
        cached per scene, episode and body (a reset would otherwise spend most of its time here)."""
        key = ("geometry", episode.scene_id, episode.episode_id, sim.body(agent_id))
        if key not in self._tours:
            regions = self.subgoal_regions(sim, episode, agent_id)
            pair = np.zeros((len(regions), len(regions)))
            for i, j in itertools.combinations(range(len(regions)), 2):
                pair[i, j] = pair[j, i] = region_distance(sim, regions[i], regions[j], agent_id)
            if len(self._tours) > 4096:  # a long run over many episodes: start afresh
                self._tours.clear()
            self._tours[key] = (regions, pair)
        return self._tours[key]

    def shortest_tour_length(self, sim: Simulator, episode: Episode, start, agent_id: int = 0) -> float:
        """The episode's ``info["shortest_tour"]`` when it has one (generation stores it), else
        :func:`shortest_tour` from ``start`` (cached per scene, episode, start and body)."""
        stored = (episode.info or {}).get("shortest_tour")
        if isinstance(stored, (int, float)) and not isinstance(stored, bool) and stored > 0:
            return float(stored)
        key = (episode.scene_id, episode.episode_id, tuple(np.round(np.asarray(start, dtype=float), 3)), sim.body(agent_id))
        if key not in self._tours:
            regions = self.subgoal_regions(sim, episode, agent_id)
            self._tours[key] = shortest_tour(sim, start, regions, self.is_ordered(episode), agent_id).length
        return self._tours[key]

    def temperature_table(self, sim: Simulator) -> np.ndarray:
        cache = _SCENE_CACHE.setdefault(sim, {})
        if "temperature" not in cache:
            cache["temperature"] = temperature_table(sim.scene_graph())
        return cache["temperature"]

    # -- goal ------------------------------------------------------------------------------------
    def goal_points(self, sim: Simulator, episode: Episode, agent_id: int = 0) -> np.ndarray:
        """Every sub-goal's view points together (the map overlay; measures use them per sub-goal),
        from the per-episode cache of :meth:`episode_geometry` (checked and computed once per episode)."""
        return np.concatenate(self.episode_geometry(sim, episode, agent_id)[0])

    def goal_radius(self, episode: Episode) -> float:
        return self.view_point_radius

    def goal_observation_space(self, camera: CameraSpec) -> dict[str, spaces.Space]:
        return {
            "instruction": spaces.Text(max_length=MAX_INSTRUCTION_LENGTH, min_length=0, charset=INSTRUCTION_CHARSET),
            "pose": spaces.Box(-np.inf, np.inf, (7,), dtype=np.float32),
            "lidar": self.lidar.observation_space(),
            "temperature": spaces.Box(*TEMPERATURE_RANGE, (camera.height, camera.width, 1), dtype=np.float32),
        }

    def goal_observations(self, sim: Simulator, episode: Episode, camera: CameraSpec, goal_camera: CameraSpec | None = None,
                          agent_id: int = 0) -> Mapping:
        return MultiGoalReadings(self, sim, episode, camera, agent_id)

    # -- measures and reward -----------------------------------------------------------------------
    def measures(self) -> list[Measure]:
        return [
            NumSteps(), Collisions(), PathLength(), SubgoalTracker(), RemainingDistance(), Progress(), MultiGoalSuccess(),
            ShortestTour(), TourSPL(), WrongFound(), *([WallTime()] if self.measure_wall_time else []),
        ]  # fmt: skip

    def reward(self, measures: MeasureSet, previous_distance: float) -> float:
        """Habitat's shaping on the remaining tour, ``subgoal_reward`` per sub-goal reached,
        ``wrong_found_reward`` per wrong claim, ``success_reward`` when the last is reached."""
        reward = super().reward(measures, previous_distance)
        tracker = measures.measure("subgoals_reached")
        return float(reward + self.subgoal_reward * tracker.new_reached + self.wrong_found_reward * tracker.new_wrong)

    # -- generation ----------------------------------------------------------------------------------
    def _scene_targets(self, sim: Simulator) -> dict:
        """Per scene (cached): reachable target instances, their view points and descriptions."""
        cache = _SCENE_CACHE.setdefault(sim, {})
        key = ("targets", self.categories, self.success_distance, self.near_distance)
        if key not in cache:
            graph = sim.scene_graph()
            targets = []
            for inst in (i for c in self.categories for i in graph.objects(c)):
                points = sim.navigable_points_near(inst.bbox_min, inst.bbox_max, self.success_distance)
                if len(points) == 0:
                    continue
                described = {
                    spatial: unique_description(graph, inst, spatial, self.near_distance) for spatial in (False, True)
                }  # fmt: skip
                targets.append((inst, points, described))
            cache[key] = (graph, sorted(targets, key=lambda t: t[0].id))
        return cache[key]

    def make_prochouse_episode(self, sim, rng, distance_bin, episode_id, embodiment) -> Episode | None:
        return self.make_episode(sim, rng, distance_bin, episode_id)

    def make_episode(self, sim: Simulator, rng: np.random.Generator, distance_bin: tuple[float, float], episode_id: str,
                     start_tries: int = 10) -> Episode | None:
        """One episode in any annotated scene ``sim`` holds (ProcHouse's driver calls it), or
        ``None`` when this draw failed. The start's geodesic distance to the nearest sub-goal
        lies in ``distance_bin``."""
        graph, targets = self._scene_targets(sim)
        kind = self.instruction_kinds[int(rng.integers(len(self.instruction_kinds)))]
        spatial = kind == "spatial"
        pool = [t for t in targets if t[2][spatial] is not None]
        count = int(rng.integers(self.min_subgoals, self.max_subgoals + 1))
        if len(pool) < count:
            return None
        chosen = [pool[int(i)] for i in rng.choice(len(pool), size=count, replace=False)]
        regions = [t[1] for t in chosen]
        for a, b in itertools.combinations(range(count), 2):
            if region_distance(sim, regions[a], regions[b]) < max(self.min_separation, 1e-9):
                return None
        for _ in range(start_tries):
            start, rotation = gen.random_start(sim, rng)
            nearest = min(sim.geodesic_distance(start, r) for r in regions)
            if distance_bin[0] <= nearest <= distance_bin[1]:
                break
        else:
            return None
        tour = shortest_tour(sim, start, regions, kind in ORDERED_KINDS)
        if not math.isfinite(tour.length):
            return None
        descriptions = [t[2][spatial] for t in chosen]
        goals = []
        for (inst, _, _), description in zip(chosen, descriptions):
            goal = gen.object_goal(inst, graph)
            goal.extra = {"description": description.text(), "constraints": description.as_dict()}
            goals.append(goal)
        instruction = instruction_text(kind, [d.text() for d in descriptions])
        return gen.make_episode(
            sim, episode_id, start, rotation, goals, tour.length, instruction=instruction,
            info={
                "shortest_tour": round(float(tour.length), 4), "tour_order": list(tour.order),
                "start_to_nearest_subgoal": round(float(nearest), 4),
            },
            extra={"instruction_kind": kind},
        )


def subgoal_descriptions(episode: Episode) -> list[Description]:
    """The episode's sub-goal descriptions (``goals[i].extra["constraints"]``)."""
    out = []
    for index, goal in enumerate(episode.goals):
        if not isinstance(goal, ObjectGoal):
            raise DatasetFormatError(f"Episode {episode.episode_id}: goals[{index}] must be an object goal")
        out.append(Description.from_dict(goal.extra.get("constraints"), f"Episode {episode.episode_id}: goals[{index}].constraints"))
    return out


__all__ = [
    "FoundDiscreteAgent", "MultiGoalReadings", "MultiGoalVLNTask", "SubgoalTracker", "Tour", "multigoal_embodiment",
    "region_distance", "shortest_tour", "subgoal_descriptions",
]  # fmt: skip
