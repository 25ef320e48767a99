"""The room planner: where a model or a group of models may go in one room.

A candidate placement is accepted only if every piece

* lies inside the room's interior (so it cannot intersect a wall),
* keeps the door clearance zones free (``DOOR_CLEAR_DEPTH`` deep, the door's width plus
  ``DOOR_CLEAR_MARGIN`` on each side; wall-mounted things also keep off the door's wall span),
* does not intersect any other object's box,
* keeps ``CORRIDOR`` metres from floor furniture of other groups, except neighbours backed onto
  the same wall (a run of furniture along a wall needs no corridor between its pieces),
* and leaves the room walkable. On a 5 cm occupancy grid of the footprints of everything lower
  than the agent, the free space eroded by ``AGENT_CLEARANCE`` (the agent's radius plus a margin)
  must be one region holding every door and at least ``MIN_REACHABLE_SHARE`` of the floor. Free
  space at the smaller ``POCKET_CLEARANCE`` that is not next to that region (a pocket the agent
  might stand in, reached at best through a gap of doubtful width) must stay tiny.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from navgym.scenes.prochouse.geometry import Part, Pose, parts_bounds
from navgym.scenes.prochouse.layout import DOOR_HEIGHT, Door, Rect, RoomPlan
from navgym.scenes.prochouse.library import BUILDERS, Kit, Model, Palette
from navgym.scenes.prochouse.relations import faces

GRID_CELL = 0.05
#: Agent radius 0.18 m plus a 5 cm margin for grid discretisation: the doors must connect at it.
AGENT_CLEARANCE = 0.23
#: Well under the agent radius (rasterising widens boxes by up to a cell): where the real agent
#: might stand.
POCKET_CLEARANCE = 0.08
AGENT_HEIGHT = 1.5
CORRIDOR = 0.6
DOOR_CLEAR_DEPTH = 0.9
DOOR_CLEAR_MARGIN = 0.15
#: Wall-mounted things lower than HIGH_MOUNT may stick out of the wall at most this far.
MAX_WALL_DEPTH = 0.1
HIGH_MOUNT = 1.6
#: Things against or on a wall keep this gap to it, so no face lies on the wall's plane.
WALL_STANDOFF = 0.002
#: Free-standing groups keep this far from the walls.
CENTRE_WALL_GAP = 0.5
#: The reachable free area must stay at least this share of the room's floor...
MIN_REACHABLE_SHARE = 0.2
#: ...and pockets (see POCKET_CLEARANCE) at most this share of the reachable area.
MAX_POCKET_SHARE = 0.02
#: Cells within this many of the reachable region are its fringe, not pockets.
_FRINGE_CELLS = int(np.ceil((AGENT_CLEARANCE - POCKET_CLEARANCE) / GRID_CELL)) + 1
_OFFSETS = np.arange(-_FRINGE_CELLS, _FRINGE_CELLS + 1)
_FRINGE = np.hypot(_OFFSETS[:, None], _OFFSETS[None, :]) <= _FRINGE_CELLS
_EPS = 1e-6


@dataclass
class Placed:
    """A model placed in the world.

    Attributes:
        model: What was placed.
        pose: Where (model frame to world).
        parts: The model's parts in world coordinates.
        lo, hi: World bounding box.
        side: The wall it backs onto or hangs on (0-3, see :mod:`~navgym.scenes.prochouse.layout`),
            or None for free-standing things.
        mounted: Hangs on a wall rather than standing on the floor.
        group: Pieces placed together share a group (no corridor needed between them).
        support: What it stands on, if anything.
    """

    model: Model
    pose: Pose
    parts: list[Part]
    lo: np.ndarray
    hi: np.ndarray
    side: int | None
    mounted: bool
    group: int
    support: Placed | None = None

    @property
    def category(self) -> str:
        return self.model.category

    @property
    def front(self) -> tuple[float, float] | None:
        return self.pose.front if self.model.has_front else None

    def footprint(self) -> Rect:
        return Rect(float(self.lo[0]), float(self.lo[2]), float(self.hi[0]), float(self.hi[2]))


@dataclass(frozen=True)
class Member:
    """A model and its pose in a group's frame (the wall frame for groups against a wall)."""

    model: Model
    pose: Pose


