"""Latency of one MPPI control step per body (Jetbot, H1, Aliengo) on SemanticNav frames.

    python scripts/bench_mppi.py --note "what else ran on the machine"
    python scripts/bench_mppi.py --episodes 1 --steps 5 --out /tmp/mppi.json   # a quick smoke test

A control step is what the dual-heatmap agent does each step, timed in parts on real frames of
SemanticNav-ProcHouse-<Body>-v0 val episodes ``0 .. episodes-1`` (``steps`` steps each):

* ``perceive``: :func:`ego_points_from_depth` once, then :func:`obstacles_from_depth`,
  :func:`heatmap_to_ground` of a navigation heatmap and :func:`heatmap_facing_point` of a facing
  heatmap on those points. The heatmaps stand in
  for a model's: the navigation heatmap is 1 - d / 0.5 m on floor pixels within 0.5 m (on the
  ground) of the target's reachable region (privileged, as the data pipeline's ground truth), the
  facing heatmap is the target's pixels (semantic sensor);
* ``costmap``: :meth:`Costmap.build` (the goal potential and the clearance map);
* ``plan``: :meth:`MPPIPlanner.plan` with the facing point;
* ``total``: the three.

The env is stepped with the planned command (so frames change as the body moves). Variants: the
defaults (``samples=128``, ``horizon=10``, Euclidean potential), ``samples`` 64, 256 and 512,
and the geodesic potential. Wall time (``perf_counter``) and this process's CPU time (``process_time``:
closer to the wall time of an idle machine when other processes share the cores) are reported;
the load average before and after is recorded, with ``--note``. Writes JSON (``--out``, default
``docs/results/mppi_latency.json``) and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import navgym  # noqa: F401
from navgym.agents.planning.mppi import (
    Costmap, LocalGrid, MPPIConfig, MPPIPlanner, ego_points_from_depth, heatmap_facing_point, heatmap_to_ground,
    obstacles_from_depth,
)  # fmt: skip

BODIES = ("Jetbot", "H1", "Aliengo")
SENSORS = ("rgb", "depth", "semantic", "prompt_kind", "prompt_text", "prompt_image")
#: name -> (MPPIConfig overrides, Costmap.build options).
VARIANTS = {
    "default": ({}, {}),
    "samples_64": ({"samples": 64}, {}),
    "samples_256": ({"samples": 256}, {}),
    "samples_512": ({"samples": 512}, {}),
    "geodesic_potential": ({}, {"method": "geodesic"}),
}


def heatmaps(env, obs) -> tuple[np.ndarray, np.ndarray]:
    """Stand-in navigation and facing heatmaps (see the module docstring)."""
    nav = env.unwrapped
    camera = nav.embodiment.camera
    points, valid = ego_points_from_depth(obs["depth"], camera)
    state = nav.sim.get_agent_state()
    s, c = math.sin(state.yaw), math.cos(state.yaw)
    d = nav.goal_points - state.position
    goals = np.stack([-d[:, 0] * s - d[:, 2] * c, -d[:, 0] * c + d[:, 2] * s], axis=1)
    floor = valid & (np.abs(points[..., 2]) < 0.05)
    xy = points[floor][:, :2]
    nearest = np.full(len(xy), np.inf)
    for chunk in np.array_split(goals, max(1, len(goals) // 256)):
        nearest = np.minimum(nearest, np.hypot(xy[:, None, 0] - chunk[None, :, 0], xy[:, None, 1] - chunk[None, :, 1]).min(axis=1))
    navigation = np.zeros(floor.shape)
    navigation[floor] = np.clip(1.0 - nearest / 0.5, 0.0, 1.0)
    facing = (obs["semantic"] == int(nav.episode.goal_object_id)).astype(np.float64)
    return navigation, facing


def stats(values: list[float]) -> dict:
    a = np.asarray(values) * 1e3
    return {"n": int(a.size), "median_ms": round(float(np.median(a)), 3), "p95_ms": round(float(np.percentile(a, 95)), 3), "mean_ms": round(float(a.mean()), 3)}


def bench(body: str, variant: str, episodes: int, steps: int) -> dict:
    config_overrides, costmap_options = VARIANTS[variant]
    env = gym.make(f"SemanticNav-ProcHouse-{body}-v0", split="val", sensors=SENSORS)
    embodiment = env.unwrapped.embodiment
    camera = embodiment.camera
    planner = MPPIPlanner.for_embodiment(embodiment, seed=0, **config_overrides)
    grid = LocalGrid()
    inflation = float(embodiment.body.radius)
    wall = {k: [] for k in ("perceive", "costmap", "plan", "total")}
    cpu = {k: [] for k in wall}
    for episode in range(episodes):
        obs, _ = env.reset(seed=episode, options={"episode_index": episode})
        planner.reset()
        for _ in range(steps):
            navigation, facing_map = heatmaps(env, obs)
            t0, c0 = time.perf_counter(), time.process_time()
            points = ego_points_from_depth(obs["depth"], camera)
            obstacles = obstacles_from_depth(
                obs["depth"], camera, grid, min_height=max(0.05, embodiment.body.max_climb), max_height=embodiment.body.height, points=points
            )
            goal = heatmap_to_ground(navigation, obs["depth"], camera, points=points)
            facing = heatmap_facing_point(facing_map, obs["depth"], camera, points=points)
            t1, c1 = time.perf_counter(), time.process_time()
            if len(goal) == 0:
                break
            options = dict(costmap_options)
            if options.get("method") == "geodesic":
                options["inflation"] = inflation
            costmap = Costmap.build(grid, goal=goal, obstacles=obstacles, **options)
            t2, c2 = time.perf_counter(), time.process_time()
            result = planner.plan(costmap, facing_point=facing)
            t3, c3 = time.perf_counter(), time.process_time()
            for key, (a, b, x, y) in {"perceive": (t0, t1, c0, c1), "costmap": (t1, t2, c1, c2), "plan": (t2, t3, c2, c3), "total": (t0, t3, c0, c3)}.items():
                wall[key].append(b - a)
                cpu[key].append(y - x)
            obs, _, terminated, truncated, _ = env.step(np.append(result.command, 0.0).astype(np.float32))
            if terminated or truncated:
                break
    env.close()
    config = planner.config
    return {
        "samples": config.samples, "horizon": config.horizon, "integration_step": config.integration_step,
        "potential": costmap_options.get("method", "euclidean"),
        "wall": {k: stats(v) for k, v in wall.items()}, "cpu": {k: stats(v) for k, v in cpu.items()},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20, help="control steps per episode")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--out", default="docs/results/mppi_latency.json")
    parser.add_argument("--note", default="", help="what else ran on the machine (recorded in the JSON)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    results: dict = {}
    for variant in args.variants:
        for body in BODIES:
            results.setdefault(variant, {})[body.lower()] = bench(body, variant, args.episodes, args.steps)
    load_after = os.getloadavg()
    record = {
        "command": "python " + shlex.join(sys.argv),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine(), "system": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__, "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "load_average_1_5_15_before": [round(v, 2) for v in load_before], "load_average_1_5_15_after": [round(v, 2) for v in load_after],
        },
        "note": args.note or None,
        "env": "SemanticNav-ProcHouse-<Body>-v0", "split": "val", "episodes": args.episodes, "steps_per_episode": args.steps,
        "defaults": {k: v for k, v in MPPIConfig().__dict__.items()},
        "grid": LocalGrid().__dict__ | {"shape": list(LocalGrid().shape)},
        "latency": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} ({os.cpu_count()} CPUs)")
    print(f"{'variant':<20} {'body':<8} {'K':>4} {'T':>3}  total wall median / p95   total cpu median   plan wall median")
    for variant, by_body in results.items():
        for body, r in by_body.items():
            w, c = r["wall"], r["cpu"]
            print(f"{variant:<20} {body:<8} {r['samples']:>4} {r['horizon']:>3}  {w['total']['median_ms']:>8.1f} / {w['total']['p95_ms']:<8.1f} ms"
                  f"   {c['total']['median_ms']:>8.1f} ms        {w['plan']['median_ms']:>8.1f} ms")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
