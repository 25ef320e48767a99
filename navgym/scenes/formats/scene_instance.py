"""Habitat scene instances (``*.scene_instance.json``, as HSSD ships its scenes) as one scene.

A Habitat *scene dataset* (``<name>.scene_dataset_config.json``) registers stage, object and scene
instance configs; a *scene instance* names one stage and places rigid objects on it. This module
composes a scene instance into one unannotated :class:`~navgym.scenes.scene.Scene` in
habitat-sim's world frame (y up, metres), so the positions of episodes made with habitat-sim fit.
The rules below are habitat-sim's (its ``docs/pages/attributesJSON.rst`` and ``src/esp/metadata``,
``src/esp/physics``, ``src/esp/assets`` sources), restated; what navgym does not read is listed in
``docs/scene_format.md``.

* **Dataset config**: the ``"stages"``, ``"objects"`` and ``"scene_instances"`` sections each have
  ``"paths": {".json": [...]}``: globs relative to the config's folder; a matching folder
  contributes the files in it (not below it) ending in ``.stage_config.json`` /
  ``.object_config.json`` / ``.scene_instance.json``, a matching file itself, and an entry
  matching nothing is tried with that suffix appended. A section's ``"default_attributes"`` are
  the defaults of its stage / object configs (``%%CONFIG_NAME_AS_ASSET_FILENAME%%`` in an asset
  name stands for the config's name). Inline ``"configs"`` entries are not read (a warning says so).
* **Templates by name**: a ``template_name`` is the path of a config relative to the dataset
  folder without its suffix (``"stages/102344049"``), or a name habitat-sim finds by substring in
  the registered configs' handles (HSSD's object hashes are their file stems). navgym tries: that
  relative path; a registered config whose path ends with ``/<name><suffix>``; a registered config
  whose path relative to the dataset folder contains the name (the first in sorted order when
  several do, with a warning); else, as habitat-sim makes a default template from the name, the
  file ``<dataset folder>/<name>`` (a mesh used as it is) or ``<name><suffix>``. ``"NONE"`` as
  the stage means no stage.
* **Stage / object configs**: ``render_asset`` (else ``collision_asset``), relative to the
  config's folder; ``up`` / ``front`` (default y up, -z front; a mesh used without a config: a
  ``.glb`` stage is z-up, front y, as habitat-sim takes Gibson/MP3D/HM3D files); ``scale``
  (3 numbers); objects' ``COM``; ``is_visible``. The render mesh is turned so ``up`` becomes
  +y and ``front`` -z, *then* scaled (habitat-sim's scaling node is the parent of the re-framed
  mesh), so a scale applies along the world-aligned axes of the turned mesh.
* **Scene instance**: ``stage_instance`` (``template_name``; ``uniform_scale`` /
  ``non_uniform_scale`` multiply the stage's scale; its ``translation`` and ``rotation`` are not
  applied, as habitat-sim does not apply them either: ``RigidStage`` ignores its instance pose),
  ``object_instances`` (``template_name``, ``translation``, ``rotation`` as a unit quaternion
  ``[w, x, y, z]``, ``uniform_scale`` times ``non_uniform_scale`` times the config's ``scale``,
  ``translation_origin``, ``is_instance_visible``), and a scene-wide ``translation_origin``.
* **Translation origin**: ``"asset_local"``: the mesh's own origin lands on ``translation``:
  ``p = t + R (s * (F v))`` (``F`` the up/front turn, ``s`` the scale). ``"COM"``: habitat-sim
  moves a rigid object's origin to its centre of mass, which is the config's ``COM`` (times the
  scale) when given, else the centre of the render mesh's bounding box in the turned, scaled
  frame (``RigidObject::finalizeObject``: ``shiftOriginToBBCenter``, the render asset's nodes,
  also when a collision asset exists), and ``translation`` places that centre:
  ``p = t + R (s * (F v) - c)``. navgym takes the tight box of the vertices, which is habitat-sim's
  box unless the glTF's own nodes are turned by other than multiples of 90 degrees. An instance's
  ``translation_origin`` wins over the scene's; ``"default"`` or none falls back to the scene's;
  without either habitat-sim uses COM (HSSD's scenes say ``"asset_local"``).
* **Articulated objects** (``articulated_object_instances``, URDF) are not loaded: one
  :class:`SceneInstanceWarning` names them. Lighting, semantic instances, semantic ids and
  collision assets are not read either; ``motion_type`` is ignored (everything is static).
* **Navmesh**: ``navmesh_instance`` names an entry of the dataset config's ``navmesh_instances``
  (``{name: path relative to the config's folder}``); the file becomes ``scene.navmesh_file``.

Every file a config names must lie inside the dataset folder (the folder of the
``.scene_dataset_config.json``; lexically, as :func:`navgym.core.paths.resolve_scene_path` checks
scene ids): a path escaping it is refused with :class:`~navgym.errors.DatasetFormatError`. A
missing render asset is an error (:class:`~navgym.errors.DataNotFoundError`), as in habitat-sim,
which does not register a template whose render asset is missing and then fails to create the
scene. The composed scene records the stage's render mesh as ``mesh_file``, so the embedded
simulator's ``navmesh="auto"`` (when ``navmesh_instance`` names none) finds ``<stage>.navmesh`` beside it or HSSD's
``navmeshes/<stage>.navmesh`` (HSSD names each stage as its scene).
"""

