"""Floor plans: a room programme, a guillotine partition of the footprint, and doors.

A plan is drawn in three steps:

1. *Programme*: the number of rooms and their types (always a bathroom; from 4 rooms on, at least
   a living room, a kitchen, a bedroom and a bathroom), with a target area per room.
2. *Partition*: the rectangular footprint (area = the sum of the targets) is cut recursively; each
   cut splits the remaining rooms into two groups and the rectangle proportionally to their areas,
   across its longer side. Plans whose rooms are too narrow or too elongated are redrawn.
3. *Doors*: rooms whose walls share at least ``MIN_DOOR_SPAN`` become door candidates; a randomised
   Kruskal spanning tree (hubs such as hallways first, wet rooms last so they tend to be leaves)
   connects every room, sometimes with one extra door.

Walls are ``WALL_THICKNESS`` thick and centred on the cuts, so each room's interior is its cell
inset by half a wall; the outer walls are as thick and stick out of the footprint by half a wall.

The four *sides* of a room are numbered like the quarter turn (see
:class:`~navgym.scenes.prochouse.geometry.Pose`) of something backed onto that wall and facing
into the room: 0 = the wall at z_min, 1 = at x_min, 2 = at z_max, 3 = at x_max.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WALL_THICKNESS = 0.1
DOOR_HEIGHT = 2.1
MIN_DOOR_WIDTH = 0.9
#: Distance kept between a door opening and the room's corner.
DOOR_CORNER_MARGIN = 0.12
MIN_DOOR_SPAN = MIN_DOOR_WIDTH + 2 * DOOR_CORNER_MARGIN
MAX_LAYOUT_ATTEMPTS = 400
#: Recursive cut attempts per partition before the footprint is redrawn.
PARTITION_BUDGET = 60


@dataclass(frozen=True)
class RoomSpec:
    """Target interior area range (m^2), minimum interior side (m) and maximum aspect ratio."""

    area: tuple[float, float]
    min_side: float
    max_aspect: float


ROOM_SPECS: dict[str, RoomSpec] = {
    "living_room": RoomSpec((17.0, 28.0), 3.4, 1.9),
    "kitchen": RoomSpec((9.0, 16.0), 2.7, 2.1),
    "dining_room": RoomSpec((10.0, 16.0), 3.1, 1.8),
    "bedroom": RoomSpec((10.0, 17.0), 2.9, 1.8),
    "bathroom": RoomSpec((4.5, 8.0), 1.8, 2.2),
    "office": RoomSpec((8.0, 12.0), 2.5, 1.9),
    "hallway": RoomSpec((4.5, 9.0), 1.3, 6.0),
    "laundry": RoomSpec((3.5, 6.0), 1.7, 2.2),
}

_ROOM_COUNT_WEIGHTS = {3: 0.08, 4: 0.14, 5: 0.17, 6: 0.17, 7: 0.15, 8: 0.12, 9: 0.09, 10: 0.08}
#: Extra room types beyond the core four: (weight, maximum count in a house).
_EXTRA_ROOMS = {
    "bedroom": (3.0, 4),
    "bathroom": (1.5, 3),
    "office": (1.5, 2),
    "dining_room": (1.5, 1),
    "hallway": (1.2, 2),
    "laundry": (1.0, 1),
}
_WET_ROOMS = ("bathroom", "laundry")
_HUB_ROOMS = ("hallway", "living_room", "dining_room")


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle (x0, z0, x1, z1)."""

    x0: float
    z0: float
    x1: float
    z1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def depth(self) -> float:
        return self.z1 - self.z0

    def inset(self, margin: float) -> Rect:
        return Rect(self.x0 + margin, self.z0 + margin, self.x1 - margin, self.z1 - margin)

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x0, self.z0, self.x1, self.z1)


@dataclass(frozen=True)
class RoomPlan:
    """A room of the plan: id, type, display name, its partition cell and its interior."""

    id: int
    type: str
    name: str
    cell: Rect
    interior: Rect


@dataclass(frozen=True)
class Door:
    """A door opening between rooms ``rooms[0]`` and ``rooms[1]``.

    Attributes:
        rooms: The two room ids.
        axis: ``"x"`` if the wall (and the opening) runs along x, ``"z"`` if along z.
        center: Opening centre (x, z) on the wall's centre line.
        width: Opening width, metres.
    """

    rooms: tuple[int, int]
    axis: str
    center: tuple[float, float]
    width: float

    def side_in(self, room: RoomPlan) -> int:
        """The side (0-3, see the module docstring) of ``room`` this door is on."""
        x, z = self.center
        if self.axis == "x":
            return 0 if z < room.interior.z0 else 2
        return 1 if x < room.interior.x0 else 3

    def span(self) -> tuple[float, float]:
        """The opening's extent along the wall."""
        c = self.center[0] if self.axis == "x" else self.center[1]
        return (c - self.width / 2, c + self.width / 2)


