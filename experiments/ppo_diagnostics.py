"""PPO's own diagnostics of RSRNav runs, kept as small CSV files and summarised from them.

TensorBoard logs are not committed (hundreds of kB per run); this exports the scalars the
results page quotes (the critic's explained variance, the policy's entropy, the value loss, the
training success rate and episode length, and the run's env steps per second so far, one row per
PPO update) to a CSV (gzipped when the name ends in
``.gz``) that is, and prints the summary the page's numbers come from:

    python experiments/ppo_diagnostics.py export runs/ppopc_encoder_ent0 runs/... --out docs/results/rsrnav/privileged_critic/ppo_scalars.csv.gz
    python experiments/ppo_diagnostics.py summary docs/results/rsrnav/privileged_critic/ppo_scalars.csv.gz
    python experiments/ppo_diagnostics.py plot docs/results/rsrnav/cpu_e8/*.csv.gz --out curves.png  # needs navgym[plots]

The summary gives, per run, the explained variance's median and 90th percentile after the first
quarter of the run, its median over each 16,384-step window, and the entropy's mean over the last
quarter (nats; TensorBoard logs the negated entropy as ``train/entropy_loss``). The plot draws each
run's training success rate (SB3's ``rollout/success_rate``: the last 100 training episodes, sampled
actions, training houses) and critic's explained variance against env steps, as means over the same
16,384-step windows.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import re
from pathlib import Path

import numpy as np

#: TensorBoard scalars exported, and the CSV's names for them.
TAGS = {
    "train/explained_variance": "explained_variance",
    "train/entropy_loss": "entropy_loss",
    "train/value_loss": "value_loss",
    "rollout/success_rate": "train_success",
    "rollout/ep_len_mean": "episode_length",
    # navgym's callback: env steps per second of the run so far (the last row: the whole run's)
    "time/env_steps_per_second": "env_steps_per_second",
}
WINDOW = 16_384


def export(runs: list[Path], out: Path) -> int:
    """Write ``run,step,name,value`` rows of every run's :data:`TAGS` to ``out``; returns the row count."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    rows = []
    for run in runs:
        logs = sorted((run / "tb").glob("*"))
        if not logs:
            raise SystemExit(f"{run}/tb has no TensorBoard logs: give run folders written by navgym train")
        for log in logs:
            events = EventAccumulator(str(log))
            events.Reload()
            for tag, name in TAGS.items():
                if tag in events.Tags()["scalars"]:
                    rows += [(run.name, e.step, name, f"{e.value:.6g}") for e in events.Scalars(tag)]
    out.parent.mkdir(parents=True, exist_ok=True)
    with _open(out, "w") as f:
        writer = csv.writer(f)
        writer.writerow(("run", "step", "name", "value"))
        writer.writerows(sorted(rows))
    return len(rows)


def _open(path: Path, mode: str):
    """A text-mode CSV file, gzipped when its name ends in ``.gz``."""
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", newline="")
    return path.open(mode, newline="")


def _read(paths: list[Path]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """``{run: {name: [(step, value), ...]}}`` from exported CSVs."""
    series: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for path in paths:
        with _open(path, "r") as f:
            for row in csv.DictReader(f):
                series.setdefault(row["run"], {}).setdefault(row["name"], []).append((int(row["step"]), float(row["value"])))
    return series


def windowed(points: list[tuple[int, float]], max_step: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each :data:`WINDOW`-step window that has points (up to ``max_step``): its last step
    and the mean of its values."""
    steps, values = (np.array(a, dtype=float) for a in zip(*sorted(points)))
    if max_step is not None:
        steps, values = steps[steps <= max_step], values[steps <= max_step]
    index = (steps // WINDOW).astype(int)
    bins = np.unique(index)
    return np.array([steps[index == b].max() for b in bins]), np.array([values[index == b].mean() for b in bins])


def plot(paths: list[Path], out: Path, title: str = "", max_step: int | None = None) -> Path:
    """Training success and explained variance per :data:`WINDOW`-step window, one line per run
    (up to ``max_step`` env steps when given)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        from gymnasium.error import DependencyNotInstalled

        raise DependencyNotInstalled("the plot needs matplotlib: pip install 'navgym[plots]'") from error
    series = _read(paths)
    # runs that differ only in a trailing _s<seed> share a colour; their seeds differ in line style
    group = {run: re.sub(r"_s\d+$", "", run) for run in sorted(series)}
    colours = {g: f"C{i % 10}" for i, g in enumerate(dict.fromkeys(group.values()))}
    styles, seen = {}, {g: 0 for g in colours}
    for run, g in group.items():
        styles[run] = {"color": colours[g], "linestyle": ("-", "--", ":", "-.")[seen[g] % 4]}
        seen[g] += 1
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.4))
    for ax, name, label in ((axes[0], "train_success", "training success rate (sampled, train houses)"),
                            (axes[1], "explained_variance", "critic's explained variance")):
        lowest = 0.0
        for run, scalars in sorted(series.items()):
            if scalars.get(name):
                steps, values = windowed(scalars[name], max_step)
                lowest = min(lowest, float(np.nanmin(values))) if len(values) else lowest
                ax.plot(steps, values, label=run, marker=".", **styles[run])
        if name == "explained_variance" and lowest < -1.0:
            # a collapsed run's critic reaches -1e15: cut the axis so the others stay readable
            ax.set_ylim(-1.05, 1.05)
            label += " (axis cut at -1)"
        ax.set_xlabel(f"env steps (means over {WINDOW:,}-step windows)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def summary(paths: list[Path]) -> str:
    series = _read(paths)
    lines = []
    for run, scalars in series.items():
        steps, ev = (np.array(a) for a in zip(*sorted(scalars.get("explained_variance", [(0, np.nan)]))))
        last = steps.max()
        late = ev[steps >= last / 4]
        windows = [f"{lo // 1000}k:{np.median(ev[(steps >= lo) & (steps < lo + WINDOW)]):+.3f}"
                   for lo in range(0, int(last) + 1, WINDOW) if ((steps >= lo) & (steps < lo + WINDOW)).any()]
        ent_steps, ent = (np.array(a) for a in zip(*sorted(scalars.get("entropy_loss", [(0, np.nan)]))))
        entropy = -ent[ent_steps >= 0.75 * ent_steps.max()].mean()
        lines.append(f"{run}: {int(last)} steps; explained variance after the first quarter: median {np.median(late):+.3f}, "
                     f"90th percentile {np.percentile(late, 90):+.3f}; last-quarter entropy {entropy:.2f} nats")
        lines.append("  explained variance by 16k-step window: " + " ".join(windows))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    ex = commands.add_parser("export", help="TensorBoard scalars of run folders -> one CSV")
    ex.add_argument("runs", nargs="+", type=Path)
    ex.add_argument("--out", type=Path, required=True)
    su = commands.add_parser("summary", help="summarise exported CSVs")
    su.add_argument("csv", nargs="+", type=Path)
    pl = commands.add_parser("plot", help="draw exported CSVs' training success and explained variance to a PNG")
    pl.add_argument("csv", nargs="+", type=Path)
    pl.add_argument("--out", type=Path, required=True)
    pl.add_argument("--title", default="")
    pl.add_argument("--max-step", type=int, default=None, help="draw only up to this many env steps")
    args = parser.parse_args(argv)
    if args.command == "export":
        print(f"wrote {export(args.runs, args.out)} rows to {args.out}")
    elif args.command == "plot":
        print(f"wrote {plot(args.csv, args.out, args.title, args.max_step)}")
    else:
        print(summary(args.csv))


if __name__ == "__main__":
    main()
