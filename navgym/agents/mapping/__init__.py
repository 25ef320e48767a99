"""Mapping for modular agents: depth + pose -> a top-down occupancy map with a goal layer.

* :mod:`~navgym.agents.mapping.geometry`: frames, :class:`Pose2D`, depth -> points.
* :mod:`~navgym.agents.mapping.occupancy`: :class:`OccupancyMap` (unknown / free / obstacle + goal).
* :mod:`~navgym.agents.mapping.semantic`: the :class:`GoalRecognizer` seam and its
  ground-truth-perception default.
"""

from navgym.agents.mapping.geometry import Pose2D, bearing_to, camera_to_start_frame, depth_to_camera_points, wrap_angle
from navgym.agents.mapping.occupancy import FREE, OBSTACLE, UNKNOWN, FrameProjection, OccupancyMap
from navgym.agents.mapping.semantic import GoalRecognizer, SceneInstanceCategories, SemanticGoalRecognizer

__all__ = [
    "FREE",
    "OBSTACLE",
    "UNKNOWN",
    "FrameProjection",
    "GoalRecognizer",
    "OccupancyMap",
    "Pose2D",
    "SceneInstanceCategories",
    "SemanticGoalRecognizer",
    "bearing_to",
    "camera_to_start_frame",
    "depth_to_camera_points",
    "wrap_angle",
]
