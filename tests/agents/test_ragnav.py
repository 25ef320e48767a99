"""RAGNav and NaiveRAG (navgym.agents.ragnav) on MultiGoalVLN-ProcHouse-v0."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import navgym  # noqa: F401  (registers the envs)
from navgym.agents import make
from navgym.agents.ragnav.decompose import parse_instruction, parse_phrase
from navgym.agents.ragnav.fingerprints import InstanceMemory
from navgym.agents.ragnav.forest import build_forest, hybrid_similarity
from navgym.agents.ragnav.retrieval import RetrievalOptions, Retriever, order_penalty, visiting_order
from navgym.agents.ragnav.topo_map import TopologicalMap
from navgym.errors import InvalidArgumentError
from navgym.testing import check_agent

torch.set_num_threads(1)
SENSORS = ("rgb", "depth", "semantic", "gps", "compass", "instruction", "temperature")


@pytest.fixture(scope="module")
def env():
    e = gym.make("MultiGoalVLN-ProcHouse-v0", split="val", resolution=64, sensors=SENSORS)
    yield e
    e.close()


@pytest.fixture(scope="module")
def reasoner():
    from navgym.agents.reasoning import make_reasoner

    return make_reasoner("embedded")


def test_parser_recovers_every_val_instruction(env):
    episodes = env.unwrapped.dataset.episodes
    houses = {e.scene_id for e in episodes}
    assert len(houses) >= 5
    kinds = set()
    for e in episodes:
        plan = parse_instruction(e.instruction)
        kind = e.extra["instruction_kind"]
        kinds.add(kind)
        assert plan.ordered == (kind != "any_order") or len(e.goals) == 1, e.instruction  # one sub-goal has no order
        assert len(plan.subtasks) == len(e.goals), e.instruction
        for sub, goal in zip(plan.subtasks, e.goals):
            c = goal.extra["constraints"]
            assert sub.category == c["category"].replace("_", " "), (e.instruction, sub)
            assert sub.color == c.get("color") and sub.material == c.get("material"), (e.instruction, sub)
            assert sub.near == (c["near"].replace("_", " ") if "near" in c else None), (e.instruction, sub)
            assert sub.room == (c["room"].replace("_", " ") if "room" in c else None), (e.instruction, sub)
            if kind == "spatial":
                assert sub.spatial
    assert kinds == {"sequential", "any_order", "spatial"}


def test_parser_reads_one_subgoal_of_any_kind():
    from navgym.tasks.multigoal_language import instruction_text

    texts = {instruction_text(kind, ["the red desk"]) for kind in ("sequential", "any_order", "spatial")}
    assert texts == {"Go to the red desk."}  # one sub-goal reads the same whatever the kind
    plan = parse_instruction(texts.pop())
    assert [(sub.category, sub.color) for sub in plan.subtasks] == [("desk", "red")]


def test_parser_errors_name_the_input():
    with pytest.raises(InvalidArgumentError, match="instruction="):
        parse_instruction("Dance around the kitchen.")
    sub = parse_phrase("the red wooden chair near the bed in the kitchen", 3)
    assert (sub.index, sub.category, sub.color, sub.material, sub.near, sub.room) == (3, "chair", "red", "wood", "bed", "kitchen")
    assert sub.target_query == "the red wood chair"


def test_topological_map_lattice_edges_and_dijkstra():
    topo = TopologicalMap(grid=1.0, edge_distance=2.0)
    for x in np.arange(0.1, 5.0, 0.25):  # a 5 m walk along x: one node per 1 m cell
        topo.node_at(np.array([x, 0.5]))
    assert len(topo.nodes) == 5
    assert all(d["weight"] < 2.0 for _, _, d in topo.graph.edges(data=True))
    assert not topo.graph.has_edge(0, 2) or topo.graph[0][2]["weight"] < 2.0
    costs = topo.travel_costs([0, 4])
    assert costs[0, 1] == pytest.approx(np.hypot(*(topo.nodes[4].position - topo.nodes[0].position)), rel=0.3)
    topo.node_at(np.array([20.0, 20.0]))  # isolated: no path
    assert np.isinf(topo.travel_costs([0, 5])[0, 1])


def test_forest_separates_far_groups_and_summarizes():
    positions = np.array([[0, 0], [0.5, 0], [1, 0], [20, 0], [20.5, 0]], float)
    emb = np.eye(5)[[0, 0, 0, 1, 1]].astype(float)
    sim = hybrid_similarity(positions, emb, omega=0.5, sigma=3.0)
    assert sim[0, 1] > sim[0, 3]
    clusters = build_forest(positions, emb, [["bed"], ["bed", "lamp"], ["lamp"], ["stove"], ["stove", "sink"]])
    assert sorted(sorted(c.leaves) for c in clusters) == [[0, 1, 2], [3, 4]]
    kitchen = next(c for c in clusters if 3 in c.leaves)
    assert "stove" in kitchen.summary and "bed" not in kitchen.summary


def test_visiting_order_eq4():
    # start at 0; target 2 is next to the start, target 1 far: any order goes 2 first.
    p = np.array([[0, 0], [10, 0], [1, 0]], float)
    costs = np.hypot(*(p[:, None] - p[None]).transpose(2, 0, 1))
    assert visiting_order(costs, ordered=False) == [1, 0]
    assert visiting_order(costs, ordered=True) == [0, 1]  # the instruction's order wins (λ)
    assert order_penalty([2, 0, 1]) == 2
    big = np.random.default_rng(0).random((10, 2)) * 10
    costs = np.hypot(*(big[:, None] - big[None]).transpose(2, 0, 1))
    order = visiting_order(costs, ordered=False, exact_limit=4)  # networkx greedy TSP beyond the limit
    assert sorted(order) == list(range(9))


def _memory():
    """Two tables: #1 beside a cushion (#3), #2 alone across the room; a bed (#4) by table 2."""
    texts = {1: "the brown wood table", 2: "the brown wood table", 3: "the red fabric cushion", 4: "the white bed"}
    topo, mem = TopologicalMap(), InstanceMemory()
    a, b = topo.node_at(np.array([0.5, 0.5])), topo.node_at(np.array([6.5, 0.5]))
    for node, ids, centres in ((a, (1, 3), ([0.5, 1.5], [1.2, 1.5])), (b, (2, 4), ([6.5, 1.5], [7.5, 1.5]))):
        for i, c in zip(ids, centres):
            node.seen[i] = [5.0, 1.0]
            mem.add(i, np.array(c) + np.random.default_rng(i).normal(0, 0.1, (20, 2)))
    return texts, topo, mem


