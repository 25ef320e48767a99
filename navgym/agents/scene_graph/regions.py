"""Room-like regions from the agent's own occupancy map: free space split at doors.

Method (a morphological room segmentation, on a grid coarsened to ``cell_size``):

1. **free** = coarse cells mostly seen free that hold no obstacle cell (so a one-cell wall
   survives the coarsening), with unknown holes up to ``HOLE_AREA`` m² inside free space filled;
2. **clearance** = distance from each free cell to the nearest cell that is not free (obstacle or
   unknown);
3. **cores** = connected components (8-neighbour) of cells with clearance above half of
   ``door_width``: a doorway narrower than ``door_width`` has no core cell, so cores stop at
   doors; cores smaller than ``min_area`` m² are dropped;
4. every other free cell joins the core it reaches first growing through free space (one cell per
   round, up to ``max_grow`` metres; farther cells stay unassigned, so a room with no core of its
   own is not swallowed whole by its neighbour's);
5. optionally (``merge_border``), two regions whose shared border is longer than that are merged
   (furniture in a room's middle can cut its core in two; a doorway's border is one door wide).
   Off by default: walls the agent saw only edge-on are missing from its map, and long borders
   then also join real rooms.

Ids stay stable between calls: each new region takes the id of the previous region it overlaps
most (greedily, largest overlap first); others get fresh ids.

Measured on three explored ProcHouse houses by ``python scripts/bench_perception.py``
(``docs/perception.md``): 86-99.5 % of the labelled cells lie in their region's majority room with
the defaults; the result is sensitive to ``door_width`` (at 0.8 m two of the houses became 2
regions for 7 rooms and 3 for 6), because ProcHouse doors are 0.9-1.05 m wide and cluttered rooms
have little clearance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from navgym.agents.mapping.geometry import grid_cell_to_world, grid_world_to_cell
from navgym.agents.mapping.occupancy import OccupancyMap
from navgym.core.checks import check_range

DOOR_WIDTH = 0.9
MIN_AREA = 0.3
REGION_CELL = 0.1
MAX_GROW = 2.0
HOLE_AREA = 0.25


@dataclass
class RegionNode:
    """One region of the agent's map.

    Attributes:
        id: Region id (stable across updates while the region persists).
        center: (x, z) centroid of its cells, start frame.
        area: Free area, m².
        bounds: (x_min, z_min, x_max, z_max) of its cells.
    """

    id: int
    center: np.ndarray
    area: float
    bounds: tuple[float, float, float, float]

    @property
    def label(self) -> str:
        return f"region {self.id}"


class RegionMap:
    """Segments an :class:`~navgym.agents.mapping.OccupancyMap` into regions (see the module docstring).

    Args:
        cell_size: Side of the segmentation grid's cells, metres (a multiple of the map's is best).
        door_width: Passages narrower than this separate regions, metres.
        min_area: Smallest core kept, m².
        max_grow: Farthest a free cell may be from its core, metres.
        merge_border: Regions sharing a border longer than this are one region, metres
            (``None``: never merge).
    """

    def __init__(
        self,
        cell_size: float = REGION_CELL,
        door_width: float = DOOR_WIDTH,
        min_area: float = MIN_AREA,
        max_grow: float = MAX_GROW,
        merge_border: float | None = None,
    ):
        self.cell_size = check_range("cell_size", cell_size, 0.005, 2.0)
        self.door_width = check_range("door_width", door_width, 0.0, 10.0, low_open=True)
        self.min_area = check_range("min_area", min_area, 0.0, 1000.0)
        self.max_grow = check_range("max_grow", max_grow, 0.0, 100.0)
        self.merge_border = None if merge_border is None else check_range("merge_border", merge_border, 0.0, 1000.0)
        self.reset()

    def reset(self) -> None:
        #: (rows, cols) int32 region ids on the coarse grid (0 = none); empty until :meth:`update`.
        self.labels = np.zeros((0, 0), dtype=np.int32)
        self.origin = (0.0, 0.0)
        self.regions: dict[int, RegionNode] = {}
        self._next_id = 1

    # -- coarse grid ---------------------------------------------------------------------------
    def _coarse_free(self, occupancy: OccupancyMap) -> np.ndarray:
        """Coarse cells that are mostly free and hold no obstacle (a thin wall must survive), with
        unknown holes smaller than ``HOLE_AREA`` inside free space filled."""
        factor = max(1, int(round(self.cell_size / occupancy.cell_size)))
        rows = occupancy.cells // factor * factor
        shape = (rows // factor, factor, rows // factor, factor)
        free = (occupancy.free & ~occupancy.obstacle)[:rows, :rows].reshape(shape).mean(axis=(1, 3)) >= 0.5
        obstacle = occupancy.obstacle[:rows, :rows].reshape(shape).any(axis=(1, 3))
        free &= ~obstacle
        self.origin = occupancy.origin
        self._step = occupancy.cell_size * factor
        holes, count = ndimage.label(ndimage.binary_fill_holes(free) & ~free & ~obstacle)
        if count:
            sizes = ndimage.sum_labels(np.ones_like(holes), holes, index=np.arange(1, count + 1)) * self._step**2
            small = np.concatenate([[False], sizes <= HOLE_AREA])
            free |= small[holes]
        return free

    def world_to_cell(self, xz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(..., 2) start-frame (x, z) -> coarse (rows, cols)."""
        return grid_world_to_cell(xz, self.origin, self._step)

    def cell_to_world(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return grid_cell_to_world(rows, cols, self.origin, self._step)

    # -- segmentation --------------------------------------------------------------------------
    def update(self, occupancy: OccupancyMap) -> dict[int, RegionNode]:
        """Re-segment the map; returns the regions by id."""
        free = self._coarse_free(occupancy)
        labels = np.zeros(free.shape, dtype=np.int32)
        if free.any():
            rows, cols = np.nonzero(free)
            r0, r1, c0, c1 = max(rows.min() - 2, 0), rows.max() + 3, max(cols.min() - 2, 0), cols.max() + 3
            labels[r0:r1, c0:c1] = self._segment(free[r0:r1, c0:c1])
        labels = self._stable_ids(labels)
        self.labels = labels
        self.regions = self._nodes(labels)
        return self.regions

    def _segment(self, free: np.ndarray) -> np.ndarray:
        step = self._step
        clearance = ndimage.distance_transform_edt(free) * step
        cores, count = ndimage.label(clearance > self.door_width / 2.0, structure=np.ones((3, 3)))
        if count == 0:
            return np.zeros(free.shape, dtype=np.int32)
        sizes = ndimage.sum_labels(np.ones_like(cores), cores, index=np.arange(1, count + 1)) * step * step
        keep = np.concatenate([[0], np.where(sizes >= self.min_area, np.arange(1, count + 1), 0)])
        labels = keep[cores].astype(np.int32)
        # Grow through free space, one ring per round (a geodesic assignment to the nearest core).
        footprint = np.ones((3, 3), dtype=bool)
        for _ in range(int(np.ceil(self.max_grow / step))):
            open_cells = free & (labels == 0)
            if not open_cells.any():
                break
            grown = ndimage.grey_dilation(labels, footprint=footprint)
            new = open_cells & (grown > 0)
            if not new.any():
                break
            labels[new] = grown[new]
        return self._merge_long_borders(labels) if self.merge_border is not None else labels

    def _merge_long_borders(self, labels: np.ndarray) -> np.ndarray:
        """Merge regions whose shared border (4-neighbour cell pairs) is longer than ``merge_border``."""
        while True:
            found = []
            for a, b in ((labels[:, :-1], labels[:, 1:]), (labels[:-1, :], labels[1:, :])):
                touching = (a > 0) & (b > 0) & (a != b)
                found.append(np.stack([np.minimum(a[touching], b[touching]), np.maximum(a[touching], b[touching])]))
            pairs = np.concatenate(found, axis=1)
            if pairs.shape[1] == 0:
                return labels
            keys, counts = np.unique(pairs, axis=1, return_counts=True)
            best = int(np.argmax(counts))
            if counts[best] * self._step <= self.merge_border:
                return labels
            keep, gone = int(keys[0, best]), int(keys[1, best])
            labels[labels == gone] = keep

    def _stable_ids(self, labels: np.ndarray) -> np.ndarray:
        """Relabel ``labels`` (arbitrary positive ids) with ids carried over from the last update."""
        new_ids = [int(v) for v in np.unique(labels) if v > 0]
        if not new_ids:
            return labels
        out = np.zeros_like(labels)
        overlaps = []
        if self.labels.shape == labels.shape:
            both = (labels > 0) & (self.labels > 0)
            if both.any():
                pairs, counts = np.unique(np.stack([labels[both], self.labels[both]]), axis=1, return_counts=True)
                overlaps = sorted(zip(counts.tolist(), pairs[0].tolist(), pairs[1].tolist()), reverse=True)
        assigned: dict[int, int] = {}
        taken: set[int] = set()
        for _, new, old in overlaps:
            if new not in assigned and old not in taken:
                assigned[new] = old
                taken.add(old)
        for new in new_ids:
            if new not in assigned:
                assigned[new] = self._next_id
                self._next_id += 1
        lookup = np.zeros(int(labels.max()) + 1, dtype=np.int32)
        for new, final in assigned.items():
            lookup[new] = final
        out = lookup[labels]
        self._next_id = max(self._next_id, int(out.max()) + 1)
        return out

    def _nodes(self, labels: np.ndarray) -> dict[int, RegionNode]:
        nodes = {}
        for region_id in (int(v) for v in np.unique(labels) if v > 0):
            rows, cols = np.nonzero(labels == region_id)
            xz = self.cell_to_world(rows, cols)
            lo, hi = xz.min(axis=0) - self._step / 2, xz.max(axis=0) + self._step / 2
            nodes[region_id] = RegionNode(region_id, xz.mean(axis=0), float(len(rows) * self._step**2), (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])))
        return nodes

    # -- queries -------------------------------------------------------------------------------
    def region_at(self, xz: np.ndarray, search: float = 1.0) -> int | None:
        """The region under start-frame point (x, z), or the nearest region cell within ``search``
        metres (objects stand on cells the map marks as obstacles); ``None`` if none."""
        if self.labels.size == 0 or not self.regions:
            return None
        r, c = self.world_to_cell(np.asarray(xz, dtype=np.float64))
        r, c = int(r), int(c)
        n = int(np.ceil(search / self._step))
        r0, r1 = max(r - n, 0), min(r + n + 1, self.labels.shape[0])
        c0, c1 = max(c - n, 0), min(c + n + 1, self.labels.shape[1])
        if r0 >= r1 or c0 >= c1:
            return None
        window = self.labels[r0:r1, c0:c1]
        rows, cols = np.nonzero(window > 0)
        if len(rows) == 0:
            return None
        d = np.hypot(rows + r0 - r, cols + c0 - c)
        k = int(np.argmin(d))
        if d[k] * self._step > search:
            return None
        return int(window[rows[k], cols[k]])
