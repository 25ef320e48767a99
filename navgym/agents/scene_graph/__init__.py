"""The agent's online scene graph (issue 11): object nodes from perception, region nodes from its
own occupancy map, spatial-relation edges, a text form for reasoners and a top-down picture.

* :mod:`~navgym.agents.scene_graph.graph`: :class:`OnlineSceneGraph`, :class:`ObjectNode`, :class:`Edge`.
* :mod:`~navgym.agents.scene_graph.relations`: the relation predicates and their thresholds.
* :mod:`~navgym.agents.scene_graph.regions`: :class:`RegionMap`, rooms from free space split at doors.
* :mod:`~navgym.agents.scene_graph.render`: :func:`render_scene_graph`.

Not :class:`navgym.scenes.scene.SceneGraph` (the privileged ground truth). See ``docs/perception.md``.
"""

from navgym.agents.scene_graph.graph import Edge, ObjectNode, OnlineSceneGraph
from navgym.agents.scene_graph.regions import RegionMap, RegionNode
from navgym.agents.scene_graph.relations import RELATIONS
from navgym.agents.scene_graph.render import render_scene_graph

__all__ = ["Edge", "ObjectNode", "OnlineSceneGraph", "RELATIONS", "RegionMap", "RegionNode", "render_scene_graph"]
