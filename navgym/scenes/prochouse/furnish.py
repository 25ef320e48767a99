"""Room-object priors: what goes in each room type, where, and on what.

Each routine places the room's defining group first (with retries on smaller models), then
optional furniture with per-type probabilities, then small things on surfaces and things on walls.
Bathroom fixtures (toilet, shower, bathtub, towel) are only ever placed by the bathroom routine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from navgym.scenes.prochouse.geometry import Pose
from navgym.scenes.prochouse.library import COUNTER_DEPTH, Model
from navgym.scenes.prochouse.planner import Member, Placed, RoomPlanner, back_pose, facing_pose, row

#: (category, probability, variant keywords) of something a routine may add.
Option = tuple[str, float, dict]

SMALL_PLANT = {"variant": "table"}
#: Small things for tables and similar tops.
TABLE_TOP: list[Option] = [("bowl", 0.45, {}), ("vase", 0.35, {}), ("book", 0.3, {}), ("plant", 0.15, SMALL_PLANT)]
#: Small things for shelves, sideboards and dressers.
SHELF_TOP: list[Option] = [
    ("vase", 0.35, {}), ("book", 0.3, {}), ("plant", 0.25, SMALL_PLANT), ("lamp", 0.2, {"variant": "table"}),
]
#: Gap between neighbouring kitchen units (touching boxes would share a plane).
RUN_GAP = 0.002


@dataclass
class HouseContext:
    """House-wide facts the routines need.

    Attributes:
        has_laundry: The house has a laundry room (else washing machines go elsewhere).
        pictures_left: Picture budget (each picture adds a material).
    """

    has_laundry: bool
    pictures_left: int


def furnish(planner: RoomPlanner, house: HouseContext) -> None:
    """Furnish ``planner``'s room according to its type."""
    ROUTINES[planner.room.type](planner, house)


# -- shared helpers -----------------------------------------------------------------------------
def _hang_pictures(p: RoomPlanner, house: HouseContext, count: int) -> None:
    for _ in range(count):
        if house.pictures_left <= 0:
            return
        if p.mount(p.model("picture"), bottom=float(p.rng.uniform(1.2, 1.5))):
            house.pictures_left -= 1


def _picture_above(p: RoomPlanner, house: HouseContext, below: Placed | None, chance: float) -> None:
    """A picture centred on the wall above ``below`` (which backs onto a wall)."""
    if below is None or house.pictures_left <= 0 or not p.chance(chance):
        return
    t = p.along(below.side, *_centre_of(below))
    if p.mount(p.model("picture"), bottom=float(p.rng.uniform(1.1, 1.4)), sides=[below.side], t=t):
        house.pictures_left -= 1


def _optional(p: RoomPlanner, options: list[Option]) -> list[Placed]:
    """Add each (category, probability, variant) against a wall with that probability."""
    placed = []
    for category, chance, variant in options:
        if p.chance(chance):
            item = p.add(category, **variant)
            if item:
                placed.append(item)
    return placed


def _centre_of(placed: Placed) -> tuple[float, float]:
    return float(placed.lo[0] + placed.hi[0]) / 2, float(placed.lo[2] + placed.hi[2]) / 2


def _length_along_wall(p: RoomPlanner, placed: Placed) -> float:
    a, b = p.along_span(placed.side, placed.footprint())
    return b - a


def _chairs_around(p: RoomPlanner, table: Model, ends: bool, per_side: int, stools: bool = False) -> list[Member]:
    """A table centred on the origin with chairs facing it along both long sides (and at the
    ends if ``ends``), or stools along one side."""
    members = [Member(table, back_pose(table, 0.0, -table.depth / 2))]
    w, d, gap = table.width, table.depth / 2, 0.08
    long_sides = ((2, d + gap),) if stools else ((2, d + gap), (0, -d - gap))
    for k in range(per_side):
        x = (k + 0.5) * w / per_side - w / 2
        for turns, z in long_sides:
            seat = p.model("stool") if stools else p.model("chair")
            members.append(Member(seat, facing_pose(seat, turns, x, z)))
    if ends:
        for turns, x in ((3, w / 2 + gap), (1, -w / 2 - gap)):
            seat = p.model("chair")
            members.append(Member(seat, facing_pose(seat, turns, x, 0.0)))
    return members


