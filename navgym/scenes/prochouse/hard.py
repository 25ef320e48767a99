"""Assembling a ProcHouseHard building: storeys stacked ``storey_height`` apart, stair halls with
straight flights, furniture per room (see :mod:`.building` for the plan).

Everything of storey k is built at y = 0 like a ProcHouse storey, then lifted by
``k * storey_height``. A stair flight is one ``stairs`` instance (structural, like walls): one
box per step from the lower floor slab's bottom up to its tread, and under the upper landing a
solid block up to the upper floor slab. Stair-hall walls on the lower storey rise to the upper
floor, so the double-height void over a flight shows no gap between storeys.

``Scene.metadata`` adds to ProcHouse's: ``storeys`` (floor heights), ``storey_height``,
``stairs`` (per flight: ``storeys`` [k, k + 1], ``strip`` (x0, z0, x1, z1), ``start`` and ``end``
(x of the first and last riser), ``direction``, ``risers``, ``riser``, ``tread`` and its
``instance``) and a ``storey`` per door. ``Room.floor_height`` is the storey's floor height.
"""

from __future__ import annotations

import numpy as np

from navgym.scenes.prochouse.building import SLAB, Building, Flight, StairHall, plan_building
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
HARD_GENERATOR_VERSION = 1
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


def _flight_side_door(hall: StairHall) -> Door:
    """A pseudo door across the strip where the landing meets the flight: the room planner keeps
    its clearance zone free, so no furniture stands at the foot or the head of the stairs."""
    landing, strip = hall.landing, hall.flight.strip
    # On the wall's would-be centre line, half a wall outside the landing (as real doors are).
    x = landing.x1 + WALL_THICKNESS / 2 if landing.x0 == strip.x0 else landing.x0 - WALL_THICKNESS / 2
    width = strip.depth - 0.3
    return Door((hall.room, -1), "z", (x, (strip.z0 + strip.z1) / 2), width)


def _stair_parts(flight: Flight, storey_height: float, material: int) -> list[Box]:
    """The flight's step boxes and the block under the upper landing, lower floor at y = 0."""
    z0, z1 = flight.strip.z0 + _STANDOFF, flight.strip.z1 - _STANDOFF
    parts = [Box((x0, -SLAB, z0), (x1, top, z1), material) for x0, x1, top in flight.steps()]
    upper = flight.upper_landing()
    parts.append(Box((upper.x0, -SLAB, z0), (upper.x1, storey_height - SLAB, z1), material))
    return parts


def _hall_structure(instances: _Instances, library: MaterialLibrary, building: Building, plan: FloorPlan, hall: StairHall,
                    finish: tuple[tuple[str, str], tuple[str, str]]) -> None:
    """Floor (the landing), walls, ceiling (upper halls) and, on the lower storey, the stairs."""
    (floor_kind, floor_colour), (wall_kind, wall_colour) = finish
    flight = hall.flight
    landing = hall.landing
    floor = library.surface("floor", floor_kind, floor_colour)
    wall = library.surface("wall", wall_kind, wall_colour)
    floor_slab = Box((landing.x0, -SLAB, landing.z0), (landing.x1, 0.0, landing.z1), floor)
    parts = [floor_slab]
    stairs = []
    if not hall.upper:
        stairs = _stair_parts(flight, building.storey_height, library.surface("floor", "wood", "brown"))
        parts = embed_touching(parts + stairs)
        floor_slab, stairs = parts[0], parts[1:]
    instances.add("floor", hall.room, [floor_slab], {"color": floor_colour, "material": floor_kind})
    if hall.upper:
        ceiling = library.surface("ceiling", "paint", "white")
        s = flight.strip
        slab = Box((s.x0, building.ceiling_height, s.z0), (s.x1, building.ceiling_height + SLAB, s.z1), ceiling)
        instances.add("ceiling", hall.room, [slab], {"color": "white", "material": "paint"})
    strip_room = RoomPlan(hall.room, "hallway", "", flight.cell, flight.strip)
    # Lower halls' walls rise to the upper floor: the void over the flight has no gap.
    height = building.ceiling_height if hall.upper else building.storey_height
    boxes = _wall_boxes(strip_room, plan, _hall_doors(hall, plan))
    instances.add("wall", hall.room, [Box((x0, 0.0, z0), (x1, height, z1), wall) for x0, z0, x1, z1 in boxes],
                  {"color": wall_colour, "material": wall_kind})
    if stairs:
        instances.add("stairs", hall.room, stairs, {"color": "brown", "material": "wood"})


def _planners(seed_sequence: np.random.SeedSequence, building: Building, k: int, palette: Palette,
              house: HouseContext) -> list[RoomPlanner]:
    plan = building.storeys[k]
    halls = {h.room: h for h in building.halls if h.room in {r.id for r in plan.rooms}}
    planners = []
    for room, child in zip(plan.rooms, seed_sequence.spawn(len(plan.rooms))):
        doors = [d for d in plan.doors if room.id in d.rooms]
        if room.id in halls:
            hall = halls[room.id]
            room = RoomPlan(room.id, room.type, room.name, room.cell, hall.landing)
            doors = doors + [_flight_side_door(hall)]
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
    return [
        {
            "storeys": [f.lower, f.lower + 1],
            "strip": [float(v) for v in f.strip.as_tuple()],
            "start": float(f.start),
            "end": float(f.end),
            "direction": int(f.direction),
            "risers": int(f.risers),
            "riser": float(f.riser),
            "tread": float(f.tread),
            "instance": int(i),
        }
        for f, i in zip(building.flights, instance_ids)
    ]


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
            _hall_structure(instances, library, building, plan, hall, by_room[hall.room])
            if not hall.upper:
                stair_ids[hall.flight.lower] = len(instances.items)
        relations += _add_objects(instances, _planners(storey_seqs[k], building, k, palette, house))
        doors += [dict(record, storey=k) for record in _door_records(plan, frame_ids)]
        for r in plan.rooms:
            hall = next((h for h in halls if h.room == r.id), None)
            bounds = r.interior if hall is None or hall.upper else hall.flight.lower_hall()
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
