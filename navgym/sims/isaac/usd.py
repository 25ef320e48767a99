"""navgym scenes as USD stages for Isaac Sim, and USD stages back as navgym scenes.

* :func:`write_usda` writes a :class:`~navgym.scenes.scene.Scene` (a ProcHouse house, a kit box
  scene, a loaded mesh) as a text USD layer that Isaac Sim opens: z up (the rotation of
  :mod:`navgym.sims.isaac.frames`), metres, one ``Mesh`` prim per (instance, material) pair named
  ``inst_<id>_m<k>`` under ``/Scene/Geometry``, each a static triangle-mesh collider
  (``PhysicsCollisionAPI`` + ``PhysicsMeshCollisionAPI``, approximation ``none``) with a semantic
  class label (``UsdSemantics`` ``SemanticsLabelsAPI:class``, and the older ``SemanticsAPI`` that
  Isaac Sim 4.x reads) and the custom attributes ``navgym:instanceId`` / ``navgym:category``;
  ``UsdPreviewSurface`` materials with the scene's colours and tiling textures (PNG files beside
  the layer). It needs no USD library: the layer is text, written here and read back by
  ``usd-core`` in navgym's tests when that package is installed.
* :func:`scene_from_usd` reads a USD stage (the user's own, e.g. an InteriorAgent scene, or one
  written above) into a navgym ``Scene`` for the backend's geometry: the triangles of its
  collision meshes (every mesh when none has a collider), in navgym's y-up frame, one instance per
  prim with a semantic ``class`` label. It needs ``pxr`` (Isaac Sim ships it).

Why text USD and not a conversion of ProcHouse's cached ``.glb``: Isaac Sim's glTF importer makes
one prim per glTF node and knows nothing of instance ids, semantic labels or colliders, which the
backend needs on every prim; writing the stage directly keeps them exact.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Iterable

import numpy as np

from navgym.core.paths import cache_dir
from navgym.errors import DataNotFoundError, DatasetFormatError
from navgym.scenes.scene import NO_INSTANCE, Material, ObjectInstance, Scene
from navgym.sims.isaac.frames import ISAAC_TO_NAV, NAV_TO_ISAAC

#: Prim name pattern of navgym's mesh prims; the instance id is the number after ``inst_``.
INSTANCE_PRIM = re.compile(r"inst_(\d+)")
#: Attribute holding the navgym instance id on a prim written by :func:`write_usda`.
INSTANCE_ATTR = "navgym:instanceId"
#: The semantic label attribute of ``UsdSemantics.LabelsAPI`` with instance name ``class``.
LABELS_ATTR = "semantics:labels:class"
#: The older Isaac Sim ``SemanticsAPI`` attribute (type ``class`` stored beside it).
LEGACY_LABEL_ATTR = "semantic:Semantics:params:semanticData"


def _identifier(text: str) -> str:
    """A valid USD prim name from any text."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return name if name and not name[0].isdigit() else f"_{name}"


def _f(value: float) -> str:
    return f"{float(value):.7g}"


def _tuples(rows: np.ndarray) -> str:
    return ", ".join("(" + ", ".join(_f(v) for v in row) + ")" for row in rows)


def _ints(values: Iterable[int]) -> str:
    return ", ".join(str(int(v)) for v in values)


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def scene_digest(scene: Scene) -> str:
    """A short hash of what the USD layer depends on (geometry, materials, annotations)."""
    h = hashlib.sha256()
    for array in (scene.vertices, scene.faces, scene.uvs, scene.face_material, scene.face_instance):
        h.update(np.ascontiguousarray(array).tobytes())
    for material in scene.materials:
        h.update(f"{material.name}|{material.kind}|{tuple(material.color)}".encode())
        if material.texture is not None:
            h.update(np.ascontiguousarray(material.texture).tobytes())
    for inst in scene.instances:
        h.update(f"{inst.id}|{inst.category}".encode())
    return h.hexdigest()[:16]


def usd_cache_path(scene: Scene, root: str | Path | None = None) -> Path:
    """Where :func:`ensure_usda` keeps a scene's layer: ``<cache>/isaac/<name>-<digest>.usda``."""
    base = Path(root) if root is not None else cache_dir() / "isaac"
    return base / f"{_identifier(scene.name)}-{scene_digest(scene)}.usda"


