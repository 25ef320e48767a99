"""``experiments/rollout_parts.py``: the parts of a PPO rollout, timed, on a tiny budget (nothing
about speed): every part is reported, the loop's parts were called once per vector step, and
bad options exit naming them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sb3_contrib", reason="RSRNav needs sb3-contrib (pip install navgym[rl])")

ROOT = Path(__file__).resolve().parents[2]
CLONE = ROOT / "docs/results/rsrnav/checkpoints/pipeg30_direction_s0.zip"


@pytest.mark.parametrize("env_threads", [0, 2], ids=["subprocesses", "threads"])
def test_rollout_parts_tiny_run(tmp_path, env_threads):
    out = tmp_path / "parts.json"
    command = [sys.executable, "experiments/rollout_parts.py", "--init-from", str(CLONE), "--env-id", "ImageNav-ProcHouseEasy-v0",
               "--envs", "2", "--threads", "1", "--rollouts", "2", "--n-steps", "4", "--num-scenes", "1", "--json", str(out),
               "--env-threads", str(env_threads)]
    result = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "TQDM_DISABLE": "1"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(out.read_text())
    parts = {row["part"]: row for row in report["parts"]}
    assert {"env step_async", "env step_wait", "policy forward", "buffer add", "trunk (also in updates)", "head (also in updates)"} <= set(parts)
    for name in ("env step_async", "env step_wait", "policy forward", "buffer add"):
        assert parts[name]["calls"] == 2 * 4, name  # once per vector step: 2 rollouts of 4 steps
    assert all(row["seconds"] >= 0 for row in report["parts"]) and parts["env step_wait"]["seconds"] > 0
    assert ("in this process on 2 threads" if env_threads else "in subprocesses") in result.stdout
    assert report["env_steps"] == 2 * 2 * 4 and 0 < report["rollout_seconds"] <= report["total_seconds"]
    assert "ms per vector step" in result.stdout
    bad = subprocess.run([*command[:2], "--envs", "1"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "--envs 1" in bad.stderr


def test_env_step_parts_tiny_run(tmp_path):
    """``experiments/env_step_parts.py``: step, reset and house-load times of one env; the camera's
    share is part of the step; bad options exit naming them."""
    out = tmp_path / "env.json"
    command = [sys.executable, "experiments/env_step_parts.py", "--env-id", "ImageNav-ProcHouseEasy-v0", "--num-scenes", "1",
               "--steps", "5", "--resets", "2", "--json", str(out)]
    result = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "TQDM_DISABLE": "1"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(out.read_text())
    for key in ("step_ms", "render_ms_per_step", "reset_ms_median", "reset_ms_p90", "house_load_ms_median", "house_reload_ms_median"):
        assert report[key] > 0, key
    assert report["render_ms_per_step"] < report["step_ms"] and report["reset_ms_median"] <= report["reset_ms_p90"]
    assert report["houses"] == 1 and "house load" in result.stdout and "house load again" in result.stdout
    bad = subprocess.run([*command[:2], "--steps", "0"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "--steps 0" in bad.stderr
