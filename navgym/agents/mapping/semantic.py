"""Goal recognition: which pixels of a frame show the goal.

The seam is :class:`GoalRecognizer`, any callable ``(obs) -> (H, W) bool mask``. The default,
:class:`SemanticGoalRecognizer`, is the "ground-truth perception" setting of the zero-shot papers:
it reads the ``semantic`` sensor (instance ids) and the category of each instance id (in Habitat,
``sim.semantic_annotations()``; here ``sim.object_instances()``). This is semantic perception, not
privileged position information: it only says what a *visible* pixel shows. A real detector
plugs in through the same seam.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Protocol, Sequence, Union

import numpy as np

#: Observation keys that carry a goal category index, in the order they are looked up.
CATEGORY_KEYS = ("objectgoal", "textgoal_category")

InstanceCategories = Union[Mapping[int, str], Callable[[], Mapping[int, str]]]


class GoalRecognizer(Protocol):
    """Maps an observation to a (H, W) bool mask of goal pixels (all False when none is seen)."""

    def __call__(self, obs: dict[str, Any]) -> np.ndarray: ...


class SemanticGoalRecognizer:
    """Goal pixels = pixels whose instance is of the goal category (ground-truth perception).

    The goal category is ``categories[obs[key]]`` for the first of ``category_keys`` present in
    the observation (``objectgoal`` for ObjectNav, ``textgoal_category`` for TextNav). For
    TextNav this recognises every instance of the described category, so the agent goes to the
    nearest visible one: the standard ground-truth-perception baseline. Without a category key in
    the observation (ImageNav, InstanceImageNav), nothing is recognised.

    Args:
        categories: The task's goal vocabulary (``env.unwrapped.task.categories``).
        instance_categories: Instance id -> category name, or a zero-argument callable returning
            it for the current scene (called each frame; cache inside it).
        category_keys: Observation keys holding the goal category index.
    """

    def __init__(self, categories: Sequence[str], instance_categories: InstanceCategories, category_keys: Sequence[str] = CATEGORY_KEYS):
        self.categories = tuple(categories)
        if not self.categories:
            raise ValueError("categories is empty; pass the task's goal vocabulary (env.unwrapped.task.categories)")
        self.instance_categories = instance_categories
        self.category_keys = tuple(category_keys)
        self._ids_by_category: dict[str, np.ndarray] = {}
        self._table: Mapping[int, str] | None = None

    def goal_category(self, obs: dict[str, Any]) -> str | None:
        """The goal category name of this observation, or ``None`` when it has none."""
        for key in self.category_keys:
            if key in obs:
                index = int(np.asarray(obs[key]).reshape(-1)[0])
                if not 0 <= index < len(self.categories):
                    raise ValueError(f"obs[{key!r}]={index} is out of range; allowed [0, {len(self.categories) - 1}] (the categories)")
                return self.categories[index]
        return None

    def instance_ids(self, category: str) -> np.ndarray:
        """Instance ids of ``category`` in the current scene."""
        table = self.instance_categories() if callable(self.instance_categories) else self.instance_categories
        if table is not self._table:
            by_category: dict[str, list[int]] = {}
            for instance_id, name in table.items():
                by_category.setdefault(name, []).append(int(instance_id))
            self._ids_by_category = {name: np.asarray(ids, dtype=np.int64) for name, ids in by_category.items()}
            self._table = table
        return self._ids_by_category.get(category, np.zeros(0, dtype=np.int64))

    def __call__(self, obs: dict[str, Any]) -> np.ndarray:
        if "semantic" not in obs:
            raise KeyError("SemanticGoalRecognizer needs obs['semantic']: make the env with 'semantic' in sensors=")
        semantic = np.asarray(obs["semantic"])
        if semantic.ndim == 3:
            semantic = semantic[..., 0]
        category = self.goal_category(obs)
        if category is None:
            return np.zeros(semantic.shape, dtype=bool)
        return np.isin(semantic, self.instance_ids(category))


class SceneInstanceCategories:
    """Instance id -> category of the env's current scene, read through ``sim.object_instances()``
    and cached per scene id: the semantic sensor's annotations (ground-truth perception)."""

    def __init__(self, env: Any):
        self.env = env
        self._scene_id: str | None = None
        self._table: dict[int, str] = {}

    def __call__(self) -> Mapping[int, str]:
        sim = self.env.unwrapped.sim
        if sim.scene_id != self._scene_id:
            self._table = {int(inst.id): str(inst.category) for inst in sim.object_instances()}
            self._scene_id = sim.scene_id
        return self._table
