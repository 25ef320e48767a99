"""Assembling a ProcHouseHard building: storeys stacked ``storey_height`` apart, stair halls with
straight and L-shaped flights, furniture per room (see :mod:`.building` for the plan).

Everything of storey k is built at y = 0 like a ProcHouse storey, then lifted by
``k * storey_height``. A stair flight is one ``stairs`` instance (structural, like walls): one
box per step (and an L-shaped flight's quarter landing) from the lower floor slab's bottom up to
its tread, and under the upper landing a solid block up to the upper floor slab. Stair-hall walls
on the lower storey rise to the upper floor, so the double-height void over a flight shows no gap
between storeys. Under the upper storey's floor beside an L-shaped flight the lower hall has a
ceiling (from the ceiling height up to that floor); a ``railing`` instance (structural) closes
the runs' sides towards it, from the lower floor up to a balustrade's height above the upper
floor, and another the void at the first run's foot upstairs.

``Scene.metadata`` adds to ProcHouse's: ``storeys`` (floor heights), ``storey_height``,
``stairs`` (per flight: ``storeys`` [k, k + 1], ``shape`` ("straight" or "L"), ``strip`` (x0,
z0, x1, z1), ``start`` (x of the first riser), ``end`` (x of the last riser of a straight flight,
z of an L-shaped one's), ``direction`` (+1: climbs towards +x), ``inward`` (+1: the strip is
along z_min), ``width`` (of the runs), ``risers``, ``riser``, ``tread``, for L-shaped flights
``turn`` (risers up to the quarter landing) and ``quarter_landing`` (x0, z0, x1, z1), and its
``instance``) and a ``storey`` and ``width`` per door. ``Room.floor_height`` is the storey's
floor height.
"""

from __future__ import annotations

import numpy as np

from navgym.scenes.prochouse.building import RAILING_HEIGHT, SLAB, Building, Flight, StairHall, plan_building
from navgym.scenes.prochouse.furnish import HouseContext, furnish
from navgym.scenes.prochouse.geometry import Box, MeshBuilder, embed_touching
from navgym.scenes.prochouse.house import (
    MAX_PICTURES,
    _add_objects,
    _door_records,
    _finish,
    _Instances,
    _room_finishes,
    _structure,
    _wall_boxes,
)
from navgym.scenes.prochouse.layout import WALL_THICKNESS, Door, FloorPlan, RoomPlan
from navgym.scenes.prochouse.library import Palette
from navgym.scenes.prochouse.materials import MaterialLibrary
from navgym.scenes.prochouse.planner import RoomPlanner
from navgym.scenes.scene import Room, Scene

#: Bump when ProcHouseHard buildings change: caches and datasets of older versions are not reused.
HARD_GENERATOR_VERSION = 2
#: What every room of a type holds (ProcHouse's priors); a room missing one is furnished again.
ESSENTIALS = {
    "kitchen": {"stove", "refrigerator", "sink", "counter"},
    "office": {"desk", "chair"},
    "laundry": {"washing_machine"},
    "bathroom": {"toilet"},
    "bedroom": {"bed"},
}
_FURNISH_TRIES = 4
#: Steps and blocks stand this far off the stair hall's side walls (no shared planes).
_STANDOFF = 0.002


def _hall_doors(hall: StairHall, plan: FloorPlan) -> list[Door]:
    return [d for d in plan.doors if hall.room in d.rooms]


def _stair_parts(flight: Flight, material: int) -> list[Box]:
    """The flight's solid parts (see :meth:`Flight.boxes`), lower floor at y = 0, standing
    ``_STANDOFF`` off the strip's walls."""
    s = flight.strip
    parts = []
    for r, top in flight.boxes():
        x0, z0 = max(r.x0, s.x0 + _STANDOFF), max(r.z0, s.z0 + _STANDOFF)
        x1, z1 = min(r.x1, s.x1 - _STANDOFF), min(r.z1, s.z1 - _STANDOFF)
        parts.append(Box((x0, -SLAB, z0), (x1, top, z1), material))
    return parts


def _hall_structure(instances: _Instances, library: MaterialLibrary, building: Building, plan: FloorPlan, hall: StairHall,
                    finish: tuple[tuple[str, str], tuple[str, str]]) -> int | None:
    """Floor, walls, ceiling (upper halls; lower halls under the upper floor beside an L-shaped
    flight), railings and, on the lower storey, the stairs; returns the stairs' instance id."""
    (floor_kind, floor_colour), (wall_kind, wall_colour) = finish
    flight = hall.flight
    floor = library.surface("floor", floor_kind, floor_colour)
    wall = library.surface("wall", wall_kind, wall_colour)
    ceiling = library.surface("ceiling", "paint", "white")
    areas = flight.upper_floor() if hall.upper else flight.lower_floor()
    slabs = [Box((r.x0, -SLAB, r.z0), (r.x1, 0.0, r.z1), floor) for r in areas]
    stairs = []
    if not hall.upper:
        stairs = _stair_parts(flight, library.surface("floor", "wood", "brown"))
        parts = embed_touching(slabs + stairs)
        slabs, stairs = parts[: len(slabs)], parts[len(slabs) :]
    instances.add("floor", hall.room, slabs, {"color": floor_colour, "material": floor_kind})
    s = flight.strip
    if hall.upper:
        slab = Box((s.x0, building.ceiling_height, s.z0), (s.x1, building.ceiling_height + SLAB, s.z1), ceiling)
        instances.add("ceiling", hall.room, [slab], {"color": "white", "material": "paint"})
    elif flight.shape == "L":
        # Up to the upper floor slab's bottom: no gap shows at the void's edge.
        top = building.storey_height - SLAB
        boxes = [Box((r.x0, building.ceiling_height, r.z0), (r.x1, top, r.z1), ceiling) for r in flight.lower_floor()]
        instances.add("ceiling", hall.room, boxes, {"color": "white", "material": "paint"})
    strip_room = RoomPlan(hall.room, "hallway", "", flight.cell, flight.strip)
    # Lower halls' walls rise to the upper floor: the void over the flight has no gap.
    height = building.ceiling_height if hall.upper else building.storey_height
    boxes = _wall_boxes(strip_room, plan, _hall_doors(hall, plan))
    instances.add("wall", hall.room, [Box((x0, 0.0, z0), (x1, height, z1), wall) for x0, z0, x1, z1 in boxes],
                  {"color": wall_colour, "material": wall_kind})
    stairs_id = instances.add("stairs", hall.room, stairs, {"color": "brown", "material": "wood"}) if stairs else None
    # (footprint, bottom, top): upstairs a balustrade on the floor, downstairs the runs' side walls.
    railings = [(r, 0.0, RAILING_HEIGHT) for r in flight.railings()] if hall.upper else [(r, -SLAB, h) for r, h in flight.stringers()]
    if railings:
        trim = library.surface("trim", "paint", "white")
        boxes = [Box((r.x0, y0, r.z0), (r.x1, y1, r.z1), trim) for r, y0, y1 in railings]
        instances.add("railing", hall.room, boxes, {"color": "white", "material": "paint"})
    return stairs_id


