"""A spinning LiDAR on the embedded simulator: a ring of rays cast with its Embree ray caster.

:func:`lidar_points` is the one function: ``channels`` rings of ``points_per_channel`` rays each,
elevations evenly spread over ``vertical_fov`` (degrees, inclusive ends), azimuths evenly over a
full turn starting straight ahead and going to the right (clockwise seen from above, the way
AirSim's and most real LiDARs spin). Rays that hit nothing within ``max_range`` are dropped, so
the number of points varies.

Points are in the **agent frame** with the sensor at the origin: x right, y up, -z forward
(navgym's camera convention, docs/simulator.md), the sensor ``mount_height`` metres above the
agent's floor point and level with the floor (the agent's camera tilt does not tilt it).
"""

from __future__ import annotations

import math

import numpy as np

from navgym.errors import InvalidArgumentError


def _directions(channels: int, points_per_channel: int, vertical_fov: tuple[float, float]) -> np.ndarray:
    """(channels * points_per_channel, 3) unit ray directions in the agent frame."""
    low, high = (math.radians(float(v)) for v in vertical_fov)
    elevations = np.linspace(low, high, channels) if channels > 1 else np.array([(low + high) / 2.0])
    azimuths = np.arange(points_per_channel) * (2.0 * math.pi / points_per_channel)  # clockwise from ahead
    el, az = np.meshgrid(elevations, azimuths, indexing="ij")
    x = np.cos(el) * np.sin(az)
    y = np.sin(el)
    z = -np.cos(el) * np.cos(az)
    return np.stack([x, y, z], axis=-1).reshape(-1, 3)


def lidar_points(
    sim,
    agent_id: int = 0,
    *,
    channels: int = 16,
    points_per_channel: int = 360,
    vertical_fov: tuple[float, float] = (-15.0, 15.0),
    max_range: float = 20.0,
    mount_height: float = 0.5,
    return_instances: bool = False,
):
    """Hits of a ring of rays around an agent of an embedded simulator.

    Args:
        sim: An :class:`~navgym.sims.embedded.simulator.EmbeddedSimulator` (anything with a
            ``caster`` ray caster and ``get_agent_state``).
        agent_id: Whose LiDAR.
        channels: Rings (1-128).
        points_per_channel: Rays per ring, one full turn (1-10000).
        vertical_fov: (lowest, highest) elevation in degrees, within [-90, 90].
        max_range: Hits further than this (metres) are dropped.
        mount_height: Height of the sensor above the agent's floor point, metres.
        return_instances: Also return each point's instance id (0: unannotated geometry).

    Returns:
        (N, 3) float32 hit points in the agent frame (x right, y up, -z forward), origin at the
        sensor; N <= channels * points_per_channel. With ``return_instances``, a tuple of those
        points and an (N,) int32 array of instance ids.
    """
    if not hasattr(sim, "caster") or not hasattr(sim, "get_agent_state"):
        raise InvalidArgumentError(f"sim={type(sim).__name__} has no ray caster; lidar_points needs an EmbeddedSimulator")
    if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or not 1 <= channels <= 128:
        raise InvalidArgumentError(f"channels={channels!r} must be an integer in [1, 128]")
    if isinstance(points_per_channel, bool) or not isinstance(points_per_channel, (int, np.integer)) or not 1 <= points_per_channel <= 10000:
        raise InvalidArgumentError(f"points_per_channel={points_per_channel!r} must be an integer in [1, 10000]")
    try:
        low, high = (float(v) for v in vertical_fov)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"vertical_fov={vertical_fov!r} must be (lowest, highest) degrees, e.g. (-15.0, 15.0)") from None
    if not (-90.0 <= low <= high <= 90.0):
        raise InvalidArgumentError(f"vertical_fov={vertical_fov!r} must satisfy -90 <= lowest <= highest <= 90 degrees")
    if not (math.isfinite(max_range) and 0.0 < max_range <= 1000.0):
        raise InvalidArgumentError(f"max_range={max_range!r} must be in (0, 1000] metres")
    if not (math.isfinite(mount_height) and 0.0 <= mount_height <= 10.0):
        raise InvalidArgumentError(f"mount_height={mount_height!r} must be in [0, 10] metres")
    state = sim.get_agent_state(agent_id)
    local = _directions(int(channels), int(points_per_channel), (low, high))
    yaw = state.yaw
    c, s = math.cos(yaw), math.sin(yaw)
    world_from_agent = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])  # yaw about +y
    directions = local @ world_from_agent.T
    origin = np.asarray(state.position, dtype=np.float64) + np.array([0.0, mount_height, 0.0])
    t, prim, _, _ = sim.caster.cast(np.broadcast_to(origin, directions.shape), directions, max_distance=float(max_range))
    hit = (prim >= 0) & np.isfinite(t) & (t <= max_range)
    points = (local[hit] * t[hit, None]).astype(np.float32)
    if return_instances:
        return points, np.asarray(sim.caster.face_instance).take(prim[hit]).astype(np.int32)
    return points
