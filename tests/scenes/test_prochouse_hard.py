"""ProcHouseHard: multi-storey buildings with stairs (issue 20).

The furnishing priors of ProcHouse (tests/scenes/test_prochouse.py) are re-run here on 50 hard
buildings, each seen storey by storey (every instance box lowered by its room's floor height), and
the navigation tests walk up and down real flights.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import itertools
import math
from collections import Counter

import numpy as np
import pytest

from navgym.scenes.prochouse import generate_hard_house
from navgym.scenes.prochouse.building import MAX_RISER
from navgym.scenes.scene import Scene

# The ProcHouse prior tests, run here on the storey-local hard buildings (the ``houses`` fixture
# below): pytest collects them in this module with this module's fixture.
from test_prochouse import (  # noqa: F401
    test_bathroom_fixtures_only_in_bathrooms,
    test_beds_are_in_bedrooms_and_bedrooms_have_beds,
    test_chairs_face_tables_or_desks,
    test_every_living_room_tv_faces_a_sofa,
    test_floor_footprints_do_not_overlap,
    test_kitchens_and_offices_follow_priors,
    test_nightstands_are_next_to_beds,
    test_objects_do_not_intersect,
    test_objects_stay_inside_their_rooms,
    test_relations_are_true,
    test_small_things_stand_on_their_support,
    test_triangle_budget,
    test_wall_mounted_things_stick_out_little_or_hang_high,
)

HOUSE_SEEDS = range(50)
TOL = 1e-4


def _storey_local(house: Scene) -> Scene:
    """A shallow copy whose instance boxes are lowered by their room's floor height."""
    floors = {room.id: room.floor_height for room in house.rooms}
    local = copy.copy(house)
    local.instances = [
        dataclasses.replace(i, bbox_min=i.bbox_min - [0, floors.get(i.room_id, 0.0), 0], bbox_max=i.bbox_max - [0, floors.get(i.room_id, 0.0), 0])
        for i in house.instances
    ]
    local.__dict__.pop("graph", None)
    return local


@pytest.fixture(scope="module")
def buildings() -> list[Scene]:
    return [generate_hard_house(seed) for seed in HOUSE_SEEDS]


@pytest.fixture(scope="module")
def houses(buildings) -> list[Scene]:
    return [_storey_local(b) for b in buildings]


