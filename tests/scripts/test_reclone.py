"""``experiments/reclone.py`` and ``TrainArgs.init_parts='encoder'``: cloning again on a finished
run's frozen encoder, the rest of the policy built fresh from the seed as the run built it."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch", reason="RSRNav needs torch (pip install navgym[rl])")
pytest.importorskip("sb3_contrib", reason="RSRNav needs sb3-contrib (pip install navgym[rl])")

from tests.scripts._experiments import load  # noqa: E402

TINY = dict(head="dense", env_id="ImageNav-ProcHouseNear-v0", n_envs=1, progress=False, seed=4, demo_workers=1, eval_episodes=0,
            timesteps=0, pretrain="bc", demos=2, bc_teacher="view", update_threads=1, torch_threads=1, bc_freeze="encoder",
            env_kwargs={"num_scenes": 1, "sim_options": {"render_backend": "raster"}},
            model={"n_steps": 16, "batch_size": 32, "n_epochs": 2, "n_lstm_layers": 1},
            pose_episodes=3, pose_views=3, pose_epochs=2, pose_val_episodes=2, pose_learning_rate=1e-3)


def _policy(path):
    from navgym.agents.rsrnav.model import read_state_dicts

    return read_state_dicts(path)["policy"]


def _epochs(run):
    return [json.loads(line) for line in (run / "pretrain.jsonl").read_text().splitlines()][-1]["bc_epochs"]


def test_reclone_reproduces_the_runs_clone_and_clones_longer(tmp_path):
    from navgym.training import train

    run = tmp_path / "posed"
    train(**TINY, out=run, bc_epochs=1)
    reclone = load("reclone")
    # The run's own cloning settings on its encoder: the very same policy, no pose training repeated.
    reclone.main(["--run", str(run), "--out", str(tmp_path / "same")])
    assert [json.loads(line)["stage"] for line in (tmp_path / "same" / "pretrain.jsonl").read_text().splitlines()] == ["bc"]
    original, again = _policy(run / "pretrain.zip"), _policy(tmp_path / "same" / "pretrain.zip")
    assert original.keys() == again.keys() and all(torch.equal(original[k], again[k]) for k in original)
    # From the committed records alone (the run folder gone): its train_args.json file and its
    # policy-only export give the same clone.
    from navgym.agents.rsrnav.model import export_policy

    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "posed_train_args.json").write_text((run / "train_args.json").read_text())
    export_policy(run / "pretrain.zip", kept / "posed.zip")
    reclone.main(["--run", str(kept / "posed_train_args.json"), "--encoder-from", str(kept / "posed.zip"), "--out", str(tmp_path / "records")])
    records = _policy(tmp_path / "records" / "pretrain.zip")
    assert all(torch.equal(original[k], records[k]) for k in original)
    with pytest.raises(SystemExit, match="train_args.json file: give --encoder-from"):
        reclone.main(["--run", str(kept / "posed_train_args.json"), "--out", str(tmp_path / "x")])
    with pytest.raises(SystemExit, match="--encoder-from .*missing.zip: no such file"):
        reclone.main(["--run", str(run), "--encoder-from", str(kept / "missing.zip"), "--out", str(tmp_path / "x")])
    with pytest.raises(SystemExit, match="--run .*nowhere: no .*give a run folder or its train_args.json file"):
        reclone.main(["--run", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")])
    # Longer: the first pass is the run's pass, then it goes on; the encoder stays the run's.
    reclone.main(["--run", str(run), "--out", str(tmp_path / "longer"), "--bc-epochs", "2"])
    assert _epochs(tmp_path / "longer")[0] == _epochs(run)[0] and len(_epochs(tmp_path / "longer")) == 2
    longer = _policy(tmp_path / "longer" / "pretrain.zip")
    assert all(torch.equal(original[k], longer[k]) for k in original if "features_extractor" in k)
    assert not torch.equal(original["lstm_actor.weight_hh_l0"], longer["lstm_actor.weight_hh_l0"])
    # init_parts='all' would start the cloning from the run's trained core instead: another policy.
    train(**{**TINY, "pose_episodes": 0}, out=tmp_path / "all", bc_epochs=1, init_from=run / "pretrain.zip")
    assert not torch.equal(original["lstm_actor.weight_hh_l0"], _policy(tmp_path / "all" / "pretrain.zip")["lstm_actor.weight_hh_l0"])
    # Demonstrations from more houses: the env's other options kept, the encoder still the run's.
    reclone.main(["--run", str(run), "--out", str(tmp_path / "houses"), "--num-scenes", "2"])
    settings = json.loads((tmp_path / "houses" / "train_args.json").read_text())
    assert settings["env_kwargs"] == {**TINY["env_kwargs"], "num_scenes": 2}
    houses = _policy(tmp_path / "houses" / "pretrain.zip")
    assert all(torch.equal(original[k], houses[k]) for k in original if "features_extractor" in k)
    # Another teacher: its own demonstrations (other labels), the encoder still the run's.
    reclone.main(["--run", str(run), "--out", str(tmp_path / "look"), "--bc-teacher", "look"])
    assert json.loads((tmp_path / "look" / "train_args.json").read_text())["bc_teacher"] == "look"
    look = _policy(tmp_path / "look" / "pretrain.zip")
    assert all(torch.equal(original[k], look[k]) for k in original if "features_extractor" in k)
    # DAgger rounds after the cloning, on the same frozen encoder: the learner's states labelled and cloned.
    reclone.main(["--run", str(run), "--out", str(tmp_path / "dagger"), "--pretrain", "dagger", "--dagger-rounds", "1",
                  "--dagger-episodes", "2", "--dagger-epochs", "1"])
    records = [json.loads(line) for line in (tmp_path / "dagger" / "pretrain.jsonl").read_text().splitlines()]
    assert [r["stage"] for r in records] == ["bc", "dagger1"] and records[1]["steps"] > records[0]["steps"]
    assert records[0]["bc_epochs"] == _epochs(run)  # the same first cloning as the run's
    dagger = _policy(tmp_path / "dagger" / "pretrain.zip")
    assert all(torch.equal(original[k], dagger[k]) for k in original if "features_extractor" in k)
    assert not torch.equal(original["lstm_actor.weight_hh_l0"], dagger["lstm_actor.weight_hh_l0"])


def test_reclone_refuses_a_run_whose_encoder_was_cloned(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "train_args.json").write_text(json.dumps({"bc_freeze": "none", "pretrain": "bc"}))
    with pytest.raises(SystemExit, match="bc_freeze='none'.*use a run with bc_freeze='encoder'"):
        load("reclone").main(["--run", str(tmp_path / "run"), "--out", str(tmp_path / "out")])


def test_init_parts_is_checked(tmp_path):
    from navgym.training import TrainArgs

    with pytest.raises(ValueError, match="init_parts='trunk' is not a part rsrnav's init_from can load; use one of \\['all', 'encoder'\\]"):
        TrainArgs(init_parts="trunk", init_from=tmp_path / "x.zip", out=tmp_path / "a")
    with pytest.raises(ValueError, match="init_parts='encoder' .*init_from=None; give init_from"):
        TrainArgs(init_parts="encoder", out=tmp_path / "b")
