"""RSRNav encoder while acting: milliseconds per batch and per image, by batch size and torch
threads, side by side in one run.

    python benchmarks/encoder_speed.py [--heads direction] [--batches 1,4,8] [--threads 1,2] [--size 128]
        [--repeats 30] [--rounds 2] [--json results.json]

The encoder of a fresh network (weights do not change the cost), in eval mode without gradients,
on uint8 observations of ``--size`` pixels a side with one goal image per batch: what a PPO
rollout's acting step computes for ``batch`` envs at once (the goal's trunk features come from
the encoder's goal cache after the first call, as while acting). Each configuration is timed
``--repeats`` times after 5 warm-up calls; ``--rounds`` repeats the whole table (the second round
in reversed order), so drift of the machine shows as a difference between rounds. It answers
two questions of docs/results/rsrnav_log.md's "Training speed": what batching the envs' images saves
per image, and whether the main process should act on one thread or two while the env workers
wait. CI runs it with a tiny budget (tests/scripts/test_train_speed_benchmark.py); it asserts
nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from _phases import processor, whole_numbers, write_report


def measure(head: str, batch: int, threads: int, size: int, repeats: int) -> dict[str, float]:
    import numpy as np
    import torch
    from gymnasium import spaces

    from navgym.agents.rsrnav.encoders import RSRNavEncoder

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    space = spaces.Dict({key: spaces.Box(0, 255, (size, size, 3), np.uint8) for key in ("rgb", "imagegoal")})
    encoder = RSRNavEncoder(space, head=head).eval()
    generator = torch.Generator().manual_seed(batch)
    observations = {
        "rgb": torch.randint(0, 256, (batch, size, size, 3), dtype=torch.uint8, generator=generator),
        "imagegoal": torch.randint(0, 256, (1, size, size, 3), dtype=torch.uint8, generator=generator).expand(batch, -1, -1, -1).contiguous(),
    }
    with torch.no_grad():
        for _ in range(5):
            encoder(observations)
        began = time.perf_counter()
        for _ in range(repeats):
            encoder(observations)
        seconds = (time.perf_counter() - began) / repeats
    return {"ms_per_batch": seconds * 1e3, "ms_per_image": seconds * 1e3 / batch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heads", default="direction", help="Comma-separated RSRNav heads.")
    parser.add_argument("--batches", default="1,4,8", help="Comma-separated batch sizes (envs acting at once).")
    parser.add_argument("--threads", default="1,2", help="Comma-separated torch CPU thread counts.")
    parser.add_argument("--size", type=int, default=128, help="Image side in pixels.")
    parser.add_argument("--repeats", type=int, default=30, help="Timed calls per configuration.")
    parser.add_argument("--rounds", type=int, default=2, help="Times the whole table is measured (every other round reversed).")
    parser.add_argument("--json", type=Path, default=None, help="Also write the options and rows to this JSON file.")
    options = parser.parse_args()
    if options.repeats < 1 or options.rounds < 1:
        raise SystemExit(f"--repeats {options.repeats} and --rounds {options.rounds} must be at least 1")
    heads = [h.strip() for h in options.heads.split(",") if h.strip()]
    batches, threads_counts = whole_numbers(options.batches, "batches", "1,4,8"), whole_numbers(options.threads, "threads", "1,2")
    configurations = [(head, batch, threads) for head in heads for batch in batches for threads in threads_counts]
    print(f"machine: {processor()}, {os.cpu_count()} CPUs; {options.size}x{options.size} images")
    print(f"{'round':>5}  {'head':<12}{'batch':>6}{'threads':>8}{'ms/batch':>10}{'ms/image':>10}")
    rows = []
    for round_ in range(options.rounds):
        for head, batch, threads in (configurations if round_ % 2 == 0 else configurations[::-1]):
            r = measure(head, batch, threads, options.size, options.repeats)
            print(f"{round_ + 1:>5}  {head:<12}{batch:>6}{threads:>8}{r['ms_per_batch']:>10.2f}{r['ms_per_image']:>10.2f}", flush=True)
            rows.append({"round": round_ + 1, "head": head, "batch": batch, "threads": threads, **r})
    if options.json is not None:
        write_report(options.json, options, rows)


if __name__ == "__main__":
    main()
