"""Goal-pose pretraining in a training run (``TrainArgs.pose_*``, :mod:`navgym.training.goal_pose`):
the pairs are rendered once and cached, the encoder learns on them before cloning, and cloning
with ``bc_freeze='encoder'`` keeps exactly what it learned."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="RSRNav needs torch (pip install navgym[rl])")
pytest.importorskip("sb3_contrib", reason="RSRNav needs sb3-contrib (pip install navgym[rl])")

ENV_ID = "ImageNav-ProcHouseNear-v0"
TINY_ENV = {"num_scenes": 1, "sim_options": {"render_backend": "raster"}}
TINY_MODEL = {"n_steps": 16, "batch_size": 32, "n_epochs": 2, "n_lstm_layers": 1}
COMMON = dict(head="dense", env_id=ENV_ID, n_envs=1, env_kwargs=TINY_ENV, model=TINY_MODEL, progress=False, seed=4, demo_workers=1,
              eval_episodes=0, timesteps=0, pretrain="bc", demos=2, bc_teacher="view", update_threads=1, torch_threads=1)
POSE = dict(pose_episodes=3, pose_views=3, pose_epochs=2, pose_val_episodes=2, pose_learning_rate=1e-3)


def _encoder(path):
    from navgym.agents.rsrnav.model import read_state_dicts

    state = read_state_dicts(path)["policy"]
    return {k: v for k, v in state.items() if k.startswith("features_extractor.") and v.is_floating_point()}


def _lstm(path):
    from navgym.agents.rsrnav.model import read_state_dicts

    return read_state_dicts(path)["policy"]["lstm_actor.weight_hh_l0"]


def test_pose_pretraining_trains_the_encoder_and_a_frozen_clone_keeps_it(tmp_path):
    from navgym.training import train

    plain = train(**COMMON, out=tmp_path / "plain", bc_epochs=1, bc_freeze="encoder").checkpoint
    posed = train(**COMMON, **POSE, out=tmp_path / "posed", bc_epochs=1, bc_freeze="encoder")
    records = [json.loads(line) for line in (tmp_path / "posed" / "pretrain.jsonl").read_text().splitlines()]
    assert [r["stage"] for r in records] == ["pose", "bc"]
    pose = records[0]["pose"]
    assert pose["train_pairs"] > 3 and pose["val_pairs"] > 2 and [p["pass"] for p in pose["passes"]] == [1, 2]
    assert 0.0 <= pose["passes"][-1]["bearing_median_deg"] <= 180.0 and "start_views" in pose["passes"][-1]
    assert posed.pretrain["records"][0]["stage"] == "pose"
    fresh, trained = _encoder(plain), _encoder(posed.checkpoint)
    assert fresh.keys() == trained.keys()
    assert not all(torch.equal(fresh[k], trained[k]) for k in fresh)  # the pose pretraining moved the encoder
    # More cloning on the same pose-trained encoder: the encoder is bit-identical (frozen), the core is not.
    longer = train(**COMMON, **POSE, out=tmp_path / "longer", bc_epochs=2, bc_freeze="encoder").checkpoint
    again = _encoder(longer)
    assert all(torch.equal(trained[k], again[k]) for k in trained)
    assert not torch.equal(_lstm(posed.checkpoint), _lstm(longer))


def test_pairs_are_cached_and_read_back_the_same(tmp_path):
    from navgym.training.goal_pose import cached_pairs, pairs_cache_path

    logs = []
    first = cached_pairs(ENV_ID, "train", "agent", TINY_ENV, 2, 3, seed=7, log=logs.append)
    assert len(first["goal"]) == 2 and 2 < len(first["rgb"]) <= 6 and "cached in" in logs[-1]
    second = cached_pairs(ENV_ID, "train", "agent", TINY_ENV, 2, 3, seed=7, log=logs.append)
    assert "read from" in logs[-1]
    assert all(np.array_equal(first[k], second[k]) for k in first)
    # another seed, views per goal or env is another file
    path = pairs_cache_path(ENV_ID, "train", "agent", TINY_ENV, list(first["episode_index"]), 3, 7, 3.0)
    assert path.exists()
    assert pairs_cache_path(ENV_ID, "train", "agent", TINY_ENV, list(first["episode_index"]), 4, 7, 3.0) != path
    assert pairs_cache_path(ENV_ID, "train", "agent", {**TINY_ENV, "num_scenes": 2}, list(first["episode_index"]), 3, 7, 3.0) != path
    # a damaged file is rendered again, not trusted
    path.write_bytes(b"not an npz")
    third = cached_pairs(ENV_ID, "train", "agent", TINY_ENV, 2, 3, seed=7, log=logs.append)
    assert any("cannot be read" in line for line in logs) and all(np.array_equal(first[k], third[k]) for k in first)


def test_pose_arguments_are_checked_and_passed_by_the_cli(tmp_path, train_cli):
    from navgym.training import TrainArgs

    with pytest.raises(ValueError, match="pose_episodes=5 .*pretrain=None.*pretrain='bc'"):
        TrainArgs(pose_episodes=5, out=tmp_path / "bad")
    for bad, message in ((dict(pose_views=0), "pose_views=0 must be an integer >= 1"),
                         (dict(pose_learning_rate=0.0), "pose_learning_rate=0.0 must be a positive"),
                         (dict(pose_max_minutes=-1), "pose_max_minutes=-1 must be a positive number"),
                         (dict(pose_env_kwargs="num_scenes=240"), "pose_env_kwargs='num_scenes=240' must be a dict"),
                         (dict(pose_episodes=-1), "pose_episodes=-1 must be an integer >= 0")):
        with pytest.raises(ValueError, match=message):
            TrainArgs(pretrain="bc", out=tmp_path / "bad", **bad)
    invoke, seen = train_cli
    common = ["train", "--out", str(tmp_path / "run"), "--timesteps", "64", "--no-progress", "--pretrain", "bc"]
    result = invoke([*common, "--pose-episodes", "600", "--pose-env-option", "num_scenes=240", "--pose-views", "4",
                     "--pose-max-minutes", "2.5", "--pose-val-episodes", "16", "--bc-freeze", "encoder"])
    assert result.exit_code == 130, result.output
    args = seen[-1]
    assert (args.pose_episodes, args.pose_views, args.pose_env_kwargs, args.pose_max_minutes, args.pose_val_episodes) == (600, 4, {"num_scenes": 240}, 2.5, 16)
    invoke(common)
    assert seen[-1].pose_episodes == 0 and seen[-1].pose_env_kwargs == {}
    result = invoke(["train", "--out", str(tmp_path / "run"), "--timesteps", "64", "--no-progress", "--pose-episodes", "10"])
    assert result.exit_code == 2 and "pose_episodes=10" in result.output and "pretrain=None" in result.output
