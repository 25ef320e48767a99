"""The user's Habitat data: dataset names, where their episode files are, where the data comes from."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from navgym.errors import DataNotFoundError

#: Datasets backed by the user's Habitat data: the folder names used under scene_datasets/ and datasets/<task>/.
HABITAT_DATASETS: dict[str, tuple[str, ...]] = {
    "Gibson": ("gibson",),
    "MP3D": ("mp3d",),
    "HM3D": ("hm3d", "hm3d_v0.2"),
    "HSSD": ("hssd-hab", "hssd"),
}
DATA_SOURCES = {
    "Gibson": "Gibson scenes: https://github.com/facebookresearch/habitat-lab/blob/main/DATASETS.md (Gibson database agreement)",
    "MP3D": "Matterport3D: https://niessner.github.io/Matterport/ (terms of use), episodes from habitat-lab's DATASETS.md",
    "HM3D": "HM3D: https://aihabitat.org/datasets/hm3d/ (Matterport terms), episodes from habitat-lab's DATASETS.md",
    "HSSD": "HSSD: https://huggingface.co/datasets/hssd/hssd-hab, episodes from habitat-lab's DATASETS.md",
}


def version_key(name: str) -> tuple:
    """Sort key of a ``<version>`` folder name: its runs of digits compare as numbers, the text
    between them case-insensitively (``v0.2`` < ``v1`` < ``v2`` < ``v10``; ``objectnav_hm3d_v2`` <
    ``objectnav_hm3d_v10``), then the name itself."""
    parts = re.split(r"(\d+)", name)
    return tuple(int(part) if i % 2 else part.lower() for i, part in enumerate(parts)), name


def find_episode_file(task: str, task_dirs: Iterable[str], dataset: str, split: str, root: Path, extra: Iterable[Path] = ()) -> Path:
    """The newest-version episode file of a task on a Habitat dataset
    (``datasets/<task dir>/<dataset dir>/<version>/<split>/<split>.json.gz``, or ``.json`` when
    that folder has no ``.json.gz``), else one of ``extra``; a
    :class:`~navgym.errors.DataNotFoundError` listing where it looked otherwise. The newest
    version folder is the last in :func:`version_key` order (``v10`` after ``v9`` after ``v2``)."""
    looked = []
    for task_dir in task_dirs:
        for name in HABITAT_DATASETS[dataset]:
            base = root / "datasets" / task_dir / name
            looked.append(str(base / "<version>" / split / f"{split}.json.gz"))
            candidates = [*base.glob(f"*/{split}/{split}.json.gz"), *base.glob(f"*/{split}/{split}.json")]
            if candidates:  # the newest version folder; in it, .json.gz before .json
                return max(candidates, key=lambda p: (version_key(p.parents[1].name), p.name.endswith(".gz")))
    for path in extra:
        looked.append(str(path))
        if path.exists():
            return path
    raise DataNotFoundError(
        f"No {task} episodes for {dataset} split {split!r}. Looked for:\n  "
        + "\n  ".join(looked)
        + f"\nThe data root is {root.resolve()} (set it with data_dir=... or the NAVGYM_DATA environment variable; "
        f"it is laid out like Habitat's data/ folder, see docs/datasets.md).\nWhere the data comes from: {DATA_SOURCES[dataset]}"
    )
