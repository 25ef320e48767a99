"""Goal-pose pretraining: seconds per minibatch (forward, backward, Adam step) by head and by
``--pose-group`` (views of one goal photo side by side in a minibatch) and by precision (the
encoder's ``precision``: ``--model-option precision=bfloat16`` of ``navgym train``), side by side
in one run.

    python benchmarks/pose_speed.py [--heads direction,dense] [--groups 1,8] [--precisions float32,bfloat16]
        [--size 128] [--batches 12] [--rounds 2] [--threads 1] [--json results.json]

Each configuration runs :func:`navgym.training.goal_pose.fit_goal_pose` on a fresh encoder over
synthetic pairs (random images: the content does not change the cost) of ``(--batches + 2)``
minibatches of 64 pairs, 8 views per goal photo as the pretraining renders them; the first two
minibatches are a warm-up, the rest timed. ``--rounds`` repeats the table, every other round in
reverse order, so drift of the machine shows as a difference between rounds. It measures what
docs/results/rsrnav_log.md's "Goal-grouped pose minibatches" reports. CI runs it with a tiny budget
(tests/scripts/test_train_speed_benchmark.py); it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from _phases import processor, whole_numbers, write_report

BATCH = 64
VIEWS = 8


def measure(head: str, group: int, size: int, batches: int, threads: int, precision: str = "float32") -> dict[str, float]:
    import numpy as np
    import torch
    from gymnasium import spaces

    from navgym.agents.rsrnav.encoders import RSRNavEncoder
    from navgym.training.goal_pose import fit_goal_pose

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    space = spaces.Dict({key: spaces.Box(0, 255, (3, size, size), np.uint8) for key in ("rgb", "imagegoal")})
    encoder = RSRNavEncoder(space, head=head, cue_norm=head == "direction", precision=precision)
    rng = np.random.default_rng(0)
    pairs_count = (batches + 2) * BATCH
    goals = pairs_count // VIEWS
    pairs = {
        "rgb": rng.integers(0, 256, (pairs_count, size, size, 3), dtype=np.uint8),
        "goal": rng.integers(0, 256, (goals, size, size, 3), dtype=np.uint8),
        "goal_index": np.repeat(np.arange(goals), VIEWS),
        "labels": np.concatenate([rng.uniform(0.5, 3, (pairs_count, 1)), rng.uniform(-1, 1, (pairs_count, 5))], axis=1).astype(np.float32),
    }
    stamps = []
    original = torch.optim.Adam.step

    def stamped(self, *args, **kwargs):  # the end of each minibatch
        out = original(self, *args, **kwargs)
        stamps.append(time.perf_counter())
        return out

    torch.optim.Adam.step = stamped
    try:
        fit_goal_pose(encoder, pairs, epochs=1, batch=BATCH, group=group, seed=0, log=lambda _: None)
    finally:
        torch.optim.Adam.step = original
    timed = np.diff(stamps[1:])  # minibatches 3.. (the first two warm up)
    return {"s_per_minibatch": float(np.median(timed)), "pairs_per_s": BATCH / float(np.median(timed)), "minibatches": len(timed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heads", default="direction,dense", help="Comma-separated RSRNav heads.")
    parser.add_argument("--groups", default="1,8", help="Comma-separated --pose-group values.")
    parser.add_argument("--precisions", default="float32", help="Comma-separated encoder precisions: float32, bfloat16.")
    parser.add_argument("--size", type=int, default=128, help="Image side in pixels.")
    parser.add_argument("--batches", type=int, default=12, help="Timed minibatches of 64 pairs per configuration.")
    parser.add_argument("--threads", type=int, default=1, help="Torch CPU threads (the recipe trains on 1).")
    parser.add_argument("--rounds", type=int, default=2, help="Times the whole table is measured (every other round reversed).")
    parser.add_argument("--json", type=Path, default=None, help="Also write the options and rows to this JSON file.")
    options = parser.parse_args()
    if options.batches < 1 or options.rounds < 1 or options.threads < 1:
        raise SystemExit(f"--batches {options.batches}, --rounds {options.rounds} and --threads {options.threads} must be at least 1")
    heads = [h.strip() for h in options.heads.split(",") if h.strip()]
    precisions = [p.strip() for p in options.precisions.split(",") if p.strip()]
    from navgym.agents.rsrnav.encoders import PRECISIONS

    unknown = [p for p in precisions if p not in PRECISIONS]
    if unknown or not precisions:
        raise SystemExit(f"--precisions {options.precisions!r}: each must be one of {', '.join(PRECISIONS)}, e.g. float32,bfloat16")
    configurations = [(head, group, precision) for head in heads for group in whole_numbers(options.groups, "groups", "1,8")
                      for precision in precisions]
    print(f"machine: {processor()}, {os.cpu_count()} CPUs; {options.size}x{options.size} images, minibatches of {BATCH} pairs, "
          f"{VIEWS} views per goal photo, {options.threads} torch thread(s)")
    print(f"{'round':>5}  {'head':<12}{'group':>6}  {'precision':<10}{'s/minibatch':>13}{'pairs/s':>9}")
    rows = []
    for round_ in range(options.rounds):
        for head, group, precision in (configurations if round_ % 2 == 0 else configurations[::-1]):
            r = measure(head, group, options.size, options.batches, options.threads, precision)
            print(f"{round_ + 1:>5}  {head:<12}{group:>6}  {precision:<10}{r['s_per_minibatch']:>13.3f}{r['pairs_per_s']:>9.1f}", flush=True)
            rows.append({"round": round_ + 1, "head": head, "group": group, "precision": precision, **r})
    if options.json is not None:
        write_report(options.json, options, rows)


if __name__ == "__main__":
    main()
