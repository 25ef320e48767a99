"""Retrieval (RAGNav §3.4) and visiting order (§3.2 eq. 4, §3.5).

:class:`Retriever` scores, per sub-task, the instances seen from the topological nodes:

* **semantic score** ``S_sem`` = cosine of the sub-task's target query Q_A (e.g. "the white
  nightstand") and each seen instance's description (its node's fingerprint item); a node's score
  is the best of its items (the fingerprint is a list of descriptions).
* **forest stage** (``forest``): for "in the <room>" sub-tasks, the forest's parents are scored
  against the room ("lock the functional area at macro resolution") and candidates are weighted by
  ``exp((s_cluster − s_best) / τ)``; other sub-tasks pass through.
* **anchor-guided conditional retrieval** (``spatial``; "A near B"): top-K candidates for A, each
  validated against the anchors (instances matching B): eq. 3
  ``S_spatial = S_sem · exp(−d² / 2σ²)`` with d the floor gap between the candidate's and the
  nearest anchor's seen points, and eq. 7 ``S_combo = 1 / (1 + d)`` recorded; candidates with no
  anchor within ``hops`` topological hops (or ``near_radius`` metres without topology) are pruned
  (all pruned: stage 1 stands). Without ``spatial`` the whole phrase is embedded as one query.
* **neighbour boosting** (``neighbours`` and ``topology``; eq. 8): ``S_boost = S · (1 + η·S̄_nb)``,
  S̄_nb the mean over the candidate node's one-hop neighbours of their best similarity to the
  context (the anchor B, or the room), when the sub-task has one.

:func:`visiting_order` is eq. 4: exact over permutations for ``n <= exact_limit``, else networkx's
``greedy_tsp`` (unordered) or the given order (ordered).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import networkx as nx
import numpy as np

from navgym.agents.ragnav.decompose import SubTask, TaskPlan
from navgym.agents.ragnav.fingerprints import InstanceMemory
from navgym.agents.ragnav.forest import Cluster
from navgym.agents.ragnav.topo_map import TopologicalMap


@dataclass
class RetrievalResult:
    """One sub-task's retrieval: the chosen node and instance, and the ranked candidates.

    Attributes:
        subtask: The sub-task (its ``index`` is its place in the instruction).
        node: Topological node id, or ``None`` when nothing was retrieved.
        instance: Semantic instance id of the chosen target, or ``None``.
        score: Its final score.
        position: Estimated floor position (x, z, start frame) of the instance.
        candidates: ``(instance id, node id, score)``, best first (top 10).
    """

    subtask: SubTask
    node: int | None
    instance: int | None
    score: float
    position: np.ndarray | None = None
    candidates: list[tuple[int, int, float]] = field(default_factory=list)


@dataclass
class RetrievalOptions:
    """Switches for the ablations of the paper's Table 3 and the constants of eqs. 3, 7, 8."""

    forest: bool = True
    topology: bool = True
    spatial: bool = True
    neighbours: bool = True
    naive: bool = False
    top_k: int = 5
    sigma: float = 1.0
    eta: float = 0.5
    hops: int = 2
    near_radius: float = 2.0
    cluster_temperature: float = 0.1


def _point_gap(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 or len(b) == 0:
        return math.inf
    return float(np.min(np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])))


