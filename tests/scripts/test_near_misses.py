"""experiments/near_misses.py splits an agent's episodes into successes, missed stops and never
reached, from the distance the env reports after every step, on the same episodes as `navgym evaluate`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from _experiments import load

ROOT = Path(__file__).resolve().parents[2]


def _script():
    return load("near_misses")


def test_classes_follow_the_least_distance_and_the_outcome():
    nm = _script()
    records = [
        {"episode_index": 0, "episode_id": "a", "success": 1.0, "truncated": False, "num_steps": 9, "distance_to_goal": 0.5},
        {"episode_index": 1, "episode_id": "b", "success": 0.0, "truncated": True, "num_steps": 100, "distance_to_goal": 2.0},
        {"episode_index": 2, "episode_id": "c", "success": 0.0, "truncated": False, "num_steps": 40, "distance_to_goal": 3.0},
        {"episode_index": 3, "episode_id": "d", "success": 0.0, "truncated": False, "num_steps": 12, "distance_to_goal": 1.0},
    ]
    probes = {0: {"min_distance": 0.5, "steps_in_region": 3, "first_step_in_region": 6},
              1: {"min_distance": 0.9, "steps_in_region": 2, "first_step_in_region": 50},  # passed by, timed out
              2: {"min_distance": 1.2, "steps_in_region": 0, "first_step_in_region": None},
              3: {"min_distance": 1.0, "steps_in_region": 1, "first_step_in_region": 12}}  # the radius counts as in
    out = nm.analyse(records, probes, radius=1.0)
    assert [r["class"] for r in out["episodes"]] == ["success", "missed stop", "never reached", "missed stop"]
    s = out["summary"]
    assert (s["success"], s["missed stop"], s["never reached"], s["reached"]) == (0.25, 0.5, 0.25, 0.75)
    assert (s["missed stop, timed out"], s["never reached, timed out"]) == (0.25, 0.0)


def test_a_real_run_agrees_with_the_envs_measures(tmp_path):
    nm = _script()
    out = tmp_path / "nm.json"
    analysis = nm.main(["--env", "ImageNav-ProcHouseNear-v0", "--agent", "oracle", "--episodes", "3",
                        "--env-option", "num_scenes=1", "--no-progress", "--out", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(analysis))
    rows = analysis["episodes"]
    assert [r["episode_index"] for r in rows] == [0, 1, 2]
    for r in rows:
        assert math.isfinite(r["min_distance"]) and r["min_distance"] <= r["final_distance"] + 1e-9
        # the shortest-path follower stops on the goal: every episode a success, inside the region when it stopped
        assert r["class"] == "success" and r["min_distance"] <= 1.0 and r["steps_in_region"] >= 1
    assert analysis["summary"]["success"] == 1.0 and analysis["summary"]["never reached"] == 0.0


def test_options_are_read_as_the_cli_reads_them():
    from navgym.core.options import key_values

    assert key_values(["num_scenes=40", "sim_options={\"render_backend\": \"raster\"}", "name=a=b"]) == {
        "num_scenes": 40, "sim_options": {"render_backend": "raster"}, "name": "a=b"}
    with pytest.raises(SystemExit, match="'num_scenes' is not key=value \\(--env-option takes key=value"):
        _script().main(["--env", "ImageNav-ProcHouseNear-v0", "--env-option", "num_scenes", "--episodes", "1"])


def test_a_missing_checkpoint_is_named():
    with pytest.raises(SystemExit, match="--checkpoint nowhere.zip is not a file"):
        _script().main(["--env", "ImageNav-ProcHouseNear-v0", "--checkpoint", "nowhere.zip", "--episodes", "1"])


#: the committed analyses (docs/results/rsrnav/near_misses/) and the 256-episode evaluation of the same
#: policy, episodes and seed (docs/results/rsrnav/eval256/): the same episodes, the same successes.
ANALYSED = {
    "near_random": "random_agent",
    "near_bcn_near_direction_l1_view": "bcn_dir_s0_agent",
    "near_ppo_e8_t2_s0": "ppo_e8_t2_s0_agent",
    "near_ppo_e8_t2_s0_sampled": "ppo_e8_t2_s0_agent_sampled",
    "near_bc_near_dense_l1_view": "bc_dense_s0_agent",
    "near_ppo_e8_t2_dense_s0": "ppo_e8_t2_dense_s0_agent",
    "easy_random": "easy_random_agent",
    "easy_bcn_near_direction_l1_view": "easy_bcn_dir_s0_agent",
    "easy_ppo_e8_t2_direction_easy_s1": "easy_ppo_e8_t2_direction_easy_s1_agent",
    "easy_ppo_e8_t2_direction_easy_s1_sampled": "easy_ppo_e8_t2_direction_easy_s1_agent_sampled",
    "default_ppo_e8_t2_direction_default_s0": "default_ppo_e8_t2_direction_default_s0_agent",
}


@pytest.mark.parametrize("name", sorted(ANALYSED))
def test_a_committed_analysis_matches_its_evaluation(name):
    analysis = json.loads((ROOT / "docs" / "results" / "rsrnav" / "near_misses" / f"{name}.json").read_text())
    folder = ROOT / "docs" / "results" / "rsrnav" / "eval256" / ANALYSED[name]
    records = [json.loads(line) for line in (folder / "episodes.jsonl").read_text().splitlines() if line.strip()]
    meta = json.loads((folder / "run.json").read_text())
    assert analysis["run"]["env_id"] == meta["env_id"] and analysis["run"]["seed"] == meta["seed"]
    assert analysis["run"]["agent_options"].get("deterministic", True) == meta["agent_options"].get("deterministic", True)
    rows = analysis["episodes"]
    assert [r["episode_id"] for r in rows] == [r["episode_id"] for r in records]
    assert [r["success"] for r in rows] == [r["success"] for r in records]
    assert [r["final_distance"] for r in rows] == pytest.approx([r["distance_to_goal"] for r in records], abs=1e-6)


def test_the_table_the_results_page_shows():
    files = [ROOT / "docs" / "results" / "rsrnav" / "near_misses" / f"{n}.json" for n in ANALYSED]
    text = _script().table(files)
    page = "\n".join((ROOT / "docs" / "results" / name).read_text() for name in ("rsrnav.md", "rsrnav_log.md"))
    for line in text.splitlines()[2:]:
        assert line in page, line
