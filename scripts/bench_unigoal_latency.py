"""Decision latency of UniGoal: wall time of ``agent.policy(obs)`` per step, by task and stage.

    python scripts/bench_unigoal_latency.py --episodes 5 --out docs/results/unigoal_latency.json
    python scripts/bench_unigoal_latency.py --episodes 2 --reasoner llm --out docs/results/unigoal_latency_llm.json

``--reasoner llm`` starts llama.cpp's OpenAI-compatible server with the packaged SmolLM2 on
127.0.0.1 (the ``navgym[llama]`` extra) and uses UniGoal's ``openai`` reasoner. The first step of
each episode (goal-graph construction, and the one-off model load) is reported apart from the rest.
Run it on a quiet machine: anything else on the two cores shows up in the numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

TASKS = ("ObjectNav", "InstanceImageNav", "TextNav")


def run(task: str, episodes: int, seed: int, options: dict) -> dict:
    import gymnasium as gym

    import navgym  # noqa: F401
    from navgym.agents import make_for_env, sensors_for
    from navgym.tasks import TASKS as REGISTRY

    env = gym.make(f"{task}-ProcHouse-v0", split="val", sensors=sensors_for("unigoal", REGISTRY.get(task)))
    agent, env = make_for_env("unigoal", env, **options)
    first, steps, by_stage = [], [], {1: [], 2: [], 3: []}
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        agent.reset()
        done, t = False, 0
        while not done:
            start = time.perf_counter()
            action = agent.policy(obs)
            elapsed = time.perf_counter() - start
            (first if t == 0 else steps).append(elapsed)
            if t:
                by_stage[agent.stage].append(elapsed)
            obs, _, terminated, truncated, _ = env.step(action)
            done, t = terminated or truncated, t + 1
    env.close()
    reasoner_stats = agent.reasoner.stats.as_dict() if hasattr(getattr(agent.reasoner, "stats", None), "as_dict") else None

    def stats(values: list[float]) -> dict:
        if not values:
            return {"n": 0}
        ms = np.asarray(values) * 1000.0
        return {"n": int(ms.size), "median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)), "mean_ms": float(ms.mean())}

    return {"steps": stats(steps), "first_step": stats(first), "by_stage": {str(k): stats(v) for k, v in by_stage.items()},
            "reasoner_stats": reasoner_stats, "raw": steps}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=5, help="episodes per task")
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--reasoner", choices=("embedded", "llm"), default="embedded")
    parser.add_argument("--llm-port", type=int, default=8766)
    parser.add_argument("--out", type=Path, default=Path("docs/results/unigoal_latency.json"))
    args = parser.parse_args()
    options: dict = {}
    server = None
    if args.reasoner == "llm":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from run_unigoal_results import start_llama

        server = start_llama(args.llm_port, Path("runs") / "bench_llama_server.log")
        options = {"reasoner": "openai", "base_url": f"http://127.0.0.1:{args.llm_port}/v1", "model": "smollm2", "timeout": 30}
    try:
        results = {task: run(task, args.episodes, args.seed, options) for task in TASKS}
    finally:
        if server is not None:
            server.terminate()
    everything = [x for r in results.values() for x in r.pop("raw")]
    ms = np.asarray(everything) * 1000.0
    report = {
        "command": "python " + " ".join(sys.argv),
        "machine": f"{platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores",
        "reasoner": args.reasoner,
        "all_tasks": {"n": int(ms.size), "median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95))},
        "tasks": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"{'task':18s} {'steps':>6s} {'median ms':>10s} {'p95 ms':>8s} {'first step ms':>14s}")
    for task, r in results.items():
        print(f"{task:18s} {r['steps']['n']:6d} {r['steps']['median_ms']:10.1f} {r['steps']['p95_ms']:8.1f} {r['first_step']['median_ms']:14.1f}")
    print(f"{'all':18s} {ms.size:6d} {np.median(ms):10.1f} {np.percentile(ms, 95):8.1f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
