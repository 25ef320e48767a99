"""Shared pieces of the ``scripts/run_*_results.py`` drivers: one resumable ``navgym evaluate``
run per variant, the summary table (mean ± 95% CI from each run's ``summary.json``), paired
differences on the episodes two runs have in common, and the markdown file that holds them.

Plain functions, no navgym import (numpy and scipy are imported only by :func:`paired_row`), so a
driver can import this module before its environment is fully set up. The drivers put this
folder on ``sys.path`` themselves, so ``from _results import ...`` works from any directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Mapping, Sequence


def evaluate_command(
    env_id: str, agent: str, options: Sequence[str], episodes: int, out_dir: Path | str,
    *, split: str = "val", seed: int = 0, extra_args: Sequence[str] = (), resume: bool = True,
) -> list[str]:
    """The ``navgym evaluate`` argv for one run.

    Args:
        env_id: Env id, e.g. ``"ObjectNav-ProcHouse-v0"``.
        agent: Agent name (``navgym list``).
        options: ``key=value`` agent options, each passed as ``--agent-option``.
        episodes: Number of episodes (dataset order).
        out_dir: The run's folder (``run.json``, ``episodes.jsonl``, ``summary.json``).
        split: Dataset split.
        seed: Base seed.
        extra_args: More ``navgym evaluate`` arguments, put before ``--out`` (e.g. ``--no-video``).
        resume: Append ``--resume`` (continue the run in ``out_dir``); the command printed in a
            table leaves it off.

    Returns:
        ``["navgym", "evaluate", "--env", ..., "--out", out_dir(, "--resume")]``.
    """
    cmd = ["navgym", "evaluate", "--env", env_id, "--agent", agent, "--episodes", str(episodes), "--split", split, "--seed", str(seed)]
    for option in options:
        cmd += ["--agent-option", option]
    cmd += [*extra_args, "--out", str(out_dir)]
    return cmd + ["--resume"] if resume else cmd


def display_command(cmd: Sequence[str]) -> str:
    """``cmd`` as one line for a table, without ``--resume``."""
    return " ".join(c for c in cmd if c != "--resume")


def run_commands(
    runs: Sequence[tuple[str, Sequence[str]]], log_dir: Path, *, jobs: int = 1,
    env: Mapping[str, str] | None = None, keep_going: bool = False,
) -> list[str]:
    """Run ``(name, argv)`` pairs, at most ``jobs`` at a time, each as its own process with stdout
    and stderr appended to ``<log_dir>/<name>.log``.

    Args:
        runs: ``(name, argv)`` in the order to start them.
        log_dir: Folder of the logs (created if missing).
        jobs: How many processes run side by side (1: one after the other).
        env: Extra environment variables for the processes (e.g. ``{"OMP_NUM_THREADS": "1"}``);
            ``None``: the inherited environment only.
        keep_going: On a failed run, start the remaining ones anyway (``False``: start no more,
            wait for those already running, and raise).

    Returns:
        The names of the runs that exited non-zero (empty unless ``keep_going``).

    Raises:
        subprocess.CalledProcessError: A run failed and ``keep_going`` is false.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    child_env = None if env is None else {**os.environ, **env}
    pending = list(runs)
    running: list[tuple[str, Sequence[str], subprocess.Popen, float]] = []
    failed: list[tuple[str, Sequence[str], int]] = []
    try:
        while pending or running:
            while pending and len(running) < max(1, jobs) and (keep_going or not failed):
                name, cmd = pending.pop(0)
                print(" ".join(cmd), flush=True)
                with open(log_dir / f"{name}.log", "a") as log:
                    proc = subprocess.Popen(list(cmd), stdout=log, stderr=subprocess.STDOUT, env=child_env)
                running.append((name, cmd, proc, time.monotonic()))
            if not running:
                break
            if len(running) == 1:  # nothing else can start before it ends
                running[0][2].wait()
            else:
                time.sleep(0.2)
            for item in list(running):
                name, cmd, proc, started = item
                if proc.poll() is None:
                    continue
                running.remove(item)
                if jobs > 1:
                    print(f"{name}: exit {proc.returncode} after {time.monotonic() - started:.0f} s", flush=True)
                if proc.returncode != 0:
                    failed.append((name, cmd, proc.returncode))
                    print(f"{name} failed (exit {proc.returncode}); see {log_dir / f'{name}.log'}", flush=True)
    finally:
        for _, _, proc, _ in running:
            proc.terminate()
        for _, _, proc, _ in running:
            proc.wait()
    if failed and not keep_going:
        _, cmd, code = failed[0]
        raise subprocess.CalledProcessError(code, list(cmd))
    return [name for name, _, _ in failed]


