"""ProcHouse episode datasets: generated per task and split, deterministic by seed, cached on disk.

Like Habitat's generators, an episode needs a reachable start, a geodesic distance to the goal in
the asked bin (near 1.25-2 m, easy 1.5-3 m, medium 3-5 m, hard 5-10 m, or easy to hard), and rejects
most near-straight episodes (geodesic / Euclidean below 1.1 is kept with probability 0.2). Episodes
are written in Habitat's formats (:mod:`navgym.datasets.episodes`), so habitat-lab can read them.

This module is the driver and the pieces tasks share; each task says how it makes one episode
(``Task.make_prochouse_episode``). Generation talks to the world only through the
:class:`~navgym.sims.base.Simulator` interface and its scene graph, built by the ``sim_factory``
it is given: no backend is named here.
"""

from __future__ import annotations

import json
import math
import os
import sys
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
from tqdm.auto import tqdm

from navgym.core.checks import check_int, check_range
from navgym.core.geometry import yaw_to_quaternion, yaw_toward
from navgym.core.paths import cache_dir, cache_lock
from navgym.core.specs import AgentState, CameraSpec
from navgym.datasets.episodes import Episode, EpisodeDataset, ImageGoalView, ObjectGoal, read_dataset, write_dataset
from navgym.errors import InvalidArgumentError
from navgym.scenes.scene import ObjectInstance, SceneGraph
from navgym.sims.base import Simulator

#: Bump when generation changes: cached datasets of older versions are not reused.
GENERATION_VERSION = 1
DIFFICULTY_BINS = {"near": (1.25, 2.0), "easy": (1.5, 3.0), "medium": (3.0, 5.0), "hard": (5.0, 10.0)}
#: Scenes and episodes per scene of each split, by default.
SPLIT_SIZES = {"train": (40, 50), "val": (10, 10), "test": (10, 10)}
#: ProcHouseHard's episode filter when no difficulty is asked: geodesic start-goal distance
#: (metres) and the smallest geodesic / Euclidean ratio kept (Habitat keeps 20% of the episodes
#: below 1.1; these are all rejected). Calibrated against the frontier agent: docs/datasets.md.
HARD_FILTER = {"distance": (6.0, 30.0), "min_ratio": 1.1}
#: ProcHouseHard's buildings and episodes per building of each split: more buildings than
#: ProcHouse's val and test (25, not 10), since one building's storeys sway a split's success rate.
HARD_SPLIT_SIZES = {"train": (40, 50), "val": (25, 4), "test": (25, 4)}
#: Bump with any change of HARD_FILTER or HARD_SPLIT_SIZES: cached ProcHouseHard datasets of older versions are not reused.
HARD_GENERATION_VERSION = 2


class DistanceBin(tuple):
    """A ``(low, high)`` geodesic distance bin (metres) that may also carry ``min_ratio``: the
    smallest geodesic / Euclidean ratio an episode may have (None: Habitat's rule)."""

    def __new__(cls, low: float, high: float, min_ratio: float | None = None):
        obj = super().__new__(cls, (float(low), float(high)))
        obj.min_ratio = min_ratio
        return obj
_MAX_TRIES = 60
#: The widest field of view (degrees) :func:`open_view_yaw` probes with: wider cameras are probed
#: at this one (they were probed at their own, which found no open view from about 160°; their
#: ImageNav cache keys say so, so caches written before are not reused).
OPEN_VIEW_MAX_HFOV = 90.0


