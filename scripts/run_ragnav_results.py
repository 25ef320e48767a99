"""RAGNav against NaiveRAG, the paper's four ablations and a privileged oracle tour on MultiGoalVLN
(ProcHouse val, seed 0); writes ``docs/results/ragnav_table.md`` (issue 12; the discussion is
``docs/results/ragnav.md``).

    python scripts/run_ragnav_results.py --episodes 100               # everything (both parts)
    python scripts/run_ragnav_results.py --only retrieval ragnav      # some parts only
    python scripts/run_ragnav_results.py --jobs 2                     # two navigation runs side by side
    python scripts/run_ragnav_results.py --table-only                 # rewrite the table from the runs

Two parts, both resumable (rerunning continues; a larger ``--episodes`` extends), kept in
``docs/results/ragnav_runs/``:

* **Navigation** (the paper's Table 2 and 3 measures): one ``navgym evaluate`` run per variant into
  ``<variant>/``: success, progress, SPL against the shortest feasible tour, travel distance
  (``path_length``), total time (``wall_time``, the env's ``measure_wall_time=True``), steps, and for
  the RAGNav agents the instance each retrieved per sub-task (the record's ``"agent"``), scored
  against the episode's ``goal_object_ids`` here, after the run.
* **Retrieval** (the paper's Table 1): ``retrieval/episodes.jsonl``. Per episode RAGNav explores once
  (its own exploration, identical in every variant: exploring does not depend on the retrieval
  options), then every retrieval variant (RAGNav, NaiveRAG, the four ablations) retrieves from that
  same memory under each input kind (``inputs=`` text, text+location, text+location+sensor), timed
  from a cold embedding cache each time (the wall time of :meth:`RAGNavAgent.retrieve`: fingerprints,
  forest, embeddings, scoring). Top-1 accuracy is the share of sub-goals whose retrieved instance is
  the goal instance (the paper's P(Q|A)).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import display_command, evaluate_command, markdown_header, paired_row, run_commands, write_table  # noqa: E402

ENV_ID = "MultiGoalVLN-ProcHouse-v0"
SPLIT, SEED = "val", 0
#: What the RAGNav agents read (their needed sensors) plus ``temperature`` and ``pose`` (the
#: Text+Location+Sensor input); no ``rgb`` or ``lidar``, which no variant reads (they cost render time).
SENSORS = ["depth", "gps", "compass", "semantic", "instruction", "pose", "temperature"]
EXTRA_ARGS = ("--env-option", f"sensors={json.dumps(SENSORS, separators=(',', ':'))}", "--env-option", "measure_wall_time=true", "--no-video", "--no-maps")
#: Navigation variants: name -> (agent, agent options).
VARIANTS = {
    "ragnav": ("ragnav", []),
    "naive_rag": ("naive-rag", []),
    "no_forest": ("ragnav", ["forest=false"]),
    "no_topology": ("ragnav", ["topology=false"]),
    "no_spatial": ("ragnav", ["spatial=false"]),
    "no_neighbours": ("ragnav", ["neighbours=false"]),
    "oracle": ("multigoal-oracle", []),
}
LABELS = {
    "ragnav": "RAGNav",
    "naive_rag": "NaiveRAG (flat top-1)",
    "no_forest": "w/o semantic forest",
    "no_topology": "w/o topological map",
    "no_spatial": "w/o spatial enhancement",
    "no_neighbours": "w/o neighbour enhancement",
    "oracle": "oracle tour (PRIVILEGED upper bound)",
}
#: Retrieval variants: name -> RetrievalOptions fields.
RETRIEVAL_VARIANTS = {
    "ragnav": {},
    "naive_rag": {"naive": True},
    "no_forest": {"forest": False},
    "no_topology": {"topology": False},
    "no_spatial": {"spatial": False},
    "no_neighbours": {"neighbours": False},
}
RETRIEVAL = "retrieval"


def navigation_command(variant: str, episodes: int, out: Path) -> list[str]:
    agent, options = VARIANTS[variant]
    return evaluate_command(ENV_ID, agent, options, episodes, out / variant, split=SPLIT, seed=SEED, extra_args=EXTRA_ARGS)


def retrieval_command(episodes: int, out: Path, timed: int) -> str:
    return f"python scripts/run_ragnav_results.py --only retrieval --episodes {episodes} --timed-episodes {timed} --out {out}"


# -- the retrieval benchmark ---------------------------------------------------------------------
def run_retrieval(episodes: int, out_dir: Path, timed: int) -> None:
    """Explore once per episode, then score every retrieval variant under every input kind; the
    first ``timed`` episodes time each retrieval from a cold embedding cache, the others keep the
    cache (the same vectors, so the same retrievals, in about a third of the time) and record no time."""
    import gymnasium as gym
    import torch
    from tqdm import tqdm

    import navgym
    from navgym.agents import make
    from navgym.agents.ragnav.agent import INPUT_KINDS
    from navgym.evaluation import append_jsonl, episode_problem, read_records, skipped_record, write_json_atomic

    torch.set_num_threads(1)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = {"env_id": ENV_ID, "split": SPLIT, "seed": SEED, "sensors": SENSORS, "agent": "ragnav", "variants": RETRIEVAL_VARIANTS,
                "inputs": list(INPUT_KINDS), "navgym_version": navgym.__version__}
    manifest_path = out_dir / "run.json"
    if manifest_path.exists():
        recorded = json.loads(manifest_path.read_text())
        differing = sorted(k for k in manifest if recorded.get(k) != manifest[k])
        if differing:
            raise SystemExit(f"{manifest_path} was made with other settings ({differing}); move the folder away or rerun with those settings")
    else:
        write_json_atomic(manifest_path, manifest)
    records_path = out_dir / "episodes.jsonl"
    done = {r["episode_index"] for r in read_records(records_path)[0]} if records_path.exists() else set()
    todo = [i for i in range(episodes) if i not in done]
    if not todo:
        return
    env = gym.make(ENV_ID, split=SPLIT, sensors=tuple(SENSORS))
    agent = make("ragnav", env=env)
    encoder = agent.reasoner.encoder
    for index in tqdm(todo, desc="retrieval", unit="episode"):
        problem = episode_problem(env, {"episode_index": index})  # as navgym.evaluation.run_episode: recorded as skipped
        if problem is not None:
            append_jsonl(records_path, skipped_record(index, problem))
            continue
        obs, _ = env.reset(seed=SEED + index, options={"episode_index": index})
        agent.reset()
        instruction = str(obs["instruction"])
        started = time.process_time()
        while agent.phase == "explore":
            obs, _, terminated, truncated, _ = env.step(agent.policy(obs))
            if terminated or truncated:
                break
        explore_cpu = time.process_time() - started
        episode = env.unwrapped.episode
        results = {}
        for variant, options in RETRIEVAL_VARIANTS.items():
            results[variant] = {}
            for inputs in INPUT_KINDS:
                if index < timed:
                    encoder.clear_cache()
                t0 = time.perf_counter()
                retrieved, _ = agent.retrieve(instruction, options, inputs)
                seconds = time.perf_counter() - t0 if index < timed else None
                results[variant][inputs] = {"retrieved": [r.instance for r in sorted(retrieved, key=lambda r: r.subtask.index)], "seconds": seconds}
        append_jsonl(records_path, {
            "episode_index": index, "episode_id": episode.episode_id, "scene_id": episode.scene_id,
            "instruction": instruction, "instruction_kind": episode.extra.get("instruction_kind"),
            "goal_object_ids": [g.object_id for g in episode.goals], "explore_steps": agent.explore_steps_used,
            "explore_cpu_s": explore_cpu, "seen_instances": len(agent.memory.points), "results": results,
        })
    env.close()


# -- tables --------------------------------------------------------------------------------------
def _records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _mean_ci(values) -> str:
    import numpy as np
    from scipy import stats

    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if len(v) == 0:
        return "n/a"
    if len(v) == 1 or v.std() == 0:
        return f"{v.mean():.3f} ± 0.000" if len(v) > 1 else f"{v.mean():.3f}"
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
    return f"{v.mean():.3f} ± {half:.3f}"


def _accuracy(pairs) -> tuple[float, float, int]:
    """Top-1 accuracy over (retrieved, goals) pairs: share of sub-goals, normal-approximation
    95% half-width, number of sub-goals."""
    hits = total = 0
    for retrieved, goals in pairs:
        total += len(goals)
        hits += sum(1 for r, g in zip(retrieved, goals) if r is not None and r == g)
    if total == 0:
        return math.nan, math.nan, 0
    p = hits / total
    return p, 1.96 * math.sqrt(p * (1 - p) / total), total


def navigation_rows(out: Path) -> list[str]:
    from navgym.evaluation import finished

    rows = []
    for variant in VARIANTS:
        all_records = _records(out / variant / "episodes.jsonl")
        records = finished(all_records)
        skipped = f" ({len(all_records) - len(records)} skipped)" if len(all_records) > len(records) else ""
        head = f"| {LABELS[variant]} | "
        if not all_records:
            rows.append(head + "not run | | | | | | | 0 |")
            continue
        agentic = [(r["agent"]["retrieved"], r["goal_object_ids"]) for r in records if "agent" in r and "goal_object_ids" in r]
        p, half, _ = _accuracy(agentic) if agentic else (math.nan, math.nan, 0)
        accuracy = f"{p:.3f} ± {half:.3f}" if agentic else "—"
        cells = [_mean_ci([r.get(k) for r in records]) for k in ("success", "progress", "spl", "path_length", "wall_time")]
        steps = f"{sum(r['num_steps'] for r in records) / len(records):.0f}" if records else "n/a"
        rows.append(head + " | ".join(cells) + f" | {steps} | {accuracy} | {len(records)}{skipped} |")
    return rows


def paired_navigation_rows(out: Path) -> list[str]:
    variants = [v for v in VARIANTS if v not in ("ragnav", "oracle")]
    rows = [paired_row([f"RAGNav − {LABELS[v]}"], out / "ragnav", out / v, keys=("success", "progress", "path_length")) for v in variants]
    return [row for row in rows if row is not None]


def retrieval_rows(out: Path) -> tuple[list[str], int, int, int]:
    import numpy as np

    from navgym.agents.ragnav.agent import INPUT_KINDS
    from navgym.evaluation import finished

    all_records = _records(out / RETRIEVAL / "episodes.jsonl")
    records = finished(all_records)
    rows = []
    for variant in RETRIEVAL_VARIANTS:
        for inputs in INPUT_KINDS:
            pairs = [(r["results"][variant][inputs]["retrieved"], r["goal_object_ids"]) for r in records]
            seconds = np.array([s for r in records if (s := r["results"][variant][inputs]["seconds"]) is not None])
            p, half, n = _accuracy(pairs)
            if not records:
                rows.append(f"| {LABELS[variant]} | {inputs} | not run | | | 0 |")
                continue
            times = f"{1000 * np.median(seconds):.0f} | {1000 * seconds.mean():.0f}" if len(seconds) else "| "
            rows.append(f"| {LABELS[variant]} | {inputs} | {p:.3f} ± {half:.3f} | {times} | {n} |")
    timed = sum(1 for r in records if r["results"]["ragnav"]["text"]["seconds"] is not None)
    return rows, len(records), timed, len(all_records) - len(records)


def paired_retrieval_rows(out: Path) -> list[str]:
    """RAGNav minus each variant, and each input kind minus text, in per-episode top-1 accuracy
    (paired over episodes, Student t)."""
    import numpy as np
    from scipy import stats

    from navgym.agents.ragnav.agent import INPUT_KINDS
    from navgym.evaluation import finished

    all_records = _records(out / RETRIEVAL / "episodes.jsonl")
    records = finished(all_records)
    skipped = f" ({len(all_records) - len(records)} skipped)" if len(all_records) > len(records) else ""
    if len(records) < 2:
        return []

    def accuracy(r: dict, variant: str, inputs: str) -> float:
        goals = r["goal_object_ids"]
        return sum(a == g for a, g in zip(r["results"][variant][inputs]["retrieved"], goals)) / len(goals)

    def row(label: str, a: tuple[str, str], b: tuple[str, str]) -> str:
        d = np.array([accuracy(r, *a) - accuracy(r, *b) for r in records])
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d)) if d.std() > 0 else 0.0
        return f"| {label} | {d.mean():+.3f} ± {half:.3f} | {len(d)}{skipped} |"

    rows = [row(f"RAGNav − {LABELS[v]} (text)", ("ragnav", "text"), (v, "text")) for v in RETRIEVAL_VARIANTS if v != "ragnav"]
    rows += [row(f"{LABELS[v]}: {k} − text", (v, k), (v, "text")) for v in ("ragnav", "naive_rag") for k in INPUT_KINDS[1:]]
    return rows


def write_tables(out: Path, table: Path, episodes: int, timed: int) -> None:
    retrieval, n_retrieval, n_timed, n_skipped = retrieval_rows(out)
    commands = [retrieval_command(episodes, out, timed)] + [display_command(navigation_command(v, episodes, out)) for v in VARIANTS]
    text = (
        "<!-- written by scripts/run_ragnav_results.py; docs/results/ragnav.md discusses it -->\n\n"
        "Commands (each also takes `--resume`; the script runs them all):\n\n```\n" + "\n".join(commands) + "\n```\n\n"
        f"**Retrieval** (the paper's Table 1), {n_retrieval} episodes{f' ({n_skipped} skipped)' if n_skipped else ''}: top-1 accuracy over their sub-goals "
        "(± normal-approximation 95% half-width, sub-goals treated as independent), from one RAGNav exploration per "
        f"episode shared by all rows; retrieval wall time (median and mean, ms) from a cold embedding cache over the first {n_timed} episodes.\n\n"
        + "\n".join([*markdown_header(("variant", "input", "top-1 accuracy", "median ms", "mean ms", "sub-goals")), *retrieval]) + "\n\n"
        "Paired differences in per-episode top-1 accuracy (mean ± 95% half-width, paired Student t over episodes):\n\n"
        + "\n".join([*markdown_header(("difference", "accuracy", "episodes")), *paired_retrieval_rows(out)]) + "\n\n"
        "**Navigation** (the paper's Tables 2 and 3): mean ± 95% half-width over episodes (Student t); travel distance is "
        "`path_length` (m), total time `wall_time` (s, one process on a 2-core machine); retrieval accuracy is the run's own "
        "(input: text).\n\n"
        + "\n".join([*markdown_header(("agent", "SR", "progress", "SPL", "travel distance (m)", "total time (s)", "steps", "retrieval accuracy", "episodes")), *navigation_rows(out)]) + "\n\n"
        "Paired differences on the same episodes (RAGNav minus the variant; mean ± 95% half-width, paired Student t):\n\n"
        + "\n".join([*markdown_header(("difference", "SR", "progress", "travel distance (m)", "episodes")), *paired_navigation_rows(out)]) + "\n"
    )
    write_table(table, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--only", nargs="*", choices=[RETRIEVAL, *VARIANTS], help="run only these parts / variants")
    parser.add_argument("--timed-episodes", type=int, default=20, help="retrieval episodes timed from a cold cache (the first ones)")
    parser.add_argument("--jobs", type=int, default=1, help="navigation runs at once (each one process, OMP_NUM_THREADS=1)")
    parser.add_argument("--out", type=Path, default=Path("docs/results/ragnav_runs"))
    parser.add_argument("--table", type=Path, default=Path("docs/results/ragnav_table.md"))
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()
    if args.episodes < 1:
        parser.error(f"--episodes {args.episodes} must be at least 1")
    todo = args.only or [RETRIEVAL, *VARIANTS]
    failed: list[str] = []
    if not args.table_only:
        if RETRIEVAL in todo:
            run_retrieval(args.episodes, args.out / RETRIEVAL, args.timed_episodes)
        runs = [(v, navigation_command(v, args.episodes, args.out)) for v in VARIANTS if v in todo]
        failed = run_commands(runs, args.out, jobs=args.jobs, env={"OMP_NUM_THREADS": "1"}, keep_going=True) if runs else []
    write_tables(args.out, args.table, args.episodes, args.timed_episodes)
    if failed:
        print(f"failed: {failed}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
