"""The online scene graph on hand-made detections, hand-made maps and a hand-built room."""

from __future__ import annotations

import math

import numpy as np
import pytest

from navgym.agents.mapping import OccupancyMap, Pose2D
from navgym.agents.perception import Detection, GroundTruthPerception, InstanceLabel
from navgym.agents.scene_graph import Edge, OnlineSceneGraph, RegionMap
from navgym.core.specs import AgentState, CameraSpec
from navgym.errors import InvalidArgumentError
from navgym.scenes.builder import SceneBuilder
from navgym.sims.embedded.simulator import EmbeddedSimulator


def box(category, lo, hi, instance_id=None, confidence=1.0, front=None, **attributes):
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    return Detection(category, confidence, instance_id, position=(lo + hi) / 2, extent=(lo, hi), attributes=attributes, front=None if front is None else np.asarray(front, float))


def has(triples, subject, relation, obj):
    """Whether the triple is there (symmetric relations in either order)."""
    return (subject, relation, obj) in triples or (relation in ("next to", "near") and (obj, relation, subject) in triples)


def living_room():
    """A table, a vase on it, a chair next to it facing it, a sofa 1 m away, a lamp 3 m away."""
    return [
        box("table", (0, 0, 0), (1.2, 0.75, 0.8), 1),
        box("vase", (0.5, 0.76, 0.3), (0.7, 1.0, 0.5), 2, color="blue"),
        box("chair", (-0.6, 0, 0.2), (-0.2, 0.9, 0.6), 3, front=(1.0, 0.0)),
        box("sofa", (2.2, 0, 0), (4.0, 0.8, 0.9), 4),
        box("lamp", (7.0, 0, 0), (7.3, 1.5, 0.3), 5),
    ]


def test_relations_from_geometry_and_their_text():
    graph = OnlineSceneGraph()
    graph.update(living_room())
    ids = {n.category: n.id for n in graph.nodes.values()}
    edges = set(graph.edges())
    assert Edge(ids["vase"], "on", ids["table"]) in edges
    assert Edge(ids["chair"], "next_to", ids["table"]) in edges and Edge(ids["table"], "next_to", ids["chair"]) in edges
    assert Edge(ids["sofa"], "near", ids["table"]) in edges
    assert Edge(ids["chair"], "facing", ids["table"]) in edges
    assert not any(ids["lamp"] in (e.subject, e.object) for e in edges)  # 3 m from everything
    assert not any(e.subject == ids["vase"] and e.relation in ("next_to", "near") for e in edges)  # not an anchor
    triples = graph.triples()
    assert has(triples, "vase", "on", "table") and has(triples, "chair", "next to", "table")
    assert sum(has([t], "chair", "next to", "table") for t in triples) == 1  # symmetric relations once
    text = graph.to_text()
    assert text.splitlines()[0] == "vase on table" and "chair facing table" in text
    assert graph.to_text(max_lines=2).count("\n") == 1
    assert graph.triples(with_ids=True)[0] == (f"vase {ids['vase']}", "on", f"table {ids['table']}")
    assert graph.nodes[ids["vase"]].attributes == {"color": "blue"}


def test_merging_by_instance_id_and_by_category_and_distance():
    graph = OnlineSceneGraph()
    graph.update([box("chair", (0, 0, 0), (0.3, 0.9, 0.4), 7, confidence=0.6)], step=0)
    graph.update([box("chair", (0.2, 0, 0.1), (0.5, 0.9, 0.5), 7, confidence=0.5)], step=1)
    assert len(graph.nodes) == 1
    node = graph.node_of_instance(7)
    np.testing.assert_allclose(node.lo, [0, 0, 0])
    np.testing.assert_allclose(node.hi, [0.5, 0.9, 0.5])
    assert node.observations == 2 and node.confidence == pytest.approx(0.8) and (node.first_seen, node.last_seen) == (0, 1)
    # No ids: the same category within merge_gap joins; farther, or another category, does not.
    graph = OnlineSceneGraph(merge_gap=0.1)
    graph.update([box("chair", (0, 0, 0), (0.4, 0.9, 0.4))])
    graph.update([box("chair", (0.45, 0, 0), (0.8, 0.9, 0.4))])  # 5 cm gap: same chair
    graph.update([box("chair", (1.5, 0, 0), (1.9, 0.9, 0.4))])  # 70 cm away: another chair
    graph.update([box("stool", (0.1, 0, 0), (0.3, 0.5, 0.3))])  # overlapping, other category
    assert sorted(n.category for n in graph.nodes.values()) == ["chair", "chair", "stool"]
    # Categories are a confidence-weighted vote.
    graph = OnlineSceneGraph()
    for category, confidence in (("sofa", 0.4), ("chair", 0.9), ("sofa", 0.3)):
        graph.update([box(category, (0, 0, 0), (0.5, 0.9, 0.5), 1, confidence=confidence)])
    assert graph.node_of_instance(1).category == "chair"


