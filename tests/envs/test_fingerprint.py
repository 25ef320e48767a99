"""Same seed, same episodes, frames and metrics as recorded by known-good code
(tests/data/fingerprints.json, written by scripts/fingerprint.py).

History: first written on the code before the architecture change; rewritten on 2026-12-01 by the
code of commit cdf6f5a (which had matched the old file) because on that day's machine and package
versions cdf6f5a itself no longer matched it (episode hashes and frame statistics differ: package or
CPU drift; trimesh<5, pillow<13, embreex 2.17, gymnasium 1.3 and numpy 2.3 were each ruled out alone).
MultiGoalVLN-ProcHouse-v0's entry was added later the same day, from the task's first code (the
script's random actions skip its `found`, drawing exactly what they drew before for the other ids).
The PointNav ids' entries (PointNav-ProcHouse-v0, -ProcHouseHard-v0, -ProcHouseSmall-v0) were added
on 2026-12-02 from the task's first code (`scripts/fingerprint.py --write ... --ids ...`, merged in).
On 2026-12-02 a machine with AVX-512 gave other episode-list hashes for 6 ids with the code of
13343e3 too (their runs' metrics and frame statistics still within tolerance); since then
``--check`` accepts an id whose episode hash differs when both runs agree within tolerance (see
the script's docstring), rather than the file being rewritten again.
The six ProcHouseHard ids' entries were recorded again on 2026-12-02 with ProcHouseHard generator
version 2 (L-shaped flights, narrow doors) and the 6-30 m filter (HARD_GENERATION_VERSION 2):
intended changes of those ids' buildings and episodes (`--write ... --ids ...`, merged in).
Environment code must keep matching it bit for bit or within the frame tolerance."""

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
    assert "15 fingerprints match" in result.stdout  # 9 ProcHouse ids, 6 ProcHouseHard ids


def test_the_tolerant_comparison_accepts_last_bit_noise_and_rejects_real_changes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("fingerprint", ROOT / "scripts" / "fingerprint.py")
    fingerprint = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fingerprint)
    stats = [{"rgb": 101.23456, "depth": 2.5, "semantic": 0.8}]
    assert fingerprint._close(stats, [{"rgb": 101.24, "depth": 2.5004, "semantic": 0.8005}])
    assert not fingerprint._close(stats, [{"rgb": 101.5, "depth": 2.5, "semantic": 0.8}])  # a visible change
    assert not fingerprint._close(stats, [{"rgb": 101.23456, "depth": 2.51, "semantic": 0.8}])
    assert not fingerprint._close([{"success": 1.0, "spl": 0.5}], [{"success": 0.0, "spl": 0.5}])
