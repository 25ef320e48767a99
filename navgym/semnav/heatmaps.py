"""The ground-truth heatmaps of the dual-heatmap paper (``../shared/papers/dual-heatmap.txt``,
Sec. 3.1 and 3.3), defined on a body's own camera image, and the pixel -> ground geometry they
rest on.

Geometry. A pixel ``(row, col)`` of a :class:`~navgym.core.specs.CameraSpec` frame is the pinhole
ray through its centre: camera-frame direction ``((col + 0.5 - W/2) / f, -(row + 0.5 - H/2) / f,
-1)`` with ``f = (W/2) / tan(hfov/2)`` (x right, y up, looking down -z: the renderer's
convention, so a depth ``d`` (z-depth, metres) puts the hit at ``d`` times that direction). The
camera sits ``camera_height`` above the body's floor position, turned by the body's yaw, then
pitched by ``pitch`` (+ the state's tilt) and rolled by ``roll``
(:func:`navgym.core.geometry.camera_rotation`). :func:`pixel_points` returns every pixel's world
point; a pixel is a **ground pixel** when its hit lies within ``ground_tolerance`` (5 cm) of the
floor height the body stands on (and the ray hit something before ``max_depth``); its **ground
point** is that hit.

**Traversable pixel** (for a body, towards a target): a ground pixel whose ground point ``g``
is a pose where the body can stand facing the target, the first part of SemanticNav's success
rule (:func:`navgym.tasks.semantic_nav.is_traversable`): ``sim.is_navigable(g)`` for the body's
cylinder, and, for bodies with a rectangular footprint (H1, Aliengo), no obstacle under the
rectangle at the heading that faces the target's centre; and connected to the target's reachable
region (finite geodesic distance).

**Navigation heatmap** ``H_nav``: with ``d(p)`` the geodesic distance (for the body) from
``g(p)`` to the target's reachable region (every point navigable for the body within
``goal_region_distance`` = 0.5 m of the target's box: SemanticNav's goal region) and ``D`` the
success distance (1.0 m, the paper's threshold)::

    H_nav(p) = 1 - d(p) / D   if p is traversable and d(p) < D
               0              otherwise

so its support is exactly the pixels where stopping (facing the target) satisfies SemanticNav's
traversability and distance conditions, its value falls monotonically with distance and is 1 on
the reachable region: the paper's "distance field over traversable regions ... non-traversable
pixels are set to zero ... normalized to [0, 1]", whose "peak response lies at a reachable
standing point adjacent to the object". The paper normalises a distance field without saying
how far it reaches; cutting it at the success distance is navgym's choice, so that every
positive pixel is a success position.

**Facing heatmap** ``H_face``: "a 2D Gaussian centered at the geometric center of the
facing-target mask, with a peak value of one" (Sec. 3.1). The centre ``c`` is the mask pixel
nearest to the mask's centroid (the centroid itself can fall off a concave or occluded mask;
ties: the first in row-major order), and ``sigma = max(1, 0.5 * sqrt(A / pi))`` pixels for a
mask of ``A`` pixels (half the radius of the disc of the same area; the paper gives no width)::

    H_face(p) = exp(-|p - c|^2 / (2 sigma^2))

Both maps are all zero when the target is not in view (the paper's negative samples).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from navgym.core.geometry import camera_rotation, yaw_toward
from navgym.core.specs import AgentState, CameraSpec
from navgym.sims.base import Simulator
from navgym.tasks.semantic_nav import is_traversable

#: Hits within this height (metres) of the body's floor are ground pixels.
GROUND_TOLERANCE = 0.05
#: Facing Gaussian: sigma = FACING_SIGMA_SCALE * sqrt(mask area / pi) pixels (at least 1).
FACING_SIGMA_SCALE = 0.5


def pixel_directions(camera: CameraSpec) -> np.ndarray:
    """(H, W, 3) camera-frame directions through the pixel centres, z = -1 (so a z-depth ``d``
    puts the hit at ``d`` times the direction)."""
    width, height = camera.width, camera.height
    focal = (width / 2.0) / math.tan(math.radians(camera.hfov) / 2.0)
    cols = (np.arange(width) + 0.5 - width / 2.0) / focal
    rows = -(np.arange(height) + 0.5 - height / 2.0) / focal
    xs, ys = np.meshgrid(cols, rows)
    return np.stack([xs, ys, -np.ones_like(xs)], axis=-1)


def camera_pose(state: AgentState, camera: CameraSpec) -> tuple[np.ndarray, np.ndarray]:
    """World position of the camera's optical centre and its world-from-camera rotation (3x3)."""
    position = np.asarray(state.position, dtype=np.float64) + np.array([0.0, camera.camera_height, 0.0])
    pitch = float(np.clip(camera.pitch + state.tilt, -90.0, 90.0))
    return position, camera_rotation(state.yaw, math.radians(pitch), math.radians(camera.roll))


