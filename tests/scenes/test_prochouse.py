"""ProcHouse: determinism, layout, priors, geometry and annotations, checked from the scene itself.

Most checks recompute what they verify from the triangles and boxes rather than trusting the
generator's own bookkeeping.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest

from navgym.scenes.prochouse import CATEGORIES, GENERATOR_VERSION, SPLITS, generate_house, split_of
from navgym.scenes.prochouse.geometry import Box, Cylinder, MeshBuilder, Pose
from navgym.scenes.prochouse.relations import faces
from navgym.scenes.scene import Scene

HOUSE_SEEDS = range(50)
HM3D_CATEGORIES = ("chair", "bed", "plant", "toilet", "tv_monitor", "sofa")
MP3D_CATEGORIES = (
    "chair", "table", "picture", "cabinet", "cushion", "sofa", "bed", "chest_of_drawers", "plant", "sink",
    "toilet", "stool", "towel", "tv_monitor", "shower", "bathtub", "counter", "fireplace", "gym_equipment",
    "seating", "clothes",
)
BATHROOM_ONLY = ("toilet", "shower", "bathtub", "towel")
TOL = 1e-4


@pytest.fixture(scope="module")
def houses() -> list[Scene]:
    return [generate_house(seed) for seed in HOUSE_SEEDS]


def _objects_by_room(scene: Scene) -> dict[int, list]:
    rooms: dict[int, list] = {room.id: [] for room in scene.rooms}
    for obj in scene.objects():
        rooms[obj.room_id].append(obj)
    return rooms


def _on_pairs(scene: Scene) -> set[tuple[int, int]]:
    return {(r.subject, r.object) for r in scene.relations if r.relation == "on"}


def _overlap_volume(a, b) -> float:
    extent = np.minimum(a.bbox_max, b.bbox_max) - np.maximum(a.bbox_min, b.bbox_min)
    return float(np.prod(np.clip(extent, 0.0, None)))


def _box_gap(a, b) -> float:
    gap = np.maximum(0.0, np.maximum(a.bbox_min - b.bbox_max, b.bbox_min - a.bbox_max))
    return float(np.linalg.norm(gap))


def _ray_hits_footprint(origin, direction, lo, hi) -> bool:
    """2D slab test: does the ray origin + t * direction (t >= 0) cross [lo, hi] (x, z)?"""
    t_enter, t_leave = -math.inf, math.inf
    for o, d, a, b in zip(origin, direction, lo, hi):
        if abs(d) < 1e-9:
            if not a <= o <= b:
                return False
            continue
        t0, t1 = sorted(((a - o) / d, (b - o) / d))
        t_enter, t_leave = max(t_enter, t0), min(t_leave, t1)
    return t_leave >= max(t_enter, 0.0)


def _winding_numbers(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Generalised winding number of each point w.r.t. a triangle soup (Van Oosterom-Strackee)."""
    a = triangles[None, :, 0, :] - points[:, None, :]
    b = triangles[None, :, 1, :] - points[:, None, :]
    c = triangles[None, :, 2, :] - points[:, None, :]
    la, lb, lc = (np.linalg.norm(v, axis=2) for v in (a, b, c))
    numerator = np.einsum("qtk,qtk->qt", a, np.cross(b, c))
    denominator = (
        la * lb * lc + np.einsum("qtk,qtk->qt", a, b) * lc + np.einsum("qtk,qtk->qt", b, c) * la
        + np.einsum("qtk,qtk->qt", c, a) * lb
    )
    return (2.0 * np.arctan2(numerator, denominator)).sum(axis=1) / (4.0 * np.pi)


