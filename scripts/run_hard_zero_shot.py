"""The zero-shot agents on ProcHouseHard's test split, beside the frontier baseline (issue 20 item 4):
UniGoal on ObjectNav, InstanceImageNav and TextNav, BeliefMapNav (with VLFM, its baseline) on
ObjectNav, RAGNav and NaiveRAG on MultiGoalVLN; writes ``docs/results/prochousehard_zero_shot.md``, which the agents' results pages
(unigoal.md, beliefmapnav.md, ragnav.md) link beside their ProcHouse numbers.

    python scripts/run_hard_zero_shot.py --episodes 100 --jobs 1

Every run is one ``navgym evaluate`` into ``docs/results/prochousehard_runs/<name>/``, resumable.
The agents are run exactly as on ProcHouse (same options and sensors as their results scripts).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import display_command, evaluate_command, markdown_header, paired_row, run_commands, summary_row, write_table  # noqa: E402

SPLIT, SEED = "test", 0
_RAG_SENSORS = ["depth", "gps", "compass", "semantic", "instruction", "pose", "temperature"]
_RAG_ARGS = ("--env-option", f"sensors={json.dumps(_RAG_SENSORS, separators=(',', ':'))}", "--no-video", "--no-maps")
#: name -> (env id, agent, agent options, extra evaluate arguments)
RUNS = {
    "objectnav_frontier": ("ObjectNav-ProcHouseHard-v0", "frontier", [], ()),
    "objectnav_unigoal": ("ObjectNav-ProcHouseHard-v0", "unigoal", [], ()),
    "objectnav_beliefmapnav": ("ObjectNav-ProcHouseHard-v0", "beliefmapnav", [], ()),
    "objectnav_vlfm": ("ObjectNav-ProcHouseHard-v0", "vlfm", [], ()),
    "instanceimagenav_frontier": ("InstanceImageNav-ProcHouseHard-v0", "frontier", [], ()),
    "instanceimagenav_unigoal": ("InstanceImageNav-ProcHouseHard-v0", "unigoal", [], ()),
    "textnav_frontier": ("TextNav-ProcHouseHard-v0", "frontier", [], ()),
    "textnav_unigoal": ("TextNav-ProcHouseHard-v0", "unigoal", [], ()),
    "multigoal_ragnav": ("MultiGoalVLN-ProcHouseHard-v0", "ragnav", [], _RAG_ARGS),
    "multigoal_naive_rag": ("MultiGoalVLN-ProcHouseHard-v0", "naive-rag", [], _RAG_ARGS),
    "multigoal_oracle": ("MultiGoalVLN-ProcHouseHard-v0", "multigoal-oracle", [], _RAG_ARGS),
}
#: Paired comparisons: (label, run a, run b).
PAIRS = [
    ("UniGoal − frontier", "objectnav_unigoal", "objectnav_frontier"),
    ("UniGoal − frontier (InstanceImageNav)", "instanceimagenav_unigoal", "instanceimagenav_frontier"),
    ("UniGoal − frontier (TextNav)", "textnav_unigoal", "textnav_frontier"),
    ("BeliefMapNav − VLFM", "objectnav_beliefmapnav", "objectnav_vlfm"),
    ("BeliefMapNav − frontier", "objectnav_beliefmapnav", "objectnav_frontier"),
    ("RAGNav − NaiveRAG", "multigoal_ragnav", "multigoal_naive_rag"),
]


def command(name: str, episodes: int, out: Path, resume: bool = True) -> list[str]:
    env_id, agent, options, extra = RUNS[name]
    return evaluate_command(env_id, agent, options, episodes, out / name, split=SPLIT, seed=SEED, extra_args=extra, resume=resume)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=100, help="episodes per run (at most the split's)")
    parser.add_argument("--only", nargs="+", choices=list(RUNS), help="run only these")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("docs/results/prochousehard_runs"))
    parser.add_argument("--table", type=Path, default=Path("docs/results/prochousehard_zero_shot.md"))
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()

    names = args.only or list(RUNS)
    if not args.table_only:
        run_commands([(n, command(n, args.episodes, args.out)) for n in names], args.out, jobs=args.jobs,
                     env={"OMP_NUM_THREADS": "1"}, keep_going=True)
    rows = [summary_row([RUNS[n][0].split("-")[0], RUNS[n][1]], args.out / n) for n in RUNS]
    paired = [r for label, a, b in PAIRS if (r := paired_row([label], args.out / a, args.out / b)) is not None]
    commands = [display_command(command(n, args.episodes, args.out, resume=False)) for n in RUNS]
    text = (
        "<!-- written by scripts/run_hard_zero_shot.py -->\n\n"
        f"# Zero-shot agents on ProcHouseHard ({SPLIT})\n\n"
        f"Produced by `python scripts/run_hard_zero_shot.py --episodes {args.episodes}`, which runs:\n\n"
        "```\n" + "\n".join(commands) + "\n```\n\n"
        "Mean ± 95% confidence half-width over episodes (Student t); MultiGoalVLN's SR is the whole tour's. "
        "The frontier folders were copied from runs of the same commands with another `--out` (ObjectNav: the "
        "100-episode calibration run, docs/datasets.md; InstanceImageNav and TextNav: docs/results/baselines.md's), "
        "so the ObjectNav frontier row counts 100 episodes; the paired rows use the episodes both runs played.\n\n"
        + "\n".join([*markdown_header(["task", "agent", "SR", "SPL", "distance to goal (m)", "steps", "episodes"]), *rows])
        + "\n\nPaired differences on the same episodes (mean ± 95% half-width, paired Student t):\n\n"
        + "\n".join([*markdown_header(["comparison", "SR", "SPL", "episodes"]), *paired]) + "\n"
    )
    write_table(args.table, text)


if __name__ == "__main__":
    sys.exit(main())
