"""Scene files: navgym's ``.glb`` + ``.navgym.json`` pair, and external meshes.

:func:`save_scene` writes a :class:`~navgym.scenes.scene.Scene` as a standard glTF binary (y-up,
metres, textured) plus a JSON annotation file beside it; :func:`load_scene` reads that pair back
exactly, or loads any mesh trimesh reads (``.glb``, ``.gltf``, ``.obj``, ``.ply``, ...) as an
unannotated scene. The file layout is documented in ``docs/scene_format.md``.

Why a hand-written glTF writer/reader for navgym's own files: glTF puts the texture origin at the
top-left, so trimesh stores ``1 - v`` in float32 on export and flips again on import, which does
not give back the same float32 ``v``. navgym instead stores the scene's UVs unchanged and the
textures flipped upside down (the same picture for any glTF viewer), and reads its own files
directly, so a round trip is bit-exact. External meshes go through trimesh.
"""

from __future__ import annotations

import io
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from PIL import Image
from trimesh.visual.material import PBRMaterial, SimpleMaterial
from trimesh.visual.texture import TextureVisuals

from navgym.scenes.scene import Material, ObjectInstance, Relation, Room, Scene

#: ``format`` field of the annotation file.
FORMAT_NAME = "navgym-scene"
#: ``version`` field of the annotation file; bumped on incompatible changes.
FORMAT_VERSION = 1
#: Suffix of the annotation file written beside ``<stem>.glb``.
ANNOTATION_SUFFIX = ".navgym.json"
#: Default longest texture side for external meshes; larger textures are downsampled.
MAX_TEXTURE_SIZE = 512
#: Most colour materials made from the vertex / face colours of an external mesh.
COLOR_PALETTE_SIZE = 64
#: Colour of external meshes that have neither texture nor colours.
DEFAULT_COLOR = (160, 160, 160)

_GLB_MAGIC = b"glTF"
_CHUNK_JSON = 0x4E4F534A
_CHUNK_BIN = 0x004E4942
_ARRAY_BUFFER = 34962
_ELEMENT_ARRAY_BUFFER = 34963
_TRIANGLES = 4
_REPEAT = 10497
_COMPONENT_DTYPES = {5121: "u1", 5123: "<u2", 5125: "<u4", 5126: "<f4"}
_TYPE_WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}
#: Rotation taking z-up coordinates to y-up: (x, y, z) -> (x, z, -y).
_Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


# -- public API ------------------------------------------------------------------------------------
def annotation_path(mesh_path: str | Path) -> Path:
    """The annotation file that belongs beside a mesh: ``dir/<stem>.navgym.json``."""
    mesh_path = Path(mesh_path)
    return mesh_path.with_name(mesh_path.stem + ANNOTATION_SUFFIX)


