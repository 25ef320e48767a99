"""UniGoal's graph matching and blacklist against an online scene graph fed hand-made start-frame
detections, with a fake reasoner (similarity 1 for equal labels, 0.3 otherwise)."""

from __future__ import annotations

import numpy as np
import pytest

from navgym.agents.perception import Detection
from navgym.agents.reasoning.base import GoalEdge, GoalGraph, GoalNode
from navgym.agents.scene_graph import Edge, OnlineSceneGraph
from navgym.agents.unigoal import Blacklist, GraphMatcher
from navgym.agents.unigoal.matching import attributes_agree
from navgym.errors import InvalidArgumentError


class ExactReasoner:
    """Similarity 1.0 for equal strings, 0.3 otherwise; counts its calls."""

    supports_completion = False

    def __init__(self):
        self.calls = 0

    def similarity(self, a, b):
        self.calls += 1
        return np.array([[1.0 if x == y else 0.3 for y in b] for x in a], dtype=np.float32)


def box(category, lo, hi, instance_id=None, confidence=1.0, **attributes):
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    return Detection(category, confidence, instance_id, position=(lo + hi) / 2, extent=(lo, hi), attributes=attributes)


def goal(nodes, edges=(), target=None, **attributes):
    """Node ids are categories; ``attributes`` apply to the target."""
    target = target or nodes[0]
    return GoalGraph([GoalNode(n, n, dict(attributes) if n == target else {}) for n in nodes], [GoalEdge(*e) for e in edges], target)


def scene(*detections):
    graph = OnlineSceneGraph()
    graph.update(list(detections))
    return graph


def ids_of(graph):
    return {n.category: n.id for n in graph.nodes.values()}


def living_room():
    """A tv on a cabinet, a sofa 2 m from the cabinet, a chair far away (instance ids 1-4)."""
    return scene(
        box("cabinet", (0, 0, 0), (1.0, 0.8, 0.5), 1),
        box("tv", (0.3, 0.81, 0.1), (0.7, 1.3, 0.3), 2),
        box("sofa", (0, 0, 2.5), (2.0, 0.8, 3.4), 3),
        box("chair", (6, 0, 0), (6.5, 0.9, 0.5), 4, color="red"),
    )


def matcher(goal_graph, tau=0.9):
    m = GraphMatcher(ExactReasoner(), tau=tau)
    m.reset(goal_graph)
    return m


def test_the_living_room_has_the_edges_the_tests_rely_on():
    graph = living_room()
    ids = ids_of(graph)
    assert Edge(ids["tv"], "on", ids["cabinet"]) in graph.edges()
    assert not any(e.relation in ("next_to", "near") and ids["sofa"] in (e.subject, e.object) for e in graph.edges())


def test_single_node_goal_matches_with_score_one():
    graph = living_room()
    m = matcher(GoalGraph.single("sofa")).match(graph)
    assert m.nodes == {"sofa": (ids_of(graph)["sofa"], 1.0)} and m.scene_node("sofa") == ids_of(graph)["sofa"]
    assert (m.score, m.s_node, m.s_topology) == (1.0, 1.0, 1.0) and m.s_edge is None and m.edges == {}
    missing = matcher(GoalGraph.single("bed")).match(graph)
    assert missing.nodes == {} and missing.score == 0.0 and missing.scene_node("bed") is None


def test_a_contradicted_attribute_drops_the_node_a_missing_one_does_not():
    graph = living_room()  # the chair is red
    m = matcher(goal(["chair"], color="blue"))
    assert m.node_similarity([graph.nodes[ids_of(graph)["chair"]]])[0, 0] == pytest.approx(0.5)
    assert m.match(graph).nodes == {} and m.match(graph).score == 0.0
    assert matcher(goal(["chair"], color="dark red")).match(graph).scene_node("chair") == ids_of(graph)["chair"]  # agrees
    assert matcher(goal(["chair"], material="wood")).match(graph).nodes == {"chair": (ids_of(graph)["chair"], 1.0)}  # no material seen
    # One of two attributes contradicted: 1 - 0.5 / 2 = 0.75, matched only with tau at or below it.
    half = goal(["chair"], color="blue", material="wood")
    graph.update([box("chair", (6, 0, 0), (6.5, 0.9, 0.5), 4, material="wood")])
    assert matcher(half).match(graph).nodes == {}
    assert matcher(half, tau=0.75).match(graph).nodes == {"chair": (ids_of(graph)["chair"], pytest.approx(0.75))}


@pytest.mark.parametrize("a, b, agree", [("red", "red", True), ("green", "light green", True), ("Light-Green", "light green", True),
                                         ("red", "blue", False), ("dark red", "red wine", False), ("", "blue", True)])
