"""Other agents' bodies in the embedded simulator: simple solids that cameras see and that block
motion (several agents in one scene, ``navgym.multiagent``).

Each *solid* agent is an upright cylinder of its :class:`~navgym.core.specs.BodySpec` (radius,
height) or, for bodies with a rectangular footprint (H1, Aliengo), a box of the footprint's length
and width and the body's height, turned to the agent's yaw. Cameras see them through an analytic
ray test composited with the scene's Embree hits (closer wins), flat-coloured per agent and
shaded like the scene; their semantic id is :data:`AGENT_SEMANTIC_BASE` + the agent id. A camera
inside a body (every body's own camera) does not see that body.

Nothing here runs while a scene holds no solid agent, so single-agent frames stay bit-identical.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Semantic id of agent ``i``'s body: ``AGENT_SEMANTIC_BASE + i`` (far above scene instance ids).
AGENT_SEMANTIC_BASE = 1_000_000

#: Body colours by agent id (cycled): orange, blue, magenta, green, yellow, cyan, red, purple.
AGENT_COLORS = (
    (240, 140, 30), (40, 110, 230), (220, 40, 200), (30, 170, 60), (230, 210, 40), (30, 200, 210), (210, 40, 40), (120, 60, 200),
)

_LIGHT = np.array([0.35, 0.85, 0.4]) / np.linalg.norm([0.35, 0.85, 0.4])


def agent_color(agent_id: int) -> tuple[int, int, int]:
    """The colour agent ``agent_id``'s body is drawn with (in cameras and on maps)."""
    return AGENT_COLORS[int(agent_id) % len(AGENT_COLORS)]


@dataclass(frozen=True)
class SolidBody:
    """One agent's solid at its current pose.

    Attributes:
        agent_id: Whose body.
        position: Floor position (x, y, z) of its centre.
        yaw: Heading (radians), for boxes.
        radius, height: The cylinder (also the collision disc).
        footprint: ``(length, width)`` of a box along the heading, or ``None`` for the cylinder.
    """

    agent_id: int
    position: np.ndarray
    yaw: float
    radius: float
    height: float
    footprint: tuple[float, float] | None = None

    def contains(self, point: np.ndarray, eps: float = 1e-6) -> bool:
        """Whether ``point`` is inside (or on) the solid."""
        rel = np.asarray(point, dtype=np.float64) - self.position
        if not -eps <= rel[1] <= self.height + eps:
            return False
        if self.footprint is None:
            return rel[0] * rel[0] + rel[2] * rel[2] <= (self.radius + eps) ** 2
        along, across = _to_body(rel[0], rel[2], self.yaw)
        return abs(along) <= 0.5 * self.footprint[0] + eps and abs(across) <= 0.5 * self.footprint[1] + eps

    def covers(self, xs: np.ndarray, zs: np.ndarray) -> np.ndarray:
        """Which floor points (x, z) lie under the solid (strictly inside)."""
        dx, dz = xs - self.position[0], zs - self.position[2]
        if self.footprint is None:
            return dx * dx + dz * dz < self.radius * self.radius
        along, across = _to_body(dx, dz, self.yaw)
        return (np.abs(along) < 0.5 * self.footprint[0]) & (np.abs(across) < 0.5 * self.footprint[1])


def _to_body(dx, dz, yaw: float):
    """World (x, z) offsets -> body frame (along the heading, to the right)."""
    sin_y, cos_y = math.sin(yaw), math.cos(yaw)
    # Forward is (-sin, -cos) in (x, z); right is (cos, -sin).
    return -dx * sin_y - dz * cos_y, dx * cos_y - dz * sin_y


