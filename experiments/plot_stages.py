"""Val success before and after PPO, one line per run, from committed evaluation folders.

The results page's head table as a picture (docs/results/rsrnav.md, "Learning curves"): for each
``LABEL=CLONE:PPO`` pair of ``navgym evaluate`` output folders (under ``--root``), the clone's and
the PPO policy's success rate with its 95 % interval, joined by a line; a dashed line at
``--target`` and a grey band for the ``--random`` run's interval. Reads ``summary.json`` and
``run.json`` only (JSON; nothing is unpickled), and refuses a pair evaluated on other episodes:

    python experiments/plot_stages.py --root docs/results/rsrnav/eval256 --random random_agent \\
        "direction s0=pipeg8p_bf16_direction_s0_agent:ppo_e8_t1_direction_bf16pose_half_s0_agent" --out stages.png

More than two stages: ``LABEL=RUN:RUN:RUN`` with ``--stage clone --stage "PPO 140,800 steps" --stage
"PPO 281,600 steps"`` (one ``--stage`` per stage; every line must have that many runs).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "docs" / "results" / "rsrnav" / "eval256"
#: run.json fields that must match for two evaluations to be of the same episodes.
SAME_EPISODES = ("env_id", "env_kwargs", "split", "episodes", "seed", "goal_camera")


def success(root: Path, run: str) -> tuple[float, float, dict]:
    """(mean, 95 % half-width, run.json) of one evaluation folder's success."""
    folder = root / run
    if not (folder / "summary.json").is_file():
        raise SystemExit(f"run {run!r}: {folder / 'summary.json'} does not exist; give an evaluation folder under --root {root}")
    summary = json.loads((folder / "summary.json").read_text())
    meta = json.loads((folder / "run.json").read_text())
    return float(summary["success"]["mean"]), float(summary["success"]["ci95"]), meta


STAGES = ("clone (behaviour cloning)", "after PPO")


def parse_pair(spec: str, stages: int = 2) -> tuple[str, list[str]]:
    """(label, runs) of ``LABEL=RUN:RUN[:RUN...]``: ``stages`` evaluation folder names."""
    label, sep, runs = spec.partition("=")
    names = runs.split(":")
    if not (sep and label and len(names) == stages and all(names)):
        form = "LABEL=CLONE_RUN:PPO_RUN (two evaluation folder names under --root)" if stages == 2 else \
            f"LABEL={':'.join(['RUN'] * stages)} ({stages} evaluation folder names under --root, one per --stage)"
        raise SystemExit(f"pair {spec!r} is not {form}")
    return label, names


def plot(root: Path, pairs: list[str], out: Path, random_run: str | None = None, target: float | None = 0.5, title: str = "",
         stages: tuple[str, ...] | list[str] = STAGES) -> Path:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        from gymnasium.error import DependencyNotInstalled

        raise DependencyNotInstalled("the plot needs matplotlib: pip install 'navgym[plots]'") from error
    if len(stages) < 2:
        raise SystemExit(f"stages={list(stages)!r}: name at least two stages, e.g. --stage clone --stage 'after PPO'")
    rows = []
    for spec in pairs:
        label, runs = parse_pair(spec, len(stages))
        read = [success(root, run) for run in runs]
        for run, (_, _, meta) in zip(runs[1:], read[1:]):
            differ = [k for k in SAME_EPISODES if read[0][2].get(k) != meta.get(k)]
            if differ:
                raise SystemExit(f"pair {label!r}: {runs[0]} and {run} were evaluated on other episodes ({', '.join(differ)} differ)")
        rows.append((label, [mean for mean, _, _ in read], [ci for _, ci, _ in read]))
    figure, axis = plt.subplots(figsize=(6.4, 4.2))
    if random_run:
        r, r_ci, _ = success(root, random_run)
        axis.axhspan(r - r_ci, r + r_ci, color="0.85", label=f"random ({r:.3f})")
    if target is not None:
        axis.axhline(target, color="0.3", linestyle="--", linewidth=1, label=f"target {target}")
    offsets = [(i - (len(rows) - 1) / 2) * 0.06 for i in range(len(rows))]
    last = len(stages) - 1
    for (label, means, cis), dx in zip(rows, offsets):
        line = axis.errorbar([i + dx for i in range(len(means))], means, yerr=cis, marker="o", capsize=3, label=label)
        axis.annotate(f"{means[-1]:.3f}", (last + dx, means[-1]), xytext=(6, 0), textcoords="offset points", va="center", fontsize=7,
                      color=line[0].get_color())
    axis.set_xticks(list(range(len(stages))), list(stages))
    axis.set_xlim(-0.4, last + 0.6)
    axis.set_ylabel("val success rate (argmax, 95 % interval)")
    axis.grid(axis="y", alpha=0.3)
    axis.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    if title:
        axis.set_title(title, fontsize=9)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", nargs="+", metavar="LABEL=CLONE:PPO", help="one line: LABEL=RUN:RUN (or one run per --stage)")
    parser.add_argument("--root", type=Path, default=ROOT, help=f"folder of the evaluation folders (default {ROOT})")
    parser.add_argument("--random", dest="random_run", help="an evaluation folder of the random agent, drawn as a band")
    parser.add_argument("--target", type=float, default=0.5, help="a dashed line at this success rate (default 0.5)")
    parser.add_argument("--title", default="")
    parser.add_argument("--stage", dest="stages", action="append", metavar="NAME",
                        help=f"name of a stage, once per stage in order; every line has one run per stage (default: {' / '.join(STAGES)})")
    parser.add_argument("--out", type=Path, required=True, help="the picture to write (.png)")
    args = parser.parse_args(argv)
    stages = args.stages or list(STAGES)
    if not all(name.strip() for name in stages):
        parser.error(f"--stage {stages!r}: an empty stage name; give each stage a name, e.g. --stage clone --stage 'after PPO'")
    print(plot(args.root, args.pairs, args.out, args.random_run, args.target, args.title, stages))


if __name__ == "__main__":
    main()
