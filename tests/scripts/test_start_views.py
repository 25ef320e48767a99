"""experiments/start_views.py sorts an evaluation's episodes by what the agent's first view shows
of the goal photo, from the env's own start states."""

from __future__ import annotations

import json
import math

import gymnasium as gym
import pytest
from _experiments import load

import navgym  # noqa: F401
from navgym.agents import make
from navgym.evaluation import evaluate
from navgym.wrappers import PrivilegedObservation


def _script():
    return load("start_views")


def test_the_split_counts_each_episode_once_per_grouping():
    sv = _script()
    starts = {0: {"photo": "ahead", "goal": "in view"}, 1: {"photo": "ahead", "goal": "out of view"},
              2: {"photo": "behind", "goal": "out of view"}}
    records = [{"episode_index": 0, "success": 1.0}, {"episode_index": 1, "success": 0.0}, {"episode_index": 2, "success": 1.0}]
    out = sv.split(records, starts)
    assert out["all"] == {"success": pytest.approx(2 / 3), "episodes": 3}
    skipped = sv.split(records + [{"episode_index": 3, "skipped": "starts 2.00 m off the navigable area"}], starts)
    assert skipped["all"] == {"success": pytest.approx(2 / 3), "episodes": 3, "skipped": 1}  # counted apart
    assert out["ahead"] == {"success": 0.5, "episodes": 2} and out["behind"] == {"success": 1.0, "episodes": 1}
    assert "side" not in out and out["ahead / in view"]["episodes"] == 1
    assert "| run | all | ahead | behind |" in sv.table({"r": out}).splitlines()[0]


def test_real_evaluations_are_sorted_by_their_start_states(tmp_path):
    sv = _script()
    folders = []
    for name in ("oracle", "random"):
        env = gym.make("ImageNav-ProcHouseNear-v0", num_scenes=1)
        env = PrivilegedObservation(env) if name == "oracle" else env
        evaluate(env, make(name, env), episodes=4, out=tmp_path / name, progress=False, run_info={"agent": name})
        env.close()
        folders.append(tmp_path / name)
    out = sv.main([str(f) for f in folders] + ["--out", str(tmp_path / "sv.json")])
    assert json.loads((tmp_path / "sv.json").read_text()) == json.loads(json.dumps(out))
    starts = out["starts"]
    assert len(starts) == 4
    for s in starts.values():
        offset, bearing = abs(s["photo_offset_deg"]), abs(s["goal_bearing_deg"])
        assert s["photo"] == ("ahead" if offset <= 45 else "side" if offset <= 135 else "behind")
        assert s["goal"] == ("in view" if bearing <= 45 else "out of view")
        assert 0 <= offset <= 180 and math.isfinite(bearing)
    oracle = out["results"]["oracle"]
    assert oracle["all"] == {"success": 1.0, "episodes": 4}  # the shortest-path follower succeeds everywhere
    assert sum(v["episodes"] for k, v in oracle.items() if k in sv.PHOTO) == 4
    # the random agent's episodes are the same ones, its successes its own
    summary = [json.loads(line) for line in (tmp_path / "random" / "episodes.jsonl").read_text().splitlines()]
    assert out["results"]["random"]["all"]["success"] == pytest.approx(sum(r["success"] for r in summary) / 4)


def test_runs_of_different_envs_are_refused(tmp_path):
    sv = _script()
    for name, env_id in (("near", "ImageNav-ProcHouseNear-v0"), ("easy", "ImageNav-ProcHouseEasy-v0")):
        env = gym.make(env_id, num_scenes=1)
        evaluate(env, make("random", env), episodes=1, out=tmp_path / name, progress=False)
        env.close()
    with pytest.raises(SystemExit, match="different envs"):
        sv.main([str(tmp_path / "near"), str(tmp_path / "easy")])
    with pytest.raises(SystemExit, match="not a navgym evaluate folder"):
        sv.main([str(tmp_path)])
