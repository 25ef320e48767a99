"""Frontiers: free cells next to unknown ones, grouped into connected components."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from navgym.agents.mapping.occupancy import FREE, OBSTACLE, UNKNOWN

_CROSS = ndimage.generate_binary_structure(2, 1)
_SQUARE = ndimage.generate_binary_structure(2, 2)


@dataclass(frozen=True)
class Frontier:
    """One connected frontier.

    Attributes:
        cells: (N, 2) integer (row, col) of its cells.
    """

    cells: np.ndarray

    @property
    def size(self) -> int:
        return int(len(self.cells))

    @property
    def centroid(self) -> np.ndarray:
        """Mean (row, col), float."""
        return self.cells.mean(axis=0)


def frontier_mask(grid: np.ndarray, obstacle_clearance: int = 0) -> np.ndarray:
    """Free cells with an unknown 4-neighbour (cells on the map's border never count).

    Args:
        grid: (rows, cols) of ``UNKNOWN`` / ``FREE`` / ``OBSTACLE``.
        obstacle_clearance: Free cells within this many cells (Chebyshev) of an obstacle do not
            count: the unknown cells seen through the gaps of a wall mapped at a glancing angle
            are not a way out.
    """
    grid = np.asarray(grid)
    if grid.ndim != 2:
        raise ValueError(f"grid has shape {grid.shape}; expected a 2D occupancy grid")
    if obstacle_clearance < 0:
        raise ValueError(f"obstacle_clearance={obstacle_clearance!r} is out of range; allowed integers >= 0")
    unknown = np.pad(grid == UNKNOWN, 1, constant_values=False)
    near_unknown = ndimage.binary_dilation(unknown, structure=_CROSS)[1:-1, 1:-1]
    mask = (grid == FREE) & near_unknown
    if obstacle_clearance > 0:
        mask &= ~ndimage.binary_dilation(grid == OBSTACLE, structure=_SQUARE, iterations=obstacle_clearance)
    mask[[0, -1], :] = False
    mask[:, [0, -1]] = False
    return mask


def find_frontiers(grid: np.ndarray, min_size: int = 1, ignore: np.ndarray | None = None, obstacle_clearance: int = 0) -> list[Frontier]:
    """Frontiers of an occupancy grid (8-connected components of :func:`frontier_mask`).

    Args:
        grid: (rows, cols) of ``UNKNOWN`` / ``FREE`` / ``OBSTACLE``.
        min_size: Components with fewer cells are dropped.
        ignore: Optional bool mask of cells that never count as frontier (e.g. given up on).
        obstacle_clearance: See :func:`frontier_mask`.
    """
    if min_size < 1:
        raise ValueError(f"min_size={min_size!r} is out of range; allowed integers >= 1")
    mask = frontier_mask(grid, obstacle_clearance)
    if ignore is not None:
        mask &= ~np.asarray(ignore, dtype=bool)
    labels, count = ndimage.label(mask, structure=_SQUARE)
    if count == 0:
        return []
    flat = np.flatnonzero(labels)
    ids = labels.ravel()[flat]
    order = np.argsort(ids, kind="stable")
    flat, ids = flat[order], ids[order]
    sizes = np.bincount(ids, minlength=count + 1)[1:]
    rows, cols = np.divmod(flat, grid.shape[1])
    cells = np.stack([rows, cols], axis=1)
    groups = np.split(cells, np.cumsum(sizes)[:-1])
    return [Frontier(group) for group in groups if len(group) >= min_size]


def nearest_frontier(frontiers: list[Frontier], distance: np.ndarray) -> tuple[int, np.ndarray, float] | None:
    """The frontier with the nearest cell under a distance field.

    Returns:
        ``(index, cell, distance)`` of the nearest reachable frontier cell, or ``None`` when no
        frontier cell has a finite distance.
    """
    if not frontiers:
        return None
    cells = np.concatenate([f.cells for f in frontiers])
    owner = np.repeat(np.arange(len(frontiers)), [f.size for f in frontiers])
    values = distance[cells[:, 0], cells[:, 1]]
    best = int(np.argmin(values))
    if not np.isfinite(values[best]):
        return None
    return int(owner[best]), cells[best], float(values[best])
