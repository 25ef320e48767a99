"""SemanticNav data for the dual-heatmap paper's grounding models: the ground-truth heatmaps
(:mod:`~navgym.semnav.heatmaps`), the automated data pipeline (:mod:`~navgym.semnav.data`,
``navgym semnav-data``) and the dataset reader (:class:`~navgym.semnav.dataset.SemNavDataset`).

Layer: above ``envs`` (it builds simulators with the env's ``SimFactory`` and labels views with
SemanticNav's own episode generation and rules from ``tasks``), beside ``wrappers``, below
``agents`` (whose grounding models train on it) and the CLI. docs/semnav_data.md has the format.
"""

from __future__ import annotations

from navgym.semnav.dataset import SemNavDataset

__all__ = ["SemNavDataset"]
