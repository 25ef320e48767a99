"""Evaluate the baselines (random, frontier, oracle) on every Habitat task of a generated dataset
and write the table into its section of docs/results/baselines.md.

    python scripts/run_baselines.py --episodes 30                         # ProcHouse, val
    python scripts/run_baselines.py --dataset ProcHouseHard --split test --episodes 100 \\
        --out docs/results/baselines_runs/ProcHouseHard_test

Each (task, agent) pair is one ``navgym evaluate`` run (the exact command is printed in the table),
resumable: rerunning continues unfinished runs. The table goes between the markers
``<!-- baselines DATASET SPLIT -->`` and ``<!-- /baselines -->`` of ``--table`` (added at the end
when the file has no such section), so each dataset's table is rewritten on its own.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import summary_cell  # noqa: E402

TASKS = ("ImageNav", "InstanceImageNav", "ObjectNav", "TextNav")
AGENTS = ("random", "frontier", "oracle")


def table(rows) -> str:
    lines = [
        "| task | agent | SR | SPL | SoftSPL | distance to goal (m) | steps | episodes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task, agent, s, _ in rows:
        lines.append(
            f"| {task} | {agent} | {summary_cell(s, 'success')} | {summary_cell(s, 'spl')} | {summary_cell(s, 'soft_spl')} | "
            f"{summary_cell(s, 'distance_to_goal')} | {s['num_steps']['mean']:.0f} | {int(s['episodes']['n'])} |"
        )
    return "\n".join(lines)


def write_section(path: Path, dataset: str, split: str, body: str) -> None:
    """Replace (or append) the ``dataset split`` section of ``path``."""
    begin, end = f"<!-- baselines {dataset} {split} -->", "<!-- /baselines -->"
    text = path.read_text() if path.exists() else "# Baselines\n"
    section = f"{begin}\n{body}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="ProcHouse", choices=["ProcHouse", "ProcHouseHard"])
    parser.add_argument("--split", default="val", choices=["train", "val", "test"])
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--out", type=Path, default=Path("runs/baselines"))
    parser.add_argument("--table", type=Path, default=Path("docs/results/baselines.md"))
    args = parser.parse_args()

    rows = []
    for task in args.tasks:
        for agent in AGENTS:
            run_dir = args.out / f"{task}_{agent}"
            command = [
                "navgym", "evaluate", "--env", f"{task}-{args.dataset}-v0", "--agent", agent,
                "--episodes", str(args.episodes), "--split", args.split, "--seed", "0", "--out", str(run_dir), "--resume",
            ]
            print(" ".join(command), flush=True)
            subprocess.run(command, check=True)
            summary = json.loads((run_dir / "summary.json").read_text())
            rows.append((task, agent, summary, " ".join(command[:-1])))

    commands = "\n".join(cmd for *_, cmd in rows)
    extra = f" --dataset {args.dataset}" if args.dataset != "ProcHouse" else ""
    extra += f" --split {args.split}" if args.split != "val" else ""
    body = (
        f"## {args.dataset} ({args.split})\n\n"
        f"Produced by `python scripts/run_baselines.py{extra} --episodes {args.episodes} --out {args.out}`, which runs:\n\n"
        f"```\n{commands}\n```\n\n"
        "Mean ± 95% confidence half-width over episodes (Student t). The oracle is privileged "
        "(it follows the simulator's shortest path): an upper bound, not a method.\n\n" + table(rows)
    )
    write_section(args.table, args.dataset, args.split, body)
    print(f"wrote {args.table}")


if __name__ == "__main__":
    sys.exit(main())
