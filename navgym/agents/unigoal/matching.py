"""UniGoal's graph matching (paper §3.2, eqs. 1-3) between the online scene graph and the goal graph.

* **Node similarity**: the reasoner's similarity of the scene node's category and the goal node's
  category (MiniLM cosine for the embedded reasoner, where the paper uses CLIP's text encoder),
  lowered by ``attribute_penalty`` times the fraction of the goal node's attributes (colour,
  material, size) that the scene node contradicts (an attribute the scene node lacks is no
  contradiction). The paper concatenates the node degree to the embedding; topology enters here
  through the topology score instead.
* **Edge similarity**: the lower of the two endpoints' node similarities times the agreement of the
  relations (1 for the same family, 0.9 for a compatible one such as "next to" against the scene's
  ``near``, 0 otherwise; :data:`COMPATIBLE`). Scene ``in`` (region) edges take no part.
* **Bipartite matching**: similarities below ``tau`` are set to -1 (eq. 1's ``thr``) and
  :func:`scipy.optimize.linear_sum_assignment` maximises the total; pairs at or above ``tau``
  are matched. Ties between equally similar scene nodes go to the one with more goal edges around
  it (a 0.01 bonus per supported goal edge, which never lifts a pair over ``tau``).
* **Scores**: ``S_N`` (``S_E``) is the summed similarity of the matched node (edge) pairs over the
  number of goal nodes (edges); ``S_T = 1 - D`` with ``D`` the graph edit distance between the
  matched subgraph's structure and the goal graph's, normalised by the goal's nodes + edges
  (node correspondence is known from the matching, so ``D`` counts the goal nodes and edges the
  matched subgraph lacks); ``S`` is their mean (``S_E`` left out for a goal without edges).

Blacklisted scene nodes and edges (:class:`Blacklist`) are left out of the matching.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from navgym.agents.reasoning.base import GoalGraph
from navgym.agents.scene_graph.graph import Edge, ObjectNode, OnlineSceneGraph
from navgym.agents.unigoal.goal import relation_family
from navgym.core.checks import check_range

#: Agreement of a goal relation family (rows) with the scene graph's relations.
COMPATIBLE = {
    "on": {"on": 1.0},
    "under": {"on": 1.0},  # read reversed: A under B is B on A
    "next": {"next_to": 1.0, "near": 0.9},
    "near": {"next_to": 1.0, "near": 1.0},
    "facing": {"facing": 1.0, "near": 0.9, "next_to": 0.9},
    "left": {"next_to": 1.0, "near": 0.9},
    "right": {"next_to": 1.0, "near": 0.9},
}


@dataclass
class Blacklist:
    """Scene nodes and edges left out of matching (paper §3.4), with each node's category when it
    was listed (a later change of category is a scene-graph correction, which lifts the ban)."""

    nodes: dict[int, str] = field(default_factory=dict)
    edges: set[Edge] = field(default_factory=set)

    def add(self, graph: OnlineSceneGraph, nodes: Any = (), edges: Any = ()) -> None:
        for node_id in nodes:
            if node_id in graph.nodes:
                self.nodes[int(node_id)] = graph.nodes[node_id].category
        self.edges.update(edges)

    def correct(self, graph: OnlineSceneGraph) -> list[int]:
        """Lift the ban on nodes whose category changed since they were listed, and on their
        neighbours and edges (paper: refined nodes leave the blacklist). Returns the lifted ids."""
        changed = [n for n, category in self.nodes.items() if n in graph.nodes and graph.nodes[n].category != category]
        if not changed:
            return []
        changed_set = set(changed)
        lifted = set(changed)
        for edge in self.edges:  # neighbours of the changed nodes only (not of their neighbours)
            if edge.subject in changed_set or edge.object in changed_set:
                lifted.update((edge.subject, edge.object))
        self.edges = {e for e in self.edges if e.subject not in lifted and e.object not in lifted}
        for n in lifted:
            self.nodes.pop(n, None)
        return sorted(lifted)

    def __len__(self) -> int:
        return len(self.nodes) + len(self.edges)


@dataclass
class GraphMatch:
    """One matching of scene graph and goal graph.

    Attributes:
        score: ``S``; ``s_node``, ``s_edge`` (``None`` for a goal without edges), ``s_topology``.
        nodes: Goal node id -> (scene node id, similarity) for the matched pairs.
        edges: Goal edge index -> (scene :class:`Edge`, similarity) for the matched pairs.
        anchor_pairs: Pairs of matched (goal id, scene id) used to align graphs in stage 2:
            matched edges first, then pairs of matched nodes.
    """

    score: float = 0.0
    s_node: float = 0.0
    s_edge: float | None = None
    s_topology: float = 0.0
    nodes: dict[str, tuple[int, float]] = field(default_factory=dict)
    edges: dict[int, tuple[Edge, float]] = field(default_factory=dict)
    anchor_pairs: list[tuple[tuple[str, int], tuple[str, int]]] = field(default_factory=list)

    def scene_node(self, goal_id: str) -> int | None:
        pair = self.nodes.get(goal_id)
        return pair[0] if pair else None


def _words(value: Any) -> tuple[str, ...]:
    return tuple(str(value).lower().replace("_", " ").replace("-", " ").split())


def attributes_agree(goal_value: Any, scene_value: Any) -> bool:
    """Whether two attribute values agree: equal words, or one's words a run inside the other's
    ("green" and "light green")."""
    a, b = _words(goal_value), _words(scene_value)
    if not a or not b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return any(long_[i : i + len(short)] == short for i in range(len(long_) - len(short) + 1))


class GraphMatcher:
    """Matches an :class:`OnlineSceneGraph` against a goal graph (see the module docstring).

    Args:
        reasoner: Gives label similarities (``similarity``).
        tau: Similarity threshold of a matched pair (paper: 0.9).
        attribute_penalty: Node similarity lost when all goal attributes are contradicted.
        relevance_floor: Similarities at or below it count as unrelated (see :meth:`relevance`).
    """

    def __init__(self, reasoner: Any, tau: float = 0.9, attribute_penalty: float = 0.5, relevance_floor: float = 0.25):
        self.reasoner = reasoner
        self.tau = check_range("tau", tau, 0.0, 1.0, low_open=True)
        self.attribute_penalty = check_range("attribute_penalty", attribute_penalty, 0.0, 1.0)
        self.relevance_floor = check_range("relevance_floor", relevance_floor, -1.0, 1.0, high_open=True)
        self.goal: GoalGraph | None = None
        self._category_sim: dict[str, np.ndarray] = {}

    def reset(self, goal: GoalGraph) -> None:
        """Match against ``goal`` from now on (forgets the per-label cache)."""
        self.goal = goal
        self._categories = [n.category for n in goal.nodes]
        self._category_sim = {}

    # -- similarities --------------------------------------------------------------------------
    def category_similarity(self, labels: list[str]) -> np.ndarray:
        """(len(labels), goal nodes) similarity of scene labels to the goal nodes' categories (cached)."""
        new = [label for label in dict.fromkeys(labels) if label not in self._category_sim]
        if new:
            sim = np.asarray(self.reasoner.similarity(new, self._categories), dtype=np.float64).reshape(len(new), len(self._categories))
            for label, row in zip(new, sim):
                self._category_sim[label] = row
        if not labels:
            return np.zeros((0, len(self._categories)))
        return np.stack([self._category_sim[label] for label in labels])

    def node_similarity(self, nodes: list[ObjectNode]) -> np.ndarray:
        """(len(nodes), goal nodes) node similarities (category, less contradicted attributes)."""
        sim = self.category_similarity([n.label for n in nodes])
        for j, goal_node in enumerate(self.goal.nodes):
            wanted = {k: v for k, v in goal_node.attributes.items() if v}
            if not wanted:
                continue
            for i, node in enumerate(nodes):
                contradicted = sum(1 for k, v in wanted.items() if node.attributes.get(k) and not attributes_agree(v, node.attributes[k]))
                if contradicted:
                    sim[i, j] *= 1.0 - self.attribute_penalty * contradicted / len(wanted)
        return sim

    def relevance(self, labels: list[str], goal: GoalGraph) -> np.ndarray:
        """How related each label is to a (sub)goal, in [0, 1]: the best similarity to its nodes'
        categories and its rooms, rescaled so ``relevance_floor`` -> 0 and 1 -> 1 (stage 1's
        frontier scoring with a similarity reasoner)."""
        phrases = [n.category for n in goal.nodes] + [n.room for n in goal.nodes if n.room]
        if not labels:
            return np.zeros(0)
        sim = np.asarray(self.reasoner.similarity(list(labels), phrases), dtype=np.float64).reshape(len(labels), len(phrases)).max(axis=1)
        return np.clip((sim - self.relevance_floor) / (1.0 - self.relevance_floor), 0.0, 1.0)

    # -- matching ------------------------------------------------------------------------------
    def match(self, graph: OnlineSceneGraph, blacklist: Blacklist | None = None) -> GraphMatch:
        """Match the graph's active, non-blacklisted nodes and edges against the goal."""
        goal = self.goal
        if goal is None:
            raise RuntimeError("GraphMatcher.match before reset(goal)")
        banned = blacklist.nodes if blacklist is not None else {}
        banned_edges = blacklist.edges if blacklist is not None else set()
        nodes = [n for n in graph.nodes.values() if graph.active(n) and n.id not in banned]
        result = GraphMatch(s_edge=0.0 if goal.edges else None)
        if not nodes:
            return self._score(result)
        sim = self.node_similarity(nodes)
        index = {n.id: i for i, n in enumerate(nodes)}
        goal_index = {n.id: j for j, n in enumerate(goal.nodes)}
        candidates = sim >= self.tau
        # Edge candidates: scene edges between candidate nodes with a compatible relation.
        edge_rows: list[tuple[int, Edge, float]] = []
        support = np.zeros_like(sim)
        if goal.edges and candidates.any(axis=1).sum() >= 2:
            scene_edges = [e for e in graph.edges() if e.relation != "in" and e not in banned_edges and e.subject in index and e.object in index]
            for k, goal_edge in enumerate(goal.edges):
                family = relation_family(goal_edge.relation)
                gs, go = goal_index[goal_edge.subject], goal_index[goal_edge.object]
                if family == "under":
                    gs, go = go, gs
                for edge in scene_edges:
                    agree = COMPATIBLE[family].get(edge.relation, 0.0)
                    if agree <= 0.0:
                        continue
                    i, j = index[edge.subject], index[edge.object]
                    value = agree * min(sim[i, gs], sim[j, go])
                    if value >= self.tau:
                        edge_rows.append((k, edge, value))
                        support[i, gs] += 1
                        support[j, go] += 1
        # Node assignment (eq. 1).
        weights = np.where(candidates, sim + 0.01 * np.minimum(support, 5), -1.0)
        rows, cols = linear_sum_assignment(weights, maximize=True)
        for i, j in zip(rows.tolist(), cols.tolist()):
            if candidates[i, j]:
                result.nodes[goal.nodes[j].id] = (nodes[i].id, float(sim[i, j]))
        # Edge assignment (eq. 2).
        if edge_rows:
            scene_list = list(dict.fromkeys(e for _, e, _ in edge_rows))
            where = {e: c for c, e in enumerate(scene_list)}
            matrix = np.full((len(goal.edges), len(scene_list)), -1.0)
            for k, edge, value in edge_rows:
                matrix[k, where[edge]] = max(matrix[k, where[edge]], value)
            rows, cols = linear_sum_assignment(matrix, maximize=True)
            for k, c in zip(rows.tolist(), cols.tolist()):
                if matrix[k, c] >= self.tau:
                    result.edges[k] = (scene_list[c], float(matrix[k, c]))
        self._anchor_pairs(result)
        return self._score(result)

    def _anchor_pairs(self, result: GraphMatch) -> None:
        goal = self.goal
        pairs: list[tuple[tuple[str, int], tuple[str, int]]] = []
        seen: set[frozenset] = set()
        for k, (edge, _) in sorted(result.edges.items()):
            goal_edge = goal.edges[k]
            a, b = (goal_edge.subject, edge.subject), (goal_edge.object, edge.object)
            if relation_family(goal_edge.relation) == "under":
                a, b = (goal_edge.subject, edge.object), (goal_edge.object, edge.subject)
            key = frozenset((a, b))
            if a[1] != b[1] and key not in seen:
                seen.add(key)
                pairs.append((a, b))
        matched = sorted(result.nodes.items(), key=lambda kv: -kv[1][1])
        for x in range(len(matched)):
            for y in range(x + 1, len(matched)):
                a, b = (matched[x][0], matched[x][1][0]), (matched[y][0], matched[y][1][0])
                key = frozenset((a, b))
                if a[1] != b[1] and key not in seen:
                    seen.add(key)
                    pairs.append((a, b))
        result.anchor_pairs = pairs

    def _score(self, result: GraphMatch) -> GraphMatch:
        goal = self.goal
        n_nodes, n_edges = len(goal.nodes), len(goal.edges)
        result.s_node = sum(s for _, s in result.nodes.values()) / n_nodes
        if n_edges:
            result.s_edge = sum(s for _, s in result.edges.values()) / n_edges
        covered = set(result.nodes)
        for k in result.edges:
            covered.update((goal.edges[k].subject, goal.edges[k].object))
        missing = (n_nodes - len(covered)) + (n_edges - len(result.edges))
        result.s_topology = 1.0 - missing / (n_nodes + n_edges)
        terms = [result.s_node, result.s_topology] + ([result.s_edge] if result.s_edge is not None else [])
        result.score = float(np.mean(terms))
        return result
