"""Angles and rotations in Habitat's convention: y up, yaw about +y, yaw 0 faces -z,
quaternions stored [x, y, z, w]."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def wrap_angle(angle):
    """Wrap an angle (radians; a float or an array) to [-pi, pi)."""
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


def yaw_to_quaternion(yaw: float) -> np.ndarray:
    """Quaternion [x, y, z, w] of a rotation by ``yaw`` radians about +y."""
    return np.array([0.0, math.sin(yaw / 2.0), 0.0, math.cos(yaw / 2.0)])


def quaternion_to_yaw(q: Sequence[float]) -> float:
    """Yaw (radians, about +y) of quaternion [x, y, z, w]; pitch/roll parts are ignored."""
    x, y, z, w = (float(c) for c in q)
    # Heading of the rotated -z axis projected on the floor.
    fx = -(2.0 * (x * z + w * y))
    fz = -(1.0 - 2.0 * (x * x + y * y))
    return math.atan2(-fx, -fz)


def heading_vector(yaw: float) -> np.ndarray:
    """Unit (x, 0, z) vector the agent faces at ``yaw``; yaw 0 faces -z."""
    return np.array([-math.sin(yaw), 0.0, -math.cos(yaw)])


def yaw_toward(source: Sequence[float], target: Sequence[float]) -> float:
    """Yaw that faces ``target`` from ``source`` (both (x, y, z); y is ignored)."""
    return math.atan2(-(target[0] - source[0]), -(target[2] - source[2]))


def camera_rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """World-from-camera rotation (3x3): yaw about +y, then pitch about the camera's x (positive
    looks up), then roll about its z axis (radians; Habitat's sensor order: positive roll turns the
    camera counter-clockwise as seen from behind it, so the scene appears turned clockwise)."""
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    r_yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    r_pitch = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    r_roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return r_yaw @ r_pitch @ r_roll


def quat_wxyz_from_matrix(rotation: np.ndarray) -> np.ndarray:
    """Unit quaternion (w, x, y, z) with w >= 0 of a 3x3 rotation matrix (scipy's Rotation)."""
    from scipy.spatial.transform import Rotation

    x, y, z, w = Rotation.from_matrix(np.asarray(rotation, dtype=np.float64)).as_quat()
    q = np.array([w, x, y, z])
    return -q if q[0] < 0.0 else q


def matrix_from_quat_wxyz(q: Sequence[float]) -> np.ndarray:
    """3x3 rotation matrix of a quaternion (w, x, y, z), normalised first (scipy's Rotation)."""
    from scipy.spatial.transform import Rotation

    w, x, y, z = np.asarray(q, dtype=np.float64)
    return Rotation.from_quat([x, y, z, w]).as_matrix()
