"""experiments/compare_evals.py reproduces the won / lost and sign-test numbers that
docs/results/rsrnav.md reports, from the committed episode files, and refuses runs of other episodes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _experiments import load

ROOT = Path(__file__).resolve().parents[2]
EVALS = ROOT / "docs" / "results" / "rsrnav" / "eval256"


def _script():
    return load("compare_evals")


def test_the_sampled_ppo_row_of_the_results_page():
    pytest.importorskip("scipy")
    row = _script().compare(EVALS, "ppo_e8_t2_s0_agent_sampled", "bcn_dir_s0_agent_sampled")
    assert (row.episodes, f"{row.sr:.3f} ± {row.ci95:.3f}", row.won, row.lost) == (256, "0.348 ± 0.059", 51, 25)
    assert 0.003 < row.p < 0.005 and (round(row.timeouts, 2), round(row.failed_stops, 2)) == (0.45, 0.20)
    assert "**51 / 25 (p = 0.004)**" in "\n".join((ROOT / "docs" / "results" / name).read_text() for name in ("rsrnav.md", "rsrnav_log.md"))


def test_runs_of_other_episodes_are_refused(tmp_path):
    pytest.importorskip("scipy")
    for run, ids in (("a", ["x", "y"]), ("b", ["y", "x"])):
        (tmp_path / run).mkdir()
        (tmp_path / run / "episodes.jsonl").write_text("".join(
            json.dumps({"episode_id": i, "success": 1.0, "spl": 1.0, "num_steps": 3, "truncated": False}) + "\n" for i in ids))
    script = _script()
    assert script.compare(tmp_path, "a").sr == 1.0
    with pytest.raises(SystemExit, match="different episodes"):
        script.compare(tmp_path, "a", "b")
    with pytest.raises(SystemExit, match="does not exist"):
        script.compare(tmp_path, "c")
