"""The user's Habitat data: dataset names, where their episode files are, where the data comes from."""

from __future__ import annotations

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


def find_episode_file(task: str, task_dirs: Iterable[str], dataset: str, split: str, root: Path, extra: Iterable[Path] = ()) -> Path:
    """The newest-version episode file of a task on a Habitat dataset
    (``datasets/<task dir>/<dataset dir>/<version>/<split>/<split>.json.gz``), else one of
    ``extra``; a :class:`~navgym.errors.DataNotFoundError` listing where it looked otherwise."""
    looked = []
    for task_dir in task_dirs:
        for name in HABITAT_DATASETS[dataset]:
            base = root / "datasets" / task_dir / name
            looked.append(str(base / "<version>" / split / f"{split}.json.gz"))
            candidates = sorted(base.glob(f"*/{split}/{split}.json.gz")) + sorted(base.glob(f"*/{split}/{split}.json"))
            if candidates:
                return candidates[-1]
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
