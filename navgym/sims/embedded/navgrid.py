"""Navigability, geodesic distance and shortest paths on a fine grid built from scene geometry.

For one storey (a floor height) every grid cell is tested with vertical rays:

* *floor*: a ray cast down from ``floor + max_climb`` must meet an up-facing surface within
  ``2 * max_climb`` (so stairs-like bumps up to ``max_climb`` are walkable);
* *clearance*: a ray cast up from the floor + ``max_climb`` must not meet anything below the agent's
  height, and its first hit must not be a back face (a back face seen from below means the ray
  started inside a closed solid such as a wall or a cabinet).

Rays are cast on a grid twice as fine as the navigation grid and pooled (any blocked sub-cell blocks
the cell), then free space is eroded by the agent radius with a Euclidean distance transform.

In a building of several storeys (``storeys`` given) a storey's grid also holds the stairs: every
up-facing surface in each column between the storey below's floor and the storey above's (each
excluding its ``max_climb`` band) is collected by repeated downward rays, kept where the free
height above it is at least the agent's, and a flood from the storey's own floor climbs onto the
surfaces within ``max_climb`` of a neighbour's. A flight between two storeys therefore lies on
both storeys' grids (except its first and last risers' treads), and the agent changes grid where
it is nearer the other storey's floor (:class:`~navgym.sims.embedded.storeys.StoreyLinks` joins
the grids for geodesics).
Geodesic distances come from the fast marching method (``scikit-fmm``), which gives any-angle
distances like Habitat's navmesh rather than 8-connected grid lengths.
"""

from __future__ import annotations

import threading

import numpy as np
from cachetools import LRUCache
from scipy import ndimage

from navgym.sims.base import TopDownMap


#: What grids built in this process found by casting (floor heights, free cells, floor cells), by
#: everything that decides it: a house's grid is cast once per process, however many simulators
#: (envs, a threaded vector env's sub-envs) load the house, or however often one loads it again.
#: Bytes it may hold (least recently used first out; an entry larger than all of it is not kept).
PROBE_CACHE_BYTES = 128 * 2**20


def _probe_bytes(arrays: tuple[np.ndarray, ...]) -> int:
    return sum(a.nbytes for a in arrays)


_PROBES: LRUCache = LRUCache(PROBE_CACHE_BYTES, getsizeof=_probe_bytes)
_PROBES_LOCK = threading.Lock()


def _cached_probe(key: tuple, probe) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``probe()``'s arrays from :data:`_PROBES`, or computed and kept; the caller gets copies."""
    with _PROBES_LOCK:
        found = _PROBES.get(key)
    if found is None:
        found = tuple(np.array(a, copy=True) for a in probe())  # outside the lock: other grids build meanwhile
        with _PROBES_LOCK:
            try:
                _PROBES[key] = found
            except ValueError:  # larger than the whole cache: used, not kept
                pass
    return tuple(a.copy() for a in found)