def save_scene(scene: Scene, path: str | Path) -> tuple[Path, Path]:
    """Write ``<stem>.glb`` and ``<stem>.navgym.json``; the output is byte-identical per scene.

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
    scene.validate()
    if len(scene.faces) == 0:
        raise ValueError(f"save_scene: scene {scene.name!r} has no triangles; nothing to write")
    unknown = np.setdiff1d(_sorted_unique(scene.face_instance), [0] + [inst.id for inst in scene.instances])
    if len(unknown):
        raise ValueError(
            f"save_scene: scene {scene.name!r} has face_instance ids {unknown.tolist()[:10]} with no "
            "ObjectInstance; add the instances or set those faces to 0"
        )
    json_path = annotation_path(path)
    primitives = _split_primitives(scene)
    glb = _encode_glb(scene, primitives, json_path.name)
    doc = _annotation_doc(scene, primitives, path.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, glb)
    _write_atomic(json_path, _dump_json(doc).encode("utf-8"))
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
    ``face_instance`` 0, no rooms or instances, named after the file stem).

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
        return _load_external(path, up_axis, int(max_texture_size))
    if up_axis != "y":
        raise ValueError(
            f"load_scene: up_axis={up_axis!r} cannot be used with annotations ({annotations}); "
            "navgym scene files are already y-up"
        )
    return _load_annotated(path, annotations)


# -- writing ---------------------------------------------------------------------------------------
@dataclass
class _Primitive:
    """One glTF primitive: the faces of one material and the vertices they use.

    Attributes:
        material: Index into the scene's materials.
        faces: Ascending global face indices.
        vertices: Ascending global vertex indices, the primitive's local vertex order.
    """

    material: int
    faces: np.ndarray
    vertices: np.ndarray


def _split_primitives(scene: Scene) -> list[_Primitive]:
    """One primitive per used material, in material order; unreferenced vertices go to the first."""
    n_vertices = len(scene.vertices)
    face_order = np.argsort(scene.face_material, kind="stable")
    # Unique (material, vertex) pairs in one sort: ascending vertices grouped by material.
    corner_material = np.repeat(scene.face_material.astype(np.int64), 3)
    keys = _sorted_unique(corner_material * n_vertices + scene.faces.ravel())
    used = _sorted_unique(scene.face_material)
    face_splits = np.searchsorted(scene.face_material[face_order], used[1:])
    vertex_splits = np.searchsorted(keys, used[1:].astype(np.int64) * n_vertices)
    referenced = np.zeros(n_vertices, dtype=bool)
    referenced[scene.faces.ravel()] = True
    primitives = []
    face_groups, key_groups = np.split(face_order, face_splits), np.split(keys, vertex_splits)
    for material, faces, pair_keys in zip(used, face_groups, key_groups):
        vertices = pair_keys - int(material) * n_vertices
        if not primitives and not referenced.all():
            vertices = _sorted_unique(np.concatenate([vertices, np.flatnonzero(~referenced)]))
        primitives.append(_Primitive(int(material), faces, vertices))
    return primitives


def _encode_glb(scene: Scene, primitives: list[_Primitive], annotation_name: str) -> bytes:
    """The glTF binary: one node, one mesh, one primitive per used material."""
    positions = np.concatenate([scene.vertices[p.vertices] for p in primitives])
    uvs = np.concatenate([scene.uvs[p.vertices] for p in primitives])
    indices = np.concatenate(
        [np.searchsorted(p.vertices, scene.faces[p.faces]).ravel() for p in primitives]
    ).astype("<u4")
    blob = _BinaryBuffer()
    position_view = blob.view(positions.astype("<f4").tobytes(), byteStride=12, target=_ARRAY_BUFFER)
    uv_view = blob.view(uvs.astype("<f4").tobytes(), byteStride=8, target=_ARRAY_BUFFER)
    index_view = blob.view(indices.tobytes(), target=_ELEMENT_ARRAY_BUFFER)

    accessors: list[dict[str, Any]] = []
    gltf_primitives = []
    vertex_start = index_start = 0
    for p in primitives:
        count = len(p.vertices)
        local = scene.vertices[p.vertices]
        first = len(accessors)
        accessors += [
            {
                "bufferView": position_view, "byteOffset": 12 * vertex_start, "componentType": 5126,
                "count": count, "type": "VEC3",
                "min": [float(x) for x in local.min(axis=0)], "max": [float(x) for x in local.max(axis=0)],
            },
            {
                "bufferView": uv_view, "byteOffset": 8 * vertex_start, "componentType": 5126,
                "count": count, "type": "VEC2",
            },
            {
                "bufferView": index_view, "byteOffset": 4 * index_start, "componentType": 5125,
                "count": 3 * len(p.faces), "type": "SCALAR",
            },
        ]
        gltf_primitives.append({
            "attributes": {"POSITION": first, "TEXCOORD_0": first + 1},
            "indices": first + 2,
            "material": p.material,
            "mode": _TRIANGLES,
        })
        vertex_start += count
        index_start += 3 * len(p.faces)

    images: list[dict[str, Any]] = []
    image_of_png: dict[bytes, int] = {}
    materials = []
    for index, material in enumerate(scene.materials):
        pbr: dict[str, Any] = {"metallicFactor": 0.0, "roughnessFactor": 1.0}
        if material.texture is None:
            linear = _srgb_to_linear(np.asarray(material.color, dtype=np.float64) / 255.0)
            pbr["baseColorFactor"] = [round(float(c), 6) for c in linear] + [1.0]
        else:
            png = _encode_png(np.flipud(_check_texture(material, index)))
            if png not in image_of_png:
                image_of_png[png] = len(images)
                images.append({"bufferView": blob.view(png), "mimeType": "image/png"})
            pbr["baseColorTexture"] = {"index": image_of_png[png]}
        materials.append({"name": material.name, "pbrMetallicRoughness": pbr, "doubleSided": True})

    gltf: dict[str, Any] = {
        "asset": {
            "version": "2.0",
            "generator": f"navgym {FORMAT_NAME} {FORMAT_VERSION}",
            "extras": {"navgym_annotations": annotation_name},
        },
        "scene": 0,
        "scenes": [{"name": scene.name, "nodes": [0]}],
        "nodes": [{"name": scene.name, "mesh": 0}],
        "meshes": [{"name": scene.name, "primitives": gltf_primitives}],
        "materials": materials,
        "accessors": accessors,
        "bufferViews": blob.views,
        "buffers": [{"byteLength": len(blob.data)}],
    }
    if images:
        gltf["images"] = images
        gltf["samplers"] = [{"wrapS": _REPEAT, "wrapT": _REPEAT}]
        gltf["textures"] = [{"sampler": 0, "source": i} for i in range(len(images))]
    text = json.dumps(gltf, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 4)
    binary = bytes(blob.data)
    total = 12 + 8 + len(text) + 8 + len(binary)
    return b"".join([
        _GLB_MAGIC, struct.pack("<II", 2, total),
        struct.pack("<II", len(text), _CHUNK_JSON), text,
        struct.pack("<II", len(binary), _CHUNK_BIN), binary,
    ])


class _BinaryBuffer:
    """The GLB binary chunk being assembled, with its glTF ``bufferViews``."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.views: list[dict[str, Any]] = []

    def view(self, payload: bytes, **fields: int) -> int:
        """Append ``payload`` 4-byte aligned as a new buffer view; returns the view's index."""
        self.data += b"\0" * (-len(self.data) % 4)
        self.views.append({"buffer": 0, "byteOffset": len(self.data), "byteLength": len(payload), **fields})
        self.data += payload
        self.data += b"\0" * (-len(self.data) % 4)
        return len(self.views) - 1


