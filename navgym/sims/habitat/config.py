"""navgym specs -> habitat-sim configuration, and habitat-sim outputs -> navgym values.

Pure functions (numpy only; the habitat-sim module is passed in as ``hs`` where one of its
classes is built), so they are unit-tested without habitat-sim.

Frames: navgym uses Habitat's conventions (y up, metres, a camera looks along -z at the identity,
positive yaw turns left), so positions pass unchanged. Quaternions are the one thing to convert:
navgym stores ``[x, y, z, w]``; habitat-sim's ``AgentState.rotation`` is a numpy-quaternion
``quaternion.quaternion(w, x, y, z)`` (scalar first). :func:`to_habitat_quaternion` /
:func:`from_habitat_quaternion` are the only places that reorder.

Written against habitat-sim v0.3.x (``src_python/habitat_sim/agent/agent.py``,
``src/esp/bindings/ShortestPathBindings.cpp``, ``src/esp/sensor/CameraSensor.cpp``); never run
against a real habitat-sim by navgym's developers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from navgym.core.geometry import camera_rotation, quat_wxyz_from_matrix
from navgym.core.specs import AgentState, BodySpec, CameraSpec
from navgym.errors import InvalidArgumentError
from navgym.scenes.scene import ObjectInstance, Scene

#: habitat-sim sensor type (``habitat_sim.SensorType`` member name) of each navgym output.
SENSOR_TYPES = {"rgb": "COLOR", "depth": "DEPTH", "semantic": "SEMANTIC"}
#: File names of a navgym scene exported as a habitat-sim stage (in its own folder).
STAGE_CONFIG = "stage.stage_config.json"
STAGE_MESH = "stage.glb"
STAGE_SEMANTIC_MESH = "stage_semantic.ply"
#: Largest instance id habitat-sim's instance meshes hold (16-bit object ids).
MAX_SEMANTIC_ID = 65535


# -- quaternions -----------------------------------------------------------------------------------
def xyzw_to_wxyz(q: Sequence[float]) -> np.ndarray:
    """navgym's ``[x, y, z, w]`` -> ``(w, x, y, z)``."""
    x, y, z, w = np.asarray(q, dtype=np.float64).reshape(4)
    return np.array([w, x, y, z])


def wxyz_to_xyzw(q: Sequence[float]) -> np.ndarray:
    """``(w, x, y, z)`` -> navgym's ``[x, y, z, w]``."""
    w, x, y, z = np.asarray(q, dtype=np.float64).reshape(4)
    return np.array([x, y, z, w])


def to_habitat_quaternion(q_wxyz: Sequence[float], qt: Any) -> Any:
    """A ``quaternion.quaternion(w, x, y, z)`` (``qt`` is the numpy-quaternion module)."""
    w, x, y, z = (float(v) for v in np.asarray(q_wxyz, dtype=np.float64).reshape(4))
    return qt.quaternion(w, x, y, z)


def from_habitat_quaternion(q: Any) -> np.ndarray:
    """navgym ``[x, y, z, w]`` of a habitat rotation: a numpy-quaternion (``.w .x .y .z``), a
    magnum ``Quaternion`` (``.scalar``, ``.vector``) or coefficients ``[x, y, z, w]`` (habitat's
    ``quat_to_coeffs`` order)."""
    if hasattr(q, "w") and hasattr(q, "x"):
        return np.array([q.x, q.y, q.z, q.w], dtype=np.float64)
    if hasattr(q, "scalar") and hasattr(q, "vector"):
        v = q.vector
        return np.array([v[0], v[1], v[2], q.scalar], dtype=np.float64)
    return np.asarray(q, dtype=np.float64).reshape(4).copy()


# -- cameras ---------------------------------------------------------------------------------------
def camera_world_rotation(state: AgentState, spec: CameraSpec) -> np.ndarray:
    """World-from-camera rotation of a render request: the state's yaw, pitched by
    ``spec.pitch + state.tilt`` (clamped to [-90, 90] degrees) and rolled by ``spec.roll``. A
    habitat-sim camera node looks along its -z with +y up, like navgym's, so this is the rotation
    habitat's node must have."""
    pitch = float(np.clip(spec.pitch + state.tilt, -90.0, 90.0))
    return camera_rotation(state.yaw, math.radians(pitch), math.radians(spec.roll))


def camera_pose(state: AgentState, spec: CameraSpec) -> tuple[np.ndarray, np.ndarray]:
    """``(position, (w, x, y, z))``: the world pose of the camera of a render request, the optical
    centre ``spec.camera_height`` above the state's floor position. The backend gives this pose to
    its camera rig agent, whose sensors sit at the agent's origin with no rotation of their own."""
    eye = np.asarray(state.position, dtype=np.float64) + np.array([0.0, spec.camera_height, 0.0])
    return eye, quat_wxyz_from_matrix(camera_world_rotation(state, spec))


