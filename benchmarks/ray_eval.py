"""Evaluation wall time: in this process vs on Ray with 1 and with 2 workers, in turns.

    python benchmarks/ray_eval.py [--env ObjectNav-ProcHouse-v0] [--agent frontier] [--episodes 12]
                                  [--rounds 2] [--json docs/results/ray_eval.json]

Each round times, in turn, ``navgym.evaluation.evaluate`` of the same episodes (same seeds) run
serially in this process, then through :class:`navgym.distributed.RayEpisodeRunner` with 1 worker
and with 2 workers, each Ray run starting and stopping its own local Ray (its start-up is in the
time, as a user pays it). Every setup must produce the same records (checked). Prints the median
wall time of each setup and the speed-ups serial/2 workers and 1 worker/2 workers per round;
``--json`` writes them with the command and the machine's cores.

The env and its houses are built (and cached) once before timing, so no setup pays for generating
houses.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="ObjectNav-ProcHouse-v0")
    parser.add_argument("--agent", default="frontier")
    parser.add_argument("--episodes", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from navgym.distributed import RayEpisodeRunner
    from navgym.evaluation import EvalSpec, evaluate

    spec = EvalSpec(args.env, args.agent, "val")
    agent, env = spec.build()
    reference = evaluate(env, agent, args.episodes, progress=False).records  # also warms the caches

    def timed(workers: int | None) -> float:
        runner = None if workers is None else RayEpisodeRunner(spec, workers=workers)
        start = time.perf_counter()
        records = evaluate(env, agent, args.episodes, progress=False, runner=runner).records
        elapsed = time.perf_counter() - start
        if records != reference:
            sys.exit(f"records differ from the serial run with workers={workers}: the benchmark is void")
        return elapsed

    setups = {"serial (this process)": None, "ray, 1 worker": 1, "ray, 2 workers": 2}
    times: dict[str, list[float]] = {name: [] for name in setups}
    for round_ in range(args.rounds):
        for name, workers in setups.items():
            times[name].append(timed(workers))
            print(f"round {round_ + 1}: {name:<22} {times[name][-1]:7.1f} s", flush=True)
    env.close()
    serial, one, two = (times[name] for name in setups)
    result = {
        "command": "python benchmarks/ray_eval.py " + " ".join(sys.argv[1:]),
        "env": args.env, "agent": args.agent, "episodes": args.episodes, "rounds": args.rounds,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "median_wall_s": {name: statistics.median(values) for name, values in times.items()},
        "wall_s": times,
        "speedup_2_workers_vs_serial": [s / t for s, t in zip(serial, two)],
        "speedup_2_workers_vs_1_worker": [o / t for o, t in zip(one, two)],
    }  # fmt: skip
    print(f"\n{'setup':<24}{'median wall (s)':>16}")
    for name, value in result["median_wall_s"].items():
        print(f"{name:<24}{value:>16.1f}")
    print(f"speed-up, 2 workers vs 1 worker, per round: {', '.join(f'{r:.2f}x' for r in result['speedup_2_workers_vs_1_worker'])}")
    print(f"speed-up, 2 workers vs serial, per round:   {', '.join(f'{r:.2f}x' for r in result['speedup_2_workers_vs_serial'])}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
