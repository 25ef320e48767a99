"""How ProcHouseHard's episode filter was chosen (issue 20; docs/datasets.md "Calibration").

    python scripts/calibrate_hard.py --pilot docs/results/prochousehard_calibration/pilot_val --pilot-size 10 10 \\
        --min-distance 4 6 8 10 --out docs/results/prochousehard_calibration/candidates.md

1. A *pilot* frontier run (ground-truth semantics) on ObjectNav-ProcHouseHard val episodes gives two
   rates: its success when some instance of the goal category stands on the start storey, and when
   none does (it can walk down stairs, not up: its map marks rising treads as obstacles).
2. For each candidate filter (geodesic start-goal distance from ``--min-distance`` to 30 m,
   geodesic / Euclidean >= 1.1) the val episodes are generated (no agent runs) and the share ``p``
   of episodes with an instance on the start storey is counted; the predicted success rate is
   ``p * rate_same + (1 - p) * rate_other``.
3. The filter whose prediction is nearest the band's centre (0.6 of 0.45-0.75) is frozen in
   ``navgym.datasets.prochouse.HARD_FILTER``; real frontier runs on val and test check it
   (docs/results/baselines.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def same_storey(episode) -> bool:
    """Some goal instance stands on the start's storey (within 1.5 m of its height)."""
    return any(abs(g.position[1] - episode.start_position[1]) < 1.5 for g in episode.goals)


def split_episodes(min_distance: float, num_scenes: int | None = None, episodes_per_scene: int | None = None, split: str = "val"):
    import gymnasium as gym

    import navgym  # noqa: F401
    from navgym.datasets import prochouse

    prochouse.HARD_FILTER = {"distance": (float(min_distance), 30.0), "min_ratio": 1.1}
    kwargs = {k: v for k, v in (("num_scenes", num_scenes), ("episodes_per_scene", episodes_per_scene)) if v is not None}
    env = gym.make("ObjectNav-ProcHouseHard-v0", split=split, **kwargs)
    episodes = list(env.unwrapped.dataset.episodes)
    env.close()
    return episodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pilot", type=Path, required=True, help="A frontier run folder on ObjectNav-ProcHouseHard-v0 val.")
    parser.add_argument("--pilot-size", type=int, nargs=2, default=None, metavar=("SCENES", "PER_SCENE"),
                        help="The pilot dataset's num_scenes and episodes_per_scene when not the default.")
    parser.add_argument("--min-distance", type=float, nargs="+", default=[4.0, 6.0, 8.0, 10.0])
    parser.add_argument("--split", default="val", choices=["val", "test"], help="Where the candidates' episodes are counted.")
    parser.add_argument("--pilot-split", default="val", choices=["val", "test"])
    parser.add_argument("--pilot-min-distance", type=float, default=4.0, help="The pilot dataset's minimum geodesic distance.")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    records = [json.loads(line) for line in (args.pilot / "episodes.jsonl").read_text().splitlines() if line.strip()]
    from navgym.evaluation import finished

    ran = finished(records)
    skipped, records = len(records) - len(ran), ran
    pilot = split_episodes(args.pilot_min_distance, *(args.pilot_size or (None, None)), split=args.pilot_split)
    flags = np.array([same_storey(pilot[r["episode_index"]]) for r in records])
    success = np.array([r["success"] for r in records])
    rate_same, rate_other = success[flags].mean(), success[~flags].mean()
    lines = [
        f"Pilot: frontier on {len(records)} {args.pilot_split} episodes{f' ({skipped} skipped)' if skipped else ''} ({args.pilot}, filter "
        f"{args.pilot_min_distance:g}-30 m): SR {success.mean():.3f}; "
        f"{rate_same:.3f} on the {int(flags.sum())} with a goal instance on the start storey, "
        f"{rate_other:.3f} on the {int((~flags).sum())} without.",
        "",
        f"| filter (geodesic m, ratio) | {args.split} episodes | with an instance on the start storey | predicted frontier SR |",
        "|---|---|---|---|",
    ]
    for d in args.min_distance:
        episodes = split_episodes(d, split=args.split)
        p = float(np.mean([same_storey(e) for e in episodes]))
        lines.append(f"| {d:g}-30, >= 1.1 | {len(episodes)} | {p:.2f} | {p * rate_same + (1 - p) * rate_other:.3f} |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
