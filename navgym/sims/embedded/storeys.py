"""Geodesics and shortest paths across storeys: per-storey navigation grids joined at the stairs.

Each storey's :class:`~navgym.sims.embedded.navgrid.NavGrid` of a multi-storey building holds the
stair flights that leave it (up and down), so a flight between storeys k and k + 1 lies on both
grids. Every path from one storey to the other crosses the flight's tread at mid-height; that
tread (one connected set of cells per flight) is the *portal* between the two grids, sampled at
up to ``max_portals`` points across its width.

Distances are then exact per storey (fast marching on each grid) and joined at the portal points:

* the distance field of each portal point on each of its two grids is computed once (goal
  independent, kept here);
* for a goal set, each portal point's value is its distance to the nearest goal through any
  sequence of storeys (Dijkstra on the small graph of portal points, with the portal fields as
  edge weights and each grid's goal field as the edges to the goals);
* a start's geodesic distance is the smaller of its own storey's goal field and, over that
  storey's portal points, portal field + portal value.

Crossing a flight only at the sampled points overestimates the true geodesic by a few
centimetres at most (the points are at most ``width / max_portals`` apart across the tread; a
path bends by less than that). Distances are horizontal (along the floor's projection), like the
embedded simulator's motion: a forward step of 0.25 m moves 0.25 m horizontally on stairs too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from cachetools import LRUCache
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

#: Cells of two grids whose floors differ less than this are the same surface, metres.
_SAME_SURFACE = 1e-3


@dataclass(frozen=True)
class Portal:
    """A sampled point of a flight's mid-height tread, on grids ``lower`` and ``lower + 1``."""

    lower: int
    point: np.ndarray


