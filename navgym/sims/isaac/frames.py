"""Frames and camera models between navgym and Isaac Sim / Isaac Lab (pure numpy, no Isaac import).

navgym uses Habitat's conventions: y up, metres, yaw about +y, yaw 0 looks along -z, positive yaw
turns left, quaternions ``[x, y, z, w]``. Isaac Sim stages used by Isaac Lab are z-up, and Isaac
Lab's robots look along their base frame's +x (x forward, y left, z up). This backend maps a
navgym point to the stage by a rotation of +90 degrees about x, then the offset of the scene's
USD layer on the shared stage (0 for the first layer, 500 m apart along X for others)::

    (X, Y, Z) = (x, -z, y) + origin            navgym -> Isaac
    (x, y, z) = (X', Z', -Y'),  (X', Y', Z') = (X, Y, Z) - origin

It is a proper rotation (no mirror), so triangle winding, handedness and "positive yaw = left"
survive. navgym's forward at yaw 0, -z, lands on Isaac's +Y; a robot at Isaac yaw 0 faces +X, so a
robot's Isaac yaw is the navgym yaw plus pi/2. Body-frame velocities need no conversion: navgym's
(forward, left, yaw rate to the left) is Isaac Lab's base frame (x, y, wz).

Isaac Lab 2.x (with Isaac Sim 4.5 / 5.x) orders quaternions ``(w, x, y, z)``; Isaac Lab 3.0 orders
them ``(x, y, z, w)``. Every quaternion handed to Isaac goes through :func:`to_isaac_quat` with the
order the runtime detected, and every quaternion read back through :func:`from_isaac_quat`.
"""

from __future__ import annotations

import math
from typing import Literal, Sequence

import numpy as np

from navgym.core.geometry import camera_rotation, matrix_from_quat_wxyz, quat_wxyz_from_matrix, wrap_angle
from navgym.core.specs import AgentState, CameraSpec

QuatOrder = Literal["wxyz", "xyzw"]

#: navgym -> Isaac rotation (+90 degrees about x): y up becomes z up.
NAV_TO_ISAAC = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
#: Isaac -> navgym rotation (the transpose).
ISAAC_TO_NAV = NAV_TO_ISAAC.T

#: Focal length (USD ``focalLength``) the backend gives every camera; only the ratio to the
#: aperture matters for a pinhole, and this is Isaac Lab's ``PinholeCameraCfg`` default.
DEFAULT_FOCAL_LENGTH = 24.0


# -- points --------------------------------------------------------------------------------------
def to_isaac_points(points: np.ndarray | Sequence[float], origin: Sequence[float] = (0.0, 0.0, 0.0)) -> np.ndarray:
    """(..., 3) navgym points -> Isaac stage points (z up), offset by ``origin`` (an Isaac point)."""
    p = np.asarray(points, dtype=np.float64)
    return p @ NAV_TO_ISAAC.T + np.asarray(origin, dtype=np.float64)


def from_isaac_points(points: np.ndarray | Sequence[float], origin: Sequence[float] = (0.0, 0.0, 0.0)) -> np.ndarray:
    """(..., 3) Isaac stage points -> navgym points (inverse of :func:`to_isaac_points`)."""
    p = np.asarray(points, dtype=np.float64) - np.asarray(origin, dtype=np.float64)
    return p @ ISAAC_TO_NAV.T


def isaac_yaw(nav_yaw: float) -> float:
    """Isaac heading (about +Z, 0 = facing +X) of a navgym yaw."""
    return float(wrap_angle(nav_yaw + math.pi / 2.0))


def nav_yaw(isaac_heading: float) -> float:
    """navgym yaw of an Isaac heading (inverse of :func:`isaac_yaw`)."""
    return float(wrap_angle(isaac_heading - math.pi / 2.0))


# -- quaternions ---------------------------------------------------------------------------------


def to_isaac_quat(q_wxyz: np.ndarray, order: QuatOrder) -> np.ndarray:
    """A (w, x, y, z) quaternion in the order the running Isaac Lab expects."""
    q = np.asarray(q_wxyz, dtype=np.float64)
    if order == "wxyz":
        return q.copy()
    if order == "xyzw":
        return q[..., [1, 2, 3, 0]]
    raise ValueError(f"quaternion order must be 'wxyz' or 'xyzw', got {order!r}")


def from_isaac_quat(q: np.ndarray, order: QuatOrder) -> np.ndarray:
    """(w, x, y, z) from a quaternion in Isaac Lab's order (inverse of :func:`to_isaac_quat`)."""
    q = np.asarray(q, dtype=np.float64)
    if order == "wxyz":
        return q.copy()
    if order == "xyzw":
        return q[..., [3, 0, 1, 2]]
    raise ValueError(f"quaternion order must be 'wxyz' or 'xyzw', got {order!r}")


