"""MPPI local planner: vectorised rollouts of sampled velocity commands under a body's kinematics.

Model Predictive Path Integral control (Williams et al.): sample ``samples`` command sequences of
``horizon`` control steps around the current mean sequence (Gaussian noise, correlated in time,
clipped to the command box; the mean itself, "stand still" and a few fixed turn-then-drive
sequences are always among them), roll each out under the body's kinematic model, score it with a
cost, and move the mean to the cost-weighted average ``sum_k w_k V_k`` with
``w_k ∝ exp(-(S_k - min S) / temperature)``. The first command of the mean is sent; the mean,
shifted by one step, warm-starts the next call. Seeded: the same seed and inputs give the same
commands. The dual-heatmap paper
(``../shared/papers/dual-heatmap.txt``, Sec. 3.5, Eq. 8) drives Jetbot, H1 and Aliengo this way:
"rolls out candidate trajectories under embodiment-specific kinematic constraints", scoring the
"projected spatial reward" of the navigation heatmap along the path and the final pose's
alignment with the facing heatmap. It gives no planner parameters; everything below is navgym's.

**Frames.** Everything is in the agent's *ego ground frame* at planning time: ``x`` forward, ``y``
to the left (metres), yaw counter-clockwise seen from above (radians, 0 = forward, left positive,
the embodiments' convention). A :class:`LocalGrid` rasterises that frame: array element
``[i, j]`` is the cell at ``x = x_min + (i + 0.5) * cell_size``, ``y = y_min + (j + 0.5) * cell_size``.

**Model** (:class:`BodyModel`, from an embodiment with :meth:`BodyModel.from_embodiment`): the
body's command box, control period ``dt`` and integration ``substep``, its first-order velocity
lag (``velocity_time_constant``) with bounded accelerations, and the Jetbot's wheel-speed limit:
the same equations as :class:`~navgym.embodiments.locomotion.VelocityBody` (solved in closed form
per control step, so every sample and substep is one array operation), without command noise,
gait or collisions. ``[v, yaw_rate]`` bodies (Jetbot, H1, ``unicycle``) are unicycles,
``[vx, vy, yaw_rate]`` bodies (Aliengo) holonomic with yaw. At the model's own substep a rollout
reproduces the env's motion in open space exactly (noise off); the planner integrates at
``integration_step`` (0.1 s) by default, within a few centimetres of it.

**Cost** of a rollout (each term per control step, costs evaluated every ``cost_interval``
seconds of the rollout and averaged per step):

* goal: ``goal_weight * potential(x, y)`` along the path plus ``terminal_weight * potential``
  at the end, where the potential (metres) is a grid (:class:`Costmap`) made by
  :func:`goal_potential` from weighted ground points (e.g. a navigation heatmap projected through
  depth by :func:`heatmap_to_ground`, or a target point or region), by :func:`path_potential`
  from a path, or given directly;
* collision: the body's footprint as circles (:meth:`BodyModel.footprint_circles`: its cylinder
  plus a row of circles along its rectangle) against a clearance map (:func:`clearance_map`,
  metres to the nearest obstacle of an occupancy grid built from depth by
  :func:`obstacles_from_depth` or cut from an :class:`~navgym.agents.mapping.OccupancyMap` by
  :func:`obstacles_from_map`): ``collision_weight * (1 + depth / clearance_margin)`` per state
  where a circle overlaps an obstacle by ``depth`` metres (so in a too-tight spot the least deep
  way wins), plus ``clearance_weight * (1 - gap / clearance_margin)²`` where the gap is under
  the margin; cells off the grid are free;
* facing: ``facing_weight * (m_end + mean_t m_t)`` with
  ``m = (1 - cos e) * exp(-potential / facing_range)``, ``e`` the angle between the heading and
  the direction to a facing point (or a facing yaw): it counts near the goal, at the end and on
  the way there (so a body standing at its goal turns now rather than at the horizon's end);
* smoothness: ``smoothness_weight * sum ((u_t - u_{t-1}) / half_range)²``, ``u_{-1}`` the last
  command sent.

Speed: ``scripts/bench_mppi.py`` measures a control step per body (docs/results/mppi_latency.json).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, Sequence

import numpy as np
from scipy import ndimage

from navgym.core.checks import check_int, check_range
from navgym.core.specs import CameraSpec
from navgym.errors import InvalidArgumentError

__all__ = [
    "BodyModel", "Costmap", "GroundPoints", "LocalGrid", "MPPIConfig", "MPPIPlanner", "PlanResult", "Rollout",
    "clearance_map", "ego_points_from_depth", "goal_potential", "heatmap_facing_point", "heatmap_to_ground",
    "obstacles_from_depth", "obstacles_from_map", "path_potential",
]  # fmt: skip


# -- the kinematic model ---------------------------------------------------------------------------
@dataclass
class Rollout:
    """States of rolled-out command sequences, after every integration substep.

    Attributes:
        x, y, yaw: (S, K) ego pose after substep ``s`` of sample ``k`` (``S = horizon * substeps``).
        velocity: (S, K, 3) body-frame (vx, vy, yaw rate) after each substep.
        substep: Seconds per substep.
    """

    x: np.ndarray
    y: np.ndarray
    yaw: np.ndarray
    velocity: np.ndarray
    substep: float


@dataclass(frozen=True)
class BodyModel:
    """A body's kinematics for rollouts (see the module docstring).

    Attributes:
        name: The embodiment's name.
        command_low, command_high: Bounds of the velocity command (``stop`` excluded): length 2
            (vx, yaw_rate: a unicycle) or 3 (vx, vy, yaw_rate: holonomic with yaw).
        dt: Seconds one command is held (the env's control period).
        substep: Integration step, seconds (``dt`` is split into equal substeps no longer than it).
        velocity_time_constant: First-order lag of the body's velocity behind the command, seconds
            (0: none).
        max_linear_acceleration: Bound on the change of (vx, vy), m/s² (``inf``: none).
        max_angular_acceleration: Bound on the change of the yaw rate, rad/s² (``inf``: none).
        radius: The body's cylinder, metres.
        footprint: ``(length along the heading, width)`` of a rectangular footprint, or ``None``.
        wheel_radius, wheel_base, max_wheel_speed: A differential drive's wheel-speed limit (the
            Jetbot's): a command needing a faster wheel is scaled down as a whole. ``None``: no limit.
    """

    name: str
    command_low: tuple[float, ...]
    command_high: tuple[float, ...]
    dt: float = 0.5
    substep: float = 0.05
    velocity_time_constant: float = 0.0
    max_linear_acceleration: float = math.inf
    max_angular_acceleration: float = math.inf
    radius: float = 0.18
    footprint: tuple[float, float] | None = None
    wheel_radius: float | None = None
    wheel_base: float | None = None
    max_wheel_speed: float | None = None

    def __post_init__(self) -> None:
        low = tuple(float(v) for v in np.asarray(self.command_low, dtype=np.float64).reshape(-1))
        high = tuple(float(v) for v in np.asarray(self.command_high, dtype=np.float64).reshape(-1))
        if len(low) not in (2, 3) or len(high) != len(low):
            raise InvalidArgumentError(
                f"command_low={list(low)}, command_high={list(high)} must bound (vx, yaw_rate) or (vx, vy, yaw_rate)"
            )
        if not all(math.isfinite(a) and math.isfinite(b) and a <= b for a, b in zip(low, high)):
            raise InvalidArgumentError(f"command_low={list(low)} and command_high={list(high)} must be finite with low <= high")
        object.__setattr__(self, "command_low", low)
        object.__setattr__(self, "command_high", high)
        check_range("dt", self.dt, 0.0, 10.0, low_open=True)
        check_range("substep", self.substep, 0.0, 10.0, low_open=True)
        check_range("velocity_time_constant", self.velocity_time_constant, 0.0, 10.0)
        for name in ("max_linear_acceleration", "max_angular_acceleration"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0):
                raise InvalidArgumentError(f"{name}={value!r} must be a number > 0 (inf: unbounded)")
        check_range("radius", self.radius, 0.0, 5.0, low_open=True)
        if self.footprint is not None:
            try:
                length, width = (float(v) for v in self.footprint)
            except (TypeError, ValueError):
                raise InvalidArgumentError(f"footprint={self.footprint!r} must be (length, width) in metres, or None") from None
            check_range("footprint length", length, 0.0, 5.0, low_open=True)
            check_range("footprint width", width, 0.0, 5.0, low_open=True)
            object.__setattr__(self, "footprint", (length, width))
        wheels = (self.wheel_radius, self.wheel_base, self.max_wheel_speed)
        if any(v is not None for v in wheels):
            if any(v is None for v in wheels):
                raise InvalidArgumentError("wheel_radius, wheel_base and max_wheel_speed go together (all or none)")
            check_range("wheel_radius", self.wheel_radius, 0.0, 1.0, low_open=True)
            check_range("wheel_base", self.wheel_base, 0.0, 5.0, low_open=True)
            check_range("max_wheel_speed", self.max_wheel_speed, 0.0, 1e4, low_open=True)

    @classmethod
    def from_embodiment(cls, embodiment: Any) -> "BodyModel":
        """The model of a velocity-commanded embodiment: a
        :class:`~navgym.embodiments.locomotion.VelocityBody` (Jetbot, H1, Aliengo) or the
        ``unicycle`` (no lag: one step per ``dt``, heading at mid-turn).

        Raises:
            InvalidArgumentError: for an embodiment without velocity commands (e.g. ``habitat``).
        """
        from navgym.embodiments.locomotion import VelocityBody
        from navgym.embodiments.unicycle import UnicycleAgent

        body = getattr(embodiment, "body", None)
        radius = float(body.radius) if body is not None else 0.18
        if isinstance(embodiment, VelocityBody):
            wheels: dict[str, Any] = {}
            if all(hasattr(embodiment, n) for n in ("wheel_radius", "wheel_base", "max_wheel_speed")):
                wheels = {n: float(getattr(embodiment, n)) for n in ("wheel_radius", "wheel_base", "max_wheel_speed")}
            return cls(
                name=embodiment.name,
                command_low=tuple(embodiment.command_low),
                command_high=tuple(embodiment.command_high),
                dt=float(embodiment.dt),
                substep=float(embodiment.substep),
                velocity_time_constant=float(embodiment.velocity_time_constant),
                max_linear_acceleration=float(embodiment.max_linear_acceleration),
                max_angular_acceleration=float(embodiment.max_angular_acceleration),
                radius=radius,
                footprint=embodiment.footprint,
                **wheels,
            )
        if isinstance(embodiment, UnicycleAgent):
            return cls(
                name=embodiment.name,
                command_low=(-embodiment.max_linear_velocity, -embodiment.max_angular_velocity),
                command_high=(embodiment.max_linear_velocity, embodiment.max_angular_velocity),
                dt=float(embodiment.dt),
                substep=float(embodiment.dt),
                radius=radius,
            )
        name = getattr(embodiment, "name", type(embodiment).__name__)
        raise InvalidArgumentError(
            f"embodiment {name!r} has no velocity commands: the MPPI planner drives 'jetbot', 'h1', 'aliengo' or 'unicycle'"
        )

    # -- derived ------------------------------------------------------------------------------------
    @property
    def holonomic(self) -> bool:
        """Whether commands are (vx, vy, yaw_rate)."""
        return len(self.command_low) == 3

    @property
    def low(self) -> np.ndarray:
        return np.asarray(self.command_low)

    @property
    def high(self) -> np.ndarray:
        return np.asarray(self.command_high)

    @property
    def substeps(self) -> int:
        """Integration substeps per control step."""
        return max(1, int(math.ceil(self.dt / self.substep - 1e-9)))

    def footprint_circles(self) -> tuple[np.ndarray, np.ndarray]:
        """Circles standing for the body: ``(centres (C, 2) body frame, radii (C,))``. The cylinder
        is one; a rectangle adds circles of half its short side along its long side, spaced at
        most that radius apart, from end to end (a stadium: exact along both axes, the corners
        rounded off by at most 0.41 x half the short side, which the soft clearance term
        covers). Circles inside another are dropped."""
        circles = [(0.0, 0.0, self.radius)]
        if self.footprint is not None:
            length, width = self.footprint
            long_side, short_side = max(length, width), min(length, width)
            radius = 0.5 * short_side
            span = long_side - short_side
            count = int(math.ceil(span / radius - 1e-9)) + 1 if span > 1e-9 else 1
            for offset in np.linspace(-0.5 * span, 0.5 * span, count):
                centre = (float(offset), 0.0) if length >= width else (0.0, float(offset))
                circles.append((centre[0], centre[1], radius))
        kept = []
        for i, (x, y, r) in enumerate(circles):
            inside = any(
                math.hypot(x - x2, y - y2) + r <= r2 + 1e-9 and (r < r2 or j < i)
                for j, (x2, y2, r2) in enumerate(circles) if j != i
            )
            if not inside:
                kept.append((x, y, r))
        return np.asarray([c[:2] for c in kept], dtype=np.float64), np.asarray([c[2] for c in kept], dtype=np.float64)

    def body_velocity(self, commands: np.ndarray) -> np.ndarray:
        """(..., 3) body-frame target velocity (vx, vy, wz) of clipped commands (..., 2 or 3)."""
        commands = np.clip(np.asarray(commands, dtype=np.float64), self.low, self.high)
        out = np.zeros(commands.shape[:-1] + (3,))
        if self.holonomic:
            out[:] = commands
        else:
            out[..., 0] = commands[..., 0]
            out[..., 2] = commands[..., 1]
        if self.max_wheel_speed is not None:
            v, w = out[..., 0], out[..., 2]
            fastest = (np.abs(v) + 0.5 * np.abs(w) * self.wheel_base) / self.wheel_radius
            scale = np.where(fastest > self.max_wheel_speed, self.max_wheel_speed / np.maximum(fastest, 1e-12), 1.0)
            out[..., 0] *= scale
            out[..., 2] *= scale
        return out

    def _tracking(self) -> tuple[int, float, np.ndarray, float, np.ndarray]:
        count = self.substeps
        step = self.dt / count
        lag = 1.0 - math.exp(-step / self.velocity_time_constant) if self.velocity_time_constant > 0.0 else 1.0
        decay = (1.0 - lag) ** np.arange(count + 1)
        # Per-substep bounds on the (vx, vy) and yaw-rate changes (a huge number for "none": no inf * 0).
        limits = np.minimum([self.max_linear_acceleration * step, self.max_angular_acceleration * step], 1e9)
        return count, step, decay, lag, limits

    def step_velocity(self, command: Sequence[float] | np.ndarray, velocity: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
        """Body velocity (vx, vy, wz) after holding ``command`` for ``dt`` from ``velocity``."""
        count, _, decay, lag, limits = self._tracking()
        start = np.zeros((1, 3)) if velocity is None else np.asarray(velocity, dtype=np.float64).reshape(1, 3)
        goal = self.body_velocity(np.asarray(command, dtype=np.float64).reshape(1, -1))
        return _track(goal, start, count, decay, lag, limits, self.holonomic)[0]

    def rollout(self, commands: np.ndarray, velocity: Sequence[float] | np.ndarray | None = None) -> Rollout:
        """Roll out (K, T, m) command sequences from the ego origin (yaw 0) with the body's
        current velocity ``velocity`` (vx, vy, wz; default standing still)."""
        commands = np.asarray(commands, dtype=np.float64)
        if commands.ndim != 3 or commands.shape[-1] != len(self.command_low):
            raise InvalidArgumentError(
                f"commands has shape {commands.shape}; expected (samples, horizon, {len(self.command_low)})"
            )
        samples, horizon, _ = commands.shape
        count, step, decay, lag, limits = self._tracking()
        target = np.swapaxes(self.body_velocity(commands), 0, 1)  # (T, K, 3)
        v = np.zeros((samples, 3))
        if velocity is not None:
            v[:] = np.asarray(velocity, dtype=np.float64).reshape(3)
        # The velocity at the start of each control step (sequential, one small update per step) ...
        starts = np.empty((horizon, samples, 3))
        for t in range(horizon):
            starts[t] = v
            v = _track(target[t], v, count, decay, lag, limits, self.holonomic)
        # ... then every substep at once: (n, T, K, 3) -> (T * n, K, 3).
        k = np.arange(1, count + 1).reshape(count, 1, 1, 1)
        velocities = _track(target[None], starts[None], k, decay, lag, limits, self.holonomic)
        velocities = np.swapaxes(velocities, 0, 1).reshape(horizon * count, samples, 3)
        velocities = np.moveaxis(velocities, -1, 0)
        turn = velocities[2] * step
        yaw = np.cumsum(turn, axis=0)
        mid = yaw - 0.5 * turn
        cos, sin = np.cos(mid), np.sin(mid)
        vx, vy = velocities[0], velocities[1]
        if self.holonomic:
            x = np.cumsum((vx * cos - vy * sin) * step, axis=0)
            y = np.cumsum((vx * sin + vy * cos) * step, axis=0)
        else:
            x = np.cumsum(vx * cos * step, axis=0)
            y = np.cumsum(vx * sin * step, axis=0)
        velocities = np.moveaxis(velocities, 0, -1)
        return Rollout(x=x, y=y, yaw=yaw, velocity=velocities, substep=step)


def _track(goal: np.ndarray, start: np.ndarray, k: np.ndarray, decay: np.ndarray, lag: float, limits: np.ndarray, holonomic: bool) -> np.ndarray:
    """Velocity (..., 3) ``k`` substeps after ``start`` while tracking a constant ``goal`` with the
    locomotion model's rule (:meth:`~navgym.embodiments.locomotion.VelocityBody.track`): each
    substep closes ``lag`` of the gap, by at most ``limits`` (linear (vx, vy) norm, yaw rate).
    The direction of the (vx, vy) gap never changes, so its norm obeys the 1-D rule: it shrinks by
    the limit a substep while ``lag * gap > limit``, then geometrically (``decay[j] = (1 - lag)**j``).
    A component slowing to a zero goal is zero below 1 mm/s (1 mrad/s), as in the model."""
    gap = goal - start
    norms = np.empty(gap.shape[:-1] + (2,))
    if holonomic:
        np.hypot(gap[..., 0], gap[..., 1], out=norms[..., 0])
    else:
        np.abs(gap[..., 0], out=norms[..., 0])
    np.abs(gap[..., 2], out=norms[..., 1])
    clamped = np.minimum(np.ceil(np.maximum(norms - limits / lag, 0.0) / limits), decay.size - 1)
    if not clamped.any():  # the lag alone: a geometric decay
        left = norms * (decay[k] if np.ndim(k) == 0 else decay[k.reshape(-1)].reshape(np.shape(k)))
    else:
        tail = (norms - clamped * limits) * decay[np.maximum(k - clamped, 0.0).astype(np.int64)]
        left = np.where(k <= clamped, norms - k * limits, tail)
    share = np.divide(left, norms, out=np.zeros(left.shape), where=norms > 0.0)
    velocity = goal - gap * share[..., [0, 0, 1]]
    velocity[(goal == 0.0) & (np.abs(velocity) < 1e-3)] = 0.0
    return velocity


# -- the local grid and what goes on it ------------------------------------------------------------
@dataclass(frozen=True)
class LocalGrid:
    """A raster of the ego ground frame (``[i, j]``: ``i`` along x forward, ``j`` along y left).

    Defaults: 0.1 m cells, 3 m behind to 7 m ahead, 5 m to each side (100 x 100 cells): in-view
    targets lie ahead within a few metres (SemanticNav's start distances are capped at 5 m).
    """

    cell_size: float = 0.1
    x_min: float = -3.0
    x_max: float = 7.0
    y_min: float = -5.0
    y_max: float = 5.0

    def __post_init__(self) -> None:
        check_range("cell_size", self.cell_size, 0.005, 1.0)
        for name in ("x_min", "x_max", "y_min", "y_max"):
            check_range(name, getattr(self, name), -100.0, 100.0)
        if self.x_max - self.x_min < 2 * self.cell_size or self.y_max - self.y_min < 2 * self.cell_size:
            raise InvalidArgumentError(
                f"x_min={self.x_min}, x_max={self.x_max}, y_min={self.y_min}, y_max={self.y_max}: the grid must be at least two cells each way"
            )
        if self.shape[0] * self.shape[1] > 4_000_000:
            raise InvalidArgumentError(f"cell_size={self.cell_size} makes a {self.shape} grid; more than 4M cells")

    @property
    def shape(self) -> tuple[int, int]:
        return (int(round((self.x_max - self.x_min) / self.cell_size)), int(round((self.y_max - self.y_min) / self.cell_size)))

    def cells(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Integer (i, j) of ego points; may lie outside the grid."""
        i = np.floor((np.asarray(x, dtype=np.float64) - self.x_min) / self.cell_size).astype(np.int64)
        j = np.floor((np.asarray(y, dtype=np.float64) - self.y_min) / self.cell_size).astype(np.int64)
        return i, j

    def inside(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        rows, cols = self.shape
        return (i >= 0) & (j >= 0) & (i < rows) & (j < cols)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) arrays of the cells' x and y."""
        rows, cols = self.shape
        xs = self.x_min + (np.arange(rows) + 0.5) * self.cell_size
        ys = self.y_min + (np.arange(cols) + 0.5) * self.cell_size
        return np.meshgrid(xs, ys, indexing="ij")

    def clamp(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points moved onto the grid (cell centres at the border) and how far each moved."""
        half = 0.5 * self.cell_size
        cx = np.clip(x, self.x_min + half, self.x_max - half)
        cy = np.clip(y, self.y_min + half, self.y_max - half)
        return cx, cy, np.hypot(x - cx, y - cy)


@dataclass
class GroundPoints:
    """Weighted points on the ground, ego frame.

    Attributes:
        points: (N, 2) x forward, y left, metres.
        weights: (N,) in (0, 1] (a heatmap's values; 1 for a plain target).
    """

    points: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        self.points = np.asarray(self.points, dtype=np.float64).reshape(-1, 2)
        self.weights = np.broadcast_to(np.asarray(self.weights, dtype=np.float64), (len(self.points),)).copy()
        if not (np.isfinite(self.points).all() and np.isfinite(self.weights).all()):
            raise InvalidArgumentError("GroundPoints: points and weights must be finite")
        if (self.weights < 0).any():
            raise InvalidArgumentError("GroundPoints: weights must be >= 0")

    @classmethod
    def target(cls, point: Sequence[float]) -> "GroundPoints":
        """One target point (x, y) of weight 1."""
        return cls(np.asarray(point, dtype=np.float64).reshape(1, 2), np.ones(1))

    def __len__(self) -> int:
        return len(self.points)


def _depth_2d(depth: np.ndarray) -> np.ndarray:
    depth = np.asarray(depth, dtype=np.float64)
    if depth.ndim == 3 and depth.shape[-1] == 1:
        depth = depth[..., 0]
    if depth.ndim != 2:
        raise InvalidArgumentError(f"depth has shape {depth.shape}; expected (H, W) or (H, W, 1)")
    return depth


def ego_points_from_depth(depth: np.ndarray, camera: CameraSpec, pitch: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Ego-frame 3D points of a z-depth image and which pixels hit something.

    Args:
        depth: (H, W) or (H, W, 1) z-depth, metres (the env's ``depth`` observation).
        camera: The camera (``hfov``, ``camera_height``, ``pitch``, ``min_depth``, ``max_depth``);
            the principal point is the image centre, pixels square (navgym's renderer).
        pitch: Extra tilt, degrees (positive up), on top of ``camera.pitch``.

    Returns:
        ``(points (H, W, 3): x forward, y left, z up above the floor; valid (H, W) bool)``: valid
        pixels have a depth inside ``(min_depth, max_depth)`` (no-return pixels read ``max_depth``).
    """
    from navgym.agents.mapping.geometry import Pose2D, camera_to_start_frame, depth_to_camera_points

    depth = _depth_2d(depth)
    world = camera_to_start_frame(depth_to_camera_points(depth, camera.hfov), Pose2D(0.0, 0.0, 0.0), camera.camera_height, camera.pitch + pitch)
    points = np.stack([-world[..., 2], -world[..., 0], world[..., 1]], axis=-1)
    tolerance = 1e-3 * camera.max_depth
    valid = np.isfinite(depth) & (depth > max(camera.min_depth, 1e-6)) & (depth < camera.max_depth - tolerance)
    return points, valid


def _points(depth: np.ndarray, camera: CameraSpec, pitch: float, given) -> tuple[np.ndarray, np.ndarray]:
    """``given`` (checked against the depth image's size) or :func:`ego_points_from_depth`."""
    if given is None:
        return ego_points_from_depth(depth, camera, pitch)
    points, valid = given
    if np.shape(points) != depth.shape + (3,) or np.shape(valid) != depth.shape:
        raise InvalidArgumentError(f"points do not belong to this {depth.shape} depth frame; pass ego_points_from_depth(depth, camera)")
    return points, valid


def _resize_to(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a 2D array to ``shape``."""
    if image.shape == shape:
        return image
    rows = np.minimum((np.arange(shape[0]) + 0.5) * image.shape[0] / shape[0], image.shape[0] - 1).astype(np.int64)
    cols = np.minimum((np.arange(shape[1]) + 0.5) * image.shape[1] / shape[1], image.shape[1] - 1).astype(np.int64)
    return image[np.ix_(rows, cols)]


def _heatmap_2d(heatmap: np.ndarray, name: str) -> np.ndarray:
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if heatmap.ndim == 3 and heatmap.shape[-1] == 1:
        heatmap = heatmap[..., 0]
    if heatmap.ndim != 2:
        raise InvalidArgumentError(f"{name} has shape {heatmap.shape}; expected (H, W)")
    if not np.isfinite(heatmap).all():
        raise InvalidArgumentError(f"{name} has non-finite values")
    return heatmap


def heatmap_to_ground(
    heatmap: np.ndarray,
    depth: np.ndarray,
    camera: CameraSpec,
    *,
    min_weight: float = 0.05,
    max_points: int = 4096,
    pitch: float = 0.0,
    points: tuple[np.ndarray, np.ndarray] | None = None,
) -> GroundPoints:
    """An image heatmap as weighted ground points: each pixel's depth hit, dropped onto the floor.

    A navigation heatmap marks floor pixels, so its points are the standing spots it proposes
    (the dual-heatmap paper projects its heatmaps "into the robot-centered 3D geometric
    representation using the corresponding depth stream and the camera's extrinsic matrix",
    Sec. 3.5). Pixels without a depth return are dropped.

    Args:
        heatmap: (h, w) values in [0, 1] (resized to the depth image's size, nearest neighbour,
            when it differs).
        depth, camera, pitch: As :func:`ego_points_from_depth`.
        min_weight: Pixels below this are dropped.
        max_points: At most this many points are kept (the heaviest; ties in pixel order).
        points: :func:`ego_points_from_depth` of this depth frame, if already computed (the
            heatmaps and the obstacles of one frame share it).

    Returns:
        :class:`GroundPoints` (possibly empty).
    """
    check_range("min_weight", min_weight, 0.0, 1.0)
    max_points = check_int("max_points", max_points, 1)
    depth = _depth_2d(depth)
    heat = _resize_to(_heatmap_2d(heatmap, "heatmap"), depth.shape)
    points, valid = _points(depth, camera, pitch, points)
    keep = valid & (heat >= min_weight) & (heat > 0.0)
    xy, weights = points[keep][:, :2], heat[keep]
    if len(weights) > max_points:
        order = np.argsort(-weights, kind="stable")[:max_points]
        xy, weights = xy[order], weights[order]
    return GroundPoints(xy, np.minimum(weights, 1.0))


def heatmap_facing_point(
    heatmap: np.ndarray,
    depth: np.ndarray,
    camera: CameraSpec,
    *,
    threshold: float = 0.5,
    pitch: float = 0.0,
    points: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray | None:
    """Where a facing heatmap says to face: the mean ego (x, y) of the depth hits of the pixels
    at or above half the peak, or ``None`` when the peak is below ``threshold`` (the paper's
    confidence threshold for a prediction, 0.5, Sec. 4.1) or none of them has depth. ``points``:
    as :func:`heatmap_to_ground`."""
    check_range("threshold", threshold, 0.0, 1.0)
    depth = _depth_2d(depth)
    heat = _resize_to(_heatmap_2d(heatmap, "heatmap"), depth.shape)
    peak = float(heat.max()) if heat.size else 0.0
    if peak < threshold or peak <= 0.0:
        return None
    points, valid = _points(depth, camera, pitch, points)
    keep = valid & (heat >= 0.5 * peak)
    if not keep.any():
        return None
    return points[keep][:, :2].mean(axis=0)


def obstacles_from_depth(
    depth: np.ndarray,
    camera: CameraSpec,
    grid: LocalGrid,
    *,
    min_height: float = 0.05,
    max_height: float = 1.5,
    pitch: float = 0.0,
    points: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Occupancy of one depth frame on ``grid``: cells under depth hits between ``min_height``
    (above the floor) and ``max_height`` (what the body would pass under). Returns a bool grid.
    ``points``: as :func:`heatmap_to_ground`."""
    check_range("min_height", min_height, 0.0, 10.0)
    check_range("max_height", max_height, min_height, 20.0, low_open=True)
    points, valid = _points(_depth_2d(depth), camera, pitch, points)
    height = points[..., 2]
    hit = valid & (height >= min_height) & (height <= max_height)
    i, j = grid.cells(points[hit][:, 0], points[hit][:, 1])
    inside = grid.inside(i, j)
    occupied = np.zeros(grid.shape, dtype=bool)
    occupied[i[inside], j[inside]] = True
    return occupied


def obstacles_from_map(occupancy: Any, pose: Any, grid: LocalGrid) -> np.ndarray:
    """The obstacles of an :class:`~navgym.agents.mapping.OccupancyMap` (start frame) around the
    agent at ``pose`` (a :class:`~navgym.agents.mapping.Pose2D` in that frame), on the ego
    ``grid``: every obstacle cell near enough to land on the grid marks the ego cell its centre
    falls in (so a finer map loses nothing)."""
    reach = math.hypot(max(abs(grid.x_min), abs(grid.x_max)), max(abs(grid.y_min), abs(grid.y_max))) + occupancy.cell_size
    lo_r, lo_c = occupancy.world_to_cell(np.array([pose.x - reach, pose.z - reach]))
    hi_r, hi_c = occupancy.world_to_cell(np.array([pose.x + reach, pose.z + reach]))
    rows_, cols_ = occupancy.shape
    r0, r1 = max(0, int(lo_r)), min(rows_, int(hi_r) + 1)
    c0, c1 = max(0, int(lo_c)), min(cols_, int(hi_c) + 1)
    out = np.zeros(grid.shape, dtype=bool)
    if r0 >= r1 or c0 >= c1:
        return out
    rows, cols = np.nonzero(occupancy.obstacle[r0:r1, c0:c1])
    if rows.size == 0:
        return out
    world = occupancy.cell_to_world(rows + r0, cols + c0)
    dx, dz = world[:, 0] - pose.x, world[:, 1] - pose.z
    sin, cos = math.sin(pose.yaw), math.cos(pose.yaw)
    # Start frame (x right, z backward) -> ego (forward, left) at the agent's yaw.
    i, j = grid.cells(-dx * sin - dz * cos, -dx * cos + dz * sin)
    inside = grid.inside(i, j)
    out[i[inside], j[inside]] = True
    return out


def clearance_map(grid: LocalGrid, obstacles: np.ndarray) -> np.ndarray:
    """Metres from each cell centre to the nearest obstacle's near edge (the obstacle cell's
    centre less half a cell); ``inf`` everywhere without obstacles."""
    obstacles = np.asarray(obstacles, dtype=bool)
    if obstacles.shape != grid.shape:
        raise InvalidArgumentError(f"obstacles has shape {obstacles.shape}; the grid's is {grid.shape}")
    if not obstacles.any():
        return np.full(grid.shape, np.inf)
    return np.maximum(ndimage.distance_transform_edt(~obstacles) * grid.cell_size - 0.5 * grid.cell_size, 0.0)


def _rasterise(grid: LocalGrid, goal: GroundPoints) -> np.ndarray:
    """The largest weight of the points in each cell (points off the grid go to its border)."""
    cx, cy, _ = grid.clamp(goal.points[:, 0], goal.points[:, 1])
    i, j = grid.cells(cx, cy)
    raster = np.zeros(grid.shape)
    np.maximum.at(raster, (i, j), goal.weights)
    return raster


def goal_potential(
    grid: LocalGrid,
    goal: GroundPoints | Sequence[float],
    *,
    method: str = "euclidean",
    levels: int = 3,
    weight_scale: float = 1.0,
    obstacles: np.ndarray | None = None,
    inflation: float = 0.0,
) -> np.ndarray:
    """A goal potential (metres) on ``grid``: ``min over points q of d(p, q) + weight_scale * (1 - w_q / w_max)``,
    so the body is drawn to the nearest heavy points (0 on the heaviest). Weights, relative to the
    largest, are quantised to ``levels`` equal bins, a point counting at its bin's upper edge (with
    3 levels: 1, 2/3, 1/3); one distance transform per level.

    Args:
        grid: The ego grid.
        goal: Weighted ground points, or one target point (x, y).
        method: ``"euclidean"`` (straight-line distance, exact, ~0.2 ms per level on the default grid)
            or ``"geodesic"`` (fast marching around ``obstacles`` inflated by ``inflation``; unknown
            cells count as free; a few ms per level; cells it cannot reach get the Euclidean value
            plus the grid's diagonal).
        levels: Weight levels (1: every point counts as the heaviest).
        weight_scale: Metres of detour one unit of weight is worth.
        obstacles: Bool grid (``"geodesic"`` only).
        inflation: Metres (``"geodesic"``): usually the body's radius.

    Raises:
        InvalidArgumentError: for an empty goal, an unknown method or bad values.
    """
    if method not in ("euclidean", "geodesic"):
        raise InvalidArgumentError(f"method={method!r} is not a potential method; use 'euclidean' or 'geodesic'")
    levels = check_int("levels", levels, 1)
    check_range("weight_scale", weight_scale, 0.0, 100.0)
    check_range("inflation", inflation, 0.0, 5.0)
    if not isinstance(goal, GroundPoints):
        goal = GroundPoints.target(goal)
    if len(goal) == 0 or float(goal.weights.max()) <= 0.0:
        raise InvalidArgumentError("goal has no point of positive weight: nothing to go to")
    raster = _rasterise(grid, goal)
    top = float(raster.max())
    traversable = None
    if method == "geodesic":
        from navgym.agents.planning.geodesic import distance_field, inflate_obstacles

        if obstacles is None:
            obstacles = np.zeros(grid.shape, dtype=bool)
        obstacles = np.asarray(obstacles, dtype=bool)
        if obstacles.shape != grid.shape:
            raise InvalidArgumentError(f"obstacles has shape {obstacles.shape}; the grid's is {grid.shape}")
        traversable = ~inflate_obstacles(obstacles, inflation, grid.cell_size)
    potential = np.full(grid.shape, np.inf)
    diagonal = math.hypot(grid.x_max - grid.x_min, grid.y_max - grid.y_min)
    for level in range(levels):
        # Level l holds weights in (top * (L-l-1)/L, top * (L-l)/L]; its targets are every point
        # above its lower edge, counted at its upper edge: l/L below the top.
        targets = raster > top * (levels - level - 1) / levels
        euclid = ndimage.distance_transform_edt(~targets) * grid.cell_size
        if traversable is not None:
            geo = distance_field(traversable, targets, grid.cell_size)
            distance = np.where(np.isfinite(geo), geo, euclid + diagonal)
        else:
            distance = euclid
        np.minimum(potential, distance + weight_scale * level / levels, out=potential)
    return potential


def path_potential(grid: LocalGrid, path: np.ndarray, *, cross_weight: float = 2.0, spacing: float | None = None) -> np.ndarray:
    """A potential (metres) that pulls along a path to its end: the path length left from the
    nearest path point plus ``cross_weight`` times the distance to it.

    Args:
        grid: The ego grid.
        path: (N, 2) ego points from near the body to the goal (points off the grid go to its border).
        cross_weight: Cost of a metre off the path, in metres of path (> 1 keeps the body near it).
        spacing: The path is resampled every ``spacing`` metres first (default: half a cell).
    """
    check_range("cross_weight", cross_weight, 0.0, 100.0)
    path = np.asarray(path, dtype=np.float64).reshape(-1, 2)
    if len(path) == 0 or not np.isfinite(path).all():
        raise InvalidArgumentError("path must have at least one finite (x, y) point")
    spacing = 0.5 * grid.cell_size if spacing is None else check_range("spacing", spacing, 0.0, 10.0, low_open=True)
    steps = np.hypot(*np.diff(path, axis=0).T) if len(path) > 1 else np.zeros(0)
    along = np.concatenate([[0.0], np.cumsum(steps)])
    total = float(along[-1])
    if total > 0:
        s = np.append(np.arange(0.0, total, spacing), total)
        path = np.stack([np.interp(s, along, path[:, 0]), np.interp(s, along, path[:, 1])], axis=1)
        along = s
    remaining = total - along
    cx, cy, _ = grid.clamp(path[:, 0], path[:, 1])
    i, j = grid.cells(cx, cy)
    left = np.full(grid.shape, np.inf)
    np.minimum.at(left, (i, j), remaining)
    on_path = np.isfinite(left)
    distance, (ni, nj) = ndimage.distance_transform_edt(~on_path, return_indices=True)
    return left[ni, nj] + cross_weight * distance * grid.cell_size


@dataclass
class Costmap:
    """What the planner scores rollouts against, on one ego :class:`LocalGrid`.

    Attributes:
        grid: The grid.
        potential: Goal potential (metres; lower is better) or ``None`` (no goal term).
        clearance: Metres to the nearest obstacle (:func:`clearance_map`) or ``None`` (no collisions).
    """

    grid: LocalGrid = field(default_factory=LocalGrid)
    potential: np.ndarray | None = None
    clearance: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("potential", "clearance"):
            value = getattr(self, name)
            if value is None:
                continue
            value = np.asarray(value, dtype=np.float64)
            if value.shape != self.grid.shape:
                raise InvalidArgumentError(f"{name} has shape {value.shape}; the grid's is {self.grid.shape}")
            if np.isnan(value).any() or (name == "potential" and not np.isfinite(value).all()):
                raise InvalidArgumentError(f"{name} must be finite (clearance may be inf)")
            setattr(self, name, value)
        self._padded = None

    def potential_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The potential at ego points, bilinear between cell centres; off the grid, the border's
        value plus the distance to the grid."""
        grid = self.grid
        rows, cols = grid.shape
        fi = (x - grid.x_min) / grid.cell_size - 0.5
        fj = (y - grid.y_min) / grid.cell_size - 0.5
        ci = np.minimum(np.maximum(fi, 0.0), rows - 1.0)
        cj = np.minimum(np.maximum(fj, 0.0), cols - 1.0)
        outside = np.hypot(fi - ci, fj - cj) * grid.cell_size
        i0 = np.minimum(ci.astype(np.int64), rows - 2)
        j0 = np.minimum(cj.astype(np.int64), cols - 2)
        a, b = ci - i0, cj - j0
        flat = self.potential.reshape(-1)
        index = i0 * cols + j0
        v00, v01, v10, v11 = flat[index], flat[index + 1], flat[index + cols], flat[index + cols + 1]
        return v00 + b * (v01 - v00) + a * ((v10 - v00) + b * (v11 - v10 - v01 + v00)) + outside

    def clearance_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The clearance of the cell under each ego point; ``inf`` off the grid (unknown is free)."""
        grid = self.grid
        if self._padded is None:
            self._padded = np.pad(self.clearance, 1, constant_values=np.inf)
        rows, cols = grid.shape
        i = np.minimum(np.maximum(np.floor((x - grid.x_min) / grid.cell_size) + 1, 0), rows + 1).astype(np.int64)
        j = np.minimum(np.maximum(np.floor((y - grid.y_min) / grid.cell_size) + 1, 0), cols + 1).astype(np.int64)
        return self._padded.reshape(-1)[i * (cols + 2) + j]

    @classmethod
    def build(
        cls,
        grid: LocalGrid | None = None,
        *,
        goal: GroundPoints | Sequence[float] | None = None,
        path: np.ndarray | None = None,
        potential: np.ndarray | None = None,
        obstacles: np.ndarray | None = None,
        **potential_options: Any,
    ) -> "Costmap":
        """A costmap from at most one of ``goal`` (:func:`goal_potential` with
        ``potential_options``), ``path`` (:func:`path_potential`) or ``potential`` (a grid), and an
        optional bool ``obstacles`` grid (:func:`clearance_map`)."""
        grid = grid or LocalGrid()
        given = [n for n, v in (("goal", goal), ("path", path), ("potential", potential)) if v is not None]
        if len(given) > 1:
            raise InvalidArgumentError(f"give one of goal=, path=, potential= (got {given})")
        if goal is not None:
            potential = goal_potential(grid, goal, obstacles=obstacles, **potential_options)
        elif path is not None:
            potential = path_potential(grid, path, **potential_options)
        elif potential_options:
            raise InvalidArgumentError(f"{sorted(potential_options)} only apply with goal= or path=")
        clearance = clearance_map(grid, obstacles) if obstacles is not None else None
        return cls(grid, potential, clearance)


# -- the planner -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MPPIConfig:
    """MPPI parameters (navgym's defaults; the paper gives none).

    Attributes:
        samples: Sampled command sequences per iteration (K), the mean and "stand still" among them.
        horizon: Control steps per sequence (T); at the bodies' 0.5 s period, 10 is 5 s.
        iterations: MPPI updates per control step.
        temperature: lambda of the weights ``exp(-(S - min S) / lambda)``, in cost units.
        noise: Standard deviation of the sampling noise as a share of each component's half range.
        noise_smoothing: Correlation of the noise from one control step to the next (an AR(1)
            process, 0: white): smooth sequences turn for a while and then drive, which white
            noise rarely samples.
        primitives: Also score fixed sequences each call: turn in place at full rate for 0 to
            ``horizon / 2`` steps either way, then drive straight at full speed or stand (and,
            for holonomic bodies, full-speed sideways steps): the manoeuvres sampling misses most.
        goal_weight: Weight of the potential along the rollout (per control step).
        terminal_weight: Weight of the potential at the rollout's end.
        collision_weight: Cost of a rollout state whose footprint overlaps an obstacle (per
            control step's worth of states).
        clearance_weight: Weight of the soft clearance term.
        clearance_margin: Metres of clearance below which the soft term grows.
        facing_weight: Weight of ``1 - cos(e)`` at the rollout's end plus its mean along the rollout.
        facing_range: The facing term of each state is scaled by ``exp(-potential / facing_range)``
            (metres): it matters near the goal, not on the way (``inf``: everywhere; without a
            potential it always counts).
        smoothness_weight: Weight of squared command changes (in half ranges).
        cost_interval: Seconds of rollout between cost evaluations (rounded to a multiple of the
            integration step).
        integration_step: Rollouts integrate the model in steps of about this many seconds
            (``dt`` split evenly, never finer than the model's own ``substep``); ``None``: the
            model's substep (the env's 0.05 s: exact, twice the work). At 0.1 s, over 5 s of
            random commands, a rollout stays within 5 cm and 9° of the exact one (the Jetbot's
            fast turns are the worst; H1 and Aliengo within 2°).
    """

    samples: int = 128
    horizon: int = 10
    iterations: int = 1
    temperature: float = 0.3
    noise: float = 0.5
    noise_smoothing: float = 0.5
    primitives: bool = True
    goal_weight: float = 1.0
    terminal_weight: float = 4.0
    collision_weight: float = 50.0
    clearance_weight: float = 2.0
    clearance_margin: float = 0.1
    facing_weight: float = 3.0
    facing_range: float = 1.0
    smoothness_weight: float = 0.1
    cost_interval: float = 0.1
    integration_step: float | None = 0.1

    def __post_init__(self) -> None:
        check_int("samples", self.samples, 2)
        if self.samples > 100_000:
            raise InvalidArgumentError(f"samples={self.samples!r} is out of range; allowed [2, 100000]")
        check_int("horizon", self.horizon, 1)
        if self.horizon > 1000:
            raise InvalidArgumentError(f"horizon={self.horizon!r} is out of range; allowed [1, 1000]")
        check_int("iterations", self.iterations, 1)
        check_range("temperature", self.temperature, 0.0, 1e6, low_open=True)
        check_range("noise", self.noise, 0.0, 10.0)
        check_range("noise_smoothing", self.noise_smoothing, 0.0, 1.0, high_open=True)
        if not isinstance(self.primitives, (bool, np.bool_)):
            raise InvalidArgumentError(f"primitives={self.primitives!r} must be True or False")
        if not (isinstance(self.facing_range, (int, float)) and not isinstance(self.facing_range, bool) and self.facing_range > 0):
            raise InvalidArgumentError(f"facing_range={self.facing_range!r} must be a number > 0 metres (inf: everywhere)")
        for name in ("goal_weight", "terminal_weight", "collision_weight", "clearance_weight", "facing_weight", "smoothness_weight"):
            check_range(name, getattr(self, name), 0.0, 1e6)
        check_range("clearance_margin", self.clearance_margin, 0.0, 5.0)
        check_range("cost_interval", self.cost_interval, 0.0, 10.0, low_open=True)
        if self.integration_step is not None:
            check_range("integration_step", self.integration_step, 0.0, 10.0, low_open=True)

    def with_(self, **changes: Any) -> "MPPIConfig":
        """A validated copy with some fields changed; unknown names are a clear error."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise InvalidArgumentError(f"{unknown[0]}=... is not an MPPI parameter; they are {sorted(names)}")
        return replace(self, **changes)


@dataclass
class PlanResult:
    """One planning call's outcome.

    Attributes:
        command: The velocity command to send (the first of the new mean sequence), without ``stop``.
        sequence: (T, m) the new mean command sequence.
        best_cost: Lowest sampled cost.
        potential_here: The goal potential at the body (``nan`` without one).
        model: The model the rollouts used.
        velocity: The body velocity the rollouts started from.
    """

    command: np.ndarray
    sequence: np.ndarray
    best_cost: float
    potential_here: float
    model: BodyModel
    velocity: np.ndarray

    @property
    def trajectory(self) -> np.ndarray:
        """(T, 3) ego (x, y, yaw) at the end of each control step of the mean sequence (rolled
        out when asked: planning does not need it)."""
        roll = self.model.rollout(self.sequence[None], self.velocity)
        ends = np.arange(1, len(self.sequence) + 1) * self.model.substeps - 1
        return np.stack([roll.x[ends, 0], roll.y[ends, 0], roll.yaw[ends, 0]], axis=1)


class MPPIPlanner:
    """MPPI over a :class:`BodyModel` (see the module docstring).

    Args:
        model: The body's kinematics.
        config: Parameters (:class:`MPPIConfig`; keyword overrides are applied on top).
        seed: Seed of the sampling noise (:meth:`reset` re-seeds).
        **overrides: :class:`MPPIConfig` fields, e.g. ``samples=128``.

    The planner keeps the mean sequence (warm start) and an estimate of the body's velocity (the
    model's response to the commands it sent); :meth:`reset` forgets both.
    """

    def __init__(self, model: BodyModel, config: MPPIConfig | None = None, seed: int | None = 0, **overrides: Any):
        if not isinstance(model, BodyModel):
            raise InvalidArgumentError(f"model={model!r} must be a BodyModel (BodyModel.from_embodiment(env.unwrapped.embodiment))")
        config = config or MPPIConfig()
        if overrides:
            config = config.with_(**overrides)
        self.model = model
        self.config = config
        #: The model rollouts use: ``model`` integrated at about ``config.integration_step``.
        self.rollout_model = model
        if config.integration_step is not None and config.integration_step > model.substep:
            count = max(1, min(model.substeps, int(round(model.dt / config.integration_step))))
            self.rollout_model = replace(model, substep=model.dt / count)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise InvalidArgumentError(f"seed={seed!r} must be a non-negative integer or None")
        self.seed = seed
        stride = config.cost_interval / (self.rollout_model.dt / self.rollout_model.substeps)
        self._stride = max(1, int(round(stride)))
        self._circles = model.footprint_circles()
        self._half_range = np.maximum(0.5 * (model.high - model.low), 1e-6)
        self._primitives = self._make_primitives() if config.primitives else None
        self.reset()

    def _make_primitives(self) -> np.ndarray | None:
        """Fixed sequences (see :attr:`MPPIConfig.primitives`), at most ``samples - 2``."""
        model, horizon = self.model, self.config.horizon
        low, high = model.low, model.high
        m = len(low)
        rest = np.clip(np.zeros(m), low, high)
        forward = rest.copy()
        forward[0] = high[0]
        out = []
        for turns in range(0, horizon // 2 + 1):
            for sign in ((1.0,) if turns == 0 else (1.0, -1.0)):
                turn = rest.copy()
                turn[-1] = high[-1] if sign > 0 else low[-1]
                for after in ((forward,) if turns == 0 else (forward, rest)):
                    seq = np.tile(after, (horizon, 1))
                    seq[:turns] = turn
                    out.append(seq)
        if model.holonomic:
            for side in (high[1], low[1]):
                seq = np.tile(rest, (horizon, 1))
                seq[:, 1] = side
                out.append(seq)
        out = np.asarray(out)[: self.config.samples - 2]
        return out if len(out) else None

    @classmethod
    def for_embodiment(cls, embodiment: Any, config: MPPIConfig | None = None, seed: int | None = 0, **overrides: Any) -> "MPPIPlanner":
        """A planner for an embodiment (``env.unwrapped.embodiment``)."""
        return cls(BodyModel.from_embodiment(embodiment), config, seed, **overrides)

    def reset(self, seed: int | None = None) -> None:
        """Forget the mean sequence, the velocity estimate and the last command; re-seed (with
        ``seed`` or the constructor's)."""
        self.rng = np.random.default_rng(self.seed if seed is None else seed)
        m = len(self.model.command_low)
        self.mean = np.tile(np.clip(np.zeros(m), self.model.low, self.model.high), (self.config.horizon, 1))
        self.velocity = np.zeros(3)
        self.last_command = self.mean[0].copy()

    # -- costs ----------------------------------------------------------------------------------
    def _costs(self, commands: np.ndarray, roll: Rollout, costmap: Costmap | None, facing_point, facing_yaw) -> np.ndarray:
        cfg, model = self.config, self.rollout_model
        samples, horizon, _ = commands.shape
        count = model.substeps
        idx = np.arange(self._stride - 1, horizon * count, self._stride)
        if idx.size == 0 or idx[-1] != horizon * count - 1:
            idx = np.append(idx, horizon * count - 1)
        per_step = len(idx) / horizon  # evaluations per control step
        x, y, yaw = roll.x[idx], roll.y[idx], roll.yaw[idx]
        total = np.zeros(samples)
        gate = 1.0
        if costmap is not None and costmap.potential is not None:
            phi = costmap.potential_at(x, y)
            total += cfg.goal_weight * phi.sum(axis=0) / per_step + cfg.terminal_weight * phi[-1]
            if math.isfinite(cfg.facing_range):
                gate = np.exp(-np.maximum(phi, 0.0) / cfg.facing_range)
        if costmap is not None and costmap.clearance is not None:
            centres, radii = self._circles
            cos, sin = np.cos(yaw), np.sin(yaw)
            gap = None
            for (ox, oy), radius in zip(centres, radii):
                if ox == 0.0 and oy == 0.0:
                    px, py = x, y
                else:
                    px = x + ox * cos - oy * sin
                    py = y + ox * sin + oy * cos
                here = costmap.clearance_at(px, py) - radius
                gap = here if gap is None else np.minimum(gap, here, out=gap)
            # Each state in collision costs collision_weight, more the deeper it goes.
            depth = np.maximum(-gap, 0.0)
            hits = (gap < 0.0) * (1.0 + depth / max(cfg.clearance_margin, 0.05))
            total += cfg.collision_weight * hits.sum(axis=0) / per_step
            if cfg.clearance_weight > 0 and cfg.clearance_margin > 0:
                soft = np.minimum(np.maximum(1.0 - gap / cfg.clearance_margin, 0.0), 1.0) ** 2
                total += cfg.clearance_weight * soft.sum(axis=0) / per_step
        if facing_point is not None or facing_yaw is not None:
            if facing_point is not None:
                want = np.arctan2(facing_point[1] - y, facing_point[0] - x)
            else:
                want = facing_yaw
            misalignment = gate * (1.0 - np.cos(yaw - want))
            # At the end, and on the way (so that a body at its goal turns now, not later).
            total += cfg.facing_weight * (misalignment[-1] + misalignment.mean(axis=0))
        if cfg.smoothness_weight > 0:
            previous = np.concatenate([np.broadcast_to(self.last_command, (samples, 1, commands.shape[2])), commands[:, :-1]], axis=1)
            total += cfg.smoothness_weight * (((commands - previous) / self._half_range) ** 2).sum(axis=(1, 2))
        return total

    # -- planning --------------------------------------------------------------------------------
    def plan(
        self,
        costmap: Costmap | None = None,
        *,
        facing_point: Sequence[float] | None = None,
        facing_yaw: float | None = None,
        velocity: Sequence[float] | None = None,
    ) -> PlanResult:
        """One control step: update the mean sequence and return the command to send.

        Args:
            costmap: Goal potential and clearance (either may be missing).
            facing_point: Ego (x, y) the final heading should face.
            facing_yaw: Ego yaw (radians) the final heading should have (instead of a point).
            velocity: The body's velocity (vx, vy, wz) if known; default: the planner's estimate.
        """
        if facing_point is not None and facing_yaw is not None:
            raise InvalidArgumentError("give facing_point= or facing_yaw=, not both")
        if facing_point is not None:
            facing_point = np.asarray(facing_point, dtype=np.float64).reshape(-1)
            if facing_point.shape != (2,) or not np.isfinite(facing_point).all():
                raise InvalidArgumentError(f"facing_point={facing_point.tolist()} must be a finite ego (x, y)")
        if facing_yaw is not None:
            facing_yaw = check_range("facing_yaw", facing_yaw, -100.0, 100.0)
        if costmap is not None and not isinstance(costmap, Costmap):
            raise InvalidArgumentError(f"costmap must be a Costmap (Costmap.build(...)), got {type(costmap).__name__}")
        v0 = self.velocity if velocity is None else np.asarray(velocity, dtype=np.float64).reshape(3)
        cfg, model = self.config, self.rollout_model
        low, high = model.low, model.high
        m = len(low)
        sigma = cfg.noise * self._half_range
        best_cost = math.inf
        for _ in range(cfg.iterations):
            noise = self.rng.standard_normal((cfg.samples, cfg.horizon, m))
            if cfg.noise_smoothing > 0:
                rho = cfg.noise_smoothing
                scale = math.sqrt(1.0 - rho * rho)
                for t in range(1, cfg.horizon):
                    noise[:, t] = rho * noise[:, t - 1] + scale * noise[:, t]
            commands = np.clip(self.mean[None] + noise * sigma, low, high)
            commands[0] = self.mean
            commands[1] = np.clip(0.0, low, high)
            if self._primitives is not None:
                commands[2 : 2 + len(self._primitives)] = self._primitives[: cfg.samples - 2]
            costs = self._costs(commands, model.rollout(commands, v0), costmap, facing_point, facing_yaw)
            best = float(costs.min())
            best_cost = min(best_cost, best)
            weights = np.exp(-(costs - best) / cfg.temperature)
            weights /= weights.sum()
            self.mean = np.tensordot(weights, commands, axes=1)
        command = self.mean[0].copy()
        sequence = self.mean.copy()
        # The body's velocity after this command (the model's prediction), then warm start.
        self.velocity = model.step_velocity(command, v0)
        self.last_command = command.copy()
        self.mean = np.concatenate([self.mean[1:], self.mean[-1:]], axis=0)
        here = float("nan")
        if costmap is not None and costmap.potential is not None:
            here = float(costmap.potential_at(np.zeros(1), np.zeros(1))[0])
        return PlanResult(command, sequence, best_cost, here, model, np.asarray(v0, dtype=np.float64).copy())


def ego_obstacles(obs: dict, camera: CameraSpec, grid: LocalGrid, occupancy: Any = None, *, min_height: float, max_height: float) -> np.ndarray | None:
    """The ego obstacle grid of one step: this depth frame's (:func:`obstacles_from_depth`), plus
    ``occupancy``'s (an ``OccupancyMap``, updated with the frame first) when ``obs`` has ``gps``
    and ``compass``; ``None`` without ``depth``. The SemanticNav agents' shared obstacle source."""
    if "depth" not in obs:
        return None
    obstacles = obstacles_from_depth(obs["depth"], camera, grid, min_height=min_height, max_height=max_height)
    if occupancy is not None and "gps" in obs and "compass" in obs:
        from navgym.agents.mapping.geometry import Pose2D

        pose = Pose2D.from_gps_compass(obs["gps"], obs["compass"])
        occupancy.integrate(obs["depth"], pose, camera)
        obstacles |= obstacles_from_map(occupancy, pose, grid)
    return obstacles
