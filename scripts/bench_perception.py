"""Benchmark the zero-shot perception seam and the online scene graph on ProcHouse houses.

    python scripts/bench_perception.py                       # 3 houses x up to 500 steps, about 1 min on 2 cores
    python scripts/bench_perception.py --episodes 1 --steps 20 --out /tmp/bench.json   # a smoke run

The frontier agent explores the first ``--episodes`` houses of the ObjectNav val split (its goal
recogniser sees nothing, so it stops only when no frontier is left, or at ``--steps``) while, on
the same frames:

* ``GroundTruthPerception.from_env(env)`` feeds an ``OnlineSceneGraph()`` (the "GT graph"), and
* ``NoisyPerception(GT, miss_rate=0.2, false_positives_per_frame=0.2, confusion_rate=0.1,
  position_noise=0.05, drop_instance_ids=True)`` feeds an ``OnlineSceneGraph(min_confidence=0.5)``
  (the "noisy graph"; no instance ids, so it merges by category and distance).

Both graphs get ``occupancy=agent.map`` (regions). Per step it times, separately, the two
``detect`` calls (the noisy one includes its inner ground-truth pass), the two ``update`` calls,
the agent's ``policy`` and ``env.step``; the graph updates also split into those that re-segment
regions (every ``region_interval``) and the others. After each walk it scores both graphs against the house's
ground truth, which this script reads through ``sim.object_instances()`` / ``sim.scene_graph()``
for EVALUATION only (no agent sees it):

* node recall / precision: seen instances (those ground-truth perception reported at least once
  with a position) that have a node of their category; the GT graph's nodes carry instance ids,
  the noisy graph's confident nodes are matched one-to-one (per category, Hungarian assignment on
  the floor distance between the node's centre and the instance's box centre, accepted below 0.5 m);
  unmatched confident nodes are spurious, sorted into duplicates (a seen instance of their category
  within 0.25 m of their box), confusions (only other categories that close) and the rest;
* relations: ``on``, ``next_to``, ``near`` and proximity (``next_to`` or ``near``, either counts),
  as (correct, predicted, expected) edge counts among seen instances, against (a) the scene's
  annotated relations (what ``docs/perception.md`` reports) and (b) relations recomputed from the
  true boxes (each box's axis-aligned hull in the start frame) with the graph's own predicates in
  ``navgym.agents.scene_graph.relations`` (one support per object; ``next_to`` / ``near`` between
  anchors in the same true room);
* regions: the fraction of region cells whose true room is their region's majority room, and of
  object nodes (GT graph) whose room is their region's majority room.

Last it times ``KeypointMatcher`` ORB and SIFT (homography) on pairs of the walk's RGB frames
(the env's own size, 128 x 128). It prints a table and writes everything as JSON to ``--out``.
Timings are wall-clock on whatever machine runs it; OpenCV runs with ``--threads`` threads.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

SENSORS = ("rgb", "depth", "semantic", "gps", "compass", "objectgoal")
NOISE = {"miss_rate": 0.2, "false_positives_per_frame": 0.2, "confusion_rate": 0.1, "position_noise": 0.05, "drop_instance_ids": True}
MATCH_DISTANCE = 0.5  # metres, node centre to instance box centre on the floor
SPURIOUS_GAP = 0.25  # metres, box gap within which a spurious node counts as a duplicate / confusion
NOISY_MIN_CONFIDENCE = 0.5
TIMED = ("gt_detect", "noisy_detect", "gt_graph_update", "noisy_graph_update", "agent_policy", "env_step")
#: Graph updates split by whether regions were re-segmented in them (every ``region_interval`` updates).
SPLIT = ("gt_graph_update", "noisy_graph_update")
RELATION_NAMES = ("on", "next_to", "near", "proximity")


# -- frames -----------------------------------------------------------------------------------
def world_to_start(start: Any, points: np.ndarray) -> np.ndarray:
    """World (..., 3) points -> the episode's start frame (the inverse of the agent's pose at reset)."""
    points = np.asarray(points, dtype=np.float64)
    c, s = math.cos(start.yaw), math.sin(start.yaw)
    d = points - np.asarray(start.position, dtype=np.float64)
    out = np.empty_like(d)
    out[..., 0] = c * d[..., 0] - s * d[..., 2]
    out[..., 1] = d[..., 1]
    out[..., 2] = s * d[..., 0] + c * d[..., 2]
    return out


def start_to_world_xz(start: Any, xz: np.ndarray) -> np.ndarray:
    """Start-frame (..., 2) floor points (x, z) -> world (x, z)."""
    xz = np.asarray(xz, dtype=np.float64)
    c, s = math.cos(start.yaw), math.sin(start.yaw)
    x = c * xz[..., 0] + s * xz[..., 1] + start.position[0]
    z = -s * xz[..., 0] + c * xz[..., 1] + start.position[2]
    return np.stack([x, z], axis=-1)


def start_frame_box(start: Any, inst: Any) -> tuple[np.ndarray, np.ndarray]:
    """The axis-aligned hull, in the start frame, of an instance's world box (its 8 corners)."""
    lo, hi = np.asarray(inst.bbox_min, dtype=np.float64), np.asarray(inst.bbox_max, dtype=np.float64)
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    pts = world_to_start(start, corners)
    return pts.min(axis=0), pts.max(axis=0)