class NavGrid:
    """The navigable area of one storey for one agent body.

    Args:
        caster: A :class:`~navgym.sims.embedded.raycast.RayCaster` of the scene.
        floor_height: The storey's floor height, metres.
        radius, height, max_climb: The agent's body (see :class:`~navgym.core.specs.BodySpec`).
        cell_size: Grid resolution in metres (default 5 cm).
    """

    def __init__(self, caster, floor_height: float, radius: float, height: float, max_climb: float, cell_size: float = 0.05,
                 storeys: list[float] | None = None):
        self.floor_height = float(floor_height)
        self.cell_size = float(cell_size)
        self.radius = float(radius)
        lo, hi = caster.scene.bounds
        margin = 2 * cell_size
        self.origin = (float(lo[0]) - margin, float(lo[2]) - margin)
        self.cols = int(np.ceil((hi[0] - lo[0] + 2 * margin) / cell_size))
        self.rows = int(np.ceil((hi[2] - lo[2] + 2 * margin) / cell_size))
        layered = storeys is not None and len(storeys) > 1
        key = (getattr(caster, "geometry_key", None), self.origin, self.rows, self.cols, self.floor_height, self.cell_size,
               float(radius), float(height), float(max_climb), tuple(float(s) for s in storeys) if layered else None)
        if layered:
            probe = lambda: self._probe_layered(caster, height, max_climb, storeys)  # noqa: E731
        else:
            probe = lambda: self._probe(caster, radius, height, max_climb)  # noqa: E731
        if key[0] is None:  # a caster that cannot say what it casts against: no sharing
            self.floor_y, self.free, self.floor_ok = probe()
        else:
            self.floor_y, self.free, self.floor_ok = _cached_probe(key, probe)
        self.navigable = self._erode(self.free, radius)
        #: Where the navigable cells came from: "grid" (the geometry) or a navmesh file's path.
        self.source = "grid"
        self._label()

    def _label(self) -> None:
        labels, count = ndimage.label(self.navigable, structure=np.ones((3, 3)))
        self.labels = labels
        if count:
            sizes = np.bincount(labels.ravel())[1:]
            self.largest_label = int(np.argmax(sizes)) + 1
        else:
            self.largest_label = 0
        self._fields: LRUCache = LRUCache(32)
        #: Goal points (their bytes) -> their cells: tasks pass the same points every step.
        self._cells: LRUCache = LRUCache(32)

    def set_navigable(self, navigable: np.ndarray, floor_y: np.ndarray | None = None, source: str = "navmesh") -> None:
        """Replace the navigable cells (e.g. by those a dataset's navmesh covers, see
        :mod:`navgym.sims.embedded.navmesh`); regions and cached distance fields are recomputed.
        ``floor_y``: the navmesh's surface heights, used only for navigable cells the geometry
        found no floor under (NaN: none)."""
        navigable = np.asarray(navigable, dtype=bool)
        if navigable.shape != (self.rows, self.cols):
            raise ValueError(f"navigable has shape {navigable.shape}; the grid is {(self.rows, self.cols)}")
        self.navigable = navigable.copy()
        if floor_y is not None:
            fill = navigable & ~self.floor_ok & np.isfinite(floor_y)
            self.floor_y = np.where(fill, floor_y, self.floor_y)
        self.source = source
        self._label()

    # -- construction --------------------------------------------------------------------------
    def _probe(self, caster, radius: float, height: float, max_climb: float):
        sub = 2
        fine = self.cell_size / sub
        xs = self.origin[0] + (np.arange(self.cols * sub) + 0.5) * fine
        zs = self.origin[1] + (np.arange(self.rows * sub) + 0.5) * fine
        gx, gz = np.meshgrid(xs, zs)
        n = gx.size
        start_y = self.floor_height + max_climb
        origins = np.stack([gx.ravel(), np.full(n, start_y), gz.ravel()], axis=1)

        down = np.tile([0.0, -1.0, 0.0], (n, 1))
        t, prim, _, _ = caster.cast(origins, down, max_distance=2 * max_climb + 1e-3)
        hit = prim >= 0
        normal_y = np.where(hit, caster.face_normals[np.where(hit, prim, 0), 1], 0.0)
        floor_ok = hit & (normal_y > 0.5)
        floor_y = np.where(floor_ok, start_y - t, np.nan)

        up = np.tile([0.0, 1.0, 0.0], (n, 1))
        t_up, prim_up, _, _ = caster.cast(origins, up)
        hit_up = prim_up >= 0
        up_normal_y = np.where(hit_up, caster.face_normals[np.where(hit_up, prim_up, 0), 1], -1.0)
        blocked = hit_up & ((t_up < height - max_climb) | (up_normal_y > 0.0))
        blocked |= self._inside_solid(caster, origins, 0.5 * (max_climb + height))

        free_fine = (floor_ok & ~blocked).reshape(self.rows, sub, self.cols, sub)
        floor_fine = floor_ok.reshape(self.rows, sub, self.cols, sub)
        free = free_fine.all(axis=(1, 3))
        floor_cells = floor_fine.any(axis=(1, 3))
        heights = floor_y.reshape(self.rows, sub, self.cols, sub)
        # np.nanmean's own arithmetic (NaN as 0, divided by the count), without its warning for an
        # all-NaN cell: warnings.catch_warnings is not thread-safe, and envs may build grids on threads.
        seen = ~np.isnan(heights)
        with np.errstate(all="ignore"):
            total = np.where(seen, heights, 0.0).sum(axis=(1, 3))
            floor_height = np.true_divide(total, seen.sum(axis=(1, 3), dtype=np.intp), out=total, casting="unsafe")
        floor_height = np.where(np.isnan(floor_height), self.floor_height, floor_height)
        return floor_height, free, floor_cells

    def _fine_columns(self) -> tuple[np.ndarray, np.ndarray]:
        fine = self.cell_size / 2
        xs = self.origin[0] + (np.arange(self.cols * 2) + 0.5) * fine
        zs = self.origin[1] + (np.arange(self.rows * 2) + 0.5) * fine
        gx, gz = np.meshgrid(xs, zs)
        return gx.ravel(), gz.ravel()

    def _probe_layered(self, caster, height: float, max_climb: float, storeys: list[float], max_layers: int = 16):
        """Floor and free cells of a storey of a multi-storey building (see the module docs)."""
        gx, gz = self._fine_columns()
        n = gx.size
        h = self.floor_height
        below = [s for s in storeys if s < h - 1e-6]
        above = [s for s in storeys if s > h + 1e-6]
        low = max(below) + max_climb if below else h - max_climb
        high = min(above) - max_climb if above else h + max_climb
        start = high + 1e-3
        # What is above the start: the headroom of the first surface below it.
        origins = np.stack([gx, np.full(n, start), gz], axis=1)
        t_up, prim_up, _, _ = caster.cast(origins, np.tile([0.0, 1.0, 0.0], (n, 1)))
        up_ny = np.where(prim_up >= 0, caster.face_normals[np.where(prim_up >= 0, prim_up, 0), 1], -1.0)
        ceiling = np.where(prim_up < 0, np.inf, np.where(up_ny > 0.0, start, start + t_up))  # inside a solid: no room
        layers_y, layers_ok = [], []
        current = np.full(n, start)
        active = np.arange(n)
        down = np.array([0.0, -1.0, 0.0])
        for _ in range(max_layers):
            if len(active) == 0:
                break
            reach = current[active] - low + 1e-3
            org = np.stack([gx[active], current[active], gz[active]], axis=1)
            t, prim, _, _ = caster.cast(org, np.tile(down, (len(active), 1)), max_distance=np.maximum(reach, 1e-4))
            hit = prim >= 0
            y = np.full(n, np.nan)
            ok = np.zeros(n, dtype=bool)
            hit_idx = active[hit]
            y_hit = current[hit_idx] - t[hit]
            ny = caster.face_normals[prim[hit], 1]
            y[hit_idx] = y_hit
            # A walkable surface: faces up, in the band, with the agent's height free above it.
            ok[hit_idx] = (ny > 0.5) & (y_hit >= low - 1e-6) & (y_hit <= high + 1e-6) & (ceiling[hit_idx] - y_hit >= height)
            layers_y.append(y)
            layers_ok.append(ok)
            ceiling[hit_idx] = y_hit  # whatever was hit is the ceiling of what lies below it
            current[hit_idx] = y_hit - 1e-4
            active = hit_idx
        cand = np.full((max(1, len(layers_y)), n), np.nan)
        for j, (y, ok) in enumerate(zip(layers_y, layers_ok)):
            cand[j, ok] = y[ok]
        chosen = self._flood(cand, h, max_climb)
        floor_ok = ~np.isnan(chosen)
        origins = np.stack([gx, np.where(floor_ok, chosen, h), gz], axis=1)
        free = floor_ok & ~self._inside_solid(caster, origins, 0.5 * (max_climb + height))
        rows, cols = self.rows, self.cols
        free_cells = free.reshape(rows, 2, cols, 2).all(axis=(1, 3))
        floor_cells = floor_ok.reshape(rows, 2, cols, 2).any(axis=(1, 3))
        # A cell across a riser stands on its higher tread. np.fmax.reduce is np.nanmax without the
        # warning for an all-NaN cell (warnings.catch_warnings is not thread-safe).
        floor_y = np.fmax.reduce(chosen.reshape(rows, 2, cols, 2), axis=(1, 3))
        floor_y = np.where(np.isnan(floor_y), h, floor_y)
        return floor_y, free_cells, floor_cells

    def _flood(self, cand: np.ndarray, h: float, max_climb: float) -> np.ndarray:
        """Per fine column, the surface reached from the storey's floor (within ``max_climb`` of
        ``h``) by steps of at most ``max_climb`` between 8-neighbours; NaN where none is."""
        width = self.cols * 2
        n = cand.shape[1]
        gap = np.abs(cand - h)
        gap[np.isnan(gap)] = np.inf
        best = np.argmin(gap, axis=0)
        chosen = np.full(n, np.nan)
        start = gap[best, np.arange(n)] <= max_climb
        chosen[start] = cand[best[start], np.flatnonzero(start)]
        frontier = np.flatnonzero(start)
        height_rows = n // width
        offsets = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
        while len(frontier):
            r, c = np.divmod(frontier, width)
            new_cells, new_y = [], []
            for dr, dc in offsets:
                nr, nc = r + dr, c + dc
                inside = (nr >= 0) & (nc >= 0) & (nr < height_rows) & (nc < width)
                nb = nr[inside] * width + nc[inside]
                parent = chosen[frontier[inside]]
                open_ = np.isnan(chosen[nb])
                nb, parent = nb[open_], parent[open_]
                if len(nb) == 0:
                    continue
                step = np.abs(cand[:, nb] - parent)
                step[np.isnan(step)] = np.inf
                j = np.argmin(step, axis=0)
                reach = step[j, np.arange(len(nb))] <= max_climb
                new_cells.append(nb[reach])
                new_y.append(cand[j[reach], nb[reach]])
            if not new_cells:
                break
            cells = np.concatenate(new_cells)
            ys = np.concatenate(new_y)
            cells, first = np.unique(cells, return_index=True)
            chosen[cells] = ys[first]
            frontier = cells
        return chosen

    @staticmethod
    def _inside_solid(caster, origins: np.ndarray, lift: float, reach: float = 1.0) -> np.ndarray:
        """Whether each point, raised by ``lift``, lies inside a closed solid: a short horizontal
        ray in any of four directions first meets a back face. Vertical rays alone cannot tell,
        where a wall's top coincides with the ceiling (or its bottom with the floor)."""
        n = len(origins)
        raised = origins + np.array([0.0, lift, 0.0])
        inside = np.zeros(n, dtype=bool)
        for direction in ((1.0, 0.0, 0.0), (-1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.0, 0.0, -1.0)):
            dirs = np.tile(direction, (n, 1))
            _, prim, _, _ = caster.cast(raised, dirs, max_distance=reach)
            hit = prim >= 0
            facing = np.einsum("ij,j->i", caster.face_normals[np.where(hit, prim, 0)], np.asarray(direction, dtype=np.float32))
            inside |= hit & (facing > 0.0)
        return inside

    def _erode(self, free: np.ndarray, radius: float) -> np.ndarray:
        clearance = ndimage.distance_transform_edt(free) * self.cell_size
        # A cell's centre is half a cell from the nearest blocked cell's edge.
        return clearance - 0.5 * self.cell_size >= radius

    # -- coordinates ---------------------------------------------------------------------------
    def to_cell(self, point) -> tuple[int, int]:
        col = int(np.floor((point[0] - self.origin[0]) / self.cell_size))
        row = int(np.floor((point[2] - self.origin[1]) / self.cell_size))
        return row, col

    def to_world(self, row: int, col: int) -> np.ndarray:
        x = self.origin[0] + (col + 0.5) * self.cell_size
        z = self.origin[1] + (row + 0.5) * self.cell_size
        return np.array([x, float(self.floor_y[row, col]), z])

    def inside(self, row: int, col: int) -> bool:
        return 0 <= row < self.rows and 0 <= col < self.cols

    def is_navigable(self, point) -> bool:
        row, col = self.to_cell(point)
        return self.inside(row, col) and bool(self.navigable[row, col])

    def floor_at(self, point) -> float:
        row, col = self.to_cell(point)
        if not self.inside(row, col):
            return self.floor_height
        return float(self.floor_y[row, col])

    def nearest_navigable(self, point, same_region: int | None = None) -> tuple[np.ndarray, float]:
        """The nearest navigable cell centre to ``point`` and its horizontal distance."""
        mask = self.navigable if same_region is None else self.labels == same_region
        cells = np.argwhere(mask)
        if len(cells) == 0:
            raise ValueError(f"No navigable area on the storey at y={self.floor_height:.2f} m")
        xz = np.stack(
            [self.origin[0] + (cells[:, 1] + 0.5) * self.cell_size, self.origin[1] + (cells[:, 0] + 0.5) * self.cell_size],
            axis=1,
        )
        d = np.hypot(xz[:, 0] - point[0], xz[:, 1] - point[2])
        best = int(np.argmin(d))
        row, col = cells[best]
        return self.to_world(int(row), int(col)), float(d[best])

    # -- geodesics -----------------------------------------------------------------------------
    def distance_field(self, goals: np.ndarray, cache: bool = True) -> np.ndarray:
        """Geodesic distance (metres) from every cell to the nearest goal; inf where unreachable.

        Goals off the navigable area are first snapped to their nearest navigable cell. Fields are
        cached (LRU of 32) by goal cells, since tasks ask for the same goals every step
        (``cache=False``: neither read nor kept, for fields the caller keeps itself).
        """
        import skfmm

        goals = np.atleast_2d(np.asarray(goals, dtype=np.float64))
        cells = self._goal_cells(goals)
        key = cells.tobytes()
        if cache and key in self._fields:
            return self._fields[key]  # (reading it makes it the most recently used)
        rows, cols = np.divmod(cells, self.cols)
        phi = np.ones((self.rows, self.cols))
        phi[rows, cols] = -1.0
        masked = np.ma.MaskedArray(phi, mask=~self.navigable)
        try:
            dist = skfmm.distance(masked, dx=self.cell_size)
            field = np.ma.filled(dist, np.inf).astype(np.float64)
            # The zero level set lies on the goal cell's edge: add back half a cell.
            field = np.where(np.isfinite(field), np.abs(field) + 0.5 * self.cell_size, np.inf)
        except ValueError:  # no zero contour: isolated goal cell
            field = np.full((self.rows, self.cols), np.inf)
        field[rows, cols] = 0.0
        field[~self.navigable] = np.inf
        # Only cells connected to a goal are reachable.
        field[~np.isin(self.labels, np.unique(self.labels[rows, cols]))] = np.inf
        if not cache:
            return field
        self._fields[key] = field
        return field

    def _goal_cells(self, goals: np.ndarray) -> np.ndarray:
        """Sorted unique flat indices of the goals' cells; goals off the navigable area are
        snapped to their nearest navigable cell first (cached by the points, LRU of 32)."""
        key = goals.tobytes()
        cells = self._cells.get(key)
        if cells is None:
            cells = self._goal_cells_uncached(goals)
            self._cells[key] = cells
        return cells

    def _goal_cells_uncached(self, goals: np.ndarray) -> np.ndarray:
        cols = np.floor((goals[:, 0] - self.origin[0]) / self.cell_size).astype(np.int64)
        rows = np.floor((goals[:, 2] - self.origin[1]) / self.cell_size).astype(np.int64)
        inside = (rows >= 0) & (cols >= 0) & (rows < self.rows) & (cols < self.cols)
        ok = np.zeros(len(goals), dtype=bool)
        ok[inside] = self.navigable[rows[inside], cols[inside]]
        for index in np.flatnonzero(~ok):
            snapped, _ = self.nearest_navigable(goals[index])
            rows[index], cols[index] = self.to_cell(snapped)
        return np.unique(rows * self.cols + cols)

    def geodesic_distance(self, start, goals) -> float:
        field = self.distance_field(goals)
        row, col = self.to_cell(start)
        if not self.inside(row, col):
            return float("inf")
        if not self.navigable[row, col]:
            snapped, _ = self.nearest_navigable(start)
            row, col = self.to_cell(snapped)
        value = float(field[row, col])
        if not np.isfinite(value):
            return float("inf")
        # Sub-cell correction: never below the straight-line distance to the nearest goal.
        euclid = float(np.min(np.hypot(np.atleast_2d(goals)[:, 0] - start[0], np.atleast_2d(goals)[:, 2] - start[2])))
        return max(value, euclid)

    def shortest_path(self, start, goal) -> np.ndarray:
        """Waypoints from ``start`` to ``goal`` (a point, or (N, 3) points: the nearest): steepest descent on the distance field, then
        shortened by line-of-sight so the path bends only at corners."""
        goals = np.atleast_2d(np.asarray(goal, dtype=np.float64))
        field = self.distance_field(goals)
        row, col = self.to_cell(start)
        if not (self.inside(row, col) and self.navigable[row, col]):
            snapped, _ = self.nearest_navigable(start)
            row, col = self.to_cell(snapped)
        if not np.isfinite(field[row, col]):
            return np.zeros((0, 3))
        offsets = np.array([(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)])
        steps = np.hypot(offsets[:, 0], offsets[:, 1]) * self.cell_size
        padded = np.pad(field, 1, constant_values=np.inf)
        cells = [(row, col)]
        for _ in range(self.rows * self.cols):
            if field[row, col] == 0.0:
                break
            neighbour = padded[row + 1 + offsets[:, 0], col + 1 + offsets[:, 1]]
            # Steepest descent per metre moved, so diagonals are not favoured.
            slope = (neighbour - field[row, col]) / steps
            best = int(np.argmin(slope))
            if not neighbour[best] < field[row, col]:
                break
            row, col = row + offsets[best, 0], col + offsets[best, 1]
            cells.append((row, col))
        points = [np.asarray(start, dtype=np.float64)] + [self.to_world(r, c) for r, c in cells[1:]]
        if len(goals) == 1 and self.is_navigable(goals[0]):
            points[-1] = goals[0]
        return self._shorten(np.array(points))

    def line_of_sight(self, a, b) -> bool:
        """Whether the straight segment a→b stays on navigable cells."""
        length = float(np.hypot(b[0] - a[0], b[2] - a[2]))
        n = max(2, int(np.ceil(length / (0.5 * self.cell_size))) + 1)
        ts = np.linspace(0.0, 1.0, n)
        xs = a[0] + ts * (b[0] - a[0])
        zs = a[2] + ts * (b[2] - a[2])
        cols = np.floor((xs - self.origin[0]) / self.cell_size).astype(int)
        rows = np.floor((zs - self.origin[1]) / self.cell_size).astype(int)
        if rows.min() < 0 or cols.min() < 0 or rows.max() >= self.rows or cols.max() >= self.cols:
            return False
        return bool(self.navigable[rows, cols].all())

    def _shorten(self, points: np.ndarray) -> np.ndarray:
        if len(points) <= 2:
            return points
        kept = [points[0]]
        i = 0
        while i < len(points) - 1:
            # Walk forward while the next point is still in sight of points[i] (a greedy funnel).
            j = i + 1
            while j + 1 < len(points) and self.line_of_sight(points[i], points[j + 1]):
                j += 1
            kept.append(points[j])
            i = j
        return np.array(kept)

    def cells_near_box(self, bbox_min, bbox_max, distance: float) -> np.ndarray:
        """Centres (N, 3) of navigable cells within ``distance`` of the box footprint."""
        xs = self.origin[0] + (np.arange(self.cols) + 0.5) * self.cell_size
        zs = self.origin[1] + (np.arange(self.rows) + 0.5) * self.cell_size
        dx = np.maximum(np.maximum(bbox_min[0] - xs, xs - bbox_max[0]), 0.0)
        dz = np.maximum(np.maximum(bbox_min[2] - zs, zs - bbox_max[2]), 0.0)
        near = (dz[:, None] ** 2 + dx[None, :] ** 2 <= distance**2) & self.navigable
        rows, cols = np.nonzero(near)
        return np.stack([xs[cols], self.floor_y[rows, cols], zs[rows]], axis=1)

    # -- maps ----------------------------------------------------------------------------------
    def topdown_map(self) -> TopDownMap:
        grid = np.zeros((self.rows, self.cols), dtype=np.uint8)
        grid[self.floor_ok] = 1
        grid[self.navigable] = 2
        return TopDownMap(grid=grid, origin=self.origin, cell_size=self.cell_size)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        cells = np.flatnonzero(self.labels.ravel() == self.largest_label)
        if len(cells) == 0:
            raise ValueError(f"No navigable area on the storey at y={self.floor_height:.2f} m")
        index = int(cells[rng.integers(len(cells))])
        row, col = divmod(index, self.cols)
        jitter = (rng.random(2) - 0.5) * self.cell_size
        point = self.to_world(row, col)
        point[0] += jitter[0]
        point[2] += jitter[1]
        return point
