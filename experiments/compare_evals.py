"""Compare `navgym evaluate` output folders episode by episode (the tables of docs/results/rsrnav.md).

Each argument is ``RUN`` or ``RUN=START``: folders (under ``--root``) holding an evaluation's
``episodes.jsonl``. A row gives the run's success rate with its 95 % interval
(:func:`navgym.evaluation.summarize`'s, as in ``summary.json``), SPL, mean steps and how its episodes ended (time-outs: the
env truncated them; failed stops: ended before the time limit without success); with a ``START``,
also the episodes the run won and lost against it (same episode ids, in the same order: checked)
and a two-sided sign test on those (``scipy.stats.binomtest``).

    python experiments/compare_evals.py ppo_e8_t2_s0_agent_sampled=bcn_dir_s0_agent_sampled bcn_dir_s0_agent
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("docs/results/rsrnav/eval256")


@dataclass
class Row:
    run: str
    episodes: int
    sr: float
    ci95: float
    spl: float
    mean_steps: float
    timeouts: float
    failed_stops: float
    skipped: int = 0
    start: str | None = None
    won: int | None = None
    lost: int | None = None
    p: float | None = None

    def line(self) -> str:
        skipped = f", {self.skipped} skipped" if self.skipped else ""
        text = (f"{self.run}: SR {self.sr:.3f} ± {self.ci95:.3f} (n={self.episodes}{skipped}), SPL {self.spl:.3f}, "
                f"mean steps {self.mean_steps:.1f}, time-outs {self.timeouts:.2f}, failed stops {self.failed_stops:.2f}")
        if self.start is not None:
            text += f"; against {self.start}: won {self.won}, lost {self.lost}, sign test p = {self.p:.3f}"
        return text


def load(root: Path, run: str) -> list[dict]:
    path = root / run / "episodes.jsonl"
    if not path.is_file():
        raise SystemExit(f"run {run!r}: {path} does not exist; give an evaluation folder under --root {root}")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def compare(root: Path, run: str, start: str | None = None) -> Row:
    """One row: ``run``'s measures, and its episode-by-episode record against ``start``."""
    from scipy.stats import binomtest

    from navgym.evaluation import finished, summarize

    records = load(root, run)
    episodes = finished(records)
    n = len(episodes)
    if n == 0:
        ran = f" that ran ({len(records)} skipped)" if records else ""
        raise SystemExit(f"run {run!r}: {root / run / 'episodes.jsonl'} holds no episodes{ran}")
    success = [float(e["success"]) > 0 for e in episodes]
    timeouts = [bool(e.get("truncated", False)) for e in episodes]
    summary = summarize(episodes)
    row = Row(run=run, episodes=n, sr=summary["success"]["mean"], ci95=summary["success"]["ci95"],
              spl=summary["spl"]["mean"], mean_steps=summary["num_steps"]["mean"],
              timeouts=sum(timeouts) / n, failed_stops=sum(not s and not t for s, t in zip(success, timeouts)) / n,
              skipped=len(records) - n)
    if start is not None:
        base = load(root, start)
        if [e["episode_id"] for e in base] != [e["episode_id"] for e in records]:
            raise SystemExit(f"{run!r} and {start!r} were evaluated on different episodes; compare runs of the same episodes")
        pairs = [(float(e["success"]) > 0, float(b["success"]) > 0)
                 for e, b in zip(records, base) if not e.get("skipped") and not b.get("skipped")]
        won = sum(s and not b for s, b in pairs)
        lost = sum(not s and b for s, b in pairs)
        p = binomtest(won, won + lost).pvalue if won + lost else 1.0
        row.start, row.won, row.lost, row.p = start, won, lost, float(p)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="RUN[=START]")
    parser.add_argument("--root", type=Path, default=ROOT, help=f"folder of the evaluation folders (default {ROOT})")
    args = parser.parse_args()
    for item in args.runs:
        run, _, start = item.partition("=")
        print(compare(args.root, run, start or None).line())


if __name__ == "__main__":
    main()