def _table_group(p: RoomPlanner, variant: str, max_per_side: int) -> list[Placed] | None:
    """A table with chairs in the middle of the room, fewer chairs and smaller tables on failure."""
    for size in (None, "small", "small"):
        table = p.model("table", size=size, variant=variant)
        per_side = max(1, min(max_per_side, int((table.width - 0.1) / 0.6)))
        for ends, count in ((p.chance(0.5), per_side), (False, per_side), (False, max(1, per_side - 1))):
            placed = p.in_centre(_chairs_around(p, table, ends, count))
            if placed:
                for chair in placed[1:]:
                    p.relate_facing(chair, placed[0])
                return placed
    return None


# -- living room --------------------------------------------------------------------------------
def _sofa_members(p: RoomPlanner, sofa: Model, coffee: Model | None, armchairs: int) -> list[Member]:
    members = [Member(sofa, back_pose(sofa, 0.0))]
    if coffee is None:
        return members
    z0 = sofa.depth + float(p.rng.uniform(0.3, 0.35))  # too narrow to walk through: no pocket
    members.append(Member(coffee, back_pose(coffee, 0.0, z0)))
    zc = z0 + coffee.depth / 2
    for k in range(armchairs):
        chair = p.model("seating", variant="armchair")
        turns, x = ((1, -coffee.width / 2 - 0.3), (3, coffee.width / 2 + 0.3))[k]
        members.append(Member(chair, facing_pose(chair, turns, x, zc)))
    return members


def _tv_opposite(p: RoomPlanner, target: Placed, on_stand: float, cabinet_below: float) -> Placed | None:
    """A TV on the wall opposite ``target`` (a sofa or a bed) and centred on it: standing on a TV
    stand (probability ``on_stand``) or hung, over a low cabinet (``cabinet_below``) or not."""
    side = (target.side + 2) % 4
    t = p.along(side, *_centre_of(target))
    standing = p.chance(on_stand)
    stand = None
    if standing or p.chance(cabinet_below):
        stand = p.place_group([Member(p.model("cabinet", variant="tv_stand"), Pose(0, 0.0, 0.0))], side, t)
    if standing:
        tv = p.put_on(p.model("tv_monitor", variant="stand"), stand[0], centred=True) if stand else None
    else:
        tv = p.mount(p.model("tv_monitor", variant="wall"), bottom=float(p.rng.uniform(0.8, 1.1)), sides=[side], t=t)
    if tv is None:
        if stand:
            p.remove(stand)
        return None
    p.relate_facing(tv, target)
    p.relate_facing(target, tv)
    return tv


def _sofa_and_tv(p: RoomPlanner) -> list[Placed] | None:
    """The sofa group against a wall and a TV facing it from the opposite wall."""
    want_tv = p.chance(0.9)
    attempts = [(None, p.chance(0.85), int(p.rng.integers(0, 3))), (None, True, 0), ("small", False, 0)]
    for attempt, (size, with_table, armchairs) in enumerate(attempts):
        final = attempt == len(attempts) - 1
        sofa = p.model("sofa", size=size)
        coffee = p.model("table", variant="coffee") if with_table else None
        members = _sofa_members(p, sofa, coffee, armchairs)
        for side in p.side_order(None):
            for t in p.spots(members, side):
                placed = p.place_group(members, side, t)
                if placed is None:
                    continue
                if not want_tv or _tv_opposite(p, placed[0], on_stand=0.5, cabinet_below=0.4) or final:
                    for chair in placed[2:]:
                        p.relate_facing(chair, placed[1])
                    return placed
                p.remove(placed)
    return None


def _living_room(p: RoomPlanner, house: HouseContext) -> None:
    group = _sofa_and_tv(p)
    if group:
        sofa = group[0]
        for _ in range(int(p.rng.integers(0, 4))):
            p.put_on(p.model("cushion"), sofa, back=True)
        if len(group) > 1:
            p.decorate(group[1], TABLE_TOP + [("laptop", 0.08, {})])
    if p.chance(0.45):
        fire = p.add("fireplace")
        p.decorate(fire, [("vase", 0.4, {}), ("plant", 0.2, SMALL_PLANT)])
        _picture_above(p, house, fire, 0.6)
    shelf = _optional(p, [("bookshelf", 0.5, {}), ("cabinet", 0.3, {"variant": "sideboard"})])
    for item in shelf:
        p.decorate(item, SHELF_TOP)
    _optional(p, [
        ("plant", 0.7, {}), ("plant", 0.3, {}), ("lamp", 0.5, {"variant": "floor"}), ("gym_equipment", 0.2, {}),
        ("seating", 0.15, {"variant": "ottoman"}),
    ])
    _hang_pictures(p, house, int(p.rng.integers(1, 4)))