from __future__ import annotations

import glob
import json
import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from navgym.errors import DataNotFoundError, DatasetFormatError
from navgym.scenes.formats.external import MAX_TEXTURE_SIZE, _unique_name, load_external
from navgym.scenes.scene import Material, Scene

SCENE_INSTANCE_SUFFIX = ".scene_instance.json"
DATASET_CONFIG_SUFFIX = ".scene_dataset_config.json"
STAGE_CONFIG_SUFFIX = ".stage_config.json"
OBJECT_CONFIG_SUFFIX = ".object_config.json"

#: Longest texture side kept for objects (the stage keeps ``max_texture_size``): a scene holds
#: hundreds of objects, and the embedded renderer resamples every texture to 64 x 64 anyway.
OBJECT_MAX_TEXTURE_SIZE = 128
#: Folders searched for the dataset config of a scene instance: its own and the two above it
#: (HSSD: ``hssd-hab/scenes/``; ReplicaCAD: ``replica_cad/configs/scenes/``).
CONFIG_SEARCH_LEVELS = 3

_NAME_TAG = "%%CONFIG_NAME_AS_ASSET_FILENAME%%"
_Y, _Z, _MINUS_Z = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.0, -1.0])
#: habitat-sim's frames: (up, front).
_Y_UP, _Z_UP = (_Y, _MINUS_Z), (_Z, _Y)


class SceneInstanceWarning(UserWarning):
    """Part of a scene instance that navgym does not load (articulated objects, inline configs)."""


