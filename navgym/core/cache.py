"""What navgym's cache folder holds, and clearing parts of it (``navgym cache``).

Everything under :func:`~navgym.core.paths.cache_dir` is regenerated on demand, so any part can
be removed; some parts grow large with training (each set of goal-pose pairs is about 2.5 GB,
each set of demonstrations 0.1-3 GB), and nothing removes them on its own.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from navgym.core.paths import cache_dir, is_cache_lock
from navgym.errors import InvalidArgumentError

#: The cache's parts and what writes them (a folder not listed here is shown as found).
KINDS = {
    "scenes": "generated ProcHouse houses (.glb, .navgym.json, textures)",
    "episodes": "generated episode files (.json.gz)",
    "demonstrations": "behaviour-cloning demonstrations (navgym train --pretrain)",
    "pose_pairs": "goal-pose pretraining pairs (navgym train --pose-episodes)",
    "habitat": "navgym scenes exported as habitat-sim stages",
    "isaac": "navgym scenes exported as USD for Isaac Sim",
}


@dataclass(frozen=True)
class CachePart:
    """One folder of the cache: its name, what it is, files and bytes in it."""

    kind: str
    description: str
    path: Path
    files: int
    bytes: int


def _size(folder: Path) -> tuple[int, int]:
    files = size = 0
    for path in folder.rglob("*"):
        if is_cache_lock(path):
            continue  # an entry's lock, not content
        if path.is_file() and not path.is_symlink():
            files += 1
            size += path.stat().st_size
    return files, size


def cache_usage(root: Path | None = None) -> list[CachePart]:
    """The cache's parts that exist, in :data:`KINDS` order, then any other folders by name."""
    root = cache_dir() if root is None else Path(root)
    if not root.is_dir():
        return []
    found = {p.name: p for p in root.iterdir() if p.is_dir() and not p.is_symlink()}
    order = [k for k in KINDS if k in found] + sorted(k for k in found if k not in KINDS)
    return [CachePart(k, KINDS.get(k, "(not a navgym part)"), found[k], *_size(found[k])) for k in order]


def clear_cache(kinds: list[str], root: Path | None = None) -> list[CachePart]:
    """Remove the named parts of the cache (``"all"``: every part); returns what was removed.

    Raises:
        InvalidArgumentError: a name that is neither a part in the cache nor one of :data:`KINDS`.
    """
    root = cache_dir() if root is None else Path(root)
    present = {part.kind: part for part in cache_usage(root)}
    if "all" in kinds:
        chosen = list(present)
    else:
        unknown = [k for k in kinds if k not in KINDS and k not in present]
        if unknown or not kinds:
            valid = sorted(set(KINDS) | set(present)) + ["all"]
            raise InvalidArgumentError(f"clear={','.join(kinds) or ''!r} names no cache part; choose from {valid} (comma-separated)")
        chosen = [k for k in dict.fromkeys(kinds) if k in present]
    removed = []
    for kind in chosen:
        part = present[kind]
        shutil.rmtree(part.path)
        removed.append(part)
    return removed


def human_bytes(size: int) -> str:
    """``1536`` → ``'1.5 kB'`` (decimal units, as ``du --si``)."""
    if size < 1000:
        return f"{size} B"
    value, unit = size / 1000, "kB"
    for bigger in ("MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{value:.1f} {unit}"