def test_low_confidence_nodes_stay_out_of_edges_until_confirmed():
    graph = OnlineSceneGraph(min_confidence=0.5)
    graph.update([box("table", (0, 0, 0), (1, 0.75, 1), 1), box("cup", (0.4, 0.76, 0.4), (0.5, 0.9, 0.5), None, confidence=0.3)])
    assert graph.edges() == [] and graph.to_text() == ""
    graph.update([box("cup", (0.4, 0.76, 0.4), (0.5, 0.9, 0.5), None, confidence=0.3)])  # 1 - 0.7² = 0.51
    assert [(e.relation) for e in graph.edges()] == ["on"]


def test_incremental_edges_equal_a_full_recomputation():
    rng = np.random.default_rng(0)
    categories = ("chair", "table", "vase", "sofa", "lamp", "tv_monitor")
    graph = OnlineSceneGraph()
    for step in range(60):
        detections = []
        for _ in range(3):
            lo = np.array([rng.uniform(0, 6), rng.choice([0.0, 0.0, 0.75]), rng.uniform(0, 6)])
            size = np.array([rng.uniform(0.2, 1.2), rng.uniform(0.2, 1.0), rng.uniform(0.2, 1.2)])
            front = (math.cos(rng.uniform(0, 6.3)), math.sin(rng.uniform(0, 6.3))) if rng.random() < 0.3 else None
            instance_id = int(rng.integers(1, 25)) if rng.random() < 0.7 else None
            detections.append(box(str(rng.choice(categories)), lo, lo + size, instance_id, confidence=float(rng.uniform(0.3, 1)), front=front))
        graph.update(detections, step=step)
        if step % 10 == 9:
            incremental = set(graph.edges())
            graph.recompute_edges()
            assert set(graph.edges()) == incremental, step


def two_rooms_map(door: float, cell: float = 0.05) -> OccupancyMap:
    """Two 4 x 3 m rooms side by side (x in [0, 4] and [4.1, 8.1], z in [0, 3]) joined by a door of
    width ``door`` in the 0.1 m wall between them, all seen."""
    occupancy = OccupancyMap(size=20.0, cell_size=cell)
    xs, zs = np.meshgrid(np.arange(-0.2, 8.3, cell / 2), np.arange(-0.2, 3.2, cell / 2))
    xz = np.stack([xs.ravel(), zs.ravel()], axis=1)
    inside = (xz[:, 0] > 0) & (xz[:, 0] < 8.1) & (xz[:, 1] > 0) & (xz[:, 1] < 3.0)
    wall = (np.abs(xz[:, 0] - 4.05) < 0.05) & ~(np.abs(xz[:, 1] - 1.5) < door / 2)
    occupancy.mark_free(xz[inside & ~wall])
    occupancy.mark_obstacles(xz[~inside | wall])
    return occupancy


def test_regions_split_at_a_door_and_keep_their_ids():
    regions = RegionMap()
    found = regions.update(two_rooms_map(door=0.85))
    assert len(found) == 2
    left = regions.region_at(np.array([1.0, 1.5]))
    right = regions.region_at(np.array([7.0, 1.5]))
    assert {left, right} == set(found) and left != right
    assert all(abs(r.area - 12.0) < 1.5 for r in found.values())
    # The same map again, and a map with more seen: ids stay.
    again = regions.update(two_rooms_map(door=0.85))
    assert regions.region_at(np.array([1.0, 1.5])) == left and set(again) == {left, right}
    # A wide opening (2 m) is no door: one region.
    assert len(RegionMap().update(two_rooms_map(door=2.0))) == 1
    # Objects on obstacle cells find the nearest region within 1 m.
    assert regions.region_at(np.array([4.05, 0.5])) in (left, right)
    assert regions.region_at(np.array([15.0, 15.0])) is None


