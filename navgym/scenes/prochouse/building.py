"""Multi-storey plans for ProcHouseHard: 8-20 rooms on 1-3 storeys joined by straight and
L-shaped stair flights, with some narrow doors.

A building is drawn in four steps:

1. *Storeys and programme*: 1 to 3 storeys (weights 0.25 / 0.5 / 0.25), 8 to 20 rooms in all
   (one storey: 8-14, two: 10-20, three: 15-20, stair halls included).
   The ground storey holds the day rooms (living room, kitchen, a bathroom, often a dining room,
   an office or a laundry), upper storeys the bedrooms and bathrooms; storeys with more than five
   rooms get a hallway (a corridor: hallways may be six times longer than wide), and the rest
   are drawn like ProcHouse's extra rooms.
2. *Stair strips*: every flight between storey k and k + 1 lies in a strip that spans the
   rectangular footprint's whole length along one long side: the flight 0 -> 1 along z_min, the
   flight 1 -> 2 along z_max. Each strip is a ``hallway`` room on each of the two storeys
   ("stairs" in its name). Half the flights (``L_SHARE``) are L-shaped, the rest straight; both
   have 16-18 risers of at most ``MAX_RISER`` and treads of ``TREAD``.

   * A *straight* flight's strip is 1.1-1.3 m wide (inside the walls). On the lower storey it
     holds a landing, the flight and, under the upper landing, a solid block; on the upper storey
     the upper landing and a void over the flight (a double-height stair hall with walls on three
     sides).
   * An *L-shaped* flight runs along the strip's outer wall (a run 1.1-1.3 m wide) to a quarter
     landing in the strip's far corner, turns a quarter and climbs ``SECOND_RUN`` risers along
     the end wall to an upper landing (a solid block below it). Its strip is deeper (the
     second run, plus a landing of at least ``MIN_LANDING``): the rest of it is a stair hall
     at the lower floor (the *well*) with the upper storey's floor above it. A wall closes the
     runs' sides towards the well, from the lower floor to a balustrade's height
     (``RAILING_HEIGHT``) above the upper floor; a balustrade closes the void at the first run's
     foot upstairs.
3. *Partition*: each storey's footprint minus its strips is cut guillotine style like ProcHouse's
   (:func:`~navgym.scenes.prochouse.layout._partition`), independently per storey.
4. *Doors*: one randomised spanning tree per storey over its rooms and stair halls (a stair hall's
   doors open onto its floor at the door's storey only), so every room reaches every other through
   the stairs; half the storeys (``EXTRA_DOOR_SHARE``) get one extra door between dry rooms. A door between two
   rooms that are not stair halls is *narrow* (``NARROW_DOOR``: 0.44-0.48 m) with probability
   ``NARROW_SHARE`` when it is the extra door, a short cut: bodies of radius 0.22 m and more (the
   Unitree H1) cannot pass and go round, the default body (0.18 m) and smaller ones pass.

Storey k's floor is at ``k * storey_height``: ``storey_height`` is the ceiling height plus 0.2 m
(a 5 cm ceiling slab, 10 cm of structure and a 5 cm floor slab).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

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
#: Share of flights that are L-shaped (a quarter landing, then ``SECOND_RUN`` risers).
L_SHARE = 0.5
#: Risers after an L-shaped flight's quarter landing (inclusive range).
SECOND_RUN = (4, 7)
#: Balustrade height and thickness along the void over an L-shaped flight and along its runs'
#: open sides, metres (at least two grid cells thick: navigation grids sample every 5 cm).
RAILING_HEIGHT = 0.95
RAILING_THICKNESS = 0.1
#: Width range of narrow doors, metres, and the chance that a storey's extra door is narrow.
NARROW_DOOR = (0.44, 0.48)
NARROW_SHARE = 0.6
#: The chance that a storey gets an extra door (a loop) between dry rooms.
EXTRA_DOOR_SHARE = 0.5
MAX_BUILDING_ATTEMPTS = 300
#: Partitions tried per storey (with new room areas) before the footprint is redrawn.
STOREY_ATTEMPTS = 40

_STOREY_WEIGHTS = {1: 0.25, 2: 0.5, 3: 0.25}
_GROUND_EXTRAS = {"dining_room": (1.5, 1), "office": (1.2, 1), "laundry": (1.0, 1), "bedroom": (1.0, 2), "bathroom": (0.6, 2),
                  "hallway": (0.6, 2)}
_UPPER_EXTRAS = {"bedroom": (3.0, 4), "bathroom": (1.3, 3), "office": (1.2, 2), "hallway": (0.6, 2), "laundry": (0.3, 1)}


@dataclass(frozen=True)
class Flight:
    """A flight from storey ``lower`` to ``lower + 1`` inside a stair strip, straight or L-shaped.

    Positions along the flight use a local frame: ``u`` along x from the strip's foot end (the
    end it climbs away from), ``v`` along z from the strip's outer wall (the footprint's side).

    Attributes:
        lower: The storey it starts on.
        strip: The strip's interior (inside the walls), the same rectangle on both storeys.
        cell: The strip's partition cell (centre lines of its walls).
        direction: +1 if it climbs towards +x, -1 towards -x.
        start, end: x where the first riser stands and, for a straight flight, x where the last
            riser (up to the upper floor) stands (the upper landing lies beyond it); for an
            L-shaped one, z of the last riser.
        risers: Number of risers; ``riser`` their height and ``tread`` the tread depth.
        shape: ``"straight"`` or ``"L"``.
        inward: +1 if the strip lies along the footprint's z_min side (v grows with z), -1 along
            z_max.
        width: Width of the runs (the strip's depth for a straight flight).
        turn: Risers up to the quarter landing of an L-shaped flight (``risers`` if straight).
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
    shape: str = "straight"
    inward: int = 1
    width: float = 0.0
    turn: int = 0

    # -- the local frame ----------------------------------------------------------------------
    @property
    def length(self) -> float:
        """The strip's length along the flight (u)."""
        return self.strip.width

    @property
    def span(self) -> float:
        """The strip's depth across the flight (v)."""
        return self.strip.depth

    def rect(self, u0: float, v0: float, u1: float, v1: float) -> Rect:
        """The world rectangle of local ``u0 <= u <= u1``, ``v0 <= v <= v1``."""
        s = self.strip
        xa, xb = (s.x0 + u0, s.x0 + u1) if self.direction > 0 else (s.x1 - u1, s.x1 - u0)
        za, zb = (s.z0 + v0, s.z0 + v1) if self.inward > 0 else (s.z1 - v1, s.z1 - v0)
        return Rect(round(xa, 6), round(za, 6), round(xb, 6), round(zb, 6))

    @property
    def corner_u(self) -> float:
        """u where an L-shaped flight's quarter landing (and its second run) begins."""
        return self.length - self.width

    @property
    def start_u(self) -> float:
        return abs(self.start - (self.strip.x0 if self.direction > 0 else self.strip.x1))

    @property
    def top_v(self) -> float:
        """v of an L-shaped flight's last riser."""
        return self.width + (self.risers - self.turn - 1) * self.tread

    # -- parts --------------------------------------------------------------------------------
    def lower_landing(self) -> Rect:
        """Where the flight starts, on the lower storey."""
        if self.shape == "L":
            return self.rect(0.0, 0.0, self.start_u, self.width)
        s = self.strip
        return Rect(s.x0, s.z0, self.start, s.z1) if self.direction > 0 else Rect(self.start, s.z0, s.x1, s.z1)

    def upper_landing(self) -> Rect:
        """Where the flight arrives, on the upper storey (a solid block under it)."""
        if self.shape == "L":
            return self.rect(self.corner_u, self.top_v, self.length, self.span)
        s = self.strip
        return Rect(self.end, s.z0, s.x1, s.z1) if self.direction > 0 else Rect(s.x0, s.z0, self.end, s.z1)

    def well(self) -> Rect:
        """An L-shaped flight's hall beside its runs: lower floor below, upper floor above."""
        return self.rect(0.0, self.width, self.corner_u, self.span)

    def quarter_landing(self) -> Rect:
        """An L-shaped flight's quarter landing, in the strip's far corner."""
        return self.rect(self.corner_u, 0.0, self.length, self.width)

    def lower_floor(self) -> list[Rect]:
        """The lower storey's floor in the strip."""
        return [self.lower_landing(), self.well()] if self.shape == "L" else [self.lower_landing()]

    def upper_floor(self) -> list[Rect]:
        """The upper storey's floor in the strip (the rest is the void over the flight)."""
        if self.shape == "L":
            return [self.upper_landing(), self.well(), self.lower_landing()]
        return [self.upper_landing()]

    def lower_hall(self) -> Rect:
        """The lower storey's stair hall: landing and flight (an L-shaped flight's: the strip)."""
        if self.shape == "L":
            return self.strip
        s = self.strip
        return Rect(s.x0, s.z0, self.end, s.z1) if self.direction > 0 else Rect(self.end, s.z0, s.x1, s.z1)

    def upper_hall(self) -> Rect:
        """The upper storey's stair hall (its room bounds)."""
        return self.strip if self.shape == "L" else self.upper_landing()

    def door_span(self, upper: bool) -> tuple[float, float]:
        """The x-range of the strip's inner wall that doors of the lower or upper hall may use
        (an L-shaped flight's: the well's, on both storeys)."""
        if self.shape == "L":
            r = self.well()
        else:
            r = self.upper_landing() if upper else self.lower_landing()
        return (r.x0, r.x1)

    def boxes(self) -> list[tuple[Rect, float]]:
        """(footprint, top) of every solid part above the lower floor, top relative to it: the
        steps, an L-shaped flight's quarter landing, and the block under the upper landing (up
        to the upper floor slab's bottom)."""
        out = []
        if self.shape == "L":
            a = self.start_u
            for i in range(self.turn - 1):
                out.append((self.rect(a + i * self.tread, 0.0, a + (i + 1) * self.tread, self.width), (i + 1) * self.riser))
            out.append((self.quarter_landing(), self.turn * self.riser))
            for j in range(self.risers - self.turn - 1):
                v = self.width + j * self.tread
                out.append((self.rect(self.corner_u, v, self.length, v + self.tread), (self.turn + j + 1) * self.riser))
        else:
            s = self.strip
            for i in range(self.risers - 1):
                a = self.start + self.direction * i * self.tread
                b = a + self.direction * self.tread
                out.append((Rect(min(a, b), s.z0, max(a, b), s.z1), (i + 1) * self.riser))
        out.append((self.upper_landing(), self.risers * self.riser - SLAB))
        return out

    def stringers(self) -> list[tuple[Rect, float]]:
        """(footprint, top) of the walls along an L-shaped flight's open sides (towards the well),
        from the lower floor to ``RAILING_HEIGHT`` above the upper floor: downstairs the stairs'
        side, upstairs the balustrade along the void. One height all along: a top that stepped
        with the treads would itself be a staircase, walkable on a navigation grid of the upper
        storey (down to 1 m beside the treads it hides from the grid's clearance)."""
        if self.shape != "L":
            return []
        t, a, corner = RAILING_THICKNESS, self.start_u, self.corner_u
        top = self.risers * self.riser + RAILING_HEIGHT
        return [
            (self.rect(a, self.width - t, corner, self.width), top),  # along the first run
            (self.rect(corner, self.width, corner + t, self.top_v), top),  # along the second run
        ]

    def railings(self) -> list[Rect]:
        """Footprints of the upper storey's balustrade across the foot of an L-shaped flight's
        first run (its sides are the :meth:`stringers`)."""
        if self.shape != "L":
            return []
        return [self.rect(self.start_u - RAILING_THICKNESS, 0.0, self.start_u, self.width)]

    def open_edges(self, upper: bool, room: int) -> list[Door]:
        """Pseudo doors (from ``room`` to -1) on the edges of the hall's furnishable rectangle that are not
        walls (the foot of the stairs, the stairs' sides, the void): the room planner keeps them
        free and hangs nothing there."""
        half = WALL_THICKNESS / 2
        if self.shape != "L":
            landing = self.upper_landing() if upper else self.lower_landing()
            s = self.strip
            x = landing.x1 + half if landing.x0 == s.x0 else landing.x0 - half
            return [Door((room, -1), "z", (x, (s.z0 + s.z1) / 2), s.depth - 0.3)]
        well = self.well()
        # The well's edge towards the outer wall (landing and first run), and towards the end
        # wall (second run, and upstairs the upper landing).
        z = well.z0 - half if self.inward > 0 else well.z1 + half
        x = well.x1 + half if self.direction > 0 else well.x0 - half
        return [
            Door((room, -1), "x", ((well.x0 + well.x1) / 2, z), well.width),
            Door((room, -1), "z", (x, (well.z0 + well.z1) / 2), well.depth),
        ]

    def record(self) -> dict:
        """The flight as scene metadata (see :mod:`.hard`)."""
        out = {
            "storeys": [self.lower, self.lower + 1],
            "shape": self.shape,
            "strip": [float(v) for v in self.strip.as_tuple()],
            "start": float(self.start),
            "end": float(self.end),
            "direction": int(self.direction),
            "inward": int(self.inward),
            "width": float(self.width),
            "risers": int(self.risers),
            "riser": float(self.riser),
            "tread": float(self.tread),
        }
        if self.shape == "L":
            out["turn"] = int(self.turn)
            out["quarter_landing"] = [float(v) for v in self.quarter_landing().as_tuple()]
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

    @property
    def furnishable(self) -> Rect:
        """Where the room planner may place things: the landing, or an L-shaped flight's well."""
        return self.flight.well() if self.flight.shape == "L" else self.landing

    @property
    def interior(self) -> Rect:
        """The hall's room bounds."""
        return self.flight.upper_hall() if self.upper else self.flight.lower_hall()


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


def _flight_shape(rng: np.random.Generator, storey_height: float) -> dict:
    """A flight's shape, run width, risers, turn and tread (drawn before the footprint: an
    L-shaped flight's strip is deeper), and its cell's depth."""
    risers = int(math.ceil(storey_height / MAX_RISER - 1e-9))
    tread = round(float(rng.uniform(*TREAD)), 3)
    width = round(float(rng.uniform(*STAIR_WIDTH)), 2)
    if rng.random() < L_SHARE:
        second = int(rng.integers(SECOND_RUN[0], SECOND_RUN[1] + 1))
        shape, turn = "L", risers - second
        inner = width + (second - 1) * tread + MIN_LANDING
    else:
        shape, turn, inner = "straight", risers, width
    cell = math.ceil((inner + WALL_THICKNESS) * 100 - 1e-6) / 100
    return {"shape": shape, "width": width, "risers": risers, "turn": turn, "tread": tread, "cell": cell}


def _flight(rng: np.random.Generator, lower: int, cell: Rect, storey_height: float, shape: dict, inward: int) -> Flight | None:
    strip = _snap(cell.inset(WALL_THICKNESS / 2))
    risers, tread = shape["risers"], shape["tread"]
    direction = 1 if rng.random() < 0.5 else -1
    foot = strip.x0 if direction > 0 else strip.x1
    if shape["shape"] == "L":
        width = min(shape["width"], strip.depth)
        run = (shape["turn"] - 1) * tread
        start_u = strip.width - width - run
        if start_u < MIN_LANDING:
            return None
        start = round(foot + direction * start_u, 6)
        top_v = width + (risers - shape["turn"] - 1) * tread
        end = round(strip.z0 + top_v if inward > 0 else strip.z1 - top_v, 6)
        return Flight(lower, strip, cell, direction, start, end, risers, storey_height / risers, tread, "L", inward, width,
                      shape["turn"])
    run = (risers - 1) * tread
    slack = strip.width - run - 2 * MIN_LANDING
    if slack < 0:
        return None
    low = MIN_LANDING + float(rng.uniform(0.0, slack))
    start = round(foot + direction * low, 3)
    end = round(start + direction * run, 6)
    return Flight(lower, strip, cell, direction, start, end, risers, storey_height / risers, tread, "straight", inward,
                  strip.depth, risers)


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
    plus one extra door between dry rooms (``EXTRA_DOOR_SHARE``), often narrow."""
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
    if spare and rng.random() < EXTRA_DOOR_SHARE:
        door = spare[0]
        if not set(door.rooms) & set(limits) and rng.random() < NARROW_SHARE:
            door = replace(door, width=round(float(rng.uniform(*NARROW_DOOR)), 3))
        tree.append(door)
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
        shapes = [_flight_shape(rng, storey_height) for _ in range(storeys - 1)]
        # Storey k holds the strips of the flights below and above it.
        strips_on = [[s["cell"] for j, s in enumerate(shapes) if j in (k - 1, k)] for k in range(storeys)]
        # The biggest storey sets the footprint's width (its rooms' rectangle has an aspect of
        # 1-1.6); the depth fits every storey's rooms beside its strips. Smaller storeys' rooms
        # grow to fill it.
        rooms_area = [sum(a) + 0.4 * len(a) for a in areas]
        width = round(float(np.sqrt(max(rooms_area) * rng.uniform(1.0, 1.6))), 2)
        depth = round(max(area / width + sum(s) for area, s in zip(rooms_area, strips_on)), 2)
        footprint = Rect(0.0, 0.0, width, depth)
        flights = []
        for k, shape in enumerate(shapes):
            c = shape["cell"]
            cell = Rect(0.0, 0.0, width, c) if k % 2 == 0 else Rect(0.0, round(depth - c, 2), width, depth)
            flight = _flight(rng, k, cell, storey_height, shape, 1 if k % 2 == 0 else -1)
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
                end = "top" if upper else "bottom"
                rooms.append(RoomPlan(room_id, "hallway", f"stairs {flight.lower}-{flight.lower + 1} ({end}){suffix}",
                                      flight.cell, _snap(hall.interior)))
                limits[room_id] = flight.door_span(upper)
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


__all__ = ["Building", "Flight", "StairHall", "plan_building", "programme", "MIN_DOOR_SPAN", "NARROW_DOOR"]