def pixel_points(depth: np.ndarray, camera: CameraSpec, state: AgentState) -> np.ndarray:
    """(H, W, 3) world points of a depth image (``(H, W)`` or ``(H, W, 1)`` z-depth in metres)
    taken by ``camera`` on a body at ``state``; NaN where the ray hit nothing (depth at
    ``max_depth``)."""
    depth = np.asarray(depth, dtype=np.float64).reshape(camera.height, camera.width)
    origin, rotation = camera_pose(state, camera)
    points = origin + (pixel_directions(camera) * depth[..., None]) @ rotation.T
    points[depth >= camera.max_depth * (1.0 - 1e-6)] = np.nan
    return points


def ground_mask(points: np.ndarray, floor_y: float, tolerance: float = GROUND_TOLERANCE) -> np.ndarray:
    """(H, W) bool: pixels whose world point lies within ``tolerance`` of the floor height."""
    with np.errstate(invalid="ignore"):
        return np.abs(points[..., 1] - floor_y) <= tolerance


def region_distances(sim: Simulator, points: np.ndarray, region: np.ndarray, agent_id: int = 0) -> np.ndarray:
    """Geodesic distance (metres, for the body of ``agent_id``) from each of ``points`` (N, 3),
    all navigable, to the nearest point of ``region`` (M, 3): ``sim.geodesic_distance(p, region)``
    for each point (inf where unreachable).

    The embedded simulator's navigation grid answers all points from one distance field (the
    same field and the same straight-line lower bound its ``geodesic_distance`` uses, so the
    values are equal; ``tests/semnav`` checks it); other backends are asked point by point.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    region = np.asarray(region, dtype=np.float64).reshape(-1, 3)
    if len(points) == 0:
        return np.zeros(0)
    if len(region) == 0:
        return np.full(len(points), np.inf)
    grid_of = getattr(sim, "grid", None)
    grid = grid_of(float(points[0, 1]), agent_id) if callable(grid_of) else None
    if grid is None or not hasattr(grid, "distance_field") or not hasattr(grid, "navigable"):
        return np.array([sim.geodesic_distance(p, region, agent_id=agent_id) for p in points], dtype=np.float64)
    from scipy.spatial import cKDTree

    field = grid.distance_field(region)
    cols = np.floor((points[:, 0] - grid.origin[0]) / grid.cell_size).astype(np.int64)
    rows = np.floor((points[:, 2] - grid.origin[1]) / grid.cell_size).astype(np.int64)
    inside = (rows >= 0) & (cols >= 0) & (rows < grid.rows) & (cols < grid.cols)
    value = np.full(len(points), np.inf)
    value[inside] = field[rows[inside], cols[inside]]
    navigable = np.zeros(len(points), dtype=bool)
    navigable[inside] = grid.navigable[rows[inside], cols[inside]]
    if not navigable.all():  # off the grid's navigable cells: the interface snaps them; ask it
        for index in np.flatnonzero(~navigable):
            value[index] = sim.geodesic_distance(points[index], region, agent_id=agent_id)
    euclid, _ = cKDTree(region[:, [0, 2]]).query(points[:, [0, 2]])
    finite = np.isfinite(value)
    value[finite & navigable] = np.maximum(value[finite & navigable], euclid[finite & navigable])
    return value


@dataclass
class NavigationLabels:
    """What :func:`navigation_heatmap` computes for one view.

    Attributes:
        heatmap: (H, W) float32 ``H_nav`` (module docstring).
        traversable: (H, W) bool: traversable pixels (ground, body can stand there facing the
            target, connected to its reachable region).
        region_distance: (H, W) float32 geodesic metres from each traversable pixel's ground
            point to the reachable region; inf elsewhere.
        points: (H, W, 3) world points of the pixels (NaN where nothing was hit).
    """

    heatmap: np.ndarray
    traversable: np.ndarray
    region_distance: np.ndarray
    points: np.ndarray


def navigation_heatmap(
    sim: Simulator,
    depth: np.ndarray,
    camera: CameraSpec,
    state: AgentState,
    target_center,
    region: np.ndarray,
    success_distance: float,
    embodiment: Any = None,
    agent_id: int = 0,
    ground_tolerance: float = GROUND_TOLERANCE,
) -> NavigationLabels:
    """``H_nav`` and the traversable mask of one view (definitions: the module docstring).

    Args:
        depth: The view's depth image from ``camera`` at ``state``.
        target_center: What "facing the target" aims at (the target box's centre).
        region: The target's reachable region (SemanticNav's ``goal_points``).
        success_distance: ``D``: the support's geodesic radius around the region.
        embodiment: The body; one with a rectangular ``footprint`` (H1, Aliengo) has it tested at
            the heading that faces ``target_center`` (``None``: the cylinder of ``agent_id`` alone).
    """
    points = pixel_points(depth, camera, state)
    ground = ground_mask(points, float(state.position[1]), ground_tolerance)
    traversable = np.zeros(ground.shape, dtype=bool)
    target = np.asarray(target_center, dtype=np.float64)
    rows, cols = np.nonzero(ground)
    candidates = []
    for row, col in zip(rows.tolist(), cols.tolist()):
        point = points[row, col]
        if is_traversable(sim, point, yaw_toward(point, target), embodiment, agent_id):
            candidates.append((row, col))
    distance = np.full(ground.shape, np.inf, dtype=np.float64)
    if candidates:
        index = tuple(np.array(candidates).T)
        distance[index] = region_distances(sim, points[index], region, agent_id)
        traversable[index] = np.isfinite(distance[index])
    heatmap = np.zeros(ground.shape, dtype=np.float32)
    positive = traversable & (distance < success_distance)
    heatmap[positive] = (1.0 - distance[positive] / success_distance).astype(np.float32)
    # A pixel exactly on the region (d = 0) reads 1; keep the support strictly positive.
    heatmap[positive] = np.maximum(heatmap[positive], np.float32(1e-6))
    return NavigationLabels(heatmap, traversable, distance.astype(np.float32), points)


def facing_center(mask: np.ndarray) -> tuple[int, int] | None:
    """The mask pixel nearest to the mask's centroid, ``(row, col)`` (``None`` for an empty mask)."""
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return None
    d2 = (rows - rows.mean()) ** 2 + (cols - cols.mean()) ** 2
    best = int(np.argmin(d2))  # argmin: the first minimum in row-major order
    return int(rows[best]), int(cols[best])


