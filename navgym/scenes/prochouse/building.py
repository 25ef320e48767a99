"""Multi-storey plans for ProcHouseHard: 8-20 rooms on 1-3 storeys joined by straight stair flights.

A building is drawn in four steps:

1. *Storeys and programme*: 1 to 3 storeys (weights 0.25 / 0.5 / 0.25), 8 to 20 rooms in all
   (one storey: 8-14, two: 10-20, three: 15-20, stair halls included).
   The ground storey holds the day rooms (living room, kitchen, a bathroom, often a dining room,
   an office or a laundry), upper storeys the bedrooms and bathrooms; storeys with more than five
   rooms get a hallway (a corridor: hallways may be six times longer than wide), and the rest
   are drawn like ProcHouse's extra rooms.
2. *Stair strips*: every flight between storey k and k + 1 runs along one long side of the
   rectangular footprint in a strip 1.1-1.3 m wide (inside the walls) that spans the footprint's
   whole length: the flight 0 -> 1 along z_min, the flight 1 -> 2 along z_max. On the lower storey
   the strip holds a landing, the flight (straight, 16-18 risers of at most ``MAX_RISER``) and,
   under the upper landing, a solid block; on the upper storey it holds the upper landing and a
   void over the flight (a double-height stair hall with walls on three sides). Each strip is a
   ``hallway`` room on each of the two storeys ("stairs" in its name).
3. *Partition*: each storey's footprint minus its strips is cut guillotine style like ProcHouse's
   (:func:`~navgym.scenes.prochouse.layout._partition`), independently per storey.
4. *Doors*: one randomised spanning tree per storey over its rooms and stair halls (a stair hall's
   doors open onto its landing only), so every room reaches every other through the stairs.

Storey k's floor is at ``k * storey_height``: ``storey_height`` is the ceiling height plus 0.2 m
(a 5 cm ceiling slab, 10 cm of structure and a 5 cm floor slab).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import DisjointSet

from navgym.scenes.prochouse.layout import (
    DOOR_CORNER_MARGIN,
    MIN_DOOR_SPAN,
    MIN_DOOR_WIDTH,
    PARTITION_BUDGET,
    ROOM_SPECS,
    WALL_THICKNESS,
    _HUB_ROOMS,
    _WET_ROOMS,
    Door,
    FloorPlan,
    Rect,
    RoomPlan,
    _names,
    _partition,
    _shared_span,
    _snap,
)

#: Risers are at most this high (a 0.2 m climb walks them; lower-climbing bodies cannot).
MAX_RISER = 0.18
#: Tread depth range, metres.
TREAD = (0.27, 0.3)
#: Stair strip interior width range, metres.
STAIR_WIDTH = (1.1, 1.3)
#: Landings are at least this long, metres.
MIN_LANDING = 1.2
#: Between a ceiling slab's top and the next storey's floor slab's bottom, metres.
STRUCTURE = 0.1
SLAB = 0.05
MAX_BUILDING_ATTEMPTS = 300
#: Partitions tried per storey (with new room areas) before the footprint is redrawn.
STOREY_ATTEMPTS = 40

_STOREY_WEIGHTS = {1: 0.25, 2: 0.5, 3: 0.25}
_GROUND_EXTRAS = {"dining_room": (1.5, 1), "office": (1.2, 1), "laundry": (1.0, 1), "bedroom": (1.0, 2), "bathroom": (0.6, 2),
                  "hallway": (0.6, 2)}
_UPPER_EXTRAS = {"bedroom": (3.0, 4), "bathroom": (1.3, 3), "office": (1.2, 2), "hallway": (0.6, 2), "laundry": (0.3, 1)}


@dataclass(frozen=True)
class Flight:
    """A straight flight from storey ``lower`` to ``lower + 1`` inside a stair strip.

    Attributes:
        lower: The storey it starts on.
        strip: The strip's interior (inside the walls), the same rectangle on both storeys.
        cell: The strip's partition cell (centre lines of its walls).
        direction: +1 if it climbs towards +x, -1 towards -x.
        start, end: x where the first riser stands and where the last riser (up to the upper floor)
            stands; the upper landing lies beyond ``end``.
        risers: Number of risers; ``riser`` their height and ``tread`` the tread depth.
    """

    lower: int
    strip: Rect
    cell: Rect
    direction: int
    start: float
    end: float
    risers: int
    riser: float
    tread: float

    def lower_landing(self) -> Rect:
        s = self.strip
        return Rect(s.x0, s.z0, self.start, s.z1) if self.direction > 0 else Rect(self.start, s.z0, s.x1, s.z1)

    def upper_landing(self) -> Rect:
        s = self.strip
        return Rect(self.end, s.z0, s.x1, s.z1) if self.direction > 0 else Rect(s.x0, s.z0, self.end, s.z1)

    def lower_hall(self) -> Rect:
        """The lower storey's stair hall: landing and flight."""
        s = self.strip
        return Rect(s.x0, s.z0, self.end, s.z1) if self.direction > 0 else Rect(self.end, s.z0, s.x1, s.z1)

    def steps(self) -> list[tuple[float, float, float]]:
        """(x0, x1, top) of every step box above the lower floor, top relative to it."""
        out = []
        for i in range(self.risers - 1):
            a = self.start + self.direction * i * self.tread
            b = a + self.direction * self.tread
            out.append((min(a, b), max(a, b), (i + 1) * self.riser))
        return out


