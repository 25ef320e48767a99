"""The agent's online scene graph: object nodes from detections, region nodes from its own map,
and spatial-relation edges, all updated step by step (UniGoal's / SG-Nav's scene graph).

Not to be confused with :class:`navgym.scenes.scene.SceneGraph`, the scene's privileged ground
truth: this one holds only what the agent's perception reported, in the start frame.

Merging: a detection with an instance id joins the node with that id (ids are authoritative:
ground-truth perception); one without joins the node of the same category whose box is within
``merge_gap`` of the detection's visible extent (the nearest), else the node of any category whose
box overlaps it by ``merge_iou`` (intersection over union: a misclassification of the same
object), else starts a node. A node's box
is the union of its detections' visible extents, its position that box's centre, its category the
confidence-weighted vote of its detections, its confidence ``1 - prod(1 - c_i)``.

Edges (:mod:`.relations`) are recomputed incrementally: after an update only the pairs that
involve a node whose box, category or anchor status changed, and all ``in`` edges when the
regions were re-segmented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from navgym.agents.mapping.occupancy import OccupancyMap
from navgym.agents.perception.detection import START_FRAME, Detection
from navgym.agents.scene_graph import relations as rel
from navgym.agents.scene_graph.regions import RegionMap, RegionNode
from navgym.core.checks import check_range
from navgym.errors import InvalidArgumentError


@dataclass
class ObjectNode:
    """One object the agent has seen (start frame).

    Attributes:
        id: Node id, unique within the graph.
        category: The confidence-weighted majority category of its detections.
        position: (3,) centre of :attr:`lo`..:attr:`hi`, metres (y = height above the floor).
        lo, hi: (3,) corners of the union of its detections' visible extents.
        confidence: ``1 - prod(1 - c_i)`` over its detections.
        observations: Number of detections merged into it.
        instance_id: The scene instance id when perception gave one.
        attributes: Latest value of each attribute seen.
        front: Unit (x, z) facing direction (mean of its detections'), or ``None``.
        votes: Category -> summed confidence.
        first_seen, last_seen: Steps of its first and latest detection.
        region: Id of the region it is in, or ``None``.
    """

    id: int
    category: str
    position: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    confidence: float
    observations: int = 1
    instance_id: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    front: np.ndarray | None = None
    votes: dict[str, float] = field(default_factory=dict)
    first_seen: int = 0
    last_seen: int = 0
    region: int | None = None

    @property
    def label(self) -> str:
        return self.category.replace("_", " ")


@dataclass(frozen=True)
class Edge:
    """``subject relation object``: node ids, or for ``in`` an object node id and a region id."""

    subject: int
    relation: str
    object: int


class OnlineSceneGraph:
    """Object and region nodes with spatial-relation edges, built from detections step by step.

    Args:
        merge_gap: A detection without instance id joins a same-category node whose box is at most
            this far from its extent, metres.
        merge_iou: ... or, failing that, the node of any category whose box overlaps its extent by at
            least this intersection over union (a confused category: the vote settles it).
        min_confidence: Nodes below it take part in no edge and no text (false positives seen
            once stay out); the node is kept and may grow more confident.
        next_to, near, on_gap, facing_distance: Relation thresholds (:mod:`.relations`), metres.
        regions: The :class:`RegionMap` used for region nodes (default settings when ``None``).
        region_interval: Re-segment regions every this many updates that pass an occupancy map.
    """

    def __init__(
        self,
        *,
        merge_gap: float = 0.1,
        merge_iou: float = 0.2,
        min_confidence: float = 0.0,
        next_to: float = rel.NEXT_TO_DISTANCE,
        near: float = rel.NEAR_DISTANCE,
        on_gap: float = rel.ON_GAP,
        facing_distance: float = rel.FACING_DISTANCE,
        regions: RegionMap | None = None,
        region_interval: int = 10,
    ):
        self.merge_gap = check_range("merge_gap", merge_gap, 0.0, 10.0)
        self.merge_iou = check_range("merge_iou", merge_iou, 0.0, 1.0, low_open=True)
        self.min_confidence = check_range("min_confidence", min_confidence, 0.0, 1.0)
        self.next_to = check_range("next_to", next_to, 0.0, 100.0)
        self.near = check_range("near", near, self.next_to, 100.0)
        self.on_gap = check_range("on_gap", on_gap, 0.0, 10.0)
        self.facing_distance = check_range("facing_distance", facing_distance, 0.0, 1000.0)
        if isinstance(region_interval, bool) or not isinstance(region_interval, (int, np.integer)) or region_interval < 1:
            raise InvalidArgumentError(f"region_interval={region_interval!r} must be an integer >= 1")
        self.region_map = regions if regions is not None else RegionMap()
        self.region_interval = int(region_interval)
        self.reset()

    def reset(self) -> None:
        """Forget every node and edge."""
        self.nodes: dict[int, ObjectNode] = {}
        self._by_instance: dict[int, int] = {}
        self._edges: set[Edge] = set()
        self._support: dict[int, int] = {}  # node -> the node it stands on
        self._on_candidates: dict[int, set[int]] = {}  # node -> nodes it could stand on
        self._next_id = 1
        self._updates = 0
        self._map_updates = 0
        self.step = 0
        self.region_map.reset()

    # -- reading -------------------------------------------------------------------------------
    @property
    def regions(self) -> dict[int, RegionNode]:
        return self.region_map.regions

    def active(self, node: ObjectNode) -> bool:
        """Whether a node is confident enough for edges and text."""
        return node.confidence >= self.min_confidence

    def node_of_instance(self, instance_id: int) -> ObjectNode | None:
        node_id = self._by_instance.get(int(instance_id))
        return self.nodes.get(node_id) if node_id is not None else None

    def edges(self, relations: Iterable[str] | None = None) -> list[Edge]:
        """Current edges (``in`` edges included), sorted; optionally only some relations."""
        wanted = set(relations) if relations is not None else None
        found = sorted(self._edges, key=lambda e: (rel.RELATIONS.index(e.relation), e.subject, e.object))
        return [e for e in found if wanted is None or e.relation in wanted]

    def triples(self, *, with_ids: bool = False, relations: Iterable[str] | None = None, include_in: bool = True) -> list[tuple[str, str, str]]:
        """``(subject, relation, object)`` text triples, e.g. ``("chair", "next to", "table")``;
        symmetric relations once, duplicates (same labels) once; ``with_ids`` appends node ids
        (``"chair 3"``) so equal labels stay apart."""
        out: list[tuple[str, str, str]] = []
        seen: set[tuple[str, str, str]] = set()
        for edge in self.edges(relations):
            if edge.relation == "in" and not include_in:
                continue
            if edge.relation in rel.SYMMETRIC and edge.subject > edge.object:
                continue
            subject = self._name(self.nodes[edge.subject], with_ids)
            if edge.relation == "in":
                obj = f"region {edge.object}"
            else:
                obj = self._name(self.nodes[edge.object], with_ids)
            triple = (subject, edge.relation.replace("_", " "), obj)
            if triple not in seen:
                seen.add(triple)
                out.append(triple)
        return out

    def to_text(self, max_lines: int | None = None, **kwargs: Any) -> str:
        """The triples as lines, ``"chair next to table"``, for a reasoner's prompt."""
        lines = [" ".join(t) for t in self.triples(**kwargs)]
        return "\n".join(lines[:max_lines] if max_lines is not None else lines)

    @staticmethod
    def _name(node: ObjectNode, with_ids: bool) -> str:
        return f"{node.label} {node.id}" if with_ids else node.label

    # -- updating ------------------------------------------------------------------------------
    def update(self, detections: Sequence[Detection], *, step: int | None = None, occupancy: OccupancyMap | None = None) -> list[int]:
        """Merge one frame's detections (start frame) and refresh the edges; with ``occupancy``
        (the agent's own map) re-segment regions every ``region_interval`` such calls. Returns
        the ids of the nodes the detections went to."""
        self.step = int(step) if step is not None else self._updates
        self._updates += 1
        changed: set[int] = set()
        touched: list[int] = []
        for det in detections:
            if det.position is None or det.extent is None:
                continue
            if det.frame != START_FRAME:
                raise InvalidArgumentError(f"OnlineSceneGraph.update takes start-frame detections; got frame={det.frame!r} (a goal image's?)")
            node_id, moved = self._merge(det)
            touched.append(node_id)
            if moved:
                changed.add(node_id)
        regions_changed = False
        if occupancy is not None:
            if self._map_updates % self.region_interval == 0:
                self.region_map.update(occupancy)
                regions_changed = True
            self._map_updates += 1
        self._refresh_edges(changed, regions_changed)
        return touched

    def update_regions(self, occupancy: OccupancyMap) -> dict[int, RegionNode]:
        """Re-segment regions now and refresh the ``in`` edges."""
        self.region_map.update(occupancy)
        self._refresh_edges(set(), True)
        return self.regions

    def _merge(self, det: Detection) -> tuple[int, bool]:
        lo, hi = (np.asarray(v, dtype=np.float64) for v in det.extent)
        confidence = float(np.clip(det.confidence, 0.0, 1.0))
        node = self._match(det, lo, hi)
        if node is None:
            node = ObjectNode(
                id=self._next_id, category=det.category, position=(lo + hi) / 2.0, lo=lo.copy(), hi=hi.copy(),
                confidence=confidence, instance_id=det.instance_id, attributes=dict(det.attributes),
                front=self._unit(det.front), votes={det.category: confidence}, first_seen=self.step, last_seen=self.step,
            )
            self.nodes[node.id] = node
            if det.instance_id is not None:
                self._by_instance[int(det.instance_id)] = node.id
            self._next_id += 1
            return node.id, True
        old = (node.lo.copy(), node.hi.copy(), node.category, self.active(node))
        node.lo = np.minimum(node.lo, lo)
        node.hi = np.maximum(node.hi, hi)
        node.position = (node.lo + node.hi) / 2.0
        node.votes[det.category] = node.votes.get(det.category, 0.0) + confidence
        node.category = max(sorted(node.votes), key=lambda c: node.votes[c])
        node.confidence = 1.0 - (1.0 - node.confidence) * (1.0 - confidence)
        node.observations += 1
        node.attributes.update(det.attributes)
        front = self._unit(det.front)
        if front is not None:
            node.front = front if node.front is None else self._unit(node.front * (node.observations - 1) + front)
        node.last_seen = self.step
        moved = not (np.allclose(old[0], node.lo) and np.allclose(old[1], node.hi)) or old[2] != node.category or old[3] != self.active(node)
        return node.id, moved or front is not None

    def _match(self, det: Detection, lo: np.ndarray, hi: np.ndarray) -> ObjectNode | None:
        if det.instance_id is not None:
            node_id = self._by_instance.get(int(det.instance_id))
            return self.nodes[node_id] if node_id is not None else None
        nodes = list(self.nodes.values())
        if not nodes:
            return None
        los, his = np.array([n.lo for n in nodes]), np.array([n.hi for n in nodes])
        gaps = rel.box_gaps(lo, hi, los, his)
        same = np.array([n.category == det.category for n in nodes])
        if (same & (gaps <= self.merge_gap)).any():
            k = int(np.argmin(np.where(same, gaps, np.inf)))
            return nodes[k]
        # Another category in (nearly) the same box: the same object, misclassified this time or before.
        iou = rel.box_iou(lo, hi, los, his)
        k = int(np.argmax(iou))
        return nodes[k] if iou[k] >= self.merge_iou else None

    @staticmethod
    def _unit(vector: Any) -> np.ndarray | None:
        if vector is None:
            return None
        v = np.asarray(vector, dtype=np.float64).reshape(2)
        n = float(np.hypot(*v))
        return v / n if n > 1e-9 else None

    # -- edges ---------------------------------------------------------------------------------
    def _refresh_edges(self, changed: set[int], regions_changed: bool) -> None:
        active = [n for n in self.nodes.values() if self.active(n)]
        active_ids = {n.id for n in active}
        # Drop the edges of nodes that are no longer active (cannot happen with growing confidence,
        # but min_confidence may be raised between updates).
        self._edges = {e for e in self._edges if e.subject in active_ids and (e.relation == "in" or e.object in active_ids)}
        changed &= active_ids
        if regions_changed:
            self._edges = {e for e in self._edges if e.relation != "in"}
            for node in self.nodes.values():
                node.region = self.region_map.region_at(node.position[[0, 2]])
            changed |= active_ids  # proximity edges are gated by regions
        if not changed:
            return
        # 1. "on" candidates for pairs touching a changed node; each node keeps one support, the
        # candidate whose top is nearest its bottom; nodes whose support changed count as changed.
        active_set = active_ids
        self._on_candidates = {a: {b for b in bs if b in active_set} for a, bs in self._on_candidates.items() if a in active_set}
        for node_id in sorted(changed):
            node = self.nodes[node_id]
            for other in active:
                if other.id == node_id:
                    continue
                for a, b in ((node, other), (other, node)):
                    if rel.is_on(a.lo, a.hi, b.lo, b.hi, gap=self.on_gap):
                        self._on_candidates.setdefault(a.id, set()).add(b.id)
                    else:
                        self._on_candidates.get(a.id, set()).discard(b.id)
        support = {}
        for a_id, candidates in self._on_candidates.items():
            if candidates:
                a = self.nodes[a_id]
                support[a_id] = min(sorted(candidates), key=lambda b: (abs(a.lo[1] - self.nodes[b].hi[1]), -self._footprint(self.nodes[b])))
        self._edges = {e for e in self._edges if e.relation != "on"} | {Edge(a, "on", b) for a, b in support.items()}
        flipped = {n for n in set(support) ^ set(self._support)} | {n for n in support if self._support.get(n) != support[n]}
        self._support = support
        changed |= flipped & active_ids
        # 2. "in" for changed nodes, then proximity for pairs touching a changed node, then facing.
        for node_id in sorted(changed):
            node = self.nodes[node_id]
            self._edges = {e for e in self._edges if not (e.relation == "in" and e.subject == node_id)}
            node.region = self.region_map.region_at(node.position[[0, 2]]) if self.region_map.regions else None
            if node.region is not None:
                self._edges.add(Edge(node.id, "in", node.region))
        others = [n for n in active]
        los = np.array([n.lo for n in others])
        his = np.array([n.hi for n in others])
        for node_id in sorted(changed):
            node = self.nodes[node_id]
            gaps = rel.box_gaps(node.lo, node.hi, los, his)
            for other, gap in zip(others, gaps.tolist()):
                if other.id == node_id:
                    continue
                for name in ("next_to", "near"):
                    self._edges.discard(Edge(node.id, name, other.id))
                    self._edges.discard(Edge(other.id, name, node.id))
                proximity = self._proximity(node, other, gap)
                if proximity is not None:
                    self._edges.add(Edge(node.id, proximity, other.id))
                    self._edges.add(Edge(other.id, proximity, node.id))
        self._refresh_facing(active)

    def _refresh_facing(self, active: list[ObjectNode]) -> None:
        """``facing``: each fronted node faces the first object its front ray enters (any box
        change can change that, so all fronted nodes are redone; there are few)."""
        self._edges = {e for e in self._edges if e.relation != "facing"}
        for a in active:
            if a.front is None:
                continue
            best, best_distance = None, self.facing_distance
            for b in active:
                if b.id == a.id or self._support.get(b.id) == a.id or b.hi[1] < a.lo[1] or b.lo[1] > a.hi[1]:
                    continue
                if a.region is not None and b.region is not None and a.region != b.region:
                    continue  # the map has no occlusion test: a wall may stand between them
                distance = rel.ray_entry(a.front, a.lo, a.hi, b.lo, b.hi)
                if distance < best_distance or (best is not None and distance == best_distance and self._footprint(b) > self._footprint(best)):
                    best, best_distance = b, distance
            if best is not None:
                self._edges.add(Edge(a.id, "facing", best.id))

    def _proximity(self, a: ObjectNode, b: ObjectNode, gap: float) -> str | None:
        if a.id in self._support or b.id in self._support:
            return None  # only anchors (objects on nothing) are next to / near each other
        if a.region is not None and b.region is not None and a.region != b.region:
            return None
        if gap <= self.next_to:
            return "next_to"
        if gap <= self.near:
            return "near"
        return None

    @staticmethod
    def _footprint(node: ObjectNode) -> float:
        return float((node.hi[0] - node.lo[0]) * (node.hi[2] - node.lo[2]))

    def recompute_edges(self) -> None:
        """Recompute every edge from scratch (what the incremental updates must equal)."""
        self._edges = set()
        self._support = {}
        self._on_candidates = {}
        self._refresh_edges(set(self.nodes), bool(self.region_map.regions))

    # -- pictures ------------------------------------------------------------------------------
    def render(self, occupancy: OccupancyMap | None = None, pose: Any = None, **kwargs: Any) -> np.ndarray:
        """A top-down RGB picture of the graph over ``occupancy``
        (:func:`~navgym.agents.scene_graph.render.render_scene_graph`)."""
        from navgym.agents.scene_graph.render import render_scene_graph

        return render_scene_graph(self, occupancy, pose, **kwargs)
