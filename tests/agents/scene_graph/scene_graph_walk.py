"""A walk through a small ProcHouse house for the scene-graph tests: the agent is put at a
navigable point near each room's centre (tests may read the true scene) and turns a full circle
there, taking each frame through the env (gps, compass, depth, semantic) like an agent would."""

from __future__ import annotations

import math
from collections import Counter

import gymnasium as gym
import numpy as np

import navgym  # noqa: F401  (registers the env ids)
from navgym.agents.mapping import OccupancyMap, Pose2D
from navgym.agents.scene_graph import OnlineSceneGraph
from navgym.core.specs import AgentState

SENSORS = ("rgb", "depth", "semantic", "gps", "compass", "objectgoal")


def make_env(seed: int = 0):
    env = gym.make("ObjectNav-ProcHouse-v0", num_scenes=1, episodes_per_scene=2, sensors=SENSORS)
    env.reset(seed=seed)
    return env


def start_to_world(start: AgentState, points: np.ndarray) -> np.ndarray:
    """Start-frame (..., 3) points -> world (what the start frame is, read from the true start)."""
    points = np.asarray(points, dtype=np.float64)
    c, s = math.cos(start.yaw), math.sin(start.yaw)
    out = np.empty_like(points)
    out[..., 0] = c * points[..., 0] + s * points[..., 2] + start.position[0]
    out[..., 1] = points[..., 1] + start.position[1]
    out[..., 2] = -s * points[..., 0] + c * points[..., 2] + start.position[2]
    return out


def room_tour(env, perception, graph: OnlineSceneGraph | None = None, occupancy: OccupancyMap | None = None, turns: int = 12):
    """Frames (detections, pose) of a full turn at each room's centre; feeds ``graph`` and
    ``occupancy`` as it goes. Returns (frames, start state)."""
    nav = env.unwrapped
    sim = nav.sim
    start = sim.get_agent_state().copy()
    camera = nav.embodiment.camera
    frames = []
    step = 0
    for room in sim.scene_graph().rooms:
        point = sim.snap_point(np.array([room.center[0], start.position[1], room.center[1]]))
        sim.set_agent_state(AgentState.from_yaw(point, 0.0))
        for _ in range(turns):
            obs, *_ = env.step(nav.actions.index("turn_left"))
            pose = Pose2D.from_gps_compass(obs["gps"], obs["compass"])
            detections = perception.detect(obs, pose)
            if occupancy is not None:
                occupancy.integrate(obs["depth"], pose, camera)
            if graph is not None:
                graph.update(detections, step=step, occupancy=occupancy)
            frames.append((detections, pose))
            step += 1
    sim.set_agent_state(start)
    return frames, start


def relation_agreement(graph: OnlineSceneGraph, truth) -> dict[str, tuple[int, int, int]]:
    """Per relation: (predicted edges also in the truth, predicted, true edges between seen
    objects); ``proximity``: next_to / near pairs counted as either."""
    true = {(r.subject, r.relation, r.object) for r in truth.relations}
    ids = {n.id: n.instance_id for n in graph.nodes.values()}
    seen = set(ids.values())
    out = {}
    for name in ("on", "next_to", "near", "facing"):
        predicted = {(ids[e.subject], name, ids[e.object]) for e in graph.edges([name])}
        expected = {t for t in true if t[1] == name and t[0] in seen and t[2] in seen}
        out[name] = (len(predicted & expected), len(predicted), len(expected))
    predicted = {(ids[e.subject], ids[e.object]) for e in graph.edges(["next_to", "near"])}
    expected = {(a, b) for a, r, b in true if r in ("next_to", "near") and a in seen and b in seen}
    out["proximity"] = (len(predicted & expected), len(predicted), len(expected))
    return out


def region_purity(graph: OnlineSceneGraph, truth) -> tuple[float, int]:
    """Fraction of object nodes with a region whose true room is their region's majority room,
    and how many nodes have a region."""
    by_region: dict[int, list] = {}
    for node in graph.nodes.values():
        if node.region is not None:
            by_region.setdefault(node.region, []).append(truth.instance(node.instance_id).room_id)
    total = sum(len(v) for v in by_region.values())
    agree = sum(Counter(v).most_common(1)[0][1] for v in by_region.values())
    return (agree / total if total else 0.0), total
