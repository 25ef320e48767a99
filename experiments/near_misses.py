"""Where an ImageNav agent fails: near the goal without stopping there, or never near it.

Runs an agent the way ``navgym evaluate`` does (the same episodes, seeds and agent options) and
follows the geodesic distance to the goal that the env reports after every step (its
``distance_to_goal`` measure). An episode *reached* the goal region when that distance was ever
within the task's ``success_distance`` (1 m for ImageNav). Every episode then falls in one of:

* ``success``: stopped within the region;
* ``missed stop``: was in the region at some step and did not stop there (it stopped elsewhere
  later, or ran out of steps): the agent got there and did not recognise the goal;
* ``never reached``: never came within the region: a failure to find or approach the goal.

Privileged state (the distance) is read only to score the episode afterwards; the agent sees what
it sees in any evaluation. The split of the failures says which part of the agent to work on: a
policy with many missed stops needs better goal recognition, one that never gets there needs
better search.

    python experiments/near_misses.py --env ImageNav-ProcHouseEasy-v0 --agent rsrnav \\
        --checkpoint docs/results/rsrnav/checkpoints/ppo_e8_t2_direction_easy_s1.zip \\
        --episodes 256 --env-option num_scenes=40 --out docs/results/rsrnav/near_misses/easy_direction_ppo.json
    python experiments/near_misses.py --table docs/results/rsrnav/near_misses/*.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym

CLASSES = ("success", "missed stop", "never reached")


class GoalDistanceProbe(gym.Wrapper):
    """Keeps, per episode, the least ``distance_to_goal`` seen and the steps spent within ``radius``."""

    def __init__(self, env: gym.Env, radius: float):
        super().__init__(env)
        self.radius = float(radius)
        self.episodes: dict[int, dict[str, Any]] = {}
        self._current: dict[str, Any] | None = None

    def _see(self, info: dict[str, Any]) -> None:
        distance = float(info.get("distance_to_goal", math.inf))
        current = self._current
        current["min_distance"] = min(current["min_distance"], distance)
        if distance <= self.radius:
            current["steps_in_region"] += 1
            if current["first_step_in_region"] is None:
                current["first_step_in_region"] = int(info.get("num_steps", 0))

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        index = (options or {}).get("episode_index", len(self.episodes))
        self._current = {"min_distance": math.inf, "steps_in_region": 0, "first_step_in_region": None}
        self.episodes[int(index)] = self._current
        self._see(info)
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._see(info)
        return obs, reward, terminated, truncated, info


def classify(record: dict[str, Any], probe: dict[str, Any], radius: float) -> str:
    """``success``, ``missed stop`` or ``never reached`` (see the module's text)."""
    if record["success"] > 0:
        return "success"
    return "missed stop" if probe["min_distance"] <= radius else "never reached"


def analyse(records: list[dict[str, Any]], probes: dict[int, dict[str, Any]], radius: float) -> dict[str, Any]:
    """Per-episode rows and the share of each class (``reached``: success or missed stop); skipped
    episodes (``"skipped"`` records: never run) are left out and counted as ``skipped``."""
    from navgym.evaluation import finished

    ran = finished(records)
    skipped, records = len(records) - len(ran), ran
    if not records:
        raise SystemExit(f"no episode to analyse ({skipped} skipped: see their records' reasons)")
    rows = []
    for record in records:
        probe = probes[record["episode_index"]]
        rows.append({
            "episode_index": record["episode_index"], "episode_id": record["episode_id"],
            "class": classify(record, probe, radius), "success": record["success"],
            "truncated": bool(record.get("truncated", False)), "num_steps": record["num_steps"],
            "min_distance": probe["min_distance"], "final_distance": record["distance_to_goal"],
            "first_step_in_region": probe["first_step_in_region"], "steps_in_region": probe["steps_in_region"],
        })
    n = len(rows)
    share = {c: sum(r["class"] == c for r in rows) / n for c in CLASSES}
    missed = [r for r in rows if r["class"] == "missed stop"]
    summary = {
        "episodes": n, "skipped": skipped, "success_distance": radius, **share,
        "reached": share["success"] + share["missed stop"],
        "missed stop, timed out": sum(r["truncated"] for r in missed) / n,
        "never reached, timed out": sum(r["truncated"] for r in rows if r["class"] == "never reached") / n,
    }
    return {"summary": summary, "episodes": rows}


def run(env_id: str, agent: str, episodes: int, env_options: dict[str, Any], agent_options: dict[str, Any],
        seed: int = 0, split: str = "val", progress: bool = True) -> dict[str, Any]:
    from navgym.evaluation import EvalSpec, evaluate

    spec = EvalSpec(env_id, agent, split, env_options, agent_options, "agent")
    agent_obj, env = spec.build()
    try:
        radius = float(env.unwrapped.task.success_distance)
        probe = GoalDistanceProbe(env, radius)
        result = evaluate(probe, agent_obj, episodes, seed=seed, progress=progress, desc=f"{agent} on {env_id}")
    finally:
        env.close()
    analysis = analyse(result.records, probe.episodes, radius)
    analysis["run"] = {"env_id": env_id, "agent": agent, "split": split, "seed": seed, "episodes": episodes,
                       "env_options": env_options, "agent_options": agent_options}
    return analysis


def table(paths: list[Path]) -> str:
    """A markdown table of saved analyses (``--out`` files), one row each, in the order given."""
    lines = ["| file | episodes | success | missed stop (timed out) | never reached (timed out) | reached |", "|---|---|---|---|---|---|"]
    for path in paths:
        s = json.loads(Path(path).read_text())["summary"]
        episodes = f"{s['episodes']} ({s['skipped']} skipped)" if s.get("skipped") else f"{s['episodes']}"
        lines.append(f"| {Path(path).stem} | {episodes} | {s['success']:.3f} | {s['missed stop']:.3f} ({s['missed stop, timed out']:.3f}) "
                     f"| {s['never reached']:.3f} ({s['never reached, timed out']:.3f}) | {s['reached']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any] | str:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--table"]:
        if len(argv) < 2:
            raise SystemExit("--table needs the JSON files that --out wrote, e.g. --table docs/results/rsrnav/near_misses/*.json")
        text = table([Path(a) for a in argv[1:]])
        print(text)
        return text
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="--table FILE ...: print the saved analyses as a markdown table")
    parser.add_argument("--env", required=True, help="an ImageNav id, e.g. ImageNav-ProcHouseEasy-v0")
    parser.add_argument("--agent", default="rsrnav")
    parser.add_argument("--checkpoint", help="the agent's checkpoint (learned agents)")
    parser.add_argument("--episodes", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0, help="as navgym evaluate's --seed (episode i: seed + i)")
    parser.add_argument("--split", default="val")
    parser.add_argument("--env-option", action="append", default=[], help="key=value for gym.make (repeatable)")
    parser.add_argument("--agent-option", action="append", default=[], help="key=value for the agent (repeatable)")
    parser.add_argument("--out", type=Path, help="write the per-episode rows and the summary here (JSON)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    from navgym.core.options import key_values
    from navgym.errors import InvalidArgumentError

    try:
        agent_options = key_values(args.agent_option, "--agent-option")
        env_options = key_values(args.env_option, "--env-option")
    except InvalidArgumentError as error:
        raise SystemExit(str(error)) from None
    if args.checkpoint:
        if not Path(args.checkpoint).is_file():
            raise SystemExit(f"--checkpoint {args.checkpoint} is not a file; give a checkpoint .zip a training run wrote")
        agent_options["checkpoint"] = args.checkpoint
    analysis = run(args.env, args.agent, args.episodes, env_options, agent_options,
                   seed=args.seed, split=args.split, progress=not args.no_progress)
    s = analysis["summary"]
    skipped = f", {s['skipped']} skipped" if s["skipped"] else ""
    print(f"{args.agent} on {args.env} ({s['episodes']} episodes{skipped}): success {s['success']:.3f}, "
          f"missed stop {s['missed stop']:.3f} (timed out {s['missed stop, timed out']:.3f}), "
          f"never reached {s['never reached']:.3f} (timed out {s['never reached, timed out']:.3f})")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(analysis, indent=1) + "\n")
        print(f"wrote {args.out}")
    return analysis


if __name__ == "__main__":
    main()
