"""MultiGoalVLN's extra sensors, built in the task layer from renders through the Simulator
interface, so every backend that renders depth and semantics has them.

* ``lidar``: a spinning-LiDAR point cloud in the agent frame from ``cameras`` narrow depth
  cameras around the body (:class:`LidarSpec`, :func:`lidar_scan`);
* ``pose``: the body's 6-DoF pose, world position and rotation quaternion (:func:`pose_vector`);
* ``temperature``: a per-pixel temperature image (degrees Celsius) from the semantic sensor and a
  per-category / per-material table (:data:`CATEGORY_TEMPERATURES`, :data:`MATERIAL_TEMPERATURES`,
  :func:`temperature_image`), the extra scalar channel of RAGNav's Text+Location+Sensor input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from navgym.core.checks import check_range
from navgym.core.geometry import yaw_to_quaternion
from navgym.core.specs import AgentState, CameraSpec
from navgym.errors import InvalidArgumentError
from navgym.scenes.scene import SceneGraph


def _positive_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise InvalidArgumentError(f"{name}={value!r} must be an integer in [{low}, {high}]")
    return int(value)


@dataclass(frozen=True)
class LidarSpec:
    """A spinning LiDAR emulated by depth cameras around the body.

    Beams: ``channels`` elevations evenly spaced over ``vertical_fov`` (symmetric about the
    horizon; one channel looks level) times ``points_per_ring`` azimuths evenly spaced over 360°,
    the first straight ahead, counter-clockwise seen from above (to the left). Each beam reads the
    pixel nearest its direction in one of ``cameras`` pinhole depth cameras, each ``360 /
    cameras`` degrees wide, rendered ``oversample`` times finer than the beam spacing; its point
    is that pixel's ray at the pixel's depth, so points lie exactly on surfaces while beam
    directions are within half a render pixel of the nominal grid.

    Attributes:
        channels: Rings (vertical beams), 1-128.
        points_per_ring: Azimuth samples per ring, 8-4096.
        vertical_fov: Degrees, 0-120 (0 needs ``channels=1``).
        max_range: Metres; beams with no return within it read the point at ``max_range`` along
            the beam (as the depth sensor reads ``max_depth``).
        min_range: Metres; returns closer than this are treated as no return.
        mount_height: Sensor height above the body's floor position, metres.
        cameras: Depth cameras around the body, 3-32.
        oversample: Render pixels per beam spacing, 1-4.
    """

    channels: int = 16
    points_per_ring: int = 180
    vertical_fov: float = 30.0
    max_range: float = 10.0
    min_range: float = 0.05
    mount_height: float = 0.5
    cameras: int = 4
    oversample: int = 2

    def __post_init__(self) -> None:
        _positive_int("LidarSpec.channels", self.channels, 1, 128)
        _positive_int("LidarSpec.points_per_ring", self.points_per_ring, 8, 4096)
        _positive_int("LidarSpec.cameras", self.cameras, 3, 32)
        _positive_int("LidarSpec.oversample", self.oversample, 1, 4)
        check_range("LidarSpec.vertical_fov", self.vertical_fov, 0.0, 120.0)
        check_range("LidarSpec.max_range", self.max_range, 0.0, 1000.0, low_open=True)
        check_range("LidarSpec.min_range", self.min_range, 0.0, self.max_range, high_open=True)
        check_range("LidarSpec.mount_height", self.mount_height, 0.0, 10.0)
        if self.channels > 1 and self.vertical_fov == 0.0:
            raise InvalidArgumentError(f"LidarSpec(channels={self.channels}, vertical_fov=0) stacks every ring on one elevation; use channels=1 or a vertical_fov > 0")

    @property
    def num_points(self) -> int:
        return self.channels * self.points_per_ring

    def elevations(self) -> np.ndarray:
        """Beam elevations, radians, bottom ring first."""
        if self.channels == 1:
            return np.zeros(1)
        half = math.radians(self.vertical_fov) / 2.0
        return np.linspace(-half, half, self.channels)

    def azimuths(self) -> np.ndarray:
        """Beam azimuths, radians, counter-clockwise from straight ahead."""
        return np.arange(self.points_per_ring) * (2.0 * math.pi / self.points_per_ring)

    def camera_spec(self) -> CameraSpec:
        """One of the ring's depth cameras: wide enough for its sector, tall enough for the
        vertical field at the sector's edges."""
        sector = 360.0 / self.cameras
        half_h = math.radians(sector) / 2.0
        # Square pixels: one focal length fine enough for both the azimuth and the elevation spacing.
        focal = self.oversample * self.points_per_ring / (2.0 * math.pi)
        if self.channels > 1:
            focal = max(focal, self.oversample * (self.channels - 1) / math.radians(self.vertical_fov))
        # Odd sizes: the centre pixel looks straight along the camera axis (and the level ring).
        width = int(math.ceil(2.0 * focal * math.tan(half_h))) // 2 * 2 + 1
        focal = (width / 2.0) / math.tan(half_h)
        need = math.tan(math.radians(self.vertical_fov) / 2.0) / math.cos(half_h)  # tan of the vertical half-field at the edges
        height = 2 * int(math.ceil(need * focal)) + 3
        return CameraSpec(width, min(height, 4096), sector, self.mount_height, outputs=("depth",), max_depth=self.max_range)

    def observation_space(self) -> spaces.Box:
        r, h = self.max_range, self.mount_height
        low = np.tile(np.array([-r, h - r, -r], dtype=np.float32), (self.num_points, 1))
        high = np.tile(np.array([r, h + r, r], dtype=np.float32), (self.num_points, 1))
        return spaces.Box(low, high, (self.num_points, 3), dtype=np.float32)


