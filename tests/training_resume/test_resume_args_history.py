"""A resumed run keeps the settings of its first part where it changes them (no training here)."""

from __future__ import annotations

import json

from navgym.evaluation import write_json_atomic
from navgym.training import TrainArgs
from navgym.training.loop import _keep_superseded_args


def _history(out):
    path = out / "train_args_history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_only_real_changes_are_kept_and_json_round_trips_are_not_changes(tmp_path):
    first = TrainArgs(out=tmp_path, env_kwargs={"num_scenes": 8, "sensors": ("rgb", "depth")}, ppo_freeze="encoder", model={"n_steps": 64})
    write_json_atomic(tmp_path / "train_args.json", first.to_json())
    # the same settings read back from JSON (a tuple becomes a list), longer and with another folder name: nothing kept
    _keep_superseded_args(TrainArgs(**{**first.__dict__, "resume": True, "timesteps": 10**6, "max_minutes": 5.0, "progress": False}))
    assert _history(tmp_path) == []
    # other evaluations, checkpoints, threads and device: how it computes and reports, not what it trains: nothing kept
    _keep_superseded_args(TrainArgs(**{**first.__dict__, "resume": True, "eval_every": 123, "eval_episodes": 7,
                                       "eval_env_kwargs": {"num_scenes": 3}, "checkpoint_every": 999, "torch_threads": 2,
                                       "update_threads": 2, "env_threads": 1, "demo_workers": 2, "device": "cpu"}))
    assert _history(tmp_path) == []
    # another freeze and encoder step: the earlier settings are kept, with what changed
    _keep_superseded_args(TrainArgs(**{**first.__dict__, "resume": True, "ppo_freeze": "none", "ppo_encoder_lr_scale": 0.03}))
    (entry,) = _history(tmp_path)
    assert entry["changed"] == ["ppo_encoder_lr_scale", "ppo_freeze"] and entry["train_args"]["ppo_freeze"] == "encoder"


def test_a_setting_an_older_record_lacks_had_its_default(tmp_path):
    older = TrainArgs(out=tmp_path).to_json()
    del older["ppo_encoder_lr_scale"]  # written before the setting existed
    write_json_atomic(tmp_path / "train_args.json", older)
    _keep_superseded_args(TrainArgs(out=tmp_path, resume=True))
    assert _history(tmp_path) == []
    _keep_superseded_args(TrainArgs(out=tmp_path, resume=True, ppo_encoder_lr_scale=0.03))
    (entry,) = _history(tmp_path)
    assert entry["changed"] == ["ppo_encoder_lr_scale"] and "ppo_encoder_lr_scale" not in entry["train_args"]


def test_an_unreadable_first_record_is_kept_as_text(tmp_path):
    (tmp_path / "train_args.json").write_text("{cut off")
    _keep_superseded_args(TrainArgs(out=tmp_path, resume=True))
    assert [entry["unreadable"] for entry in _history(tmp_path)] == ["{cut off"]
    assert (tmp_path / "train_args.json").read_text() == "{cut off"  # train() writes the new one after this
