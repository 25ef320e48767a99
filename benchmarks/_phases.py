"""Shared by the training benchmarks (run as ``python benchmarks/<script>.py``, which puts this
folder on ``sys.path``)."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path


def processor() -> str:
    """This machine's processor as the reports name it."""
    return platform.processor() or platform.machine()


def write_report(path: Path, options, rows: list[dict]) -> None:
    """Write a benchmark's machine, options (argparse namespace) and rows to JSON file ``path``."""
    report = {
        "machine": {"processor": processor(), "cpus": os.cpu_count()},
        "options": {key: str(value) if isinstance(value, Path) else value for key, value in vars(options).items()},
        "results": rows,
    }
    Path(path).write_text(json.dumps(report, indent=2) + "\n")


def whole_numbers(text: str, name: str, example: str) -> list[int]:
    """Option ``--name``'s comma-separated whole numbers, each at least 1 (else exit naming it)."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SystemExit(f"--{name} {text!r} must be comma-separated whole numbers, e.g. {example}") from None
    if not values or min(values) < 1:
        raise SystemExit(f"--{name} {text!r} must list numbers of at least 1")
    return values


def rollout_timer():
    """A stable-baselines3 callback whose ``rollout`` attribute adds up the wall seconds spent
    collecting rollouts (env steps and policy inference, not the updates)."""
    from stable_baselines3.common.callbacks import BaseCallback

    class RolloutTimer(BaseCallback):
        def __init__(self):
            super().__init__()
            self.rollout = 0.0
            self._start = 0.0

        def _on_rollout_start(self) -> None:
            self._start = time.perf_counter()

        def _on_rollout_end(self) -> None:
            self.rollout += time.perf_counter() - self._start

        def _on_step(self) -> bool:
            return True

    return RolloutTimer()
