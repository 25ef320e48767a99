"""navgym's annotation file, ``<stem>.navgym.json`` beside the scene's ``<stem>.glb``.

The file holds what glTF cannot: the materials' kinds and navgym colours, which of the scene's
vertices and triangles each glTF primitive holds (so the original order comes back), rooms,
object instances with their triangles, relations and metadata. This module writes the pair of
files as bytes and reads them back into the exact scene, checking the format name, the version
and every field; the layout is documented in ``docs/scene_format.md``.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from navgym.errors import DatasetFormatError
from navgym.scenes.formats.gltf import (
    Primitive,
    encode_glb,
    read_glb,
    read_glb_json,
    read_primitives,
    read_texture,
    sorted_unique,
    split_primitives,
)
from navgym.scenes.scene import Material, ObjectInstance, Relation, Room, Scene

#: ``format`` field of the annotation file.
FORMAT_NAME = "navgym-scene"
#: ``version`` field of the annotation file; bumped on incompatible changes.
FORMAT_VERSION = 1
#: Suffix of the annotation file written beside ``<stem>.glb``.
ANNOTATION_SUFFIX = ".navgym.json"
#: Suffix of a texture cache (:func:`encode_texture_cache`) beside ``<stem>.glb``.
TEXTURE_CACHE_SUFFIX = ".textures.bin"
#: First bytes of a texture cache, before the ``.glb``'s SHA-256; bumped on incompatible changes.
_TEXTURE_CACHE_MAGIC = b"navgym-textures 1 "


def annotation_path(mesh_path: str | Path) -> Path:
    """The annotation file that belongs beside a mesh: ``dir/<stem>.navgym.json``."""
    mesh_path = Path(mesh_path)
    return mesh_path.with_name(mesh_path.stem + ANNOTATION_SUFFIX)


def texture_cache_path(mesh_path: str | Path) -> Path:
    """The texture cache that may sit beside a mesh: ``dir/<stem>.textures.bin``."""
    mesh_path = Path(mesh_path)
    return mesh_path.with_name(mesh_path.stem + TEXTURE_CACHE_SUFFIX)


# -- writing ---------------------------------------------------------------------------------------
def encode_scene(scene: Scene, mesh_name: str, annotation_name: str) -> tuple[bytes, bytes]:
    """The ``.glb`` and annotation file of ``scene``, byte-identical for the same scene.

    Args:
        scene: The scene to encode (checked first: see :func:`navgym.scenes.io.save_scene`).
        mesh_name: File name of the ``.glb``, recorded in the annotations.
        annotation_name: File name of the annotations, recorded in the ``.glb``.

    Raises:
        ValueError: The scene is invalid, has no triangles, has ``face_instance`` ids without an
            instance, or holds values that cannot be written.
    """
    scene.validate()
    if len(scene.faces) == 0:
        raise ValueError(f"save_scene: scene {scene.name!r} has no triangles; nothing to write")
    unknown = np.setdiff1d(sorted_unique(scene.face_instance), [0] + [inst.id for inst in scene.instances])
    if len(unknown):
        raise ValueError(
            f"save_scene: scene {scene.name!r} has face_instance ids {unknown.tolist()[:10]} with no "
            "ObjectInstance; add the instances or set those faces to 0"
        )
    primitives = split_primitives(scene)
    glb = encode_glb(
        scene, primitives, generator=f"navgym {FORMAT_NAME} {FORMAT_VERSION}", annotation_name=annotation_name
    )
    doc = _annotation_doc(scene, primitives, mesh_name, hashlib.sha256(glb).hexdigest())
    return glb, _dump_json(doc).encode("utf-8")


def encode_texture_cache(scene: Scene, mesh_sha256: str) -> bytes | None:
    """The decoded textures of ``scene`` as one file, for :func:`load_annotated`'s ``texture_cache``.

    Decoding a building's ~80 PNG textures is most of what loading its ``.glb`` costs; a cache
    (ProcHouse's) keeps them decoded beside the pair: ``b"navgym-textures 1 "``, the ``.glb``'s
    SHA-256 in hex, ``b"\\n"``, then the raw uint8 pixels of each textured material in material order
    (C order, the shapes being the annotations' ``texture_shape``). It is only a copy of what the
    ``.glb`` holds: it is used only with the ``.glb`` of that SHA-256.

    Returns:
        The file's bytes, or None when a texture is not a uint8 array (such a scene cannot be saved).
    """
    blobs = [_TEXTURE_CACHE_MAGIC + mesh_sha256.encode("ascii") + b"\n"]
    for material in scene.materials:
        if material.texture is None:
            continue
        if not isinstance(material.texture, np.ndarray) or material.texture.dtype != np.uint8:
            return None
        blobs.append(np.ascontiguousarray(material.texture).tobytes())
    return b"".join(blobs)


def _annotation_doc(scene: Scene, primitives: list[Primitive], mesh_name: str, mesh_sha256: str) -> dict[str, Any]:
    """The annotation file's content (see ``docs/scene_format.md``)."""
    instance_faces = _faces_by_value(scene.face_instance)
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": scene.name,
        "mesh": mesh_name,
        "mesh_sha256": mesh_sha256,
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


# -- reading ---------------------------------------------------------------------------------------
def check_cross_references(mesh_path: Path, json_path: Path) -> None:
    """Raise ``DatasetFormatError`` unless the pair names each other by the names they have.

    :func:`load_annotated` does not ask this unless told to (a pair renamed by hand still loads);
    caches, whose files are only ever written by :func:`~navgym.scenes.io.save_scene`, do.
    """
    try:
        root = json.loads(json_path.read_text(encoding="utf-8"))
        mesh_name = root["mesh"] if isinstance(root, dict) else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError) as exc:
        raise DatasetFormatError(f"{json_path}: cannot read field 'mesh': {exc!r}") from exc
    _check_names(mesh_path, json_path, mesh_name, lambda: read_glb_json(mesh_path))


def _check_names(mesh_path: Path, json_path: Path, mesh_name: Any, gltf: Any) -> None:
    """:func:`check_cross_references` on the parsed files (``gltf``: the JSON chunk, or a callable
    that reads it, called only when the annotations name the mesh right)."""
    if mesh_name != mesh_path.name:
        raise DatasetFormatError(f"{json_path}: field 'mesh' is {mesh_name!r}, but the mesh is {mesh_path.name!r}")
    if callable(gltf):
        gltf = gltf()
    asset = gltf.get("asset") if isinstance(gltf, dict) else None
    extras = asset.get("extras") if isinstance(asset, dict) else None
    named = extras.get("navgym_annotations") if isinstance(extras, dict) else None
    if named != json_path.name:
        raise DatasetFormatError(
            f"{mesh_path}: asset.extras.navgym_annotations is {named!r}, but the annotations are {json_path.name!r}"
        )


def load_annotated(
    mesh_path: Path, json_path: Path, *, check_names: bool = False, texture_cache: Path | None = None
) -> Scene:
    """The exact scene saved as ``mesh_path`` (a navgym ``.glb``) with annotations ``json_path``.

    Args:
        mesh_path: The ``.glb`` written by :func:`~navgym.scenes.io.save_scene`.
        json_path: Its annotation file.
        check_names: Also do :func:`check_cross_references` (on the files as read here, so
            neither is parsed twice).
        texture_cache: A file written from :func:`encode_texture_cache`: when it is there and
            made for this ``.glb`` (same SHA-256) and these texture shapes, the textures come from
            it instead of being decoded from the ``.glb``'s PNGs (the same pixels); otherwise it
            is ignored.

    Raises:
        ValueError: Either file is malformed or they do not match; the message names the file
            and the field.
    """
    doc = _Annotations(json_path)
    if mesh_path.suffix.lower() != ".glb":
        raise ValueError(
            f"{json_path}: annotations describe the '.glb' written by save_scene, but the mesh is "
            f"{mesh_path}; load the .glb, or pass annotations=None for an unannotated mesh"
        )
    data = mesh_path.read_bytes()
    gltf, binary = read_glb(mesh_path, data)  # a truncated file gets its own, more precise error
    if check_names:
        _check_names(mesh_path, json_path, doc.root.get("mesh"), gltf)
    # Files written before this field existed have none and load unchecked.
    expected = doc.field(doc.root, "mesh_sha256", str) if "mesh_sha256" in doc.root else None
    mesh_sha256 = hashlib.sha256(data).hexdigest() if expected is not None or texture_cache is not None else ""
    if expected is not None and mesh_sha256 != expected:
        raise DatasetFormatError(
            f"{json_path}: field 'mesh_sha256' does not match {mesh_path} (SHA-256 "
            f"{mesh_sha256[:16]}..., annotations expect {expected[:16]}...): the .glb "
            "was replaced after its annotations were written (another save to the same path at the same "
            "time, or an edit in another tool); save the scene again"
        )
    arrays = read_primitives(gltf, binary, mesh_path)

    face_count = sum(len(faces) for _, _, faces in arrays)
    if doc.field(doc.root, "face_count", int) != face_count:
        doc.fail("face_count", f"is {doc.root['face_count']} but {mesh_path.name} has {face_count} triangles")
    vertex_count = doc.field(doc.root, "vertex_count", int)
    if vertex_count < 0:
        doc.fail("vertex_count", f"is {vertex_count}, must be >= 0")
    vertices, uvs, faces, face_material = _assemble_primitives(
        doc, arrays, vertex_count, face_count, mesh_path
    )
    material_items = doc.field(doc.root, "materials", list)
    cached = None if texture_cache is None else _cached_textures(texture_cache, mesh_sha256, material_items)
    materials = [
        _read_material(doc, item, k, gltf, binary, mesh_path, _NOT_CACHED if cached is None else cached[k])
        for k, item in enumerate(material_items)
    ]
    items = doc.field(doc.root, "instances", list)
    instances = [_read_instance(doc, item, k) for k, item in enumerate(items)]
    face_instance = _instance_faces(items, instances, face_count)
    if face_instance is None:  # something is off: the checks one instance at a time name it
        face_instance = np.zeros(face_count, dtype=np.int32)
        for k, (item, instance) in enumerate(zip(items, instances)):
            triangles = doc.ranges(item, "triangles", face_count, f"instances[{k}]")
            if (face_instance[triangles] != 0).any():
                doc.fail(f"instances[{k}].triangles", "overlaps the triangles of another instance")
            face_instance[triangles] = instance.id
    rooms = [_read_room(doc, item, k) for k, item in enumerate(doc.field(doc.root, "rooms", list))]
    metadata = doc.field(doc.root, "metadata", dict)
    _check_storeys(doc, metadata, vertices)
    relations = [_read_relation(doc, item, k) for k, item in enumerate(doc.field(doc.root, "relations", list))]
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
            metadata=metadata,
            annotated=doc.field(doc.root, "annotated", bool),
        )
    except ValueError as exc:
        raise ValueError(f"{json_path}: the annotated scene is inconsistent: {exc}") from exc


