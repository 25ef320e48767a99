"""Assembling a house: structure (floors, ceilings, walls, door frames), furniture, annotations."""

from __future__ import annotations

import numpy as np

from navgym.scenes.prochouse.furnish import HouseContext, furnish
from navgym.scenes.prochouse.geometry import Box, MeshArrays, MeshBuilder, Part, lift
from navgym.scenes.prochouse.layout import DOOR_HEIGHT, WALL_THICKNESS, Door, FloorPlan, RoomPlan, plan_floor
from navgym.scenes.prochouse.library import Palette
from navgym.scenes.prochouse.materials import MaterialLibrary
from navgym.scenes.prochouse.planner import Placed, RoomPlanner
from navgym.scenes.prochouse.relations import proximity
from navgym.scenes.scene import Material, ObjectInstance, Relation, Room, Scene

GENERATOR_VERSION = 1
SLAB = 0.05
MAX_PICTURES = 12

#: Floor kinds per room type with their probabilities.
_FLOOR_KINDS = {
    "bathroom": {"tile": 1.0},
    "laundry": {"tile": 1.0},
    "kitchen": {"tile": 0.6, "wood": 0.4},
    "bedroom": {"carpet": 0.5, "wood": 0.5},
}
_DEFAULT_FLOOR = {"wood": 0.7, "tile": 0.15, "carpet": 0.15}
_FLOOR_COLOURS = {
    "wood": ("light brown", "brown", "dark brown", "beige"),
    "tile": ("white", "light grey", "grey", "beige", "terracotta", "dark grey"),
    "carpet": ("beige", "grey", "light grey", "cream", "blue", "brown", "sage green", "burgundy"),
}
_WALL_PAINTS = (
    "white", "cream", "light grey", "beige", "light blue", "sage green", "pale yellow", "pink", "light green",
    "light brown",
)
_WALL_TILES = ("white", "light blue", "light grey", "beige", "sage green")


class _Instances:
    """Instance ids in creation order, and the parts each one is made of."""

    def __init__(self, mesh: MeshBuilder):
        self.mesh = mesh
        self.items: list[ObjectInstance] = []
        #: Added to every part's height (the floor of the storey being built).
        self.dy = 0.0

    def add(
        self,
        category: str,
        room_id: int | None,
        parts: list[Part],
        attributes: dict,
        front: tuple[float, float] | None = None,
    ) -> int:
        """A new instance made of ``parts``; its bounding box is set from the triangles later."""
        instance_id = len(self.items) + 1
        for part in parts:
            self.mesh.add(lift(part, self.dy), instance_id)
        empty = np.zeros(3)
        self.items.append(ObjectInstance(instance_id, category, room_id, empty, empty.copy(), dict(attributes), front))
        return instance_id


