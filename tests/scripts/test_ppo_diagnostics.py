"""experiments/ppo_diagnostics.py: TensorBoard scalars of a run folder -> gzipped CSV -> the
summary the RSRNav results page quotes (explained-variance median and windows, entropy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_export_then_summary(tmp_path):
    tensorboard = pytest.importorskip("torch.utils.tensorboard", reason="needs torch and tensorboard (navgym[rl])")
    run = tmp_path / "runs" / "demo"
    writer = tensorboard.SummaryWriter(str(run / "tb" / "rsrnav_1"))
    for i in range(40):  # 40 updates of 1,024 steps: the explained variance climbs 0 -> 0.39
        step = (i + 1) * 1024
        writer.add_scalar("train/explained_variance", 0.01 * i, step)
        writer.add_scalar("train/entropy_loss", -0.5, step)
        writer.add_scalar("rollout/success_rate", 0.3, step)
    writer.close()
    script = [sys.executable, str(ROOT / "experiments" / "ppo_diagnostics.py")]
    out = tmp_path / "scalars.csv.gz"
    done = subprocess.run([*script, "export", str(run), "--out", str(out)], capture_output=True, text=True, check=True)
    assert "wrote 120 rows" in done.stdout
    summary = subprocess.run([*script, "summary", str(out)], capture_output=True, text=True, check=True).stdout
    # after the first quarter (steps >= 10,240: i = 9..39) the median is 0.24, the 90th percentile 0.36
    assert "demo: 40960 steps" in summary and "median +0.240" in summary and "90th percentile +0.360" in summary
    assert "entropy 0.50 nats" in summary and "0k:+0.070" in summary
    pytest.importorskip("matplotlib", reason="the plot needs navgym[plots]")
    png = tmp_path / "curves.png"
    drawn = subprocess.run([*script, "plot", str(out), "--out", str(png), "--max-step", "30000"], capture_output=True, text=True)
    assert drawn.returncode == 0, drawn.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    missing = subprocess.run([*script, "export", str(tmp_path), "--out", str(out)], capture_output=True, text=True)
    assert missing.returncode != 0 and "has no TensorBoard logs" in missing.stderr


def test_windowed_means_by_window():
    sys.path.insert(0, str(ROOT / "experiments"))
    try:
        from ppo_diagnostics import WINDOW, windowed
    finally:
        sys.path.remove(str(ROOT / "experiments"))
    points = [(1024 * (i + 1), float(i)) for i in range(40)]  # steps 1,024 .. 40,960; value i
    ends, means = windowed(points)
    # windows [0, 16384): i = 0..14 (steps 1,024..15,360), [16384, 32768): i = 15..30, [32768, ...): i = 31..39
    assert WINDOW == 16_384 and list(ends) == [15_360, 31_744, 40_960] and list(means) == [7.0, 22.5, 35.0]
    ends, means = windowed(points, max_step=20_480)
    assert list(ends) == [15_360, 20_480] and list(means) == [7.0, 17.0]
