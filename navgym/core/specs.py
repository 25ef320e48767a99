"""The shared specs: a camera, a body, an agent's state. Validated frozen dataclasses (states are
mutable); every layer passes them around, so they live at the bottom."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from navgym.core.checks import check_range
from navgym.core.geometry import quaternion_to_yaw, yaw_to_quaternion
from navgym.errors import InvalidArgumentError

#: Names of the per-pixel outputs a camera can produce.
CAMERA_OUTPUTS = ("rgb", "depth", "semantic")


#: Largest camera width or height, in pixels.
MAX_CAMERA_SIDE = 4096

@dataclass(frozen=True)
class CameraSpec:
    """A pinhole camera mounted on a body (or held by a user, for goal images).

    Attributes:
        width, height: Image size in pixels.
        hfov: Horizontal field of view, degrees.
        camera_height: Height of the optical centre above the body's floor position, metres.
        pitch: Tilt in degrees, positive looks up (added to the agent's own look up/down state).
        roll: Roll in degrees; positive rolls the camera counter-clockwise about its optical axis
            (so the scene appears rotated clockwise in the image, as in Habitat).
        outputs: Which of ``"rgb"``, ``"depth"``, ``"semantic"`` to produce.
        min_depth, max_depth: Depth range in metres; further or missing hits read ``max_depth``.
    """

    width: int = 128
    height: int = 128
    hfov: float = 90.0
    camera_height: float = 1.25
    pitch: float = 0.0
    roll: float = 0.0
    outputs: tuple[str, ...] = ("rgb", "depth")
    min_depth: float = 0.0
    max_depth: float = 10.0

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_CAMERA_SIDE:
                raise InvalidArgumentError(f"CameraSpec.{name}={value!r} is out of range; allowed integers [1, {MAX_CAMERA_SIDE}]")
        check_range("CameraSpec.hfov", self.hfov, 0.0, 179.0, low_open=True)
        check_range("CameraSpec.camera_height", self.camera_height, 0.0, 10.0)
        check_range("CameraSpec.pitch", self.pitch, -90.0, 90.0)
        check_range("CameraSpec.roll", self.roll, -180.0, 180.0)
        check_range("CameraSpec.min_depth", self.min_depth, 0.0, 1000.0)
        check_range("CameraSpec.max_depth", self.max_depth, self.min_depth, 1000.0, low_open=True)
        unknown = [o for o in self.outputs if o not in CAMERA_OUTPUTS]
        if unknown:
            raise InvalidArgumentError(f"CameraSpec.outputs has unknown {unknown}; valid outputs are {CAMERA_OUTPUTS}")

    def with_(self, **changes) -> "CameraSpec":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class BodySpec:
    """A body as the simulator's navigability sees it: an upright cylinder.

    Attributes:
        radius: Cylinder radius used for navigability and collisions, metres.
        height: Cylinder height; obstacles below it block the body, metres.
        max_climb: Steps up to this height are walkable, metres.
    """

    radius: float = 0.18
    height: float = 1.5
    max_climb: float = 0.2

    def __post_init__(self) -> None:
        check_range("BodySpec.radius", self.radius, 0.0, 2.0, low_open=True)
        check_range("BodySpec.height", self.height, 0.1, 5.0)
        check_range("BodySpec.max_climb", self.max_climb, 0.0, 1.0)


@dataclass
class AgentState:
    """Where an agent is: floor position, rotation [x, y, z, w] and camera tilt (degrees)."""

    position: np.ndarray
    rotation: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 0.0, 1.0]))
    tilt: float = 0.0

    def __post_init__(self) -> None:
        try:
            self.position = np.asarray(self.position, dtype=np.float64).reshape(3)
            self.rotation = np.asarray(self.rotation, dtype=np.float64).reshape(4)
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                f"AgentState(position={self.position!r}, rotation={self.rotation!r}) needs 3 numbers [x, y, z] and 4 numbers [x, y, z, w]"
            ) from None
        if not np.isfinite(self.position).all():
            raise InvalidArgumentError(f"AgentState.position={self.position.tolist()} must be finite numbers [x, y, z] in metres")
        if isinstance(self.tilt, bool) or not isinstance(self.tilt, (int, float, np.floating, np.integer)) or not np.isfinite(self.tilt):
            raise InvalidArgumentError(f"AgentState.tilt={self.tilt!r} must be a finite number of degrees")
        norm = float(np.linalg.norm(self.rotation))
        if not math.isfinite(norm) or norm < 1e-6:
            raise InvalidArgumentError(f"AgentState.rotation={self.rotation.tolist()} is not a valid quaternion [x, y, z, w]")
        self.rotation = self.rotation / norm

    @classmethod
    def from_yaw(cls, position: Sequence[float], yaw: float, tilt: float = 0.0) -> "AgentState":
        return cls(np.asarray(position, dtype=np.float64), yaw_to_quaternion(yaw), tilt)

    @property
    def yaw(self) -> float:
        return quaternion_to_yaw(self.rotation)

    def copy(self) -> "AgentState":
        return AgentState(self.position.copy(), self.rotation.copy(), self.tilt)
