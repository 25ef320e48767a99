"""A top-down occupancy map built from depth and pose, with a semantic (goal) layer.

The map is a fixed square grid centred on the episode's start, in the start frame of
:mod:`navgym.agents.mapping.geometry`: rows run along +z (backward), columns along +x (right),
so the start heading (forward, -z) points "up" the picture, as in ``Simulator.topdown_map``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from navgym.agents.mapping.geometry import (
    Pose2D,
    camera_to_start_frame,
    depth_to_camera_points,
    grid_cell_to_world,
    grid_world_to_cell,
    wrap_angle,
    yaw_of_direction,
)
from navgym.core.specs import CameraSpec

#: Cell states of :attr:`OccupancyMap.grid`.
UNKNOWN, FREE, OBSTACLE = 0, 1, 2


@dataclass
class FrameProjection:
    """What one depth frame put on the map (start-frame coordinates).

    Attributes:
        points: (N, 3) points of the frame's depth hits, y = height above the floor.
        goal_points: (M, 3) the subset of points on goal pixels.
    """

    points: np.ndarray
    goal_points: np.ndarray


class OccupancyMap:
    """Unknown / free / obstacle cells plus a goal layer, updated one depth frame at a time.

    Obstacles are depth points between ``obstacle_min_height`` and ``obstacle_max_height`` above
    the floor. Free space is every cell on the floor between the camera and the first obstacle,
    traced along the frame's horizontal bearings (so the floor right in front of the agent, which
    a level camera cannot see, is free too), plus floor points. Obstacles are sticky: a cell once
    seen occupied stays occupied.

    Args:
        size: Side of the square map, metres, centred on the start position.
        cell_size: Side of one cell, metres.
        obstacle_min_height: Points lower than this are floor, metres.
        obstacle_max_height: Points higher than this pass over the agent (its height), metres.
    """

    def __init__(self, size: float = 24.0, cell_size: float = 0.05, obstacle_min_height: float = 0.1, obstacle_max_height: float = 1.5):
        if not 0.005 <= cell_size <= 1.0:
            raise ValueError(f"cell_size={cell_size!r} is out of range; allowed [0.005, 1] metres")
        if not 2 * cell_size <= size <= 500.0:
            raise ValueError(f"size={size!r} is out of range; allowed [2 * cell_size, 500] metres")
        if not 0.0 <= obstacle_min_height < obstacle_max_height:
            raise ValueError(
                f"obstacle_min_height={obstacle_min_height!r}, obstacle_max_height={obstacle_max_height!r}: "
                "need 0 <= obstacle_min_height < obstacle_max_height (metres)"
            )
        self.cell_size = float(cell_size)
        self.cells = int(math.ceil(size / cell_size))
        self.size = self.cells * self.cell_size
        #: World (x, z) of cell (0, 0)'s corner.
        self.origin = (-self.size / 2.0, -self.size / 2.0)
        self.obstacle_min_height = float(obstacle_min_height)
        self.obstacle_max_height = float(obstacle_max_height)
        self.reset()

    def reset(self) -> None:
        """Forget everything: all cells unknown."""
        shape = (self.cells, self.cells)
        self.obstacle = np.zeros(shape, dtype=bool)
        self.free = np.zeros(shape, dtype=bool)
        self.goal = np.zeros(shape, dtype=bool)
        self._rows = [self.cells, -1]
        self._cols = [self.cells, -1]

    # -- cells ---------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return (self.cells, self.cells)

    @property
    def grid(self) -> np.ndarray:
        """(rows, cols) uint8 of :data:`UNKNOWN`, :data:`FREE`, :data:`OBSTACLE`."""
        return self.grid_in((slice(None), slice(None)))

    def grid_in(self, window: tuple[slice, slice]) -> np.ndarray:
        """:attr:`grid` of a window (row slice, column slice) only."""
        grid = np.zeros(self.free[window].shape, dtype=np.uint8)
        grid[self.free[window]] = FREE
        grid[self.obstacle[window]] = OBSTACLE
        return grid

    def world_to_cell(self, xz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(..., 2) world (x, z) -> integer (rows, cols); may lie outside the map."""
        return grid_world_to_cell(xz, self.origin, self.cell_size)

    def cell_to_world(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Integer (rows, cols) -> (..., 2) world (x, z) of the cell centres."""
        return grid_cell_to_world(rows, cols, self.origin, self.cell_size)

    def inside(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Which cells lie on the map."""
        return (rows >= 0) & (cols >= 0) & (rows < self.cells) & (cols < self.cells)

    def cell_of(self, pose: Pose2D) -> tuple[int, int]:
        """The cell under the agent.

        Raises:
            ValueError: when the agent has left the map (make ``size`` larger).
        """
        rows, cols = self.world_to_cell(pose.position)
        if not self.inside(rows, cols):
            raise ValueError(f"The agent at (x={pose.x:.2f}, z={pose.z:.2f}) m left the {self.size:.1f} m map; raise map_size")
        return int(rows), int(cols)

    def observed_bounds(self, margin: int = 0) -> tuple[slice, slice]:
        """Row and column slices around every cell marked so far, grown by ``margin`` cells."""
        if self._rows[1] < 0:
            return slice(0, 0), slice(0, 0)
        r0, r1 = max(0, self._rows[0] - margin), min(self.cells, self._rows[1] + 1 + margin)
        c0, c1 = max(0, self._cols[0] - margin), min(self.cells, self._cols[1] + 1 + margin)
        return slice(r0, r1), slice(c0, c1)

    def _set(self, layer: np.ndarray, xz: np.ndarray) -> None:
        rows, cols = self.world_to_cell(xz)
        keep = self.inside(rows, cols)
        rows, cols = rows[keep], cols[keep]
        if rows.size == 0:
            return
        layer[rows, cols] = True
        self._rows = [min(self._rows[0], int(rows.min())), max(self._rows[1], int(rows.max()))]
        self._cols = [min(self._cols[0], int(cols.min())), max(self._cols[1], int(cols.max()))]

    def mark_free(self, xz: np.ndarray) -> None:
        """Mark the cells under world points (N, 2) free (obstacles stay obstacles)."""
        self._set(self.free, np.asarray(xz, dtype=np.float64).reshape(-1, 2))

    def mark_obstacles(self, xz: np.ndarray) -> None:
        """Mark the cells under world points (N, 2) as obstacles."""
        self._set(self.obstacle, np.asarray(xz, dtype=np.float64).reshape(-1, 2))

    def mark_free_disk(self, center: np.ndarray, radius: float) -> None:
        """Mark every cell whose centre lies within ``radius`` of ``center`` (x, z) free."""
        n = int(math.ceil(radius / self.cell_size)) + 1
        rows, cols = self.world_to_cell(np.asarray(center, dtype=np.float64))
        dr, dc = np.mgrid[-n : n + 1, -n : n + 1]
        centres = self.cell_to_world(rows + dr, cols + dc)
        near = np.hypot(*(centres - np.asarray(center, dtype=np.float64)).transpose(2, 0, 1)) <= radius
        self.mark_free(centres[near])

    # -- depth frames --------------------------------------------------------------------------
    def integrate(
        self,
        depth: np.ndarray,
        pose: Pose2D,
        camera: CameraSpec,
        pitch: float = 0.0,
        goal_mask: np.ndarray | None = None,
    ) -> FrameProjection:
        """Add one depth frame taken at ``pose``.

        Args:
            depth: (H, W, 1) or (H, W) z-depth, metres, clipped to the camera's range.
            pose: The agent's floor pose when the frame was taken.
            camera: Its camera (``hfov``, ``camera_height``, ``min_depth``, ``max_depth`` are used).
            pitch: Camera tilt (degrees, up positive) on top of ``camera.pitch``.
            goal_mask: Optional (H, W) bool mask of goal pixels for the goal layer.
        """
        depth = np.asarray(depth, dtype=np.float64)
        if depth.ndim == 3:
            depth = depth[..., 0]
        points = camera_to_start_frame(depth_to_camera_points(depth, camera.hfov), pose, camera.camera_height, camera.pitch + pitch).reshape(-1, 3)
        d = depth.reshape(-1)
        tolerance = 1e-3 * camera.max_depth
        finite = np.isfinite(d)
        hit = finite & (d > max(camera.min_depth, 1e-6)) & (d < camera.max_depth - tolerance)
        no_return = finite & (d >= camera.max_depth - tolerance)
        height = points[:, 1]
        obstacle = hit & (height >= self.obstacle_min_height) & (height <= self.obstacle_max_height)
        floor = hit & (np.abs(height) < self.obstacle_min_height)
        # Points that bound the free floor along their bearing: anything the agent would not pass under.
        reach = (hit | no_return) & (height > -self.obstacle_min_height) & (height <= self.obstacle_max_height)

        self.mark_free(self._free_rays(points, pose, obstacle, reach, camera, depth.shape[1]))
        self.mark_free(points[floor][:, [0, 2]])
        self.mark_obstacles(points[obstacle][:, [0, 2]])

        goal_points = np.zeros((0, 3))
        if goal_mask is not None:
            goal_mask = np.asarray(goal_mask, dtype=bool)
            if goal_mask.shape != depth.shape:
                raise ValueError(f"goal_mask has shape {goal_mask.shape}; expected the depth image's {depth.shape}")
            goal_points = points[goal_mask.reshape(-1) & hit]
            self._set(self.goal, goal_points[:, [0, 2]])
        return FrameProjection(points=points[hit], goal_points=goal_points)

    def _free_rays(self, points: np.ndarray, pose: Pose2D, obstacle: np.ndarray, reach: np.ndarray, camera: CameraSpec, bins: int) -> np.ndarray:
        """World (x, z) samples of the free floor: per horizontal bearing, from the agent to the
        nearest obstacle (or, with none, to the farthest point seen), stopping one cell short."""
        rel = points[:, [0, 2]] - pose.position
        distance = np.hypot(rel[:, 0], rel[:, 1])
        usable = reach & (distance > 1e-6)
        if not usable.any():
            return np.zeros((0, 2))
        bearing = wrap_angle(yaw_of_direction(rel[:, 0], rel[:, 1]) - pose.yaw)
        low, high = float(bearing[usable].min()), float(bearing[usable].max())
        span = max(high - low, 1e-6)
        index = np.clip(((bearing - low) / span * bins).astype(np.int64), 0, bins - 1)
        nearest_obstacle = np.full(bins, np.inf)
        np.minimum.at(nearest_obstacle, index[obstacle & usable], distance[obstacle & usable])
        farthest = np.zeros(bins)
        np.maximum.at(farthest, index[usable], distance[usable])
        limit = np.where(np.isfinite(nearest_obstacle), nearest_obstacle, farthest)
        # Enough rays that neighbours are at most half a cell apart at the longest range.
        step = 0.5 * self.cell_size
        longest = float(limit.max())
        rays = max(bins, int(math.ceil(span * longest / step)) + 1)
        ray_bearing = low + (np.arange(rays) + 0.5) / rays * span
        ray_limit = limit[np.clip((np.arange(rays) + 0.5) / rays * bins, 0, bins - 1).astype(np.int64)] - self.cell_size
        ranges = np.arange(0.0, max(longest, 0.0) + step, step)
        keep = ranges[None, :] <= ray_limit[:, None]
        yaw = pose.yaw + ray_bearing
        xs = pose.x - np.sin(yaw)[:, None] * ranges[None, :]
        zs = pose.z - np.cos(yaw)[:, None] * ranges[None, :]
        return np.stack([xs[keep], zs[keep]], axis=-1)
