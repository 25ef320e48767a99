"""experiments/goal_pose_probe.py labels (view, goal photo) pairs with where the goal is and fits a
probe on an RSRNav encoder's features; the committed scores are the ones its JSON files hold."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from _experiments import load

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINT = ROOT / "docs" / "results" / "rsrnav" / "checkpoints" / "bcn_near_direction_l1_view.zip"
RESULTS = ROOT / "docs" / "results" / "rsrnav" / "goal_pose_probe"


def _script():
    return load("goal_pose_probe")


def test_labels_follow_navgyms_frame():
    from navgym.core.specs import AgentState

    probe = _script()
    state = AgentState.from_yaw([0.0, 0.0, 0.0], 0.0)  # yaw 0 faces -z; left is -x
    ahead = probe.goal_label(state, [0.0, 0.0, -2.0], 0.0, 2.5)
    assert ahead == pytest.approx([2.0, 0.0, 1.0, 0.0, 1.0, 2.5], abs=1e-9)
    left = probe.goal_label(state, [-1.0, 0.0, 0.0], math.pi / 2, 1.0)
    assert left[:5] == pytest.approx([1.0, 1.0, 0.0, 1.0, 0.0], abs=1e-9)
    turned = probe.goal_label(AgentState.from_yaw([0.0, 0.0, 0.0], math.pi / 2), [-1.0, 0.0, 0.0], None, 1.0)
    assert turned[:5] == pytest.approx([1.0, 0.0, 1.0, 0.0, 1.0], abs=1e-9)  # turned left: the goal is ahead


def test_scores_are_zero_for_the_truth_and_large_for_the_opposite():
    probe = _script()
    labels = np.array([[1.0, 0.0, 1.0, 1.0, 0.0, 1.2], [2.0, 1.0, 0.0, 0.0, -1.0, 2.0]], np.float32)
    perfect = probe.score(probe.targets(labels), labels)
    assert perfect["bearing_median_deg"] == pytest.approx(0.0, abs=1e-4) and perfect["distance_mae_m"] == pytest.approx(0.0, abs=1e-6)
    assert perfect["bearing_within_30"] == perfect["bearing_within_45"] == 1.0
    opposite = probe.targets(labels)
    opposite[:, 1:5] *= -1
    worst = probe.score(opposite, labels)
    assert worst["bearing_median_deg"] == pytest.approx(180.0, abs=1e-3) and worst["heading_median_deg"] == pytest.approx(180.0, abs=1e-3)
    assert worst["bearing_within_45"] == 0.0


@pytest.fixture(scope="module")
def pairs():
    import gymnasium as gym

    import navgym  # noqa: F401

    probe = _script()
    env = gym.make("ImageNav-ProcHouseNear-v0", split="train", num_scenes=1, sim_options={"render_backend": "raster"})
    out = probe.collect_pairs(env, [0, 1], per_goal=4, seed=0, max_distance=2.5)
    return env, out


def test_pairs_start_from_the_episodes_start_and_stay_near_the_goal(pairs):
    env, out = pairs
    assert out["rgb"].shape[1:] == (128, 128, 3) and out["goal"].shape[0] == 2 and len(out["labels"]) == len(out["rgb"])
    assert list(out["episode_index"]) == [0, 1]
    for episode in (0, 1):
        rows = np.flatnonzero(out["goal_index"] == episode)
        assert 1 < len(rows) <= 4
        obs, info = env.reset(options={"episode_index": episode})
        assert np.array_equal(out["rgb"][rows[0]], obs["rgb"])  # the first view is the start's
        assert np.array_equal(out["goal"][episode], obs["imagegoal"])
        assert out["labels"][rows[0], 5] == pytest.approx(info["distance_to_goal"], abs=1e-4)
        assert (out["labels"][rows[1:], 5] <= 2.5 + 1e-6).all()
    assert np.allclose(out["labels"][:, 1] ** 2 + out["labels"][:, 2] ** 2, 1.0, atol=1e-5)
    assert (out["labels"][:, 0] <= out["labels"][:, 5] + 1e-4).all()  # a straight line is never longer than the path


def test_a_trained_probe_lowers_its_loss_and_reports_every_pass(pairs):
    import torch

    probe = _script()
    torch.set_num_threads(1)
    _, out = pairs
    result = probe.train_probe(out, out, str(CHECKPOINT), freeze=True, epochs=3, learning_rate=1e-2, batch=4, log=lambda _: None)
    losses = [p["train_loss"] for p in result["passes"]]
    assert [p["pass"] for p in result["passes"]] == [1, 2, 3] and losses[-1] < losses[0]
    assert result["train_pairs"] == result["val_pairs"] == len(out["rgb"])
    assert set(result["constant"]) == set(result["passes"][0]) - {"pass", "batches", "train_loss", "minutes", "cpu_minutes", "start_views"}
    assert set(result["passes"][0]["start_views"]) == set(result["constant_start_views"]) == set(result["constant"])


def test_a_trained_encoder_is_saved_as_a_policy_that_loads(pairs, tmp_path):
    import torch

    from navgym.agents.rsrnav.model import load_policy, read_checkpoint_meta

    probe = _script()
    torch.set_num_threads(1)
    _, out = pairs
    saved = tmp_path / "posed.zip"
    probe.train_probe(out, out, str(CHECKPOINT), freeze=False, epochs=1, learning_rate=1e-3, batch=4, save_policy=str(saved), log=lambda _: None)
    before, after = load_policy(CHECKPOINT)[0].state_dict(), load_policy(saved)[0].state_dict()
    assert before.keys() == after.keys()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith(("features_extractor.", "pi_features_extractor.", "vf_features_extractor.")) for k in changed)
    meta = read_checkpoint_meta(saved)
    assert meta["policy_only"] and meta["goal_pose_probe"]["passes"] == 1 and meta["config"] == read_checkpoint_meta(CHECKPOINT)["config"]
    # from fresh weights: the rest of the saved policy is a new run's, not the checkpoint's
    fresh = tmp_path / "fresh.zip"
    probe.train_probe(out, out, str(CHECKPOINT), freeze=False, epochs=1, batch=4, reinit=True, save_policy=str(fresh), log=lambda _: None)
    after = load_policy(fresh)[0].state_dict()
    new_run = probe.fresh_policy(str(CHECKPOINT), seed=0).state_dict()
    assert all(torch.equal(after[k], new_run[k]) for k in after if not k.split(".")[0].endswith("features_extractor"))
    assert not torch.equal(after["action_net.weight"], before["action_net.weight"])


def test_the_command_line_refuses_more_episodes_than_the_split_has(tmp_path, capsys):
    probe = _script()
    with pytest.raises(SystemExit):
        probe.main(["pairs", "--split", "val", "--episodes", "100000", "--env-option", "num_scenes=1", "--out", str(tmp_path / "p.npz")])
    assert "--episodes=100000 is more than" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        probe.main(["train", "--train", "a", "--val", "b", "--checkpoint", "c", "--epochs", "0", "--out", "x"])
    assert "--epochs=0 must be at least 1" in capsys.readouterr().err


def test_committed_results_hold_their_settings_and_beat_chance_as_the_page_says():
    files = sorted(RESULTS.glob("*.json"))
    assert files, "no committed probe results"
    page = "\n".join((ROOT / "docs" / "results" / name).read_text() for name in ("rsrnav.md", "rsrnav_log.md"))
    for path in files:
        result = json.loads(path.read_text())
        last = result["passes"][-1]
        assert result["settings"]["checkpoint"] and result["train_pairs"] > 0
        # the page quotes each run's last pass: bearing median and share within 45 degrees
        assert f"{last['bearing_median_deg']:.0f}°" in page and f"{last['bearing_within_45']:.2f}" in page, path.name


def test_the_table_has_chance_and_one_row_per_result():
    probe = _script()
    files = sorted(str(p) for p in RESULTS.glob("*.json"))
    lines = probe.table(files).splitlines()
    assert len(lines) == 2 + 1 + len(files) and lines[2].startswith("| chance")
    assert all(f"| {Path(f).stem} |" in "\n".join(lines) for f in files)
