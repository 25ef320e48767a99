"""BeliefMapNav against VLFM, frontier, random and oracle on ObjectNav (ProcHouse val, seed 0), with
the paper's ablations; writes ``docs/results/beliefmapnav_table.md`` (issue 18).

    python scripts/run_beliefmapnav_results.py                          # everything, 200 episodes each
    python scripts/run_beliefmapnav_results.py --jobs 2                 # two runs side by side (2 cores)
    python scripts/run_beliefmapnav_results.py --ablation-episodes 100  # fewer episodes for the ablations
    python scripts/run_beliefmapnav_results.py --only beliefmapnav vlfm # some variants only
    python scripts/run_beliefmapnav_results.py --table-only             # rewrite the table from the runs

Every variant is one ``navgym evaluate`` run into ``docs/results/beliefmapnav_runs/<variant>``
(``run.json``, ``episodes.jsonl``, ``summary.json``; no videos or maps), its output appended to
``<variant>.log`` there. The runs are small and kept in the repository, and resumable: rerunning
continues unfinished runs (and a larger ``--episodes`` extends finished ones). ``--jobs N`` runs up
to N variants at once, each its own process with ``OMP_NUM_THREADS=1``; the table is written when
all have ended, also when some failed (those are listed and the exit status is 1).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import display_command, evaluate_command, paired_row, run_commands, summary_row, table_text, write_table  # noqa: E402

ENV_ID = "ObjectNav-ProcHouse-v0"
SPLIT = "val"
SEED = 0
#: ``navgym evaluate`` arguments of every run (its defaults too, so no run ever writes videos or maps).
#: The val split has 10 houses x 10 episodes by default; 20 per house gives the issue's 200 episodes
#: (the same 10 val houses, twice as many start/goal pairs in each).
EPISODES_PER_SCENE = 20
EXTRA_ARGS = ("--env-option", f"episodes_per_scene={EPISODES_PER_SCENE}", "--no-video", "--no-maps")
#: variant -> (agent, agent options).
VARIANTS = {
    "beliefmapnav": ("beliefmapnav", []),
    "beliefmapnav_noisy": ("beliefmapnav", ["perception=noisy"]),
    "vlfm": ("vlfm", []),
    "frontier": ("frontier", []),
    "frontier_cell0125": ("frontier", ["cell_size=0.125"]),
    "beliefmapnav_cell005": ("beliefmapnav", ["cell_size=0.05"]),
    "vlfm_cell005": ("vlfm", ["cell_size=0.05"]),
    "random": ("random", []),
    "oracle": ("oracle", []),
    "no_visibility": ("beliefmapnav", ["visibility=false"]),
    "nearest_frontier": ("beliefmapnav", ["planner=nearest"]),
    "greedy_belief": ("beliefmapnav", ["planner=greedy"]),
    "landmarks_none": ("beliefmapnav", ["landmark_levels=none"]),
    "landmarks_room": ("beliefmapnav", ["landmark_levels=room"]),
    "landmarks_room_region": ("beliefmapnav", ["landmark_levels=room+region"]),
}
#: Variants that run ``--ablation-episodes`` episodes (BeliefMapNav with GT perception, one part changed).
ABLATIONS = ("no_visibility", "nearest_frontier", "greedy_belief", "landmarks_none", "landmarks_room", "landmarks_room_region")
LABELS = {
    "beliefmapnav": "BeliefMapNav (embedded reasoner, GT perception)",
    "beliefmapnav_noisy": "BeliefMapNav, noisy perception",
    "vlfm": "VLFM-style value map (GT perception)",
    "frontier": "frontier baseline (GT perception; 0.05 m map, its default)",
    "frontier_cell0125": "frontier baseline on a 0.125 m map (the zero-shot agents' default)",
    "beliefmapnav_cell005": "BeliefMapNav on a 0.05 m planning map (the default until 2026-12-01)",
    "vlfm_cell005": "VLFM-style on a 0.05 m planning map",
    "random": "random",
    "oracle": "oracle (PRIVILEGED upper bound)",
    "no_visibility": "ablation: without visibility map (posterior = prior)",
    "nearest_frontier": "ablation: without belief-based planning (nearest frontier)",
    "greedy_belief": "ablation: without planner (greedy: highest-belief frontier)",
    "landmarks_none": "ablation: no landmarks",
    "landmarks_room": "ablation: room landmarks only",
    "landmarks_room_region": "ablation: room + region landmarks (no object landmarks)",
}
#: Paired differences ``a - b`` in the table.
PAIRS = [("beliefmapnav", "vlfm"), ("beliefmapnav", "frontier"), ("beliefmapnav", "frontier_cell0125"), ("vlfm", "frontier"),
         ("beliefmapnav", "beliefmapnav_cell005"), ("vlfm", "vlfm_cell005"), ("frontier_cell0125", "frontier"),
         *[(ablation, "beliefmapnav") for ablation in ABLATIONS], ("beliefmapnav_noisy", "beliefmapnav")]


def command(variant: str, episodes: int, out: Path) -> list[str]:
    """The ``navgym evaluate ... --resume`` argv of one variant."""
    agent, options = VARIANTS[variant]
    return evaluate_command(ENV_ID, agent, options, episodes, out / variant, split=SPLIT, seed=SEED, extra_args=EXTRA_ARGS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=200, help="episodes per variant")
    parser.add_argument("--ablation-episodes", type=int, default=None, help="episodes per ablation variant (default: --episodes)")
    parser.add_argument("--only", nargs="+", choices=list(VARIANTS), metavar="VARIANT", help=f"run only these variants: {', '.join(VARIANTS)}")
    parser.add_argument("--jobs", type=int, default=1, help="variants run side by side, one process each")
    parser.add_argument("--out", type=Path, default=Path("docs/results/beliefmapnav_runs"))
    parser.add_argument("--table", type=Path, default=Path("docs/results/beliefmapnav_table.md"))
    parser.add_argument("--table-only", action="store_true", help="only rewrite the table from the runs that exist")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    ablation_episodes = args.episodes if args.ablation_episodes is None else args.ablation_episodes

    def episodes(variant: str) -> int:
        return ablation_episodes if variant in ABLATIONS else args.episodes

    failed = []
    if not args.table_only:
        todo = args.only or list(VARIANTS)
        runs = [(variant, command(variant, episodes(variant), args.out)) for variant in todo]
        failed = run_commands(runs, args.out, jobs=args.jobs, env={"OMP_NUM_THREADS": "1"}, keep_going=True)

    commands = [display_command(command(v, episodes(v), args.out)) for v in VARIANTS]
    rows = [summary_row([LABELS[v]], args.out / v) for v in VARIANTS]
    paired_rows = [row for a, b in PAIRS if (row := paired_row([f"{LABELS[a]} − {LABELS[b]}"], args.out / a, args.out / b))]
    script = "python scripts/run_beliefmapnav_results.py" + f" --episodes {args.episodes}" + (
        f" --ablation-episodes {ablation_episodes}" if ablation_episodes != args.episodes else "")
    notes = (
        f"Produced by `{script}`. ObjectNav on ProcHouse, split `{SPLIT}`, seed {SEED}: episode i is the same "
        "episode in every run, so the paired differences compare agents on identical episodes. GT perception: "
        "the semantic sensor's instance labels; the ablations change one part of BeliefMapNav with GT "
        "perception. The oracle follows the simulator's shortest path: a privileged upper bound, not a method.\n\n"
    )
    write_table(args.table, table_text(
        "written by scripts/run_beliefmapnav_results.py (issue 18); rerun it rather than editing", commands, rows, paired_rows,
        columns=("agent", "SR", "SPL", "distance to goal (m)", "mean steps", "episodes"),
        paired_columns=("difference", "SR", "SPL", "episodes"), notes=notes,
    ))
    if failed:
        print(f"failed: {', '.join(failed)} (see their logs in {args.out})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
