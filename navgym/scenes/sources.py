"""Scene ids to scenes: ProcHouse houses (generated once, cached on disk) and mesh files.

Scene ids:
    * ``"prochouse/<seed>"``: the ProcHouse house of that seed, generated on first use and cached
      as ``.glb`` + ``.navgym.json`` under :func:`cache_dir`.
    * ``"prochousehard/<seed>"``: the ProcHouseHard building of that seed (multi-storey, 8-20
      rooms), cached the same way in its own versioned folder.
    * a mesh path (``.glb``, ``.gltf``, ``.obj``, ``.ply``): absolute, or relative to the data root's
      ``scene_datasets/`` folder as in Habitat's episode files.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from navgym.core.paths import cache_dir, resolve_scene_path
from navgym.core.paths import data_root as default_data_root
from navgym.scenes.scene import Scene

PROCHOUSE_PREFIX = "prochouse/"
PROCHOUSE_HARD_PREFIX = "prochousehard/"


def prochouse_scene_id(seed: int, hard: bool = False) -> str:
    return f"{PROCHOUSE_HARD_PREFIX if hard else PROCHOUSE_PREFIX}{int(seed)}"


def prochouse_seed(scene_id: str) -> int:
    prefix = PROCHOUSE_HARD_PREFIX if scene_id.startswith(PROCHOUSE_HARD_PREFIX) else PROCHOUSE_PREFIX
    tail = scene_id[len(prefix) :]
    if not tail.isdigit():
        raise ValueError(f"scene id {scene_id!r} is not '{prefix}<seed>' with a non-negative integer seed")
    return int(tail)


def load_prochouse(seed: int, use_cache: bool = True, hard: bool = False) -> Scene:
    """The ProcHouse house of ``seed``, from the disk cache when it is there.

    The cache holds ``<seed>.glb`` + ``<seed>.navgym.json`` as :func:`~navgym.scenes.io.save_scene`
    writes them under those names, so a seed's files are byte-identical whichever process wrote
    them. An entry that does not load, or whose files do not name each other (e.g. written by an
    older navgym under temporary names), is regenerated and rewritten.
    """
    from navgym.scenes.formats.annotations import check_cross_references
    from navgym.scenes.io import annotation_path, load_scene, save_scene
    from navgym.scenes.prochouse import GENERATOR_VERSION, generate_hard_house, generate_house
    from navgym.scenes.prochouse.hard import HARD_GENERATOR_VERSION

    folder = f"prochouse_hard_v{HARD_GENERATOR_VERSION}" if hard else f"prochouse_v{GENERATOR_VERSION}"
    path = cache_dir() / "scenes" / folder / f"{int(seed):07d}.glb"
    if use_cache and path.exists():
        try:
            scene = load_scene(path, annotation_path(path))
            check_cross_references(path, annotation_path(path))
            scene.name = prochouse_scene_id(seed, hard)
            return scene
        except (ValueError, FileNotFoundError):
            pass  # a corrupt or stale cache entry: regenerate it below
    scene = generate_hard_house(int(seed)) if hard else generate_house(int(seed))
    scene.name = prochouse_scene_id(seed, hard)
    if use_cache:
        save_scene(scene, path)  # writes both files complete, then renames them into place
    return scene


@lru_cache(maxsize=8)
def _load_prochouse_cached(seed: int, hard: bool = False) -> Scene:
    return load_prochouse(seed, hard=hard)


def load_scene_by_id(scene_id: str, data_root: str | Path | None = None) -> Scene:
    """Resolve a scene id (see module docs) to a :class:`Scene`."""
    if scene_id.startswith(PROCHOUSE_PREFIX) or scene_id.startswith(PROCHOUSE_HARD_PREFIX):
        return _load_prochouse_cached(prochouse_seed(scene_id), scene_id.startswith(PROCHOUSE_HARD_PREFIX))
    from navgym.scenes.io import load_scene

    path = Path(scene_id)
    if not path.is_absolute():
        root = Path(data_root) if data_root is not None else default_data_root()
        path = resolve_scene_path(scene_id, root)
    hint = "Scene meshes go under <data root>/scene_datasets/ (data_dir=... or NAVGYM_DATA); see docs/datasets.md."
    scene = load_scene(path, hint=hint)
    scene.name = scene_id
    return scene