# -- ground-truth relations -------------------------------------------------------------------
def annotated_relations(truth: Any, seen: set[int]) -> dict[str, set[tuple[int, int]]]:
    """The scene's annotated relations between seen instances, as (subject, object) pairs."""
    out: dict[str, set[tuple[int, int]]] = {name: set() for name in RELATION_NAMES}
    for r in truth.relations:
        if r.subject in seen and r.object in seen and r.relation in ("on", "next_to", "near"):
            out[r.relation].add((r.subject, r.object))
            if r.relation in ("next_to", "near"):
                out["proximity"].add((r.subject, r.object))
    return out


def predicate_relations(boxes: dict[int, tuple[np.ndarray, np.ndarray]], rooms: dict[int, int | None]) -> dict[str, set[tuple[int, int]]]:
    """Relations recomputed from true boxes with the online graph's predicates (one support per
    object, nearest top; next_to / near between anchors in the same true room)."""
    from navgym.agents.scene_graph import relations as rel

    ids = sorted(boxes)
    footprint = {i: float((boxes[i][1][0] - boxes[i][0][0]) * (boxes[i][1][2] - boxes[i][0][2])) for i in ids}
    support: dict[int, int] = {}
    for a in ids:
        candidates = [b for b in ids if b != a and rel.is_on(*boxes[a], *boxes[b])]
        if candidates:
            support[a] = min(candidates, key=lambda b: (abs(boxes[a][0][1] - boxes[b][1][1]), -footprint[b], b))
    out: dict[str, set[tuple[int, int]]] = {name: set() for name in RELATION_NAMES}
    out["on"] = set(support.items())
    anchors = [i for i in ids if i not in support]
    for k, a in enumerate(anchors):
        for b in anchors[k + 1 :]:
            if rooms.get(a) is not None and rooms.get(b) is not None and rooms[a] != rooms[b]:
                continue
            gap = float(rel.box_gaps(boxes[a][0], boxes[a][1], boxes[b][0][None], boxes[b][1][None])[0])
            name = "next_to" if gap <= rel.NEXT_TO_DISTANCE else "near" if gap <= rel.NEAR_DISTANCE else None
            if name is not None:
                out[name] |= {(a, b), (b, a)}
                out["proximity"] |= {(a, b), (b, a)}
    return out


