"""Camera and pose geometry: depth image -> camera-frame points -> the episode's start frame.

Frames (Habitat's conventions):

* **camera frame**: x right, y up, the camera looks along -z. Pixel (row i, col j) has the ray
  ``((j + 0.5 - W/2) / f, -(i + 0.5 - H/2) / f, -1)`` with ``f = (W/2) / tan(hfov/2)``, so a
  z-depth ``d`` puts the point at ``d`` times that ray.
* **start frame** (the map's world frame): the agent's pose at the episode start, with Habitat's
  axes: x = right, y = up (0 on the agent's floor), z = backward, so "forward" is -z. GPS
  ``(forward, right)`` is ``(-z, x)``; compass is the yaw about +y, positive = turned left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from navgym.core.geometry import wrap_angle


@dataclass(frozen=True)
class Pose2D:
    """The agent's floor pose in the start frame.

    Attributes:
        x: Metres to the right of the start position.
        z: Metres behind the start position (forward is -z).
        yaw: Radians about +y, positive = turned left; 0 faces -z (the start heading).
    """

    x: float
    z: float
    yaw: float

    @classmethod
    def from_gps_compass(cls, gps: Sequence[float] | np.ndarray, compass: Sequence[float] | np.ndarray | float) -> "Pose2D":
        """The pose from Habitat's ``gps`` (forward, right) and ``compass`` (yaw, left positive)."""
        gps = np.asarray(gps, dtype=np.float64).reshape(-1)
        if gps.shape != (2,):
            raise ValueError(f"gps has shape {gps.shape}; expected (2,) = (forward, right)")
        yaw = float(np.asarray(compass, dtype=np.float64).reshape(-1)[0])
        return cls(x=float(gps[1]), z=-float(gps[0]), yaw=yaw)

    @property
    def position(self) -> np.ndarray:
        """(x, z) of the agent."""
        return np.array([self.x, self.z])

    @property
    def heading(self) -> np.ndarray:
        """Unit (x, z) vector the agent faces."""
        return np.array([-math.sin(self.yaw), -math.cos(self.yaw)])


def yaw_of_direction(dx: float | np.ndarray, dz: float | np.ndarray) -> float | np.ndarray:
    """The yaw (left positive, 0 = -z) that faces the floor direction (dx, dz)."""
    return np.arctan2(-np.asarray(dx), -np.asarray(dz))


def bearing_to(pose: Pose2D, point: Sequence[float] | np.ndarray) -> float:
    """Angle from the agent's heading to the floor ``point`` (x, z), radians, positive = to the left."""
    dx, dz = float(point[0]) - pose.x, float(point[1]) - pose.z
    return float(wrap_angle(yaw_of_direction(dx, dz) - pose.yaw))


def depth_to_camera_points(depth: np.ndarray, hfov: float) -> np.ndarray:
    """Camera-frame points (H, W, 3) of a z-depth image.

    Args:
        depth: (H, W) or (H, W, 1) z-depth in metres (distance along the optical axis).
        hfov: Horizontal field of view, degrees (square pixels, principal point at the centre).
    """
    depth = np.asarray(depth, dtype=np.float64)
    if depth.ndim == 3 and depth.shape[-1] == 1:
        depth = depth[..., 0]
    if depth.ndim != 2:
        raise ValueError(f"depth has shape {depth.shape}; expected (H, W) or (H, W, 1)")
    if not 0.0 < hfov < 180.0:
        raise ValueError(f"hfov={hfov!r} is out of range; allowed (0, 180) degrees")
    height, width = depth.shape
    focal = (width / 2.0) / math.tan(math.radians(hfov) / 2.0)
    xs = (np.arange(width) + 0.5 - width / 2.0) / focal
    ys = -(np.arange(height) + 0.5 - height / 2.0) / focal
    points = np.empty((height, width, 3))
    points[..., 0] = depth * xs[None, :]
    points[..., 1] = depth * ys[:, None]
    points[..., 2] = -depth
    return points


def camera_to_start_frame(points: np.ndarray, pose: Pose2D, camera_height: float, pitch: float = 0.0) -> np.ndarray:
    """Camera-frame points (..., 3) -> start-frame points (..., 3) with y = height above the floor.

    Args:
        points: Camera-frame points.
        pose: The agent's floor pose.
        camera_height: Height of the optical centre above the agent's floor, metres.
        pitch: Camera tilt, degrees, positive looks up.
    """
    points = np.asarray(points, dtype=np.float64)
    cp, sp = math.cos(math.radians(pitch)), math.sin(math.radians(pitch))
    cy, sy = math.cos(pose.yaw), math.sin(pose.yaw)
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    # Pitch about the camera's x axis, then yaw about +y.
    y1 = cp * y - sp * z
    z1 = sp * y + cp * z
    out = np.empty_like(points)
    out[..., 0] = cy * x + sy * z1 + pose.x
    out[..., 1] = y1 + camera_height
    out[..., 2] = -sy * x + cy * z1 + pose.z
    return out


def grid_world_to_cell(xz: np.ndarray, origin: Sequence[float], cell_size: float) -> tuple[np.ndarray, np.ndarray]:
    """(..., 2) (x, z) -> integer (rows, cols) of a grid whose cell (0, 0) has its corner at
    ``origin``; may lie outside the grid."""
    xz = np.asarray(xz, dtype=np.float64)
    cols = np.floor((xz[..., 0] - origin[0]) / cell_size).astype(np.int64)
    rows = np.floor((xz[..., 1] - origin[1]) / cell_size).astype(np.int64)
    return rows, cols


def grid_cell_to_world(rows: np.ndarray, cols: np.ndarray, origin: Sequence[float], cell_size: float) -> np.ndarray:
    """Integer (rows, cols) -> (..., 2) (x, z) of the cell centres (the inverse of
    :func:`grid_world_to_cell`)."""
    x = origin[0] + (np.asarray(cols) + 0.5) * cell_size
    z = origin[1] + (np.asarray(rows) + 0.5) * cell_size
    return np.stack([x, z], axis=-1)
