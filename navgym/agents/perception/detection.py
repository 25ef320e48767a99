"""What perception returns (:class:`Detection`), the :class:`Perception` seam, and the geometry
every backend shares: a pixel mask + depth -> 3D points -> a position and a visible extent.

Frames (those of :mod:`navgym.agents.mapping.geometry`):

* ``"start"``: the episode's start frame (x right, y up = height above the agent's floor, z
  backward), what :meth:`Perception.detect` returns, given the agent's pose from GPS + compass.
* ``"camera"``: the camera frame (x right, y up, the camera looks along -z), what
  :meth:`Perception.detect_image` returns for an image with no pose (a goal photo).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from navgym.agents.mapping.geometry import Pose2D, camera_to_start_frame, depth_to_camera_points
from navgym.core.specs import CameraSpec

#: Frame names of :attr:`Detection.frame`.
START_FRAME, CAMERA_FRAME = "start", "camera"

#: Quantiles of the visible points that bound a detection's extent (drops stray pixels).
EXTENT_QUANTILES = (0.02, 0.98)


@dataclass
class Detection:
    """One object seen in one image.

    Attributes:
        category: Category name (MP3D / HM3D vocabulary, e.g. ``"chair"``).
        confidence: In [0, 1]; ground truth gives 1.
        instance_id: The scene's instance id when the backend knows it (ground-truth perception),
            else ``None`` (a real detector): the scene graph then merges by category and distance.
        mask: (H, W) bool pixel mask, or ``None`` (box-only detectors).
        box: Pixel box ``(x0, y0, x1, y1)``, ends exclusive (columns x, rows y).
        position: (3,) centre of the visible extent in :attr:`frame`, metres; ``None`` when no
            pixel had a usable depth (too far, or no depth given).
        extent: ``(lo, hi)`` (3,) corners of the box around the visible points (2-98 % quantiles),
            in :attr:`frame`; ``None`` with ``position``.
        frame: ``"start"`` (from :meth:`Perception.detect`) or ``"camera"`` (:meth:`Perception.detect_image`).
        pixels: Number of mask pixels (box area for box-only detections).
        attributes: Descriptive attributes (``color``, ``material``, ``size``) when the backend gives them.
        front: Unit (x, z) direction the object faces, in :attr:`frame`, when the backend gives it
            (the scene graph's ``facing`` relation needs it).
        source: Which backend made it (``"ground_truth"``, ``"detector"``, ``"false_positive"``...).
    """

    category: str
    confidence: float = 1.0
    instance_id: int | None = None
    mask: np.ndarray | None = None
    box: tuple[int, int, int, int] | None = None
    position: np.ndarray | None = None
    extent: tuple[np.ndarray, np.ndarray] | None = None
    frame: str = START_FRAME
    pixels: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    front: np.ndarray | None = None
    source: str = ""

    def copy(self, **changes: Any) -> "Detection":
        """A shallow copy with ``changes`` applied (arrays are shared unless replaced)."""
        out = replace(self, **changes)
        if "attributes" not in changes:
            out.attributes = dict(self.attributes)
        return out


@runtime_checkable
class Perception(Protocol):
    """The perception seam: detections for what the agent sees, and for images with no pose.

    Backends: :class:`~navgym.agents.perception.ground_truth.GroundTruthPerception` (the semantic
    sensor, privileged), :class:`~navgym.agents.perception.noisy.NoisyPerception` (wraps any
    backend), :class:`~navgym.agents.perception.detector.DetectorPerception` (a 2D detector +
    depth). ``privileged`` says whether the backend reads ground truth beyond the agent's sensors.
    """

    privileged: bool

    def detect(self, obs: dict[str, Any], pose: Pose2D, pitch: float = 0.0) -> list[Detection]:
        """Detections of one observation taken at ``pose`` (``pitch``: the agent's own camera tilt
        in degrees on top of the camera's), positions in the start frame."""
        ...

    def detect_image(
        self, rgb: np.ndarray, depth: np.ndarray | None = None, *, hfov: float | None = None, semantic: np.ndarray | None = None
    ) -> list[Detection]:
        """Detections of an image with no pose (a goal photo): positions in its camera frame when
        ``depth`` is given (``hfov``: its field of view, default the agent camera's). ``semantic``
        is the image's instance ids where a privileged source supplies them (only ground-truth
        perception reads it; the others ignore it)."""
        ...


def depth_image(depth: np.ndarray) -> np.ndarray:
    """(H, W) float64 of an (H, W) or (H, W, 1) depth image."""
    depth = np.asarray(depth, dtype=np.float64)
    if depth.ndim == 3 and depth.shape[-1] == 1:
        depth = depth[..., 0]
    if depth.ndim != 2:
        raise ValueError(f"depth has shape {depth.shape}; expected (H, W) or (H, W, 1)")
    return depth


def valid_depth(depth: np.ndarray, camera: CameraSpec) -> np.ndarray:
    """Pixels whose depth is a real hit: inside (min_depth, max_depth) with a 0.1 % margin
    (the simulator writes ``max_depth`` where a ray hits nothing in range)."""
    tolerance = 1e-3 * camera.max_depth
    return np.isfinite(depth) & (depth > max(camera.min_depth, 1e-6)) & (depth < camera.max_depth - tolerance)


class FramePoints:
    """The 3D point of every pixel of one depth image, in the start frame (with a pose) or the
    camera frame (without), computed once and shared by all detections of the frame."""

    def __init__(self, depth: np.ndarray, camera: CameraSpec, pose: Pose2D | None = None, pitch: float = 0.0, hfov: float | None = None):
        self.depth = depth_image(depth)
        self.camera = camera
        points = depth_to_camera_points(self.depth, float(hfov if hfov is not None else camera.hfov))
        if pose is not None:
            points = camera_to_start_frame(points, pose, camera.camera_height, camera.pitch + pitch)
        self.points = points
        self.valid = valid_depth(self.depth, camera)
        self.frame = START_FRAME if pose is not None else CAMERA_FRAME

    @property
    def shape(self) -> tuple[int, int]:
        return self.depth.shape

    def locate(self, mask: np.ndarray) -> tuple[np.ndarray | None, tuple[np.ndarray, np.ndarray] | None]:
        """(position, extent) of the pixels of ``mask`` with a usable depth; (None, None) if none."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != self.shape:
            raise ValueError(f"mask has shape {mask.shape}; expected the depth image's {self.shape}")
        points = self.points[mask & self.valid]
        if len(points) == 0:
            return None, None
        lo, hi = np.quantile(points, EXTENT_QUANTILES, axis=0) if len(points) >= 10 else (points.min(axis=0), points.max(axis=0))
        return (lo + hi) / 2.0, (lo, hi)


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """The pixel box ``(x0, y0, x1, y1)`` (ends exclusive) around a non-empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def start_frame_front(front_world: Sequence[float], world_yaw: float, pose: Pose2D) -> np.ndarray:
    """A world (x, z) direction in the start frame, given the agent's world yaw and its start-frame
    pose (their difference is the start heading)."""
    fx, fz = float(front_world[0]), float(front_world[1])
    offset = pose.yaw - world_yaw
    c, s = np.cos(offset), np.sin(offset)
    # Rotation about +y by `offset` (yaw positive = left), as in camera_to_start_frame.
    return np.array([c * fx + s * fz, -s * fx + c * fz])