def back_pose(model: Model, x: float, z: float = 0.0) -> Pose:
    """Pose putting the middle of the model's back edge at (x, z), facing +z."""
    return Pose(0, x - float(model.lo[0] + model.hi[0]) / 2, z - float(model.lo[2]))


def facing_pose(model: Model, turns: int, x: float, z: float) -> Pose:
    """Pose turning the model to face ``FRONTS[turns]`` with the middle of its front edge at (x, z)."""
    rx, rz = Pose(turns, 0.0, 0.0).apply_xz(float(model.lo[0] + model.hi[0]) / 2, float(model.hi[2]))
    return Pose(turns, x - rx, z - rz)


def row(models: list[Model], gap: float) -> list[Member]:
    """Models side by side along x, backs on z = 0, the row centred on x = 0."""
    total = sum(m.width for m in models) + gap * (len(models) - 1)
    x, members = -total / 2, []
    for model in models:
        members.append(Member(model, back_pose(model, x + model.width / 2)))
        x += model.width + gap
    return members


def _overlap(a_lo, a_hi, b_lo, b_hi, margin: float = 0.0) -> bool:
    return all(a_lo[k] < b_hi[k] + margin - _EPS and b_lo[k] < a_hi[k] + margin - _EPS for k in range(3))


def _gap_2d(a: Placed, b: Placed) -> float:
    dx = max(0.0, float(a.lo[0] - b.hi[0]), float(b.lo[0] - a.hi[0]))
    dz = max(0.0, float(a.lo[2] - b.hi[2]), float(b.lo[2] - a.hi[2]))
    return float(np.hypot(dx, dz))


def _rects_intersect(a: Rect, b: Rect) -> bool:
    return a.x0 < b.x1 - _EPS and b.x0 < a.x1 - _EPS and a.z0 < b.z1 - _EPS and b.z0 < a.z1 - _EPS


