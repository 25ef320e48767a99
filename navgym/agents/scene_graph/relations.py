"""Spatial relations between object nodes, from their geometry alone (boxes in the start frame).

Thresholds (metres), all arguments of :class:`~navgym.agents.scene_graph.graph.OnlineSceneGraph`:

* ``on`` (A on B): A's bottom is at least :data:`ON_MIN_HEIGHT` above the floor and above B's
  bottom, and at most :data:`ON_GAP` above B's top (anywhere below it too: a cushion sits on a
  bed's mattress, below its headboard, the top of the bed's box); A's footprint centre lies
  inside B's footprint grown by :data:`ON_MARGIN`; A's footprint is smaller than B's.
* ``next_to``: the boxes are at most :data:`NEXT_TO_DISTANCE` apart (Euclidean box gap, 3D).
* ``near``: farther than ``next_to`` but at most :data:`NEAR_DISTANCE` apart.
  ``next_to`` and ``near`` join *anchors* only (objects that are on nothing), in the same region
  when both have one, and are stored in both directions.
* ``facing``: A has a front direction and B is the first object whose footprint the ray from A's
  footprint centre along it enters, within :data:`FACING_DISTANCE`, among objects whose height
  range overlaps A's (a TV looks over a low coffee table), that do not stand on A and that are in
  A's region when both have one (there is no occlusion test); a ray that
  starts inside B's footprint (a chair pushed under its table) enters it at 0 if it points at B's
  centre. Annotations often choose facing pairs by meaning (a TV faces the sofa); this geometric
  reading agrees with such annotations only in part (measured in ``docs/perception.md``).
* ``in``: the region (room) under A's footprint centre (see :mod:`.regions`).

These are the definitions a scene's annotations commonly use (and the ones ProcHouse's ground
truth is written with), so the online graph can be scored against them; they hold no knowledge
of which objects go together.
"""

from __future__ import annotations

import numpy as np

ON_GAP = 0.15
ON_MIN_HEIGHT = 0.05
ON_MARGIN = 0.05
NEXT_TO_DISTANCE = 0.5
NEAR_DISTANCE = 1.5
FACING_DISTANCE = 6.0

#: Relation names, in the order text lists them.
RELATIONS = ("on", "next_to", "near", "facing", "in")
#: Relations stored in both directions.
SYMMETRIC = frozenset({"next_to", "near"})


def box_gaps(lo: np.ndarray, hi: np.ndarray, los: np.ndarray, his: np.ndarray) -> np.ndarray:
    """Euclidean gaps (N,) between one box (lo, hi) and N boxes (N, 3); 0 where they touch or overlap."""
    gap = np.maximum(0.0, np.maximum(lo[None, :] - his, los - hi[None, :]))
    return np.linalg.norm(gap, axis=1)


def box_iou(lo: np.ndarray, hi: np.ndarray, los: np.ndarray, his: np.ndarray) -> np.ndarray:
    """Intersection over union (N,) of one box and N boxes (3D volumes)."""
    inter = np.prod(np.clip(np.minimum(hi[None, :], his) - np.maximum(lo[None, :], los), 0.0, None), axis=1)
    union = np.prod(hi - lo) + np.prod(his - los, axis=1) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def is_on(a_lo: np.ndarray, a_hi: np.ndarray, b_lo: np.ndarray, b_hi: np.ndarray, gap: float = ON_GAP, min_height: float = ON_MIN_HEIGHT, margin: float = ON_MARGIN) -> bool:
    """Whether box a stands on box b (see the module docstring)."""
    if a_lo[1] < min_height or a_lo[1] < b_lo[1] + min_height or a_lo[1] > b_hi[1] + gap:
        return False
    cx, cz = (a_lo[0] + a_hi[0]) / 2.0, (a_lo[2] + a_hi[2]) / 2.0
    if not (b_lo[0] - margin <= cx <= b_hi[0] + margin and b_lo[2] - margin <= cz <= b_hi[2] + margin):
        return False
    area_a = (a_hi[0] - a_lo[0]) * (a_hi[2] - a_lo[2])
    area_b = (b_hi[0] - b_lo[0]) * (b_hi[2] - b_lo[2])
    return bool(area_a < area_b)


def ray_entry(front: np.ndarray, a_lo: np.ndarray, a_hi: np.ndarray, b_lo: np.ndarray, b_hi: np.ndarray) -> float:
    """Distance along the ray from box a's footprint centre in direction ``front`` (x, z, unit) to
    where it enters b's footprint; 0 if it starts inside it pointing at its centre; ``inf`` if it
    misses it (or starts inside it pointing away)."""
    origin = ((a_lo[0] + a_hi[0]) / 2.0, (a_lo[2] + a_hi[2]) / 2.0)
    bounds = ((b_lo[0], b_hi[0]), (b_lo[2], b_hi[2]))
    if b_lo[0] <= origin[0] <= b_hi[0] and b_lo[2] <= origin[1] <= b_hi[2]:
        # Starting inside b (a chair pushed under its table): facing it if pointing at its centre.
        to_centre = ((b_lo[0] + b_hi[0]) / 2.0 - origin[0], (b_lo[2] + b_hi[2]) / 2.0 - origin[1])
        return 0.0 if to_centre[0] * float(front[0]) + to_centre[1] * float(front[1]) > 0.0 else float("inf")
    enter, leave = -np.inf, np.inf
    for o, d, (lo, hi) in zip(origin, (float(front[0]), float(front[1])), bounds):
        if abs(d) < 1e-9:
            if not lo <= o <= hi:
                return float("inf")
            continue
        t0, t1 = sorted(((lo - o) / d, (hi - o) / d))
        enter, leave = max(enter, t0), min(leave, t1)
    return float(enter) if 0.0 <= enter <= leave else float("inf")


def faces(front: np.ndarray, a_lo: np.ndarray, a_hi: np.ndarray, b_lo: np.ndarray, b_hi: np.ndarray, max_distance: float = FACING_DISTANCE) -> bool:
    """Whether the ray from box a's footprint centre along ``front`` (x, z) enters b's footprint
    ahead of it, within ``max_distance``."""
    return ray_entry(front, a_lo, a_hi, b_lo, b_hi) <= max_distance
