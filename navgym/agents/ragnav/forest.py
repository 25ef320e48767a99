"""The semantic forest T_s of RAGNav §3.3: agglomerative clustering of the topological nodes on
the hybrid similarity of eq. 5, ``S_ij = ω·Φ_spatial(i, j) + (1 − ω)·Ψ_semantic(i, j)`` with
Φ = exp(−d_ij / σ) (negative exponential of the Euclidean distance) and Ψ = the cosine of the
fingerprints' embeddings; scipy's average-linkage hierarchy on ``1 − S``, cut at
``1 − merge_similarity``. Each cluster (a parent) gets a summary of its leaves' descriptions; the
paper asks an LLM, here :func:`summarize` lists the categories seen most across them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform


@dataclass
class Cluster:
    """A parent node of the forest: its leaves (topological node ids) and summary."""

    id: int
    leaves: list[int]
    summary: str


def hybrid_similarity(positions: np.ndarray, embeddings: np.ndarray, omega: float = 0.5, sigma: float = 3.0) -> np.ndarray:
    """Eq. 5: ``ω·exp(−d/σ) + (1 − ω)·cos`` for every pair of nodes."""
    d = np.hypot(*(positions[:, None, :] - positions[None, :, :]).transpose(2, 0, 1))
    spatial = np.exp(-d / sigma)
    semantic = np.clip(embeddings @ embeddings.T, -1.0, 1.0)
    return omega * spatial + (1.0 - omega) * semantic


def summarize(leaf_categories: Sequence[Sequence[str]], top: int = 6) -> str:
    """Rule-based parent summary (an LLM's job in the paper): "An area with the bed, the lamp ...".

    The ``top`` categories seen from the most leaves (each counted once per leaf), ties broken
    alphabetically: the text must not depend on set iteration order, which for strings changes
    with the process's hash seed (``PYTHONHASHSEED``); ``Counter.most_common`` breaks ties by
    insertion order, so iterating ``set(cats)`` made the summary, its embedding, the forest
    stage's room weights and hence some retrievals differ from one process to the next."""
    counts = Counter(c for cats in leaf_categories for c in dict.fromkeys(cats))
    names = [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    return "An area with " + ", ".join(names) + "." if names else "An empty area."


def build_forest(
    positions: np.ndarray,
    embeddings: np.ndarray,
    leaf_categories: Sequence[Sequence[str]],
    omega: float = 0.5,
    sigma: float = 3.0,
    merge_similarity: float = 0.6,
    summarizer: Callable[[Sequence[Sequence[str]]], str] = summarize,
) -> list[Cluster]:
    """Cluster the nodes (eq. 5 + scipy agglomerative clustering) into parents with summaries."""
    n = len(positions)
    if n == 0:
        return []
    if n == 1:
        return [Cluster(0, [0], summarizer([leaf_categories[0]]))]
    similarity = hybrid_similarity(np.asarray(positions, float), np.asarray(embeddings, float), omega, sigma)
    distance = np.clip(1.0 - similarity, 0.0, None)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    labels = fcluster(tree, t=1.0 - merge_similarity, criterion="distance")
    clusters = []
    for k, label in enumerate(sorted(set(labels.tolist()))):
        leaves = [i for i in range(n) if labels[i] == label]
        clusters.append(Cluster(k, leaves, summarizer([leaf_categories[i] for i in leaves])))
    return clusters


__all__ = ["Cluster", "build_forest", "hybrid_similarity", "summarize"]
