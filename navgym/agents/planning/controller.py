"""The local controller: a waypoint -> one discrete action."""

from __future__ import annotations

import math

import numpy as np

from navgym.agents.mapping.geometry import Pose2D, bearing_to


def action_toward(pose: Pose2D, waypoint: np.ndarray, turn_angle: float) -> str:
    """``"turn_left"`` / ``"turn_right"`` while the waypoint's bearing exceeds half a turn, else
    ``"move_forward"``.

    Args:
        pose: The agent's pose.
        waypoint: World (x, z) of the next waypoint.
        turn_angle: The turn actions' angle, degrees.
    """
    if not 0.0 < turn_angle <= 180.0:
        raise ValueError(f"turn_angle={turn_angle!r} is out of range; allowed (0, 180] degrees")
    bearing = bearing_to(pose, waypoint)
    if abs(bearing) <= math.radians(turn_angle) / 2.0:
        return "move_forward"
    return "turn_left" if bearing > 0 else "turn_right"