def ensure_usda(scene: Scene, root: str | Path | None = None, *, textures: bool = True) -> Path:
    """The scene's USD layer in the cache, written on first use (same scene, same file)."""
    path = usd_cache_path(scene, root)
    if not path.exists():
        write_usda(scene, path, textures=textures)
    return path


def write_usda(scene: Scene, path: str | Path, *, textures: bool = True, legacy_semantics: bool = True) -> Path:
    """Write ``scene`` as a z-up USD text layer (see the module docstring); returns the path.

    Args:
        scene: The scene.
        path: Output ``.usda`` path; textures go to ``<stem>_textures/`` beside it.
        textures: Write the materials' textures (otherwise their mean colours only).
        legacy_semantics: Also write Isaac Sim's older ``SemanticsAPI`` labels.
    """
    path = Path(path)
    if path.suffix.lower() != ".usda":
        raise ValueError(f"write_usda: path={str(path)!r} must end in '.usda'")
    path.parent.mkdir(parents=True, exist_ok=True)
    texture_dir = path.with_name(path.stem + "_textures")
    categories = {inst.id: inst.category for inst in scene.instances}

    lines = [
        "#usda 1.0",
        "(",
        '    defaultPrim = "Scene"',
        "    metersPerUnit = 1",
        '    upAxis = "Z"',
        f"    doc = {_string(f'navgym scene {scene.name} (navgym.sims.isaac.usd.write_usda); y-up navgym (x, y, z) is (x, -z, y) here')}",
        ")",
        "",
        'def Xform "Scene"',
        "{",
        '    def Scope "Looks"',
        "    {",
    ]
    material_paths = []
    for k, material in enumerate(scene.materials):
        name = f"m{k}_{_identifier(material.name)}"
        material_paths.append(f"/Scene/Looks/{name}")
        lines += _material_lines(name, material, k, texture_dir if textures else None)
    lines += ["    }", "", '    def Xform "Geometry"', "    {"]

    keys = scene.face_instance.astype(np.int64) * (len(scene.materials) + 1) + scene.face_material.astype(np.int64)
    for key in np.unique(keys):
        faces_idx = np.flatnonzero(keys == key)
        instance_id = int(scene.face_instance[faces_idx[0]])
        material = int(scene.face_material[faces_idx[0]])
        faces = scene.faces[faces_idx]
        used, local = np.unique(faces.ravel(), return_inverse=True)
        points = scene.vertices[used].astype(np.float64) @ NAV_TO_ISAAC.T
        uvs = scene.uvs[used]
        tri = scene.vertices[faces].astype(np.float64) @ NAV_TO_ISAAC.T
        normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        lengths = np.linalg.norm(normals, axis=1, keepdims=True)
        normals = np.where(lengths > 0, normals / np.maximum(lengths, 1e-12), [0.0, 0.0, 1.0])
        labelled = instance_id != NO_INSTANCE
        prim = f"inst_{instance_id}_m{material}" if labelled else f"unlabelled_m{material}"
        schemas = ["MaterialBindingAPI", "PhysicsCollisionAPI", "PhysicsMeshCollisionAPI"]
        if labelled:
            schemas.append("SemanticsLabelsAPI:class")
            if legacy_semantics:
                schemas.append("SemanticsAPI:Semantics")
        lines += [
            f'        def Mesh "{prim}" (',
            "            prepend apiSchemas = [" + ", ".join(_string(s) for s in schemas) + "]",
            "        )",
            "        {",
            f"            int[] faceVertexCounts = [{_ints([3] * len(faces))}]",
            f"            int[] faceVertexIndices = [{_ints(local)}]",
            f"            point3f[] points = [{_tuples(points)}]",
            f"            normal3f[] normals = [{_tuples(np.repeat(normals, 3, axis=0))}] (",
            '                interpolation = "faceVarying"',
            "            )",
            f"            texCoord2f[] primvars:st = [{_tuples(uvs)}] (",
            '                interpolation = "vertex"',
            "            )",
            "            uniform bool doubleSided = 1",
            '            uniform token subdivisionScheme = "none"',
            f"            rel material:binding = <{material_paths[material]}>",
            "            bool physics:collisionEnabled = 1",
            '            uniform token physics:approximation = "none"',
        ]
        if labelled:
            category = categories.get(instance_id, "object")
            lines += [
                f"            token[] {LABELS_ATTR} = [{_string(category)}]",
                f"            int {INSTANCE_ATTR} = {instance_id}",
                f"            string navgym:category = {_string(category)}",
            ]
            if legacy_semantics:
                lines += [
                    f"            string {LEGACY_LABEL_ATTR} = {_string(category)}",
                    '            string semantic:Semantics:params:semanticType = "class"',
                ]
        lines += ["        }"]
    lines += ["    }", "}", ""]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(path)
    return path


