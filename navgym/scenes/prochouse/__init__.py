"""ProcHouse: procedurally generated, furnished and fully annotated single-storey houses.

``generate_house(seed)`` returns a :class:`~navgym.scenes.scene.Scene`: one triangle soup built
from closed primitives, with per-triangle instance ids and materials, rooms, object instances and
spatial relations. The same seed always gives byte-identical arrays and identical annotations;
seeds are split into disjoint train / val / test ranges (:data:`SPLITS`).

Example:
    >>> from navgym.scenes.prochouse import generate_house, split_of
    >>> scene = generate_house(42)
    >>> split_of(42)
    'train'
    >>> sorted({obj.category for obj in scene.objects()})[:3]  # doctest: +SKIP
    ['bed', 'book', 'bowl']

Layout algorithm:
    1. *Programme* (:mod:`.layout`): 3 to 10 rooms. Three-room houses are a living room, a
       bathroom and either a kitchen or a bedroom; larger ones always have a living room, a
       kitchen, a bedroom and a bathroom, plus bedrooms, bathrooms (never more than bedrooms),
       offices, a dining room, hallways or a laundry. Each room draws a target area from its
       type's range (bathrooms 4.5-8 m^2, laundries 3.5-6 m^2, living rooms 17-28 m^2...).
    2. *Partition*: the rectangular footprint (total area, aspect 1-1.7) is cut recursively,
       guillotine style: every cut splits the rooms into two groups and the rectangle in
       proportion to their areas, mostly across its longer side. Cuts whose halves cannot hold
       their rooms are skipped and dead ends backtrack; a plan whose rooms break their type's
       minimum side or maximum aspect ratio is redrawn.
    3. *Doors*: rooms sharing at least 1.14 m of wall may get a door (0.9-1.05 m wide, 2.1 m
       high, at least 0.12 m from the corners). A randomised Kruskal spanning tree that takes hub
       rooms (hallway, living and dining rooms) first and wet rooms (bathroom, laundry) last
       connects every room, so every room is reachable from every other; one extra door between
       two dry rooms is added a third of the time.
    4. *Structure*: walls are 0.1 m thick and centred on the cuts. Each room owns a closed ring of
       wall boxes around its interior, from the floor to the ceiling (2.6-2.8 m): 0.05 m thick on
       shared walls (the neighbour owns the other half) and 0.1 m on the outside, with a gap at
       every door. A door frame instance closes each opening with a lintel (2.1 m up to the
       ceiling) and a threshold slab. Floors are 5 cm slabs whose top is exactly y = 0 and
       ceilings 5 cm slabs whose underside is the ceiling height, both over the room interior.

Furnishing priors (:mod:`.furnish`, :mod:`.planner`):
    * Living room: a sofa against a wall with a coffee table and up to two armchairs facing it,
      and (90%) a TV on the opposite wall, centred on the sofa, hung or standing on a TV stand,
      so the TV faces the sofa and the sofa faces the TV; cushions on the sofa; a fireplace
      (45%), bookshelves, plants, floor lamps, pictures, sometimes gym equipment.
    * Bedroom: a bed (one per bedroom) with its headboard on a wall, nightstands beside it (lamps
      on them), cushions and clothes on it, a picture above it; wardrobe, chest of drawers with a
      mirror, sometimes a desk, a TV facing the bed, a clothes rack, an armchair.
    * Kitchen: a run of base units along one wall (refrigerator, counters, sink unit,
      dishwasher, stove) with wall cabinets above the counters, a microwave and bowls on the
      counters, and a table with chairs or an island with stools when the kitchen is large.
    * Dining room: a table in the middle with chairs facing it, a sideboard, plants, pictures.
    * Bathroom: toilet, vanity or pedestal sink with a mirror above it, a bathtub or a shower,
      towels on the walls. Toilets, showers, bathtubs and towels appear only in bathrooms; sinks
      in bathrooms and kitchens.
    * Office: a desk against a wall with a chair facing it and a monitor or laptop on it,
      bookshelves, cabinets, an armchair, often gym equipment. Hallway: shoe cabinet, bench,
      plants, mirror, coat rack, pictures. Laundry: washing machines, counter, clothes.

    Every placement must stay inside the room interior (so nothing intersects a wall), keep
    0.9 m in front of each door (its width plus 0.15 m per side) free on both sides, avoid every
    other object's box, keep 0.6 m corridors between floor furniture of different groups
    (pieces side by side against the same wall may touch), and keep the room walkable for an
    agent of radius 0.18 m: on a 5 cm grid of footprints, the free space eroded by 0.23 m must
    be one region reaching every door and covering at least 20% of the floor, and no sizeable
    pocket where the agent could stand may be cut off from it. Wall-mounted things below 1.6 m
    stick out at most 0.1 m (pictures 3.5 cm, mirrors 3.2 cm, TVs 6.4 cm, towels 9.5 cm); wall
    cabinets hang above 1.6 m. Small things go on surfaces (tables, counters, desks, beds, sofa
    seats, nightstands, shelves, mantels) and are recorded as ``on`` their support. Bathtub
    bottoms (0.28 m) and shower trays (0.22 m) are above a 0.2 m climb, so they are not floor.

Annotations:
    * ``Scene.rooms``: ``Room(id, type, bounds, 0.0, name)``; ids 0..n-1, ``bounds`` the interior
      floor rectangle (x_min, z_min, x_max, z_max) inside the walls, names like ``"kitchen"`` or
      ``"bedroom 2"``.
    * ``Scene.instances``: ids from 1 in this order: per room its ``floor``, ``ceiling`` and
      ``wall`` instances, then one ``door_frame`` per door (``room_id`` None), then the objects
      room by room. Every triangle belongs to exactly one instance (no triangle has id 0).
      ``bbox_min``/``bbox_max`` come from the instance's triangles. Objects have
      ``attributes = {"color": colour name, "material": "wood" | "fabric" | "leather" | "metal" |
      "plastic" | "ceramic" | "glass" | "stone" | "paper" | "canvas", "size": "small" | "medium" |
      "large"}``, the size relative to the category's usual range; structural instances have
      ``color`` and ``material`` (``"paint"``, ``"tile"``, ``"wood"``, ``"carpet"``). ``front`` is
      the unit (x, z) direction the object faces (always axis-aligned) or None.
    * ``Scene.relations``: ``on`` (subject stands on object), ``facing`` (TV and sofa, TV and
      bed, chairs and their table or desk, armchairs and the coffee table; the subject's front
      ray from its centre crosses the object's footprint), ``next_to`` (box gap <= 0.5 m) and
      ``near`` (0.5 m < gap <= 1.5 m) between objects of the same room that stand on no other
      object, stored in both directions. See :mod:`.relations`.
    * ``Scene.metadata``: ``generator`` ("prochouse"), ``generator_version``, ``seed``,
      ``split`` ("train" / "val" / "test" or None outside the split ranges),
      ``ceiling_height``, ``wall_thickness`` (0.1), ``footprint`` (x0, z0, x1, z1, wall centre
      lines) and ``doors``: one dict per door with ``rooms`` [a, b], ``center`` [x, z] (on the
      wall's centre line), ``width``, ``height`` (2.1), ``axis`` ("x": the wall runs along x and
      one walks through it along z; "z": the other way) and ``instance`` (its door frame id).

Geometry:
    Axis-aligned boxes and 12-segment cylinders, each closed and wound counter-clockwise seen
    from outside. Models are built facing +z and placed with quarter turns, so boxes stay
    axis-aligned. No two faces share a plane with opposite normals where a ray could reach them:
    parts touching inside a model sink 1 mm into each other, things against walls stand 2 mm off
    them and kitchen units 2 mm apart (otherwise a grazing ray may report a back face). Every
    face has its own vertices; UVs are world metres along the face divided by the material's tile
    size (0.25-1 m), except pictures and screens whose texture spans the face once. Materials
    (typically 40-70 per house) carry 64 x 64 procedural textures: wood grain and planks, tiles
    with grout, carpet, paint, fabric weave, leather, brushed metal, plastic, ceramic, glass,
    stone, leaves, soil, paper, screens, and one random colourful composition per picture.
"""

