"""The simulator interface every backend implements.

It is deliberately small: each method is something habitat-sim, an AirSim server and Isaac Sim
can also do (see ``docs/architecture.md`` for the table). Tasks, envs and agents only talk to a
simulator through this interface.

Conventions (Habitat's): y is up, metres; positions are on the floor; at the identity rotation the
agent looks along -z; rotations are quaternions ``[x, y, z, w]``; ``turn_left`` turns
counter-clockwise seen from above (positive yaw about +y).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from navgym.scenes.scene import ObjectInstance

#: Names of the discrete actions a simulator understands (besides "stop", which is the task's).
MOTION_ACTIONS = ("move_forward", "turn_left", "turn_right", "look_up", "look_down")
#: Names of the per-pixel outputs a camera can produce.
CAMERA_OUTPUTS = ("rgb", "depth", "semantic")


def _check_range(name: str, value: float, low: float, high: float, *, low_open: bool = False) -> None:
    ok = (low < value if low_open else low <= value) and value <= high
    if not ok or not math.isfinite(value):
        bracket = "(" if low_open else "["
        raise ValueError(f"{name}={value!r} is out of range; allowed {bracket}{low}, {high}]")


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


@dataclass(frozen=True)
class CameraSpec:
    """A pinhole camera mounted on the agent (or held by a user, for goal images).

    Attributes:
        width, height: Image size in pixels.
        hfov: Horizontal field of view, degrees.
        camera_height: Height of the optical centre above the agent's floor position, metres.
        pitch: Tilt in degrees, positive looks up (added to the agent's own look up/down state).
        roll: Roll in degrees, positive rotates the image counter-clockwise.
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
            if not isinstance(value, (int, np.integer)) or not 1 <= value <= 4096:
                raise ValueError(f"CameraSpec.{name}={value!r} is out of range; allowed integers [1, 4096]")
        _check_range("CameraSpec.hfov", self.hfov, 0.0, 179.0, low_open=True)
        _check_range("CameraSpec.camera_height", self.camera_height, 0.0, 10.0)
        _check_range("CameraSpec.pitch", self.pitch, -90.0, 90.0)
        _check_range("CameraSpec.roll", self.roll, -180.0, 180.0)
        _check_range("CameraSpec.min_depth", self.min_depth, 0.0, 1000.0)
        _check_range("CameraSpec.max_depth", self.max_depth, self.min_depth, 1000.0, low_open=True)
        unknown = [o for o in self.outputs if o not in CAMERA_OUTPUTS]
        if unknown:
            raise ValueError(f"CameraSpec.outputs has unknown {unknown}; valid outputs are {CAMERA_OUTPUTS}")

    def with_(self, **changes) -> "CameraSpec":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @property
    def focal_length(self) -> float:
        """Focal length in pixels (square pixels)."""
        return (self.width / 2.0) / math.tan(math.radians(self.hfov) / 2.0)


@dataclass(frozen=True)
class AgentSpec:
    """The agent's body and its discrete motion.

    Attributes:
        radius: Cylinder radius used for navigability and collisions, metres.
        height: Cylinder height; obstacles below it block the agent, metres.
        max_climb: Steps up to this height are walkable, metres.
        forward_step: ``move_forward`` distance, metres.
        turn_angle: ``turn_left``/``turn_right`` angle, degrees.
        tilt_angle: ``look_up``/``look_down`` angle, degrees.
    """

    radius: float = 0.18
    height: float = 1.5
    max_climb: float = 0.2
    forward_step: float = 0.25
    turn_angle: float = 30.0
    tilt_angle: float = 30.0

    def __post_init__(self) -> None:
        _check_range("AgentSpec.radius", self.radius, 0.0, 2.0, low_open=True)
        _check_range("AgentSpec.height", self.height, 0.1, 5.0)
        _check_range("AgentSpec.max_climb", self.max_climb, 0.0, 1.0)
        _check_range("AgentSpec.forward_step", self.forward_step, 0.0, 5.0, low_open=True)
        _check_range("AgentSpec.turn_angle", self.turn_angle, 0.0, 180.0, low_open=True)
        _check_range("AgentSpec.tilt_angle", self.tilt_angle, 0.0, 90.0, low_open=True)


@dataclass
class AgentState:
    """Where the agent is: floor position, rotation [x, y, z, w] and camera tilt (degrees)."""

    position: np.ndarray
    rotation: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 0.0, 1.0]))
    tilt: float = 0.0

    def __post_init__(self) -> None:
        self.position = np.asarray(self.position, dtype=np.float64).reshape(3)
        self.rotation = np.asarray(self.rotation, dtype=np.float64).reshape(4)
        norm = float(np.linalg.norm(self.rotation))
        if not math.isfinite(norm) or norm < 1e-6:
            raise ValueError(f"AgentState.rotation={self.rotation.tolist()} is not a valid quaternion [x, y, z, w]")
        self.rotation = self.rotation / norm

    @classmethod
    def from_yaw(cls, position: Sequence[float], yaw: float, tilt: float = 0.0) -> "AgentState":
        return cls(np.asarray(position, dtype=np.float64), yaw_to_quaternion(yaw), tilt)

    @property
    def yaw(self) -> float:
        return quaternion_to_yaw(self.rotation)

    def copy(self) -> "AgentState":
        return AgentState(self.position.copy(), self.rotation.copy(), self.tilt)