def _material_lines(name: str, material: Material, index: int, texture_dir: Path | None) -> list[str]:
    base = f"/Scene/Looks/{name}"
    r, g, b = (c / 255.0 for c in material.color)
    lines = [
        f'        def Material "{name}"',
        "        {",
        f"            token outputs:surface.connect = <{base}/Surface.outputs:surface>",
        '            def Shader "Surface"',
        "            {",
        '                uniform token info:id = "UsdPreviewSurface"',
    ]
    texture = material.texture if texture_dir is not None else None
    if texture is not None:
        from PIL import Image

        texture_dir.mkdir(parents=True, exist_ok=True)
        file = texture_dir / f"m{index}.png"
        Image.fromarray(np.asarray(texture, dtype=np.uint8)[..., :3]).save(file)
        lines.append(f"                color3f inputs:diffuseColor.connect = <{base}/Texture.outputs:rgb>")
    else:
        lines.append(f"                color3f inputs:diffuseColor = ({_f(r)}, {_f(g)}, {_f(b)})")
    lines += [
        "                float inputs:roughness = 0.8",
        "                token outputs:surface",
        "            }",
    ]
    if texture is not None:
        lines += [
            '            def Shader "Texture"',
            "            {",
            '                uniform token info:id = "UsdUVTexture"',
            f"                asset inputs:file = @./{texture_dir.name}/m{index}.png@",
            f"                float2 inputs:st.connect = <{base}/StReader.outputs:result>",
            '                token inputs:wrapS = "repeat"',
            '                token inputs:wrapT = "repeat"',
            "                float3 outputs:rgb",
            "            }",
            '            def Shader "StReader"',
            "            {",
            '                uniform token info:id = "UsdPrimvarReader_float2"',
            '                string inputs:varname = "st"',
            "                float2 outputs:result",
            "            }",
        ]
    lines.append("        }")
    return lines


# -- reading ------------------------------------------------------------------------------------
def instance_id_of_path(prim_path: str) -> int | None:
    """navgym instance id of a prim path written by :func:`write_usda` (the last ``inst_<id>``
    component), or ``None``."""
    matches = INSTANCE_PRIM.findall(str(prim_path))
    return int(matches[-1]) if matches else None