class SceneDataset:
    """A ``*.scene_dataset_config.json``: the stage, object and scene instance configs it registers.

    Raises:
        DataNotFoundError: the file does not exist.
        DatasetFormatError: it is not a JSON object, or a section or path entry is malformed or
            leaves the dataset folder.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(os.path.abspath(path))
        self.root = self.path.parent
        self.config = _read_json(self.path, "scene dataset config")
        self._files: dict[str, list[Path]] = {}
        self._by_name: dict[str, dict[str, list[Path]]] = {}
        self._relative: dict[str, list[tuple[str, Path]]] = {}
        self._templates: dict[tuple[str, str], _Template] = {}
        self._warned_configs: set[str] = set()

    def _section(self, section: str) -> dict[str, Any]:
        node = self.config.get(section, {})
        if not isinstance(node, dict):
            raise DatasetFormatError(f"{self.path}: {section!r} is {node!r}; it must be a JSON object such as "
                                     f'{{"paths": {{".json": ["{section}"]}}}}')
        if node.get("configs") and section not in self._warned_configs:
            self._warned_configs.add(section)
            warnings.warn(f"{self.path}: the inline {section!r}.'configs' entries are not read by navgym; only the config "
                          f"files its 'paths' register are", SceneInstanceWarning, stacklevel=4)
        return node

    def defaults(self, section: str) -> dict[str, Any]:
        """The section's ``default_attributes`` (an empty dict when it has none)."""
        defaults = self._section(section).get("default_attributes", {})
        if not isinstance(defaults, dict):
            raise DatasetFormatError(f"{self.path}: {section!r}.'default_attributes' is {defaults!r}; it must be a JSON object")
        return defaults

    def config_files(self, section: str, suffix: str) -> list[Path]:
        """The ``suffix`` files the section's ``paths[".json"]`` globs register (see the module
        docs), in order, each once."""
        if section in self._files:
            return self._files[section]
        paths = self._section(section).get("paths", {})
        entries = paths.get(".json", []) if isinstance(paths, dict) else None
        if not isinstance(entries, list):
            raise DatasetFormatError(f'{self.path}: {section!r}.\'paths\' is {paths!r}; it must be {{".json": [<folders or '
                                     "globs relative to this file>]}")
        found: dict[Path, None] = {}
        for i, entry in enumerate(entries):
            pattern = _inside(self.root, self.root, entry, self.path, f'{section}.paths[".json"][{i}]')
            relative = os.path.relpath(pattern, self.root)  # globbed below the (escaped) dataset folder
            matches = sorted(os.path.normpath(os.path.join(self.root, m)) for m in glob.glob(relative, root_dir=self.root))
            if not matches and Path(str(pattern) + suffix).is_file():
                matches = [str(pattern) + suffix]
            for match in matches:
                if os.path.isdir(match):
                    for name in sorted(os.listdir(match)):
                        if name.endswith(suffix) and os.path.isfile(os.path.join(match, name)):
                            found[Path(match, name)] = None
                elif match.endswith(suffix):
                    found[Path(match)] = None
        self._files[section] = list(found)
        by_name: dict[str, list[Path]] = {}
        for file in found:
            by_name.setdefault(file.name, []).append(file)
        self._by_name[section] = by_name
        self._relative[section] = [(f.relative_to(self.root).as_posix(), f) for f in found]
        return self._files[section]

    def find_template(self, section: str, suffix: str, name: Any, file: Path, field: str) -> tuple[Path, bool]:
        """The config (``(path, True)``) or the mesh used without one (``(path, False)``) that the
        template name ``name`` stands for; ``file`` / ``field`` say where the name was read.

        Raises:
            DatasetFormatError: no config or file of that name, or the name leaves the dataset folder.
        """
        if not isinstance(name, str) or not name.strip():
            raise DatasetFormatError(f"{file}: {field}={name!r} must name a template of the scene dataset {self.path}")
        key = name.strip().replace("\\", "/")
        with_suffix = key if key.endswith(suffix) else key + suffix
        files = self.config_files(section, suffix)
        same_name = self._by_name[section].get(with_suffix.rsplit("/", 1)[-1], [])
        exact = Path(os.path.normpath(os.path.join(self.root, with_suffix)))
        if exact in same_name:
            return exact, True
        tail = "/" + with_suffix
        hits = sorted(f for f in same_name if f.as_posix().endswith(tail))
        if not hits:  # habitat-sim's look-up: a registered handle containing the name
            hits = sorted(f for relative, f in self._relative[section] if key in relative)
        if hits:
            if len(hits) > 1:
                warnings.warn(f"{file}: {field}={name!r} matches {len(hits)} configs of {self.path} "
                              f"({', '.join(str(h) for h in hits[:3])}, ...); the first is used", SceneInstanceWarning, stacklevel=4)
            return hits[0], True
        # Not registered: habitat-sim then makes a template from the name itself (a config or a mesh file).
        direct = _inside(self.root, self.root, key, file, field)
        config = _inside(self.root, self.root, with_suffix, file, field)
        if config.is_file():
            return config, True
        if direct.is_file() and not direct.name.endswith(".json"):
            return direct, False
        raise DatasetFormatError(
            f"{file}: {field}={name!r} matches none of the {len(files)} {suffix} files that {self.path} registers "
            f"under {section!r}.'paths', and neither {config} nor a mesh file {direct} exists; fix the name, or add the "
            f"folder of its {suffix} to {section!r}.'paths'.'.json'"
        )


@dataclass
class _Template:
    """What a stage or object config says about its look and frame."""

    render_asset: Path
    frame: np.ndarray  # (3, 3): asset coordinates -> y-up, -z-front coordinates
    scale: np.ndarray
    com: np.ndarray | None = None
    visible: bool = True


