"""UniGoal's goal graphs for the three goal types, their decomposition and their coordinate projection.

* **ObjectNav**: one node, the category (paper, appendix D.1).
* **TextNav**: the sentence parsed by the reasoner (:meth:`Reasoner.parse_goal`; the embedded
  reasoner's rules, or a language model's JSON: the paper prompts an LLM for nodes and edges).
* **InstanceImageNav**: the objects the perception backend detects in the goal photo; the target
  is the detection at the photo's centre; edges are the spatial relations between the detections'
  3D boxes when the photo's depth is known (ground-truth perception with
  :class:`~navgym.agents.perception.GoalImageSemantics`), else ``near`` between detections whose
  2D boxes touch. The paper asks a VLM for the relations; we read them from geometry with the same
  predicates as the scene graph (:mod:`navgym.agents.scene_graph.relations`).

Decomposition (stage 1, appendix D.3) splits the goal's nodes into internally related groups:
here the connected components of the goal graph (objects the goal relates), then a lone node
joins the group whose labels it is most similar to (reasoner similarity at least
``join_similarity``). The paper prompts an LLM for the partition.

Coordinate projection (stage 2) places every goal node on a bird's-eye plane around the target
at (0, 0) by a depth-first traversal of the goal graph (networkx): each edge puts the next node at
an offset from the last. With the photo's depth (InstanceImageNav with ground truth) the offsets
are the measured ones; otherwise a rule per relation gives the distance (``on`` / ``under``: the
same place, ``next to``: 0.8 m, ``near``: 1.5 m, ``facing`` / ``across from``: 2.5 m, ``left of``
/ ``right of`` / ``in front of`` / ``behind``: 1 m that way) and an unknown direction spreads
siblings around the circle; a reasoner that writes text can instead be asked the paper's question
(``projection="reasoner"``), whose "(x, y)" answer is parsed, falling back to the rule.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from navgym.agents.perception.detection import Detection
from navgym.agents.perception.goal_image import central_detection
from navgym.agents.reasoning.base import GoalEdge, GoalGraph, GoalNode
from navgym.agents.scene_graph import relations as rel

#: Goal relation phrases by family (general English; the scene graph's relations are on / next_to / near / facing / in).
RELATION_FAMILY = {
    **{r: "on" for r in ("on", "on top of", "above", "over", "atop", "upon", "inside", "in", "within")},
    **{r: "under" for r in ("under", "beneath", "underneath", "below")},
    **{r: "next" for r in ("next to", "beside", "by", "adjacent to", "against", "close to", "closest to", "nearest to", "at", "along")},
    **{r: "near" for r in ("near", "between", "around")},
    **{r: "facing" for r in ("facing", "across from", "opposite", "opposite to", "in front of", "behind")},
    **{r: "left" for r in ("left of", "to the left of", "on the left of")},
    **{r: "right" for r in ("right of", "to the right of", "on the right of")},
}


def relation_family(relation: str) -> str:
    """The family of a goal relation phrase (``"on"``, ``"under"``, ``"next"``, ``"near"``,
    ``"facing"``, ``"left"``, ``"right"``); unknown phrases count as ``"near"``."""
    return RELATION_FAMILY.get(" ".join(str(relation).lower().replace("_", " ").split()), "near")


@dataclass
class UniGoalGoal:
    """A goal as UniGoal holds it.

    Attributes:
        graph: The goal graph; ``graph.target`` is the central object *o*.
        kind: ``"object"``, ``"image"`` or ``"text"``.
        image: The goal photo (InstanceImageNav), kept for keypoint verification.
        measured: Node id -> (x, z) metres relative to the target, measured from the goal photo's
            depth (InstanceImageNav with depth), else empty.
    """

    graph: GoalGraph
    kind: str
    image: np.ndarray | None = None
    measured: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return self.graph.target


def object_goal(category: str) -> UniGoalGoal:
    """ObjectNav: one node."""
    return UniGoalGoal(GoalGraph.single(category), "object")


def text_goal(text: str, reasoner: Any) -> UniGoalGoal:
    """TextNav: the reasoner's parse of the sentence."""
    return UniGoalGoal(reasoner.parse_goal(str(text)), "text")


