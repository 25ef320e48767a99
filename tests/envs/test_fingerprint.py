"""Same seed, same episodes, frames and metrics as recorded before the architecture change
(tests/data/fingerprints.json, written by scripts/fingerprint.py on the pre-change code)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_prochouse_id_matches_its_recorded_fingerprint():
    result = subprocess.run(
        [sys.executable, "scripts/fingerprint.py", "--check", "tests/data/fingerprints.json"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "6 fingerprints match" in result.stdout