# -- API, determinism, splits ---------------------------------------------------------------------
def test_same_seed_gives_identical_house():
    a, b = generate_house(123), generate_house(123)
    for field in ("vertices", "faces", "uvs", "face_material", "face_instance"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert [(m.name, m.kind, m.color) for m in a.materials] == [(m.name, m.kind, m.color) for m in b.materials]
    assert all(np.array_equal(x.texture, y.texture) for x, y in zip(a.materials, b.materials))
    key = lambda i: (i.id, i.category, i.room_id, i.bbox_min.tolist(), i.bbox_max.tolist(), i.attributes, i.front)
    assert [key(i) for i in a.instances] == [key(i) for i in b.instances]
    assert a.rooms == b.rooms and a.relations == b.relations and a.metadata == b.metadata


def test_different_seeds_give_different_houses():
    a, b = generate_house(1), generate_house(2)
    assert a.vertices.shape != b.vertices.shape or not np.array_equal(a.vertices, b.vertices)
    assert [r.bounds for r in a.rooms] != [r.bounds for r in b.rooms]


@pytest.mark.parametrize("seed", [-1, 1.5, "3", None, True])
def test_bad_seed_is_rejected(seed):
    with pytest.raises(ValueError, match="seed"):
        generate_house(seed)


def test_splits_are_disjoint_and_named():
    assert SPLITS["train"] == range(0, 1_000_000)
    assert SPLITS["val"] == range(1_000_000, 1_001_000)
    assert SPLITS["test"] == range(2_000_000, 2_001_000)
    for (_, a), (_, b) in itertools.combinations(SPLITS.items(), 2):
        assert not set(range(max(a.start, b.start), min(a.stop, b.stop)))
    assert [split_of(s) for s in (0, 999_999, 1_000_000, 2_000_999)] == ["train", "train", "val", "test"]
    with pytest.raises(ValueError, match="seed"):
        split_of(1_500_000)


def test_metadata():
    scene = generate_house(1_000_005)
    assert scene.metadata["generator_version"] == GENERATOR_VERSION == 1
    assert scene.metadata["seed"] == 1_000_005 and scene.metadata["split"] == "val"
    assert scene.name == "prochouse_1000005"


# -- layout ---------------------------------------------------------------------------------------
def test_room_counts_types_and_names(houses):
    counts = Counter(len(h.rooms) for h in houses)
    assert min(counts) >= 3 and max(counts) <= 10 and len(counts) >= 5
    allowed = {"living_room", "kitchen", "bedroom", "bathroom", "office", "dining_room", "hallway", "laundry"}
    for house in houses:
        types = [r.type for r in house.rooms]
        assert set(types) <= allowed
        if len(types) >= 4:
            assert "bedroom" in types and "bathroom" in types
        assert len({r.name for r in house.rooms}) == len(types)
        for room in house.rooms:
            assert room.name.startswith(room.type.replace("_", " "))


def test_rooms_do_not_overlap_and_small_rooms_are_small(houses):
    areas = Counter()
    for house in houses:
        for a, b in itertools.combinations(house.rooms, 2):
            overlap_x = min(a.bounds[2], b.bounds[2]) - max(a.bounds[0], b.bounds[0])
            overlap_z = min(a.bounds[3], b.bounds[3]) - max(a.bounds[1], b.bounds[1])
            assert overlap_x <= 0.1 - TOL or overlap_z <= 0.1 - TOL  # at least a wall apart
        for room in house.rooms:
            x0, z0, x1, z1 = room.bounds
            areas[room.type] = max(areas[room.type], (x1 - x0) * (z1 - z0))
    assert areas["bathroom"] < 10 and areas["laundry"] < 8 and areas["living_room"] > 15


def test_ceiling_height_and_floor_level(houses):
    for house in houses:
        height = house.metadata["ceiling_height"]
        assert 2.6 <= height <= 2.8
        for inst in house.instances:
            if inst.category == "floor":
                assert inst.bbox_max[1] == pytest.approx(0.0, abs=1e-6)
            if inst.category == "ceiling":
                assert inst.bbox_min[1] == pytest.approx(height, abs=1e-5)
            if inst.category == "wall":
                assert inst.bbox_min[1] == pytest.approx(0.0, abs=1e-6)
                assert inst.bbox_max[1] == pytest.approx(height, abs=1e-5)


def test_door_graph_connects_every_room(houses):
    for house in houses:
        doors = house.metadata["doors"]
        ids = {r.id for r in house.rooms}
        reached, frontier = {0}, [0]
        while frontier:
            room = frontier.pop()
            for door in doors:
                if room in door["rooms"]:
                    other = door["rooms"][1] if door["rooms"][0] == room else door["rooms"][0]
                    if other not in reached:
                        reached.add(other)
                        frontier.append(other)
        assert reached == ids
        for door in doors:
            assert door["width"] >= 0.9 - 1e-9 and door["height"] == pytest.approx(2.1)
            assert house.instance(door["instance"]).category == "door_frame"


def _segment_hits(scene: Scene, start: np.ndarray, end: np.ndarray) -> bool:
    """Whether the segment crosses any triangle (Moller-Trumbore, all triangles at once)."""
    tri = scene.vertices[scene.faces].astype(np.float64)
    direction = end - start
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    p = np.cross(direction, e2)
    det = np.einsum("ij,ij->i", e1, p)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = start - tri[:, 0]
    u = np.einsum("ij,ij->i", s, p) * inv
    q = np.cross(s, e1)
    v = (q @ direction) * inv
    t = np.einsum("ij,ij->i", e2, q) * inv
    return bool(np.any(ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t >= 0) & (t <= 1)))