def summary_cell(summary: Mapping, key: str) -> str:
    """``mean ± ci95`` of ``key`` in a ``summary.json``; "n/a" when absent, no interval when null."""
    if key not in summary:
        return "n/a"
    mean, half = summary[key]["mean"], summary[key]["ci95"]  # null in summary.json: one episode, no interval
    return ("n/a" if mean is None else f"{mean:.3f}") + ("" if half is None else f" ± {half:.3f}")


def markdown_header(columns: Sequence[str]) -> list[str]:
    """The two header lines of a markdown table with these column titles."""
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def summary_row(lead: Sequence[str], run_dir: Path) -> str:
    """One table row: the ``lead`` cells, then SR, SPL, distance to goal (mean ± 95% half-width),
    mean steps and the episode count (with the skipped ones beside it, if any) from
    ``<run_dir>/summary.json``; ``not run`` and 0 episodes when that file is missing, ``n/a`` for a
    measure it lacks."""
    path = run_dir / "summary.json"
    head = "| " + " | ".join(lead) + " | "
    if not path.exists():
        return head + "not run | | | | 0 |"
    s = json.loads(path.read_text())
    steps = f"{s['num_steps']['mean']:.0f}" if "num_steps" in s else "n/a"
    skipped = f" ({int(s['skipped']['n'])} skipped)" if s.get("skipped") else ""
    return head + f"{summary_cell(s, 'success')} | {summary_cell(s, 'spl')} | {summary_cell(s, 'distance_to_goal')} | {steps} | {int(s['episodes']['n'])}{skipped} |"


def paired_row(lead: Sequence[str], run_a: Path, run_b: Path, keys: Sequence[str] = ("success", "spl")) -> str | None:
    """``a - b`` per measure in ``keys`` over the episodes both runs finished (same
    ``episode_index`` in their ``episodes.jsonl``; skipped ones left out): mean and 95% half-width of
    a paired Student t interval, then the number of common episodes (with those either run skipped
    beside it, if any), after the ``lead`` cells.

    Returns:
        The markdown row, or ``None`` when either run is missing or they share under 2 episodes.
    """
    import numpy as np
    from scipy import stats

    runs, seen = [], []
    for run_dir in (run_a, run_b):
        path = run_dir / "episodes.jsonl"
        if not path.exists():
            return None
        records = list(map(json.loads, path.read_text().splitlines()))
        runs.append({r["episode_index"]: r for r in records if not r.get("skipped")})
        seen.append({r["episode_index"] for r in records})
    common = sorted(set(runs[0]) & set(runs[1]))
    skipped = len(seen[0] & seen[1]) - len(common)
    if len(common) < 2:
        return None
    cells = []
    for key in keys:
        d = np.array([float(runs[0][i][key]) - float(runs[1][i][key]) for i in common])
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d)) if d.std() > 0 else 0.0
        cells.append(f"{d.mean():+.3f} ± {half:.3f}")
    return "| " + " | ".join([*lead, *cells, f"{len(common)} ({skipped} skipped)" if skipped else str(len(common))]) + " |"


def table_text(
    comment: str, commands: Sequence[str], rows: Sequence[str], paired_rows: Sequence[str],
    *, columns: Sequence[str], paired_columns: Sequence[str], notes: str = "",
) -> str:
    """The markdown file: an HTML comment, the commands (in a code block), the summary table and
    the paired-difference table.

    Args:
        comment: Text of the leading ``<!-- ... -->`` line.
        commands: One command line each (see :func:`display_command`).
        rows: Summary rows (:func:`summary_row`), under ``columns``.
        paired_rows: Paired-difference rows (:func:`paired_row`), under ``paired_columns``.
        notes: Extra paragraph(s) after the commands (ending in a blank line), e.g. what a label means.
    """
    return (
        f"<!-- {comment} -->\n\n"
        "Commands (each also takes `--resume`):\n\n```\n" + "\n".join(commands) + "\n```\n\n" + notes +
        "Mean ± 95% confidence half-width over episodes (Student t).\n\n" + "\n".join([*markdown_header(columns), *rows]) + "\n\n"
        "Paired differences on the same episodes (mean ± 95% half-width, paired Student t):\n\n"
        + "\n".join(markdown_header(paired_columns)) + "\n" + "\n".join(paired_rows) + "\n"
    )


def write_table(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (creating its folder) and say so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}")