def _check_texture(material: Material, index: int) -> np.ndarray:
    texture = np.asarray(material.texture)
    if texture.dtype != np.uint8 or not (
        texture.ndim == 2 or (texture.ndim == 3 and texture.shape[2] in (3, 4))
    ):
        raise ValueError(
            f"save_scene: materials[{index}] ({material.name!r}) texture must be a uint8 (H, W, 3), "
            f"(H, W, 4) or (H, W) array, got {texture.dtype} {texture.shape}"
        )
    return texture


def _encode_png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _annotation_doc(scene: Scene, primitives: list[_Primitive], mesh_name: str) -> dict[str, Any]:
    """The annotation file's content (see ``docs/scene_format.md``)."""
    instance_faces = _faces_by_value(scene.face_instance)
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": scene.name,
        "mesh": mesh_name,
        "annotated": bool(scene.annotated),
        "vertex_count": len(scene.vertices),
        "face_count": len(scene.faces),
        "metadata": _jsonable(scene.metadata, "metadata"),
        "materials": [
            {
                "name": m.name,
                "kind": m.kind,
                "color": [int(c) for c in m.color],
                "gltf_material": i,
                "texture_shape": None if m.texture is None else list(np.shape(m.texture)),
            }
            for i, m in enumerate(scene.materials)
        ],
        "primitives": [
            {"material": p.material, "vertices": _to_ranges(p.vertices), "triangles": _to_ranges(p.faces)}
            for p in primitives
        ],
        "rooms": [
            {
                "id": int(r.id),
                "type": r.type,
                "bounds": [float(b) for b in r.bounds],
                "floor_height": float(r.floor_height),
                "name": r.name,
            }
            for r in scene.rooms
        ],
        "instances": [
            {
                "id": int(inst.id),
                "category": inst.category,
                "room_id": None if inst.room_id is None else int(inst.room_id),
                "bbox_min": [float(x) for x in np.asarray(inst.bbox_min).ravel()],
                "bbox_max": [float(x) for x in np.asarray(inst.bbox_max).ravel()],
                "attributes": _jsonable(inst.attributes, f"instances[{i}].attributes"),
                "front": None if inst.front is None else [float(x) for x in inst.front],
                "triangles": _to_ranges(instance_faces.get(int(inst.id), np.zeros(0, dtype=np.int64))),
            }
            for i, inst in enumerate(scene.instances)
        ],
        "relations": [
            {"subject": int(r.subject), "relation": r.relation, "object": int(r.object)}
            for r in scene.relations
        ],
    }


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` for integers via one sort (numpy 2's hash-based unique is slower here)."""
    values = np.sort(values, axis=None)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _faces_by_value(values: np.ndarray) -> dict[int, np.ndarray]:
    """Ascending indices of each non-zero value, in O(n log n) whatever the number of values."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    return {int(sorted_values[s]): order[s:e] for s, e in zip(starts, ends) if sorted_values[s] != 0}


def _to_ranges(indices: np.ndarray) -> list[list[int]]:
    """Ascending unique indices as half-open runs ``[[start, end), ...]``."""
    if len(indices) == 0:
        return []
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    starts = indices[np.r_[0, breaks]]
    ends = indices[np.r_[breaks - 1, len(indices) - 1]] + 1
    return np.stack([starts, ends], axis=1).astype(np.int64).tolist()


def _jsonable(value: Any, field: str) -> Any:
    """``value`` as plain JSON types (numpy scalars/arrays converted); ValueError naming ``field``."""

    def convert(obj: Any) -> Any:
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")

    try:
        return json.loads(json.dumps(value, default=convert, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"save_scene: {field} must be JSON-serialisable: {exc}") from exc


def _dump_json(doc: dict[str, Any]) -> str:
    """Pretty JSON with one line per list item, so large files stay readable and diffable."""
    lines = ["{"]
    for n, (key, value) in enumerate(doc.items()):
        comma = "," if n < len(doc) - 1 else ""
        if isinstance(value, list) and value:
            items = [json.dumps(item, separators=(", ", ": ")) for item in value]
            lines.append(f"  {json.dumps(key)}: [")
            lines.extend(f"    {item}," for item in items[:-1])
            lines.append(f"    {items[-1]}")
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, separators=(', ', ': '))}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file so readers never see a half-written scene."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# -- reading navgym's own files --------------------------------------------------------------------
def _load_annotated(mesh_path: Path, json_path: Path) -> Scene:
    doc = _Annotations(json_path)
    if mesh_path.suffix.lower() != ".glb":
        raise ValueError(
            f"{json_path}: annotations describe the '.glb' written by save_scene, but the mesh is "
            f"{mesh_path}; load the .glb, or pass annotations=None for an unannotated mesh"
        )
    gltf, binary = _read_glb(mesh_path)
    try:
        arrays = [
            (
                _read_accessor(gltf, binary, p["attributes"]["POSITION"]),
                _read_accessor(gltf, binary, p["attributes"]["TEXCOORD_0"]),
                _read_accessor(gltf, binary, p["indices"]).reshape(-1, 3),
            )
            for p in gltf["meshes"][0]["primitives"]
        ]
    except (KeyError, IndexError, TypeError) as exc:
        raise ValueError(
            f"{mesh_path}: not laid out as a navgym scene .glb (missing {exc}); was it written by save_scene?"
        ) from exc
    except ValueError as exc:
        raise ValueError(f"{mesh_path}: {exc}") from exc

    face_count = sum(len(faces) for _, _, faces in arrays)
    if doc.field(doc.root, "face_count", int) != face_count:
        doc.fail("face_count", f"is {doc.root['face_count']} but {mesh_path.name} has {face_count} triangles")
    vertex_count = doc.field(doc.root, "vertex_count", int)
    if vertex_count < 0:
        doc.fail("vertex_count", f"is {vertex_count}, must be >= 0")
    vertices, uvs, faces, face_material = _assemble_primitives(
        doc, arrays, vertex_count, face_count, mesh_path
    )
    materials = [
        _read_material(doc, item, k, gltf, binary, mesh_path)
        for k, item in enumerate(doc.field(doc.root, "materials", list))
    ]
    instances = []
    face_instance = np.zeros(face_count, dtype=np.int32)
    for k, item in enumerate(doc.field(doc.root, "instances", list)):
        instance = _read_instance(doc, item, k)
        triangles = doc.ranges(item, "triangles", face_count, f"instances[{k}]")
        if (face_instance[triangles] != 0).any():
            doc.fail(f"instances[{k}].triangles", "overlaps the triangles of another instance")
        face_instance[triangles] = instance.id
        instances.append(instance)
    rooms = [
        Room(
            id=doc.field(item, "id", int, f"rooms[{k}]"),
            type=doc.field(item, "type", str, f"rooms[{k}]"),
            bounds=tuple(float(b) for b in doc.vector(item, "bounds", 4, f"rooms[{k}]")),
            floor_height=float(doc.field(item, "floor_height", float, f"rooms[{k}]")),
            name=doc.field(item, "name", str, f"rooms[{k}]"),
        )
        for k, item in enumerate(doc.field(doc.root, "rooms", list))
    ]
    relations = [
        Relation(
            subject=doc.field(item, "subject", int, f"relations[{k}]"),
            relation=doc.field(item, "relation", str, f"relations[{k}]"),
            object=doc.field(item, "object", int, f"relations[{k}]"),
        )
        for k, item in enumerate(doc.field(doc.root, "relations", list))
    ]
    try:
        return Scene(
            vertices=vertices,
            faces=faces,
            uvs=uvs,
            face_material=face_material,
            face_instance=face_instance,
            materials=materials,
            instances=instances,
            rooms=rooms,
            relations=relations,
            name=doc.field(doc.root, "name", str),
            metadata=doc.field(doc.root, "metadata", dict),
            annotated=doc.field(doc.root, "annotated", bool),
        )
    except ValueError as exc:
        raise ValueError(f"{json_path}: the annotated scene is inconsistent: {exc}") from exc


def _assemble_primitives(
    doc: _Annotations,
    arrays: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    vertex_count: int,
    face_count: int,
    mesh_path: Path,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scatter the glTF primitives back to the scene's vertex and face order.

    Returns:
        vertices, uvs, faces and face_material of the scene.
    """
    primitive_docs = doc.field(doc.root, "primitives", list)
    if len(primitive_docs) != len(arrays):
        doc.fail(
            "primitives", f"lists {len(primitive_docs)} primitives but {mesh_path.name} has {len(arrays)}"
        )
    vertices = np.zeros((vertex_count, 3), dtype=np.float32)
    uvs = np.zeros((vertex_count, 2), dtype=np.float32)
    faces = np.zeros((face_count, 3), dtype=np.int32)
    face_material = np.zeros(face_count, dtype=np.int32)
    all_faces, all_vertices = [], []
    for k, (item, (p_vertices, p_uvs, p_faces)) in enumerate(zip(primitive_docs, arrays)):
        where = f"primitives[{k}]"
        global_vertices = doc.ranges(item, "vertices", vertex_count, where)
        global_faces = doc.ranges(item, "triangles", face_count, where)
        if len(global_vertices) != len(p_vertices):
            doc.fail(
                f"{where}.vertices",
                f"covers {len(global_vertices)} vertices, glTF primitive {k} has {len(p_vertices)}",
            )
        if len(global_faces) != len(p_faces):
            doc.fail(
                f"{where}.triangles",
                f"covers {len(global_faces)} triangles, glTF primitive {k} has {len(p_faces)}",
            )
        if len(p_faces) and p_faces.max() >= len(p_vertices):
            raise ValueError(f"{mesh_path}: glTF primitive {k} indexes vertices beyond its {len(p_vertices)}")
        vertices[global_vertices] = p_vertices
        uvs[global_vertices] = p_uvs
        faces[global_faces] = global_vertices[p_faces]
        face_material[global_faces] = doc.field(item, "material", int, where)
        all_faces.append(global_faces)
        all_vertices.append(global_vertices)
    if (np.bincount(np.concatenate(all_faces), minlength=face_count) != 1).any():
        doc.fail("primitives", f"triangles must cover each of the {face_count} triangles exactly once")
    if (np.bincount(np.concatenate(all_vertices), minlength=vertex_count) == 0).any():
        doc.fail("primitives", f"vertices must cover all {vertex_count} vertices")
    return vertices, uvs, faces, face_material


def _read_instance(doc: _Annotations, item: dict[str, Any], k: int) -> ObjectInstance:
    where = f"instances[{k}]"
    front = None
    if doc.field(item, "front", (list, type(None)), where) is not None:
        front = tuple(float(v) for v in doc.vector(item, "front", 2, where))
    return ObjectInstance(
        id=doc.field(item, "id", int, where),
        category=doc.field(item, "category", str, where),
        room_id=doc.field(item, "room_id", (int, type(None)), where),
        bbox_min=doc.vector(item, "bbox_min", 3, where),
        bbox_max=doc.vector(item, "bbox_max", 3, where),
        attributes=doc.field(item, "attributes", dict, where),
        front=front,
    )


class _Annotations:
    """A parsed annotation file with field accessors whose errors name the file and the field."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.root = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not a valid JSON annotation file: {exc}") from exc
        if not isinstance(self.root, dict):
            raise ValueError(f"{path}: not a navgym annotation file (top level is not a JSON object)")
        if self.root.get("format") != FORMAT_NAME:
            self.fail("format", f"is {self.root.get('format')!r}, expected {FORMAT_NAME!r}")
        if self.root.get("version") != FORMAT_VERSION:
            self.fail(
                "version",
                f"is {self.root.get('version')!r}, this navgym reads version {FORMAT_VERSION}; "
                "re-save the scene with this navgym version",
            )

    def fail(self, field: str, problem: str) -> None:
        raise ValueError(f"{self.path}: field '{field}' {problem}")

    def field(self, obj: dict[str, Any], key: str, types: type | tuple[type, ...], where: str = "") -> Any:
        """``obj[key]`` checked against ``types`` (``bool`` is not an ``int`` here)."""
        name = f"{where}.{key}" if where else key
        if not isinstance(obj, dict):
            self.fail(where, f"must be a JSON object, got {obj!r:.60}")
        if key not in obj:
            self.fail(name, "is missing")
        value = obj[key]
        types = types if isinstance(types, tuple) else (types,)
        if float in types and isinstance(value, int) and not isinstance(value, bool):
            return value
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            self.fail(name, f"must be {expected}, got {value!r:.60}")
        return value

    def vector(self, obj: dict[str, Any], key: str, length: int, where: str) -> np.ndarray:
        """A list of ``length`` numbers as float64."""
        values = self.field(obj, key, list, where)
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        if len(values) != length or not numbers:
            self.fail(f"{where}.{key}", f"must be {length} numbers, got {values!r:.60}")
        return np.asarray(values, dtype=np.float64)

    def ranges(self, obj: dict[str, Any], key: str, limit: int, where: str) -> np.ndarray:
        """Half-open ``[[start, end), ...]`` runs within ``[0, limit)`` as one index array."""
        runs = self.field(obj, key, list, where)
        if not runs:
            return np.zeros(0, dtype=np.int64)
        try:
            pairs = np.asarray(runs)
        except (ValueError, TypeError, OverflowError):  # ragged or absurd values
            pairs = np.zeros(0)
        if pairs.dtype.kind not in "iu" or pairs.ndim != 2 or pairs.shape[1] != 2:
            self.fail(f"{where}.{key}", f"must be a list of [start, end) integer pairs, got {runs!r:.60}")
        bad = ~((pairs[:, 0] >= 0) & (pairs[:, 0] < pairs[:, 1]) & (pairs[:, 1] <= limit))
        if bad.any():
            self.fail(
                f"{where}.{key}",
                f"has run {runs[int(np.argmax(bad))]}; runs are [start, end) with "
                f"0 <= start < end <= {limit}",
            )
        lengths = pairs[:, 1] - pairs[:, 0]
        return np.repeat(pairs[:, 0] + lengths - np.cumsum(lengths), lengths) + np.arange(lengths.sum())


def _read_material(
    doc: _Annotations, item: dict[str, Any], k: int, gltf: dict[str, Any], binary: bytes, mesh_path: Path
) -> Material:
    where = f"materials[{k}]"
    color = doc.field(item, "color", list, where)
    bytes_ = all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in color)
    if len(color) != 3 or not bytes_:
        doc.fail(f"{where}.color", f"must be 3 integers in [0, 255], got {color!r:.60}")
    shape = doc.field(item, "texture_shape", (list, type(None)), where)
    gltf_material = doc.field(item, "gltf_material", int, where)
    texture = None
    try:
        source = gltf["materials"][gltf_material].get("pbrMetallicRoughness", {}).get("baseColorTexture")
        if source is not None:
            image = gltf["images"][gltf["textures"][source["index"]]["source"]]
            view = gltf["bufferViews"][image["bufferView"]]
            start = view.get("byteOffset", 0)
            png = binary[start : start + view["byteLength"]]
            with Image.open(io.BytesIO(png)) as decoded:
                texture = np.ascontiguousarray(np.flipud(np.asarray(decoded)))
    except (KeyError, IndexError, TypeError, OSError) as exc:
        raise ValueError(
            f"{mesh_path}: cannot read the texture of glTF material {gltf_material} ({where}): {exc!r}"
        ) from exc
    if (shape is None) != (texture is None) or (texture is not None and list(texture.shape) != shape):
        doc.fail(
            f"{where}.texture_shape",
            f"is {shape} but glTF material {gltf_material} has "
            f"{'no texture' if texture is None else f'a {list(texture.shape)} texture'}",
        )
    name, kind = doc.field(item, "name", str, where), doc.field(item, "kind", str, where)
    return Material(name, kind, tuple(color), texture)


def _read_glb(path: Path) -> tuple[dict[str, Any], bytes]:
    """The JSON and binary chunks of a glTF binary; ValueError naming the file when malformed."""
    data = path.read_bytes()
    if len(data) < 12 or data[:4] != _GLB_MAGIC:
        raise ValueError(f"{path}: not a glTF binary file (missing the 'glTF' header)")
    version, length = struct.unpack_from("<II", data, 4)
    if version != 2:
        raise ValueError(f"{path}: glTF binary version {version}, expected 2")
    if length != len(data):
        raise ValueError(
            f"{path}: truncated or corrupted glTF binary: header says {length} bytes, file has {len(data)}"
        )
    chunks: dict[int, bytes] = {}
    offset = 12
    while offset + 8 <= length:
        size, kind = struct.unpack_from("<II", data, offset)
        if offset + 8 + size > length:
            raise ValueError(
                f"{path}: truncated or corrupted glTF binary: chunk at byte {offset} overruns the file"
            )
        chunks.setdefault(kind, data[offset + 8 : offset + 8 + size])
        offset += 8 + size
    if _CHUNK_JSON not in chunks:
        raise ValueError(f"{path}: glTF binary has no JSON chunk")
    try:
        gltf = json.loads(chunks[_CHUNK_JSON])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: glTF JSON chunk is not valid JSON: {exc}") from exc
    return gltf, chunks.get(_CHUNK_BIN, b"")


def _read_accessor(gltf: dict[str, Any], binary: bytes, index: int) -> np.ndarray:
    """An accessor's data as a (count, width) array (ValueError when it overruns the buffer)."""
    accessor = gltf["accessors"][index]
    view = gltf["bufferViews"][accessor["bufferView"]]
    dtype = np.dtype(_COMPONENT_DTYPES[accessor["componentType"]])
    width = _TYPE_WIDTHS[accessor["type"]]
    count = accessor["count"]
    start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    stride = view.get("byteStride", dtype.itemsize * width)
    end = start + (count - 1) * stride + dtype.itemsize * width if count else start
    if end > view.get("byteOffset", 0) + view["byteLength"] or end > len(binary):
        raise ValueError(f"accessor {index} overruns its buffer (truncated or corrupted file)")
    strides = (stride, dtype.itemsize)
    array = np.ndarray((count, width), dtype=dtype, buffer=binary, offset=start, strides=strides)
    return array.astype(dtype.newbyteorder("="))


# -- external meshes -------------------------------------------------------------------------------
def _load_external(path: Path, up_axis: str, max_texture_size: int) -> Scene:
    """Flatten whatever trimesh reads into one unannotated scene (see ``docs/scene_format.md``)."""
    try:
        loaded = trimesh.load(str(path), force="scene", process=False)
    except Exception as exc:  # trimesh raises anything from KeyError to struct.error on bad files
        raise ValueError(f"Cannot parse mesh file {path}: {type(exc).__name__}: {exc}") from exc

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
        raise ValueError(f"Cannot use mesh file {path}: it contains no triangles")

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
    return Scene(
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
    candidate, n = name, 1
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


# -- helpers ---------------------------------------------------------------------------------------
def _require_file(path: Path, what: str, hint: str) -> None:
    if not path.is_file():
        message = f"{what} not found: {path}"
        raise FileNotFoundError(f"{message}. {hint}" if hint else message)


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1.0 / 2.4) - 0.055)