def test_door_openings_are_open_with_a_lintel(houses):
    for house in houses[:10]:
        for door in house.metadata["doors"]:
            x, z = door["center"]
            across = np.array([0.0, 0.0, 1.0]) if door["axis"] == "x" else np.array([1.0, 0.0, 0.0])
            along = np.array([1.0, 0.0, 0.0]) if door["axis"] == "x" else np.array([0.0, 0.0, 1.0])
            for offset in (-(door["width"] / 2 - 0.2), 0.0, door["width"] / 2 - 0.2):
                for y in (0.3, 1.0, 1.9):
                    centre = np.array([x, y, z]) + offset * along
                    assert not _segment_hits(house, centre - 0.3 * across, centre + 0.3 * across)
            centre = np.array([x, 2.3, z])
            assert _segment_hits(house, centre - 0.3 * across, centre + 0.3 * across)


def test_doors_keep_clear_space_on_both_sides(houses):
    for house in houses:
        for door in house.metadata["doors"]:
            x, z = door["center"]
            half = door["width"] / 2
            if door["axis"] == "x":
                zone = (x - half, z - 0.05 - 0.8, x + half, z + 0.05 + 0.8)
            else:
                zone = (x - 0.05 - 0.8, z - half, x + 0.05 + 0.8, z + half)
            for obj in house.objects():
                if obj.bbox_min[1] >= 2.1:
                    continue
                inside = (
                    obj.bbox_min[0] < zone[2] - TOL and zone[0] < obj.bbox_max[0] - TOL
                    and obj.bbox_min[2] < zone[3] - TOL and zone[1] < obj.bbox_max[2] - TOL
                )
                assert not inside, (house.name, obj.category, door)


# -- categories and priors ------------------------------------------------------------------------
def test_category_library_covers_benchmarks(houses):
    assert len(CATEGORIES) >= 25 and len(set(CATEGORIES)) == len(CATEGORIES)
    assert set(HM3D_CATEGORIES) <= set(CATEGORIES) and set(MP3D_CATEGORIES) <= set(CATEGORIES)
    generated = {obj.category for house in houses for obj in house.objects()}
    assert set(CATEGORIES) <= generated, set(CATEGORIES) - generated
    assert generated <= set(CATEGORIES)


def test_bathroom_fixtures_only_in_bathrooms(houses):
    seen = Counter()
    for house in houses:
        for obj in house.objects():
            if obj.category in BATHROOM_ONLY:
                room = house.room(obj.room_id)
                assert room.type == "bathroom", (house.name, obj.category, room.type)
                assert room.contains(obj.center[0], obj.center[2]), (house.name, obj.category)
                seen[obj.category] += 1
    assert all(seen[c] > 0 for c in BATHROOM_ONLY)


def test_beds_are_in_bedrooms_and_bedrooms_have_beds(houses):
    rooms = [(h.room(bed.room_id), bed.center) for h in houses for bed in h.objects("bed")]
    in_bedrooms = [room.type == "bedroom" and room.contains(centre[0], centre[2]) for room, centre in rooms]
    assert in_bedrooms and sum(in_bedrooms) >= 0.9 * len(in_bedrooms)
    bedrooms = [(h, r) for h in houses for r in h.rooms if r.type == "bedroom"]
    with_bed = sum(any(o.room_id == r.id for o in h.objects("bed")) for h, r in bedrooms)
    assert with_bed >= 0.9 * len(bedrooms)


