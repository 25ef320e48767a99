"""Where an episode's goal is, as points on the navigable area (through the Simulator interface)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def object_goal_points(sim, goals: Sequence[Any], success_distance: float, agent_id: int = 0) -> np.ndarray:
    """View points of object goals: the dataset's, or navigable points within ``success_distance``
    of each instance's box (a box around the goal position when the scene has no annotation)."""
    points = [vp.position for goal in goals for vp in (getattr(goal, "view_points", None) or [])]
    if points:
        return np.asarray(points, dtype=np.float64)
    by_id = {inst.id: inst for inst in sim.object_instances()}
    chunks = []
    for goal in goals:
        inst = by_id.get(instance_id_of(goal.object_id)) if getattr(goal, "object_id", None) is not None else None
        if inst is not None:
            lo, hi = inst.bbox_min, inst.bbox_max
        else:  # no annotation: a box around the goal position
            lo = hi = np.asarray(goal.position, dtype=np.float64)
        chunks.append(sim.navigable_points_near(lo, hi, success_distance, agent_id=agent_id))
    points_array = np.concatenate(chunks) if chunks else np.zeros((0, 3))
    if len(points_array) == 0:
        points_array = np.asarray([sim.snap_point(goal.position, agent_id=agent_id) for goal in goals], dtype=np.float64)
    return points_array


def instance_id_of(object_id: Any) -> int | None:
    """Habitat object ids are ints or strings like ``"chair_12"``: take the trailing integer."""
    if isinstance(object_id, (int, np.integer)):
        return int(object_id)
    tail = str(object_id).rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else None