def load_scene_instance(
    path: str | os.PathLike[str],
    scene_dataset_config: str | os.PathLike[str] | None = None,
    *,
    search_stop: str | os.PathLike[str] | None = None,
    up_axis: str = "auto",
    max_texture_size: int = MAX_TEXTURE_SIZE,
) -> Scene:
    """Compose the scene instance ``path``: its stage and rigid objects as one unannotated scene.

    Args:
        path: The ``*.scene_instance.json``.
        scene_dataset_config: Its dataset's ``*.scene_dataset_config.json``; ``None`` finds the
            one that lists ``path`` (:func:`find_dataset_config`).
        search_stop: The highest folder :func:`find_dataset_config` looks in (the data root's
            ``scene_datasets/``), if any.
        up_axis: ``"auto"``: the stage's up/front as its config says; ``"y"`` / ``"z"``: the
            stage mesh is that way up (objects keep their configs' frames).
        max_texture_size: Longest texture side kept for the stage (objects keep at most
            :data:`OBJECT_MAX_TEXTURE_SIZE`).

    Returns:
        The scene, named after the file (``<name>`` of ``<name>.scene_instance.json``), with
        ``metadata`` naming the files read and the counts of objects loaded and not loaded;
        ``mesh_file`` is the stage's render mesh, ``mesh_up_axis`` ``"z"`` for a z-up stage.

    Raises:
        DataNotFoundError: the scene instance, the dataset config or a render asset is missing,
            or no dataset config lists the scene instance.
        DatasetFormatError: a file is not valid JSON or a field is malformed (the message names
            the file, the field, the value and the fix), or a path leaves the dataset folder.
    """
    path = Path(os.path.abspath(path))
    if up_axis not in ("auto", "y", "z"):
        raise ValueError(f"load_scene_instance: up_axis={up_axis!r} must be 'auto', 'y' or 'z'")
    config = scene_dataset_config if scene_dataset_config is not None else find_dataset_config(path, search_stop)
    dataset = SceneDataset(config)
    data = _read_json(path, "scene instance")
    stage = data.get("stage_instance")
    if not isinstance(stage, dict):
        raise DatasetFormatError(
            f"{path}: 'stage_instance' is {'missing' if stage is None else repr(stage)}; a scene instance names its stage, "
            'e.g. "stage_instance": {"template_name": "stages/<name>"} ("NONE" for none), as habitat-sim requires too'
        )
    scene_origin = _translation_origin(data.get("translation_origin"), "com", path, "translation_origin")
    parts = _Parts()
    stage_mesh, stage_axis = None, "y"
    stage_name = stage.get("template_name")
    if stage_name != "NONE":
        template = _template(dataset, "stages", STAGE_CONFIG_SUFFIX, stage_name, path, "stage_instance.template_name")
        if up_axis != "auto":
            template = replace(template, frame=_frame(*(_Y_UP if up_axis == "y" else _Z_UP), path, "up_axis"))
        scale = template.scale * _instance_scale(stage, path, "stage_instance")
        mesh = parts.mesh(template.render_asset, max_texture_size)
        parts.add(mesh, (mesh[0].vertices.astype(np.float64) @ template.frame.T) * scale, np.prod(scale) < 0)
        stage_mesh = template.render_asset
        stage_axis = "z" if np.allclose(template.frame, _frame(*_Z_UP, path, "")) else "y"
    objects = data.get("object_instances", [])
    if not isinstance(objects, list):
        raise DatasetFormatError(f"{path}: 'object_instances' is {objects!r}; it must be a list of objects such as "
                                 '{"template_name": ..., "translation": [x, y, z], "rotation": [w, x, y, z]}')
    loaded = 0
    for i, instance in enumerate(objects):
        where = f"object_instances[{i}]"
        if not isinstance(instance, dict):
            raise DatasetFormatError(f"{path}: {where} is {instance!r}; each object instance is a JSON object with a 'template_name'")
        template = _template(dataset, "objects", OBJECT_CONFIG_SUFFIX, instance.get("template_name"), path, f"{where}.template_name")
        if not _visible(instance.get("is_instance_visible"), template.visible):
            continue
        scale = template.scale * _instance_scale(instance, path, where)
        translation = _vector(instance.get("translation", [0, 0, 0]), 3, path, f"{where}.translation", "[x, y, z] in metres")
        rotation = _rotation(instance.get("rotation", [1, 0, 0, 0]), path, f"{where}.rotation")
        origin = _translation_origin(instance.get("translation_origin"), scene_origin, path, f"{where}.translation_origin")
        mesh = parts.mesh(template.render_asset, min(int(max_texture_size), OBJECT_MAX_TEXTURE_SIZE))
        local = (mesh[0].vertices.astype(np.float64) @ template.frame.T) * scale
        if origin == "com":
            centre = scale * template.com if template.com is not None else (local.min(axis=0) + local.max(axis=0)) / 2
            local -= centre
        parts.add(mesh, local @ rotation.T + translation, np.prod(scale) < 0)
        loaded += 1
    articulated = data.get("articulated_object_instances") or []
    articulated = articulated if isinstance(articulated, list) else [articulated]
    if articulated:
        names = [str(a.get("template_name")) if isinstance(a, dict) else repr(a) for a in articulated]
        warnings.warn(
            f"{path}: its {len(names)} articulated object instance(s) ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''}; "
            "URDF) are not loaded: navgym composes the stage and rigid objects only, so these (doors, cabinets, "
            "fridges, ...) are missing from the scene, unlike in habitat-sim",
            SceneInstanceWarning,
            stacklevel=2,
        )
    if parts.ktx2:
        warnings.warn(
            f"{path}: {len(parts.ktx2)} of its mesh files ({parts.ktx2[0].name}{', ...' if len(parts.ktx2) > 1 else ''}) "
            "store their textures as KTX2 (KHR_texture_basisu, as HSSD's do), which navgym's glTF reader (trimesh) "
            "does not decode: those surfaces show their base colours only. Convert the textures to PNG/JPEG (e.g. "
            "with gltf-transform) for textured RGB frames",
            SceneInstanceWarning,
            stacklevel=2,
        )
    name = path.name[: -len(SCENE_INSTANCE_SUFFIX)] if path.name.endswith(SCENE_INSTANCE_SUFFIX) else path.stem
    metadata = {
        "source": str(path),
        "scene_dataset_config": str(dataset.path),
        "stage": None if stage_mesh is None else str(stage_mesh),
        "up_axis": stage_axis,
        "objects": loaded,
        "articulated_objects_not_loaded": len(articulated),
        "ktx2_meshes": len(parts.ktx2),
    }
    scene = parts.build(name, metadata, path)
    scene.mesh_file, scene.mesh_up_axis = stage_mesh, stage_axis
    scene.navmesh_file = _navmesh_instance(dataset, data.get("navmesh_instance"), path)
    return scene


