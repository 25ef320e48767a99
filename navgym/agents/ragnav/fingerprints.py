"""Spatial fingerprints (RAGNav §3.3): a text description of what is seen from each node.

The paper asks a VLM (GPT-4o) to describe each key view. Offline here, :class:`AnnotationDescriber`
reads the semantic sensor's instance ids (ground-truth perception, the documented mode of
docs/perception.md) and each instance's annotated *category and attributes* (colour, material),
through ``sim.object_instances()`` as :class:`~navgym.agents.mapping.SceneInstanceCategories`
does; never positions, boxes or rooms. A real VLM drops in as any object with the same two
methods (``instance_text(id)`` and ``describe(node, text=None)``).

:class:`InstanceMemory` keeps, per instance id seen, the start-frame floor points it was seen at
(estimated from depth), so a retrieved instance can be navigated to.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from navgym.agents.ragnav.topo_map import TopoNode
from navgym.scenes.scene import STRUCTURAL_CATEGORIES

#: Categories a describer leaves out (structure, not objects).
STRUCTURAL = STRUCTURAL_CATEGORIES | {"door", "window", "beam", "column"}
_MATERIAL_WORDS = {"wood": "wooden"}


class AnnotationDescriber:
    """The offline stand-in for the paper's VLM: instance id -> "a red wooden chair".

    Args:
        env: The env whose scene annotations give each semantic id's category and attributes.
        attributes: Whether to name colour and material (False: categories only).
        max_items: Longest fingerprint, in instances (the most often seen first).
    """

    def __init__(self, env: Any, attributes: bool = True, max_items: int = 8):
        self.env = env
        self.attributes = bool(attributes)
        self.max_items = int(max_items)
        self._scene: str | None = None
        self._table: dict[int, tuple[str, str | None, str | None]] = {}

    def table(self) -> dict[int, tuple[str, str | None, str | None]]:
        sim = self.env.unwrapped.sim
        if sim.scene_id != self._scene:
            self._table = {
                int(i.id): (str(i.category), i.attributes.get("color"), i.attributes.get("material"))
                for i in sim.object_instances() if str(i.category) not in STRUCTURAL
            }  # fmt: skip
            self._scene = sim.scene_id
        return self._table

    def category(self, instance_id: int) -> str | None:
        entry = self.table().get(int(instance_id))
        return entry[0].replace("_", " ") if entry else None

    def instance_text(self, instance_id: int) -> str:
        category, color, material = self.table()[int(instance_id)]
        words = ["the"]
        if self.attributes:
            words += [w for w in (color, _MATERIAL_WORDS.get(material or "", material)) if w]
        return " ".join(words + [category.replace("_", " ")])

    def describe(self, node: TopoNode, text: Callable[[int], str] | None = None) -> str:
        """The node's fingerprint: "From here one sees the red chair, the bed and the lamp.";
        ``text`` writes each item (default :meth:`instance_text`; the agent adds positions and
        sensor readings by its ``inputs``)."""
        text = self.instance_text if text is None else text
        items = sorted(node.seen.items(), key=lambda kv: (-kv[1][0], kv[1][1]))[: self.max_items]
        names = [text(i) for i, _ in items]
        if not names:
            return "From here one sees nothing in particular."
        return "From here one sees " + (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]) + "."


class InstanceMemory:
    """Per instance id: floor points (x, z) where it was seen, thinned to ``cell`` metres."""

    def __init__(self, cell: float = 0.1):
        self.cell = float(cell)
        self.points: dict[int, set[tuple[int, int]]] = {}

    def reset(self) -> None:
        self.points = {}

    def add(self, instance_id: int, xz: np.ndarray) -> None:
        keys = np.unique(np.floor(np.asarray(xz) / self.cell).astype(np.int64), axis=0)
        self.points.setdefault(int(instance_id), set()).update(map(tuple, keys.tolist()))

    def xz(self, instance_id: int) -> np.ndarray:
        """(N, 2) floor points of the instance (cell centres)."""
        keys = np.array(sorted(self.points.get(int(instance_id), ())), dtype=float).reshape(-1, 2)
        return (keys + 0.5) * self.cell

    def centre(self, instance_id: int) -> np.ndarray:
        return self.xz(instance_id).mean(axis=0)


__all__ = ["AnnotationDescriber", "InstanceMemory", "STRUCTURAL"]
