"""Evaluate the baselines (random, frontier, oracle) on every ProcHouse task and write the table.

    python scripts/run_baselines.py --episodes 30 --out runs/baselines --table docs/results/baselines.md

Each (task, agent) pair is one ``navgym evaluate`` run (the exact command is printed in the table),
resumable: rerunning continues unfinished runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

TASKS = ("ImageNav", "InstanceImageNav", "ObjectNav", "TextNav")
AGENTS = ("random", "frontier", "oracle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("runs/baselines"))
    parser.add_argument("--table", type=Path, default=Path("docs/results/baselines.md"))
    args = parser.parse_args()

    rows = []
    for task in TASKS:
        for agent in AGENTS:
            run_dir = args.out / f"{task}_{agent}"
            command = [
                "navgym", "evaluate", "--env", f"{task}-ProcHouse-v0", "--agent", agent,
                "--episodes", str(args.episodes), "--split", "val", "--seed", "0", "--out", str(run_dir), "--resume",
            ]
            print(" ".join(command), flush=True)
            subprocess.run(command, check=True)
            summary = json.loads((run_dir / "summary.json").read_text())
            rows.append((task, agent, summary, " ".join(command[:-1])))

    lines = [
        "| task | agent | SR | SPL | SoftSPL | distance to goal (m) | steps | episodes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task, agent, s, _ in rows:
        def cell(key: str) -> str:
            return f"{s[key]['mean']:.3f} ± {s[key]['ci95']:.3f}" if key in s else "n/a"

        lines.append(
            f"| {task} | {agent} | {cell('success')} | {cell('spl')} | {cell('soft_spl')} | "
            f"{cell('distance_to_goal')} | {s['num_steps']['mean']:.0f} | {int(s['episodes']['n'])} |"
        )
    commands = "\n".join(cmd for *_, cmd in rows)
    args.table.parent.mkdir(parents=True, exist_ok=True)
    args.table.write_text(
        "# Baselines on ProcHouse (val)\n\n"
        f"Produced by `python scripts/run_baselines.py --episodes {args.episodes}`, which runs:\n\n"
        f"```\n{commands}\n```\n\n"
        "Mean ± 95% confidence half-width over episodes (Student t). The oracle is privileged "
        "(it follows the simulator's shortest path): an upper bound, not a method.\n\n" + "\n".join(lines) + "\n"
    )
    print(f"wrote {args.table}")


if __name__ == "__main__":
    sys.exit(main())