def sensor_key(output: str, spec: CameraSpec) -> tuple[str, int, int, float]:
    """What a rig sensor is shared by: output kind, image size and HFOV (pose, depth range and
    height are per render, not per sensor)."""
    return (output, int(spec.width), int(spec.height), float(spec.hfov))


def sensor_uuid(key: tuple[str, int, int, float]) -> str:
    """The sensor's uuid, e.g. ``navgym_depth_128x96_hfov90``."""
    output, width, height, hfov = key
    return f"navgym_{output}_{width}x{height}_hfov{hfov:g}"


def camera_sensor_spec(hs: Any, key: tuple[str, int, int, float], far: float = 1000.0) -> Any:
    """A ``habitat_sim.CameraSensorSpec`` of a rig sensor: pinhole, ``resolution`` = [height,
    width] (habitat's order), horizontal ``hfov`` in degrees, at the rig agent's origin with no
    rotation of its own (``position`` / ``orientation`` zero: :func:`camera_pose` puts the rig)."""
    output, width, height, hfov = key
    spec = hs.CameraSensorSpec()
    spec.uuid = sensor_uuid(key)
    spec.sensor_type = getattr(hs.SensorType, SENSOR_TYPES[output])
    spec.sensor_subtype = hs.SensorSubType.PINHOLE
    spec.resolution = [int(height), int(width)]
    spec.hfov = float(hfov)
    spec.position = [0.0, 0.0, 0.0]
    spec.orientation = [0.0, 0.0, 0.0]
    spec.far = float(far)
    if output != "rgb":
        spec.channels = 1
    return spec