def facing_sigma(area: int) -> float:
    """Gaussian width (pixels) for a target mask of ``area`` pixels."""
    return max(1.0, FACING_SIGMA_SCALE * math.sqrt(area / math.pi))


def facing_heatmap(mask: np.ndarray) -> tuple[np.ndarray, tuple[int, int] | None]:
    """``H_face`` of a target mask (module docstring) and its centre pixel (``None``: empty mask,
    all-zero map)."""
    mask = np.asarray(mask, dtype=bool)
    centre = facing_center(mask)
    if centre is None:
        return np.zeros(mask.shape, dtype=np.float32), None
    sigma = facing_sigma(int(mask.sum()))
    rows, cols = np.indices(mask.shape)
    d2 = (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2
    return np.exp(-d2 / (2.0 * sigma * sigma)).astype(np.float32), centre


def nav_point(heatmap: np.ndarray, points: np.ndarray, target_center) -> tuple[int, int] | None:
    """The ground-truth navigation point: the pixel of highest ``H_nav`` (ties: the one whose
    ground point is horizontally nearest the target's centre); ``None`` when ``H_nav`` is all zero."""
    peak = float(heatmap.max()) if heatmap.size else 0.0
    if peak <= 0.0:
        return None
    rows, cols = np.nonzero(heatmap >= peak)
    target = np.asarray(target_center, dtype=np.float64)
    d = np.hypot(points[rows, cols, 0] - target[0], points[rows, cols, 2] - target[2])
    best = int(np.argmin(d))
    return int(rows[best]), int(cols[best])


__all__ = [
    "FACING_SIGMA_SCALE", "GROUND_TOLERANCE", "NavigationLabels", "camera_pose", "facing_center", "facing_heatmap",
    "facing_sigma", "ground_mask", "nav_point", "navigation_heatmap", "pixel_directions", "pixel_points", "region_distances",
]  # fmt: skip