def test_anchor_guided_retrieval_picks_the_table_near_the_cushion(reasoner):
    texts, topo, mem = _memory()
    plan = parse_instruction("Visit the table near the cushion and the bed, in any order.")
    for spatial in (True,):
        r = Retriever(reasoner.embed, texts.__getitem__, RetrievalOptions(spatial=spatial)).retrieve(plan, topo, mem)
        assert r[0].instance == 1 and r[1].instance == 4
        assert r[0].candidates[0][0] == 1 and r[0].candidates[0][2] > r[0].candidates[1][2]
    # swap which table stands by the cushion: the retrieval follows the anchor
    mem.points[1], mem.points[2] = mem.points[2], mem.points[1]
    topo.nodes[0].seen, topo.nodes[1].seen = {2: [5.0, 1.0], 3: [5.0, 1.0]}, {1: [5.0, 1.0], 4: [5.0, 1.0]}
    r = Retriever(reasoner.embed, texts.__getitem__, RetrievalOptions()).retrieve(plan, topo, mem)
    assert r[0].instance == 2


def test_agent_conformance_and_options(env):
    check_agent("ragnav", env, episodes=1, max_steps=15)
    agent = make("ragnav", env=env, forest="false", neighbours="false")
    assert not agent.options.forest and not agent.options.neighbours and agent.options.spatial
    assert make("naive-rag", env=env).options.naive
    with pytest.raises(InvalidArgumentError, match="forest="):
        make("ragnav", env=env, forest="maybe")
    with pytest.raises(InvalidArgumentError, match="inputs='text\\+gps'"):
        make("ragnav", env=env, inputs="text+gps")
    no_temperature = gym.make("MultiGoalVLN-ProcHouse-v0", split="val", resolution=32, sensors=("depth", "semantic", "gps", "compass", "instruction"))
    with pytest.raises(Exception, match="temperature"):
        make("ragnav", env=no_temperature, inputs="text+location+sensor")
    no_temperature.close()


def test_ragnav_completes_an_episode_random_does_not(env):
    """Through the evaluation's episode runner: the record carries the goals and the agent's
    retrievals (scored here, not by the agent); then the same memory under the three input kinds."""
    from navgym.evaluation import run_episode

    episode = env.unwrapped.dataset.episodes[0]
    records = {}
    for name in ("random", "ragnav"):
        agent = make(name, env=env, **({"inputs": "text+location+sensor"} if name == "ragnav" else {}))
        records[name], _ = run_episode(env, agent, 0, seed=0)
    assert records["ragnav"]["progress"] > records["random"]["progress"]
    record = records["ragnav"]
    assert record["goal_object_ids"] == [g.object_id for g in episode.goals] and "agent" not in records["random"]
    retrieved = record["agent"]["retrieved"]
    assert len(retrieved) == len(episode.goals) and record["agent"]["inputs"] == "text+location+sensor"
    assert sum(r == g for r, g in zip(retrieved, record["goal_object_ids"])) >= 2
    assert record["agent"]["retrieval_s"] > 0 and 0 < record["agent"]["explore_steps"] <= record["num_steps"]
    goal = record["goal_object_ids"][0]
    text, located, sensed = (agent.item_text(goal, k) for k in ("text", "text+location", "text+location+sensor"))
    assert located.startswith(text + " at x ") and sensed.startswith(located + ", ") and sensed.endswith(" °C")
    instruction = episode.instruction
    again, _ = agent.retrieve(instruction, {}, "text+location+sensor")
    assert [r.instance for r in sorted(again, key=lambda r: r.subtask.index)] == retrieved  # same memory, same answer
    naive, _ = agent.retrieve(instruction, {"naive": True}, "text")
    assert len(naive) == len(retrieved)
