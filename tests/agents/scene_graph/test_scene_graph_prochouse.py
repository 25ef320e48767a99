"""The online scene graph of a walk through a ProcHouse house against the house's ground truth
(read by the test only): objects seen, positions, relations and regions."""

from __future__ import annotations

import numpy as np
import pytest

from navgym.agents.mapping import OccupancyMap
from navgym.agents.perception import GroundTruthPerception, NoisyPerception
from navgym.agents.scene_graph import OnlineSceneGraph

from scene_graph_walk import make_env, region_purity, relation_agreement, room_tour, start_to_world  # helper module beside this file


@pytest.fixture(scope="module")
def env():
    env = make_env(seed=0)
    yield env
    env.close()


@pytest.fixture(scope="module")
def walk(env):
    perception = GroundTruthPerception.from_env(env, fronts=True)
    graph, occupancy = OnlineSceneGraph(), OccupancyMap(size=40.0)
    frames, start = room_tour(env, perception, graph, occupancy)
    graph.update_regions(occupancy)
    return graph, occupancy, frames, start, env.unwrapped.sim.scene_graph()


def test_the_graph_holds_every_object_seen_where_it_is(walk):
    graph, occupancy, frames, start, truth = walk
    seen = {d.instance_id for detections, _ in frames for d in detections if d.position is not None}
    assert {n.instance_id for n in graph.nodes.values()} == seen
    assert len(seen) >= 0.8 * len(truth.objects())
    errors = []
    for node in graph.nodes.values():
        inst = truth.instance(node.instance_id)
        assert node.category == inst.category
        errors.append(float(np.hypot(*(start_to_world(start, node.position) - inst.center)[[0, 2]])))
    # Measured: median 0.06 m, 90th percentile 0.26 m, max 0.29 m (the union of visible extents
    # approaches the true box as more sides are seen).
    assert np.median(errors) < 0.12 and max(errors) < 0.5
    print(f"scene-graph node floor error: median {np.median(errors):.3f} m, p90 {np.quantile(errors, 0.9):.3f} m, max {max(errors):.3f} m; "
          f"{len(graph.nodes)} nodes, {len(truth.objects())} objects in the house")


def test_relations_agree_with_the_ground_truth(walk):
    graph, occupancy, frames, start, truth = walk
    agreement = relation_agreement(graph, truth)
    precision = {k: (hit / predicted if predicted else 1.0) for k, (hit, predicted, _) in agreement.items()}
    recall = {k: (hit / expected if expected else 1.0) for k, (hit, _, expected) in agreement.items()}
    print("relation agreement (hits, predicted, true):", agreement)
    # Measured on this house: on 14/15 predicted correct (recall 14/15); next_to 0.72, near 0.68,
    # either of the two 0.75 (recall 0.86); facing: recall 5/5, precision 5/28 (the annotations
    # choose facing pairs by meaning, the graph by geometry).
    assert precision["on"] >= 0.8 and recall["on"] >= 0.8
    assert precision["proximity"] >= 0.65 and recall["proximity"] >= 0.75
    assert precision["next_to"] >= 0.55 and precision["near"] >= 0.55
    assert recall["facing"] >= 0.6
    purity, assigned = region_purity(graph, truth)
    print(f"regions: {len(graph.regions)} for {len(truth.rooms)} rooms; 'in' purity {purity:.2f} over {assigned} objects")
    assert purity >= 0.75 and assigned >= 0.8 * len(graph.nodes)
    assert len(truth.rooms) - 1 <= len(graph.regions) <= len(truth.rooms) + 3
    lines = graph.to_text().splitlines()
    assert lines and all(len(line.split()) >= 3 for line in lines)


def test_incremental_edges_match_a_full_recomputation_after_the_walk(walk):
    graph = walk[0]
    incremental = set(graph.edges())
    graph.recompute_edges()
    assert set(graph.edges()) == incremental


def test_render_of_the_walk(walk):
    graph, occupancy = walk[0], walk[1]
    picture = graph.render(occupancy, size=400)
    assert picture.shape[2] == 3 and max(picture.shape[:2]) >= 400
    assert len(np.unique(picture.reshape(-1, 3), axis=0)) > 20


def test_noisy_perception_without_ids_still_finds_most_objects(env):
    """Real-detector conditions: no instance ids (merging by category and distance), 20 % misses,
    10 % confusions, 0.5 false positives a frame, 5 cm position noise."""
    noisy = NoisyPerception(
        GroundTruthPerception.from_env(env), seed=0, miss_rate=0.2, confusion_rate=0.1, false_positives_per_frame=0.5,
        position_noise=0.05, drop_instance_ids=True,
    )
    graph = OnlineSceneGraph(min_confidence=0.5)
    frames, start = room_tour(env, noisy, graph)
    truth = env.unwrapped.sim.scene_graph()
    confident = [n for n in graph.nodes.values() if graph.active(n)]
    found = 0
    for inst in truth.objects():
        near = [n for n in confident if n.category == inst.category and np.hypot(*(start_to_world(start, n.position) - inst.center)[[0, 2]]) < 0.5]
        found += bool(near)
    extra = len(confident) - found
    print(f"noisy walk: rates {noisy.rates()}; {found}/{len(truth.objects())} objects have a confident node of their category within 0.5 m; "
          f"{len(confident)} confident nodes, {len(graph.nodes) - len(confident)} below min_confidence")
    # Measured: 56/58 found, 79 confident nodes (the extra ones mostly confused categories seen from
    # a side whose box overlaps the object's node too little to be merged into it).
    assert found >= 0.8 * len(truth.objects())
    assert extra <= 0.6 * len(truth.objects())