class _LidarPlan:
    """Which camera and pixel each beam reads (computed once per spec)."""

    def __init__(self, spec: LidarSpec):
        self.spec = spec
        self.camera = spec.camera_spec()
        cam = self.camera
        sector = 2.0 * math.pi / spec.cameras
        focal = (cam.width / 2.0) / math.tan(math.radians(cam.hfov) / 2.0)
        elev, azim = np.meshgrid(spec.elevations(), spec.azimuths(), indexing="ij")  # (channels, ppr)
        index = np.round(azim / sector).astype(np.int64) % spec.cameras
        local = (azim - index * sector + math.pi) % (2.0 * math.pi) - math.pi  # within the camera's sector
        # Beam direction in the camera frame (x right, y up, looking along -z), left-positive azimuth.
        u = -np.tan(local)  # x / -z
        v = np.tan(elev) / np.cos(local)  # y / -z
        cols = np.clip(np.round(u * focal + cam.width / 2.0 - 0.5), 0, cam.width - 1).astype(np.int64)
        rows = np.clip(np.round(-v * focal + cam.height / 2.0 - 0.5), 0, cam.height - 1).astype(np.int64)
        self.index, self.rows, self.cols = index.ravel(), rows.ravel(), cols.ravel()
        # The pixel's own ray (z = -1), so depth * ray is the exact surface point.
        x = (cols + 0.5 - cam.width / 2.0) / focal
        y = -(rows + 0.5 - cam.height / 2.0) / focal
        self.rays = np.stack([x.ravel(), y.ravel(), -np.ones(x.size)], axis=1)
        self.ray_norm = np.linalg.norm(self.rays, axis=1)
        angle = self.index * sector  # camera yaw offset, left positive
        self.cos, self.sin = np.cos(angle), np.sin(angle)


_PLANS: dict[LidarSpec, _LidarPlan] = {}


def lidar_scan(sim, state: AgentState, spec: LidarSpec) -> np.ndarray:
    """``(channels * points_per_ring, 3)`` float32 points in the agent frame (x right, y up, z
    back, origin at the body's floor position; Habitat's agent frame), ring by ring from the
    bottom, each ring from straight ahead counter-clockwise. Camera tilt (look up/down) does not
    move the LiDAR: it is mounted on the body."""
    plan = _PLANS.get(spec)
    if plan is None:
        plan = _PLANS[spec] = _LidarPlan(spec)
    yaw = state.yaw
    sector = 2.0 * math.pi / spec.cameras
    requests = [
        (AgentState(state.position, yaw_to_quaternion(yaw + c * sector), 0.0), plan.camera) for c in range(spec.cameras)
    ]  # fmt: skip
    frames = sim.render(requests)
    depth = np.stack([f["depth"][..., 0] for f in frames])[plan.index, plan.rows, plan.cols].astype(np.float64)
    distance = depth * plan.ray_norm
    no_return = (depth >= plan.camera.max_depth) | (distance > spec.max_range) | (distance < spec.min_range)
    scale = np.where(no_return, spec.max_range / plan.ray_norm, depth)
    local = plan.rays * scale[:, None]
    # Rotate each camera's frame about y by its yaw offset into the agent frame.
    x = plan.cos * local[:, 0] + plan.sin * local[:, 2]
    z = -plan.sin * local[:, 0] + plan.cos * local[:, 2]
    points = np.stack([x, local[:, 1] + spec.mount_height, z], axis=1).astype(np.float32)
    space = spec.observation_space()
    return np.clip(points, space.low, space.high)