def test_every_living_room_tv_faces_a_sofa(houses):
    count = 0
    for house in houses:
        facing = {(r.subject, r.object) for r in house.relations if r.relation == "facing"}
        for tv in house.objects("tv_monitor"):
            if house.room(tv.room_id).type != "living_room":
                continue
            count += 1
            assert tv.front is not None
            sofas = [s for s in house.objects("sofa") if s.room_id == tv.room_id]
            origin = tv.center[[0, 2]]
            faced = [s for s in sofas if _ray_hits_footprint(origin, tv.front, s.bbox_min[[0, 2]], s.bbox_max[[0, 2]])]
            assert faced, house.name
            # ``facing`` is recorded within FACING_DISTANCE only (a big ProcHouseHard living room
            # can put the sofa further away).
            near = [s for s in faced if faces(tv.front, tv.bbox_min, tv.bbox_max, s.bbox_min, s.bbox_max)]
            assert any((tv.id, s.id) in facing for s in near) or not near, house.name
    assert count >= 25


def test_kitchens_and_offices_follow_priors(houses):
    for house in houses:
        rooms = _objects_by_room(house)
        for room in house.rooms:
            cats = {o.category for o in rooms[room.id]}
            if room.type == "kitchen":
                assert {"stove", "refrigerator", "sink", "counter"} <= cats, house.name
            if room.type == "office":
                assert {"desk", "chair"} <= cats, house.name
            if room.type == "laundry":
                assert "washing_machine" in cats, house.name


def test_chairs_face_tables_or_desks(houses):
    chairs, facing_ok = 0, 0
    for house in houses:
        facing = {(r.subject, house.instance(r.object).category) for r in house.relations if r.relation == "facing"}
        for chair in house.objects("chair"):
            chairs += 1
            facing_ok += (chair.id, "table") in facing or (chair.id, "desk") in facing
    assert chairs > 20 and facing_ok >= 0.9 * chairs


# -- placement ------------------------------------------------------------------------------------
def test_objects_stay_inside_their_rooms(houses):
    for house in houses:
        height = house.metadata["ceiling_height"]
        for obj in house.objects():
            x0, z0, x1, z1 = house.room(obj.room_id).bounds
            assert obj.bbox_min[0] >= x0 - TOL and obj.bbox_min[2] >= z0 - TOL, (house.name, obj.category)
            assert obj.bbox_max[0] <= x1 + TOL and obj.bbox_max[2] <= z1 + TOL, (house.name, obj.category)
            assert -TOL <= obj.bbox_min[1] and obj.bbox_max[1] <= height - 0.05


def test_objects_do_not_intersect(houses):
    for house in houses:
        on = _on_pairs(house)
        for objects in _objects_by_room(house).values():
            for a, b in itertools.combinations(objects, 2):
                if (a.id, b.id) in on or (b.id, a.id) in on:
                    continue
                assert _overlap_volume(a, b) < 1e-7, (house.name, a.category, b.category)


def test_floor_footprints_do_not_overlap(houses):
    for house in houses:
        for objects in _objects_by_room(house).values():
            floor = [o for o in objects if o.bbox_min[1] < 0.05]
            for a, b in itertools.combinations(floor, 2):
                dx = min(a.bbox_max[0], b.bbox_max[0]) - max(a.bbox_min[0], b.bbox_min[0])
                dz = min(a.bbox_max[2], b.bbox_max[2]) - max(a.bbox_min[2], b.bbox_min[2])
                assert dx <= TOL or dz <= TOL, (house.name, a.category, b.category)


def test_wall_mounted_things_stick_out_little_or_hang_high(houses):
    hung = Counter()
    for house in houses:
        supported = {subject for subject, _ in _on_pairs(house)}
        for obj in house.objects():
            if obj.bbox_min[1] < 0.3 or obj.id in supported:
                continue  # standing on the floor or on something
            x0, z0, x1, z1 = house.room(obj.room_id).bounds
            wall_gap = min(obj.bbox_min[0] - x0, x1 - obj.bbox_max[0], obj.bbox_min[2] - z0, z1 - obj.bbox_max[2])
            assert wall_gap <= 0.01, (house.name, obj.category)  # floating things hang on a wall
            depth = min(obj.bbox_max[0] - obj.bbox_min[0], obj.bbox_max[2] - obj.bbox_min[2])
            assert obj.bbox_min[1] >= 1.6 or depth <= 0.1, (house.name, obj.category, depth)
            hung[obj.category] += 1
    assert {"picture", "mirror", "towel", "tv_monitor", "cabinet"} <= set(hung)