# -- outputs ---------------------------------------------------------------------------------------
def rgb_to_navgym(obs: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 from habitat's (H, W, 4) RGBA colour observation."""
    return np.ascontiguousarray(np.asarray(obs)[..., :3], dtype=np.uint8)


def depth_to_navgym(obs: np.ndarray, min_depth: float, max_depth: float) -> np.ndarray:
    """(H, W, 1) float32 metres from habitat's z-depth: pixels that hit nothing (habitat writes 0)
    or are not finite read ``max_depth``; the rest are clipped to ``[min_depth, max_depth]``."""
    depth = np.asarray(obs, dtype=np.float32)
    if depth.ndim == 3:
        depth = depth[..., 0]
    depth = np.where(np.isfinite(depth) & (depth > 0.0), depth, np.float32(max_depth))
    return np.clip(depth, min_depth, max_depth).astype(np.float32)[..., None]


def semantic_to_navgym(obs: np.ndarray, known_ids: np.ndarray) -> np.ndarray:
    """(H, W) int32 instance ids from habitat's semantic observation (semantic ids): ids of
    navgym's instances pass, any other id (unannotated, the background) reads 0."""
    ids = np.asarray(obs)
    if ids.ndim == 3:
        ids = ids[..., 0]
    ids = ids.astype(np.int64)
    return np.where(np.isin(ids, known_ids), ids, 0).astype(np.int32)


# -- navmesh ---------------------------------------------------------------------------------------
def navmesh_settings(hs: Any, body: BodySpec, cell_size: float = 0.05, cell_height: float = 0.2) -> Any:
    """``habitat_sim.NavMeshSettings`` for a navgym body: Recast's defaults
    (``set_defaults()``), then the body's cylinder (``agent_radius``, ``agent_height``,
    ``agent_max_climb``) and the cell size; static objects are not included (enable_physics is
    off, the stage is the scene)."""
    settings = hs.NavMeshSettings()
    settings.set_defaults()
    settings.agent_radius = float(body.radius)
    settings.agent_height = float(body.height)
    settings.agent_max_climb = float(body.max_climb)
    settings.cell_size = float(cell_size)
    settings.cell_height = float(cell_height)
    if hasattr(settings, "include_static_objects"):
        settings.include_static_objects = False
    return settings


def collided(start: Sequence[float], target: Sequence[float], end: Sequence[float]) -> bool:
    """habitat-sim's collision rule for a filtered step (``default_controls._move_along``): the
    squared distance moved after the navmesh filter, plus 1e-5, is below the squared distance
    asked."""
    start, target, end = (np.asarray(p, dtype=np.float64) for p in (start, target, end))
    return float(np.dot(end - start, end - start)) + 1e-5 < float(np.dot(target - start, target - start))


def vec3(point: Sequence[float]) -> np.ndarray:
    """A point as habitat's bindings take it (float32 (3,), magnum converts it to a Vector3)."""
    return np.asarray(point, dtype=np.float32).reshape(3)


def as_array(vector: Any) -> np.ndarray:
    """A magnum ``Vector3`` (or any 3 numbers) as float64 (3,)."""
    return np.array([float(vector[0]), float(vector[1]), float(vector[2])])


# -- semantic annotations -------------------------------------------------------------------------
def _range_corners(aabb: Any) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) corners of a semantic object's ``aabb``: a magnum ``Range3D`` (``min`` /
    ``max``, habitat-sim >= 0.2.2) or the older box with ``center`` / ``sizes``."""
    lo = getattr(aabb, "min", None)
    hi = getattr(aabb, "max", None)
    if lo is not None and hi is not None and not callable(lo):
        return as_array(lo), as_array(hi)
    center = aabb.center() if callable(getattr(aabb, "center", None)) else aabb.center
    sizes = aabb.sizes if hasattr(aabb, "sizes") else aabb.size()
    sizes = sizes() if callable(sizes) else sizes
    center, sizes = as_array(center), as_array(sizes)
    return center - sizes / 2.0, center + sizes / 2.0


def instances_from_semantic_scene(semantic_scene: Any) -> list[ObjectInstance]:
    """navgym instances of habitat's ``sim.semantic_scene.objects``: the id is the object's
    ``semantic_id`` (what the semantic sensor returns; objects with id 0 or a repeated id are left
    out), the category ``obj.category.name()`` (``"unknown"`` without one), the box its ``aabb``.
    The habitat object id (e.g. ``"0_3_12"``) is kept in ``attributes["habitat_id"]``."""
    out: list[ObjectInstance] = []
    seen: set[int] = set()
    for obj in getattr(semantic_scene, "objects", None) or []:
        if obj is None:
            continue
        semantic_id = int(getattr(obj, "semantic_id", -1))
        if semantic_id < 1 or semantic_id in seen:
            continue
        category = getattr(obj, "category", None)
        name = category.name() if category is not None else ""
        lo, hi = _range_corners(obj.aabb)
        seen.add(semantic_id)
        out.append(ObjectInstance(semantic_id, name or "unknown", None, lo, hi, {"habitat_id": str(getattr(obj, "id", semantic_id))}))
    return out


# -- navgym scenes as habitat-sim stages -----------------------------------------------------------
def nav_to_ply(points: np.ndarray) -> np.ndarray:
    """navgym (y up) points -> the z-up frame habitat-sim assumes for ``.ply`` semantic meshes:
    ``(x, y, z) -> (x, -z, y)``. habitat-sim rotates a PLY semantic mesh's vertices by the rotation
    taking -Z to -Y (``GenericSemanticMeshData``: ``(X, Y, Z) -> (X, Z, -Y)``), which undoes it."""
    p = np.asarray(points, dtype=np.float64)
    return np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1)


def ply_to_nav(points: np.ndarray) -> np.ndarray:
    """Inverse of :func:`nav_to_ply` (habitat-sim's rotation of PLY semantic meshes)."""
    p = np.asarray(points, dtype=np.float64)
    return np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)


