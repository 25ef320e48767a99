"""The topological map G_t = (V_t, E_t) of RAGNav §3.3: nodes at key poses, edges under 2 m.

Key poses: the first pose the agent takes in each cell of a ``grid`` (1 m) lattice, so nodes are
about a grid cell apart along the explored path. An undirected edge joins every pair of nodes
closer than ``edge_distance`` (δ_spatial = 2 m, Euclidean, weight = the distance), as in the paper;
travel costs are Dijkstra shortest paths on it (networkx).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from navgym.core.checks import check_range


@dataclass
class TopoNode:
    """One key pose: its position (start frame x, z) and what was seen from it.

    Attributes:
        seen: instance id -> (frames it was seen in, nearest distance seen at, metres).
        text: The spatial fingerprint (filled by a describer).
    """

    id: int
    position: np.ndarray
    seen: dict[int, list[float]] = field(default_factory=dict)
    text: str = ""


class TopologicalMap:
    """Key-pose nodes on a ``grid`` lattice, edges between nodes under ``edge_distance``."""

    def __init__(self, grid: float = 1.0, edge_distance: float = 2.0):
        self.grid = check_range("grid", grid, 0.0, 10.0, low_open=True)
        self.edge_distance = check_range("edge_distance", edge_distance, 0.0, 100.0, low_open=True)
        self.reset()

    def reset(self) -> None:
        self.graph = nx.Graph()
        self.nodes: list[TopoNode] = []
        self._by_cell: dict[tuple[int, int], int] = {}

    def node_at(self, position: np.ndarray) -> TopoNode:
        """The node of ``position``'s grid cell, created (with its edges) on first visit."""
        cell = (int(math.floor(position[0] / self.grid)), int(math.floor(position[1] / self.grid)))
        if cell in self._by_cell:
            return self.nodes[self._by_cell[cell]]
        node = TopoNode(id=len(self.nodes), position=np.array(position[:2], dtype=float))
        self.graph.add_node(node.id)
        for other in self.nodes:
            d = float(np.hypot(*(other.position - node.position)))
            if d < self.edge_distance:
                self.graph.add_edge(node.id, other.id, weight=d)
        self.nodes.append(node)
        self._by_cell[cell] = node.id
        return node

    def nearest(self, position: np.ndarray) -> int:
        """Id of the node nearest ``position`` (straight line)."""
        positions = np.array([n.position for n in self.nodes])
        return int(np.argmin(np.hypot(*(positions - np.asarray(position[:2])).T)))

    def travel_costs(self, node_ids: list[int]) -> np.ndarray:
        """Dijkstra travel cost between every pair of ``node_ids`` (inf when disconnected)."""
        n = len(node_ids)
        costs = np.full((n, n), np.inf)
        for i, a in enumerate(node_ids):
            lengths = nx.single_source_dijkstra_path_length(self.graph, a, weight="weight")
            for j, b in enumerate(node_ids):
                costs[i, j] = lengths.get(b, np.inf)
        return costs

    def neighbours(self, node_id: int, hops: int = 1) -> list[int]:
        """Nodes within ``hops`` edges of ``node_id`` (itself excluded)."""
        reach = nx.single_source_shortest_path_length(self.graph, node_id, cutoff=hops)
        return [k for k in reach if k != node_id]


__all__ = ["TopoNode", "TopologicalMap"]
