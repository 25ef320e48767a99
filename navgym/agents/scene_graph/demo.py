"""Draw the online scene graph of a frontier-exploration walk through a ProcHouse house.

``python -m navgym.agents.scene_graph.demo docs/images/scene_graph.png`` makes the picture in
``docs/perception.md``: the frontier agent explores (it is given no goal) while ground-truth
perception feeds an :class:`~navgym.agents.scene_graph.OnlineSceneGraph` over the agent's own map.
It prints the graph's text form and the timings.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def explore(env_id: str = "ObjectNav-ProcHouse-v0", seed: int = 0, max_steps: int = 500, fronts: bool = True):
    """Run the walk; returns (graph, agent's map, last pose, seconds per step by part)."""
    import gymnasium as gym

    import navgym  # noqa: F401  (registers the env ids)
    from navgym.agents.baselines.frontier import FrontierAgent
    from navgym.agents.mapping import Pose2D
    from navgym.agents.perception import GroundTruthPerception
    from navgym.agents.scene_graph import OnlineSceneGraph

    env = gym.make(env_id, num_scenes=1, episodes_per_scene=2, sensors=("rgb", "depth", "semantic", "gps", "compass", "objectgoal"))
    obs, _ = env.reset(seed=seed)
    perception = GroundTruthPerception.from_env(env, fronts=fronts)
    agent = FrontierAgent(env, goal_recognizer=lambda o: np.zeros(np.shape(o["depth"])[:2], dtype=bool))
    graph = OnlineSceneGraph()
    timing = {"perception": 0.0, "agent": 0.0, "graph": 0.0}
    pose = Pose2D.from_gps_compass(obs["gps"], obs["compass"])
    steps = 0
    for step in range(max_steps):
        pose = Pose2D.from_gps_compass(obs["gps"], obs["compass"])
        t0 = time.perf_counter()
        detections = perception.detect(obs, pose, pitch=agent.tilt)
        t1 = time.perf_counter()
        action = agent.policy(obs)
        t2 = time.perf_counter()
        graph.update(detections, step=step, occupancy=agent.map)
        t3 = time.perf_counter()
        timing["perception"] += t1 - t0
        timing["agent"] += t2 - t1
        timing["graph"] += t3 - t2
        steps += 1
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
    graph.update_regions(agent.map)
    env.close()
    return graph, agent.map, pose, {k: v / max(steps, 1) for k, v in timing.items()}, steps


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="PNG to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--size", type=int, default=720)
    args = parser.parse_args(argv)
    graph, occupancy, pose, timing, steps = explore(seed=args.seed, max_steps=args.steps)
    picture = graph.render(occupancy, pose, size=args.size)
    from PIL import Image

    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(picture).save(args.out)
    print(graph.to_text(max_lines=20))
    print(f"{steps} steps, {len(graph.nodes)} objects, {len(graph.regions)} regions, {len(graph.edges())} edges; per step: "
          + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in timing.items()))
    print(f"wrote {args.out} ({picture.shape[1]}x{picture.shape[0]})")


if __name__ == "__main__":
    main()