def test_small_things_stand_on_their_support(houses):
    for house in houses:
        for subject, support in _on_pairs(house):
            a, b = house.instance(subject), house.instance(support)
            assert a.room_id == b.room_id
            assert b.bbox_min[1] + 0.1 <= a.bbox_min[1] <= b.bbox_max[1] + TOL, (a.category, b.category)
            cx, cz = a.center[0], a.center[2]
            assert b.bbox_min[0] <= cx <= b.bbox_max[0] and b.bbox_min[2] <= cz <= b.bbox_max[2]
        small = [o for o in house.objects() if o.category in ("book", "vase", "laptop", "bowl", "cushion", "microwave")]
        supported = {s for s, _ in _on_pairs(house)}
        assert all(o.id in supported for o in small)


def test_relations_are_true(houses):
    for house in houses:
        for rel in house.relations:
            a, b = house.instance(rel.subject), house.instance(rel.object)
            assert a.id != b.id and not a.structural and not b.structural
            if rel.relation == "next_to":
                assert a.room_id == b.room_id and _box_gap(a, b) <= 0.5 + TOL
            elif rel.relation == "near":
                assert a.room_id == b.room_id and 0.5 - TOL <= _box_gap(a, b) <= 1.5 + TOL
            elif rel.relation == "facing":
                assert a.front is not None
                assert _ray_hits_footprint(a.center[[0, 2]], a.front, b.bbox_min[[0, 2]], b.bbox_max[[0, 2]])
            else:
                assert rel.relation == "on"


def test_nightstands_are_next_to_beds(houses):
    stands, beside = 0, 0
    for house in houses:
        pairs = {(r.subject, house.instance(r.object).category) for r in house.relations if r.relation == "next_to"}
        for stand in house.objects("nightstand"):
            stands += 1
            beside += (stand.id, "bed") in pairs
    assert stands > 20 and beside >= 0.9 * stands


def test_annotations_are_complete(houses):
    for house in houses:
        assert house.face_instance.min() >= 1
        assert set(np.unique(house.face_instance)) == {i.id for i in house.instances}
        counts = Counter(i.category for i in house.instances if i.structural)
        assert counts["floor"] == counts["ceiling"] == counts["wall"] == len(house.rooms)
        for obj in house.objects():
            attrs = obj.attributes
            assert isinstance(attrs["color"], str) and attrs["color"]
            assert isinstance(attrs["material"], str) and attrs["material"]
            assert attrs["size"] in ("small", "medium", "large")
            if obj.front is not None:
                assert math.hypot(*obj.front) == pytest.approx(1.0)


def test_bounding_boxes_come_from_triangles(houses):
    house = houses[0]
    tri = house.vertices[house.faces]
    for inst in house.instances:
        mask = house.face_instance == inst.id
        assert np.allclose(inst.bbox_min, tri[mask].reshape(-1, 3).min(axis=0))
        assert np.allclose(inst.bbox_max, tri[mask].reshape(-1, 3).max(axis=0))


# -- geometry and materials -----------------------------------------------------------------------
def test_primitives_are_closed_and_wound_outwards():
    builder = MeshBuilder([0.5])
    parts = [Box((0.0, 0.0, 0.0), (1.0, 2.0, 3.0), 0)]
    parts += [Cylinder((0.5, 1.0, -0.5), 0.3, 0.7, axis, 0) for axis in range(3)]
    parts += [Pose(turns, 2.0, 1.0, 0.5).apply(part) for turns in range(4) for part in parts[:4]]
    for k, part in enumerate(parts, start=1):
        builder.add(part, k)
    mesh = builder.build()
    tri = mesh.vertices[mesh.faces].astype(np.float64)
    for k, part in enumerate(parts, start=1):
        t = tri[mesh.face_instance == k]
        volume = np.einsum("ij,ij->i", t[:, 0], np.cross(t[:, 1], t[:, 2])).sum() / 6.0
        lo, hi = part.bounds()
        if isinstance(part, Box):
            expected = np.prod(hi - lo)
        else:  # a 12-gon prism
            expected = 6 * math.sin(2 * math.pi / 12) * part.radius**2 * 2 * part.half_length
        assert volume == pytest.approx(expected, rel=1e-4)
        normals = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
        outward = t.mean(axis=1) - (lo + hi) / 2
        assert np.all(np.einsum("ij,ij->i", normals, outward) > 0)