def _choose(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    p = np.array([weights[n] for n in names])
    return names[int(rng.choice(len(names), p=p / p.sum()))]


#: Per room: ((floor kind, colour), (wall kind, colour)).
RoomFinishes = list[tuple[tuple[str, str], tuple[str, str]]]


def _room_finishes(rng: np.random.Generator, plan: FloorPlan) -> RoomFinishes:
    """Per room: ((floor kind, colour), (wall kind, colour)); wood floors share one colour."""
    wood = str(rng.choice(_FLOOR_COLOURS["wood"]))
    paints = [str(c) for c in rng.choice(_WALL_PAINTS, size=5, replace=False)]
    finishes = []
    for room in plan.rooms:
        kind = _choose(rng, _FLOOR_KINDS.get(room.type, _DEFAULT_FLOOR))
        colour = wood if kind == "wood" else str(rng.choice(_FLOOR_COLOURS[kind]))
        tiled = room.type == "bathroom" and rng.random() < 0.7
        wall = ("tile", str(rng.choice(_WALL_TILES))) if tiled else ("paint", str(rng.choice(paints)))
        finishes.append(((kind, colour), wall))
    return finishes


def _wall_boxes(room: RoomPlan, plan: FloorPlan, doors: list[Door]) -> list[tuple[float, ...]]:
    """(x0, z0, x1, z1) of this room's wall boxes: a ring around the interior, half a wall thick
    on shared walls and a whole wall thick outside, with gaps at the doors."""
    r, cell, foot = room.interior, room.cell, plan.footprint
    half = WALL_THICKNESS / 2
    edges = ((cell.z0, foot.z0), (cell.x0, foot.x0), (cell.z1, foot.z1), (cell.x1, foot.x1))
    thick = [WALL_THICKNESS if edge == outer else half for edge, outer in edges]
    x0, x1 = r.x0 - thick[1], r.x1 + thick[3]
    sides = {
        0: ("x", x0, x1, r.z0 - thick[0], r.z0),
        2: ("x", x0, x1, r.z1, r.z1 + thick[2]),
        1: ("z", r.z0, r.z1, r.x0 - thick[1], r.x0),
        3: ("z", r.z0, r.z1, r.x1, r.x1 + thick[3]),
    }
    boxes = []
    for side, (axis, a, b, c0, c1) in sides.items():
        gaps = sorted(d.span() for d in doors if d.side_in(room) == side)
        start = a
        for g0, g1 in gaps + [(b, b)]:
            if g0 - start > 1e-9:
                boxes.append((start, c0, g0, c1) if axis == "x" else (c0, start, c1, g0))
            start = g1
    return boxes


def _structure(
    instances: _Instances, library: MaterialLibrary, plan: FloorPlan, finishes: RoomFinishes, skip: frozenset[int] = frozenset()
) -> list[int]:
    """Floor, ceiling and wall instances per room (except the rooms in ``skip``, built elsewhere),
    then one door frame (lintel and threshold) per door; returns the door frames' instance ids."""
    height = plan.ceiling_height
    ceiling = library.surface("ceiling", "paint", "white")
    for room, ((floor_kind, floor_colour), (wall_kind, wall_colour)) in zip(plan.rooms, finishes):
        if room.id in skip:
            continue
        r = room.interior
        doors = [d for d in plan.doors if room.id in d.rooms]
        floor = library.surface("floor", floor_kind, floor_colour)
        wall = library.surface("wall", wall_kind, wall_colour)
        floor_slab = Box((r.x0, -SLAB, r.z0), (r.x1, 0.0, r.z1), floor)
        ceiling_slab = Box((r.x0, height, r.z0), (r.x1, height + SLAB, r.z1), ceiling)
        instances.add("floor", room.id, [floor_slab], {"color": floor_colour, "material": floor_kind})
        instances.add("ceiling", room.id, [ceiling_slab], {"color": "white", "material": "paint"})
        walls = [Box((x0, 0.0, z0), (x1, height, z1), wall) for x0, z0, x1, z1 in _wall_boxes(room, plan, doors)]
        instances.add("wall", room.id, walls, {"color": wall_colour, "material": wall_kind})
    trim = library.surface("trim", "paint", "white")
    frame_ids = []
    for door in plan.doors:
        a, b = door.span()
        c = door.center[1] if door.axis == "x" else door.center[0]
        lo, hi = (a, c - WALL_THICKNESS / 2), (b, c + WALL_THICKNESS / 2)
        (x0, z0), (x1, z1) = (lo, hi) if door.axis == "x" else ((lo[1], lo[0]), (hi[1], hi[0]))
        parts = [Box((x0, DOOR_HEIGHT, z0), (x1, height, z1), trim), Box((x0, -SLAB, z0), (x1, 0.0, z1), trim)]
        frame_ids.append(instances.add("door_frame", None, parts, {"color": "white", "material": "paint"}))
    return frame_ids


def _furnish_rooms(seed_sequence: np.random.SeedSequence, plan: FloorPlan, palette: Palette) -> list[RoomPlanner]:
    """Furnish every room with its own generator (rooms do not disturb each other's draws)."""
    house = HouseContext(has_laundry=any(r.type == "laundry" for r in plan.rooms), pictures_left=MAX_PICTURES)
    planners = []
    for room, child in zip(plan.rooms, seed_sequence.spawn(len(plan.rooms))):
        doors = [d for d in plan.doors if room.id in d.rooms]
        planner = RoomPlanner(room, doors, plan.ceiling_height, np.random.default_rng(child), palette)
        furnish(planner, house)
        planners.append(planner)
    return planners


def _add_objects(instances: _Instances, planners: list[RoomPlanner]) -> list[Relation]:
    """Object instances in placement order, and their relations."""
    relations: list[Relation] = []
    for planner in planners:
        ids: dict[int, int] = {}
        for placed in planner.objects:
            attributes = placed.model.attributes
            ids[id(placed)] = instances.add(placed.category, planner.room.id, placed.parts, attributes, placed.front)
        relations += [Relation(ids[id(a)], name, ids[id(b)]) for a, name, b in planner.relations]
        anchors: list[Placed] = [o for o in planner.objects if o.support is None]
        for i, name, j in proximity([(o.lo, o.hi) for o in anchors]):
            relations.append(Relation(ids[id(anchors[i])], name, ids[id(anchors[j])]))
    return relations


def _set_bounding_boxes(instances: list[ObjectInstance], mesh: MeshArrays) -> None:
    """Every instance's box from its triangles."""
    triangles = mesh.vertices[mesh.faces].astype(np.float64)
    count = len(instances) + 1
    lo = np.full((count, 3), np.inf)
    hi = np.full((count, 3), -np.inf)
    np.minimum.at(lo, mesh.face_instance, triangles.min(axis=1))
    np.maximum.at(hi, mesh.face_instance, triangles.max(axis=1))
    for inst in instances:
        inst.bbox_min, inst.bbox_max = lo[inst.id], hi[inst.id]


def _drop_unused_materials(materials: list[Material], mesh: MeshArrays) -> list[Material]:
    """The materials some triangle uses (models built but not placed leave others behind);
    renumbers ``mesh.face_material`` in place."""
    used, mesh.face_material = np.unique(mesh.face_material, return_inverse=True)
    mesh.face_material = mesh.face_material.astype(np.int32)
    return [materials[int(k)] for k in used]


def _door_records(plan: FloorPlan, frame_ids: list[int]) -> list[dict]:
    """``metadata["doors"]``: plain Python values only."""
    return [
        {
            "rooms": [int(d.rooms[0]), int(d.rooms[1])],
            "center": [float(d.center[0]), float(d.center[1])],
            "width": float(d.width),
            "height": DOOR_HEIGHT,
            "axis": d.axis,
            "instance": frame_id,
        }
        for d, frame_id in zip(plan.doors, frame_ids)
    ]


def build_house(seed: int, split: str | None) -> Scene:
    """The house of ``seed`` (already validated); ``split`` goes into the metadata."""
    layout_seq, material_seq, furnish_seq = np.random.SeedSequence(seed).spawn(3)
    plan = plan_floor(np.random.default_rng(layout_seq))
    material_rng = np.random.default_rng(material_seq)
    library = MaterialLibrary(material_rng)
    palette = Palette(material_rng, library)
    mesh = MeshBuilder(library.tile_sizes)
    instances = _Instances(mesh)
    frame_ids = _structure(instances, library, plan, _room_finishes(material_rng, plan))
    relations = _add_objects(instances, _furnish_rooms(furnish_seq, plan, palette))
    rooms = [Room(r.id, r.type, r.interior.as_tuple(), 0.0, r.name) for r in plan.rooms]
    return _finish(
        instances, library, rooms, relations, f"prochouse_{seed:07d}",
        {
            "generator": "prochouse",
            "generator_version": GENERATOR_VERSION,
            "seed": seed,
            "split": split,
            "ceiling_height": plan.ceiling_height,
            "wall_thickness": WALL_THICKNESS,
            "footprint": list(plan.footprint.as_tuple()),
            "doors": _door_records(plan, frame_ids),
        },
    )


def _finish(instances: _Instances, library: MaterialLibrary, rooms: list[Room], relations: list[Relation], name: str,
            metadata: dict) -> Scene:
    """Triangulate everything added to ``instances``, set the boxes, keep the used materials."""
    arrays = instances.mesh.build()
    _set_bounding_boxes(instances.items, arrays)
    materials = _drop_unused_materials(library.materials, arrays)
    return Scene(
        vertices=arrays.vertices,
        faces=arrays.faces,
        uvs=arrays.uvs,
        face_material=arrays.face_material,
        face_instance=arrays.face_instance,
        materials=materials,
        instances=instances.items,
        rooms=rooms,
        relations=relations,
        name=name,
        metadata=metadata,
    )