def image_goal(detections: Sequence[Detection], image: np.ndarray, *, touch_fraction: float = 0.05) -> UniGoalGoal | None:
    """InstanceImageNav: a goal graph from the detections in the goal photo (camera frame), or
    ``None`` when nothing was detected. Node ids are categories, numbered when repeated ("chair",
    "chair 2"); attributes are the detections'."""
    if not detections:
        return None
    image = np.asarray(image)
    center = central_detection(detections, image.shape[:2])
    ordered = [center] + [d for d in detections if d is not center]
    ids: list[str] = []
    nodes: list[GoalNode] = []
    for det in ordered:
        name = det.category.replace("_", " ")
        node_id, k = name, 2
        while node_id in ids:
            node_id, k = f"{name} {k}", k + 1
        ids.append(node_id)
        nodes.append(GoalNode(node_id, name, {str(a): str(v) for a, v in det.attributes.items() if v}))
    edges: list[GoalEdge] = []
    located = all(d.extent is not None for d in ordered)
    if located:
        # Camera frame: y up from the camera; shift so the lowest visible bottom is the floor (0).
        floor = min(float(d.extent[0][1]) for d in ordered)
        boxes = [(np.asarray(d.extent[0], float) - [0, floor, 0], np.asarray(d.extent[1], float) - [0, floor, 0]) for d in ordered]
        supported: set[int] = set()
        for i, (alo, ahi) in enumerate(boxes):
            for j, (blo, bhi) in enumerate(boxes):
                if i != j and rel.is_on(alo, ahi, blo, bhi):
                    edges.append(GoalEdge(ids[i], "on", ids[j]))
                    supported.add(i)
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if i in supported or j in supported:
                    continue
                gap = float(rel.box_gaps(boxes[i][0], boxes[i][1], boxes[j][0][None], boxes[j][1][None])[0])
                relation = "next to" if gap <= rel.NEXT_TO_DISTANCE else "near" if gap <= rel.NEAR_DISTANCE else None
                if relation:
                    edges.append(GoalEdge(ids[i], relation, ids[j]))
        origin = (boxes[0][0] + boxes[0][1]) / 2.0
        measured = {ids[i]: ((lo + hi) / 2.0 - origin)[[0, 2]] for i, (lo, hi) in enumerate(boxes)}
    else:
        width = image.shape[1]
        for i in range(len(ordered)):
            for j in range(i + 1, len(ordered)):
                if _box_gap(ordered[i].box, ordered[j].box) <= touch_fraction * width:
                    edges.append(GoalEdge(ids[i], "near", ids[j]))
        measured = {}
    return UniGoalGoal(GoalGraph(nodes, edges, ids[0], "goal image"), "image", image.copy(), measured)


def _box_gap(a: Sequence[int] | None, b: Sequence[int] | None) -> float:
    if a is None or b is None:
        return float("inf")
    dx = max(a[0] - b[2], b[0] - a[2], 0)
    dy = max(a[1] - b[3], b[1] - a[3], 0)
    return float(math.hypot(dx, dy))


def _nx_graph(graph: GoalGraph):
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(n.id for n in graph.nodes)
    for e in graph.edges:
        if e.subject != e.object:
            g.add_edge(e.subject, e.object)
    return g


def decompose(graph: GoalGraph, reasoner: Any | None = None, join_similarity: float = 0.5) -> list[GoalGraph]:
    """Split a goal graph into internally related subgraphs (see the module docstring); each
    keeps the edges inside it, its target is the goal's target when it holds it, else its first
    node."""
    import networkx as nx

    components = [sorted(c, key=[n.id for n in graph.nodes].index) for c in nx.connected_components(_nx_graph(graph))]
    components.sort(key=lambda c: [n.id for n in graph.nodes].index(c[0]))
    groups = [c for c in components if len(c) > 1]
    lone = [c[0] for c in components if len(c) == 1]
    if groups and lone and reasoner is not None:
        labels = [graph.node(i).category for i in lone]
        for node_id, row in zip(lone, _group_similarity(reasoner, labels, [[graph.node(i).category for i in g] for g in groups])):
            best = int(np.argmax(row))
            if row[best] >= join_similarity:
                groups[best].append(node_id)
            else:
                groups.append([node_id])
    else:
        groups += [[i] for i in lone]
    out = []
    for group in groups:
        members = set(group)
        nodes = [n for n in graph.nodes if n.id in members]
        edges = [e for e in graph.edges if e.subject in members and e.object in members]
        target = graph.target if graph.target in members else nodes[0].id
        out.append(GoalGraph(nodes, edges, target, graph.text))
    out.sort(key=lambda g: g.target != graph.target)
    return out


