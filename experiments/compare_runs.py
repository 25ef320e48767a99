"""Two `navgym train` run folders side by side: their speed, and whether they trained the same
policy bit for bit.

    python experiments/compare_runs.py runs/a runs/b [--json out.json]

For each run: the env steps it trained, its speed (TensorBoard's last `time/env_steps_per_second`:
steps over wall time from the first rollout, evaluations excluded; building the envs and the model
is not in it) and the wall seconds that makes;
then whether the two checkpoints' policy weights (`policy.pth`) and optimiser states
(`policy.optimizer.pth`) are byte-identical. Made to check that `--env-threads` (envs in the
training process on threads) trains exactly what subprocess envs train, and how much faster
(docs/results/rsrnav_log.md, "Training speed"). Reads the run folders only; nothing is unpickled.
"""

from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path

PARTS = ("policy.pth", "policy.optimizer.pth")


def run_summary(folder: Path) -> dict:
    """Steps, final speed and wall seconds of one run folder (its checkpoint and TensorBoard log)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    checkpoint = folder / "checkpoint.zip"
    if not checkpoint.is_file():
        raise SystemExit(f"{folder}: no checkpoint.zip; give `navgym train --out` folders of finished runs")
    events = sorted((folder / "tb").rglob("events.out.tfevents.*"))
    if not events:
        raise SystemExit(f"{folder}: no TensorBoard log under {folder / 'tb'}")
    speeds = []
    for path in events:
        log = EventAccumulator(str(path), size_guidance={"scalars": 0})
        log.Reload()
        if "time/env_steps_per_second" in log.Tags()["scalars"]:
            speeds += log.Scalars("time/env_steps_per_second")
    if not speeds:
        raise SystemExit(f"{folder}: its TensorBoard log has no time/env_steps_per_second")
    last = max(speeds, key=lambda event: event.step)
    return {"run": str(folder), "env_steps": int(last.step), "env_steps_per_second": float(last.value),
            "wall_seconds": float(last.step / last.value) if last.value > 0 else float("nan")}


def same_parts(a: Path, b: Path) -> dict[str, bool]:
    """Whether each of :data:`PARTS` is byte-identical in the two checkpoints."""
    with zipfile.ZipFile(a / "checkpoint.zip") as za, zipfile.ZipFile(b / "checkpoint.zip") as zb:
        return {part: part in za.namelist() and part in zb.namelist() and za.read(part) == zb.read(part) for part in PARTS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs=2, type=Path, help="Two navgym train run folders.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the comparison to this JSON file.")
    options = parser.parse_args()
    rows = [run_summary(folder) for folder in options.runs]
    same = same_parts(*options.runs)
    print(f"{'run':<40}{'env steps':>10}{'steps/s':>10}{'wall s':>9}")
    for row in rows:
        print(f"{row['run']:<40}{row['env_steps']:>10d}{row['env_steps_per_second']:>10.1f}{row['wall_seconds']:>9.1f}")
    for part, equal in same.items():
        print(f"{part}: {'identical' if equal else 'different'}")
    if options.json is not None:
        options.json.write_text(json.dumps({"runs": rows, "identical": same}, indent=2) + "\n")


if __name__ == "__main__":
    main()