def test_house_triangles_are_wound_outwards():
    house = generate_house(11)
    tri = house.vertices[house.faces].astype(np.float64)
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    centroids = tri.mean(axis=1)
    rng = np.random.default_rng(0)
    diffs = []
    for inst in house.instances:
        index = np.flatnonzero(house.face_instance == inst.id)
        sample = rng.choice(index, size=min(len(index), 120), replace=False)
        eps = 2e-4
        inside = _winding_numbers(centroids[sample] - eps * normals[sample], tri[index])
        outside = _winding_numbers(centroids[sample] + eps * normals[sample], tri[index])
        diffs.append(inside - outside)
    diffs = np.concatenate(diffs)
    # Crossing one outward face inwards raises the winding number by one; never lowers it.
    assert np.all(diffs > -0.5)
    assert np.mean(np.abs(diffs - 1.0) < 0.05) > 0.95


def test_uvs_tile_at_constant_density(houses):
    house = houses[3]
    tri = house.vertices[house.faces].astype(np.float64)
    uv = house.uvs[house.faces].astype(np.float64)
    world = np.linalg.norm(tri[:, 1] - tri[:, 0], axis=1)
    tex = np.linalg.norm(uv[:, 1] - uv[:, 0], axis=1)
    for index, material in enumerate(house.materials):
        if material.kind in ("picture", "screen"):
            continue
        mask = (house.face_material == index) & (world > 1e-3)
        ratio = tex[mask] / world[mask]
        assert ratio.max() <= ratio.min() * 1.03, material.name  # 12-gon chords vs arcs differ 1.2%


def test_materials_are_few_with_small_textures(houses):
    for house in houses:
        assert len(house.materials) < 80
        pictures = [m for m in house.materials if m.kind == "picture"]
        assert len({m.texture.tobytes() for m in pictures}) == len(pictures)
        for material in house.materials:
            assert material.texture.shape == (64, 64, 3) and material.texture.dtype == np.uint8
    kinds = {m.kind for house in houses for m in house.materials}
    assert {"wood", "tile", "carpet", "paint", "fabric", "metal", "plastic", "ceramic"} <= kinds
    assert {"glass", "leaf", "screen", "picture"} <= kinds


def test_floors_and_walls_vary(houses):
    floor_instances = [i for h in houses for i in h.instances if i.category == "floor"]
    floors = {(i.attributes["material"], i.attributes["color"]) for i in floor_instances}
    walls = {i.attributes["color"] for h in houses for i in h.instances if i.category == "wall"}
    assert {m for m, _ in floors} == {"wood", "tile", "carpet"} and len(floors) > 10 and len(walls) > 6


def test_triangle_budget(houses):
    assert max(len(h.faces) for h in houses) < 60_000


def test_whole_house_is_walkable():
    """With the embedded simulator's navigation grid: one region reaches every room."""
    pytest.importorskip("embreex")
    from navgym.sims.embedded.navgrid import NavGrid
    from navgym.sims.embedded.raycast import RayCaster

    for seed in range(5):
        house = generate_house(seed)
        grid = NavGrid(RayCaster(house), 0.0, 0.18, 1.5, 0.2, 0.05)
        main = grid.labels == grid.largest_label
        assert main.sum() >= 0.98 * grid.navigable.sum(), house.name
        for room in house.rooms:
            x0, z0, x1, z1 = room.bounds
            (r0, c0), (r1, c1) = grid.to_cell((x0, 0.0, z0)), grid.to_cell((x1, 0.0, z1))
            reachable_area = main[r0:r1, c0:c1].sum() * 0.05**2
            assert reachable_area >= 0.2 * (x1 - x0) * (z1 - z0), (house.name, room.name)