@dataclass(frozen=True)
class FloorPlan:
    """Rooms, doors and the storey's ceiling height."""

    rooms: tuple[RoomPlan, ...]
    doors: tuple[Door, ...]
    ceiling_height: float
    footprint: Rect


def room_programme(rng: np.random.Generator) -> list[str]:
    """Room types of a house, 3 to 10 of them."""
    counts = np.array(list(_ROOM_COUNT_WEIGHTS))
    weights = np.array(list(_ROOM_COUNT_WEIGHTS.values()))
    n = int(rng.choice(counts, p=weights / weights.sum()))
    if n == 3:
        return ["living_room", "kitchen" if rng.random() < 0.5 else "bedroom", "bathroom"]
    types = ["living_room", "kitchen", "bedroom", "bathroom"]
    if n >= 7 and rng.random() < 0.6:
        types.append("hallway")
    while len(types) < n:
        names = [t for t, (_, cap) in _EXTRA_ROOMS.items() if types.count(t) < cap]
        names = [t for t in names if t != "bathroom" or types.count("bathroom") < types.count("bedroom")] or names
        weights = np.array([_EXTRA_ROOMS[t][0] for t in names])
        types.append(names[int(rng.choice(len(names), p=weights / weights.sum()))])
    return types


def _partition(
    rng: np.random.Generator, rect: Rect, rooms: list[tuple[int, str, float]], budget: list[int]
) -> dict[int, Rect] | None:
    """Guillotine-cut ``rect`` into one cell per (room index, type, area), areas proportional.

    Cuts are tried in a random order favouring balanced splits across the longer side, among the
    (group split, direction) pairs whose halves can still hold their rooms; a dead end backtracks
    until ``budget[0]`` recursive calls are spent. Returns the cells or None.
    """
    budget[0] -= 1
    if len(rooms) == 1:
        return {rooms[0][0]: rect} if _fits(rooms[0][1], rect.inset(WALL_THICKNESS / 2)) else None
    total = sum(a for _, _, a in rooms)
    options, weights = [], []
    for k in range(1, len(rooms)):
        share = sum(a for _, _, a in rooms[:k]) / total
        for cut_x in (True, False):
            halves = _halves(rect, share, cut_x)
            if _can_hold(halves[0], rooms[:k]) and _can_hold(halves[1], rooms[k:]):
                longer = (rect.width >= rect.depth) == cut_x
                options.append((k, halves))
                weights.append(np.exp(-6.0 * abs(share - 0.5)) * (3.0 if longer else 1.0))
    # Weighted random order without replacement (exponential-race keys).
    keys = rng.exponential(size=len(options)) / np.asarray(weights)
    for index in np.argsort(keys, kind="stable"):
        if budget[0] <= 0:
            return None
        k, (first, second) = options[int(index)]
        cells = _partition(rng, first, rooms[:k], budget)
        others = _partition(rng, second, rooms[k:], budget) if cells is not None else None
        if others is not None:
            return cells | others
    return None


def _halves(rect: Rect, share: float, cut_x: bool) -> tuple[Rect, Rect]:
    if cut_x:
        x = round(rect.x0 + share * rect.width, 2)
        return Rect(rect.x0, rect.z0, x, rect.z1), Rect(x, rect.z0, rect.x1, rect.z1)
    z = round(rect.z0 + share * rect.depth, 2)
    return Rect(rect.x0, rect.z0, rect.x1, z), Rect(rect.x0, z, rect.x1, rect.z1)


def _can_hold(rect: Rect, rooms: list[tuple[int, str, float]]) -> bool:
    """A necessary condition for ``rect`` to be cut into cells fitting ``rooms``."""
    if len(rooms) == 1:
        return _fits(rooms[0][1], rect.inset(WALL_THICKNESS / 2))
    need = max(ROOM_SPECS[t].min_side for _, t, _ in rooms) + WALL_THICKNESS
    return min(rect.width, rect.depth) >= need


def _fits(room_type: str, interior: Rect) -> bool:
    spec = ROOM_SPECS[room_type]
    short, long = sorted((interior.width, interior.depth))
    return short >= spec.min_side and long / short <= spec.max_aspect