@dataclass(frozen=True)
class StairHall:
    """A stair strip as a room of one storey: which flight, and whether its lower or upper end."""

    room: int
    flight: Flight
    upper: bool

    @property
    def landing(self) -> Rect:
        return self.flight.upper_landing() if self.upper else self.flight.lower_landing()


@dataclass(frozen=True)
class Building:
    """Storey plans (room ids unique across storeys), flights and stair halls."""

    storeys: tuple[FloorPlan, ...]
    storey_height: float
    ceiling_height: float
    footprint: Rect
    flights: tuple[Flight, ...]
    halls: tuple[StairHall, ...]

    def storey_of(self, room_id: int) -> int:
        for k, plan in enumerate(self.storeys):
            if any(r.id == room_id for r in plan.rooms):
                return k
        raise KeyError(room_id)


def _draw(rng: np.random.Generator, extras: dict[str, tuple[float, int]], types: list[str], n: int) -> list[str]:
    types = list(types)
    while len(types) < n:
        names = [t for t, (_, cap) in extras.items() if types.count(t) < cap] or list(extras)
        weights = np.array([extras[t][0] for t in names])
        types.append(names[int(rng.choice(len(names), p=weights / weights.sum()))])
    return types


def programme(rng: np.random.Generator, storeys: int) -> list[list[str]]:
    """Room types per storey (stair halls not included)."""
    halls = 2 * (storeys - 1)
    low, high = {1: (8, 14), 2: (10, 20), 3: (15, 20)}[storeys]
    total = int(rng.integers(low, high + 1))
    per = [0] * storeys
    left = total - halls
    for k in range(storeys):
        share = left // (storeys - k)
        per[k] = share
        left -= share
    per = per[::-1] if storeys > 1 and rng.random() < 0.5 else per
    out = []
    for k, n in enumerate(per):
        n = min(max(n, 3), 11)
        if k == 0:
            core = ["living_room", "kitchen", "bathroom"] + (["hallway"] if n > 6 else [])
            out.append(_draw(rng, _GROUND_EXTRAS, core, n))
        else:
            core = ["bedroom", "bathroom"] + (["hallway"] if n > 5 else [])
            out.append(_draw(rng, _UPPER_EXTRAS, core, n))
    return out


def _flight(rng: np.random.Generator, lower: int, cell: Rect, storey_height: float) -> Flight | None:
    strip = _snap(cell.inset(WALL_THICKNESS / 2))
    risers = int(math.ceil(storey_height / MAX_RISER - 1e-9))
    tread = round(float(rng.uniform(*TREAD)), 3)
    run = (risers - 1) * tread
    slack = strip.width - run - 2 * MIN_LANDING
    if slack < 0:
        return None
    direction = 1 if rng.random() < 0.5 else -1
    low = MIN_LANDING + float(rng.uniform(0.0, slack))
    if direction > 0:
        start = round(strip.x0 + low, 3)
        end = round(start + run, 6)
    else:
        start = round(strip.x1 - low, 3)
        end = round(start - run, 6)
    return Flight(lower, strip, cell, direction, start, end, risers, storey_height / risers, tread)


def _door_in(rng: np.random.Generator, a: RoomPlan, b: RoomPlan, shared, limits: dict[int, tuple[float, float]]) -> Door | None:
    """A door on the shared wall, kept within the landing spans of stair halls."""
    axis, line, lo, hi = shared
    for room in (a, b):
        if room.id in limits:
            if axis != "x":
                return None
            lo, hi = max(lo, limits[room.id][0]), min(hi, limits[room.id][1])
    room_span = hi - lo - 2 * DOOR_CORNER_MARGIN
    if room_span < MIN_DOOR_WIDTH:
        return None
    width = round(min(float(rng.uniform(MIN_DOOR_WIDTH, 1.05)), room_span), 3)
    c = lo + DOOR_CORNER_MARGIN + width / 2 + float(rng.uniform(0.0, max(0.0, room_span - width)))
    return Door((a.id, b.id), axis, (c, line) if axis == "x" else (line, c), width)


