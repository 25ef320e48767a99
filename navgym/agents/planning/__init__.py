"""Planning for modular agents on an occupancy grid: frontiers, geodesic fields, a local controller,
and an MPPI local planner for velocity-commanded bodies.

* :mod:`~navgym.agents.planning.frontiers`: :func:`find_frontiers`, :func:`nearest_frontier`.
* :mod:`~navgym.agents.planning.geodesic`: :func:`inflate_obstacles`, :func:`distance_field`
  (fast marching with scikit-fmm), :func:`descend`, :func:`plan_path`.
* :mod:`~navgym.agents.planning.controller`: :func:`action_toward` (waypoint -> discrete action).
* :mod:`~navgym.agents.planning.mppi`: :class:`MPPIPlanner` over a body's :class:`BodyModel`,
  :class:`Costmap` (goal potential from a heatmap projected through depth, a target or a path;
  clearance from depth or a map), facing and smoothness terms.
"""

from navgym.agents.planning.controller import action_toward
from navgym.agents.planning.frontiers import Frontier, find_frontiers, frontier_mask, nearest_frontier
from navgym.agents.planning.geodesic import descend, distance_field, inflate_obstacles, plan_path
from navgym.agents.planning.mppi import BodyModel, Costmap, LocalGrid, MPPIConfig, MPPIPlanner

__all__ = [
    "BodyModel",
    "Costmap",
    "Frontier",
    "LocalGrid",
    "MPPIConfig",
    "MPPIPlanner",
    "action_toward",
    "descend",
    "distance_field",
    "find_frontiers",
    "frontier_mask",
    "inflate_obstacles",
    "nearest_frontier",
    "plan_path",
]