def prochouse_dataset(
    task: Any,
    embodiment: Any,
    split: str,
    sim_factory: Callable[[str], Simulator],
    difficulty: str | None = None,
    num_scenes: int | None = None,
    episodes_per_scene: int | None = None,
    max_goal_distance: float | None = None,
    use_cache: bool = True,
    hard: bool = False,
) -> EpisodeDataset:
    """The ProcHouse episodes of a task and split (generated on first use, then read from cache).

    Args:
        task: A :class:`~navgym.tasks.base.Task`; its ``make_prochouse_episode`` makes each one.
        embodiment: Whose body the episodes are for (navigability) and whose camera goal views use.
        sim_factory: Builds a simulator for a scene id with the embodiment's body.
        hard: ProcHouseHard: the multi-storey buildings, and :data:`HARD_FILTER` when
            ``difficulty`` is None (except for tasks with their own distance cap, SemanticNav,
            whose targets are in view at the start).
    """
    from navgym.scenes.prochouse import SPLITS

    if split not in SPLITS:
        raise InvalidArgumentError(f"split={split!r} is not a ProcHouse split; valid splits are {list(SPLITS)}")
    if difficulty is not None and difficulty not in DIFFICULTY_BINS:
        raise InvalidArgumentError(f"difficulty={difficulty!r} is not valid; use one of {list(DIFFICULTY_BINS)} or None")
    default_scenes, default_episodes = (HARD_SPLIT_SIZES if hard else SPLIT_SIZES)[split]
    num_scenes = default_scenes if num_scenes is None else check_int("num_scenes", num_scenes, 1)
    episodes_per_scene = default_episodes if episodes_per_scene is None else check_int("episodes_per_scene", episodes_per_scene, 1)
    check_range("num_scenes", num_scenes, 1, len(SPLITS[split]))
    check_range("episodes_per_scene", episodes_per_scene, 1, 10_000)
    low, high = DIFFICULTY_BINS[difficulty] if difficulty else (DIFFICULTY_BINS["easy"][0], DIFFICULTY_BINS["hard"][1])
    min_ratio = None
    cap = getattr(task, "default_max_goal_distance", None)
    if hard and difficulty is None and cap is None:  # a task with its own cap (SemanticNav) keeps its bins
        (low, high), min_ratio = HARD_FILTER["distance"], HARD_FILTER["min_ratio"]
    if max_goal_distance is None and cap is not None and cap > low:
        high = min(high, float(cap))  # the task's own cap (SemanticNav: targets in view)
    if max_goal_distance is not None:
        if not max_goal_distance > low:
            raise InvalidArgumentError(f"max_goal_distance={max_goal_distance} must exceed the bin's minimum {low} m")
        high = min(high, float(max_goal_distance))
    key = _cache_key(task, embodiment, split, difficulty, num_scenes, episodes_per_scene, (low, high))
    if hard:
        from navgym.scenes.prochouse.hard import HARD_GENERATOR_VERSION

        key = f"hard{HARD_GENERATION_VERSION}h{HARD_GENERATOR_VERSION}r{min_ratio}_{key}"
    path = cache_dir() / "episodes" / f"{task.name.lower()}" / f"{key}.json.gz"
    def generate() -> EpisodeDataset:
        return _generate(task, embodiment, sim_factory, split, num_scenes, episodes_per_scene, hard, DistanceBin(low, high, min_ratio))

    if not use_cache:
        return generate()
    # Locked from the check to the write: processes that need the same missing episodes at once
    # (a training run's env workers, two runs side by side) generate them once.
    with cache_lock(path):
        if path.exists():
            try:
                return read_dataset(path)
            except ValueError:
                pass  # corrupt cache entry: regenerate
        _write_cache(generate(), path)
    return read_dataset(path)


def _generate(task, embodiment, sim_factory, split: str, num_scenes: int, episodes_per_scene: int, hard: bool, distance_bin) -> EpisodeDataset:
    """The episodes of :func:`prochouse_dataset`, generated house by house with a progress bar."""
    from navgym.scenes.prochouse import SPLITS
    from navgym.scenes.sources import prochouse_scene_id

    episodes: list[Episode] = []
    # Shown off a terminal too (logs of a training job), there updated every 10 s instead of redrawn.
    interactive = sys.stderr.isatty()
    name = " ProcHouseHard" if hard else ""
    # TQDM_DISABLE read here too, not only where tqdm is imported: `--no-progress` sets it after the
    # import. Any non-empty value disables, as tqdm reads it; unset, tqdm's own default stands.
    quiet = {"disable": True} if os.environ.get("TQDM_DISABLE") else {}
    seeds = tqdm(list(SPLITS[split][:num_scenes]), desc=f"Generating {task.name}{name} {split} episodes", leave=interactive,
                 mininterval=0.1 if interactive else 10.0, **quiet)
    for seed in seeds:
        sim = sim_factory(prochouse_scene_id(seed, hard))
        rng = np.random.default_rng([seed, task.generation_salt])
        episodes.extend(generate_scene_episodes(task, embodiment, sim, rng, f"{seed}", episodes_per_scene, distance_bin))
        sim.close()
    dataset = EpisodeDataset(episodes=episodes, kind=task.episode_kind)
    task.prepare_dataset(dataset)
    return dataset


