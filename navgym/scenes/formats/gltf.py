"""glTF 2.0 binary (``.glb``) codec for a :class:`~navgym.scenes.scene.Scene`'s geometry and looks.

Writes one node, one mesh and one primitive per used material (positions, UVs, triangle indices,
PBR materials, PNG textures) and reads such a file back into per-primitive arrays and textures.
The scene's UVs are stored unchanged and the textures flipped upside down (glTF's texture origin
is the top-left), which any glTF viewer shows the same while keeping a round trip bit-exact.
Which primitive holds which of the scene's vertices and triangles, and every annotation, lives in
the annotation file (:mod:`navgym.scenes.formats.annotations`), not here.
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from navgym.scenes.scene import Material, Scene

_GLB_MAGIC = b"glTF"
_CHUNK_JSON = 0x4E4F534A
_CHUNK_BIN = 0x004E4942
_ARRAY_BUFFER = 34962
_ELEMENT_ARRAY_BUFFER = 34963
_TRIANGLES = 4
_REPEAT = 10497
_COMPONENT_DTYPES = {5121: "u1", 5123: "<u2", 5125: "<u4", 5126: "<f4"}
_TYPE_WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


# -- writing ---------------------------------------------------------------------------------------
@dataclass
class Primitive:
    """One glTF primitive: the faces of one material and the vertices they use.

    Attributes:
        material: Index into the scene's materials.
        faces: Ascending global face indices.
        vertices: Ascending global vertex indices, the primitive's local vertex order.
    """

    material: int
    faces: np.ndarray
    vertices: np.ndarray


def split_primitives(scene: Scene) -> list[Primitive]:
    """One primitive per used material, in material order; unreferenced vertices go to the first."""
    n_vertices = len(scene.vertices)
    face_order = np.argsort(scene.face_material, kind="stable")
    # Unique (material, vertex) pairs in one sort: ascending vertices grouped by material.
    corner_material = np.repeat(scene.face_material.astype(np.int64), 3)
    keys = sorted_unique(corner_material * n_vertices + scene.faces.ravel())
    used = sorted_unique(scene.face_material)
    face_splits = np.searchsorted(scene.face_material[face_order], used[1:])
    vertex_splits = np.searchsorted(keys, used[1:].astype(np.int64) * n_vertices)
    referenced = np.zeros(n_vertices, dtype=bool)
    referenced[scene.faces.ravel()] = True
    primitives = []
    face_groups, key_groups = np.split(face_order, face_splits), np.split(keys, vertex_splits)
    for material, faces, pair_keys in zip(used, face_groups, key_groups):
        vertices = pair_keys - int(material) * n_vertices
        if not primitives and not referenced.all():
            vertices = sorted_unique(np.concatenate([vertices, np.flatnonzero(~referenced)]))
        primitives.append(Primitive(int(material), faces, vertices))
    return primitives


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` for integers via one sort (numpy 2's hash-based unique is slower here)."""
    values = np.sort(values, axis=None)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def encode_glb(scene: Scene, primitives: list[Primitive], *, generator: str, annotation_name: str) -> bytes:
    """The glTF binary: one node, one mesh, one primitive per used material.

    Args:
        scene: The scene whose geometry and materials are written.
        primitives: :func:`split_primitives` of ``scene``.
        generator: ``asset.generator``, naming the writer and its format version.
        annotation_name: File name of the annotations, kept in ``asset.extras`` so the ``.glb``
            says where its annotations are.
    """
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
            "generator": generator,
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
    """The material's texture as an array; ValueError unless it is a PNG-able uint8 image."""
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
    """PNG bytes of ``pixels``; fixed settings so the same pixels always give the same bytes."""
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] to linear: glTF's ``baseColorFactor`` is linear, navgym colours are sRGB."""
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


# -- reading ---------------------------------------------------------------------------------------
def read_glb(path: Path, data: bytes | None = None) -> tuple[dict[str, Any], bytes]:
    """The JSON and binary chunks of a glTF binary; ValueError naming the file when malformed.

    Args:
        path: The file (read unless ``data`` is given; named in errors).
        data: The file's bytes, when the caller has read them already.
    """
    if data is None:
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


def read_glb_json(path: Path) -> Any:
    """The JSON chunk of a glTF binary, reading only the file's head (ValueError when malformed)."""
    with open(path, "rb") as f:
        head = f.read(20)
        if len(head) < 20 or head[:4] != _GLB_MAGIC:
            raise ValueError(f"{path}: not a glTF binary file (missing the 'glTF' header)")
        size, kind = struct.unpack_from("<II", head, 12)
        text = f.read(size)
    if kind != _CHUNK_JSON or len(text) != size:
        raise ValueError(f"{path}: glTF binary does not start with a complete JSON chunk")
    try:
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: glTF JSON chunk is not valid JSON: {exc}") from exc


def read_primitives(
    gltf: dict[str, Any], binary: bytes, path: Path
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Positions (n, 3), UVs (n, 2) and local triangles (f, 3) of each primitive of the first mesh.

    Raises:
        ValueError: naming ``path`` when the file is not laid out as :func:`encode_glb` writes it
            or an accessor overruns its buffer.
    """
    try:
        return [
            (
                _read_accessor(gltf, binary, p["attributes"]["POSITION"]),
                _read_accessor(gltf, binary, p["attributes"]["TEXCOORD_0"]),
                _read_accessor(gltf, binary, p["indices"]).reshape(-1, 3),
            )
            for p in gltf["meshes"][0]["primitives"]
        ]
    except (KeyError, IndexError, TypeError) as exc:
        raise ValueError(
            f"{path}: not laid out as a navgym scene .glb (missing {exc}); was it written by save_scene?"
        ) from exc
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def read_texture(gltf: dict[str, Any], binary: bytes, material: int) -> np.ndarray | None:
    """The base colour texture of glTF material ``material`` (flipped back), or None without one.

    Raises:
        KeyError, IndexError, TypeError, OSError: the material, image or PNG is missing or broken;
            the caller names the file and the material.
    """
    source = gltf["materials"][material].get("pbrMetallicRoughness", {}).get("baseColorTexture")
    if source is None:
        return None
    image = gltf["images"][gltf["textures"][source["index"]]["source"]]
    view = gltf["bufferViews"][image["bufferView"]]
    start = view.get("byteOffset", 0)
    png = binary[start : start + view["byteLength"]]
    with Image.open(io.BytesIO(png)) as decoded:
        return np.ascontiguousarray(np.flipud(np.asarray(decoded)))


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
