"""Statistics of an env's episode dataset and its scenes, for comparing benchmarks
(``navgym dataset-stats``; docs/datasets.md "How big is ProcHouse?").

Per scene (through the :class:`~navgym.sims.base.Simulator` interface and its scene graph, so any
backend and any annotated scene): rooms, storeys (distinct room floor heights), navigable area
(the body's top-down map: navigable cells x cell area, on the storey of the first episode's start;
summed over every storey's map in a multi-storey scene, where a flight counts on both its storeys)
and object instances (structural ones, walls, floors, doors ..., left out). Per episode: the
start-to-goal geodesic distance (the episode's ``info["geodesic_distance"]`` when it has one,
MultiGoalVLN's ``start_to_nearest_subgoal`` rather than its tour, else the simulator's, to the
nearest goal view point), the straight-line distance to the nearest goal
view point, and their ratio (Habitat's generators reject most episodes with a ratio below 1.1).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable

import numpy as np

#: Room floor heights closer than this are one storey, metres.
STOREY_TOLERANCE = 0.5


@dataclass(frozen=True)
class SceneStats:
    """One scene: ``rooms``, ``storeys``, ``navigable_area`` (m²) and ``instances`` (non-structural)."""

    scene_id: str
    rooms: int
    storeys: int
    navigable_area: float
    instances: int


@dataclass(frozen=True)
class EpisodeStats:
    """One episode: ``geodesic`` and ``euclidean`` start-to-goal distances (m) and their ratio."""

    episode_id: str
    scene_id: str
    geodesic: float
    euclidean: float

    @property
    def ratio(self) -> float:
        return self.geodesic / self.euclidean if self.euclidean > 0 else float("inf")


def storeys(floor_heights: Iterable[float], tolerance: float = STOREY_TOLERANCE) -> int:
    """How many storeys a set of floor heights spans (heights within ``tolerance`` are one)."""
    heights = sorted(float(h) for h in floor_heights)
    if not heights:
        return 0
    count, last = 1, heights[0]
    for h in heights[1:]:
        if h - last > tolerance:
            count += 1
        last = h
    return count


def storey_levels(floor_heights: Iterable[float], tolerance: float = STOREY_TOLERANCE) -> list[float]:
    """One floor height per storey (the lowest of each group within ``tolerance``)."""
    heights = sorted(float(h) for h in floor_heights)
    levels: list[float] = []
    for h in heights:
        if not levels or h - levels[-1] > tolerance:
            levels.append(h)
    return levels


def scene_stats(sim: Any, start: np.ndarray | None = None) -> SceneStats:
    """The statistics of the scene ``sim`` holds (``start``: a point on the storey to measure the
    navigable area of; default agent 0's position)."""
    graph = sim.scene_graph()
    heights = [room.floor_height for room in graph.rooms]
    levels = storey_levels(heights)
    if len(levels) > 1:  # every storey's map (a flight between two storeys is on both)
        maps = [sim.topdown_map(height=h) for h in levels]
    else:
        maps = [sim.topdown_map(height=None if start is None else float(start[1]))]
    area = sum(float(np.count_nonzero(m.grid == 2)) * m.cell_size**2 for m in maps)
    instances = sum(1 for inst in sim.object_instances() if not inst.structural)
    return SceneStats(sim.scene_id, len(graph.rooms), max(1, storeys(heights)) if heights else 1, area, instances)


def episode_stats(sim: Any, task: Any, episode: Any) -> EpisodeStats:
    """Start-to-goal distances of one episode in the scene ``sim`` holds."""
    start = np.asarray(episode.start_position, dtype=np.float64)
    points = np.asarray(task.goal_points(sim, episode), dtype=np.float64).reshape(-1, 3)
    info = episode.info or {}
    stored = info.get("start_to_nearest_subgoal", info.get("geodesic_distance"))
    if isinstance(stored, (int, float)) and not isinstance(stored, bool) and stored > 0:
        geodesic = float(stored)
    else:
        geodesic = float(sim.geodesic_distance(start, points))
    euclidean = float(np.linalg.norm(points - start, axis=1).min()) if len(points) else float("nan")
    return EpisodeStats(str(episode.episode_id), str(episode.scene_id), geodesic, euclidean)


def dataset_statistics(env: Any, progress: bool = True) -> tuple[list[SceneStats], list[EpisodeStats]]:
    """Scene and episode statistics of a NavEnv's dataset (``env`` from ``gym.make``), one
    simulator per scene built by the env's own factory (so the env's backend and body)."""
    from tqdm.auto import tqdm

    nav = env.unwrapped
    by_scene: dict[str, list[Any]] = {}
    for episode in nav.dataset.episodes:
        by_scene.setdefault(str(episode.scene_id), []).append(episode)
    scenes, episodes = [], []
    for scene_id, members in tqdm(by_scene.items(), desc="scenes", unit="scene", disable=not progress):
        sim = nav.sim_factory(scene_id)
        try:
            scenes.append(scene_stats(sim, np.asarray(members[0].start_position, dtype=np.float64)))
            episodes += [episode_stats(sim, nav.task, e) for e in members]
        finally:
            sim.close()
    return scenes, episodes


def _spread(values: list[float], digits: int = 1) -> str:
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if len(v) == 0:
        return "n/a"
    return f"{v.mean():.{digits}f} ({v.min():.{digits}f}-{v.max():.{digits}f})"


def summary_row(name: str, scenes: list[SceneStats], episodes: list[EpisodeStats]) -> dict[str, str]:
    """One table row: mean (min-max) of each statistic over scenes or episodes."""
    ratios = [e.ratio for e in episodes]
    return {
        "dataset": name,
        "scenes": str(len(scenes)),
        "episodes": str(len(episodes)),
        "rooms / scene": _spread([s.rooms for s in scenes]),
        "storeys / scene": _spread([s.storeys for s in scenes]),
        "navigable m² / scene": _spread([s.navigable_area for s in scenes], 0),
        "objects / scene": _spread([s.instances for s in scenes], 0),
        "geodesic start-goal (m)": _spread([e.geodesic for e in episodes], 2),
        "geodesic / Euclidean": _spread(ratios, 2),
        "ratio < 1.1": f"{np.mean([r < 1.1 for r in ratios]):.0%}" if ratios else "n/a",
    }


def markdown_table(rows: list[dict[str, str]]) -> str:
    """Rows of :func:`summary_row` as a markdown table."""
    columns = list(rows[0]) if rows else []
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row[c] for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def as_records(scenes: list[SceneStats], episodes: list[EpisodeStats]) -> dict[str, list[dict[str, Any]]]:
    """Plain dicts (for ``--json``)."""
    return {"scenes": [asdict(s) for s in scenes], "episodes": [{**asdict(e), "ratio": e.ratio} for e in episodes]}


__all__ = ["EpisodeStats", "SceneStats", "as_records", "dataset_statistics", "episode_stats", "markdown_table", "scene_stats", "storey_levels", "storeys", "summary_row"]