def _navmesh_instance(dataset: SceneDataset, name: Any, file: Path) -> Path | None:
    """The navmesh file the scene instance's ``navmesh_instance`` names through the dataset
    config's ``"navmesh_instances": {name: path relative to the config's folder}`` (ReplicaCAD's
    layout), or None when it names none (``""``, absent: the navmesh is then looked for by the
    stage's name). A name the config does not map, or a file that is missing, warns and gives None."""
    if name is None or name == "":
        return None
    table = dataset.config.get("navmesh_instances", {})
    if not isinstance(name, str) or not isinstance(table, dict) or name not in table:
        warnings.warn(f"{file}: navmesh_instance={name!r} is not among the 'navmesh_instances' of {dataset.path} "
                      f"({', '.join(map(repr, table)) if isinstance(table, dict) and table else 'none'}); the navmesh "
                      "is looked for by the stage's name instead", SceneInstanceWarning, stacklevel=3)
        return None
    navmesh = _inside(dataset.root, dataset.root, table[name], dataset.path, f"navmesh_instances[{name!r}]")
    if not navmesh.is_file():
        warnings.warn(f"{dataset.path}: navmesh_instances[{name!r}] = {table[name]!r} not found at {navmesh}; the navmesh "
                      "is looked for by the stage's name instead", SceneInstanceWarning, stacklevel=3)
        return None
    return navmesh


def _listed_instances(config: Path) -> list[Path]:
    """The scene instances ``config`` lists, or none (with a warning) when it cannot be read:
    a broken config beside the one that matters must not hide it."""
    try:
        return SceneDataset(config).config_files("scene_instances", SCENE_INSTANCE_SUFFIX)
    except (DatasetFormatError, DataNotFoundError) as exc:
        warnings.warn(f"skipped while looking for a scene instance: {exc}", SceneInstanceWarning, stacklevel=3)
        return []


def find_dataset_config(instance: str | os.PathLike[str], stop: str | os.PathLike[str] | None = None) -> Path:
    """The ``*.scene_dataset_config.json`` whose ``scene_instances`` paths list ``instance``: the
    first, by name, in the instance's folder, else in the folder above, ... (at most
    :data:`CONFIG_SEARCH_LEVELS` folders, none above ``stop``).

    Raises:
        DataNotFoundError: no dataset config there lists it.
    """
    instance = Path(os.path.abspath(instance))
    stop_path = None if stop is None else Path(os.path.abspath(stop))
    folder, looked = instance.parent, []
    for _ in range(CONFIG_SEARCH_LEVELS):
        for config in sorted(folder.glob("*" + DATASET_CONFIG_SUFFIX)):
            looked.append(str(config))
            if instance in _listed_instances(config):
                return config
        if folder == stop_path or folder.parent == folder:
            break
        folder = folder.parent
    raise DataNotFoundError(
        f"No scene dataset config lists the scene instance {instance} in its 'scene_instances' paths (looked at "
        f"{', '.join(looked) if looked else f'no *{DATASET_CONFIG_SUFFIX} in {instance.parent} or the folders above it'}). "
        "Its stage and objects are named through the dataset's config (HSSD: hssd-hab.scene_dataset_config.json lists "
        "scenes/, hssd-hab-uncluttered.scene_dataset_config.json scenes-uncluttered/): keep the dataset's folder whole, "
        "or pass scene_dataset_config="
    )