# -- bedroom ------------------------------------------------------------------------------------
def _bed_group(p: RoomPlanner) -> list[Placed] | None:
    """A bed with its head on a wall, nightstands beside it and maybe a bench at its foot;
    smaller beds with fewer companions on failure."""
    stands = 2 if p.chance(0.6) else int(p.chance(0.75))
    bench = p.chance(0.15)
    for size, stands, bench in ((None, stands, bench), ("small", min(stands, 1), False), ("small", 0, False)):
        bed = p.model("bed", size=size)
        models = [p.model("nightstand") for _ in range(stands)]
        models = models[:1] + [bed] + models[1:] if stands else [bed]
        members = row(models, gap=0.04)
        if bench:
            seat = p.model("seating", variant="bench")
            members.append(Member(seat, back_pose(seat, 0.0, bed.depth + 0.12)))
        placed = p.against_wall(members)
        if placed:
            return placed
    return None


def _bedroom(p: RoomPlanner, house: HouseContext) -> None:
    group = _bed_group(p)
    if group:
        bed = next(g for g in group if g.category == "bed")
        for stand in (g for g in group if g.category == "nightstand"):
            p.decorate(stand, [("lamp", 0.7, {"variant": "table"}), ("book", 0.3, {}), ("plant", 0.1, SMALL_PLANT)])
        for _ in range(int(p.rng.integers(0, 3))):
            p.put_on(p.model("cushion"), bed, back=True)
        p.decorate(bed, [("clothes", 0.2, {"variant": "folded"}), ("laptop", 0.08, {}), ("book", 0.1, {})])
        _picture_above(p, house, bed, 0.6)
        if p.chance(0.12):
            _tv_opposite(p, bed, on_stand=0.0, cabinet_below=0.0)
    _optional(p, [("wardrobe", 0.75, {})])
    chest = p.add("chest_of_drawers") if p.chance(0.55) else None
    folded = {"variant": "folded"}
    p.decorate(chest, [("vase", 0.3, {}), ("plant", 0.2, SMALL_PLANT), ("clothes", 0.2, folded), ("book", 0.2, {})])
    if chest and p.chance(0.4):
        t = p.along(chest.side, *_centre_of(chest))
        p.mount(p.model("mirror"), bottom=float(chest.hi[1]) + 0.15, sides=[chest.side], t=t, lift=False)
    if p.chance(0.2):
        _desk_group(p)
    _optional(p, [
        ("plant", 0.35, {}), ("clothes", 0.15, {"variant": "rack"}), ("gym_equipment", 0.12, {}),
        ("seating", 0.15, {"variant": "armchair"}), ("lamp", 0.15, {"variant": "floor"}), ("bookshelf", 0.12, {}),
    ])
    _hang_pictures(p, house, int(p.rng.integers(0, 3)))


# -- office -------------------------------------------------------------------------------------
def _desk_group(p: RoomPlanner) -> list[Placed] | None:
    """A desk against a wall, a chair facing it, a monitor or laptop and desk things on it."""
    for size in (None, "small"):
        desk, chair = p.model("desk", size=size), p.model("chair")
        seat = facing_pose(chair, 2, float(p.rng.uniform(-0.15, 0.15)), desk.depth + 0.1)
        members = [Member(desk, back_pose(desk, 0.0)), Member(chair, seat)]
        placed = p.against_wall(members)
        if placed:
            desk_placed, chair_placed = placed
            p.relate_facing(chair_placed, desk_placed)
            screen = p.model("tv_monitor", variant="monitor") if p.chance(0.6) else p.model("laptop")
            p.put_on(screen, desk_placed, back=screen.category == "tv_monitor")
            p.decorate(desk_placed, [("lamp", 0.4, {"variant": "table"}), ("book", 0.4, {}), ("laptop", 0.15, {})])
            return placed
    return None