def _planners(seed_sequence: np.random.SeedSequence, building: Building, k: int, palette: Palette,
              house: HouseContext) -> list[RoomPlanner]:
    plan = building.storeys[k]
    halls = {h.room: h for h in building.halls if h.room in {r.id for r in plan.rooms}}
    planners = []
    for room, child in zip(plan.rooms, seed_sequence.spawn(len(plan.rooms))):
        doors = [d for d in plan.doors if room.id in d.rooms]
        if room.id in halls:
            hall = halls[room.id]
            room = RoomPlan(room.id, room.type, room.name, room.cell, hall.furnishable)
            doors = doors + hall.flight.open_edges(hall.upper, hall.room)
        # A room whose essentials did not fit (rare: a kitchen's refrigerator after its run) is
        # furnished again with the next draws of its own generator.
        rng = np.random.default_rng(child)
        for _ in range(_FURNISH_TRIES):
            planner = RoomPlanner(room, doors, building.ceiling_height, rng, palette)
            furnish(planner, house)
            if ESSENTIALS.get(room.type, set()) <= {o.category for o in planner.objects}:
                break
        planners.append(planner)
    return planners


def _stairs_records(building: Building, instance_ids: list[int]) -> list[dict]:
    return [dict(f.record(), instance=int(i)) for f, i in zip(building.flights, instance_ids)]


def build_hard_house(seed: int, split: str | None) -> Scene:
    """The ProcHouseHard building of ``seed`` (already validated); ``split`` goes into the metadata."""
    layout_seq, material_seq, furnish_seq = np.random.SeedSequence([seed, 0x4A5D]).spawn(3)
    building = plan_building(np.random.default_rng(layout_seq))
    material_rng = np.random.default_rng(material_seq)
    library = MaterialLibrary(material_rng)
    palette = Palette(material_rng, library)
    mesh = MeshBuilder(library.tile_sizes)
    instances = _Instances(mesh)
    all_rooms = [r for plan in building.storeys for r in plan.rooms]
    has_laundry = any(r.type == "laundry" for r in all_rooms)
    house = HouseContext(has_laundry=has_laundry, pictures_left=2 * MAX_PICTURES)
    storey_seqs = furnish_seq.spawn(len(building.storeys))
    doors, relations, rooms, stair_ids = [], [], [], {}
    for k, plan in enumerate(building.storeys):
        instances.dy = k * building.storey_height
        finishes = _room_finishes(material_rng, plan)
        halls = [h for h in building.halls if h.room in {r.id for r in plan.rooms}]
        frame_ids = _structure(instances, library, plan, finishes, skip=frozenset(h.room for h in halls))
        by_room = {r.id: f for r, f in zip(plan.rooms, finishes)}
        for hall in halls:
            stairs_id = _hall_structure(instances, library, building, plan, hall, by_room[hall.room])
            if not hall.upper:
                stair_ids[hall.flight.lower] = stairs_id
        relations += _add_objects(instances, _planners(storey_seqs[k], building, k, palette, house))
        doors += [dict(record, storey=k) for record in _door_records(plan, frame_ids)]
        for r in plan.rooms:
            hall = next((h for h in halls if h.room == r.id), None)
            bounds = r.interior if hall is None else hall.interior
            rooms.append(Room(r.id, r.type, bounds.as_tuple(), round(instances.dy, 6), r.name))
    instances.dy = 0.0
    heights = [round(k * building.storey_height, 6) for k in range(len(building.storeys))]
    return _finish(
        instances, library, rooms, relations, f"prochousehard_{seed:07d}",
        {
            "generator": "prochouse_hard",
            "generator_version": HARD_GENERATOR_VERSION,
            "seed": seed,
            "split": split,
            "ceiling_height": building.ceiling_height,
            "storey_height": building.storey_height,
            "storeys": heights,
            "wall_thickness": WALL_THICKNESS,
            "footprint": list(building.footprint.as_tuple()),
            "doors": doors,
            "stairs": _stairs_records(building, [stair_ids[f.lower] for f in building.flights]),
        },
    )


__all__ = ["HARD_GENERATOR_VERSION", "build_hard_house"]
