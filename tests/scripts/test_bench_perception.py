"""scripts/bench_perception.py runs end to end on a short walk and writes the JSON docs/perception.md quotes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_perception_smoke_run_writes_sane_json(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "scripts/bench_perception.py", "--episodes", "1", "--steps", "20", "--pairs", "4", "--out", str(out)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "wrote" in result.stdout
    report = json.loads(out.read_text())
    assert {"command", "config", "machine", "frame_shape", "timing_ms", "quality", "episodes", "keypoints"} <= set(report)
    assert report["config"]["episodes"] == 1 and report["total_steps"] == 20
    for key in ("gt_detect", "noisy_detect", "gt_graph_update", "noisy_graph_update", "agent_policy", "env_step"):
        timing = report["timing_ms"][key]
        assert timing["n"] == 20 and 0 < timing["median"] <= timing["p95"] < 10_000, (key, timing)
    for name in ("gt_graph", "noisy_graph"):
        quality = report["quality"][name]
        assert quality["seen_instances"] > 0 and 0.0 <= quality["node_recall"] <= 1.0 and 0.0 <= quality["node_precision"] <= 1.0
        for source in ("annotations", "box_predicates"):
            for relation in ("on", "next_to", "near", "proximity"):
                r = quality["relations"][source][relation]
                assert 0 <= r["correct"] <= min(r["predicted"], r["expected"]), (name, source, relation, r)
    gt = report["quality"]["gt_graph"]
    assert gt["node_recall"] == 1.0 and gt["spurious"] == 0  # ids are authoritative: one node per seen instance
    for method in ("orb", "sift"):
        assert report["keypoints"][method]["match_ms"]["median"] > 0
    assert report["keypoints"]["frame_shape"] == report["frame_shape"]