def graph_relations(graph: Any, mapping: dict[int, int | None]) -> dict[str, list[tuple[int | None, int | None]]]:
    """The graph's edges with node ids replaced by matched instance ids (``None``: no instance)."""
    out: dict[str, list[tuple[int | None, int | None]]] = {}
    for name in ("on", "next_to", "near"):
        out[name] = [(mapping.get(e.subject), mapping.get(e.object)) for e in graph.edges([name])]
    out["proximity"] = out["next_to"] + out["near"]
    return out


def agreement(predicted: dict[str, list], expected: dict[str, set]) -> dict[str, dict[str, Any]]:
    out = {}
    for name in RELATION_NAMES:
        pairs = predicted[name]
        matched = {p for p in pairs if None not in p}
        hits = len(matched & expected[name])
        # predicted_matched: edges whose two nodes both stand for a seen instance (spurious nodes' edges left out)
        out[name] = {"correct": hits, "predicted": len(pairs), "expected": len(expected[name]), "predicted_matched": len(matched)}
    return out


# -- node matching ----------------------------------------------------------------------------
def match_nodes(graph: Any, start: Any, instances: dict[int, Any], seen: set[int], use_ids: bool) -> dict[int, int | None]:
    """Node id -> the seen instance it stands for (right category), or ``None``."""
    from scipy.optimize import linear_sum_assignment

    active = [n for n in graph.nodes.values() if graph.active(n)]
    mapping: dict[int, int | None] = {n.id: None for n in graph.nodes.values()}
    if use_ids:
        for n in active:
            inst = instances.get(n.instance_id) if n.instance_id is not None else None
            if inst is not None and n.instance_id in seen and inst.category == n.category:
                mapping[n.id] = int(n.instance_id)
        return mapping
    by_category: dict[str, list[Any]] = defaultdict(list)
    for n in active:
        by_category[n.category].append(n)
    for category, nodes in by_category.items():
        candidates = [i for i in sorted(seen) if instances[i].category == category]
        if not candidates:
            continue
        node_xz = start_to_world_xz(start, np.array([n.position[[0, 2]] for n in nodes]))
        inst_xz = np.array([instances[i].center[[0, 2]] for i in candidates])
        cost = np.linalg.norm(node_xz[:, None, :] - inst_xz[None, :, :], axis=2)
        rows, cols = linear_sum_assignment(np.where(cost <= MATCH_DISTANCE, cost, 1e6))
        for r, c in zip(rows.tolist(), cols.tolist()):
            if cost[r, c] <= MATCH_DISTANCE:
                mapping[nodes[r].id] = candidates[c]
    return mapping


def spurious_kinds(nodes: list[Any], boxes: dict[int, tuple[np.ndarray, np.ndarray]], instances: dict[int, Any]) -> dict[str, int]:
    """Why unmatched confident nodes are there: ``duplicate`` (a seen instance of its category
    within ``SPURIOUS_GAP`` of its box: the object got a second node), ``confused`` (only other
    categories that close: a misclassification kept apart), ``elsewhere`` (no seen instance that
    close: a false positive)."""
    from navgym.agents.scene_graph import relations as rel

    kinds = {"duplicate": 0, "confused": 0, "elsewhere": 0}
    ids = sorted(boxes)
    if not ids:
        kinds["elsewhere"] = len(nodes)
        return kinds
    los = np.array([boxes[i][0] for i in ids])
    his = np.array([boxes[i][1] for i in ids])
    for node in nodes:
        close = rel.box_gaps(node.lo, node.hi, los, his) <= SPURIOUS_GAP
        categories = {instances[i].category for i, c in zip(ids, close.tolist()) if c}
        kinds["duplicate" if node.category in categories else "confused" if categories else "elsewhere"] += 1
    return kinds


