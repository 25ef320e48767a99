"""In-view semantic grounding for SemanticNav, after the dual-heatmap paper
(``../shared/papers/dual-heatmap.txt``): small CPU models that turn an egocentric RGB view and a
text, image or interleaved prompt into where to stand and what to face.

* :mod:`~navgym.agents.grounding.models`: the **dual-heatmap network** (navigation + facing
  heatmaps) and the **point-regression baseline** (same encoders, one point per head), their
  config, safe checkpoints and :class:`~navgym.agents.grounding.models.GroundingPredictor` (one
  view + one prompt -> heatmaps and points, for agents and planners).
* :mod:`~navgym.agents.grounding.metrics`: the paper's Table 1 metrics (Nav / Facing / Overall
  precision, recall, F1 under its TP rule, AR, MSE).
* :mod:`~navgym.agents.grounding.data`: ``navgym semnav-data`` folders as preloaded tensors.
* :mod:`~navgym.agents.grounding.agent`: the SemanticNav agents ``dual-heatmap`` and
  ``point-regression`` (a checkpoint's goal projected through depth, driven by the MPPI planner).
* :mod:`~navgym.agents.grounding.train` and :mod:`~navgym.agents.grounding.evaluate`: supervised
  training under a CPU-time budget (resumable) and evaluation on a split
  (``scripts/train_grounding.py``, ``scripts/eval_grounding.py``).

docs/grounding.md describes them. Importing this package does not import torch; the modules above
(except ``metrics``) do.
"""

from __future__ import annotations

__all__: list[str] = []