def lidar_to_world(points: np.ndarray, state: AgentState) -> np.ndarray:
    """Agent-frame points (:func:`lidar_scan`) in world coordinates."""
    yaw = state.yaw
    c, s = math.cos(yaw), math.sin(yaw)
    p = np.asarray(points, dtype=np.float64)
    x = c * p[:, 0] + s * p[:, 2]
    z = -s * p[:, 0] + c * p[:, 2]
    return np.stack([x, p[:, 1], z], axis=1) + np.asarray(state.position, dtype=np.float64)


def pose_vector(state: AgentState) -> np.ndarray:
    """``(7,)`` float32: world position x, y, z (metres, y up, the body's floor position) and
    rotation quaternion x, y, z, w (Habitat's convention: identity looks along -z)."""
    return np.concatenate([state.position, state.rotation]).astype(np.float32)


# -- temperature ---------------------------------------------------------------------------------
#: Surface temperature (°C) of things that make or hold heat (or cold), by category.
CATEGORY_TEMPERATURES: dict[str, float] = {
    "refrigerator": 6.0, "stove": 45.0, "fireplace": 65.0, "microwave": 28.0, "dishwasher": 27.0,
    "washing_machine": 25.0, "tv_monitor": 34.0, "laptop": 32.0, "lamp": 38.0, "bathtub": 30.0,
    "shower": 27.0, "plant": 19.0, "window": 14.0,
}  # fmt: skip
#: Otherwise by material (``attributes["material"]``; structural surfaces carry one too).
MATERIAL_TEMPERATURES: dict[str, float] = {
    "metal": 18.0, "stone": 18.5, "tile": 18.5, "ceramic": 19.0, "glass": 19.0, "paint": 20.0, "plastic": 20.5,
    "wood": 21.0, "paper": 21.0, "canvas": 21.0, "carpet": 21.5, "fabric": 22.0, "leather": 22.0,
}  # fmt: skip
#: Pixels that hit nothing annotated, and materials not in the table.
AMBIENT_TEMPERATURE = 20.0
#: The ``temperature`` observation's range (°C); noisy values are clipped to it.
TEMPERATURE_RANGE = (-20.0, 100.0)


def temperature_table(graph: SceneGraph) -> np.ndarray:
    """Temperature (°C) by instance id (index 0: no instance): the category's entry of
    :data:`CATEGORY_TEMPERATURES`, else the material's of :data:`MATERIAL_TEMPERATURES`, else
    :data:`AMBIENT_TEMPERATURE`."""
    size = 1 + max((int(i.id) for i in graph.instances), default=0)
    table = np.full(size, AMBIENT_TEMPERATURE, dtype=np.float32)
    for inst in graph.instances:
        value = CATEGORY_TEMPERATURES.get(inst.category)
        if value is None:
            value = MATERIAL_TEMPERATURES.get(str(inst.attributes.get("material")), AMBIENT_TEMPERATURE)
        table[int(inst.id)] = value
    return table


def temperature_image(semantic: np.ndarray, table: np.ndarray, noise_std: float = 0.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """``(H, W, 1)`` float32 °C from an instance-id image and :func:`temperature_table`; with
    ``noise_std > 0`` adds Gaussian noise from ``rng`` (clipped to :data:`TEMPERATURE_RANGE`)."""
    ids = np.asarray(semantic, dtype=np.int64)
    ids = np.where((ids >= 0) & (ids < len(table)), ids, 0)
    image = table[ids].astype(np.float32)
    if noise_std > 0.0:
        if rng is None:
            raise InvalidArgumentError("temperature_image(noise_std > 0) needs rng= (a numpy Generator) for its noise")
        image = image + rng.normal(0.0, noise_std, size=image.shape).astype(np.float32)
    return np.clip(image, *TEMPERATURE_RANGE).astype(np.float32)[..., None]


__all__ = [
    "AMBIENT_TEMPERATURE", "CATEGORY_TEMPERATURES", "LidarSpec", "MATERIAL_TEMPERATURES", "TEMPERATURE_RANGE", "lidar_scan",
    "lidar_to_world", "pose_vector", "temperature_image", "temperature_table",
]  # fmt: skip
