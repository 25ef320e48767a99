"""navgym <-> AirSim frames, in one place.

navgym (Habitat's convention): y up, metres; yaw 0 looks along -z; positive yaw turns left;
quaternions ``[x, y, z, w]``; a camera looks along its -z with +y up and +x right.

AirSim: NED, metres: X north, Y east, Z **down**; a vehicle or camera looks along its +X with +Y
to its right and +Z down; yaw is about +Z (down), so positive yaw turns right seen from above;
AirSim's ``Quaternionr`` carries ``w_val, x_val, y_val, z_val``.

One fixed rotation ``M`` (a proper rotation, no mirror) maps navgym vectors to NED::

    (X, Y, Z) = (-z, x, -y)        navgym -> NED
    (x, y, z) = (Y, -Z, -X)        NED -> navgym

| navgym | NED | meaning |
|---|---|---|
| -z (forward at yaw 0) | +X (north) | where an agent at yaw 0 looks |
| +x (right at yaw 0) | +Y (east) | |
| +y (up) | -Z | |
| yaw (left positive) | -yaw (right positive) | |

``M`` also maps navgym's camera axes (x right, y up, -z forward) onto AirSim's (X forward,
Y right, Z down), so one rule converts world points, world-from-body rotations and
world-from-camera rotations alike: ``R_ned = M R_nav M^T``; for quaternions the vector part is
rotated by ``M`` and ``w`` is kept. Each mapping is a permutation with sign changes, so a round
trip is exact in floating point.

AirSim's Python types are not used for arithmetic here: under numpy 2, ``Vector3r * float``,
``Vector3r / float`` and ``Quaternionr / float`` raise ``AttributeError`` (cosysairsim 3.5 looks up
``np.sctypes``, which numpy 2 removed). Everything goes through plain dicts and numpy arrays.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from navgym.core.geometry import camera_rotation, matrix_from_quat_wxyz, quat_wxyz_from_matrix
from navgym.core.specs import AgentState, CameraSpec

#: navgym -> NED rotation: rows are NED's X, Y, Z in navgym coordinates.
NAV_TO_NED = np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
#: NED -> navgym rotation (the transpose).
NED_TO_NAV = NAV_TO_NED.T


# -- points ----------------------------------------------------------------------------------------
def nav_to_ned(points: np.ndarray | Sequence[float]) -> np.ndarray:
    """(..., 3) navgym points or vectors -> NED."""
    p = np.asarray(points, dtype=np.float64)
    return np.stack([-p[..., 2], p[..., 0], -p[..., 1]], axis=-1)


def ned_to_nav(points: np.ndarray | Sequence[float]) -> np.ndarray:
    """(..., 3) NED points or vectors -> navgym (inverse of :func:`nav_to_ned`)."""
    p = np.asarray(points, dtype=np.float64)
    return np.stack([p[..., 1], -p[..., 2], -p[..., 0]], axis=-1)


# -- rotations -------------------------------------------------------------------------------------
def nav_quat_to_ned(q_xyzw: Sequence[float]) -> np.ndarray:
    """navgym quaternion ``[x, y, z, w]`` -> NED quaternion ``(w, x, y, z)``."""
    x, y, z, w = (float(c) for c in q_xyzw)
    vx, vy, vz = nav_to_ned([x, y, z])
    return np.array([w, vx, vy, vz])


def ned_quat_to_nav(q_wxyz: Sequence[float]) -> np.ndarray:
    """NED quaternion ``(w, x, y, z)`` -> navgym ``[x, y, z, w]`` (inverse of :func:`nav_quat_to_ned`)."""
    w, x, y, z = (float(c) for c in q_wxyz)
    vx, vy, vz = ned_to_nav([x, y, z])
    return np.array([vx, vy, vz, w])


def nav_rotation_to_ned(rotation: np.ndarray) -> np.ndarray:
    """World-from-body (or world-from-camera) 3x3 rotation, navgym -> NED."""
    return NAV_TO_NED @ np.asarray(rotation, dtype=np.float64) @ NAV_TO_NED.T


def ned_rotation_to_nav(rotation: np.ndarray) -> np.ndarray:
    """World-from-body 3x3 rotation, NED -> navgym."""
    return NED_TO_NAV @ np.asarray(rotation, dtype=np.float64) @ NED_TO_NAV.T




def ned_yaw(nav_yaw: float) -> float:
    """AirSim yaw (radians, about +Z down, 0 = north) of a navgym yaw."""
    return -float(nav_yaw)


# -- AirSim's message shapes ------------------------------------------------------------------------
def vector_msg(v: Sequence[float]) -> dict[str, float]:
    """``Vector3r`` as it travels over msgpack-rpc."""
    return {"x_val": float(v[0]), "y_val": float(v[1]), "z_val": float(v[2])}


def quat_msg(q_wxyz: Sequence[float]) -> dict[str, float]:
    """``Quaternionr`` as it travels over msgpack-rpc."""
    return {"w_val": float(q_wxyz[0]), "x_val": float(q_wxyz[1]), "y_val": float(q_wxyz[2]), "z_val": float(q_wxyz[3])}


def pose_msg(position_ned: Sequence[float], q_wxyz: Sequence[float]) -> dict[str, dict[str, float]]:
    """``Pose`` as it travels over msgpack-rpc."""
    return {"position": vector_msg(position_ned), "orientation": quat_msg(q_wxyz)}


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where} is {value!r}; expected a number")
    return float(value)


def read_vector(msg: Any, where: str = "Vector3r") -> np.ndarray:
    """(3,) array from a ``Vector3r`` message (a dict with x_val, y_val, z_val) or an object with
    those attributes; ``ValueError`` naming ``where`` for anything else."""
    if not isinstance(msg, Mapping):
        msg = getattr(msg, "__dict__", msg)
    if not isinstance(msg, Mapping) or not {"x_val", "y_val", "z_val"} <= set(msg):
        raise ValueError(f"{where} is {msg!r}; expected a Vector3r {{x_val, y_val, z_val}}")
    return np.array([_number(msg[k], f"{where}.{k}") for k in ("x_val", "y_val", "z_val")])


def read_quat(msg: Any, where: str = "Quaternionr") -> np.ndarray:
    """(w, x, y, z) from a ``Quaternionr`` message or object; ``ValueError`` for anything else."""
    if not isinstance(msg, Mapping):
        msg = getattr(msg, "__dict__", msg)
    if not isinstance(msg, Mapping) or not {"w_val", "x_val", "y_val", "z_val"} <= set(msg):
        raise ValueError(f"{where} is {msg!r}; expected a Quaternionr {{w_val, x_val, y_val, z_val}}")
    return np.array([_number(msg[k], f"{where}.{k}") for k in ("w_val", "x_val", "y_val", "z_val")])


def read_pose(msg: Any, where: str = "Pose") -> tuple[np.ndarray, np.ndarray]:
    """(position NED, quaternion wxyz) from a ``Pose`` message or object."""
    if not isinstance(msg, Mapping):
        msg = getattr(msg, "__dict__", msg)
    if not isinstance(msg, Mapping) or "position" not in msg or "orientation" not in msg:
        raise ValueError(f"{where} is {msg!r}; expected a Pose {{position, orientation}}")
    return read_vector(msg["position"], f"{where}.position"), read_quat(msg["orientation"], f"{where}.orientation")


# -- agents and cameras ----------------------------------------------------------------------------
def vehicle_pose(state: AgentState) -> tuple[np.ndarray, np.ndarray]:
    """NED pose (position, quaternion wxyz) of the vehicle that stands for an agent: at its floor
    point, turned to its heading (navgym's tilt is the camera's, not the vehicle's)."""
    return nav_to_ned(state.position), nav_quat_to_ned(state.rotation)


def state_from_vehicle_pose(position_ned: Sequence[float], q_wxyz: Sequence[float], tilt: float = 0.0) -> AgentState:
    """The navgym state of a vehicle pose (inverse of :func:`vehicle_pose`; ``tilt`` kept)."""
    return AgentState(ned_to_nav(position_ned), ned_quat_to_nav(q_wxyz), float(tilt))


def camera_world_pose(state: AgentState, spec: CameraSpec) -> tuple[np.ndarray, np.ndarray]:
    """NED world pose (position, world-from-camera rotation in AirSim's camera axes) of a navgym
    camera request: ``spec.camera_height`` above the floor point, pitched by ``spec.pitch +
    state.tilt`` (clamped to [-90, 90]) and rolled by ``spec.roll``, as the embedded renderer does."""
    eye = np.asarray(state.position, dtype=np.float64) + np.array([0.0, spec.camera_height, 0.0])
    pitch = float(np.clip(spec.pitch + state.tilt, -90.0, 90.0))
    r_nav = camera_rotation(state.yaw, math.radians(pitch), math.radians(spec.roll))
    return nav_to_ned(eye), nav_rotation_to_ned(r_nav)


def relative_pose(parent_position: Sequence[float], parent_q_wxyz: Sequence[float], child_position: Sequence[float],
                  child_rotation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A child's pose relative to its parent (what ``simSetCameraPose`` takes): position in the
    parent's axes and quaternion (w, x, y, z)."""
    r_parent = matrix_from_quat_wxyz(parent_q_wxyz)
    offset = r_parent.T @ (np.asarray(child_position, dtype=np.float64) - np.asarray(parent_position, dtype=np.float64))
    return offset, quat_wxyz_from_matrix(r_parent.T @ np.asarray(child_rotation, dtype=np.float64))


def compose_pose(parent_position: Sequence[float], parent_q_wxyz: Sequence[float], offset: Sequence[float],
                 offset_q_wxyz: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """A child's world pose (position, 3x3 rotation) from its parent's and its relative pose."""
    r_parent = matrix_from_quat_wxyz(parent_q_wxyz)
    position = np.asarray(parent_position, dtype=np.float64) + r_parent @ np.asarray(offset, dtype=np.float64)
    return position, r_parent @ matrix_from_quat_wxyz(offset_q_wxyz)