def find_scene_instance(name: str, datasets_folder: str | os.PathLike[str],
                        scene_dataset_config: str | os.PathLike[str] | None = None) -> tuple[Path, Path] | None:
    """``(scene instance, dataset config)`` for a bare scene name (``"102344049"``): the
    ``<name>.scene_instance.json`` that ``scene_dataset_config`` lists, or, without it, that the
    ``*.scene_dataset_config.json`` files in ``datasets_folder`` or one folder below list; None
    when none does.

    Raises:
        DatasetFormatError: several different files of that name are listed (HSSD lists one in
            ``scenes/`` and one in ``scenes-uncluttered/``); the message names them and the fix.
    """
    folder = Path(datasets_folder)
    configs = ([Path(scene_dataset_config)] if scene_dataset_config is not None else
               sorted(folder.glob("*" + DATASET_CONFIG_SUFFIX)) + sorted(folder.glob("*/*" + DATASET_CONFIG_SUFFIX)))
    hits: dict[Path, Path] = {}
    for config in configs:
        listed = (SceneDataset(config).config_files("scene_instances", SCENE_INSTANCE_SUFFIX) if scene_dataset_config is not None
                  else _listed_instances(config))
        for file in listed:
            if file.name == name + SCENE_INSTANCE_SUFFIX:
                hits.setdefault(file, Path(os.path.abspath(config)))
    if len(hits) > 1:
        listed = "; ".join(f"{file} (listed by {config.name})" for file, config in hits.items())
        raise DatasetFormatError(
            f"scene id {name!r} names {len(hits)} scene instances: {listed}. Name the file in the scene id "
            f"(e.g. '<dataset>/scenes-uncluttered/{name}{SCENE_INSTANCE_SUFFIX}'), or pass scene_dataset_config="
        )
    return next(iter(hits.items()), None)


#: Meshes kept across scene loads (HSSD's scenes share most of their objects): up to this many
#: bytes of vertices, faces, UVs and textures, least recently used dropped first.
MESH_CACHE_BYTES = 256 * 2**20
_MESH_CACHE: Any = None


def _mesh_bytes(value: tuple[Scene, Any]) -> int:
    scene = value[0]
    textures = sum(m.texture.nbytes for m in scene.materials if m.texture is not None)
    return int(scene.vertices.nbytes + scene.faces.nbytes + scene.uvs.nbytes + scene.face_material.nbytes + textures) + 1


def _load_mesh(path: Path, max_texture_size: int) -> Scene:
    """The mesh file as a scene (through trimesh, as any external mesh), from a per-process cache
    keyed by the file's path, size and modification time (:data:`MESH_CACHE_BYTES`). Callers must
    not change the returned scene (materials are copied before renaming)."""
    global _MESH_CACHE
    from cachetools import LRUCache

    if _MESH_CACHE is None:
        _MESH_CACHE = LRUCache(maxsize=MESH_CACHE_BYTES, getsizeof=_mesh_bytes)
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, max_texture_size)
    cached = _MESH_CACHE.get(key)
    if cached is not None:
        return cached[0]
    try:
        scene = load_external(path, "y", max_texture_size)
    except ValueError as exc:  # names the file already
        raise DatasetFormatError(str(exc)) from exc
    try:
        _MESH_CACHE[key] = (scene, None)
    except ValueError:  # larger than the whole cache: used once, not kept
        pass
    return scene


