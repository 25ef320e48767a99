"""Hand-written Habitat episode files for tests: ``<data root>/datasets/<task>/<dataset>/v1/<split>/<split>.json.gz``."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any


def write_habitat_episodes(data_root: Path, task: str, dataset: str, episodes: list[dict[str, Any]], split: str = "val") -> Path:
    """Write ``{"episodes": episodes}`` where Habitat (and ``gym.make(..., data_dir=data_root)``) looks for them."""
    folder = Path(data_root) / "datasets" / task / dataset / "v1" / split
    folder.mkdir(parents=True)
    path = folder / f"{split}.json.gz"
    with gzip.open(path, "wt") as f:
        json.dump({"episodes": episodes}, f)
    return path