class RoomPlanner:
    """Places models in one room and records what stands on what and what faces what.

    Args:
        room: The room's plan.
        doors: The doors of this room.
        ceiling: Ceiling height, metres.
        rng: The room's generator.
        palette: The house's furniture palette.
    """

    def __init__(self, room: RoomPlan, doors: list[Door], ceiling: float, rng: np.random.Generator, palette: Palette):
        self.room = room
        self.rect = room.interior
        self.ceiling = ceiling
        self.rng = rng
        self.palette = palette
        self.objects: list[Placed] = []
        self.relations: list[tuple[Placed, str, Placed]] = []
        self._groups = 0
        self._door_sides = [(door.side_in(room), door.span()) for door in doors]
        self._door_zones = [self._door_zone(side, span) for side, span in self._door_sides]
        self._origin = (self.rect.x0 - 0.4, self.rect.z0 - 0.4)
        # The grid covers the interior plus 0.4 m around it (walls, door passages).
        self._shape = tuple(int(np.ceil((size + 0.8) / GRID_CELL)) for size in (self.rect.depth, self.rect.width))
        self._base_grid = self._empty_grid()
        self._blocked = self._base_grid.copy()
        self._seeds = [self._cell(*self._inside_point(side, (a + b) / 2, 0.3)) for side, (a, b) in self._door_sides]

    # -- models --------------------------------------------------------------------------------
    def model(self, category: str, size: str | None = None, **variant) -> Model:
        """A new model of ``category`` drawn from this room's generator."""
        return BUILDERS[category](self.kit(size), **variant)

    def kit(self, size: str | None = None) -> Kit:
        """Builder helpers drawing from this room's generator and the house palette."""
        return Kit(self.rng, self.palette, size)

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    # -- wall frames ---------------------------------------------------------------------------
    def wall_pose(self, side: int, t: float, y: float = 0.0) -> Pose:
        """The frame whose origin is the point ``t`` along wall ``side``, +z pointing inwards."""
        r = self.rect.inset(WALL_STANDOFF)
        return (Pose(0, t, r.z0, y), Pose(1, r.x0, t, y), Pose(2, t, r.z1, y), Pose(3, r.x1, t, y))[side]

    def wall_range(self, side: int) -> tuple[float, float]:
        r = self.rect.inset(WALL_STANDOFF)
        return (r.x0, r.x1) if side % 2 == 0 else (r.z0, r.z1)

    @staticmethod
    def along(side: int, x: float, z: float) -> float:
        return x if side % 2 == 0 else z

    def _inside_point(self, side: int, t: float, depth: float) -> tuple[float, float]:
        return self.wall_pose(side, t).apply_xz(0.0, depth)

    def _door_zone(self, side: int, span: tuple[float, float]) -> Rect:
        a, b = span[0] - DOOR_CLEAR_MARGIN, span[1] + DOOR_CLEAR_MARGIN
        (x0, z0), (x1, z1) = self._inside_point(side, a, 0.0), self._inside_point(side, b, DOOR_CLEAR_DEPTH)
        return Rect(min(x0, x1), min(z0, z1), max(x0, x1), max(z0, z1))

    # -- placing -------------------------------------------------------------------------------
    def _make(
        self, model: Model, pose: Pose, side: int | None, mounted: bool, group: int, support: Placed | None = None
    ) -> Placed:
        parts = [pose.apply(p) for p in model.parts]
        lo, hi = parts_bounds(parts)
        return Placed(model, pose, parts, lo, hi, side, mounted, group, support)

    def _new_group(self) -> int:
        self._groups += 1
        return self._groups

    def place_group(self, members: list[Member], side: int, t: float) -> list[Placed] | None:
        """Place members in the frame of wall ``side`` at ``t``; None if the spot is not valid."""
        frame, group = self.wall_pose(side, t), self._new_group()
        placed = [self._make(m.model, frame.compose(m.pose), side, False, group) for m in members]
        return self._commit(placed) if self._valid(placed) else None

    def against_wall(self, members: list[Member], sides: list[int] | None = None) -> list[Placed] | None:
        """Place a group with its back (local z = 0) against a wall, trying sides and spots."""
        for side in self.side_order(sides):
            for t in self.spots(members, side):
                placed = self.place_group(members, side, t)
                if placed:
                    return placed
        return None

    def add(self, category: str, sides: list[int] | None = None, size: str | None = None, **variant) -> Placed | None:
        """A single new model of ``category`` against a wall."""
        placed = self.against_wall([Member(self.model(category, size, **variant), Pose(0, 0.0, 0.0))], sides)
        return placed[0] if placed else None

    def add_essential(self, category: str, **variant) -> Placed | None:
        """Like :meth:`add`, retrying with smaller models."""
        for size in (None, "small", "small"):
            placed = self.add(category, size=size, **variant)
            if placed:
                return placed
        return None

    def in_centre(self, members: list[Member], tries: int = 12) -> list[Placed] | None:
        """Place a free-standing group (frame origin = its centre) near the room's middle: the
        middle first, then random spots where the group keeps ``CENTRE_WALL_GAP`` from the walls."""
        r = self.rect
        base = 0 if r.width >= r.depth else 1
        for attempt in range(tries):
            turns = (base + 2 * int(self.rng.integers(2)) + int(attempt % 4 == 3)) % 4
            turned = Pose(turns, 0.0, 0.0)
            lo, hi = parts_bounds([turned.compose(m.pose).apply(q) for m in members for q in m.model.parts])
            x_range = (r.x0 + CENTRE_WALL_GAP - lo[0], r.x1 - CENTRE_WALL_GAP - hi[0])
            z_range = (r.z0 + CENTRE_WALL_GAP - lo[2], r.z1 - CENTRE_WALL_GAP - hi[2])
            if x_range[1] < x_range[0] or z_range[1] < z_range[0]:
                continue
            fx, fz = (0.5, 0.5) if attempt == 0 else (float(u) for u in self.rng.random(2))
            cx = x_range[0] + fx * (x_range[1] - x_range[0])
            cz = z_range[0] + fz * (z_range[1] - z_range[0])
            frame, group = Pose(turns, round(cx, 4), round(cz, 4)), self._new_group()
            placed = [self._make(m.model, frame.compose(m.pose), None, False, group) for m in members]
            if self._valid(placed):
                return self._commit(placed)
        return None

    def mount(
        self, model: Model, bottom: float, sides: list[int] | None = None, t: float | None = None, lift: bool = True
    ) -> Placed | None:
        """Hang a model on a wall with its bottom at ``bottom`` (raised above furniture below it
        when ``lift``), at ``t`` along the wall or at the first valid spot."""
        if model.depth > MAX_WALL_DEPTH + _EPS and bottom < HIGH_MOUNT:
            raise ValueError(f"mount: a {model.category} {model.depth:.2f} m deep must hang above {HIGH_MOUNT} m")
        member = [Member(model, Pose(0, 0.0, 0.0))]
        for side in self.side_order(sides):
            for spot in ([t] if t is not None else self.spots(member, side)):
                frame = self.wall_pose(side, spot)
                probe = self._make(model, frame, side, True, 0)
                y = max(bottom, self._top_below(probe) + 0.12) if lift else bottom
                if y + model.height > self.ceiling - 0.08:
                    continue
                placed = self._make(model, self.wall_pose(side, spot, y), side, True, self._new_group())
                if self._valid([placed]):
                    return self._commit([placed])[0]
        return None

    def put_on(
        self, model: Model, support: Placed, back: bool = False, centred: bool = False, tries: int = 6
    ) -> Placed | None:
        """Put a model on one of the support's surfaces, facing the way the support faces: at a
        random spot, against the surface's back edge (``back``) or in its middle (``centred``)."""
        surfaces = list(support.model.surfaces)
        for k in self.rng.permutation(len(surfaces)):
            surface = surfaces[int(k)]
            x0, z0, x1, z1 = surface.rect
            x_lo, x_hi = x0 - model.lo[0], x1 - model.hi[0]
            z_lo, z_hi = z0 - model.lo[2], z1 - model.hi[2]
            if x_hi < x_lo or z_hi < z_lo:
                continue
            for _ in range(1 if centred else tries):
                x = (x_lo + x_hi) / 2 if centred else float(self.rng.uniform(x_lo, x_hi))
                z = z_lo if back or centred else float(self.rng.uniform(z_lo, z_hi))
                pose = support.pose.compose(Pose(0, float(x), float(z), surface.y))
                placed = self._make(model, pose, None, False, support.group, support)
                if self._inside(placed.footprint()) and not any(
                    _overlap(placed.lo, placed.hi, o.lo, o.hi, 0.01) for o in self.objects if o is not support
                ):
                    self.objects.append(placed)
                    self.relations.append((placed, "on", support))
                    return placed
        return None

    def decorate(self, support: Placed | None, options: list[tuple[str, float, dict]]) -> None:
        """Put each (category, probability, variant) on ``support`` with that probability."""
        if support is None:
            return
        for category, p, variant in options:
            if self.chance(p):
                self.put_on(self.model(category, **variant), support)

    def relate_facing(self, subject: Placed | None, obj: Placed | None) -> None:
        """Record ``subject facing obj`` if the subject's front ray does cross the object."""
        if subject is None or obj is None or subject.front is None:
            return
        if faces(subject.front, subject.lo, subject.hi, obj.lo, obj.hi):
            self.relations.append((subject, "facing", obj))

    def remove(self, placed: list[Placed]) -> None:
        """Take objects (and whatever stands on them) back out of the room."""
        gone = {id(p) for p in placed}
        gone |= {id(o) for o in self.objects if o.support is not None and id(o.support) in gone}
        self.objects = [o for o in self.objects if id(o) not in gone]
        self.relations = [r for r in self.relations if id(r[0]) not in gone and id(r[2]) not in gone]
        self._blocked = self._base_grid.copy()
        for o in self.objects:
            self._rasterise(self._blocked, o)

    # -- candidate spots -----------------------------------------------------------------------
    def side_order(self, sides: list[int] | None) -> list[int]:
        options = list(range(4)) if sides is None else list(sides)
        return [options[int(k)] for k in self.rng.permutation(len(options))]

    def spots(self, members: list[Member], side: int) -> list[float]:
        """Positions along wall ``side`` to try: flush with the ends, next to blockers, random."""
        lo, hi = self.wall_range(side)
        sign = 1.0 if side in (0, 3) else -1.0
        extents = [sign * p for m in members for q in m.model.parts for p in self._local_x(m.pose, q)]
        a, b = min(extents), max(extents)
        depth = max(float(m.pose.apply(q).bounds()[1][2]) for m in members for q in m.model.parts)
        if hi - lo < b - a:
            return []
        blockers = self._blockers(side, depth + CORRIDOR)
        preferred = [lo - a, hi - b]
        for u, v in blockers:
            preferred += [u - b - 0.02, v - a + 0.02, u - b - CORRIDOR, v - a + CORRIDOR]
        middle = (lo + hi - a - b) / 2
        random = [float(x) for x in self.rng.uniform(lo - a, max(lo - a, hi - b), 3)]
        spots = [preferred[int(k)] for k in self.rng.permutation(len(preferred))] + [middle] + random
        return [round(t, 4) for t in spots if lo - a - _EPS <= t <= hi - b + _EPS]

    def _blockers(self, side: int, depth: float) -> list[tuple[float, float]]:
        """Along-wall spans of door zones and floor objects within ``depth`` of wall ``side``."""
        strip = self._strip(side, depth)
        spans = [self.along_span(side, z) for z in self._door_zones if _rects_intersect(z, strip)]
        floor_objects = [o.footprint() for o in self.objects if o.support is None]
        return spans + [self.along_span(side, f) for f in floor_objects if _rects_intersect(f, strip)]

    def free_spans(self, side: int, depth: float) -> list[tuple[float, float]]:
        """Stretches of wall ``side``, longest first, with no door zone or object within ``depth``."""
        lo, hi = self.wall_range(side)
        spans, start = [], lo
        for u, v in sorted(self._blockers(side, depth)) + [(hi, hi)]:
            if u > start:
                spans.append((start, min(u, hi)))
            start = max(start, v)
        return sorted(spans, key=lambda span: span[0] - span[1])

    @staticmethod
    def _local_x(pose: Pose, part: Part) -> tuple[float, float]:
        lo, hi = pose.apply(part).bounds()
        return float(lo[0]), float(hi[0])

    def _strip(self, side: int, depth: float) -> Rect:
        lo, hi = self.wall_range(side)
        (x0, z0), (x1, z1) = self._inside_point(side, lo, 0.0), self._inside_point(side, hi, depth)
        return Rect(min(x0, x1), min(z0, z1), max(x0, x1), max(z0, z1))

    @staticmethod
    def along_span(side: int, rect: Rect) -> tuple[float, float]:
        return (rect.x0, rect.x1) if side % 2 == 0 else (rect.z0, rect.z1)

    def _top_below(self, probe: Placed) -> float:
        """The highest floor object in front of a wall spot (0 if none)."""
        side = probe.side
        a, b = self.along_span(side, probe.footprint())
        strip = self._strip(side, CORRIDOR)
        tops = []
        for o in self.objects:
            u, v = self.along_span(side, o.footprint())
            if not o.mounted and _rects_intersect(o.footprint(), strip) and u < b and a < v:
                tops.append(float(o.hi[1]))
        return max(tops, default=0.0)

    # -- validity ------------------------------------------------------------------------------
    def _inside(self, rect: Rect, margin: float = 0.0) -> bool:
        r = self.rect
        return (
            rect.x0 >= r.x0 + margin - _EPS and rect.z0 >= r.z0 + margin - _EPS
            and rect.x1 <= r.x1 - margin + _EPS and rect.z1 <= r.z1 - margin + _EPS
        )

    def _valid(self, placed: list[Placed]) -> bool:
        for i, p in enumerate(placed):
            if not self._inside(p.footprint()) or p.hi[1] > self.ceiling - 0.05 or self._blocks_door(p):
                return False
            for other in placed[i + 1 :]:
                if _overlap(p.lo, p.hi, other.lo, other.hi):
                    return False
            for other in self.objects:
                if _overlap(p.lo, p.hi, other.lo, other.hi) or self._crowds(p, other):
                    return False
        return self._walkable(placed)

    def _blocks_door(self, p: Placed) -> bool:
        """In a door's clearance zone, or (hung) beside a door opening on its wall."""
        if p.mounted:
            a, b = self.along_span(p.side, p.footprint())
            if any(side == p.side and a < hi + 0.1 and lo - 0.1 < b for side, (lo, hi) in self._door_sides):
                return True
            if p.lo[1] >= DOOR_HEIGHT:
                return False
        return any(_rects_intersect(p.footprint(), zone) for zone in self._door_zones)

    @staticmethod
    def _crowds(p: Placed, other: Placed) -> bool:
        """Floor pieces of different groups closer than a corridor, unless on the same wall."""
        if p.mounted or other.mounted or other.support is not None or p.group == other.group:
            return False
        if p.side is not None and p.side == other.side:
            return False
        return _gap_2d(p, other) < CORRIDOR - _EPS

    # -- walkability grid ----------------------------------------------------------------------
    def _cell(self, x: float, z: float) -> tuple[int, int]:
        return int((z - self._origin[1]) / GRID_CELL), int((x - self._origin[0]) / GRID_CELL)

    def _index(self, rect: Rect) -> tuple[slice, slice]:
        ox, oz = self._origin
        c0, c1 = int(np.floor((rect.x0 - ox) / GRID_CELL + _EPS)), int(np.ceil((rect.x1 - ox) / GRID_CELL - _EPS))
        r0, r1 = int(np.floor((rect.z0 - oz) / GRID_CELL + _EPS)), int(np.ceil((rect.z1 - oz) / GRID_CELL - _EPS))
        return slice(max(r0, 0), max(r1, 0)), slice(max(c0, 0), max(c1, 0))

    def _empty_grid(self) -> np.ndarray:
        """Walls blocked, the interior and the door passages (0.4 m through the wall) free."""
        grid = np.ones(self._shape, dtype=bool)
        grid[self._index(self.rect)] = False
        for side, (a, b) in self._door_sides:
            (x0, z0), (x1, z1) = self._inside_point(side, a, -0.4), self._inside_point(side, b, 0.0)
            grid[self._index(Rect(min(x0, x1), min(z0, z1), max(x0, x1), max(z0, z1)))] = False
        return grid

    def _rasterise(self, grid: np.ndarray, p: Placed) -> None:
        if p.support is None and p.lo[1] < AGENT_HEIGHT:
            grid[self._index(p.footprint())] = True

    def _walkable(self, placed: list[Placed]) -> bool:
        """The walkability rule of the module docstring, with ``placed`` added to the room."""
        grid = self._blocked.copy()
        for p in placed:
            self._rasterise(grid, p)
        clearance = (ndimage.distance_transform_edt(~grid) - 0.5) * GRID_CELL
        clear = clearance >= AGENT_CLEARANCE
        labels, _ = ndimage.label(clear)
        seeds = {int(labels[s]) for s in self._seeds}
        if len(seeds) != 1 or 0 in seeds:
            return False
        region = labels == seeds.pop()
        reachable = int(np.count_nonzero(region))
        if reachable < MIN_REACHABLE_SHARE * self.rect.width * self.rect.depth / GRID_CELL**2:
            return False
        near_region = ndimage.binary_dilation(region, structure=_FRINGE)
        pockets = int(np.count_nonzero((clearance >= POCKET_CLEARANCE) & ~near_region))
        return pockets <= MAX_POCKET_SHARE * reachable

    def _commit(self, placed: list[Placed]) -> list[Placed]:
        for p in placed:
            self.objects.append(p)
            self._rasterise(self._blocked, p)
        return placed