def _uses_ktx2(path: Path) -> bool:
    """Whether a ``.glb`` / ``.gltf`` declares ``KHR_texture_basisu`` (KTX2 textures, as HSSD's
    files do), which trimesh does not decode: such a mesh shows its base colours only."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
            if head[:4] == b"glTF" and head[16:20] == b"JSON":
                text = f.read(int.from_bytes(head[12:16], "little"))
            elif path.suffix.lower() == ".gltf":
                text = head + f.read()
            else:
                return False
        used = json.loads(text).get("extensionsUsed", [])
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(used, list) and "KHR_texture_basisu" in used


class _Parts:
    """Meshes placed one after another into one triangle soup, each file loaded once."""

    def __init__(self) -> None:
        self.vertices: list[np.ndarray] = []
        self.faces: list[np.ndarray] = []
        self.uvs: list[np.ndarray] = []
        self.face_material: list[np.ndarray] = []
        self.materials: list[Material] = []
        self._names: set[str] = set()
        self._meshes: dict[tuple[Path, int], tuple[Scene, int]] = {}
        self._count = 0
        #: Meshes whose textures are KTX2 / Basis Universal (trimesh drops them: base colours only).
        self.ktx2: list[Path] = []

    def mesh(self, path: Path, max_texture_size: int) -> tuple[Scene, int]:
        """The file as a scene (through trimesh, as any external mesh), and where its materials start."""
        key = (path, int(max_texture_size))
        if key not in self._meshes:
            scene = _load_mesh(path, int(max_texture_size))
            start = len(self.materials)
            for material in scene.materials:  # copies: the cached mesh keeps its own names
                self.materials.append(replace(material, name=_unique_name(material.name, self._names)))
            self._meshes[key] = (scene, start)
            if _uses_ktx2(path):
                self.ktx2.append(path)
        return self._meshes[key]

    def add(self, mesh: tuple[Scene, int], vertices: np.ndarray, mirrored: bool) -> None:
        """Place ``mesh`` with these vertices (a mirroring scale reverses the winding back)."""
        scene, start = mesh
        faces = scene.faces[:, ::-1] if mirrored else scene.faces
        self.vertices.append(vertices)
        self.faces.append(faces.astype(np.int64) + self._count)
        self.uvs.append(scene.uvs)
        self.face_material.append(scene.face_material + start)
        self._count += len(vertices)

    def build(self, name: str, metadata: dict[str, Any], path: Path) -> Scene:
        if not self.faces:
            raise DatasetFormatError(f"{path}: nothing to show: no stage (template_name 'NONE') and no visible object instance")
        faces = np.concatenate(self.faces)
        return Scene(
            vertices=np.concatenate(self.vertices),
            faces=faces,
            uvs=np.concatenate(self.uvs),
            face_material=np.concatenate(self.face_material),
            face_instance=np.zeros(len(faces), dtype=np.int32),
            materials=self.materials,
            name=name,
            metadata=metadata,
            annotated=False,
        )


def _template(dataset: SceneDataset, section: str, suffix: str, name: Any, file: Path, field: str) -> _Template:
    """The stage / object template ``name`` (read at ``file``'s ``field``) with its render asset
    checked; each name is looked up and read once per dataset."""
    key = (section, name if isinstance(name, str) else repr(name))
    if key not in dataset._templates:
        dataset._templates[key] = _read_template(dataset, section, suffix, name, file, field)
    return dataset._templates[key]


def _read_template(dataset: SceneDataset, section: str, suffix: str, name: Any, file: Path, field: str) -> _Template:
    path, is_config = dataset.find_template(section, suffix, name, file, field)
    if not is_config:  # a mesh named directly: habitat-sim's defaults for it
        stage_glb = section == "stages" and path.suffix.lower() == ".glb"
        return _Template(path, _frame(*(_Z_UP if stage_glb else _Y_UP), file, field), np.ones(3))
    config = {**dataset.defaults(section), **_read_json(path, section[:-1] + " config")}
    asset = config.get("render_asset") or config.get("collision_asset")
    if not isinstance(asset, str) or not asset:
        raise DatasetFormatError(f"{path}: 'render_asset' is {config.get('render_asset')!r}; name the mesh file, relative to "
                                 f"this config's folder (e.g. \"{path.name[: -len(suffix)]}.glb\")")
    asset = asset.replace(_NAME_TAG, path.name[: -len(suffix)])
    render = _inside(dataset.root, path.parent, asset, path, "render_asset")
    if not render.is_file():
        raise DataNotFoundError(
            f"{path}: render_asset {asset!r} not found at {render} (used by {file}'s {field}={name!r}); restore the file or "
            "fix the path (habitat-sim does not register such a template, and then fails to create the scene)"
        )
    up = _vector(config.get("up", _Y), 3, path, "up", "the asset's up direction, e.g. [0, 1, 0]")
    front = _vector(config.get("front", _MINUS_Z), 3, path, "front", "the asset's front direction, e.g. [0, 0, -1]")
    scale = _vector(config.get("scale", [1, 1, 1]), 3, path, "scale", "[sx, sy, sz]")
    com = _vector(config["COM"], 3, path, "COM", "the centre of mass [x, y, z]") if "COM" in config else None
    return _Template(render, _frame(up, front, path, "up/front"), scale, com, config.get("is_visible", True) is not False)


def _visible(instance_value: Any, config_visible: bool) -> bool:
    """habitat-sim's rule: an instance's ``is_instance_visible`` (true / false, or 1 / 0) wins over
    its config's ``is_visible``; unset (absent, null or -1) leaves the config's."""
    if instance_value is None or (not isinstance(instance_value, bool) and instance_value == -1):
        return config_visible
    return bool(instance_value)


def _frame(up: np.ndarray, front: np.ndarray, file: Path, field: str) -> np.ndarray:
    """The rotation taking ``up`` to +y and ``front`` to -z (habitat-sim's ``CoordinateFrame``)."""
    nu, nf = np.linalg.norm(up), np.linalg.norm(front)
    if nu < 1e-9 or nf < 1e-9 or abs(float(np.dot(up, front))) > 1e-6 * nu * nf:
        raise DatasetFormatError(
            f"{file}: {field}: up={np.asarray(up).tolist()} and front={np.asarray(front).tolist()} are not two "
            "non-zero vectors at right angles (habitat-sim then ignores both and uses y up, -z front); give both "
            "'up' and 'front', orthogonal (HSSD: up [0, 1, 0], front [0, 0, -1]; z-up meshes: up [0, 0, 1], front [0, 1, 0])"
        )
    u, f = up / nu, front / nf
    asset = np.column_stack([u, f, np.cross(u, f)])
    world = np.column_stack([_Y, _MINUS_Z, np.cross(_Y, _MINUS_Z)])
    return world @ asset.T


def _rotation(value: Any, file: Path, field: str) -> np.ndarray:
    """The rotation matrix of a unit quaternion in habitat's order ``[w, x, y, z]``."""
    meaning = "a unit quaternion [w, x, y, z], habitat's order; [1, 0, 0, 0] is no rotation"
    q = _vector(value, 4, file, field, meaning)
    norm = float(np.linalg.norm(q))
    if abs(norm - 1.0) > 1e-3:
        raise DatasetFormatError(f"{file}: {field}={value!r} has length {norm:.6g}, not 1; it must be {meaning}")
    w, x, y, z = q / norm
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def _instance_scale(instance: dict[str, Any], file: Path, where: str) -> np.ndarray:
    """``uniform_scale`` times ``non_uniform_scale`` of an instance (each 1 when absent)."""
    uniform = instance.get("uniform_scale", 1.0)
    if isinstance(uniform, bool) or not isinstance(uniform, (int, float)) or not np.isfinite(uniform):
        raise DatasetFormatError(f"{file}: {where}.uniform_scale={uniform!r} must be a finite number (1 keeps the size)")
    return float(uniform) * _vector(instance.get("non_uniform_scale", [1, 1, 1]), 3, file, f"{where}.non_uniform_scale", "[sx, sy, sz]")


def _translation_origin(value: Any, default: str, file: Path, field: str) -> str:
    """``"asset_local"`` or ``"com"`` (``default`` when absent or ``"default"``; case-insensitive)."""
    if value is None:
        return default
    key = value.lower() if isinstance(value, str) else None
    if key not in ("asset_local", "com", "default"):
        raise DatasetFormatError(f"{file}: {field}={value!r} must be 'asset_local' (translation places the mesh's own "
                                 "origin), 'COM' (it places the centre of mass) or 'default' (the scene's)")
    return default if key == "default" else key


def _vector(value: Any, n: int, file: Path, field: str, meaning: str) -> np.ndarray:
    """``value`` as ``n`` finite float64 numbers, or a DatasetFormatError naming the field."""
    try:
        vector = None if isinstance(value, (str, bytes, dict)) else np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        vector = None
    if vector is None or vector.shape != (n,) or not np.isfinite(vector).all():
        shown = value.tolist() if isinstance(value, np.ndarray) else value
        raise DatasetFormatError(f"{file}: {field}={shown!r} must be {n} finite numbers: {meaning}")
    return vector


def _inside(root: Path, base: Path, relative: Any, file: Path, field: str) -> Path:
    """``base / relative``, lexically normalised, refused unless inside the dataset folder ``root``."""
    if not isinstance(relative, str) or not relative.strip() or "\x00" in relative:
        raise DatasetFormatError(f"{file}: {field}={relative!r} must be a path relative to the file's folder")
    joined = os.path.normpath(os.path.join(base, relative.replace("\\", "/")))
    if os.path.commonpath([str(root), joined]) != str(root):
        raise DatasetFormatError(
            f"{file}: {field}={relative!r} resolves to {joined}, outside the dataset folder {root}; every file a scene "
            "dataset names must lie inside the folder of its .scene_dataset_config.json (fix the path, or move the file "
            "into the dataset)"
        )
    return Path(joined)


def _read_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON object file; DataNotFoundError when missing, DatasetFormatError when not a JSON object."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataNotFoundError(f"The {what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetFormatError(f"{path}: cannot read this {what} ({exc})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DatasetFormatError(f"{path}: not valid JSON ({exc}); a {what} is one JSON object: fix or replace the file") from None
    if not isinstance(data, dict):
        raise DatasetFormatError(f"{path}: a {what} must be one JSON object, not {type(data).__name__}")
    return data
