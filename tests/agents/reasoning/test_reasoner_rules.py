"""parse_goal by rules: navgym's TextNav sentences (generated here from ProcHouse houses by
navgym.scenes.describe, which the tests may import and the reasoner may not), hand-written
instructions, and the goal-graph schema."""

from __future__ import annotations

import pytest

from navgym.agents.reasoning import GoalGraph, GoalGraphSchemaError, goal_graph_from_dict, parse_goal_rules
from navgym.errors import InvalidArgumentError

HOUSES = range(100, 112)  # 12 houses, 544 described instances


def textnav_sentences():
    """(sentence, instance, scene) for every instance describe_instance can single out."""
    from navgym.scenes.describe import describe_instance
    from navgym.scenes.prochouse import generate_house

    out = []
    for seed in HOUSES:
        scene = generate_house(seed)
        for inst in scene.instances:
            if inst.structural:
                continue
            description = describe_instance(scene, inst)
            if description:
                out.append((" ".join(p for p in description if p), inst, scene))
    return out


@pytest.fixture(scope="module")
def sentences():
    return textnav_sentences()


def test_parse_goal_recovers_every_textnav_sentence(sentences):
    assert len(sentences) > 300
    with_relation = with_room = 0
    for text, inst, scene in sentences:
        graph = parse_goal_rules(text)
        target = graph.target_node
        assert target.category == inst.category.replace("_", " "), text
        attrs = inst.attributes
        assert target.attributes.get("color") == attrs.get("color"), text
        assert target.attributes.get("material") == attrs.get("material"), text
        room = scene.room(inst.room_id).type.replace("_", " ") if inst.room_id is not None and scene.rooms else None
        assert graph.room == room, text
        with_room += room is not None
        by_id = {i.id: i for i in scene.instances}
        allowed = {(r.relation.replace("_", " "), by_id[r.object].category.replace("_", " ")) for r in scene.relations_of(inst.id) if r.object in by_id}
        if graph.edges:
            assert len(graph.edges) == 1 and len(graph.nodes) == 2, text
            edge = graph.edges[0]
            assert edge.subject == graph.target
            assert (edge.relation, graph.node(edge.object).category) in allowed, text
            assert graph.node(edge.object).attributes == {}, text
            with_relation += 1
        else:
            assert len(graph.nodes) == 1, text
        assert graph.text == text
        # the graph says the same thing back (the intrinsic part up to "wooden" -> "wood")
        assert graph.describe().replace(" wood ", " wooden ") == text, text
    assert with_relation > len(sentences) // 2 and with_room > len(sentences) // 2


@pytest.mark.parametrize(
    "text, nodes, edges, room",
    [
        ("Find the small lamp on the nightstand.", [("lamp", {"size": "small"}), ("nightstand", {})], [("lamp", "on", "nightstand")], None),
        ("go to the towel between the sink and the shower in the bathroom", [("towel", {}), ("sink", {}), ("shower", {})],
         [("towel", "between", "sink"), ("towel", "between", "shower")], "bathroom"),
        ("the cup in the cabinet", [("cup", {}), ("cabinet", {})], [("cup", "in", "cabinet")], None),
        ("the book on the table next to the sofa", [("book", {}), ("table", {}), ("sofa", {})],
         [("book", "on", "table"), ("table", "next to", "sofa")], None),
        ("a chair next to the bed and near the window", [("chair", {}), ("bed", {}), ("window", {})],
         [("chair", "next to", "bed"), ("chair", "near", "window")], None),
        ("the chair made of wood in front of the desk", [("chair", {"material": "wood"}), ("desk", {})], [("chair", "in front of", "desk")], None),
        ("Navigate to the light-blue round rug that is under the coffee table in the living room",
         [("rug", {"color": "light blue", "shape": "round"}), ("coffee table", {})], [("rug", "under", "coffee table")], "living room"),
        ("sofa", [("sofa", {})], [], None),
        ("the light", [("light", {})], [], None),
        ("the picture next to the picture", [("picture", {}), ("picture #2", {})], [("picture", "next to", "picture #2")], None),
        ("the mirror above the sink in the master bedroom", [("mirror", {}), ("sink", {})], [("mirror", "above", "sink")], "master bedroom"),
        # accented letters stay whole (they were cut out: "the café table" -> "caf table")
        ("the café table next to the sofa", [("café table", {}), ("sofa", {})], [("café table", "next to", "sofa")], None),
        ("Find the ÉCRAN", [("écran", {})], [], None),
    ],
)
def test_parse_goal_on_handwritten_instructions(text, nodes, edges, room):
    graph = parse_goal_rules(text)
    assert [(n.id, n.attributes) for n in graph.nodes] == nodes
    assert [(e.subject, e.relation, e.object) for e in graph.edges] == edges
    assert graph.room == room
    assert graph.target == nodes[0][0]


def test_parse_goal_rejects_empty_text():
    for bad in ("", "   ", "the", ",,"):
        with pytest.raises(InvalidArgumentError):
            parse_goal_rules(bad)
    with pytest.raises(InvalidArgumentError):
        parse_goal_rules(None)  # type: ignore[arg-type]


def test_goal_graph_round_trips_and_single():
    graph = parse_goal_rules("the red wooden chair next to the dining table in the kitchen")
    assert GoalGraph.from_dict(graph.to_dict()) == graph
    single = GoalGraph.single("chest_of_drawers")
    assert (single.target, single.nodes[0].category, single.edges) == ("chest of drawers", "chest of drawers", [])
    assert single.describe() == "the chest of drawers"


def test_goal_graph_schema_accepts_unigoal_format_and_rejects_bad_graphs():
    # UniGoal's prompt format: edges with source / target / type
    graph = goal_graph_from_dict({"nodes": [{"id": "book"}, {"id": "table"}], "edges": [{"source": "book", "target": "table", "type": "on"}]})
    assert [(e.subject, e.relation, e.object) for e in graph.edges] == [("book", "on", "table")]
    assert graph.target == "book"
    bad = [
        [],
        {"nodes": []},
        {"nodes": [{"id": ""}]},
        {"nodes": [{"id": "a"}, {"id": "a"}]},
        {"nodes": [{"id": "a"}], "edges": [{"subject": "a", "relation": "on", "object": "b"}]},
        {"nodes": [{"id": "a"}], "target": "b"},
        {"nodes": [{"id": "a", "attributes": ["red"]}]},
        {"nodes": [{"id": 3}]},
        {"nodes": [{"id": "x" * 200}]},
        {"nodes": [{"id": f"n{i}"} for i in range(40)]},
    ]
    for data in bad:
        with pytest.raises(GoalGraphSchemaError):
            goal_graph_from_dict(data)