def test_in_edges_and_proximity_stop_at_region_borders():
    graph = OnlineSceneGraph()
    graph.update_regions(two_rooms_map(door=0.85))
    # Two chairs 0.3 m apart but on either side of the wall: no next_to; each "in" its own room.
    graph.update([box("chair", (3.5, 0, 0.2), (3.95, 0.9, 0.6), 1), box("chair", (4.2, 0, 0.2), (4.6, 0.9, 0.6), 2)])
    edges = graph.edges()
    assert {e.relation for e in edges} == {"in"}
    assert len({e.object for e in edges}) == 2
    assert ("chair", "in", f"region {edges[0].object}") in graph.triples()
    with pytest.raises(InvalidArgumentError, match="frame"):
        graph.update([Detection("chair", position=np.zeros(3), extent=(np.zeros(3), np.ones(3)), frame="camera")])


def test_render_draws_nodes_edges_and_map():
    graph = OnlineSceneGraph()
    occupancy = two_rooms_map(door=0.85)
    graph.update(living_room(), occupancy=occupancy)
    picture = graph.render(occupancy, Pose2D(1.0, 2.0, 0.3), size=300)
    assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[2] == 3
    assert max(picture.shape[:2]) >= 300
    colours = {tuple(c) for c in picture.reshape(-1, 3)[::7]}
    assert (70, 70, 70) in colours and (220, 30, 30) in colours  # walls and the agent
    assert (20, 150, 60) in colours and (230, 120, 20) in colours  # next_to and on edges
    bare = OnlineSceneGraph().render()
    assert bare.ndim == 3


def test_graph_from_a_hand_built_room_with_gt_perception():
    b = SceneBuilder("graph_room")
    paint = b.material("paint", "paint", (200, 200, 220))
    b.add_box((-0.1, -0.1, -0.1), (4.1, 0.0, 3.1), paint, category="floor")
    for lo, hi in (((-0.1, 0, -0.1), (4.1, 2.5, 0)), ((-0.1, 0, 3), (4.1, 2.5, 3.1)), ((-0.1, 0, 0), (0, 2.5, 3)), ((4, 0, 0), (4.1, 2.5, 3))):
        b.add_box(lo, hi, paint, category="wall")
    table = b.add_box((1.5, 0.0, 0.6), (2.5, 0.75, 1.2), paint, category="table")
    vase = b.add_box((1.9, 0.75, 0.8), (2.1, 1.05, 1.0), paint, category="vase")
    chair = b.add_box((0.9, 0.0, 0.7), (1.35, 0.9, 1.15), paint, category="chair")
    scene = b.build()
    sim = EmbeddedSimulator(scene)
    camera = CameraSpec(width=96, height=96, hfov=90.0, camera_height=1.25, outputs=("depth", "semantic"))
    perception = GroundTruthPerception({i.id: InstanceLabel(i.category) for i in scene.instances}, camera)
    graph = OnlineSceneGraph()
    start = np.array([2.0, 0.0, 2.6])
    for k, (x, z, yaw) in enumerate(((2.0, 2.6, 0.0), (0.6, 2.4, -0.5), (3.4, 2.4, 0.5), (3.4, 0.3, 2.2))):
        frame = sim.render([(AgentState.from_yaw([x, 0.0, z], yaw), camera)])[0]
        graph.update(perception.detect(frame, Pose2D(x - start[0], z - start[2], yaw)), step=k)
    assert {n.instance_id for n in graph.nodes.values()} == {table, vase, chair}
    for instance_id in (table, vase, chair):
        node = graph.node_of_instance(instance_id)
        error = np.abs(node.position + start - scene.instance(instance_id).center)
        assert error.max() < 0.1, (scene.instance(instance_id).category, error)
    assert has(graph.triples(), "vase", "on", "table") and has(graph.triples(), "chair", "next to", "table")


def test_bad_settings():
    with pytest.raises(InvalidArgumentError, match="near"):
        OnlineSceneGraph(next_to=1.0, near=0.5)
    with pytest.raises(InvalidArgumentError, match="region_interval"):
        OnlineSceneGraph(region_interval=0)
    with pytest.raises(InvalidArgumentError, match="door_width"):
        RegionMap(door_width=0.0)