def scene_from_usd(path: str | Path, name: str | None = None, collision_only: bool = True) -> Scene:
    """A navgym scene (y up, metres) from a USD stage's meshes, for geometry queries.

    Args:
        path: A ``.usd`` / ``.usda`` / ``.usdc`` / ``.usdz`` file.
        name: Scene name (default: the file stem).
        collision_only: Use only meshes with ``PhysicsCollisionAPI`` (on the mesh or an ancestor)
            when the stage has any; otherwise every mesh.

    Instances: a prim carrying ``navgym:instanceId`` keeps that id; otherwise each prim (the mesh
    or its nearest ancestor) with a semantic ``class`` label is one instance, numbered from 1 in
    traversal order, with the label as category and a box from its triangles.
    """
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"USD stage {str(path)!r} does not exist")
    try:
        from pxr import Usd, UsdGeom, UsdPhysics
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("Reading a USD stage needs pxr (Isaac Sim ships it; or `pip install usd-core` outside Isaac)") from exc

    stage = Usd.Stage.Open(str(path))
    if stage is None:
        raise DatasetFormatError(f"USD stage {str(path)!r} could not be opened")
    up = str(UsdGeom.GetStageUpAxis(stage))
    scale = float(UsdGeom.GetStageMetersPerUnit(stage) or 1.0)
    xforms = UsdGeom.XformCache(Usd.TimeCode.Default())
    meshes = [p for p in Usd.PrimRange(stage.GetPseudoRoot(), Usd.TraverseInstanceProxies()) if p.IsA(UsdGeom.Mesh)]

    def has_collider(prim) -> bool:
        while prim and prim.GetPath() != prim.GetStage().GetPseudoRoot().GetPath():
            if prim.HasAPI(UsdPhysics.CollisionAPI):
                return True
            prim = prim.GetParent()
        return False

    colliders = [p for p in meshes if has_collider(p)]
    chosen = colliders if (collision_only and colliders) else meshes
    if not chosen:
        raise DatasetFormatError(f"USD stage {str(path)!r} has no meshes")

    def owner(prim):
        """(prim, explicit id, category) of the nearest prim with an id or a class label."""
        node = prim
        while node and node.GetPath() != stage.GetPseudoRoot().GetPath():
            ident = node.GetAttribute(INSTANCE_ATTR)
            labels = node.GetAttribute(LABELS_ATTR)
            legacy = node.GetAttribute(LEGACY_LABEL_ATTR)
            explicit = int(ident.Get()) if ident and ident.HasAuthoredValue() else None
            category = None
            if labels and labels.HasAuthoredValue() and len(labels.Get() or []) > 0:
                category = str(labels.Get()[0])
            elif legacy and legacy.HasAuthoredValue():
                category = str(legacy.Get())
            if explicit is not None or category is not None:
                return node, explicit, category or "object"
            node = node.GetParent()
        return None, None, None

    vertices, faces, face_owner = [], [], []
    owners: dict[str, tuple[int | None, str]] = {}
    offset = 0
    for prim in chosen:
        mesh = UsdGeom.Mesh(prim)
        points = np.asarray(mesh.GetPointsAttr().Get() or [], dtype=np.float64).reshape(-1, 3)
        counts = np.asarray(mesh.GetFaceVertexCountsAttr().Get() or [], dtype=np.int64)
        indices = np.asarray(mesh.GetFaceVertexIndicesAttr().Get() or [], dtype=np.int64)
        if len(points) == 0 or len(counts) == 0:
            continue
        matrix = np.asarray(xforms.GetLocalToWorldTransform(prim), dtype=np.float64)
        world = (np.c_[points, np.ones(len(points))] @ matrix)[:, :3] * scale
        tris = _fan_triangulate(counts, indices)
        node, explicit, category = owner(prim)
        key = str(node.GetPath()) if node is not None else ""
        if node is not None and key not in owners:
            owners[key] = (explicit, category)
        vertices.append(world)
        faces.append(tris + offset)
        face_owner += [key] * len(tris)
        offset += len(world)
    if not faces:
        raise DatasetFormatError(f"USD stage {str(path)!r} has no triangles in its meshes")
    vertices_np = np.concatenate(vertices)
    if up.upper() == "Z":
        vertices_np = vertices_np @ ISAAC_TO_NAV.T
    faces_np = np.concatenate(faces)

    ids: dict[str, int] = {}
    used = {e for e, _ in owners.values() if e is not None}
    next_id = 1
    for key, (explicit, _) in owners.items():
        if explicit is not None:
            ids[key] = explicit
        else:
            while next_id in used:
                next_id += 1
            ids[key] = next_id
            used.add(next_id)
    face_instance = np.array([ids.get(k, NO_INSTANCE) for k in face_owner], dtype=np.int32)
    instances = []
    for key, (_, category) in owners.items():
        mask = face_instance == ids[key]
        corners = vertices_np[faces_np[mask].ravel()]
        instances.append(ObjectInstance(ids[key], category, None, corners.min(axis=0), corners.max(axis=0)))
    instances.sort(key=lambda inst: inst.id)
    return Scene(
        vertices=vertices_np.astype(np.float32),
        faces=faces_np.astype(np.int32),
        uvs=np.zeros((len(vertices_np), 2), dtype=np.float32),
        face_material=np.zeros(len(faces_np), dtype=np.int32),
        face_instance=face_instance,
        materials=[Material("usd_grey", "paint", (180, 180, 180))],
        instances=instances,
        name=name or path.stem,
        metadata={"source": str(path), "up_axis": up, "meters_per_unit": scale},
        annotated=bool(instances),
    )


def _fan_triangulate(counts: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """(T, 3) triangles of polygons given as USD face counts and indices (fans from each
    polygon's first vertex; polygons with fewer than 3 vertices are skipped)."""
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    if len(indices) < int(counts.sum()):
        raise DatasetFormatError("USD mesh has fewer faceVertexIndices than its faceVertexCounts add up to")
    tris = []
    for start, count in zip(starts, counts):
        for k in range(1, int(count) - 1):
            tris.append((indices[start], indices[start + k], indices[start + k + 1]))
    return np.asarray(tris, dtype=np.int64).reshape(-1, 3)