def test_attributes_agree(a, b, agree):
    assert attributes_agree(a, b) is agree and attributes_agree(b, a) is agree


def test_goal_edge_on_matches_the_scene_on_edge():
    graph = living_room()
    ids = ids_of(graph)
    m = matcher(goal(["tv", "cabinet"], [("tv", "on", "cabinet")])).match(graph)
    assert m.nodes == {"tv": (ids["tv"], 1.0), "cabinet": (ids["cabinet"], 1.0)}
    assert m.edges == {0: (Edge(ids["tv"], "on", ids["cabinet"]), 1.0)}
    assert (m.score, m.s_node, m.s_edge, m.s_topology) == (1.0, 1.0, 1.0, 1.0)
    assert m.anchor_pairs[0] == (("tv", ids["tv"]), ("cabinet", ids["cabinet"]))


def test_the_reversed_on_goal_edge_does_not_match():
    graph = living_room()
    m = matcher(goal(["cabinet", "tv"], [("cabinet", "on", "tv")])).match(graph)
    assert len(m.nodes) == 2 and m.edges == {} and m.s_edge == 0.0
    assert m.s_topology == pytest.approx(2 / 3) and m.score == pytest.approx((1.0 + 0.0 + 2 / 3) / 3)


def test_goal_edge_under_matches_the_reversed_scene_edge():
    graph = living_room()
    ids = ids_of(graph)
    m = matcher(goal(["cabinet", "tv"], [("cabinet", "under", "tv")])).match(graph)
    assert m.edges == {0: (Edge(ids["tv"], "on", ids["cabinet"]), 1.0)} and m.score == 1.0
    assert m.anchor_pairs[0] == (("cabinet", ids["cabinet"]), ("tv", ids["tv"]))


def test_blacklisted_nodes_and_edges_leave_the_matching():
    graph = scene(box("chair", (0, 0, 0), (0.5, 0.9, 0.5), 1), box("chair", (4, 0, 0), (4.5, 0.9, 0.5), 2), box("table", (8, 0, 0), (9, 0.8, 1), 3))
    m = matcher(GoalGraph.single("chair"))
    blacklist = Blacklist()
    first = m.match(graph, blacklist).scene_node("chair")
    assert first is not None
    blacklist.add(graph, [first])
    assert blacklist.nodes == {first: "chair"} and len(blacklist) == 1
    second = m.match(graph, blacklist).scene_node("chair")
    assert second is not None and second != first
    blacklist.add(graph, [second, 999])  # an id the graph lacks is ignored
    assert len(blacklist) == 2 and m.match(graph, blacklist).nodes == {}
    assert m.match(graph).scene_node("chair") == first  # the graph itself is unchanged
    # An edge on the blacklist no longer matches; its nodes still do.
    graph = living_room()
    ids = ids_of(graph)
    m = matcher(goal(["tv", "cabinet"], [("tv", "on", "cabinet")]))
    blacklist = Blacklist()
    blacklist.add(graph, edges=[Edge(ids["tv"], "on", ids["cabinet"])])
    result = m.match(graph, blacklist)
    assert len(result.nodes) == 2 and result.edges == {} and result.score < 0.9


@pytest.mark.parametrize("with_ids", [False, True])
def test_blacklist_correct_lifts_a_node_whose_category_changed_and_its_neighbours(with_ids):
    iid = (lambda i: i) if with_ids else (lambda i: None)
    graph = scene(
        box("chair", (0, 0, 0), (0.5, 0.9, 0.5), iid(1), confidence=0.6),
        box("table", (0.7, 0, 0), (1.7, 0.8, 1.0), iid(2)),
        box("lamp", (9, 0, 0), (9.3, 1.5, 0.3), iid(3)),
    )
    ids = ids_of(graph)
    blacklist = Blacklist()
    edge = Edge(ids["chair"], "next_to", ids["table"])
    assert edge in graph.edges()
    blacklist.add(graph, [ids["chair"], ids["table"], ids["lamp"]], [edge])
    assert blacklist.correct(graph) == [] and len(blacklist) == 4  # nothing changed yet
    graph.update([box("chair", (0, 0, 0), (0.5, 0.9, 0.5), iid(1), confidence=0.3)])  # same category again
    assert blacklist.correct(graph) == [] and len(blacklist) == 4
    # A more confident "sofa" in the same box flips the vote (merged by id, or by overlap without ids).
    graph.update([box("sofa", (0, 0, 0), (0.5, 0.9, 0.5), iid(1), confidence=0.9)])
    assert len(graph.nodes) == 3 and graph.nodes[ids["chair"]].category == "sofa"
    assert blacklist.correct(graph) == sorted([ids["chair"], ids["table"]])
    assert blacklist.nodes == {ids["lamp"]: "lamp"} and blacklist.edges == set()
    m = matcher(GoalGraph.single("table"))
    assert m.match(graph, blacklist).scene_node("table") == ids["table"]  # back in the matching