def _office(p: RoomPlanner, house: HouseContext) -> None:
    _desk_group(p)
    cabinet = {"variant": "tall" if p.chance(0.5) else "sideboard"}
    for shelf in _optional(p, [("bookshelf", 0.8, {}), ("bookshelf", 0.25, {}), ("cabinet", 0.35, cabinet)]):
        p.decorate(shelf, SHELF_TOP)
    _optional(p, [
        ("plant", 0.5, {}), ("seating", 0.3, {"variant": "armchair"}), ("gym_equipment", 0.5, {}),
        ("lamp", 0.2, {"variant": "floor"}), ("chest_of_drawers", 0.1, {}),
    ])
    _hang_pictures(p, house, int(p.rng.integers(1, 3)))


# -- kitchen ------------------------------------------------------------------------------------
def _run_models(p: RoomPlanner, length: float) -> list[Model] | None:
    """Appliances and counters filling ``length`` metres of wall: [fridge] counter sink
    [dishwasher] counter stove counter, dropping optional pieces that do not fit."""
    kit = p.kit()
    body = kit.finish(kit.pick(("wood", "plastic")))
    top_finish = kit.finish("stone" if kit.chance(0.7) else "wood")
    sink, stove = p.model("sink", variant="kitchen", body=body, top=top_finish), p.model("stove")
    # Dropped from the end when short of space; a dropped refrigerator stands on its own later.
    extras = [m for m, chance in ((p.model("dishwasher"), 0.6), (p.model("refrigerator"), 0.85)) if p.chance(chance)]
    spare = length - sink.width - stove.width - sum(m.width for m in extras)
    while spare < 0.8 and extras:
        spare += extras.pop().width
    if spare < 0.6:
        return None
    middle = round(min(1.2, max(0.5, spare * 0.45)), 3)
    first = round((spare - middle) * float(p.rng.uniform(0.3, 0.7)), 3)
    last = round(spare - middle - first, 3)
    if first < 0.3:
        first, last = 0.0, round(last + first, 3)
    if last < 0.3:
        middle, last = round(middle + last, 3), 0.0
    counters = []
    for width in (first, middle, last):
        counters.append(p.model("counter", width=width, body=body, top=top_finish) if width >= 0.3 else None)
    dishwasher = [m for m in extras if m.category == "dishwasher"]
    fridge = [m for m in extras if m.category == "refrigerator"]
    sequence = fridge + [counters[0], sink] + dishwasher + [counters[1], stove, counters[2]]
    return [m for m in sequence if m is not None]


def _kitchen_run(p: RoomPlanner) -> list[Placed] | None:
    """The kitchen units along the longest free stretch of some wall."""
    for side in p.side_order(None):
        spans = p.free_spans(side, COUNTER_DEPTH)
        if not spans:
            continue
        length = min(spans[0][1] - spans[0][0] - 0.01, float(p.rng.uniform(2.4, 4.2)))
        for shrink in (0.0, 0.4, 0.8):
            models = _run_models(p, length - shrink)
            if models is None:
                break
            placed = p.against_wall(row(models, gap=RUN_GAP), sides=[side])
            if placed:
                return placed
    return None


def _kitchen(p: RoomPlanner, house: HouseContext) -> None:
    run = _kitchen_run(p)
    # Units one by one when no run fits.
    if run is None:
        units = [p.add_essential("sink", variant="kitchen"), p.add_essential("stove")]
        units += [next((c for c in (p.add("counter", width=w) for w in (0.8, 0.6, 0.45)) if c), None)]
        run = [x for x in units if x]
    if not any(x.category == "refrigerator" for x in run):
        p.add_essential("refrigerator")
    counters = [x for x in run if x.category == "counter"]
    for top in counters:
        if _length_along_wall(p, top) >= 0.4 and p.chance(0.7):
            upper = p.model("cabinet", variant="upper", width=round(_length_along_wall(p, top), 3))
            t = p.along(top.side, *_centre_of(top))
            p.mount(upper, bottom=float(p.rng.uniform(1.62, 1.7)), sides=[top.side], t=t, lift=False)
    if counters:
        if p.chance(0.6):
            p.put_on(p.model("microwave"), max(counters, key=lambda c: _length_along_wall(p, c)), back=True)
        for _ in range(2):
            p.decorate(counters[int(p.rng.integers(len(counters)))], TABLE_TOP)
    area = p.rect.width * p.rect.depth
    if area >= 11 and p.chance(0.35):
        island = p.model("counter", width=round(float(p.rng.uniform(1.2, 1.8)), 3), depth=0.9)
        group = p.in_centre(_chairs_around(p, island, False, 2, stools=True))
    elif area >= 9 and p.chance(0.55):
        group = _table_group(p, "kitchen", 2)
    else:
        group = None
    if group:
        p.decorate(group[0], TABLE_TOP)
    extras = [("plant", 0.2, {}), ("cabinet", 0.2, {"variant": "tall"})]
    if not house.has_laundry:
        extras.append(("washing_machine", 0.35, {}))
    _optional(p, extras)
    _hang_pictures(p, house, int(p.chance(0.4)))