def _group_similarity(reasoner: Any, labels: list[str], groups: list[list[str]]) -> np.ndarray:
    flat = [label for group in groups for label in group]
    sim = np.asarray(reasoner.similarity(labels, flat), dtype=np.float64)
    out = np.zeros((len(labels), len(groups)))
    start = 0
    for k, group in enumerate(groups):
        out[:, k] = sim[:, start : start + len(group)].max(axis=1)
        start += len(group)
    return out


_DIRECTION = {"left": np.array([-1.0, 0.0]), "right": np.array([1.0, 0.0])}
_FAMILY_DISTANCE = {"on": 0.0, "under": 0.0, "next": 0.8, "near": 1.5, "facing": 2.5, "left": 1.0, "right": 1.0}
_XY = re.compile(r"\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)")


def project_coordinates(goal: UniGoalGoal, reasoner: Any | None = None, use_reasoner: bool = False) -> dict[str, np.ndarray]:
    """Bird's-eye (x, z) of every goal node, metres, the target at (0, 0) (see the module
    docstring): measured offsets where the photo gave them, else a depth-first traversal of the
    goal graph from the target with the rule offsets (or the reasoner's answers). Nodes the
    traversal cannot reach (no edge to the target's component) are spread on a 2 m circle."""
    import networkx as nx

    graph = goal.graph
    if goal.measured and all(n.id in goal.measured for n in graph.nodes):
        return {k: np.asarray(v, dtype=np.float64) for k, v in goal.measured.items()}
    coords: dict[str, np.ndarray] = {graph.target: np.zeros(2)}
    g = _nx_graph(graph)
    children: dict[str, int] = {}
    for parent, child in nx.dfs_edges(g, graph.target):
        edge = next(e for e in graph.edges if {e.subject, e.object} == {parent, child})
        # The relation reads "subject relation object"; the offset is child relative to parent.
        family = relation_family(edge.relation)
        sign = 1.0 if edge.subject == child else -1.0
        offset = None
        if use_reasoner and reasoner is not None and getattr(reasoner, "supports_completion", False):
            offset = _ask_offset(reasoner, child, edge, parent, coords[parent])
        if offset is None:
            k = children.get(parent, 0)
            children[parent] = k + 1
            distance = _FAMILY_DISTANCE[family]
            if family in _DIRECTION:
                offset = sign * distance * _DIRECTION[family]
            else:
                angle = 2.0 * math.pi * (0.125 + 0.382 * k)  # golden-angle spread of siblings
                offset = distance * np.array([math.cos(angle), math.sin(angle)])
            offset = coords[parent] + offset
        coords[child] = np.asarray(offset, dtype=np.float64)
    missing = [n.id for n in graph.nodes if n.id not in coords]
    for k, node_id in enumerate(missing):
        angle = 2.0 * math.pi * k / max(len(missing), 1)
        coords[node_id] = 2.0 * np.array([math.cos(angle), math.sin(angle)])
    return coords


def _ask_offset(reasoner: Any, child: str, edge: GoalEdge, parent: str, at: np.ndarray) -> np.ndarray | None:
    """The paper's projection prompt (in its frame: X towards the viewer = our z, Y right = our x);
    ``None`` when the answer has no "(x, y)" or the model fails."""
    prompt = (
        f"{edge.subject} is {edge.relation} {edge.object}. The coordinate of {parent} is ({at[1]:.1f}, {at[0]:.1f}); "
        f"the X-axis and Y-axis are positive towards yourself and the right respectively. "
        f"What is the coordinate of {child}? Answer with (x, y) in metres."
    )
    try:
        reply = reasoner.complete(prompt, max_tokens=32)
    except Exception:  # noqa: BLE001 - any backend failure falls back to the rule (counted by the backend)
        return None
    found = _XY.search(str(reply))
    if not found:
        return None
    towards_you, right = float(found.group(1)), float(found.group(2))
    if not (abs(towards_you) <= 20 and abs(right) <= 20):
        return None
    # Paper frame: X towards the viewer, Y to the right -> ours: x right, z towards the viewer (backward).
    return np.array([right, towards_you])