def test_same_seed_gives_identical_building():
    a, b = generate_hard_house(3), generate_hard_house(3)
    for name in ("vertices", "faces", "uvs", "face_material", "face_instance"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert a.metadata == b.metadata and [r.bounds for r in a.rooms] == [r.bounds for r in b.rooms]
    assert not np.array_equal(a.vertices[:100], generate_hard_house(4).vertices[:100])


def test_rooms_storeys_and_stairs(buildings):
    storeys = Counter(len(b.metadata["storeys"]) for b in buildings)
    assert set(storeys) == {1, 2, 3} and storeys[2] >= 15
    counts = [len(b.rooms) for b in buildings]
    assert min(counts) >= 8 and max(counts) <= 20 and np.mean(counts) > 12
    for b in buildings:
        heights = b.metadata["storeys"]
        step = b.metadata["storey_height"]
        assert heights == pytest.approx([k * step for k in range(len(heights))])
        assert {r.floor_height for r in b.rooms} == set(heights)
        assert len(b.metadata["stairs"]) == len(heights) - 1
        for flight in b.metadata["stairs"]:
            assert flight["riser"] <= MAX_RISER + 1e-9 and flight["riser"] * flight["risers"] == pytest.approx(step)
            stairs = b.instance(flight["instance"])
            assert stairs.category == "stairs" and stairs.structural
            lower = heights[flight["storeys"][0]]
            assert stairs.bbox_max[1] == pytest.approx(lower + step - 0.05, abs=2e-3)
        # Rooms of one storey do not overlap (a wall apart); every storey has a bathroom.
        for h in heights:
            rooms = [r for r in b.rooms if r.floor_height == h]
            assert any(r.type == "bathroom" for r in rooms)
            for p, q in itertools.combinations(rooms, 2):
                ox = min(p.bounds[2], q.bounds[2]) - max(p.bounds[0], q.bounds[0])
                oz = min(p.bounds[3], q.bounds[3]) - max(p.bounds[1], q.bounds[1])
                assert ox <= 0.1 - TOL or oz <= 0.1 - TOL, (b.name, p.name, q.name)


def test_doors_and_stairs_connect_every_room(buildings):
    for b in buildings:
        links = [tuple(d["rooms"]) for d in b.metadata["doors"]]
        halls = {}
        for r in b.rooms:
            if r.name.startswith("stairs"):
                halls.setdefault(r.name.split(" ")[1], []).append(r.id)
        links += [tuple(ids) for ids in halls.values()]
        assert all(len(ids) == 2 for ids in halls.values())
        reached, frontier = {b.rooms[0].id}, [b.rooms[0].id]
        while frontier:
            room = frontier.pop()
            for a, c in links:
                for x, y in ((a, c), (c, a)):
                    if x == room and y not in reached:
                        reached.add(y)
                        frontier.append(y)
        assert reached == {r.id for r in b.rooms}, b.name


def test_structure_sits_on_its_storey(buildings):
    for b in buildings[:10]:
        ceiling = b.metadata["ceiling_height"]
        floors = {r.id: r.floor_height for r in b.rooms}
        for inst in b.instances:
            if inst.category == "floor":
                assert inst.bbox_max[1] == pytest.approx(floors[inst.room_id], abs=1e-5)
            if inst.category == "ceiling":
                assert inst.bbox_min[1] == pytest.approx(floors[inst.room_id] + ceiling, abs=1e-4)
        counts = Counter(i.category for i in b.instances if i.structural)
        assert counts["floor"] == counts["wall"] == len(b.rooms)
        assert counts["stairs"] == len(b.metadata["stairs"])


def test_annotations_and_materials(buildings):
    for b in buildings[:10]:
        assert b.face_instance.min() >= 1
        assert set(np.unique(b.face_instance)) == {i.id for i in b.instances}
        assert len(b.materials) < 100


# -- navigation ---------------------------------------------------------------------------------
def _sim(seed):
    pytest.importorskip("embreex")
    from navgym.sims.embedded.simulator import EmbeddedSimulator

    return EmbeddedSimulator(generate_hard_house(seed))


@functools.cache
def _three_storey_seed() -> int:
    return next(s for s in range(40) if len(generate_hard_house(s).metadata["storeys"]) == 3)


def test_every_room_is_reachable_across_storeys(buildings):
    """On all 50 buildings: every room has navigable floor that the first room's reaches, on its
    own storey or through the stairs (the body of Habitat's agent)."""
    pytest.importorskip("embreex")
    from navgym.sims.embedded.simulator import EmbeddedSimulator

    for b in buildings:
        sim = EmbeddedSimulator(b)
        points = []
        for room in b.rooms:
            grid = sim.grid(room.floor_height)
            x0, z0, x1, z1 = room.bounds
            (r0, c0), (r1, c1) = grid.to_cell((x0, 0.0, z0)), grid.to_cell((x1, 0.0, z1))
            # Its floor, or for a stair hall its landing and flight (below the next storey's floor).
            rise = grid.floor_y[r0:r1, c0:c1] - room.floor_height
            cells = np.argwhere(grid.navigable[r0:r1, c0:c1] & (rise > -0.05) & (rise < b.metadata["storey_height"] - 0.2))
            assert len(cells) * 0.05**2 >= 0.15 * (x1 - x0) * (z1 - z0), (b.name, room.name)
            row, col = cells[len(cells) // 2]
            points.append(grid.to_world(int(row + r0), int(col + c0)))
        for room, point in zip(b.rooms[1:], points[1:]):
            assert math.isfinite(sim.geodesic_distance(points[0], point[None])), (b.name, room.name)


def _check_pose(sim, p, body):
    caster = sim.caster
    up = np.array([[0.0, 1.0, 0.0]])
    down = np.array([[0.0, -1.0, 0.0]])
    lifted = (p + [0.0, 0.02, 0.0])[None]
    t_up, prim_up, _, _ = caster.cast(lifted, up)
    assert prim_up[0] < 0 or t_up[0] >= body.height - body.max_climb, f"something {t_up[0]:.2f} m over the agent at {p}"
    t_down, prim_down, _, _ = caster.cast(lifted, down)
    assert prim_down[0] >= 0 and t_down[0] <= 0.02 + body.max_climb + 1e-3, f"nothing under the agent at {p}"
    assert caster.face_normals[prim_down[0], 1] > 0.5


def _walk(sim, start, goal):
    """Follow the shortest path in steps of at most 0.25 m, checking every pose; returns the poses."""
    from navgym.core.specs import AgentState

    body = sim.body()
    sim.set_agent_state(AgentState(np.asarray(start, dtype=np.float64)))
    path = sim.shortest_path(start, goal)
    assert len(path) >= 2
    poses = [sim.get_agent_state().position]
    for target in path[1:]:
        for _ in range(400):
            here = sim.get_agent_state().position
            delta = np.array([target[0] - here[0], 0.0, target[2] - here[2]])
            length = float(np.hypot(delta[0], delta[2]))
            if length < 1e-6:
                break
            sim.move_agent(delta * min(1.0, 0.25 / length))
            now = sim.get_agent_state().position
            _check_pose(sim, now, body)
            assert abs(now[1] - here[1]) <= body.max_climb + 1e-6
            # The body's middle never passes through anything (a floor, a wall, a step).
            mid = (here + [0.0, 0.5, 0.0])[None]
            seg = now - here
            if np.linalg.norm(seg) > 1e-9:
                t, prim, _, _ = sim.caster.cast(mid, (seg / np.linalg.norm(seg))[None], max_distance=float(np.linalg.norm(seg)))
                assert prim[0] < 0, f"passed through instance {sim.scene.face_instance[prim[0]]} between {here} and {now}"
            poses.append(now)
    return np.array(poses)


def test_walking_up_and_down_the_stairs_never_passes_through_a_floor():
    sim = _sim(_three_storey_seed())
    heights = sim.storey_heights()
    links = sim.storey_links()
    rng = np.random.default_rng(0)
    bottom = links.grids[0].sample(rng)
    bottom = links.grids[0].nearest_navigable([bottom[0], heights[0], bottom[2]])[0]
    top_grid = links.grids[-1]
    top = next(p for p in (top_grid.sample(rng) for _ in range(100)) if abs(p[1] - heights[-1]) < 1e-6)
    up = _walk(sim, bottom, top)
    assert up[-1][1] == pytest.approx(heights[-1], abs=1e-5) and np.hypot(*(up[-1] - top)[[0, 2]]) < 0.05
    # It climbed through every storey.
    assert all(np.any(np.abs(up[:, 1] - h) < 1e-6) for h in heights)
    down = _walk(sim, top, bottom)
    assert down[-1][1] == pytest.approx(heights[0], abs=1e-5) and np.hypot(*(down[-1] - bottom)[[0, 2]]) < 0.05


def test_geodesics_across_storeys_equal_the_shortest_paths_lengths():
    sim = _sim(_three_storey_seed())
    heights = sim.storey_heights()
    links = sim.storey_links()
    assert len(links.portals) >= 2 and {p.lower for p in links.portals} == {0, 1}
    rng = np.random.default_rng(1)
    checked = 0
    for _ in range(12):
        a = links.grids[int(rng.integers(len(heights)))].sample(rng)
        b = links.grids[int(rng.integers(len(heights)))].sample(rng)
        d = sim.geodesic_distance(a, b[None])
        assert math.isfinite(d)
        path = sim.shortest_path(a, b)
        length = float(np.sum(np.hypot(np.diff(path[:, 0]), np.diff(path[:, 2]))))
        assert length == pytest.approx(d, rel=0.03, abs=0.1)
        assert np.hypot(*(path[-1] - b)[[0, 2]]) < 0.05 and abs(path[-1][1] - b[1]) < 0.2
        # Symmetric, and never below the straight line.
        assert sim.geodesic_distance(b, a[None]) == pytest.approx(d, rel=0.03, abs=0.1)
        assert d >= np.hypot(*(a - b)[[0, 2]]) - 1e-6
        checked += abs(a[1] - b[1]) > 2.0
    assert checked >= 3  # most pairs were on different storeys


def test_a_goal_on_another_storey_is_farther_than_its_straight_line():
    sim = _sim(_three_storey_seed())
    heights = sim.storey_heights()
    links = sim.storey_links()
    rng = np.random.default_rng(2)
    stairs = links.portals[0].point
    for _ in range(200):
        a = links.grids[0].sample(rng)
        if abs(a[1] - heights[0]) < 1e-6 and np.hypot(*(a - stairs)[[0, 2]]) > 3.0:
            break
    above = links.grids[1].nearest_navigable(a + [0.0, heights[1], 0.0])[0]
    assert abs(above[1] - heights[1]) < 1e-6
    # Nearly right above: the way goes to the stairs and back, farther than the 3 m to them.
    assert sim.geodesic_distance(a, above[None]) > 3.0 + np.hypot(*(a - above)[[0, 2]])


def test_bodies_that_cannot_climb_a_riser_stay_on_their_storey():
    pytest.importorskip("embreex")
    from navgym.core.specs import BodySpec
    from navgym.sims.embedded.simulator import EmbeddedSimulator

    seed = _three_storey_seed()
    low = EmbeddedSimulator(generate_hard_house(seed), body=BodySpec(radius=0.1, height=0.2, max_climb=0.05))
    links = low.storey_links()
    assert links.portals == []
    rng = np.random.default_rng(0)
    a, b = links.grids[0].sample(rng), links.grids[1].sample(rng)
    assert low.geodesic_distance(a, b[None]) == math.inf


def test_storeys_are_found_from_the_geometry_too():
    pytest.importorskip("embreex")
    from navgym.sims.embedded.simulator import EmbeddedSimulator

    seed = _three_storey_seed()
    house = generate_hard_house(seed)
    expected = house.metadata["storeys"]
    house.metadata = {k: v for k, v in house.metadata.items() if k != "storeys"}
    assert EmbeddedSimulator(house).storey_heights() == pytest.approx(expected, abs=0.06)


def test_topdown_maps_per_storey():
    sim = _sim(_three_storey_seed())
    maps = [sim.topdown_map(h) for h in sim.storey_heights()]
    areas = [int((m.grid == 2).sum()) for m in maps]
    assert all(a > 0 for a in areas)
    assert not np.array_equal(maps[0].grid, maps[1].grid)


def test_past_a_portal_point_the_path_goes_on_not_back():
    """On a flight the agent may plan from either storey's grid: just past a portal point (up the
    mid-height tread), the way to the upper storey goes on up, not back to the point (a follower
    that went back oscillated around the tread until its time ran out)."""
    sim = _sim(_three_storey_seed())
    heights = sim.storey_heights()
    links = sim.storey_links()
    flight = sim.scene.metadata["stairs"][0]
    portal = next(p for p in links.portals if p.lower == 0).point
    # On the portal's tread, 10 cm further up the flight; 1 cm lower than the tread, so that the
    # lower storey is the nearest (in this building the tread is exactly at mid-height).
    here = portal + [0.1 * flight["direction"], -0.01, 0.0]
    assert links.storey_of(here[1]) == 0
    assert links.grids[0].is_navigable(here) and links.grids[1].is_navigable(here)
    rng = np.random.default_rng(3)
    goal = next(p for p in (links.grids[1].sample(rng) for _ in range(200)) if abs(p[1] - heights[1]) < 1e-6)
    path = sim.shortest_path(here, goal)
    assert np.hypot(*(path[1] - portal)[[0, 2]]) > 0.05
    assert (path[1][0] - here[0]) * flight["direction"] > 0
    assert sim.geodesic_distance(here, goal[None]) < sim.geodesic_distance(portal, goal[None])


def test_flights_are_straight_or_l_shaped(buildings):
    shapes = Counter(f["shape"] for b in buildings for f in b.metadata["stairs"])
    assert set(shapes) == {"straight", "L"} and min(shapes.values()) >= 0.3 * sum(shapes.values())
    for b in buildings:
        for f in b.metadata["stairs"]:
            if f["shape"] != "L":
                continue
            x0, z0, x1, z1 = f["strip"]
            q = f["quarter_landing"]
            # The quarter landing sits in the strip's far corner, against the outer wall.
            assert q[2] - q[0] == pytest.approx(f["width"]) and q[3] - q[1] == pytest.approx(f["width"])
            assert (q[0] if f["direction"] < 0 else q[2]) == pytest.approx(x0 if f["direction"] < 0 else x1)
            assert (q[1] if f["inward"] > 0 else q[3]) == pytest.approx(z0 if f["inward"] > 0 else z1)
            # The second run (risers - turn) ends a landing's length (1.2 m) from the inner wall.
            assert 4 <= f["risers"] - f["turn"] <= 7
            assert abs((z1 if f["inward"] > 0 else z0) - f["end"]) >= 1.2 - 0.02


@functools.cache
def _l_flight_seed() -> int:
    return next(s for s in range(40) if [f["shape"] for f in generate_hard_house(s).metadata["stairs"]] == ["L"])


def test_walking_up_and_down_an_l_shaped_flight_turns_on_its_quarter_landing():
    sim = _sim(_l_flight_seed())
    heights = sim.storey_heights()
    flight = sim.scene.metadata["stairs"][0]
    links = sim.storey_links()
    rng = np.random.default_rng(2)
    bottom = next(p for p in (links.grids[0].sample(rng) for _ in range(100)) if abs(p[1] - heights[0]) < 1e-6)
    top = next(p for p in (links.grids[1].sample(rng) for _ in range(100)) if abs(p[1] - heights[1]) < 1e-6)
    for a, b in ((bottom, top), (top, bottom)):
        poses = _walk(sim, a, b)  # checks every pose and step: no floor, wall or railing passed through
        assert np.hypot(*(poses[-1] - b)[[0, 2]]) < 0.05 and poses[-1][1] == pytest.approx(b[1], abs=1e-5)
        x0, z0, x1, z1 = flight["quarter_landing"]
        landing = flight["turn"] * flight["riser"]
        on = [p for p in poses if x0 <= p[0] <= x1 and z0 <= p[2] <= z1 and abs(p[1] - landing) < 1e-3]
        assert on, "the way between the storeys crosses the quarter landing"


def test_nobody_walks_off_the_open_side_of_an_l_shaped_flight():
    """Beside an L-shaped flight the lower hall (the well) is at the lower floor: navigable cells of
    the lower storey's grid never neighbour cells more than a riser higher or lower."""
    sim = _sim(_l_flight_seed())
    for grid in sim.storey_links().grids:
        y = np.where(grid.navigable, grid.floor_y, np.nan)
        for dy in (np.abs(np.diff(y, axis=0)), np.abs(np.diff(y, axis=1))):
            assert np.nanmax(dy) <= sim.body().max_climb + 1e-6


def test_narrow_doors_stop_wide_bodies_only(buildings):
    """Some extra doors are 0.44-0.48 m wide: the default body (radius 0.18 m) passes them, the
    Unitree H1's (0.25 m) does not."""
    pytest.importorskip("embreex")
    from navgym.core.specs import BodySpec
    from navgym.scenes.prochouse.building import NARROW_DOOR
    from navgym.sims.embedded.simulator import EmbeddedSimulator

    narrow = [(b, d) for b in buildings for d in b.metadata["doors"] if d["width"] < 0.6]
    assert len(narrow) >= 5 and all(NARROW_DOOR[0] <= d["width"] <= NARROW_DOOR[1] for _, d in narrow)
    assert len({b.name for b, _ in narrow}) >= 0.15 * len(buildings)
    for b, door in narrow[:3]:
        wide = EmbeddedSimulator(b, body=BodySpec(radius=0.25, height=1.8, max_climb=0.15))
        default = EmbeddedSimulator(b)
        h = b.metadata["storeys"][door["storey"]]
        cx, cz = door["center"]
        ahead = np.array([0.0, 0.0, 0.35]) if door["axis"] == "x" else np.array([0.35, 0.0, 0.0])
        centre = np.array([cx, h, cz])
        assert default.is_navigable(centre) and not wide.is_navigable(centre)
        # The default body's way from one side to the other goes through the door (close), the
        # wide body's around it (farther) or nowhere.
        a, c = default.snap_point(centre - ahead), default.snap_point(centre + ahead)
        assert default.geodesic_distance(a, c[None]) < 1.0
        assert wide.geodesic_distance(a, c[None]) > 1.5


def test_where_a_walker_moves_on_the_stairs_its_plan_can_go():
    """A flight lies on both storeys' grids. A walker moves on the grid of the storey nearest its
    height and may plan on either: wherever the other grid holds the same surface and calls it
    navigable, the moving grid must too, or the walker pushes against nothing it can pass (a
    balustrade whose top stepped with the treads was walkable on the upper grid and hid the treads
    beside it from the clearance there: the oracle stuck on 8 of 120 hard test episodes)."""
    for seed in (_l_flight_seed(), _three_storey_seed()):
        links = _sim(seed).storey_links()
        for lower, upper in zip(links.grids, links.grids[1:]):
            same = lower.floor_ok & upper.floor_ok & (np.abs(lower.floor_y - upper.floor_y) < 0.01)
            assert same.sum() > 100
            nearer_lower = lower.floor_y - lower.floor_height <= upper.floor_height - lower.floor_y
            moving = np.where(nearer_lower, lower.navigable, upper.navigable)
            other = np.where(nearer_lower, upper.navigable, lower.navigable)
            assert not (same & other & ~moving).any(), (seed, np.argwhere(same & other & ~moving)[:5])
