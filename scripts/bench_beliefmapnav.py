"""Decision latency and memory of BeliefMapNav, beside the VLFM-style and frontier baselines.

    python scripts/bench_beliefmapnav.py --episodes 3 --note "another evaluation process ran on the second core"
    python scripts/bench_beliefmapnav.py --episodes 1 --out /tmp/bench.json   # a quick smoke test

Latency: the wall time of ``agent.policy(obs)`` per step (``time.perf_counter``) on ObjectNav
ProcHouse val episodes ``0 .. episodes-1`` (``env.reset(seed=i, options={"episode_index": i})``).
The agents take turns per episode (beliefmapnav, beliefmapnav on a 0.05 m planning map,
beliefmapnav with ``replan_every=3``, vlfm, frontier, beliefmapnav, ...), so whatever
else runs on the machine slows them alike. The first episode (cold MiniLM phrase cache, landmark
generation for a new target) is reported apart from the later ones, and the first step of every
episode apart from the rest. BeliefMapNav's time is broken into its parts by wrapping the
instance's methods with timers (median ms per call; ``_choose_frontier`` runs inside ``_decide``
and ``voxels.integrate`` inside ``_observe``).

Memory: :meth:`VoxelBeliefMap.memory_bytes` of a 40 m x 40 m x 3 m map (the agent's defaults) per
voxel size, the resident-set growth of this process around building one agent, and the size of the
ProcHouse val houses (room rectangles: the largest floor extent, and the farthest any start lies
from a house edge, which the start-centred 40 m map must cover: at most 20 m).

Writes JSON (``--out``, default ``docs/results/beliefmapnav_latency.json``) and prints a table.
Run it on a quiet machine, or say with ``--note`` what else ran: the numbers include that load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ENV_ID = "ObjectNav-ProcHouse-v0"
AGENTS = ("beliefmapnav", "beliefmapnav_cell005", "beliefmapnav_replan3", "vlfm", "frontier")
#: Benchmark entries that are a registered agent with options: name -> (agent, options).
VARIANTS = {
    "beliefmapnav_cell005": ("beliefmapnav", {"cell_size": 0.05}),  # the planning map of the frontier agent (0.125 m is the default)
    "beliefmapnav_replan3": ("beliefmapnav", {"replan_every": 3}),
}
VOXEL_SIZES = (0.25, 0.2, 0.15, 0.1)
#: BeliefMapNav parts: (label, owner attribute path or "" for the agent, method name).
PARTS = (
    ("perception.detect", "perception", "detect"),
    ("map.integrate", "map", "integrate"),
    ("_vote_goal", "", "_vote_goal"),
    ("_observe", "", "_observe"),
    ("voxels.integrate (in _observe)", "voxels", "integrate"),
    ("_decide", "", "_decide"),
    ("_choose_frontier (in _decide)", "", "_choose_frontier"),
    ("_start_target (once per episode)", "", "_start_target"),
)


def stats(values: list[float]) -> dict[str, Any]:
    """Seconds -> n, median, p95, mean in ms."""
    if not values:
        return {"n": 0}
    ms = np.asarray(values, dtype=np.float64) * 1000.0
    return {"n": int(ms.size), "median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)), "mean_ms": float(ms.mean())}


def rss_bytes() -> dict[str, int]:
    """VmRSS and VmHWM (peak) of this process from /proc/self/status, bytes."""
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    except OSError:
        import resource

        out["VmHWM"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return out


def time_parts(agent: Any) -> dict[str, list[float]]:
    """Wrap BeliefMapNav's methods on the instance (and its maps') with timers."""
    times: dict[str, list[float]] = {}
    for label, owner_name, method in PARTS:
        owner = getattr(agent, owner_name) if owner_name else agent
        original = getattr(owner, method, None)
        if original is None:
            continue
        times[label] = []

        def timed(*args: Any, _f: Callable = original, _out: list = times[label], **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _f(*args, **kwargs)
            finally:
                _out.append(time.perf_counter() - start)

        setattr(owner, method, timed)
    return times


def make_env(name: str) -> Any:
    import gymnasium as gym

    import navgym  # noqa: F401
    from navgym.agents import sensors_for
    from navgym.tasks import TASKS

    agent = VARIANTS.get(name, (name, {}))[0]
    return gym.make(ENV_ID, split="val", sensors=sensors_for(agent, TASKS.get("ObjectNav")), render_mode="rgb_array")


def run_episode(agent: Any, env: Any, index: int, max_steps: int | None) -> tuple[list[float], dict[str, Any]]:
    obs, _ = env.reset(seed=index, options={"episode_index": index})
    agent.reset()
    times: list[float] = []
    done, info = False, {}
    while not done and (max_steps is None or len(times) < max_steps):
        start = time.perf_counter()
        action = agent.policy(obs)
        times.append(time.perf_counter() - start)
        obs, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
    return times, {"steps": len(times), "success": info.get("success"), "done": bool(done)}


def house_sizes(env: Any) -> dict[str, Any]:
    """Room-rectangle extent of every val scene, and how far each episode's start lies from its house's edges."""
    u = env.unwrapped
    first_of_scene: dict[str, int] = {}
    for i, episode in enumerate(u.dataset.episodes):
        first_of_scene.setdefault(episode.scene_id, i)
    scenes = {}
    for scene_id, i in first_of_scene.items():
        env.reset(seed=i, options={"episode_index": i})
        rooms = u.sim.scene_graph().rooms
        if not rooms:
            continue
        b = np.array([r.bounds for r in rooms], dtype=np.float64)  # x0, z0, x1, z1
        x0, z0, x1, z1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
        starts = np.array([e.start_position for e in u.dataset.episodes if e.scene_id == scene_id], dtype=np.float64)
        reach = max(np.abs(starts[:, 0] - x0).max(), np.abs(x1 - starts[:, 0]).max(), np.abs(starts[:, 2] - z0).max(), np.abs(z1 - starts[:, 2]).max())
        scenes[scene_id] = {"extent_x_m": round(float(x1 - x0), 2), "extent_z_m": round(float(z1 - z0), 2), "rooms": len(rooms),
                            "max_start_to_edge_m": round(float(reach), 2)}
    if not scenes:
        return {}
    return {
        "scenes": len(scenes),
        "largest_extent_m": max(max(s["extent_x_m"], s["extent_z_m"]) for s in scenes.values()),
        "largest_max_start_to_edge_m": max(s["max_start_to_edge_m"] for s in scenes.values()),
        "by_scene": scenes,
    }


def voxel_memory(sizes: tuple[float, ...]) -> list[dict[str, Any]]:
    from navgym.agents.beliefmap.features import DetectionCaptions
    from navgym.agents.beliefmap.voxels import VoxelBeliefMap
    from navgym.agents.reasoning import make_reasoner_with

    features = DetectionCaptions(make_reasoner_with("embedded"))
    rows = []
    for v in sizes:
        voxels = VoxelBeliefMap(features, size=40.0, voxel_size=v, height_range=(0.0, 3.0))
        n = int(np.prod(voxels.shape))
        rows.append({"voxel_size_m": v, "shape": list(voxels.shape), "voxels": n, "memory_bytes": voxels.memory_bytes(),
                     "memory_mb": round(voxels.memory_bytes() / 1e6, 1), "bytes_per_voxel": round(voxels.memory_bytes() / n, 2)})
        del voxels
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=5, help="val episodes 0..N-1, each run by every agent")
    parser.add_argument("--max-steps", type=int, default=None, help="cut episodes after this many steps (default: run to the end)")
    parser.add_argument("--note", default="", help="what else ran on the machine (recorded in the JSON)")
    parser.add_argument("--no-houses", action="store_true", help="skip the house-size survey of the val scenes")
    parser.add_argument("--out", type=Path, default=Path("docs/results/beliefmapnav_latency.json"))
    args = parser.parse_args()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass

    from navgym.agents import make_for_env

    envs = {name: make_env(name) for name in AGENTS}
    import navgym.agents.beliefmap.agent  # noqa: F401  (imports before the RSS reading)

    rss_before = rss_bytes()
    built: dict[str, Any] = {}
    agent, envs["beliefmapnav"] = make_for_env("beliefmapnav", envs["beliefmapnav"])
    rss_after = rss_bytes()
    built["beliefmapnav"] = agent
    for name in AGENTS[1:]:
        agent_name, options = VARIANTS.get(name, (name, {}))
        built[name], envs[name] = make_for_env(agent_name, envs[name], **options)
    part_times = time_parts(built["beliefmapnav"])

    times: dict[str, dict[str, list[float]]] = {name: {"first_episode": [], "later_episodes": [], "first_step": [], "rest": []} for name in AGENTS}
    episodes: dict[str, list[dict[str, Any]]] = {name: [] for name in AGENTS}
    for i in range(args.episodes):
        for name in AGENTS:
            t, info = run_episode(built[name], envs[name], i, args.max_steps)
            if i == 0 and name == "beliefmapnav":
                rss_first = rss_bytes()  # the reasoner's MiniLM loads on first use
            times[name]["first_episode" if i == 0 else "later_episodes"].extend(t)
            times[name]["first_step"].extend(t[:1])
            times[name]["rest"].extend(t[1:])
            episodes[name].append({"episode_index": i, **info, "median_ms": float(np.median(t) * 1000) if t else None})
            print(f"episode {i} {name:20s} {info['steps']:4d} steps, median {episodes[name][-1]['median_ms']:.1f} ms, success={info['success']}", flush=True)
    rss_end = rss_bytes()
    rss_first = rss_first if args.episodes else rss_end

    latency = {}
    for name in AGENTS:
        everything = times[name]["first_episode"] + times[name]["later_episodes"]
        latency[name] = {"all_steps": stats(everything), **{k: stats(v) for k, v in times[name].items()}, "episodes": episodes[name]}
    policy_total = sum(times["beliefmapnav"]["first_episode"] + times["beliefmapnav"]["later_episodes"])
    parts = {label: {**stats(v), "share_of_policy_time": round(sum(v) / policy_total, 3) if policy_total else None} for label, v in part_times.items()}

    houses = {} if args.no_houses else house_sizes(envs["beliefmapnav"])
    for env in envs.values():
        env.close()
    memory = voxel_memory(VOXEL_SIZES)
    report = {
        "command": "python " + shlex.join(sys.argv),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine(), "system": platform.platform(),
                    "python": platform.python_version(), "torch_threads": 1},
        "note": args.note or None,
        "env": ENV_ID, "split": "val", "episodes": args.episodes, "max_steps": args.max_steps,
        "latency": latency,
        "beliefmapnav_parts": parts,
        "voxel_memory_40m_0to3m": memory,
        "rss": {"before_building_beliefmapnav_mb": round(rss_before.get("VmRSS", 0) / 1e6, 1),
                "after_building_beliefmapnav_mb": round(rss_after.get("VmRSS", 0) / 1e6, 1),
                "growth_building_beliefmapnav_mb": round((rss_after.get("VmRSS", 0) - rss_before.get("VmRSS", 0)) / 1e6, 1),
                "after_first_beliefmapnav_episode_mb": round(rss_first.get("VmRSS", 0) / 1e6, 1),
                "after_episodes_mb": round(rss_end.get("VmRSS", 0) / 1e6, 1),
                "peak_after_episodes_mb": round(rss_end.get("VmHWM", 0) / 1e6, 1),
                "note": "VmRSS of this process; after_episodes includes the three agents, three envs and the MiniLM model"},
        "houses": houses,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")

    print(f"\n{'agent':20s} {'steps':>6s} {'median':>8s} {'p95':>8s} {'mean':>8s} {'ep1 med':>8s} {'later med':>9s} {'1st step':>9s}  (ms)")
    for name, r in latency.items():
        a, f, later, first = r["all_steps"], r["first_episode"], r["later_episodes"], r["first_step"]
        print(f"{name:20s} {a.get('n', 0):6d} {a.get('median_ms', float('nan')):8.1f} {a.get('p95_ms', float('nan')):8.1f} {a.get('mean_ms', float('nan')):8.1f} "
              f"{f.get('median_ms', float('nan')):8.1f} {later.get('median_ms', float('nan')):9.1f} {first.get('median_ms', float('nan')):9.1f}")
    print(f"\n{'BeliefMapNav part':34s} {'calls':>6s} {'median':>8s} {'p95':>8s} {'share':>6s}")
    for label, p in parts.items():
        if p.get("n"):
            print(f"{label:34s} {p['n']:6d} {p['median_ms']:8.2f} {p['p95_ms']:8.2f} {p['share_of_policy_time']:6.2f}")
    print(f"\n{'voxel m':>8s} {'shape':>16s} {'MB':>8s}")
    for m in memory:
        print(f"{m['voxel_size_m']:8.2f} {str(tuple(m['shape'])):>16s} {m['memory_mb']:8.1f}")
    r = report["rss"]
    print(f"\nRSS growth building beliefmapnav: {r['growth_building_beliefmapnav_mb']} MB (after its first episode {r['after_first_beliefmapnav_episode_mb']} MB, after all episodes {r['after_episodes_mb']} MB, peak {r['peak_after_episodes_mb']} MB)")
    if houses:
        print(f"houses: {houses['scenes']} val scenes, largest extent {houses['largest_extent_m']} m, farthest start-to-edge {houses['largest_max_start_to_edge_m']} m")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
