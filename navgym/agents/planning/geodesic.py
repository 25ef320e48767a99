"""Geodesic distance fields on an occupancy grid (fast marching) and paths down them."""

from __future__ import annotations

import numpy as np
import skfmm
from scipy import ndimage

_OFFSETS = np.array([(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)])


def inflate_obstacles(obstacle: np.ndarray, radius: float, cell_size: float) -> np.ndarray:
    """Cells whose centre lies within ``radius`` metres of an obstacle cell's centre."""
    obstacle = np.asarray(obstacle, dtype=bool)
    if radius < 0:
        raise ValueError(f"radius={radius!r} is out of range; allowed >= 0 metres")
    if not obstacle.any():
        return obstacle.copy()
    return ndimage.distance_transform_edt(~obstacle) * cell_size <= radius


def distance_field(traversable: np.ndarray, targets: np.ndarray, cell_size: float, speed: np.ndarray | None = None) -> np.ndarray:
    """Geodesic distance (or travel time) from every cell to the nearest target, by fast marching.

    Args:
        traversable: Bool grid of cells a path may cross.
        targets: Bool grid of goal cells (they count as traversable).
        cell_size: Metres per cell.
        speed: Optional per-cell speed (> 0 on traversable cells); the result is then the travel
            time, i.e. distance weighted by ``1 / speed``.

    Returns:
        Float grid, 0 on targets and ``inf`` on cells that cannot reach one.
    """
    traversable = np.asarray(traversable, dtype=bool)
    targets = np.asarray(targets, dtype=bool)
    if traversable.shape != targets.shape:
        raise ValueError(f"traversable {traversable.shape} and targets {targets.shape} must have the same shape")
    out = np.full(traversable.shape, np.inf)
    if not targets.any():
        return out
    open_cells = traversable | targets
    if not (open_cells & ~targets & ndimage.binary_dilation(targets)).any():
        # No open cell touches a target (none left, or the targets are walled in): nothing can reach them.
        out[targets] = 0.0
        return out
    phi = np.ma.MaskedArray(np.where(targets, -1.0, 1.0), mask=~open_cells)
    if speed is None:
        field = skfmm.distance(phi, dx=cell_size)
    else:
        speed = np.ma.MaskedArray(np.where(open_cells, np.asarray(speed, dtype=np.float64), 1.0), mask=~open_cells)
        field = skfmm.travel_time(phi, speed, dx=cell_size)
    values = np.ma.filled(field.astype(np.float64), np.inf)
    out[open_cells] = np.maximum(values[open_cells], 0.0)
    out[targets] = 0.0
    return out


def descend(distance: np.ndarray, start: tuple[int, int], max_steps: int) -> np.ndarray:
    """Follow a distance field downhill over the 8 neighbours from ``start``.

    Returns:
        (N, 2) cells from ``start`` (included) until a target, a local minimum or ``max_steps``.
    """
    rows, cols = distance.shape
    r, c = int(start[0]), int(start[1])
    path = [(r, c)]
    for _ in range(max_steps):
        if distance[r, c] <= 0.0:
            break
        neighbours = _OFFSETS + (r, c)
        ok = (neighbours[:, 0] >= 0) & (neighbours[:, 1] >= 0) & (neighbours[:, 0] < rows) & (neighbours[:, 1] < cols)
        neighbours = neighbours[ok]
        values = distance[neighbours[:, 0], neighbours[:, 1]]
        best = int(np.argmin(values))
        if not values[best] < distance[r, c]:
            break
        r, c = int(neighbours[best, 0]), int(neighbours[best, 1])
        path.append((r, c))
    return np.asarray(path, dtype=np.int64)


def plan_path(traversable: np.ndarray, start: tuple[int, int], targets: np.ndarray, cell_size: float) -> np.ndarray:
    """Shortest path (N, 2) of cells from ``start`` to the nearest target; empty when unreachable."""
    field = distance_field(traversable, targets, cell_size)
    if not np.isfinite(field[start]):
        return np.zeros((0, 2), dtype=np.int64)
    return descend(field, start, max_steps=field.size)