def _connect(rng: np.random.Generator, rooms: list[RoomPlan], limits: dict[int, tuple[float, float]]) -> list[Door] | None:
    """A randomised spanning tree of doors (hubs first, wet rooms last, stair halls like hubs),
    plus one extra door between dry rooms a third of the time."""
    candidates = []
    for i, a in enumerate(rooms):
        for b in rooms[i + 1 :]:
            shared = _shared_span(a, b)
            if shared is None or (a.id in limits and b.id in limits):
                continue
            door = _door_in(rng, a, b, shared, limits)
            if door is None:
                continue
            weight = float(rng.random())
            weight += 2.0 * sum(r.type in _WET_ROOMS for r in (a, b))
            weight -= 0.6 * sum(r.type in _HUB_ROOMS for r in (a, b))
            candidates.append((weight, a.id, b.id, door))
    candidates.sort(key=lambda e: (e[0], e[1], e[2]))
    components = DisjointSet([r.id for r in rooms])
    tree, spare = [], []
    wet = {r.id for r in rooms if r.type in _WET_ROOMS}
    for edge in candidates:
        if components.merge(edge[1], edge[2]):
            tree.append(edge[3])
        elif not ({edge[1], edge[2]} & wet):
            spare.append(edge[3])
    if len(tree) != len(rooms) - 1:
        return None
    if spare and rng.random() < 0.35:
        tree.append(spare[0])
    return tree


def plan_building(rng: np.random.Generator) -> Building:
    """A connected multi-storey plan of 8-20 rooms (see the module docstring)."""
    counts = np.array(list(_STOREY_WEIGHTS))
    weights = np.array(list(_STOREY_WEIGHTS.values()))
    storeys = int(rng.choice(counts, p=weights / weights.sum()))
    types = programme(rng, storeys)
    ceiling = round(float(rng.uniform(2.6, 2.8)), 2)
    storey_height = round(ceiling + 2 * SLAB + STRUCTURE, 2)
    half = WALL_THICKNESS / 2
    for _ in range(MAX_BUILDING_ATTEMPTS):
        areas = [[float(rng.uniform(*ROOM_SPECS[t].area)) for t in ts] for ts in types]
        stair_cell = round(float(rng.uniform(*STAIR_WIDTH)) + WALL_THICKNESS, 2)
        strips_on = [int(k < storeys - 1) + int(k > 0) for k in range(storeys)]
        # The biggest storey sets the footprint's width (its rooms' rectangle has an aspect of
        # 1-1.6); the depth fits every storey's rooms beside its strips. Smaller storeys' rooms
        # grow to fill it.
        rooms_area = [sum(a) + 0.4 * len(a) for a in areas]
        width = round(float(np.sqrt(max(rooms_area) * rng.uniform(1.0, 1.6))), 2)
        depth = round(max(area / width + s * stair_cell for area, s in zip(rooms_area, strips_on)), 2)
        footprint = Rect(0.0, 0.0, width, depth)
        flights = []
        for k in range(storeys - 1):
            cell = Rect(0.0, 0.0, width, stair_cell) if k % 2 == 0 else Rect(0.0, round(depth - stair_cell, 2), width, depth)
            flight = _flight(rng, k, cell, storey_height)
            if flight is None:
                break
            flights.append(flight)
        if len(flights) != storeys - 1:
            continue
        plans, halls, next_id, ok = [], [], 0, True
        for k in range(storeys):
            below = [f for f in flights if f.lower == k]
            above = [f for f in flights if f.lower + 1 == k]
            z0 = max([f.cell.z1 for f in below + above if f.cell.z0 == 0.0], default=0.0)
            z1 = min([f.cell.z0 for f in below + above if f.cell.z1 == depth], default=depth)
            rect = Rect(0.0, z0, width, z1)
            cells = None
            for _ in range(STOREY_ATTEMPTS):  # redraw this storey's areas, keeping the footprint
                order = [int(i) for i in rng.permutation(len(types[k]))]
                cells = _partition(rng, rect, [(i, types[k][i], areas[k][i]) for i in order], [PARTITION_BUDGET])
                if cells is not None:
                    break
                areas[k] = [float(rng.uniform(*ROOM_SPECS[t].area)) for t in types[k]]
            if cells is None:
                ok = False
                break
            names = _names(types[k])
            suffix = f" (floor {k})" if storeys > 1 else ""
            rooms = [
                RoomPlan(next_id + i, t, names[i] + suffix, cells[i], _snap(cells[i].inset(half)))
                for i, t in enumerate(types[k])
            ]
            limits: dict[int, tuple[float, float]] = {}
            for flight, upper in [(f, False) for f in below] + [(f, True) for f in above]:
                room_id = next_id + len(rooms)
                hall = StairHall(room_id, flight, upper)
                interior = flight.upper_landing() if upper else flight.lower_hall()
                end = "top" if upper else "bottom"
                rooms.append(RoomPlan(room_id, "hallway", f"stairs {flight.lower}-{flight.lower + 1} ({end}){suffix}",
                                      flight.cell, _snap(interior)))
                landing = hall.landing
                limits[room_id] = (landing.x0, landing.x1)
                halls.append(hall)
            doors = _connect(rng, rooms, limits)
            if doors is None:
                ok = False
                break
            plans.append(FloorPlan(tuple(rooms), tuple(doors), ceiling, footprint))
            next_id += len(rooms)
        if ok:
            return Building(tuple(plans), storey_height, ceiling, footprint, tuple(flights), tuple(halls))
    raise RuntimeError(f"plan_building: no valid plan for {types} after {MAX_BUILDING_ATTEMPTS} attempts")


__all__ = ["Building", "Flight", "StairHall", "plan_building", "programme", "MIN_DOOR_SPAN"]