class Retriever:
    """Retrieves one instance per sub-task from the dual memory (topological map + forest).

    Args:
        embed: ``texts -> (n, d)`` unit vectors (the embedded MiniLM encoder by default in the agent).
        instance_text: Instance id -> its description (the describer).
        options: :class:`RetrievalOptions`.
    """

    def __init__(self, embed: Callable[[list[str]], np.ndarray], instance_text: Callable[[int], str], options: RetrievalOptions):
        self.embed = embed
        self.instance_text = instance_text
        self.options = options

    def _cos(self, query: str, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        vectors = self.embed([query] + list(texts))
        return vectors[1:] @ vectors[0]

    def retrieve(self, plan: TaskPlan, topo: TopologicalMap, instances: InstanceMemory, clusters: Sequence[Cluster] = ()) -> list[RetrievalResult]:
        return [self.retrieve_one(s, topo, instances, clusters) for s in plan.subtasks]

    def retrieve_one(self, subtask: SubTask, topo: TopologicalMap, instances: InstanceMemory, clusters: Sequence[Cluster] = ()) -> RetrievalResult:
        o = self.options
        nodes = [n for n in topo.nodes if n.seen]
        if not nodes:
            return RetrievalResult(subtask, None, None, 0.0)
        if o.naive:
            return self._naive(subtask, nodes, instances)
        ids = sorted({i for n in nodes for i in n.seen})
        texts = [self.instance_text(i) for i in ids]
        query = subtask.target_query if o.spatial else subtask.phrase
        sim = dict(zip(ids, self._cos(query, texts)))
        # each instance's home node: the one that saw it most often (ties: nearest)
        home = {i: max(nodes, key=lambda n: (n.seen[i][0], -n.seen[i][1]) if i in n.seen else (-1, 0)).id for i in ids}
        score = {i: max(float(sim[i]), 0.0) for i in ids}

        if o.forest and clusters and subtask.room:
            cluster_of = {leaf: c for c in clusters for leaf in c.leaves}
            room_sim = dict(zip([c.id for c in clusters], self._cos(f"the {subtask.room}", [c.summary for c in clusters])))
            best = max(room_sim.values())
            for i in ids:
                c = cluster_of.get(home[i])
                if c is not None:
                    score[i] *= math.exp((room_sim[c.id] - best) / o.cluster_temperature)

        if o.spatial and subtask.near:
            anchor_sim = dict(zip(ids, self._cos(f"the {subtask.near}", texts)))
            top_anchor = max(anchor_sim.values())
            anchors = [i for i in ids if anchor_sim[i] >= top_anchor - 0.1]
            candidates = sorted(ids, key=lambda i: -score[i])[: o.top_k]
            kept = {}
            for i in candidates:
                others = [a for a in anchors if a != i]
                if not others:
                    continue
                gaps = {a: _point_gap(instances.xz(i), instances.xz(a)) for a in others}
                a, d = min(gaps.items(), key=lambda kv: kv[1])
                if o.topology:
                    near_nodes = set(topo.neighbours(home[i], o.hops)) | {home[i]}
                    valid = any(home[b] in near_nodes or any(b in topo.nodes[k].seen for k in near_nodes) for b in others)
                else:
                    valid = d <= o.near_radius
                if valid:
                    kept[i] = score[i] * math.exp(-(d**2) / (2 * o.sigma**2))  # eq. 3; eq. 7 is 1 / (1 + d)
            if kept:
                score = {i: kept.get(i, 0.0) for i in ids}

        context = subtask.near or subtask.room
        if o.neighbours and o.topology and context:
            context_sim = dict(zip(ids, self._cos(f"the {context}", texts)))
            for i in sorted(ids, key=lambda i: -score[i])[: o.top_k]:
                nbs = topo.neighbours(home[i], 1)
                if not nbs:
                    continue
                values = [max((context_sim[k] for k in topo.nodes[u].seen if k != i), default=0.0) for u in nbs]
                score[i] *= 1.0 + o.eta * max(float(np.mean(values)), 0.0)  # eq. 8

        ranked = sorted(ids, key=lambda i: -score[i])
        best = ranked[0]
        return RetrievalResult(
            subtask, home[best], best, float(score[best]), instances.centre(best),
            [(i, home[i], float(score[i])) for i in ranked[:10]],
        )

    def _naive(self, subtask: SubTask, nodes: list, instances: InstanceMemory) -> RetrievalResult:
        """NaiveRAG: flat top-1 over the node fingerprints with the whole phrase; the node's best
        matching instance is the target."""
        sims = self._cos(subtask.phrase, [n.text for n in nodes])
        order = np.argsort(-sims)
        node = nodes[int(order[0])]
        seen = sorted(node.seen)
        inst_sims = self._cos(subtask.phrase, [self.instance_text(i) for i in seen])
        best = seen[int(np.argmax(inst_sims))]
        return RetrievalResult(
            subtask, node.id, best, float(sims[order[0]]), instances.centre(best),
            [(best, nodes[int(k)].id, float(sims[k])) for k in order[:10]],
        )


def order_penalty(order: Sequence[int]) -> int:
    """L(π, S) of eq. 4: pairs visited against the instruction's order (Kendall distance)."""
    return sum(1 for a, b in itertools.combinations(order, 2) if a > b)


def visiting_order(costs: np.ndarray, ordered: bool, lam: float = 1000.0, exact_limit: int = 7) -> list[int]:
    """Eq. 4 over targets 1..n of ``costs`` ((n+1) x (n+1), row / column 0 the start):
    ``argmin_π Σ D(p_π(j), p_π(j+1)) + λ·L(π, S)``; returns target indices 0..n-1."""
    n = costs.shape[0] - 1
    finite = np.where(np.isfinite(costs), costs, 1e6)
    if n <= 1:
        return list(range(n))
    if n <= exact_limit:
        def cost(p: Sequence[int]) -> float:
            legs = [0] + [k + 1 for k in p]
            return float(sum(finite[a, b] for a, b in zip(legs, legs[1:]))) + (lam * order_penalty(p) if ordered else 0.0)

        return list(min(itertools.permutations(range(n)), key=cost))
    if ordered:
        return list(range(n))
    graph = nx.complete_graph(n + 1)
    for a, b in graph.edges:
        graph[a][b]["weight"] = 0.5 * (finite[a, b] + finite[b, a])
    cycle = nx.approximation.greedy_tsp(graph, weight="weight", source=0)
    return [k - 1 for k in cycle[1:-1]]


__all__ = ["RetrievalOptions", "RetrievalResult", "Retriever", "order_penalty", "visiting_order"]