def _instance_faces(items: list, instances: list[ObjectInstance], face_count: int) -> np.ndarray | None:
    """Every triangle's instance id from the instances' ``triangles`` runs, all at once; None when
    any run is malformed, out of range or overlaps another (the caller then finds which)."""
    ranges = _batched_ranges(items, "triangles", face_count)
    if ranges is None:
        return None
    index, per_item = ranges
    if len(index) and np.bincount(index, minlength=face_count).max() > 1:
        return None
    face_instance = np.zeros(face_count, dtype=np.int32)
    ids = np.array([inst.id for inst in instances], dtype=np.int32)
    face_instance[index] = np.repeat(ids, per_item)
    return face_instance


def _read_room(doc: _Annotations, item: Any, k: int) -> Room:
    """``rooms[k]``; its ``bounds`` must be ``[x_min, z_min, x_max, z_max]`` in that order."""
    where = f"rooms[{k}]"
    bounds = tuple(float(b) for b in doc.vector(item, "bounds", 4, where))
    if bounds[0] > bounds[2] or bounds[1] > bounds[3]:
        doc.fail(f"{where}.bounds", f"is {list(bounds)}: it must be [x_min, z_min, x_max, z_max] (metres), minimum first")
    return Room(
        id=doc.field(item, "id", int, where),
        type=doc.field(item, "type", str, where),
        bounds=bounds,
        floor_height=float(doc.field(item, "floor_height", float, where)),
        name=doc.field(item, "name", str, where),
    )


