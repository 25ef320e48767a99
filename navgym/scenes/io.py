"""Scene files: navgym's ``.glb`` + ``.navgym.json`` pair, and external meshes.

:func:`save_scene` writes a :class:`~navgym.scenes.scene.Scene` as a standard glTF binary (y-up,
metres, textured) plus a JSON annotation file beside it; :func:`load_scene` reads that pair back
exactly, or loads any mesh trimesh reads (``.glb``, ``.gltf``, ``.obj``, ``.ply``, ...) as an
unannotated scene. The file layout is documented in ``docs/scene_format.md``; the formats live in
:mod:`navgym.scenes.formats`.

Why a hand-written glTF writer/reader for navgym's own files: glTF puts the texture origin at the
top-left, so trimesh stores ``1 - v`` in float32 on export and flips again on import, which does
not give back the same float32 ``v``. navgym instead stores the scene's UVs unchanged and the
textures flipped upside down (the same picture for any glTF viewer), and reads its own files
directly, so a round trip is bit-exact. External meshes go through trimesh.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from navgym.scenes.formats.annotations import (
    ANNOTATION_SUFFIX,
    annotation_path,
    encode_scene,
    load_annotated,
)
from navgym.scenes.formats.external import (
    COLOR_PALETTE_SIZE,
    MAX_TEXTURE_SIZE,
    load_external,
)
from navgym.scenes.scene import Scene

__all__ = ["COLOR_PALETTE_SIZE", "annotation_path", "load_scene", "save_scene"]


def save_scene(scene: Scene, path: str | Path) -> tuple[Path, Path]:
    """Write ``<stem>.glb`` and ``<stem>.navgym.json``; the output is byte-identical per scene and path name.

    The two files name each other (the ``.glb``'s ``asset.extras.navgym_annotations`` and the
    annotations' ``mesh``) by their final names, and the annotations hold the ``.glb``'s SHA-256.
    Both are written complete into a private temporary folder beside ``path`` and then renamed
    into place, annotations first: a reader never sees half a file, never a ``.glb`` without its
    annotations when there were none before, and :func:`load_scene` refuses a pair mixed by two
    writers of different scenes (the hash does not match) instead of loading it.

    Args:
        scene: The scene to write. Every non-zero id in ``face_instance`` must be an instance's id;
            metadata and instance attributes must be JSON-serialisable (numpy scalars and arrays
            are written as numbers and lists).
        path: ``dir/<stem>.glb`` or ``dir/<stem>`` (``.glb`` is appended); missing parent
            directories are created.

    Returns:
        The paths of the ``.glb`` and of the annotation file.
    """
    path = Path(path)
    if path.suffix.lower() != ".glb":
        if path.suffix:
            raise ValueError(
                f"save_scene: path={str(path)!r} must end in '.glb' or have no suffix "
                f"(the scene is written as glTF binary plus '{ANNOTATION_SUFFIX}')"
            )
        path = path.with_name(path.name + ".glb")
    json_path = annotation_path(path)
    glb, annotations = encode_scene(scene, path.name, json_path.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    publish_files(path.parent, [(json_path.name, annotations), (path.name, glb)])
    return path, json_path


def load_scene(
    path: str | Path,
    annotations: str | Path | None = None,
    *,
    up_axis: str = "y",
    max_texture_size: int = MAX_TEXTURE_SIZE,
    hint: str = "",
) -> Scene:
    """Load a scene file, with its annotations when there are any.

    With annotations (``annotations`` given, or ``<stem>.navgym.json`` beside ``path``) the file
    must be a ``.glb`` written by :func:`save_scene` and the exact scene comes back. Otherwise any
    mesh trimesh reads is flattened into one unannotated scene (``annotated=False``, all
    ``face_instance`` 0, no rooms or instances, named after the file stem). Either way the scene's
    ``mesh_file`` / ``mesh_up_axis`` record ``path`` (absolute) and ``up_axis``.

    Args:
        path: The mesh file.
        annotations: The annotation file; ``None`` looks for ``<stem>.navgym.json`` beside ``path``.
        up_axis: ``"y"`` (glTF, Habitat) or ``"z"`` to rotate a z-up external mesh to y-up.
        max_texture_size: Longest texture side kept for external meshes; larger textures are
            downsampled (navgym's own files keep their textures exactly).
        hint: Text appended to the ``FileNotFoundError`` message, e.g. where to get the data.

    Raises:
        FileNotFoundError: ``path`` or the given ``annotations`` file does not exist.
        ValueError: The mesh cannot be parsed, or the annotation file is invalid or does not
            match the mesh; the message names the file and the field.
    """
    path = Path(path)
    if up_axis not in ("y", "z"):
        raise ValueError(f"load_scene: up_axis={up_axis!r} must be 'y' or 'z'")
    if int(max_texture_size) < 1:
        raise ValueError(f"load_scene: max_texture_size={max_texture_size!r} must be >= 1")
    _require_file(path, "Scene mesh", hint)
    if annotations is not None:
        annotations = Path(annotations)
        _require_file(annotations, "Scene annotation file", hint)
    elif annotation_path(path).is_file():
        annotations = annotation_path(path)
    if annotations is None:
        scene = load_external(path, up_axis, int(max_texture_size))
    elif up_axis != "y":
        raise ValueError(
            f"load_scene: up_axis={up_axis!r} cannot be used with annotations ({annotations}); "
            "navgym scene files are already y-up"
        )
    else:
        scene = load_annotated(path, annotations)
    # Where the scene came from, as read here (not what the files say: metadata["source"] is data).
    scene.mesh_file, scene.mesh_up_axis = Path(os.path.abspath(path)), up_axis
    return scene


def _require_file(path: Path, what: str, hint: str) -> None:
    """FileNotFoundError naming ``path`` (and the caller's ``hint``) unless it is a file."""
    if not path.is_file():
        message = f"{what} not found: {path}" + (" is a folder; the scene id must name the mesh file in it" if path.is_dir() else "")
        raise FileNotFoundError(f"{message}. {hint}" if hint else message)


def publish_files(directory: Path, files: list[tuple[str, bytes]]) -> None:
    """Write each ``(name, data)`` under its final name in a private folder inside ``directory``
    (so nothing written can carry a temporary name), then rename them into place in order."""
    staging = Path(tempfile.mkdtemp(prefix=".navgym-save-", dir=directory))
    try:
        for name, data in files:
            (staging / name).write_bytes(data)
        for name, _ in files:
            os.replace(staging / name, directory / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