def _write_cache(dataset: EpisodeDataset, path) -> None:
    """Write ``dataset`` under its final name in a private folder beside ``path``, then rename it
    into place: readers never see half a file, and nothing temporary (a process id, a temporary
    name) gets into the bytes, so a cached dataset is byte-identical whichever process wrote it
    (``write_dataset``'s gzip header has no file name and mtime 0)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".navgym-write-", dir=path.parent))
    try:
        write_dataset(dataset, staging / path.name)
        os.replace(staging / path.name, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _cache_key(task, embodiment, split: str, difficulty, num_scenes: int, per_scene: int, bin_: tuple[float, float]) -> str:
    from navgym.scenes.prochouse import GENERATOR_VERSION

    body, camera = embodiment.body, embodiment.camera
    parts = [
        f"g{GENERATION_VERSION}h{GENERATOR_VERSION}", split, difficulty or "all", f"s{num_scenes}", f"e{per_scene}",
        f"d{bin_[0]:g}-{bin_[1]:g}", f"r{body.radius:g}", f"ht{body.height:g}", f"mc{body.max_climb:g}", f"sd{task.success_distance:g}",
        # Goal views are probed and sized with the embodiment's camera.
        f"cam{camera.width}x{camera.height}f{camera.hfov:g}h{camera.camera_height:g}p{camera.pitch:g}",
    ]
    if hasattr(task, "categories"):
        parts.append(f"c{zlib.crc32(json.dumps(list(task.categories)).encode()):08x}")
    if task.name == "ImageNav" and camera.hfov > OPEN_VIEW_MAX_HFOV:
        parts.append(f"ov{OPEN_VIEW_MAX_HFOV:g}")  # goal headings probed at 90°: not the older caches' episodes
    extra = task.generation_key(embodiment) if hasattr(task, "generation_key") else ""
    if extra:  # task settings beyond the shared ones (none for the first four tasks: their keys are unchanged)
        parts.append(extra)
    return "_".join(parts)


def generate_scene_episodes(task, embodiment, sim: Simulator, rng: np.random.Generator, prefix: str, count: int,
                            distance_bin: tuple[float, float]) -> list[Episode]:
    """``count`` episodes of ``task`` in one scene, ids ``<prefix>_<index>`` (fewer if the scene
    cannot host them, e.g. an ObjectNav house with no goal category)."""
    episodes = []
    for index in range(count):
        for _ in range(_MAX_TRIES):
            episode = task.make_prochouse_episode(sim, rng, distance_bin, f"{prefix}_{index}", embodiment)
            if episode is not None:
                episodes.append(episode)
                break
    return episodes


# -- pieces the tasks share --------------------------------------------------------------------
def accept_distance(sim: Simulator, rng, start, goal_points: np.ndarray, distance_bin) -> float | None:
    """The geodesic start-goal distance when it is in the bin and the path is not too straight
    (kept with probability 0.2 when geodesic / Euclidean < 1.1, never below the bin's
    ``min_ratio`` when it has one, see :class:`DistanceBin`); else ``None``."""
    euclid = float(np.min(np.linalg.norm((goal_points - start)[:, [0, 2]], axis=1)))
    if euclid > distance_bin[1]:
        # A path on the floor is never shorter than the straight line (the embedded simulator's
        # geodesic is at least this distance by construction): out of the bin without computing
        # a distance field, and without drawing from rng, so the episodes are the same as before.
        return None
    geodesic = sim.geodesic_distance(start, goal_points)
    if not (distance_bin[0] <= geodesic <= distance_bin[1]):
        return None
    min_ratio = getattr(distance_bin, "min_ratio", None)
    if min_ratio is not None:
        return geodesic if euclid <= 0 or geodesic / euclid >= min_ratio else None
    if euclid > 0 and geodesic / euclid < 1.1 and rng.random() > 0.2:
        return None
    return geodesic


def random_start(sim: Simulator, rng) -> tuple[list[float], list[float]]:
    """A navigable start position and a uniformly drawn heading."""
    position = sim.sample_navigable_point(rng)
    rotation = yaw_to_quaternion(float(rng.uniform(0, 2 * math.pi)))
    return [float(v) for v in position], [float(v) for v in rotation]


def rounded(values) -> list[float]:
    return [round(float(v), 4) for v in values]


def make_episode(sim: Simulator, episode_id: str, start, rotation, goals, geodesic: float, **fields) -> Episode:
    return Episode(
        episode_id=episode_id,
        scene_id=sim.scene_id,
        start_position=rounded(start),
        start_rotation=rounded(rotation),
        goals=goals,
        info={"geodesic_distance": round(float(geodesic), 4), **fields.pop("info", {})},
        **fields,
    )


def open_view_yaw(sim: Simulator, position, rng, camera: CameraSpec, min_depth: float = 1.0) -> float | None:
    """A heading whose view is not a wall at arm's length (the goal photo must show something).

    The probe is the camera narrowed to at most :data:`OPEN_VIEW_MAX_HFOV`: a wider one's centre
    pixels look off-axis at the floor and ceiling, whose depth is short in any room."""
    probe = camera.with_(width=24, height=24, hfov=min(camera.hfov, OPEN_VIEW_MAX_HFOV), outputs=("depth",))
    yaws = rng.uniform(0, 2 * math.pi, size=6)
    frames = sim.render([(AgentState.from_yaw(position, float(y)), probe) for y in yaws])
    for yaw, frame in zip(yaws, frames):
        if float(np.median(frame["depth"][6:18, 6:18])) >= min_depth:
            return float(yaw)
    return None


def object_goal(inst: ObjectInstance, graph: SceneGraph, cls=ObjectGoal, **extra) -> ObjectGoal:
    """A Habitat object goal for an annotated instance (no view points: they come from the grid)."""
    room = graph.room(inst.room_id) if inst.room_id is not None and graph.rooms else None
    return cls(
        position=rounded(inst.center),
        radius=None,
        object_id=int(inst.id),
        object_name=f"{inst.category}_{inst.id}",
        object_category=inst.category,
        room_id=str(inst.room_id) if inst.room_id is not None else None,
        room_name=room.name if room else None,
        view_points=[],
        **extra,
    )


def reachable(sim: Simulator, inst: ObjectInstance, success_distance: float) -> bool:
    """Whether some navigable point is within ``success_distance`` of the instance's box."""
    return len(sim.navigable_points_near(inst.bbox_min, inst.bbox_max, success_distance)) > 0


