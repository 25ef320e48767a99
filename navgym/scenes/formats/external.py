"""External meshes: any file trimesh reads (``.glb``, ``.gltf``, ``.obj``, ``.ply``, ...) as a scene.

Such files are not navgym's own: they are flattened into one unannotated
:class:`~navgym.scenes.scene.Scene` (no rooms or instances, ``face_instance`` all 0), with their
materials, textures (downsampled to a maximum size) or vertex / face colours (reduced to a small
palette) turned into navgym materials. The rules are documented in ``docs/scene_format.md``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from PIL import Image
from trimesh.visual.material import PBRMaterial, SimpleMaterial
from trimesh.visual.texture import TextureVisuals

from navgym.errors import DatasetFormatError
from navgym.scenes.scene import Material, Scene

#: Default longest texture side for external meshes; larger textures are downsampled.
MAX_TEXTURE_SIZE = 512
#: Most colour materials made from the vertex / face colours of an external mesh.
COLOR_PALETTE_SIZE = 64
#: Colour of external meshes that have neither texture nor colours.
DEFAULT_COLOR = (160, 160, 160)

#: Widest extent (metres) of an external mesh taken without a warning: indoor scenes (Gibson, MP3D,
#: HM3D, HSSD) span tens of metres; a mesh in centimetres or millimetres spans thousands of units.
LARGE_SCENE_EXTENT = 500.0


class SceneUnitsWarning(UserWarning):
    """An external mesh whose size suggests it is not in metres."""


#: Rotation taking z-up coordinates to y-up: (x, y, z) -> (x, z, -y).
_Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def load_external(path: Path, up_axis: str, max_texture_size: int) -> Scene:
    """Flatten whatever trimesh reads into one unannotated scene (see ``docs/scene_format.md``).

    Args:
        path: The mesh file (known to exist).
        up_axis: ``"y"`` to keep the coordinates, ``"z"`` to rotate a z-up mesh to y-up.
        max_texture_size: Longest texture side kept; larger textures are downsampled.

    Raises:
        DatasetFormatError: (a ``ValueError``) trimesh cannot parse the file, it holds no triangles, or vertices that are
            not finite (NaN, inf).
    """
    try:
        loaded = trimesh.load(str(path), force="scene", process=False)
    except Exception as exc:  # trimesh raises anything from KeyError to struct.error on bad files
        raise DatasetFormatError(
            f"Cannot parse mesh file {path}: {type(exc).__name__}: {exc}. A scene must be a mesh file trimesh reads "
            "(.glb, .gltf, .obj, .ply, .stl ...); check the episode's scene_id names the right file"
        ) from exc

    vertices, uvs, faces, face_material = [], [], [], []
    colored: list[tuple[int, np.ndarray]] = []  # (part index, per-face RGB), for the palette
    materials: list[Material] = []
    material_index: dict[int, int] = {}  # id(trimesh material) -> index: primitives share materials
    names: set[str] = set()
    offset = 0
    for node in loaded.graph.nodes_geometry:
        transform, geometry_name = loaded.graph[node]
        mesh = loaded.geometry[geometry_name]
        if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
            continue
        points = trimesh.transformations.transform_points(np.asarray(mesh.vertices, np.float64), transform)
        mesh_faces = np.asarray(mesh.faces, dtype=np.int64)
        mesh_uvs = np.zeros((len(points), 2), dtype=np.float32)
        visual = mesh.visual
        if isinstance(visual, TextureVisuals) and visual.material is not None:
            if visual.uv is not None and len(visual.uv) == len(points):
                mesh_uvs = np.asarray(visual.uv, dtype=np.float32)
            key = id(visual.material)
            if key not in material_index:
                material_index[key] = len(materials)
                material = _convert_material(visual.material, max_texture_size)
                material.name = _unique_name(material.name or f"material_{len(materials):03d}", names)
                materials.append(material)
            face_material.append(np.full(len(mesh_faces), material_index[key], dtype=np.int32))
        else:
            colored.append((len(faces), _face_colors(visual, mesh_faces)))
            face_material.append(np.zeros(len(mesh_faces), dtype=np.int32))
        vertices.append(points)
        uvs.append(mesh_uvs)
        faces.append(mesh_faces + offset)
        offset += len(points)
    if not faces:
        raise DatasetFormatError(f"Cannot use mesh file {path}: it contains no triangles (a point cloud or an empty file?)")

    if colored:
        palette, labels = _palette(np.concatenate([colors for _, colors in colored]))
        start = 0
        for part, colors in colored:
            face_material[part] = (labels[start : start + len(colors)] + len(materials)).astype(np.int32)
            start += len(colors)
        for k, color in enumerate(palette):
            name = _unique_name(f"color_{k:02d}", names)
            materials.append(Material(name, "color", tuple(int(c) for c in color)))

    all_vertices = np.concatenate(vertices)
    if up_axis == "z":
        all_vertices = all_vertices @ _Z_UP_TO_Y_UP.T
    all_faces = np.concatenate(faces)
    try:
        scene = Scene(
            vertices=all_vertices,
            faces=all_faces,
            uvs=np.concatenate(uvs),
            face_material=np.concatenate(face_material),
            face_instance=np.zeros(len(all_faces), dtype=np.int32),
            materials=materials,
            name=path.stem,
            metadata={"source": str(path), "up_axis": up_axis},
            annotated=False,
        )
    except ValueError as exc:  # e.g. NaN vertices: name the file, not only the scene
        raise DatasetFormatError(f"Cannot use mesh file {path}: {exc}") from exc
    extent = scene.vertices.max(axis=0) - scene.vertices.min(axis=0)
    if extent.max() > LARGE_SCENE_EXTENT:
        warnings.warn(
            f"Mesh file {path} spans {extent[0]:.0f} x {extent[1]:.0f} x {extent[2]:.0f} (x, y, z) units, "
            f"read as metres: more than {LARGE_SCENE_EXTENT:.0f} m, so probably centimetres or millimetres. "
            "Rescale it before use (scene.vertices *= 0.01 for centimetres, 0.001 for millimetres; "
            "docs/scene_format.md)",
            SceneUnitsWarning,
            stacklevel=3,
        )
    return scene


def _convert_material(material: Any, max_texture_size: int) -> Material:
    """A trimesh material as a navgym :class:`Material` of kind ``"external"`` (name may be empty)."""
    if isinstance(material, PBRMaterial):
        image, factor = material.baseColorTexture, material.baseColorFactor
        # glTF's baseColorFactor is linear and multiplies the texture; navgym colours are sRGB.
        rgb = np.ones(3) if factor is None else _linear_to_srgb(np.asarray(factor[:3], np.float64) / 255.0)
    elif isinstance(material, SimpleMaterial):
        image = material.image
        # OBJ's Kd is the colour without a texture; with map_Kd the texture is used as is.
        rgb = np.asarray(material.diffuse[:3], dtype=np.float64) / 255.0 if image is None else np.ones(3)
    else:  # MultiMaterial and other rarities: keep the geometry with the default look
        image, rgb = None, np.asarray(DEFAULT_COLOR, dtype=np.float64) / 255.0
    name = str(getattr(material, "name", None) or "")
    if image is None:
        return Material(name, "external", tuple(int(round(c * 255)) for c in rgb))
    texture = np.clip(np.round(_downsampled(image, max_texture_size) * rgb), 0, 255).astype(np.uint8)
    color = tuple(int(round(c)) for c in texture.reshape(-1, 3).mean(axis=0))
    return Material(name, "external", color, texture)


def _downsampled(image: Image.Image, max_size: int) -> np.ndarray:
    """RGB pixels with the longest side at most ``max_size`` (box filter; JPEGs decode reduced)."""
    width, height = image.size
    scale = min(1.0, max_size / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if scale < 1.0:
        image.draft("RGB", size)  # JPEG: decode at 1/2, 1/4 or 1/8 scale directly; no-op otherwise
    image = image.convert("RGB")
    if image.size != size:
        image = image.resize(size, Image.BOX)
    return np.asarray(image, dtype=np.uint8)


def _face_colors(visual: Any, faces: np.ndarray) -> np.ndarray:
    """(F, 3) uint8 colour per face: mean of its vertex colours, its face colour, or the default."""
    kind = getattr(visual, "kind", None)
    if kind == "vertex":
        colors = np.asarray(visual.vertex_colors)[:, :3].astype(np.float64)
        return np.round(colors[faces].mean(axis=1)).astype(np.uint8)
    if kind == "face":
        return np.asarray(visual.face_colors)[:, :3].astype(np.uint8)
    return np.tile(np.asarray(DEFAULT_COLOR, dtype=np.uint8), (len(faces), 1))


def _palette(colors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most :data:`COLOR_PALETTE_SIZE` colours for ``colors``: exact when few, else median cut.

    Returns:
        The (K, 3) uint8 palette and the (N,) palette index of each colour.
    """
    unique, labels = np.unique(colors, axis=0, return_inverse=True)
    if len(unique) <= COLOR_PALETTE_SIZE:
        return unique, labels.ravel()
    image = Image.fromarray(np.ascontiguousarray(colors[None]))
    quantized = image.quantize(COLOR_PALETTE_SIZE, method=Image.MEDIANCUT)
    used, labels = np.unique(np.asarray(quantized).ravel(), return_inverse=True)
    palette = np.asarray(quantized.getpalette(), dtype=np.uint8).reshape(-1, 3)[used]
    return palette, labels.ravel()


def _unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name_1``, ``name_2``, ... when taken; the result is added to ``taken``."""
    candidate, n = name, 1
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _linear_to_srgb(c: np.ndarray) -> np.ndarray:
    """Linear in [0, 1] (glTF's ``baseColorFactor``) to sRGB, as navgym colours are."""
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1.0 / 2.4) - 0.055)