class StoreyLinks:
    """Joins the storey grids of one body (sorted by floor height) at the stairs.

    Args:
        grids: One grid per storey, lowest first, all over the same area and resolution.
        max_portals: Portal points sampled per flight.
    """

    def __init__(self, grids: list, max_portals: int = 6):
        self.grids = list(grids)
        self.heights = [g.floor_height for g in self.grids]
        self.portals: list[Portal] = []
        for k in range(len(self.grids) - 1):
            self.portals += self._find_portals(k, max_portals)
        self._portal_fields: dict[tuple[int, int], np.ndarray] = {}
        self._values: LRUCache = LRUCache(32)  # goal points' bytes -> _portal_values
        self._split: LRUCache = LRUCache(32)  # goal points' bytes -> the goals of each storey

    # -- portals -------------------------------------------------------------------------------
    def _find_portals(self, k: int, max_portals: int) -> list[Portal]:
        a, b = self.grids[k], self.grids[k + 1]
        shared = a.navigable & b.navigable & (np.abs(a.floor_y - b.floor_y) < _SAME_SURFACE)
        if not shared.any():
            return []
        mid = 0.5 * (a.floor_height + b.floor_height)
        labels, count = ndimage.label(shared, structure=np.ones((3, 3)))
        portals = []
        for label in range(1, count + 1):
            cells = np.argwhere(labels == label)
            ys = a.floor_y[cells[:, 0], cells[:, 1]]
            # The tread nearest mid-height (every path between the storeys crosses it).
            level = ys[np.argmin(np.abs(ys - mid))]
            tread = cells[np.abs(ys - level) < 0.01]
            # Its middle line of cells across the flight, sampled evenly.
            centre = tread.mean(axis=0)
            spread = tread.max(axis=0) - tread.min(axis=0)
            across = int(np.argmax(spread))  # the axis the tread is wide along
            along = 1 - across
            line = tread[np.abs(tread[:, along] - np.round(centre[along])) < 0.5]
            if len(line) == 0:
                line = tread
            line = line[np.argsort(line[:, across])]
            picks = np.unique(np.linspace(0, len(line) - 1, min(max_portals, len(line))).round().astype(int))
            for row, col in line[picks]:
                portals.append(Portal(k, a.to_world(int(row), int(col))))
        return portals

    def _grids_of(self, portal: Portal) -> tuple[int, int]:
        return portal.lower, portal.lower + 1

    def portal_field(self, index: int, storey: int) -> np.ndarray:
        """Geodesic distance on ``storey``'s grid from portal point ``index`` (cached)."""
        key = (index, storey)
        if key not in self._portal_fields:
            self._portal_fields[key] = self.grids[storey].distance_field(self.portals[index].point[None], cache=False)
        return self._portal_fields[key]

    # -- queries -------------------------------------------------------------------------------
    def storey_of(self, y: float) -> int:
        """The storey whose floor is nearest height ``y``."""
        return int(np.argmin([abs(h - y) for h in self.heights]))

    def _by_storey(self, goals: np.ndarray) -> dict[int, np.ndarray]:
        """The goals of each storey (the one whose floor is nearest each goal's height)."""
        key = goals.tobytes()
        split = self._split.get(key)
        if split is None:
            storeys = np.argmin(np.abs(goals[:, 1:2] - np.asarray(self.heights)[None]), axis=1)
            split = self._split[key] = {int(k): np.ascontiguousarray(goals[storeys == k]) for k in np.unique(storeys)}
        return split

    def _goal_fields(self, goals: np.ndarray) -> dict[int, np.ndarray]:
        return {k: self.grids[k].distance_field(points) for k, points in self._by_storey(goals).items()}

    def _value_of(self, grid: int, field: np.ndarray, point: np.ndarray) -> float:
        row, col = self.grids[grid].to_cell(point)
        if not self.grids[grid].inside(row, col):
            return float("inf")
        return float(field[row, col])

    def _portal_values(self, goals: np.ndarray):
        """(values, predecessors, goal fields): each portal point's distance to the goals, the
        Dijkstra predecessor of each node (the last node is the goal set) and the goal fields."""
        key = goals.tobytes()
        found = self._values.get(key)
        if found is not None:
            return found
        fields = self._goal_fields(goals)
        n = len(self.portals)
        weights = np.full((n + 1, n + 1), np.inf)
        for i, p in enumerate(self.portals):
            for k in self._grids_of(p):
                if k in fields:
                    weights[i, n] = min(weights[i, n], self._value_of(k, fields[k], p.point))
                for j, q in enumerate(self.portals):
                    if j != i and k in self._grids_of(q):
                        weights[i, j] = min(weights[i, j], self._value_of(k, self.portal_field(i, k), q.point))
        weights = np.minimum(weights, weights.T)
        finite = np.isfinite(weights)
        graph = csr_matrix((weights[finite] + 1e-12, np.nonzero(finite)), shape=(n + 1, n + 1))
        values, predecessors = dijkstra(graph, directed=False, indices=n, return_predecessors=True)
        result = (values[:n], predecessors, fields)
        self._values[key] = result
        return result

    def _grids_holding(self, start: np.ndarray) -> list[int]:
        """The storeys whose grids hold ``start``: the nearest storey's, and on a flight the other
        one too when the same surface is navigable there (the shared treads)."""
        nearest = self.storey_of(float(start[1]))
        out = [nearest]
        for k in (nearest - 1, nearest + 1):
            if 0 <= k < len(self.grids):
                grid = self.grids[k]
                row, col = grid.to_cell(start)
                if grid.inside(row, col) and grid.navigable[row, col] and abs(grid.floor_y[row, col] - start[1]) < 0.05:
                    out.append(k)
        return out

    def _best_start(self, start: np.ndarray, goals: np.ndarray) -> tuple[float, int | None, int]:
        """(distance, first portal or None for a direct path, start storey), the best over the
        grids holding the start: on a flight the route may go on in either storey's grid, so a
        walker past a portal point never has to come back to it."""
        best = (float("inf"), None, self.storey_of(float(start[1])))
        for storey in self._grids_holding(start):
            option = self._best_start_on(start, goals, storey)
            if option[0] < best[0]:
                best = option
        return best

    def _best_start_on(self, start: np.ndarray, goals: np.ndarray, storey: int) -> tuple[float, int | None, int]:
        values, _, fields = self._portal_values(goals)
        grid = self.grids[storey]
        same = self._by_storey(goals).get(storey)
        best = grid.geodesic_distance(start, same) if same is not None else float("inf")
        first = None
        cell = self._start_cell(grid, start)
        if cell is None:
            return best, None, storey
        for i, p in enumerate(self.portals):
            if storey in self._grids_of(p) and np.isfinite(values[i]):
                d = float(self.portal_field(i, storey)[cell]) + float(values[i])
                if d < best:
                    best, first = d, i
        return best, first, storey

    @staticmethod
    def _start_cell(grid, start) -> tuple[int, int] | None:
        row, col = grid.to_cell(start)
        if not grid.inside(row, col):
            return None
        if not grid.navigable[row, col]:
            snapped, _ = grid.nearest_navigable(start)
            row, col = grid.to_cell(snapped)
        return row, col

    def geodesic_distance(self, start, goals) -> float:
        start = np.asarray(start, dtype=np.float64)
        goals = np.atleast_2d(np.asarray(goals, dtype=np.float64))
        return self._best_start(start, goals)[0]

    def shortest_path(self, start, goals) -> np.ndarray:
        """Waypoints through the portal points the geodesic uses; empty if unreachable."""
        start = np.asarray(start, dtype=np.float64)
        goals = np.atleast_2d(np.asarray(goals, dtype=np.float64))
        distance, first, storey = self._best_start(start, goals)
        if not np.isfinite(distance):
            return np.zeros((0, 3))
        if first is None:
            same = self._by_storey(goals)[storey]
            return self.grids[storey].shortest_path(start, same if len(same) > 1 else same[0])
        values, predecessors, fields = self._portal_values(goals)
        n = len(self.portals)
        chain = [first]
        while predecessors[chain[-1]] != n and predecessors[chain[-1]] >= 0 and len(chain) <= n:
            chain.append(int(predecessors[chain[-1]]))
        pieces = [self.grids[storey].shortest_path(start, self.portals[first].point)]
        for i, j in zip(chain, chain[1:]):
            k = self._shared_grid(i, j)
            pieces.append(self.grids[k].shortest_path(self.portals[i].point, self.portals[j].point))
        last = self.portals[chain[-1]]
        k = min((g for g in self._grids_of(last) if g in fields),
                key=lambda g: self._value_of(g, fields[g], last.point))
        same = self._by_storey(goals)[k]
        pieces.append(self.grids[k].shortest_path(last.point, same if len(same) > 1 else same[0]))
        points = [pieces[0]] + [p[1:] for p in pieces[1:] if len(p)]
        return np.concatenate([p for p in points if len(p)])

    def _shared_grid(self, i: int, j: int) -> int:
        shared = set(self._grids_of(self.portals[i])) & set(self._grids_of(self.portals[j]))
        return min(shared, key=lambda k: self._value_of(k, self.portal_field(i, k), self.portals[j].point))


__all__ = ["Portal", "StoreyLinks"]
