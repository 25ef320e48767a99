"""Which ImageNav episodes an agent solves, by what its first view shows of the goal photo.

For each episode of one or more ``navgym evaluate`` folders (``run.json`` + ``episodes.jsonl``;
all on the same env and episodes), the env is reset to that episode (no step is taken) and the
start is described from the simulator's state, privileged, only to sort the episodes afterwards:

* ``photo``: how far the goal photo's heading is from the agent's start heading: ``ahead``
  (within half the camera's field of view: facing the photo's way, the agent has the photo's
  scene in view when the goal is near), ``side`` (up to 135°) or ``behind`` (more than 135°);
* ``goal``: whether the point where the photo was taken is inside the start view (``in view``:
  its bearing within half the field of view) or not (``out of view``).

The table gives each run's success rate in each class (episodes in brackets). A policy that
solves the ``ahead`` episodes and few others reads the photo but does not look for it; one level
across the classes does not depend on its first view.

    python experiments/start_views.py docs/results/rsrnav/eval256/random_agent \\
        docs/results/rsrnav/eval256/ppo_e8_t2_direction_pipeg30_half_s0_agent --out start_views.json
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

PHOTO = ("ahead", "side", "behind")
GOAL = ("in view", "out of view")


def describe_starts(run_dir: Path, episode_indices: list[int]) -> dict[int, dict[str, Any]]:
    """The start of each episode (by index) of ``run_dir``'s env (its ``run.json``): ``episode_id``,
    ``photo_offset_deg``, ``goal_bearing_deg`` (left positive), ``photo`` and ``goal`` (the classes above)."""
    import gymnasium as gym

    import navgym  # noqa: F401
    from navgym.core.geometry import wrap_angle, yaw_toward

    run = json.loads((run_dir / "run.json").read_text())
    kwargs = dict(run.get("env_kwargs") or {})
    if run.get("split"):
        kwargs["split"] = run["split"]
    env = gym.make(run["env_id"], **kwargs)
    nav = env.unwrapped
    half = math.radians(nav.embodiment.camera.hfov) / 2.0
    out = {}
    try:
        for index in episode_indices:
            env.reset(seed=run.get("seed", 0), options={"episode_index": index})
            state = nav.sim.get_agent_state()
            heading = nav.task.goal_heading(nav.episode)
            if heading is None:
                raise SystemExit(f"{run_dir}: {run['env_id']} has no goal heading (an ImageNav env is needed)")
            offset = wrap_angle(heading - state.yaw)
            goal = nav.episode.goals[0].position
            bearing = wrap_angle(yaw_toward(state.position, goal) - state.yaw)
            out[index] = {
                "episode_id": nav.episode.episode_id,
                "photo_offset_deg": math.degrees(offset),
                "goal_bearing_deg": math.degrees(bearing),
                "photo": "ahead" if abs(offset) <= half else "side" if abs(offset) <= math.radians(135) else "behind",
                "goal": "in view" if abs(bearing) <= half else "out of view",
            }
    finally:
        env.close()
    return out


def split(records: list[dict[str, Any]], starts: dict[int, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Success rate and count per class (``photo``, ``photo / goal`` and ``all``); skipped episodes
    are left out and counted in ``all``'s ``skipped`` (when there are any)."""
    from navgym.evaluation import finished

    ran = finished(records)
    skipped, records = len(records) - len(ran), ran
    groups: dict[str, list[float]] = {}
    for r in records:
        s = starts[r["episode_index"]]
        for key in ("all", s["photo"], f"{s['photo']} / {s['goal']}"):
            groups.setdefault(key, []).append(float(r["success"]))
    order = ["all", *PHOTO, *(f"{p} / {g}" for p in PHOTO for g in GOAL)]
    out = {k: {"success": sum(groups[k]) / len(groups[k]), "episodes": len(groups[k])} for k in order if k in groups}
    if skipped:
        out.setdefault("all", {"success": float("nan"), "episodes": 0})["skipped"] = skipped
    return out


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    keys = list(next(iter(results.values())))
    lines = ["| run | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for name, classes in results.items():
        skipped = {k: f", {v['skipped']} skipped" if v.get("skipped") else "" for k, v in classes.items()}
        lines.append(f"| {name} | " + " | ".join(
            f"{classes[k]['success']:.2f} ({classes[k]['episodes']}{skipped[k]})" if k in classes else "" for k in keys) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from navgym.evaluation import finished

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="navgym evaluate output folders (run.json, episodes.jsonl), all of one env")
    parser.add_argument("--out", type=Path, default=None, help="write the starts and the splits here (JSON)")
    options = parser.parse_args(argv)
    records, envs = {}, set()
    for run in options.runs:
        if not (run / "episodes.jsonl").is_file() or not (run / "run.json").is_file():
            raise SystemExit(f"{run} is not a navgym evaluate folder (episodes.jsonl and run.json are needed)")
        records[run.name] = [json.loads(line) for line in (run / "episodes.jsonl").read_text().splitlines() if line.strip()]
        meta = json.loads((run / "run.json").read_text())
        envs.add(json.dumps([meta.get(k) for k in ("env_id", "env_kwargs", "split")], sort_keys=True))
    first = options.runs[0]
    if len(envs) > 1:
        raise SystemExit(f"the runs were evaluated on different envs ({sorted(envs)}); give runs of one env")
    indices = sorted({r["episode_index"] for rows in records.values() for r in finished(rows)})
    starts = describe_starts(first, indices)
    results = {name: split(rows, starts) for name, rows in records.items()}
    print(table(results))
    out = {"starts": starts, "results": results}
    if options.out is not None:
        options.out.parent.mkdir(parents=True, exist_ok=True)
        options.out.write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()