class Simulator(ABC):
    """A world with one agent: motion, cameras at any pose, geometry queries, object instances.

    Backends: :class:`navgym.sims.embedded.EmbeddedSimulator` (CPU ray casting, always
    available); habitat-sim, AirSim and Isaac Sim plug in behind the same methods.
    """

    agent_spec: AgentSpec

    # -- scene ---------------------------------------------------------------------------------
    @property
    @abstractmethod
    def scene_id(self) -> str:
        """The id of the loaded scene."""

    @abstractmethod
    def object_instances(self) -> list[ObjectInstance]:
        """Annotated object instances (empty when the scene has no annotations)."""

    # -- agent ---------------------------------------------------------------------------------
    @abstractmethod
    def get_agent_state(self) -> AgentState:
        """A copy of the agent's state."""

    @abstractmethod
    def set_agent_state(self, state: AgentState, snap: bool = False) -> AgentState:
        """Place the agent. Off the navigable area it raises ``ValueError`` with the distance to
        the nearest navigable point, or moves there when ``snap`` is true. Returns the state set."""

    @abstractmethod
    def step(self, action: str) -> bool:
        """Apply one of :data:`MOTION_ACTIONS`; returns True when the motion collided (and slid)."""

    @abstractmethod
    def velocity_step(self, linear_velocity: float, angular_velocity: float, dt: float) -> bool:
        """Unicycle motion: ``v`` m/s forward and ``omega`` rad/s (positive = left) for ``dt`` s.
        Returns True when it collided."""

    # -- cameras -------------------------------------------------------------------------------
    @abstractmethod
    def render(self, requests: Sequence[tuple[AgentState, CameraSpec]]) -> list[dict[str, np.ndarray]]:
        """Render cameras at arbitrary poses in one batch.

        Each request is an agent state (floor position, yaw, tilt) and a camera spec (size, HFOV,
        height above the floor, pitch, roll). Returns, per request, ``rgb`` (H, W, 3) uint8,
        ``depth`` (H, W, 1) float32 metres and ``semantic`` (H, W) int32 instance ids, as asked.
        """

    def render_agent(self, spec: CameraSpec) -> dict[str, np.ndarray]:
        """Render the agent's own camera."""
        return self.render([(self.get_agent_state(), spec)])[0]

    # -- geometry ------------------------------------------------------------------------------
    @abstractmethod
    def is_navigable(self, point: Sequence[float]) -> bool:
        """Whether the agent's centre can stand at ``point``."""

    @abstractmethod
    def snap_point(self, point: Sequence[float]) -> np.ndarray:
        """The nearest navigable point (on the storey of ``point``)."""

    @abstractmethod
    def geodesic_distance(self, start: Sequence[float], goals: Sequence[Sequence[float]] | np.ndarray) -> float:
        """Shortest walkable distance from ``start`` to the nearest of ``goals`` (inf if none is reachable)."""

    @abstractmethod
    def shortest_path(self, start: Sequence[float], goal: Sequence[float]) -> np.ndarray:
        """Waypoints (N, 3) from start to goal; empty when unreachable."""

    @abstractmethod
    def sample_navigable_point(self, rng: np.random.Generator) -> np.ndarray:
        """A uniformly drawn navigable point on the largest connected navigable region."""

    @abstractmethod
    def navigable_points_near(self, bbox_min: Sequence[float], bbox_max: Sequence[float], distance: float) -> np.ndarray:
        """Navigable points (N, 3) within ``distance`` (horizontally) of a box's footprint, on the
        box's storey: the view points of an object goal when a dataset gives none."""

    @abstractmethod
    def topdown_map(self, height: float | None = None) -> "TopDownMap":
        """A top-down occupancy map of the storey at ``height`` (the agent's by default)."""

    def close(self) -> None:
        """Release resources."""


@dataclass
class TopDownMap:
    """A top-down map: ``grid`` (rows along +z, cols along +x) with 0 = outside,
    1 = obstacle, 2 = navigable; ``origin`` is the world (x, z) of cell (0, 0)'s corner."""

    grid: np.ndarray
    origin: tuple[float, float]
    cell_size: float

    def world_to_cell(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) or (3,) world points → (N, 2) or (2,) integer (row, col)."""
        points = np.asarray(points, dtype=np.float64)
        col = np.floor((points[..., 0] - self.origin[0]) / self.cell_size).astype(np.int64)
        row = np.floor((points[..., 2] - self.origin[1]) / self.cell_size).astype(np.int64)
        return np.stack([row, col], axis=-1)

    def to_rgb(self) -> np.ndarray:
        """A (rows, cols, 3) uint8 picture: navigable light, obstacles grey, outside dark."""
        palette = np.array([[30, 30, 30], [120, 120, 120], [235, 235, 235]], dtype=np.uint8)
        return palette[self.grid]