def node_quality(graph: Any, mapping: dict[int, int | None], start: Any, instances: dict[int, Any], seen: set[int], boxes: dict[int, tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    active = [n for n in graph.nodes.values() if graph.active(n)]
    matched = {n.id: mapping[n.id] for n in active if mapping.get(n.id) is not None}
    represented = set(matched.values())
    errors = [
        float(np.linalg.norm(start_to_world_xz(start, graph.nodes[nid].position[[0, 2]]) - instances[iid].center[[0, 2]]))
        for nid, iid in matched.items()
    ]
    return {
        "_floor_errors": errors,
        "spurious_kinds": spurious_kinds([n for n in active if n.id not in matched], boxes, instances),
        "nodes": len(graph.nodes),
        "confident_nodes": len(active),
        "seen_instances": len(seen),
        "represented": len(represented),
        "spurious": len(active) - len(matched),
        "node_recall": len(represented) / len(seen) if seen else 0.0,
        "node_precision": len(matched) / len(active) if active else 0.0,
        "floor_error_m": {"median": float(np.median(errors)), "p90": float(np.quantile(errors, 0.9))} if errors else None,
    }


# -- regions ----------------------------------------------------------------------------------
def room_of(rooms: list[Any], x: float, z: float, margin: float = 0.15) -> int | None:
    inside = [r for r in rooms if r.contains(x, z)]
    if not inside:
        inside = [r for r in rooms if r.contains(x, z, margin)]
    return inside[0].id if inside else None


def region_quality(graph: Any, start: Any, truth: Any, mapping: dict[int, int | None], instances: dict[int, Any]) -> dict[str, Any]:
    """Region cells (and GT-graph object nodes) in their region's majority room."""
    region_map = graph.region_map
    rooms = [r for r in truth.rooms if abs(r.floor_height - float(start.position[1])) < 1.0]
    cells = {"total": 0, "agree": 0}
    if region_map.labels.size and region_map.regions:
        rows, cols = np.nonzero(region_map.labels > 0)
        world = start_to_world_xz(start, region_map.cell_to_world(rows, cols))
        labels = region_map.labels[rows, cols]
        per_region: dict[int, Counter] = defaultdict(Counter)
        for label, (x, z) in zip(labels.tolist(), world.tolist()):
            per_region[label][room_of(rooms, x, z)] += 1
        cells["total"] = len(rows)
        cells["agree"] = int(sum(c.most_common(1)[0][1] for c in per_region.values() if c.most_common(1)[0][0] is not None))
    objects: dict[int, list] = defaultdict(list)
    for node in graph.nodes.values():
        iid = mapping.get(node.id)
        if node.region is not None and iid is not None:
            objects[node.region].append(instances[iid].room_id)
    in_total = sum(len(v) for v in objects.values())
    in_agree = sum(Counter(v).most_common(1)[0][1] for v in objects.values())
    return {
        "regions": len(region_map.regions),
        "rooms": len(rooms),
        "cells_in_majority_room": cells["agree"] / cells["total"] if cells["total"] else 0.0,
        "cells": cells["total"],
        "cells_agree": cells["agree"],
        "objects_in_majority_room": in_agree / in_total if in_total else 0.0,
        "objects_with_region": in_total,
        "objects_agree": in_agree,
    }


# -- the walk ---------------------------------------------------------------------------------
def walk(
    env: Any, episode_index: int, steps: int, seed: int, fronts: bool, door_width: float, frames: list[tuple[int, int, np.ndarray]], frame_every: int
) -> dict[str, Any]:
    from navgym.agents.baselines.frontier import FrontierAgent
    from navgym.agents.mapping import Pose2D
    from navgym.agents.perception import GroundTruthPerception, NoisyPerception
    from navgym.agents.scene_graph import OnlineSceneGraph, RegionMap

    obs, _ = env.reset(seed=seed + episode_index, options={"episode_index": episode_index})
    sim = env.unwrapped.sim
    start = sim.get_agent_state().copy()
    gt = GroundTruthPerception.from_env(env, fronts=fronts)
    noisy = NoisyPerception(GroundTruthPerception.from_env(env, fronts=fronts), seed=seed, **NOISE)
    agent = FrontierAgent(env, goal_recognizer=lambda o: np.zeros(np.shape(o["depth"])[:2], dtype=bool))
    agent.reset()
    gt_graph = OnlineSceneGraph(regions=RegionMap(door_width=door_width))
    noisy_graph = OnlineSceneGraph(min_confidence=NOISY_MIN_CONFIDENCE, regions=RegionMap(door_width=door_width))
    times: dict[str, list[float]] = {k: [] for k in TIMED}
    seen: set[int] = set()
    clock = time.perf_counter
    taken = 0
    for step in range(steps):
        pose = Pose2D.from_gps_compass(obs["gps"], obs["compass"])
        pitch = agent.tilt
        t0 = clock()
        gt_dets = gt.detect(obs, pose, pitch=pitch)
        t1 = clock()
        noisy_dets = noisy.detect(obs, pose, pitch=pitch)
        t2 = clock()
        action = agent.policy(obs)  # integrates this frame into agent.map first
        t3 = clock()
        gt_graph.update(gt_dets, step=step, occupancy=agent.map)
        t4 = clock()
        noisy_graph.update(noisy_dets, step=step, occupancy=agent.map)
        t5 = clock()
        for key, dt in zip(TIMED[:5], (t1 - t0, t2 - t1, t4 - t3, t5 - t4, t3 - t2)):
            times[key].append(dt * 1000.0)
        regions_step = step % gt_graph.region_interval == 0  # every update passes the map
        for key, dt in zip(SPLIT, (t4 - t3, t5 - t4)):
            times.setdefault(f"{key}:{'region_steps' if regions_step else 'other_steps'}", []).append(dt * 1000.0)
        seen |= {d.instance_id for d in gt_dets if d.position is not None and d.instance_id is not None}
        if step % frame_every in (0, 1):  # pairs of frames one step apart, for the keypoint timing
            frames.append((episode_index, step, np.array(obs["rgb"], copy=True)))
        t6 = clock()
        obs, _, terminated, truncated, _ = env.step(action)
        times["env_step"].append((clock() - t6) * 1000.0)
        taken += 1
        if terminated or truncated:
            break
    gt_graph.update_regions(agent.map)
    noisy_graph.update_regions(agent.map)

    instances = {int(i.id): i for i in sim.object_instances() if not i.structural}
    truth = sim.scene_graph()
    seen &= set(instances)
    boxes = {i: start_frame_box(start, instances[i]) for i in seen}
    expected = {
        "annotations": annotated_relations(truth, seen),
        "box_predicates": predicate_relations(boxes, {i: instances[i].room_id for i in seen}),
    }
    result: dict[str, Any] = {
        "scene_id": sim.scene_id,
        "episode_index": episode_index,
        "steps": taken,
        "objects_in_house": len(instances),
        "noise_rates": noisy.rates(),
    }
    for name, graph, use_ids in (("gt_graph", gt_graph, True), ("noisy_graph", noisy_graph, False)):
        mapping = match_nodes(graph, start, instances, seen, use_ids)
        predicted = graph_relations(graph, mapping)
        result[name] = {
            **node_quality(graph, mapping, start, instances, seen, boxes),
            "relations": {source: agreement(predicted, exp) for source, exp in expected.items()},
            "regions": region_quality(graph, start, truth, mapping, instances),
        }
    result["_times"] = times
    return result


# -- keypoints --------------------------------------------------------------------------------
def bench_keypoints(frames: list[tuple[int, int, np.ndarray]], pairs: int, seed: int) -> dict[str, Any]:
    """Time ``KeypointMatcher(method).match(a, b)`` on raw frames (both images' features, ratio
    test, RANSAC) and ``features(a)`` alone: half the pairs are frames one step apart (0.25 m
    forward or one turn), half any two frames of the walks."""
    from navgym.agents.perception import KeypointMatcher

    rng = np.random.default_rng(seed)
    n = len(frames)
    if n < 2:
        return {"skipped": "fewer than 2 frames"}
    images = [f[2] for f in frames]
    consecutive = [(k, k + 1) for k in range(n - 1) if frames[k][0] == frames[k + 1][0] and frames[k + 1][1] == frames[k][1] + 1]
    index = [("one_step", a, b) for a, b in consecutive[: pairs // 2]]
    while len(index) < pairs:
        a, b = (int(v) for v in rng.choice(n, 2, replace=False))
        index.append(("random", a, b))
    out: dict[str, Any] = {"frame_shape": list(images[0].shape), "pairs": len(index), "one_step_pairs": sum(k == "one_step" for k, _, _ in index)}
    for method in ("orb", "sift"):
        matcher = KeypointMatcher(method)
        matcher.match(images[0], images[1])  # warm-up
        match_ms, feature_ms, inliers = [], [], {"one_step": [], "random": []}
        for kind, a, b in index:
            t0 = time.perf_counter()
            result = matcher.match(images[a], images[b])
            match_ms.append((time.perf_counter() - t0) * 1000.0)
            inliers[kind].append(result.inliers)
            t0 = time.perf_counter()
            matcher.features(images[a])
            feature_ms.append((time.perf_counter() - t0) * 1000.0)
        out[method] = {
            "match_ms": summary(match_ms),
            "features_ms": summary(feature_ms),
            "inliers_median": {k: float(np.median(v)) if v else None for k, v in inliers.items()},
        }
    return out


# -- output -----------------------------------------------------------------------------------
def summary(values: list[float]) -> dict[str, float]:
    v = np.asarray(values, dtype=np.float64)
    return {"median": float(np.median(v)), "p95": float(np.quantile(v, 0.95)), "mean": float(v.mean()), "n": int(v.size)}


def add_counts(total: dict[str, Any], part: dict[str, Any]) -> None:
    for key, value in part.items():
        if isinstance(value, dict):
            add_counts(total.setdefault(key, {}), value)
        elif isinstance(value, int) and not isinstance(value, bool):
            total[key] = total.get(key, 0) + value


def aggregate(episodes: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("gt_graph", "noisy_graph"):
        counts: dict[str, Any] = {}
        errors: list[float] = []
        for ep in episodes:
            add_counts(counts, {k: v for k, v in ep[name].items() if k in ("nodes", "confident_nodes", "seen_instances", "represented", "spurious", "spurious_kinds", "relations", "regions")})
            errors += ep[name].pop("_floor_errors")
        counts["floor_error_m"] = {"median": float(np.median(errors)), "p90": float(np.quantile(errors, 0.9)), "max": float(max(errors))} if errors else None
        regions = counts["regions"]
        regions["cells_in_majority_room"] = regions["cells_agree"] / regions["cells"] if regions["cells"] else 0.0
        regions["objects_in_majority_room"] = regions["objects_agree"] / regions["objects_with_region"] if regions["objects_with_region"] else 0.0
        counts["node_recall"] = counts["represented"] / counts["seen_instances"] if counts["seen_instances"] else 0.0
        matched = counts["confident_nodes"] - counts["spurious"]
        counts["node_precision"] = matched / counts["confident_nodes"] if counts["confident_nodes"] else 0.0
        for rels in counts["relations"].values():
            for r in rels.values():
                r["precision"] = r["correct"] / r["predicted"] if r["predicted"] else None
                r["recall"] = r["correct"] / r["expected"] if r["expected"] else None
                r["precision_matched"] = r["correct"] / r["predicted_matched"] if r["predicted_matched"] else None
        out[name] = counts
    return out


def fmt(x: Any, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def print_report(report: dict[str, Any]) -> None:
    print(f"\nperception bench: {report['config']['episodes']} walks, {report['total_steps']} steps, frames {report['frame_shape']}, "
          f"{report['machine']['cpu_count']} CPUs, {report['elapsed_s']:.0f} s")
    print(f"\n{'per step (ms)':<42} median    p95   mean      n")
    for key, s in report["timing_ms"].items():
        print(f"  {key:<40} {s['median']:6.2f} {s['p95']:6.2f} {s['mean']:6.2f} {s['n']:6d}")
    print("\nper walk: scene, steps, seen/objects | GT graph: on, proximity (correct/predicted vs annotations), regions/rooms, "
          "cells in majority room | noisy graph: recall, confident, spurious")
    for ep in report["episodes"]:
        g, n = ep["gt_graph"], ep["noisy_graph"]
        ga = g["relations"]["annotations"]
        print(f"  {ep['scene_id']:<18} {ep['steps']:4d} {g['seen_instances']:3d}/{ep['objects_in_house']:<3d} | "
              f"on {ga['on']['correct']}/{ga['on']['predicted']}, prox {ga['proximity']['correct']}/{ga['proximity']['predicted']}, "
              f"{g['regions']['regions']}/{g['regions']['rooms']}, {g['regions']['cells_in_majority_room']:.2f} | "
              f"{n['node_recall']:.2f}, {n['confident_nodes']}, {n['spurious']}")
    agg = report["quality"]
    gq, nq = agg["gt_graph"], agg["noisy_graph"]
    print(f"\n{'all walks':<36} {'GT graph':<30} noisy graph (min_confidence {report['config']['noisy_min_confidence']})")
    rows = [
        ("seen instances with a node", f"{gq['represented']}/{gq['seen_instances']} ({gq['node_recall']:.3f})", f"{nq['represented']}/{nq['seen_instances']} ({nq['node_recall']:.3f})"),
        ("confident nodes matched", f"{gq['confident_nodes'] - gq['spurious']}/{gq['confident_nodes']} ({gq['node_precision']:.3f})",
         f"{nq['confident_nodes'] - nq['spurious']}/{nq['confident_nodes']} ({nq['node_precision']:.3f})"),
        ("spurious: dup/confused/elsewhere", "/".join(str(gq["spurious_kinds"][k]) for k in ("duplicate", "confused", "elsewhere")),
         "/".join(str(nq["spurious_kinds"][k]) for k in ("duplicate", "confused", "elsewhere"))),
        ("node floor error m (med/p90)", *(f"{q['floor_error_m']['median']:.2f}/{q['floor_error_m']['p90']:.2f}" if q["floor_error_m"] else "-" for q in (gq, nq))),
        ("region cells in majority room", *(f"{q['regions']['cells_in_majority_room']:.3f}" for q in (gq, nq))),
        ("objects in region's majority room", *(f"{q['regions']['objects_in_majority_room']:.3f}" for q in (gq, nq))),
    ]
    for label, a, b in rows:
        print(f"  {label:<34} {a:<30} {b}")
    for source in ("annotations", "box_predicates"):
        print(f"  relations vs {source}: correct/predicted (precision), recall; precision between matched nodes")
        for rel_name in RELATION_NAMES:
            cells = []
            for q in (gq, nq):
                r = q["relations"][source][rel_name]
                cells.append(f"{r['correct']}/{r['predicted']} ({fmt(r['precision'])}), {fmt(r['recall'])}; {fmt(r['precision_matched'])}")
            print(f"    {rel_name:<32} {cells[0]:<30} {cells[1]}")
    kp = report["keypoints"]
    if "orb" in kp:
        print(f"\nkeypoint matching (homography), {kp['pairs']} pairs of {kp['frame_shape']} frames, upscaled to 256 px; ms median (p95):")
        for m in ("orb", "sift"):
            print(f"  {m.upper():<5} match a pair {kp[m]['match_ms']['median']:6.1f} ({kp[m]['match_ms']['p95']:.1f}), "
                  f"features of one image {kp[m]['features_ms']['median']:5.1f}; median inliers: one step apart "
                  f"{fmt(kp[m]['inliers_median']['one_step'], 0)}, random pairs {fmt(kp[m]['inliers_median']['random'], 0)}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--episodes", type=int, default=3, help="walks, each in a different val house (default 3)")
    parser.add_argument("--steps", type=int, default=500, help="steps per walk at most (default 500, the episode limit)")
    parser.add_argument("--seed", type=int, default=0, help="env reset and noise seed; the houses are the first val houses")
    parser.add_argument("--pairs", type=int, default=60, help="keypoint-matching pairs per method (default 60)")
    parser.add_argument("--fronts", action="store_true", help="ground-truth perception gives fronts (as the scene-graph demo)")
    parser.add_argument("--door-width", type=float, default=0.9, help="RegionMap door_width, metres (default 0.9, RegionMap's)")
    parser.add_argument("--threads", type=int, default=1, help="OpenCV threads (default 1)")
    parser.add_argument("--out", type=Path, default=Path("docs/results/perception_bench.json"))
    args = parser.parse_args(argv)
    if args.episodes < 1 or args.steps < 1 or args.pairs < 1:
        parser.error("--episodes, --steps and --pairs must be >= 1")

    import cv2
    import gymnasium as gym

    import navgym  # noqa: F401  (registers the env ids)

    cv2.setNumThreads(args.threads)
    began = time.perf_counter()
    env = gym.make("ObjectNav-ProcHouse-v0", split="val", sensors=SENSORS)
    episodes_by_scene: dict[str, int] = {}
    for k, ep in enumerate(env.unwrapped.dataset.episodes):
        episodes_by_scene.setdefault(ep.scene_id, k)
    chosen = list(episodes_by_scene.values())[: args.episodes]
    if len(chosen) < args.episodes:
        parser.error(f"the val split has only {len(chosen)} houses")

    frames: list[tuple[int, int, np.ndarray]] = []
    frame_every = max(2, (args.episodes * args.steps) // args.pairs)
    episodes: list[dict[str, Any]] = []
    times: dict[str, list[float]] = {}
    for index in chosen:
        t0 = time.perf_counter()
        result = walk(env, index, args.steps, args.seed, args.fronts, args.door_width, frames, frame_every)
        for key, values in result.pop("_times").items():
            times.setdefault(key, []).extend(values)
        episodes.append(result)
        print(f"walk {len(episodes)}/{len(chosen)}: {result['scene_id']}, {result['steps']} steps, {time.perf_counter() - t0:.0f} s", flush=True)
    frame_shape = list(frames[0][2].shape)
    env.close()
    keypoints = bench_keypoints(frames, args.pairs, args.seed)

    report = {
        "command": " ".join(["python scripts/bench_perception.py", *(argv if argv is not None else sys.argv[1:])]),
        "config": {
            "env": "ObjectNav-ProcHouse-v0", "split": "val", "episodes": args.episodes, "steps": args.steps, "seed": args.seed,
            "pairs": args.pairs, "fronts": args.fronts, "door_width": args.door_width, "opencv_threads": args.threads, "noise": NOISE,
            "noisy_min_confidence": NOISY_MIN_CONFIDENCE, "match_distance_m": MATCH_DISTANCE,
        },
        "machine": {
            "platform": platform.platform(), "processor": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__, "opencv": cv2.__version__,
        },
        "frame_shape": frame_shape,
        "total_steps": sum(ep["steps"] for ep in episodes),
        "timing_ms": {k: summary(times[k]) for k in sorted(times, key=lambda k: (TIMED.index(k.split(":")[0]), k))},
        "quality": aggregate(episodes),
        "episodes": episodes,
        "keypoints": keypoints,
    }
    report["elapsed_s"] = time.perf_counter() - began
    print_report(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwrote {args.out}")
    return report


if __name__ == "__main__":
    main()