def intersect(origins: np.ndarray, directions: np.ndarray, bodies: list[SolidBody]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closest entry hits of rays ``origins + t * directions`` with the bodies.

    Returns ``(t, body index, normal)``: ``t`` is inf and the index -1 where no body is hit; a
    body containing a ray's origin is never hit by that ray."""
    n = len(origins)
    best_t = np.full(n, np.inf)
    best_i = np.full(n, -1, dtype=np.int64)
    best_n = np.zeros((n, 3))
    o = origins.astype(np.float64)
    d = directions.astype(np.float64)
    for index, body in enumerate(bodies):
        if body.footprint is None:
            t, normal = _cylinder(o, d, body)
        else:
            t, normal = _box(o, d, body)
        closer = t < best_t
        if closer.any():
            best_t[closer] = t[closer]
            best_i[closer] = index
            best_n[closer] = normal[closer]
    return best_t, best_i, best_n


def _cylinder(o: np.ndarray, d: np.ndarray, body: SolidBody) -> tuple[np.ndarray, np.ndarray]:
    cx, y0, cz = body.position
    y1 = y0 + body.height
    r = body.radius
    ox, oy, oz = o[:, 0] - cx, o[:, 1], o[:, 2] - cz
    dx, dy, dz = d[:, 0], d[:, 1], d[:, 2]
    t = np.full(len(o), np.inf)
    normal = np.zeros((len(o), 3))
    inside = (ox * ox + oz * oz <= r * r + 1e-9) & (oy >= y0 - 1e-6) & (oy <= y1 + 1e-6)
    a = dx * dx + dz * dz
    b = 2.0 * (ox * dx + oz * dz)
    c = ox * ox + oz * oz - r * r
    disc = b * b - 4.0 * a * c
    with np.errstate(divide="ignore", invalid="ignore"):
        side_t = (-b - np.sqrt(np.maximum(disc, 0.0))) / (2.0 * a)
        side_y = oy + side_t * dy
        side = (a > 1e-12) & (disc >= 0.0) & (side_t > 1e-6) & (side_y >= y0) & (side_y <= y1) & (c > 0.0)
        t = np.where(side, side_t, t)
        hx, hz = ox + side_t * dx, oz + side_t * dz
        normal[side] = np.stack([hx[side] / r, np.zeros(int(side.sum())), hz[side] / r], axis=1)
        top_t = (y1 - oy) / dy
        tx, tz = ox + top_t * dx, oz + top_t * dz
        top = (oy > y1) & (dy < 0.0) & (tx * tx + tz * tz <= r * r) & (top_t < t)
    t = np.where(top, top_t, t)
    normal[top] = (0.0, 1.0, 0.0)
    t[inside] = np.inf
    return t, normal


def _box(o: np.ndarray, d: np.ndarray, body: SolidBody) -> tuple[np.ndarray, np.ndarray]:
    length, width = body.footprint
    cx, y0, cz = body.position
    # Body frame axes: u along the heading, v to the right, y up.
    sin_y, cos_y = math.sin(body.yaw), math.cos(body.yaw)
    axis_u = np.array([-sin_y, 0.0, -cos_y])
    axis_v = np.array([cos_y, 0.0, -sin_y])
    rel = o - np.array([cx, y0, cz])
    local_o = np.stack([rel @ axis_u, rel[:, 1], rel @ axis_v], axis=1)
    local_d = np.stack([d @ axis_u, d[:, 1], d @ axis_v], axis=1)
    low = np.array([-0.5 * length, 0.0, -0.5 * width])
    high = np.array([0.5 * length, body.height, 0.5 * width])
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / local_d
        t0 = (low - local_o) * inv
        t1 = (high - local_o) * inv
    t_min = np.where(np.isnan(t0), -np.inf, np.minimum(t0, t1))
    t_max = np.where(np.isnan(t1), np.inf, np.maximum(t0, t1))
    near = t_min.max(axis=1)
    far = t_max.min(axis=1)
    axis = t_min.argmax(axis=1)
    hit = (near <= far) & (near > 1e-6)
    t = np.where(hit, near, np.inf)
    sign = -np.sign(local_d[np.arange(len(o)), axis])
    world_axes = np.stack([axis_u, np.array([0.0, 1.0, 0.0]), axis_v])
    normal = world_axes[axis] * sign[:, None]
    return t, normal


def shade(bodies: list[SolidBody], index: np.ndarray, normal: np.ndarray, unit_directions: np.ndarray, t: np.ndarray) -> np.ndarray:
    """RGB of body hits: each agent's flat colour, lit like the scene (ambient + sun + head light,
    dimmed with distance)."""
    colors = np.array([agent_color(b.agent_id) for b in bodies], dtype=np.float64)[index]
    sun = np.abs(normal @ _LIGHT)
    facing = np.abs(np.einsum("ij,ij->i", normal, unit_directions))
    value = (0.35 + 0.25 * sun + 0.45 * facing) / (1.0 + 0.04 * np.minimum(t, 50.0))
    return np.clip(colors * value[:, None], 0, 255).astype(np.uint8)
