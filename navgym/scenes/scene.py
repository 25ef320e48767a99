"""The in-memory scene that the embedded simulator renders and navigates.

A :class:`Scene` is one triangle soup with per-triangle instance ids and materials, plus the
semantic annotations (rooms, object instances, relations). ProcHouse builds one directly; the
loaders in :mod:`navgym.scenes.io` read one back from ``.glb`` + JSON or from an external mesh.

Coordinates follow Habitat: y is up, metres, the floor of the ground storey at y = 0 for ProcHouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Instance id 0 means "no annotated instance" in the semantic sensor.
NO_INSTANCE = 0


@dataclass
class Material:
    """A surface material: a name, a mean colour and an optional tiling RGB texture.

    Attributes:
        name: Unique material name within the scene, e.g. ``"floor_oak"``.
        kind: Family used for attributes and texture synthesis (``"wood"``, ``"tile"``,
            ``"carpet"``, ``"paint"``, ``"fabric"``, ``"metal"``, ``"plastic"``, ``"ceramic"``,
            ``"glass"``, ``"leaf"``, ``"screen"``, ...).
        color: Mean RGB colour, uint8 triple.
        texture: Optional (H, W, 3) uint8 texture, tiled through the triangles' UVs.
    """

    name: str
    kind: str
    color: tuple[int, int, int]
    texture: np.ndarray | None = None


@dataclass
class Room:
    """A room: a typed axis-aligned floor rectangle on one storey."""

    id: int
    type: str
    #: (x_min, z_min, x_max, z_max) in metres.
    bounds: tuple[float, float, float, float]
    floor_height: float = 0.0
    name: str = ""

    def contains(self, x: float, z: float, margin: float = 0.0) -> bool:
        x0, z0, x1, z1 = self.bounds
        return x0 - margin <= x <= x1 + margin and z0 - margin <= z <= z1 + margin

    @property
    def center(self) -> tuple[float, float]:
        x0, z0, x1, z1 = self.bounds
        return ((x0 + x1) / 2.0, (z0 + z1) / 2.0)


@dataclass
class ObjectInstance:
    """One annotated object (or structural element) of the scene.

    Attributes:
        id: Instance id, >= 1; the value the semantic sensor returns for its pixels.
        category: Category name (MP3D / HM3D vocabulary where possible, e.g. ``"chair"``,
            ``"tv_monitor"``, ``"wall"``).
        room_id: The room it stands in, or ``None``.
        bbox_min, bbox_max: Axis-aligned bounding box corners, metres.
        attributes: Free-form attributes; ProcHouse fills ``color`` (a colour name), ``material``
            and ``size`` (``"small"``, ``"medium"``, ``"large"``).
        front: Unit vector (x, z) the object faces, if it has a front (sofas, TVs, beds...).
    """

    id: int
    category: str
    room_id: int | None
    bbox_min: np.ndarray
    bbox_max: np.ndarray
    attributes: dict[str, Any] = field(default_factory=dict)
    front: tuple[float, float] | None = None

    @property
    def center(self) -> np.ndarray:
        return (np.asarray(self.bbox_min) + np.asarray(self.bbox_max)) / 2.0

    @property
    def structural(self) -> bool:
        return self.category in STRUCTURAL_CATEGORIES


STRUCTURAL_CATEGORIES = frozenset({"wall", "floor", "ceiling", "door_frame", "stairs", "railing"})


@dataclass
class Relation:
    """A spatial relation ``subject relation object`` between two instances, e.g. 5 on 3."""

    subject: int
    relation: str  # "on", "next_to", "near", "facing"
    object: int


class _GraphQueries:
    """Queries over ``instances``, ``rooms`` and ``relations`` (shared by Scene and SceneGraph)."""

    instances: list[ObjectInstance]
    rooms: list[Room]
    relations: list[Relation]
    name: str

    def instance(self, instance_id: int) -> ObjectInstance:
        for inst in self.instances:
            if inst.id == instance_id:
                return inst
        raise KeyError(f"Scene {self.name!r} has no instance with id {instance_id}")

    def room(self, room_id: int) -> Room:
        for room in self.rooms:
            if room.id == room_id:
                return room
        raise KeyError(f"Scene {self.name!r} has no room with id {room_id}")

    def objects(self, category: str | None = None) -> list[ObjectInstance]:
        """Non-structural instances, optionally of one category."""
        return [
            inst
            for inst in self.instances
            if not inst.structural and (category is None or inst.category == category)
        ]

    def relations_of(self, instance_id: int) -> list[Relation]:
        return [r for r in self.relations if r.subject == instance_id]


@dataclass
class SceneGraph(_GraphQueries):
    """What a scene's annotations say: object instances, rooms and spatial relations.

    Every simulator exposes one (:meth:`navgym.sims.base.Simulator.scene_graph`); episode
    generation and the language describer read only this, never a backend's own scene.
    """

    instances: list[ObjectInstance] = field(default_factory=list)
    rooms: list[Room] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    name: str = "scene"


@dataclass
class Scene(_GraphQueries):
    """A triangle-mesh scene with materials and semantic annotations.

    Attributes:
        vertices: (V, 3) float32 positions.
        faces: (F, 3) int32 vertex indices, counter-clockwise seen from the front.
        uvs: (V, 2) float32 texture coordinates (in texture repeats; textures tile).
        face_material: (F,) int32 index into ``materials``.
        face_instance: (F,) int32 instance id per triangle (0 = not annotated).
        materials: The materials.
        instances: Annotated instances; ids are unique and >= 1.
        rooms: Rooms (empty for unannotated external meshes).
        relations: Spatial relations between instances.
        name: Scene id (e.g. ``"prochouse_00042"`` or the mesh's file stem).
        metadata: Anything else worth keeping (generator version, seed, source file).
        annotated: False for external meshes loaded without annotations.
        mesh_file: The mesh file :func:`~navgym.scenes.io.load_scene` read this scene from
            (absolute), recorded when it loads and never read from a file; None for scenes made in
            memory. The embedded simulator's ``navmesh="auto"`` looks for the navmesh beside it.
        mesh_up_axis: The ``up_axis`` that file was loaded with (``"z"``: rotated to y-up).
        navmesh_file: The navmesh a Habitat scene instance names (``navmesh_instance``, resolved
            through its dataset config inside the dataset folder), recorded when it loads; None
            otherwise. ``navmesh="auto"`` takes it before looking beside ``mesh_file``.
    """

    vertices: np.ndarray
    faces: np.ndarray
    uvs: np.ndarray
    face_material: np.ndarray
    face_instance: np.ndarray
    materials: list[Material]
    instances: list[ObjectInstance] = field(default_factory=list)
    rooms: list[Room] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    name: str = "scene"
    metadata: dict[str, Any] = field(default_factory=dict)
    annotated: bool = True
    mesh_file: Path | None = field(default=None, compare=False, repr=False)
    mesh_up_axis: str = field(default="y", compare=False, repr=False)
    navmesh_file: Path | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.vertices = np.ascontiguousarray(self.vertices, dtype=np.float32)
        self.faces = np.ascontiguousarray(self.faces, dtype=np.int32)
        self.uvs = np.ascontiguousarray(self.uvs, dtype=np.float32)
        self.face_material = np.ascontiguousarray(self.face_material, dtype=np.int32)
        self.face_instance = np.ascontiguousarray(self.face_instance, dtype=np.int32)
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the field that is inconsistent."""
        v, f = self.vertices, self.faces
        if v.ndim != 2 or v.shape[1] != 3:
            raise ValueError(f"Scene {self.name!r}: vertices must be (V, 3), got {v.shape}")
        if f.ndim != 2 or f.shape[1] != 3:
            raise ValueError(f"Scene {self.name!r}: faces must be (F, 3), got {f.shape}")
        finite = np.isfinite(v).all(axis=1)
        if not finite.all():
            bad = np.flatnonzero(~finite)
            raise ValueError(
                f"Scene {self.name!r}: {len(bad)} of {len(v)} vertices are not finite (NaN or inf), "
                f"the first is vertex {bad[0]} = {v[bad[0]].tolist()}; remove or repair them in the "
                "mesh (navgym cannot ray-cast, render or map a scene with such vertices)"
            )
        if len(f) and (f.min() < 0 or f.max() >= len(v)):
            raise ValueError(
                f"Scene {self.name!r}: faces index vertices out of range [0, {len(v)})"
            )
        if self.uvs.shape != (len(v), 2):
            raise ValueError(f"Scene {self.name!r}: uvs must be ({len(v)}, 2), got {self.uvs.shape}")
        for attr in ("face_material", "face_instance"):
            arr = getattr(self, attr)
            if arr.shape != (len(f),):
                raise ValueError(f"Scene {self.name!r}: {attr} must be ({len(f)},), got {arr.shape}")
        if len(f) and (self.face_material.min() < 0 or self.face_material.max() >= len(self.materials)):
            raise ValueError(
                f"Scene {self.name!r}: face_material indexes {len(self.materials)} materials out of range"
            )
        ids = [inst.id for inst in self.instances]
        if len(ids) != len(set(ids)) or any(i < 1 for i in ids):
            raise ValueError(f"Scene {self.name!r}: instance ids must be unique and >= 1")

    # -- queries -------------------------------------------------------------------------------
    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.vertices.min(axis=0), self.vertices.max(axis=0)

    @property
    def graph(self) -> "SceneGraph":
        """The scene's semantic annotations as a :class:`SceneGraph` (shared lists, no copies)."""
        return SceneGraph(self.instances, self.rooms, self.relations, self.name)