def _shared_span(a: RoomPlan, b: RoomPlan) -> tuple[str, float, float, float] | None:
    """(wall axis, wall line, span start, span end) of the interior overlap along a shared cut."""
    eps = 1e-6
    if abs(a.cell.x1 - b.cell.x0) < eps or abs(b.cell.x1 - a.cell.x0) < eps:
        line = a.cell.x1 if abs(a.cell.x1 - b.cell.x0) < eps else a.cell.x0
        lo, hi = max(a.interior.z0, b.interior.z0), min(a.interior.z1, b.interior.z1)
        return ("z", line, lo, hi) if hi - lo >= MIN_DOOR_SPAN else None
    if abs(a.cell.z1 - b.cell.z0) < eps or abs(b.cell.z1 - a.cell.z0) < eps:
        line = a.cell.z1 if abs(a.cell.z1 - b.cell.z0) < eps else a.cell.z0
        lo, hi = max(a.interior.x0, b.interior.x0), min(a.interior.x1, b.interior.x1)
        return ("x", line, lo, hi) if hi - lo >= MIN_DOOR_SPAN else None
    return None


def _door(rng: np.random.Generator, a: RoomPlan, b: RoomPlan, shared: tuple[str, float, float, float]) -> Door:
    axis, line, lo, hi = shared
    room_span = hi - lo - 2 * DOOR_CORNER_MARGIN
    width = round(min(float(rng.uniform(MIN_DOOR_WIDTH, 1.05)), room_span), 3)
    slack = max(0.0, room_span - width)
    c = lo + DOOR_CORNER_MARGIN + width / 2 + float(rng.uniform(0.0, slack))
    center = (c, line) if axis == "x" else (line, c)
    return Door((a.id, b.id), axis, center, width)


def _connect(rng: np.random.Generator, rooms: list[RoomPlan]) -> list[Door] | None:
    """Doors of a random spanning tree over door-capable adjacencies (+ maybe one extra)."""
    edges = []
    for i, a in enumerate(rooms):
        for b in rooms[i + 1 :]:
            shared = _shared_span(a, b)
            if shared is None:
                continue
            weight = float(rng.random())
            weight += 2.0 * sum(r.type in _WET_ROOMS for r in (a, b))
            weight -= 0.6 * sum(r.type in _HUB_ROOMS for r in (a, b))
            edges.append((weight, a.id, b.id, shared))
    edges.sort(key=lambda e: (e[0], e[1], e[2]))
    parent = list(range(len(rooms)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    tree, spare = [], []
    for edge in edges:
        ra, rb = root(edge[1]), root(edge[2])
        if ra != rb:
            parent[ra] = rb
            tree.append(edge)
        elif not any(rooms[k].type in _WET_ROOMS for k in edge[1:3]):
            spare.append(edge)
    if len(tree) != len(rooms) - 1:
        return None
    if spare and rng.random() < 0.35:
        tree.append(spare[0])
    return [_door(rng, rooms[a], rooms[b], shared) for _, a, b, shared in tree]


def _names(types: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for t in types:
        seen[t] = seen.get(t, 0) + 1
        names.append(t.replace("_", " ") + (f" {seen[t]}" if types.count(t) > 1 else ""))
    return names


def plan_floor(rng: np.random.Generator) -> FloorPlan:
    """A connected floor plan of 3 to 10 typed rooms."""
    types = room_programme(rng)
    names = _names(types)
    half_wall = WALL_THICKNESS / 2
    for _ in range(MAX_LAYOUT_ATTEMPTS):
        areas = [float(rng.uniform(*ROOM_SPECS[t].area)) for t in types]
        order = [int(i) for i in rng.permutation(len(types))]
        total = sum(areas) + 0.4 * len(types)
        aspect = float(rng.uniform(1.0, 1.7))
        width = round(float(np.sqrt(total * aspect)), 2)
        footprint = Rect(0.0, 0.0, width, round(total / width, 2))
        cells = _partition(rng, footprint, [(i, types[i], areas[i]) for i in order], [PARTITION_BUDGET])
        if cells is None:
            continue
        rooms = [RoomPlan(i, t, names[i], cells[i], _snap(cells[i].inset(half_wall))) for i, t in enumerate(types)]
        doors = _connect(rng, rooms)
        if doors is not None:
            ceiling = round(float(rng.uniform(2.6, 2.8)), 2)
            return FloorPlan(tuple(rooms), tuple(doors), ceiling, footprint)
    raise RuntimeError(f"plan_floor: no valid plan for {types} after {MAX_LAYOUT_ATTEMPTS} attempts")


def _snap(rect: Rect) -> Rect:
    """Round away float noise (cuts are on the centimetre, walls 5 cm thick)."""
    return Rect(*(round(v, 6) for v in rect.as_tuple()))