def test_blacklist_correct_lifts_neighbours_only_whatever_the_edge_order():
    lifted = []
    for reverse in (False, True):
        graph = scene(
            box("chair", (0, 0, 0), (0.5, 0.9, 0.5), confidence=0.6),
            box("table", (0.7, 0, 0), (1.7, 0.8, 1.0)),
            box("sofa", (1.9, 0, 0), (3.5, 0.8, 1.0)),
        )
        ids = ids_of(graph)
        chain = [Edge(ids["chair"], "next_to", ids["table"]), Edge(ids["table"], "next_to", ids["sofa"])]
        blacklist = Blacklist()
        blacklist.add(graph, list(ids.values()), [])
        blacklist.edges = chain[::-1] if reverse else chain  # the set's iteration order, made explicit
        graph.update([box("sofa", (0, 0, 0), (0.5, 0.9, 0.5), confidence=0.9)])  # the chair is now a sofa
        assert graph.nodes[ids["chair"]].category == "sofa"
        lifted.append(blacklist.correct(graph))
    # The changed chair and its neighbour the table; not the table's neighbour, the sofa.
    assert lifted[0] == sorted([ids["chair"], ids["table"]]) and lifted[1] == lifted[0]


@pytest.mark.parametrize("far_first", [True, False])
def test_between_equally_similar_nodes_the_one_with_the_supporting_edge_is_the_target(far_first):
    far = box("chair", (5, 0, 0), (5.5, 0.9, 0.5), 1)
    near = box("chair", (-0.6, 0, 0.2), (-0.2, 0.9, 0.6), 2)  # 0.2 m from the table
    table = box("table", (0, 0, 0), (1.2, 0.75, 0.8), 3)
    graph = scene(*([far, near] if far_first else [near, far]), table)
    near_id, table_id = graph.node_of_instance(2).id, graph.node_of_instance(3).id
    m = matcher(goal(["chair", "table"], [("chair", "next to", "table")]))
    chairs = [n for n in graph.nodes.values() if n.category == "chair"]
    np.testing.assert_array_equal(m.node_similarity(chairs)[:, 0], [1.0, 1.0])  # a tie on the nodes alone
    result = m.match(graph)
    assert result.scene_node("chair") == near_id and result.scene_node("table") == table_id
    assert result.edges == {0: (Edge(near_id, "next_to", table_id), 1.0)} and result.score == 1.0
    assert result.nodes["chair"][1] == 1.0  # the bonus breaks the tie, it is not part of the similarity


def test_compatible_relations_score_below_the_same_one():
    # Goal "next to" against a scene "near" edge (1.0 m apart): agreement 0.9.
    graph = scene(box("chair", (-1.2, 0, 0.2), (-0.8, 0.9, 0.6), 1), box("table", (0.2, 0, 0), (1.2, 0.75, 0.8), 2))
    assert Edge(1, "near", 2) in graph.edges()
    m = matcher(goal(["chair", "table"], [("chair", "next to", "table")])).match(graph)
    assert m.edges == {0: (Edge(1, "near", 2), pytest.approx(0.9))} and m.s_edge == pytest.approx(0.9)
    assert matcher(goal(["chair", "table"], [("chair", "next to", "table")]), tau=0.95).match(graph).edges == {}


def test_relevance_rescales_similarity_to_the_goal_and_its_rooms():
    m = matcher(GoalGraph.single("chair"))
    target = GoalGraph([GoalNode("chair", "chair", room="kitchen")], target="chair")
    np.testing.assert_allclose(m.relevance(["chair", "kitchen", "sofa"], target), [1.0, 1.0, (0.3 - 0.25) / 0.75], rtol=1e-6)
    assert m.relevance([], target).shape == (0,)


def test_category_similarities_are_cached_per_label():
    graph = living_room()
    m = matcher(goal(["tv", "cabinet"], [("tv", "on", "cabinet")]))
    m.match(graph)
    calls = m.reasoner.calls
    m.match(graph)
    assert m.reasoner.calls == calls  # no new label, no new call
    m.reset(GoalGraph.single("sofa"))
    m.match(graph)
    assert m.reasoner.calls == calls + 1


def test_bad_arguments():
    with pytest.raises(InvalidArgumentError, match="tau"):
        GraphMatcher(ExactReasoner(), tau=0.0)
    with pytest.raises(InvalidArgumentError, match="attribute_penalty"):
        GraphMatcher(ExactReasoner(), attribute_penalty=1.5)
    with pytest.raises(RuntimeError, match="reset"):
        GraphMatcher(ExactReasoner()).match(OnlineSceneGraph())
