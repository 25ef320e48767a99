"""Cross-embodiment SemanticNav results (issue 13, the paper's Tables 1 and 3): the grounding
metrics of the dual-heatmap and point-regression models on the data's val (and test) images, and
SR / NE per body on seen (train) and unseen (test) houses for heatmap+MPPI, point+MPPI and the
privileged oracle. Writes ``docs/results/semantic_nav_table.md``.

    python scripts/run_semnav_results.py --data data/semnav --jobs 2
    python scripts/run_semnav_results.py --only oracle --bodies h1      # some runs only
    python scripts/run_semnav_results.py --table-only                   # rewrite the table

It expects the two exported models (``models/grounding_heatmap.pt``, ``models/grounding_point.pt``,
written by ``scripts/train_grounding.py --export``; docs/grounding.md gives those commands).
``--data`` (a ``navgym semnav-data`` folder) is needed only for the grounding metrics, which run
``scripts/eval_grounding.py`` once per (model, split) into
``docs/results/semantic_nav_runs/grounding_<model>_<split>.json`` (skipped when that file exists).
Every (body, split, agent) is one resumable ``navgym evaluate`` run into
``docs/results/semantic_nav_runs/<body>_<split>_<agent>`` (rerunning continues unfinished runs).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import display_command, evaluate_command, markdown_header, paired_row, run_commands, write_table  # noqa: E402

SEED = 0
BODIES = ("jetbot", "h1", "aliengo")
ENV_IDS = {"jetbot": "SemanticNav-ProcHouse-Jetbot-v0", "h1": "SemanticNav-ProcHouse-H1-v0", "aliengo": "SemanticNav-ProcHouse-Aliengo-v0"}
#: The env's ``train`` episodes are on the first train houses, which the data's train split
#: contains (seen); ``test`` houses are never in the data's train split (unseen).
SPLITS = {"train": "seen (train houses)", "test": "unseen (test houses)"}
MODELS = {"heatmap": Path("models/grounding_heatmap.pt"), "point": Path("models/grounding_point.pt")}
#: agent key -> (registered agent, checkpoint or None, label)
AGENTS = {
    "heatmap": ("dual-heatmap", MODELS["heatmap"], "dual heatmap + MPPI"),
    "point": ("point-regression", MODELS["point"], "point regression + MPPI"),
    "oracle": ("semnav-oracle", None, "oracle (PRIVILEGED: shortest path to the success region)"),
}
#: Each split's first 10 houses, 10 episodes in each (generating a house's SemanticNav episodes
#: takes about 35 CPU seconds per body, so the splits' default 40 train houses would take 25 CPU
#: minutes per body before the first episode runs).
NUM_SCENES, EPISODES_PER_SCENE = 10, 10
EXTRA_ARGS = ("--env-option", f"num_scenes={NUM_SCENES}", "--env-option", f"episodes_per_scene={EPISODES_PER_SCENE}", "--no-video", "--no-maps")
#: Grounding columns (keys of the metrics JSON) in the table, after the paper's Table 1.
GROUNDING_COLUMNS = (("AR", "ar"), ("Nav P", "nav_precision"), ("Nav R", "nav_recall"), ("Nav F1", "nav_f1"), ("MSE (m²)", "mse"),
                     ("dist (m)", "mean_distance"), ("Facing F1", "facing_f1"), ("Overall F1", "overall_f1"))


def command(body: str, split: str, agent: str, episodes: int, out: Path) -> list[str]:
    name, checkpoint, _ = AGENTS[agent]
    extra = [*EXTRA_ARGS, *(["--checkpoint", str(checkpoint)] if checkpoint is not None else [])]
    return evaluate_command(ENV_IDS[body], name, [], episodes, out / f"{body}_{split}_{agent}", split=split, seed=SEED, extra_args=extra)


def grounding_command(data: Path, model: str, split: str, out: Path) -> list[str]:
    return [sys.executable, "scripts/eval_grounding.py", "--data", str(data), "--split", split, "--checkpoint", str(MODELS[model]),
            "--out", str(out / f"grounding_{model}_{split}.json"), "--no-progress"]


def _mean_ci(records: list[dict], key: str) -> str:
    import numpy as np
    from scipy import stats

    values = np.array([float(r[key]) for r in records if r.get(key) is not None])
    if len(values) == 0:
        return "n/a"
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 and values.std() > 0 else 0.0
    return f"{values.mean():.3f} ± {half:.3f}"


def _records(run_dir: Path) -> list[dict]:
    path = run_dir / "episodes.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def navigation_table(out: Path) -> list[str]:
    """Rows: agent x body; columns: SR and NE on seen and on unseen houses, episodes."""
    lines = markdown_header(("agent", "body", *[f"{m} {s.split(' ')[0]}" for s in SPLITS.values() for m in ("SR", "NE (m)")], "episodes (seen / unseen)"))
    for agent, (_, _, label) in AGENTS.items():
        for body in BODIES:
            cells, counts = [], []
            for split in SPLITS:
                records = _records(out / f"{body}_{split}_{agent}")
                counts.append(str(len(records)))
                cells += [_mean_ci(records, "success"), _mean_ci(records, "navigation_error")] if records else ["not run", ""]
            lines.append("| " + " | ".join([label, body, *cells, " / ".join(counts)]) + " |")
    return lines


def paired_rows(out: Path) -> list[str]:
    rows = []
    for body in BODIES:
        for split, split_label in SPLITS.items():
            row = paired_row([f"{body}, {split_label}: heatmap − point"], out / f"{body}_{split}_heatmap", out / f"{body}_{split}_point",
                             keys=("success", "navigation_error"))
            if row:
                rows.append(row)
    return rows


def grounding_table(out: Path) -> list[str]:
    lines = markdown_header(("model", "split", "samples", *[name for name, _ in GROUNDING_COLUMNS]))
    for split in ("val", "test"):
        for model in MODELS:
            path = out / f"grounding_{model}_{split}.json"
            if not path.exists():
                continue
            result = json.loads(path.read_text())
            metrics = result["metrics"]["recorded"]
            cells = ["-" if metrics.get(key) is None else f"{metrics[key]:.3f}" for _, key in GROUNDING_COLUMNS]
            lines.append("| " + " | ".join([model, split, str(metrics.get("samples", "?")), *cells]) + " |")
    lines += ["", "Per body (val, recorded prompt kinds):", "", *markdown_header(("model", "body", *[name for name, _ in GROUNDING_COLUMNS]))]
    for model in MODELS:
        path = out / f"grounding_{model}_val.json"
        if path.exists():
            for body, metrics in json.loads(path.read_text())["by_body"].items():
                cells = ["-" if metrics.get(key) is None else f"{metrics[key]:.3f}" for _, key in GROUNDING_COLUMNS]
                lines.append("| " + " | ".join([model, body, *cells]) + " |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="the navgym semnav-data folder (grounding metrics only)")
    parser.add_argument("--episodes", type=int, default=NUM_SCENES * EPISODES_PER_SCENE, help="episodes per (body, split, agent)")
    parser.add_argument("--only", nargs="+", choices=list(AGENTS), help="agents to run")
    parser.add_argument("--bodies", nargs="+", choices=list(BODIES), default=list(BODIES))
    parser.add_argument("--jobs", type=int, default=1, help="runs side by side, one process each")
    parser.add_argument("--out", type=Path, default=Path("docs/results/semantic_nav_runs"))
    parser.add_argument("--table", type=Path, default=Path("docs/results/semantic_nav_table.md"))
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.episodes < 1:
        parser.error(f"--episodes {args.episodes} must be at least 1")
    for agent in args.only or AGENTS:
        checkpoint = AGENTS[agent][1]
        if checkpoint is not None and not args.table_only and not checkpoint.is_file():
            parser.error(f"{checkpoint} does not exist: train and export it first (docs/grounding.md)")
    failed: list[str] = []
    if not args.table_only:
        args.out.mkdir(parents=True, exist_ok=True)
        if args.data is not None:
            for model in MODELS:
                for split in ("val", "test"):
                    if not (args.out / f"grounding_{model}_{split}.json").exists():
                        print(" ".join(grounding_command(args.data, model, split, args.out)), flush=True)
                        subprocess.run(grounding_command(args.data, model, split, args.out), check=True, env=None)
        runs = [(f"{body}_{split}_{agent}", command(body, split, agent, args.episodes, args.out))
                for agent in (args.only or AGENTS) for body in args.bodies for split in SPLITS]
        failed = run_commands(runs, args.out, jobs=args.jobs, env={"OMP_NUM_THREADS": "1"}, keep_going=True)

    commands = [display_command(command(b, s, a, args.episodes, args.out)) for a in AGENTS for b in BODIES for s in SPLITS]
    grounding_cmds = [" ".join(grounding_command(Path("data/semnav"), m, s, args.out)[1:]) for m in MODELS for s in ("val", "test")]
    text = (
        "<!-- written by scripts/run_semnav_results.py (issue 13); rerun it rather than editing -->\n\n"
        "## Grounding (the paper's Table 1 metrics, recorded prompt kinds)\n\n"
        "Commands:\n\n```\n" + "\n".join(f"python {c}" for c in grounding_cmds) + "\n```\n\n"
        + "\n".join(grounding_table(args.out)) + "\n\n"
        "## Navigation: SR and NE per body on seen and unseen houses (the paper's Table 3 layout)\n\n"
        f"Commands (each also takes `--resume`; seed {SEED}; episode i is the same episode for every agent):\n\n```\n"
        + "\n".join(commands) + "\n```\n\n"
        "Mean ± 95% confidence half-width over episodes (Student t).\n\n" + "\n".join(navigation_table(args.out)) + "\n\n"
        "Paired differences heatmap − point on the same episodes (mean ± 95% half-width, paired Student t; "
        "negative NE is better):\n\n" + "\n".join(markdown_header(("difference", "SR", "NE (m)", "episodes"))) + "\n"
        + "\n".join(paired_rows(args.out)) + "\n"
    )
    write_table(args.table, text)
    if failed:
        print(f"failed: {', '.join(failed)} (see their logs in {args.out})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