def id_color(ids: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 vertex colours, one per id (habitat needs vertex colours on semantic meshes,
    one-to-one with the object ids): the id's three low bytes."""
    ids = np.asarray(ids, dtype=np.int64)
    return np.stack([(ids >> 16) & 255, (ids >> 8) & 255, ids & 255], axis=-1).astype(np.uint8)


def write_semantic_ply(scene: Scene, path: str | Path) -> Path:
    """The scene's triangles as a binary PLY instance mesh: three vertices per triangle (x, y, z
    float in habitat's PLY frame, :func:`nav_to_ply`), vertex colours from :func:`id_color`, and a
    per-vertex ``object_id`` (ushort) = the triangle's navgym instance id (0: none)."""
    ids = np.asarray(scene.face_instance, dtype=np.int64)
    if len(ids) and ids.max() > MAX_SEMANTIC_ID:
        raise InvalidArgumentError(f"scene {scene.name!r} has instance id {int(ids.max())}; habitat-sim's instance meshes hold ids up to {MAX_SEMANTIC_ID}")
    corners = np.asarray(scene.vertices, dtype=np.float64)[scene.faces].reshape(-1, 3)
    vertex_ids = np.repeat(ids, 3)
    vertex = np.zeros(len(corners), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1"), ("object_id", "<u2")])
    ply = nav_to_ply(corners)
    vertex["x"], vertex["y"], vertex["z"] = ply[:, 0], ply[:, 1], ply[:, 2]
    colors = id_color(vertex_ids)
    vertex["red"], vertex["green"], vertex["blue"] = colors[:, 0], colors[:, 1], colors[:, 2]
    vertex["object_id"] = vertex_ids
    n_faces = len(scene.faces)
    face = np.zeros(n_faces, dtype=[("n", "u1"), ("v", "<i4", (3,))])
    face["n"] = 3
    face["v"] = np.arange(3 * n_faces, dtype=np.int32).reshape(-1, 3)
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment navgym instance mesh for habitat-sim\n"
        f"element vertex {len(vertex)}\nproperty float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\nproperty ushort object_id\n"
        f"element face {n_faces}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    return _write_atomically(Path(path), header.encode("ascii") + vertex.tobytes() + face.tobytes())


def _write_atomically(path: Path, data: bytes) -> Path:
    """Write into a temporary file beside ``path``, then rename it into place (processes sharing
    the stage cache never read half a file)."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_semantic_ply(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``(triangles (F, 3, 3) in the PLY's frame, object ids (F,))`` of a file written by
    :func:`write_semantic_ply` (a reader for that writer's layout only, for tests)."""
    data = Path(path).read_bytes()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    header = data[:end].decode("ascii").splitlines()
    n_vertex = int(next(line.split()[2] for line in header if line.startswith("element vertex")))
    n_face = int(next(line.split()[2] for line in header if line.startswith("element face")))
    vdtype = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1"), ("object_id", "<u2")])
    fdtype = np.dtype([("n", "u1"), ("v", "<i4", (3,))])
    vertex = np.frombuffer(data, dtype=vdtype, count=n_vertex, offset=end)
    face = np.frombuffer(data, dtype=fdtype, count=n_face, offset=end + n_vertex * vdtype.itemsize)
    points = np.stack([vertex["x"], vertex["y"], vertex["z"]], axis=-1).astype(np.float64)
    return points[face["v"]], vertex["object_id"][face["v"][:, 0]].astype(np.int64)


def stage_config(mesh_name: str = STAGE_MESH, semantic_name: str | None = STAGE_SEMANTIC_MESH) -> dict[str, Any]:
    """The ``.stage_config.json`` of an exported navgym scene: the glTF render asset (navgym
    writes y-up glTF; without ``up`` / ``front`` habitat-sim would take a bare ``.glb`` for a z-up
    Matterport mesh) and the PLY instance mesh as the semantic asset."""
    config: dict[str, Any] = {
        "render_asset": mesh_name,
        "up": [0.0, 1.0, 0.0],
        "front": [0.0, 0.0, -1.0],
        "origin": [0.0, 0.0, 0.0],
        "units_to_meters": 1.0,
    }
    if semantic_name is not None:
        config["semantic_asset"] = semantic_name
    return config


def write_stage(scene: Scene, directory: str | Path, semantic: bool = True) -> Path:
    """Write a navgym scene as a habitat-sim stage into ``directory`` (the ``.glb`` render asset
    with navgym's annotation file beside it, the PLY instance mesh, the stage config) and return
    the stage config's path: the ``scene_id`` to give habitat-sim. Each file is renamed into
    place when complete, the stage config last."""
    from navgym.scenes.io import save_scene

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_scene(scene, directory / STAGE_MESH)
    if semantic:
        write_semantic_ply(scene, directory / STAGE_SEMANTIC_MESH)
    text = json.dumps(stage_config(STAGE_MESH, STAGE_SEMANTIC_MESH if semantic else None), indent=2) + "\n"
    return _write_atomically(directory / STAGE_CONFIG, text.encode())


def stage_directory(scene: Scene, root: str | Path | None = None) -> Path:
    """Where a scene's stage is cached: ``<cache>/habitat/<name>-<digest>/``."""
    import re

    from navgym.core.paths import cache_dir
    from navgym.sims.isaac.usd import scene_digest  # numpy only: a hash of geometry, materials, annotations

    base = Path(root) if root is not None else cache_dir() / "habitat"
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", scene.name) or "scene"
    return base / f"{name}-{scene_digest(scene)}"


def ensure_stage(scene: Scene, root: str | Path | None = None, semantic: bool = True) -> Path:
    """The scene's stage config in the cache, written on first use (same scene, same files)."""
    directory = stage_directory(scene, root)
    path = directory / STAGE_CONFIG
    needed = [path, directory / STAGE_MESH] + ([directory / STAGE_SEMANTIC_MESH] if semantic else [])
    if not all(p.exists() for p in needed):
        write_stage(scene, directory, semantic=semantic)
    return path