from __future__ import annotations

from navgym.scenes.prochouse.house import GENERATOR_VERSION, build_house
from navgym.scenes.prochouse.library import CATEGORIES
from navgym.scenes.scene import Scene

#: Disjoint seed ranges of the dataset splits.
SPLITS: dict[str, range] = {
    "train": range(0, 1_000_000),
    "val": range(1_000_000, 1_001_000),
    "test": range(2_000_000, 2_001_000),
}


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return seed


def split_of(seed: int) -> str:
    """The split (``"train"``, ``"val"`` or ``"test"``) whose range holds ``seed``.

    Raises:
        ValueError: If ``seed`` is not a non-negative int or lies in no split.
    """
    _check_seed(seed)
    for name, seeds in SPLITS.items():
        if seed in seeds:
            return name
    raise ValueError(f"seed {seed} lies in no split; ranges: { {k: (r.start, r.stop) for k, r in SPLITS.items()} }")


def generate_hard_house(seed: int) -> Scene:
    """The ProcHouseHard building of ``seed``: 8-20 rooms on 1-3 storeys joined by stairs (see
    :mod:`.building` and :mod:`.hard`). Deterministic like :func:`generate_house`; the split
    ranges are the same, the buildings unrelated to ProcHouse's houses of the same seed.

    Raises:
        ValueError: If ``seed`` is negative or not an int.
    """
    from navgym.scenes.prochouse.hard import build_hard_house

    _check_seed(seed)
    split = next((name for name, seeds in SPLITS.items() if seed in seeds), None)
    return build_hard_house(seed, split)


def generate_house(seed: int) -> Scene:
    """The furnished house of ``seed`` (deterministic: same seed, byte-identical scene).

    Args:
        seed: A non-negative int; any seed works, those in :data:`SPLITS` are the dataset.

    Raises:
        ValueError: If ``seed`` is negative or not an int.
    """
    _check_seed(seed)
    split = next((name for name, seeds in SPLITS.items() if seed in seeds), None)
    return build_house(seed, split)


__all__ = ["CATEGORIES", "GENERATOR_VERSION", "SPLITS", "generate_hard_house", "generate_house", "split_of"]
