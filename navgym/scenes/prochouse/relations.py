"""Spatial relation predicates between axis-aligned boxes, and the proximity relations of a room.

* ``on``: recorded by the placement when something is put on a support's surface.
* ``next_to``: the two boxes are at most :data:`NEXT_TO_DISTANCE` apart (Euclidean box gap).
* ``near``: farther than ``next_to`` but at most :data:`NEAR_DISTANCE` apart, in the same room.
* ``facing``: the ray from the subject's centre along its front crosses the object's footprint
  within :data:`FACING_DISTANCE`.

``next_to`` and ``near`` are symmetric and stored in both directions, between *anchors* (objects
not standing on another object) of the same room.
"""

from __future__ import annotations

import numpy as np

NEXT_TO_DISTANCE = 0.5
NEAR_DISTANCE = 1.5
FACING_DISTANCE = 6.0


def box_distance(a_lo, a_hi, b_lo, b_hi) -> float:
    """Euclidean distance between two axis-aligned boxes (0 if they touch or overlap)."""
    gap = np.maximum(0.0, np.maximum(np.asarray(a_lo) - np.asarray(b_hi), np.asarray(b_lo) - np.asarray(a_hi)))
    return float(np.linalg.norm(gap))


def faces(front: tuple[float, float], a_lo, a_hi, b_lo, b_hi, max_distance: float = FACING_DISTANCE) -> bool:
    """Whether the ray from box a's centre along ``front`` (x, z) enters box b's footprint ahead."""
    origin = ((a_lo[0] + a_hi[0]) / 2.0, (a_lo[2] + a_hi[2]) / 2.0)
    enter, leave = -np.inf, np.inf
    for axis, (o, d) in enumerate(zip(origin, front)):
        lo, hi = (b_lo[0], b_hi[0]) if axis == 0 else (b_lo[2], b_hi[2])
        if abs(d) < 1e-9:
            if not lo <= o <= hi:
                return False
            continue
        t0, t1 = sorted(((lo - o) / d, (hi - o) / d))
        enter, leave = max(enter, t0), min(leave, t1)
    return bool(0.0 <= enter <= leave and enter <= max_distance)


def proximity(boxes: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[int, str, int]]:
    """``next_to`` / ``near`` relations among boxes, as (index, relation, index), both directions."""
    found = []
    for i, (a_lo, a_hi) in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            distance = box_distance(a_lo, a_hi, *boxes[j])
            if distance <= NEXT_TO_DISTANCE:
                found += [(i, "next_to", j), (j, "next_to", i)]
            elif distance <= NEAR_DISTANCE:
                found += [(i, "near", j), (j, "near", i)]
    return found