#: How far (metres) a ``metadata.storeys`` height may lie outside the mesh's vertical extent.
STOREY_SLACK = 0.5


def _check_storeys(doc: _Annotations, metadata: dict[str, Any], vertices: np.ndarray) -> None:
    """``metadata.storeys``, when present, must be finite floor heights (metres) within the mesh's
    height range: the embedded simulator builds one navigation grid per storey from them."""
    storeys = metadata.get("storeys")
    if storeys is None:
        return
    if (
        type(storeys) is not list
        or not storeys
        or not all(isinstance(h, (int, float)) and not isinstance(h, bool) and math.isfinite(h) for h in storeys)
    ):
        doc.fail("metadata.storeys", f"must be a non-empty list of floor heights (finite numbers, metres), got {storeys!r:.80}")
    if len(vertices):
        low, high = float(vertices[:, 1].min()), float(vertices[:, 1].max())
        outside = [h for h in storeys if not low - STOREY_SLACK <= h <= high + STOREY_SLACK]
        if outside:
            doc.fail(
                "metadata.storeys",
                f"has floor heights {outside} outside the mesh's heights [{low:.2f}, {high:.2f}] m; "
                "storeys are in metres along y (up), like the mesh (centimetres? z-up heights?)",
            )


def _read_relation(doc: _Annotations, item: Any, k: int) -> Relation:
    """``relations[k]``; scenes hold thousands, so well-formed ones skip the per-field checks."""
    if type(item) is dict and len(item) == 3:
        subject, relation, obj = item.get("subject"), item.get("relation"), item.get("object")
        if type(subject) is int and type(obj) is int and type(relation) is str:
            return Relation(subject=subject, relation=relation, object=obj)
    where = f"relations[{k}]"
    return Relation(
        subject=doc.field(item, "subject", int, where),
        relation=doc.field(item, "relation", str, where),
        object=doc.field(item, "object", int, where),
    )


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
    fast = _scatter_primitives(primitive_docs, arrays, vertex_count, face_count, vertices, uvs, faces, face_material)
    if fast is not None:
        all_faces, all_vertices = [fast[0]], [fast[1]]
    else:  # something is off: the checks one primitive at a time name it
        all_faces, all_vertices = _scatter_each(
            doc, primitive_docs, arrays, vertex_count, face_count, mesh_path, vertices, uvs, faces, face_material
        )
    if (np.bincount(np.concatenate(all_faces), minlength=face_count) != 1).any():
        doc.fail("primitives", f"triangles must cover each of the {face_count} triangles exactly once")
    if (np.bincount(np.concatenate(all_vertices), minlength=vertex_count) == 0).any():
        doc.fail("primitives", f"vertices must cover all {vertex_count} vertices")
    return vertices, uvs, faces, face_material