def goal_instance(sim: Simulator, graph: SceneGraph, rng, categories, success_distance: float) -> ObjectInstance | None:
    """A reachable instance of one of ``categories``, drawn uniformly."""
    candidates = [i for c in categories for i in graph.objects(c) if reachable(sim, i, success_distance)]
    if not candidates:
        return None
    return candidates[int(rng.integers(len(candidates)))]


def instance_view(sim: Simulator, inst: ObjectInstance, rng, camera: CameraSpec, tries: int = 12) -> ImageGoalView | None:
    """A photo of the instance from an independent camera: 0.8-3 m away, 0.8-1.5 m high, HFOV
    60-120°, facing the object; kept if the object covers enough of the frame."""
    centre = inst.center
    points = sim.navigable_points_near(inst.bbox_min, inst.bbox_max, 3.0)
    if len(points) == 0:
        return None
    dist = np.hypot(points[:, 0] - centre[0], points[:, 2] - centre[2])
    points = points[dist >= 0.8]
    if len(points) == 0:
        return None
    best, best_coverage = None, 0.0
    for _ in range(tries):
        p = points[int(rng.integers(len(points)))]
        height = float(rng.uniform(0.8, 1.5))
        hfov = float(rng.integers(60, 120))
        yaw = yaw_toward(p, centre)
        position = np.array([p[0], p[1] + height, p[2]])
        spec = CameraSpec(48, 48, hfov, 0.0, outputs=("semantic",))
        semantic = sim.render([(AgentState.from_yaw(position, yaw), spec)])[0]["semantic"]
        coverage = float((semantic == inst.id).mean())
        if coverage > best_coverage:
            best_coverage = coverage
            best = ImageGoalView(
                position=rounded(position), rotation=rounded(yaw_to_quaternion(yaw)), hfov=hfov,
                image_dimensions=[camera.height, camera.width], frame_coverage=round(coverage, 4),
            )
        if coverage >= 0.05:
            break
    return best if best_coverage >= 0.02 else None