# -- dining room --------------------------------------------------------------------------------
def _dining_room(p: RoomPlanner, house: HouseContext) -> None:
    group = _table_group(p, "dining", 3)
    if group:
        p.decorate(group[0], [("bowl", 0.6, {}), ("vase", 0.5, {}), ("plant", 0.2, SMALL_PLANT), ("book", 0.1, {})])
    board = p.add("cabinet", variant="sideboard") if p.chance(0.6) else None
    p.decorate(board, SHELF_TOP)
    _picture_above(p, house, board, 0.5)
    if p.chance(0.15):
        _picture_above(p, house, p.add("fireplace"), 0.6)
    _optional(p, [("plant", 0.5, {}), ("lamp", 0.2, {"variant": "floor"}), ("chest_of_drawers", 0.1, {})])
    _hang_pictures(p, house, int(p.rng.integers(1, 3)))


# -- bathroom -----------------------------------------------------------------------------------
def _bathroom(p: RoomPlanner, house: HouseContext) -> None:
    p.add_essential("toilet")
    basin = p.add_essential("sink", variant="vanity" if p.chance(0.6) else "pedestal")
    if basin and p.chance(0.85):
        p.mount(p.model("mirror"), bottom=1.2, sides=[basin.side], t=p.along(basin.side, *_centre_of(basin)))
    if not (p.chance(0.45) and p.add("bathtub")):
        if p.chance(0.95):
            p.add("shower")
    for _ in range(int(p.rng.integers(1, 3))):
        p.mount(p.model("towel"), bottom=float(p.rng.uniform(0.75, 0.95)))
    extras = [("cabinet", 0.2, {"variant": "narrow"}), ("plant", 0.1, {})]
    if not house.has_laundry:
        extras.append(("washing_machine", 0.25, {}))
    _optional(p, extras)


# -- hallway and laundry ------------------------------------------------------------------------
def _hallway(p: RoomPlanner, house: HouseContext) -> None:
    shoe = p.add("cabinet", variant="shoe") if p.chance(0.5) else None
    p.decorate(shoe, [("vase", 0.3, {}), ("bowl", 0.3, {}), ("plant", 0.2, SMALL_PLANT), ("book", 0.1, {})])
    _optional(p, [
        ("seating", 0.4, {"variant": "bench"}), ("plant", 0.4, {}), ("clothes", 0.2, {"variant": "rack"}),
        ("lamp", 0.1, {"variant": "floor"}),
    ])
    if p.chance(0.35):
        p.mount(p.model("mirror", tall=True), bottom=float(p.rng.uniform(0.5, 0.7)))
    _hang_pictures(p, house, int(p.rng.integers(1, 4)))


def _laundry(p: RoomPlanner, house: HouseContext) -> None:
    machines = [p.model("washing_machine") for _ in range(1 + int(p.chance(0.5)))]
    if p.chance(0.4):
        machines.append(p.model("counter", width=round(float(p.rng.uniform(0.6, 1.0)), 3)))
    placed = p.against_wall(row(machines, gap=0.02)) or [x for x in (p.add_essential("washing_machine"),) if x]
    if placed and p.chance(0.4):
        p.put_on(p.model("clothes", variant="folded"), placed[0])
    _optional(p, [
        ("clothes", 0.3, {"variant": "rack"}), ("cabinet", 0.35, {"variant": "tall"}), ("stool", 0.2, {}),
        ("plant", 0.1, {}),
    ])
    _hang_pictures(p, house, int(p.chance(0.2)))


ROUTINES: dict[str, Callable[[RoomPlanner, HouseContext], None]] = {
    "living_room": _living_room,
    "kitchen": _kitchen,
    "dining_room": _dining_room,
    "bedroom": _bedroom,
    "bathroom": _bathroom,
    "office": _office,
    "hallway": _hallway,
    "laundry": _laundry,
}
