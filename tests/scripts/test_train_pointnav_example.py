"""examples/train_pointnav.py (docs/training.md's course example): a tiny run writes the model and
its curve, the last block marked partial; Ctrl-C keeps the model and the curve so far."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "train_pointnav.py"
ENV = {**os.environ, "TQDM_DISABLE": "1"}

pytest.importorskip("stable_baselines3")


def test_a_tiny_run_writes_the_model_and_a_curve_whose_last_block_is_partial(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--timesteps", "1100", "--bin", "512", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=300, env=ENV, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    curve = json.loads((tmp_path / "curve.json").read_text())
    assert curve["timesteps"] >= 1100 and (tmp_path / "ppo_pointnav.zip").is_file()
    points = curve["curve"]
    assert [p["steps"] for p in points] == sorted(p["steps"] for p in points) and all(p["steps"] % 512 == 0 for p in points)
    finished = sum(p["episodes"] for p in points)
    assert finished >= 1 and all(0.0 <= p["success"] <= 1.0 for p in points)
    partial = [p for p in points if "partial_steps" in p]
    assert partial == [] or (partial == points[-1:] and 0 < partial[0]["partial_steps"] < 512)


def test_ctrl_c_keeps_the_model_and_the_curve_so_far(tmp_path):
    process = subprocess.Popen([sys.executable, str(SCRIPT), "--minutes", "10", "--bin", "512", "--out", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV, cwd=ROOT,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    monitor = tmp_path / "monitor.csv"
    deadline = time.time() + 240
    while time.time() < deadline and not (monitor.is_file() and len(monitor.read_text().splitlines()) > 20):
        time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=240)
    assert process.returncode == 0, output[-2000:]
    assert "interrupted at" in output and (tmp_path / "ppo_pointnav.zip").is_file()
    assert json.loads((tmp_path / "curve.json").read_text())["curve"]