def _scatter_each(
    doc: _Annotations,
    primitive_docs: list,
    arrays: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    vertex_count: int,
    face_count: int,
    mesh_path: Path,
    vertices: np.ndarray,
    uvs: np.ndarray,
    faces: np.ndarray,
    face_material: np.ndarray,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Scatter the primitives one at a time, checking every field (errors name the field);
    returns each primitive's global faces and vertices."""
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
    return all_faces, all_vertices


def _scatter_primitives(
    primitive_docs: list,
    arrays: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    vertex_count: int,
    face_count: int,
    vertices: np.ndarray,
    uvs: np.ndarray,
    faces: np.ndarray,
    face_material: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_scatter_each` for all primitives at once (same arrays filled); returns all global
    faces and all global vertices, or None, having written nothing, when any field is malformed
    or does not match the ``.glb`` (the caller's checks one at a time then name it)."""
    materials = [item.get("material") if type(item) is dict else None for item in primitive_docs]
    if not arrays or not all(type(m) is int for m in materials):
        return None
    vertex_runs = _batched_ranges(primitive_docs, "vertices", vertex_count)
    face_runs = _batched_ranges(primitive_docs, "triangles", face_count)
    if vertex_runs is None or face_runs is None:
        return None
    global_vertices, vertex_counts = vertex_runs
    global_faces, face_counts = face_runs
    local_vertex_counts = np.array([len(v) for v, _, _ in arrays], dtype=np.int64)
    local_face_counts = np.array([len(f) for _, _, f in arrays], dtype=np.int64)
    if not (np.array_equal(vertex_counts, local_vertex_counts) and np.array_equal(face_counts, local_face_counts)):
        return None
    local_faces = np.concatenate([f for _, _, f in arrays]).astype(np.int64)
    if (local_faces >= np.repeat(local_vertex_counts, local_face_counts)[:, None]).any():
        return None
    first_vertex = np.cumsum(local_vertex_counts) - local_vertex_counts
    vertices[global_vertices] = np.concatenate([v for v, _, _ in arrays])
    uvs[global_vertices] = np.concatenate([uv for _, uv, _ in arrays])
    faces[global_faces] = global_vertices[local_faces + np.repeat(first_vertex, local_face_counts)[:, None]]
    face_material[global_faces] = np.repeat(np.array(materials, dtype=np.int64), local_face_counts)
    return global_faces, global_vertices


def _batched_ranges(items: list, key: str, limit: int) -> tuple[np.ndarray, np.ndarray] | None:
    """:meth:`_Annotations.ranges` of every item's ``key`` as one index array (the items' indices
    one after the other) with each item's index count; None when any is malformed or out of range."""
    runs = [item.get(key) if type(item) is dict else None for item in items]
    if not all(type(r) is list for r in runs):
        return None
    run_counts = np.array([len(r) for r in runs], dtype=np.int64)
    if run_counts.sum() == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(len(items), dtype=np.int64)
    try:
        pairs = np.asarray([pair for r in runs for pair in r])
    except (ValueError, TypeError, OverflowError):
        return None
    if pairs.dtype.kind not in "iu" or pairs.ndim != 2 or pairs.shape[1] != 2:
        return None
    if not ((pairs[:, 0] >= 0) & (pairs[:, 0] < pairs[:, 1]) & (pairs[:, 1] <= limit)).all():
        return None
    lengths = pairs[:, 1] - pairs[:, 0]
    index = np.repeat(pairs[:, 0] + lengths - np.cumsum(lengths), lengths) + np.arange(lengths.sum())
    item_ends = np.concatenate([[0], np.cumsum(lengths)])[np.cumsum(run_counts)]
    return index, np.diff(item_ends, prepend=0)


def _read_instance(doc: _Annotations, item: dict[str, Any], k: int) -> ObjectInstance:
    """``instances[k]`` as an :class:`ObjectInstance` (its triangles are read by the caller);
    scenes hold hundreds, so well-formed ones skip the per-field checks."""
    if type(item) is dict:
        get = item.get
        ident, category, room_id, attributes = get("id"), get("category"), get("room_id"), get("attributes")
        bbox_min, bbox_max, front = get("bbox_min"), get("bbox_max"), get("front")
        if (
            type(ident) is int
            and type(category) is str
            and (room_id is None or type(room_id) is int)
            and type(attributes) is dict
            and _numbers(bbox_min, 3)
            and _numbers(bbox_max, 3)
            and all(lo <= hi for lo, hi in zip(bbox_min, bbox_max))
            and (front is None or (_numbers(front, 2) and (front[0] != 0 or front[1] != 0)))
        ):
            return ObjectInstance(
                id=ident,
                category=category,
                room_id=room_id,
                bbox_min=np.asarray(bbox_min, dtype=np.float64),
                bbox_max=np.asarray(bbox_max, dtype=np.float64),
                attributes=attributes,
                front=None if front is None else (float(front[0]), float(front[1])),
            )
    where = f"instances[{k}]"
    front = None
    if doc.field(item, "front", (list, type(None)), where) is not None:
        front = tuple(float(v) for v in doc.vector(item, "front", 2, where))
        if front == (0.0, 0.0):
            doc.fail(f"{where}.front", "is [0, 0]; it must be the [x, z] unit vector the object faces, or null")
    bbox_min, bbox_max = doc.vector(item, "bbox_min", 3, where), doc.vector(item, "bbox_max", 3, where)
    if (bbox_min > bbox_max).any():
        doc.fail(
            f"{where}.bbox_min",
            f"{bbox_min.tolist()} is above bbox_max {bbox_max.tolist()} on some axis; "
            "bbox_min must hold the smallest [x, y, z] (metres) and bbox_max the largest",
        )
    return ObjectInstance(
        id=doc.field(item, "id", int, where),
        category=doc.field(item, "category", str, where),
        room_id=doc.field(item, "room_id", (int, type(None)), where),
        bbox_min=bbox_min,
        bbox_max=bbox_max,
        attributes=doc.field(item, "attributes", dict, where),
        front=front,
    )


def _numbers(values: Any, length: int) -> bool:
    """Whether ``values`` is a JSON list of ``length`` plain numbers (what :meth:`_Annotations.vector` accepts)."""
    return (
        type(values) is list
        and len(values) == length
        and all(type(v) is int or (type(v) is float and math.isfinite(v)) for v in values)
    )


def _cached_textures(path: Path, mesh_sha256: str, items: list) -> list[np.ndarray | None] | None:
    """Each material's texture from the texture cache ``path`` (see :func:`encode_texture_cache`),
    or None when there is none, or it was not made for this ``.glb`` and these texture shapes."""
    shapes = [item.get("texture_shape") if type(item) is dict else 0 for item in items]
    for shape in shapes:
        if shape is not None and not (
            type(shape) is list and len(shape) in (2, 3) and all(type(n) is int and n > 0 for n in shape)
        ):
            return None  # malformed annotations: the checks that name the field decode the PNGs
    header = _TEXTURE_CACHE_MAGIC + mesh_sha256.encode("ascii") + b"\n"
    sizes = [0 if shape is None else int(np.prod(shape)) for shape in shapes]
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if len(data) != len(header) + sum(sizes) or not data.startswith(header):
        return None
    pixels = np.frombuffer(data, dtype=np.uint8, offset=len(header))
    ends = np.cumsum(sizes)
    return [
        None if shape is None else pixels[end - size : end].reshape(shape).copy()
        for shape, size, end in zip(shapes, sizes, ends.tolist())
    ]


_NOT_CACHED = object()


def _read_material(
    doc: _Annotations,
    item: dict[str, Any],
    k: int,
    gltf: dict[str, Any],
    binary: bytes,
    mesh_path: Path,
    cached: Any = _NOT_CACHED,
) -> Material:
    """``materials[k]`` with its texture (``cached`` from the texture cache, unless it is
    ``_NOT_CACHED``: then from the ``.glb``), checked against ``texture_shape``."""
    where = f"materials[{k}]"
    color = doc.field(item, "color", list, where)
    bytes_ = all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in color)
    if len(color) != 3 or not bytes_:
        doc.fail(f"{where}.color", f"must be 3 integers in [0, 255], got {color!r:.60}")
    shape = doc.field(item, "texture_shape", (list, type(None)), where)
    gltf_material = doc.field(item, "gltf_material", int, where)
    try:
        texture = read_texture(gltf, binary, gltf_material) if cached is _NOT_CACHED else cached
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
        """Raise a ValueError naming the file and ``field``."""
        raise ValueError(f"{self.path}: field '{field}' {problem}")

    def field(self, obj: dict[str, Any], key: str, types: type | tuple[type, ...], where: str = "") -> Any:
        """``obj[key]`` checked against ``types`` (``bool`` is not an ``int`` here)."""
        if not isinstance(obj, dict):
            self.fail(where, f"must be a JSON object, got {obj!r:.60}")
        if key not in obj:
            self.fail(f"{where}.{key}" if where else key, "is missing")
        value = obj[key]
        types = types if isinstance(types, tuple) else (types,)
        if float in types and isinstance(value, int) and not isinstance(value, bool):
            return value
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            self.fail(f"{where}.{key}" if where else key, f"must be {expected}, got {value!r:.60}")
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(f"{where}.{key}" if where else key, f"must be a finite number, got {value!r}")
        return value

    def vector(self, obj: dict[str, Any], key: str, length: int, where: str) -> np.ndarray:
        """A list of ``length`` numbers as float64."""
        values = self.field(obj, key, list, where)
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)
        if len(values) != length or not numbers:
            self.fail(f"{where}.{key}", f"must be {length} finite numbers, got {values!r:.60}")
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