def heading_of_quat_wxyz(q: Sequence[float]) -> float:
    """Heading about +Z of a z-up body orientation (w, x, y, z): the angle of its rotated +X axis
    projected on the ground (pitch and roll are ignored, as a tilted robot still faces somewhere)."""
    m = matrix_from_quat_wxyz(q)
    return math.atan2(m[1, 0], m[0, 0])


# -- robot root poses ----------------------------------------------------------------------------
def robot_root_pose(state: AgentState, root_height: float, origin: Sequence[float], order: QuatOrder) -> tuple[np.ndarray, np.ndarray]:
    """The Isaac root pose (position, quaternion in ``order``) of a robot standing at a navgym state.

    The root is ``root_height`` metres above the floor point (Isaac Lab's standing height of the
    robot's base, e.g. ``H1_CFG.init_state.pos[2]``) and turned to face the state's heading.
    """
    position = to_isaac_points(state.position, origin) + np.array([0.0, 0.0, root_height])
    half = 0.5 * isaac_yaw(state.yaw)
    q = np.array([math.cos(half), 0.0, 0.0, math.sin(half)])
    return position, to_isaac_quat(q, order)


def state_from_robot_root(position: Sequence[float], quat: Sequence[float], origin: Sequence[float], order: QuatOrder, floor_y: float | None = None, tilt: float = 0.0) -> AgentState:
    """The navgym state of a robot whose Isaac root is at ``position`` / ``quat``.

    The navgym position is on the floor: ``floor_y`` when given (the backend passes the
    navigation grid's floor height there), otherwise the root's own height is kept.
    """
    point = from_isaac_points(position, origin)
    if floor_y is not None:
        point[1] = floor_y
    yaw = nav_yaw(heading_of_quat_wxyz(from_isaac_quat(np.asarray(quat), order)))
    return AgentState.from_yaw(point, yaw, tilt)


# -- cameras -------------------------------------------------------------------------------------
def camera_world_rotation(state: AgentState, spec: CameraSpec) -> np.ndarray:
    """World-from-camera rotation in the Isaac frame, camera axes in the OpenGL / USD convention
    (looks along -z, +y up, +x right): navgym's own camera rotation, rotated into z-up."""
    pitch = float(np.clip(spec.pitch + state.tilt, -90.0, 90.0))
    r_nav = camera_rotation(state.yaw, math.radians(pitch), math.radians(spec.roll))
    return NAV_TO_ISAAC @ r_nav


def camera_pose(state: AgentState, spec: CameraSpec, origin: Sequence[float], order: QuatOrder) -> tuple[np.ndarray, np.ndarray]:
    """Isaac world pose of a camera request, for ``Camera.set_world_poses(..., convention="opengl")``:
    the optical centre ``spec.camera_height`` above the agent's floor point, and the orientation
    (quaternion in ``order``) from :func:`camera_world_rotation`."""
    eye = np.asarray(state.position, dtype=np.float64) + np.array([0.0, spec.camera_height, 0.0])
    position = to_isaac_points(eye, origin)
    return position, to_isaac_quat(quat_wxyz_from_matrix(camera_world_rotation(state, spec)), order)


def focal_length_pixels(spec: CameraSpec) -> float:
    """Focal length in pixels of navgym's pinhole: square pixels, ``hfov`` across ``width``."""
    return (spec.width / 2.0) / math.tan(math.radians(spec.hfov) / 2.0)


def intrinsic_matrix(spec: CameraSpec) -> np.ndarray:
    """3x3 intrinsic matrix K of a camera spec (principal point at the image centre, like navgym's
    ray caster, whose pixel ``i`` is centred at ``i + 0.5``)."""
    f = focal_length_pixels(spec)
    return np.array([[f, 0.0, spec.width / 2.0], [0.0, f, spec.height / 2.0], [0.0, 0.0, 1.0]])


def usd_camera_parameters(spec: CameraSpec, focal_length: float = DEFAULT_FOCAL_LENGTH) -> dict[str, float]:
    """USD camera attributes giving the spec's field of view: ``focal_length`` kept, apertures
    chosen so that ``hfov = 2 atan(horizontal_aperture / (2 focal_length))`` and pixels are
    square (``vertical_aperture = horizontal_aperture * height / width``)."""
    horizontal = 2.0 * focal_length * math.tan(math.radians(spec.hfov) / 2.0)
    return {
        "focal_length": float(focal_length),
        "horizontal_aperture": float(horizontal),
        "vertical_aperture": float(horizontal * spec.height / spec.width),
    }


# -- motion --------------------------------------------------------------------------------------
def body_frame_displacement(displacement: Sequence[float], yaw: float) -> tuple[float, float]:
    """(forward, left) metres of a navgym world displacement (x, z; y ignored) for a body at ``yaw``."""
    d = np.asarray(displacement, dtype=np.float64).reshape(3)
    forward = -math.sin(yaw) * d[0] - math.cos(yaw) * d[2]
    left = -math.cos(yaw) * d[0] + math.sin(yaw) * d[2]
    return float(forward), float(left)
