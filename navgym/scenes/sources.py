"""Scene ids to scenes: ProcHouse houses (generated once, cached on disk) and mesh files.

Scene ids:
    * ``"prochouse/<seed>"``: the ProcHouse house of that seed, generated on first use and cached
      as ``.glb`` + ``.navgym.json`` (+ its textures decoded, ``.textures.bin``) under :func:`cache_dir`.
    * ``"prochousehard/<seed>"``: the ProcHouseHard building of that seed (multi-storey, 8-20
      rooms), cached the same way in its own versioned folder.
    * a mesh path (``.glb``, ``.gltf``, ``.obj``, ``.ply``): absolute, or relative to the data root's
      ``scene_datasets/`` folder as in Habitat's episode files.
    * a Habitat scene instance (``<dataset>/scenes/<name>.scene_instance.json``, as HSSD's episodes
      name scenes), placed the same way: its stage and rigid objects composed through its
      dataset's ``*.scene_dataset_config.json``
      (:mod:`navgym.scenes.formats.scene_instance`); or just its name (``"102344049"``) when the
      dataset configs under ``scene_datasets/`` list one scene instance of that name.
"""

from __future__ import annotations

import os
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
    them, and ``<seed>.textures.bin``, the house's textures decoded (most of what loading the pair
    would cost otherwise; :func:`~navgym.scenes.formats.annotations.encode_texture_cache`), also
    byte-identical, written after the pair and used only with the ``.glb`` it was made from. An
    entry that does not load, or whose files do not name each other (e.g. written by an older
    navgym under temporary names), is regenerated and rewritten; one without its textures file
    (written by an older navgym) loads from the PNGs and gets it.
    """
    from navgym.scenes.formats.annotations import load_annotated, texture_cache_path
    from navgym.scenes.io import annotation_path
    from navgym.scenes.prochouse import generate_hard_house, generate_house

    path = prochouse_cache_path(seed, hard)
    if use_cache and path.exists():
        textures = texture_cache_path(path)
        had_textures = textures.is_file()
        try:
            scene = load_annotated(path, annotation_path(path), check_names=True, texture_cache=textures)
        except (ValueError, FileNotFoundError):
            pass  # a corrupt or stale cache entry: regenerate it below
        else:
            scene.name = prochouse_scene_id(seed, hard)
            if not had_textures:  # written by an older navgym
                _save_cache_entry(scene, path, pair=False)
            return scene
    scene = generate_hard_house(int(seed)) if hard else generate_house(int(seed))
    scene.name = prochouse_scene_id(seed, hard)
    if use_cache:
        _save_cache_entry(scene, path, pair=True)
    return scene


def prochouse_cache_path(seed: int, hard: bool = False) -> Path:
    """Where the ProcHouse house of ``seed`` is cached: its ``.glb`` (beside it, the annotations and
    the decoded textures; :func:`load_prochouse`)."""
    from navgym.scenes.prochouse import GENERATOR_VERSION
    from navgym.scenes.prochouse.hard import HARD_GENERATOR_VERSION

    folder = f"prochouse_hard_v{HARD_GENERATOR_VERSION}" if hard else f"prochouse_v{GENERATOR_VERSION}"
    return cache_dir() / "scenes" / folder / f"{int(seed):07d}.glb"


def _save_cache_entry(scene: Scene, path: Path, pair: bool) -> None:
    """Write ``scene``'s cache entry at ``path`` (``.glb``): as :func:`~navgym.scenes.io.save_scene`
    writes the pair (when ``pair``; all files complete, then renamed into place, annotations
    first), then its textures file, made from the very ``.glb`` bytes written (without ``pair``:
    from the ``.glb`` there, which holds ``scene``)."""
    import hashlib

    from navgym.scenes.formats.annotations import encode_scene, encode_texture_cache, texture_cache_path
    from navgym.scenes.io import annotation_path, publish_files

    files = []
    if pair:
        glb, annotations = encode_scene(scene, path.name, annotation_path(path).name)
        files = [(annotation_path(path).name, annotations), (path.name, glb)]
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        try:
            glb = path.read_bytes()
        except OSError:
            return  # only a speed-up: the house loads from its PNGs without it
    textures = encode_texture_cache(scene, hashlib.sha256(glb).hexdigest())
    if textures is not None:
        files.append((texture_cache_path(path).name, textures))
    publish_files(path.parent, files)


#: ProcHouse scenes a process keeps (about 1.2 MB each): as many as a training set's houses, so the
#: envs of a process that cycle through 40-80 houses (navgym train --env-threads) read each from
#: disk once.
PROCHOUSE_SCENES_KEPT = 96


@lru_cache(maxsize=PROCHOUSE_SCENES_KEPT)
def _load_prochouse_cached(seed: int, hard: bool = False) -> Scene:
    return load_prochouse(seed, hard=hard)


#: ``up_axis`` values :func:`load_scene_by_id` takes.
UP_AXES = ("auto", "y", "z")


def habitat_up_axis(path: str | Path) -> str:
    """The up axis habitat-sim gives a mesh file used as a scene without a stage config: ``"z"``
    for a ``.glb`` (Gibson, MP3D and HM3D ship z-up ``.glb`` files; habitat-sim's
    ``StageAttributesManager`` sets up ``[0, 0, 1]``, front ``[0, 1, 0]`` for the ``.glb``
    suffix, and HM3D's scene dataset configs say the same), ``"y"`` for anything else. A
    ``.glb`` navgym wrote (with its ``.navgym.json`` beside it) is y-up, and a ``<stem>.stage_config.json``
    beside the file (HSSD's stages) decides by its ``"up"`` (habitat-sim's default there: y).

    Raises:
        DatasetFormatError: a stage config that is not JSON, or whose ``up`` is neither y nor z.
    """
    import json

    from navgym.errors import DatasetFormatError
    from navgym.scenes.io import annotation_path

    path = Path(path)
    if path.suffix.lower() != ".glb" or annotation_path(path).is_file():
        return "y"
    config = path.with_name(path.stem + ".stage_config.json")
    if not config.is_file():
        return "z"
    try:
        up = json.loads(config.read_text(encoding="utf-8")).get("up", [0, 1, 0])
    except (ValueError, AttributeError, OSError) as exc:
        raise DatasetFormatError(f"{config}: not a JSON stage config ({exc}); fix it or remove it") from None
    axes = {(0, 1, 0): "y", (0, 0, 1): "z"}
    try:
        return axes[tuple(float(v) for v in up)]
    except (KeyError, TypeError, ValueError):
        raise DatasetFormatError(
            f"{config}: up={up!r} is not [0, 1, 0] or [0, 0, 1], the two up axes navgym reads; pass up_axis='y' or 'z' "
            "(sim_options={'up_axis': ...}) after turning the mesh"
        ) from None


def load_scene_by_id(
    scene_id: str,
    data_root: str | Path | None = None,
    up_axis: str = "auto",
    scene_dataset_config: str | Path | None = None,
) -> Scene:
    """Resolve a scene id (see module docs) to a :class:`Scene`.

    ``up_axis`` (mesh files only): ``"auto"`` follows habitat-sim (:func:`habitat_up_axis`: a
    bare ``.glb`` is z-up and is turned y-up the way habitat-sim turns it, ``(x, y, z) -> (x, z,
    -y)``, so the episode files' positions fit it), ``"y"`` or ``"z"`` say it. For a scene
    instance the configs give every frame; ``"y"`` / ``"z"`` then say which way up its stage mesh is.

    ``scene_dataset_config`` (scene instances only; ``None`` or ``"default"``: found as
    :func:`~navgym.scenes.formats.scene_instance.find_dataset_config` says): the dataset's
    ``*.scene_dataset_config.json``, absolute or placed like a scene id (an episode's
    ``"data/scene_datasets/hssd-hab/hssd-hab-uncluttered.scene_dataset_config.json"``).
    The scene's ``name`` is ``scene_id`` either way.
    """
    if up_axis not in UP_AXES:
        from navgym.errors import InvalidArgumentError

        raise InvalidArgumentError(
            f"up_axis={up_axis!r} must be one of {UP_AXES}: 'auto' (a bare .glb is z-up, as in habitat-sim), "
            "'y' for y-up mesh files, 'z' for z-up ones"
        )
    if scene_id.startswith(PROCHOUSE_PREFIX) or scene_id.startswith(PROCHOUSE_HARD_PREFIX):
        return _load_prochouse_cached(prochouse_seed(scene_id), scene_id.startswith(PROCHOUSE_HARD_PREFIX))
    from navgym.scenes.io import load_scene

    root = Path(data_root) if data_root is not None else default_data_root()
    path = Path(scene_id)
    if not path.is_absolute():
        path = resolve_scene_path(scene_id, root)
    hint = "Scene meshes go under <data root>/scene_datasets/ (data_dir=... or NAVGYM_DATA); see docs/datasets.md."
    instance = _scene_instance(scene_id, path, root, scene_dataset_config, hint)
    if instance is not None:
        from navgym.scenes.formats.scene_instance import load_scene_instance

        datasets = Path(os.path.abspath(root / "scene_datasets"))
        inside = os.path.commonpath([str(datasets), str(instance[0])]) == str(datasets)
        scene = load_scene_instance(*instance, search_stop=datasets if inside else None, up_axis=up_axis)
        scene.name = scene_id
        return scene
    if up_axis == "auto":
        up_axis = habitat_up_axis(path)
    scene = load_scene(path, up_axis=up_axis, hint=hint)
    scene.name = scene_id
    return scene


def _scene_instance(
    scene_id: str, path: Path, root: Path, scene_dataset_config: str | Path | None, hint: str
) -> tuple[Path, Path | None] | None:
    """``(scene instance file, dataset config or None to find it)`` when ``scene_id`` names a scene
    instance: its ``.scene_instance.json`` (``path``, resolved), or a bare name (no ``/``, no
    ``.``) with no file of that name, listed by the data root's dataset configs; else None."""
    from navgym.errors import DataNotFoundError, InvalidArgumentError
    from navgym.scenes.formats.scene_instance import SCENE_INSTANCE_SUFFIX, find_scene_instance

    named = scene_id.lower().endswith(SCENE_INSTANCE_SUFFIX)
    if not named and ("/" in scene_id or "\\" in scene_id or "." in scene_id or path.exists()):
        return None
    config = None
    if scene_dataset_config is not None and str(scene_dataset_config) != "default":
        config = Path(scene_dataset_config)
        if not config.is_absolute():
            try:
                config = resolve_scene_path(str(scene_dataset_config), root)
            except InvalidArgumentError as exc:
                raise InvalidArgumentError(f"scene_dataset_config: {exc}") from None
        if not config.is_file():
            raise DataNotFoundError(f"scene_dataset_config={str(scene_dataset_config)!r} does not exist (looked at {config}). {hint}")
    if named:
        if not path.is_file():
            raise DataNotFoundError(f"Scene instance not found: {path}. {hint}")
        return path, config
    return find_scene_instance(scene_id, root / "scene_datasets", config)
