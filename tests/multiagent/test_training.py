"""The documented training example: one shared SB3 PPO policy over the parallel env through
SuperSuit (a few hundred steps: it runs, saves, loads and acts; learning is not asserted)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pettingzoo")
pytest.importorskip("supersuit")
pytest.importorskip("stable_baselines3")

from navgym.errors import InvalidArgumentError  # noqa: E402
from navgym.multiagent import parallel_env  # noqa: E402
from navgym.multiagent.training import FlattenObservations, load_shared_policy, make_vec_env, shared_policy_actions  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SMALL = dict(num_scenes=1, episodes_per_scene=3, resolution=16)


def test_vec_env_has_one_slot_per_agent_and_survives_finished_agents():
    par = parallel_env("ImageNav-ProcHouseNear-v0", num_agents=3, max_episode_steps=5, **SMALL)
    vec = make_vec_env(par)
    assert vec.num_envs == 3
    obs = vec.reset()
    assert obs.shape == (3, 16 * 16 * 3 * 2) and obs.dtype == np.float32
    dones_seen = 0
    for _ in range(30):  # several episodes: agents stop (action 0) or time out, the env restarts
        obs, rewards, dones, infos = vec.step(np.array([0, 1, 2]))
        dones_seen += int(dones.all())
        assert obs.shape == (3, 1536) and np.isfinite(rewards).all()
    assert dones_seen >= 2
    vec.close()


def test_text_goals_cannot_be_flattened_and_the_error_says_which_sensor():
    par = parallel_env("TextNav-ProcHouse-v0", num_agents=2, **SMALL)
    with pytest.raises(InvalidArgumentError, match="textgoal_category"):
        FlattenObservations(par)


@pytest.mark.parametrize("given, used", [({}, "train"), ({"split": "val"}, "val")])
def test_shared_ppo_trains_on_the_train_split_unless_told(monkeypatch, tmp_path, given, used):
    """gym.make's default split is val (for evaluation); old code trained the shared policy there."""
    import navgym.multiagent
    from navgym.multiagent.training import train_shared_ppo

    seen = {}

    class Built(Exception):
        pass

    def fake_parallel_env(env_ids, num_agents, **kwargs):
        seen.update(kwargs)
        raise Built

    monkeypatch.setattr(navgym.multiagent, "parallel_env", fake_parallel_env)
    with pytest.raises(Built):
        train_shared_ppo("ImageNav-ProcHouseNear-v0", 2, timesteps=64, out=tmp_path, **SMALL, **given)
    assert seen["split"] == used and seen["resolution"] == 16


def test_training_script_trains_saves_and_the_model_acts(tmp_path, capsys):
    import runpy

    import torch

    out = tmp_path / "run"
    argv = [
        "--timesteps", "256", "--agents", "2", "--n-steps", "64", "--num-scenes", "1", "--episodes-per-scene", "3", "--resolution", "16",
        "--split", "val", "--out", str(out),  # val: its first house hosts 3 Near episodes, the train split's does not
    ]
    script = runpy.run_path(str(ROOT / "scripts" / "train_multiagent_ppo.py"), run_name="train_multiagent_ppo")
    threads = torch.get_num_threads()
    try:
        script["main"](argv)  # in this process: a subprocess would import torch again
    finally:
        torch.set_num_threads(threads)
    assert (out / "model.zip").is_file()
    assert "trained 256 agent steps" in capsys.readouterr().out
    # TensorBoard in the run folder (the [rl] extra has it), with the rollout's scalars
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (tb,) = (out / "tb").iterdir()
    assert tb.name == "shared_ppo_1"
    scalars = EventAccumulator(str(tb)).Reload().Tags()["scalars"]
    assert "train/value_loss" in scalars and "time/fps" in scalars

    par = parallel_env("ImageNav-ProcHouseNear-v0", num_agents=2, **SMALL)
    model = load_shared_policy(out / "model.zip", par)  # as docs/multiagent.md loads it: weights only
    observations, _ = par.reset(seed=1)
    steps = 0
    while par.agents and steps < 20:
        actions = shared_policy_actions(model, par, observations)
        assert set(actions) == set(par.agents)
        assert all(par.action_space(a).contains(int(x)) for a, x in actions.items())
        observations, *_ = par.step({a: int(x) for a, x in actions.items()})
        steps += 1
    assert steps >= 1


@pytest.mark.parametrize("team, what", [
    (dict(embodiments=["habitat", "jetbot"]), "have different actions: habitat_0 Discrete(4), jetbot_1 Box"),
    (dict(env_ids=["ImageNav-ProcHouseNear-v0", "PointNav-ProcHouseSmall-v0"]), "observe different things"),
])
def test_a_team_one_policy_cannot_drive_is_refused_naming_the_agents_and_the_fix(team, what):
    """SuperSuit's own check is an AssertionError that suggests padding (which cannot turn a
    Discrete action into a Box one)."""
    par = parallel_env(**{"env_ids": "ImageNav-ProcHouseNear-v0", "num_agents": 2, **SMALL, **team})
    with pytest.raises(InvalidArgumentError, match=re.escape(what)) as error:
        make_vec_env(par)
    assert "give all agents one embodiment" in str(error.value) and "evaluate_team" in str(error.value)


def test_the_shared_policy_loads_without_unpickling_and_equals_sb3s_weights_only_load(tmp_path, monkeypatch):
    import pickle

    import cloudpickle
    import torch
    from stable_baselines3 import PPO

    from navgym.multiagent.training import train_shared_ppo

    threads = torch.get_num_threads()
    try:
        result = train_shared_ppo("ImageNav-ProcHouseNear-v0", 2, timesteps=128, out=tmp_path / "run", ppo_kwargs={"n_steps": 64}, split="val", **SMALL)
    finally:
        torch.set_num_threads(threads)
    par = parallel_env("ImageNav-ProcHouseNear-v0", num_agents=2, **SMALL)
    reference = PPO("MlpPolicy", make_vec_env(parallel_env("ImageNav-ProcHouseNear-v0", num_agents=2, **SMALL)), device="cpu")
    reference.set_parameters(str(result.model_path), device="cpu")  # SB3's weights-only path

    def refuse(*args, **kwargs):
        raise AssertionError("unpickled while loading")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(cloudpickle, "loads", refuse)
    policy = load_shared_policy(result.model_path, par)
    monkeypatch.undo()
    expected = reference.policy.state_dict()
    assert policy.state_dict().keys() == expected.keys()
    assert all(torch.equal(policy.state_dict()[k], expected[k]) for k in expected)
    observations, _ = par.reset(seed=2)
    assert shared_policy_actions(policy, par, observations) == shared_policy_actions(reference, par, observations)

    other = parallel_env("ImageNav-ProcHouseNear-v0", num_agents=2, **{**SMALL, "resolution": 32})
    with pytest.raises(InvalidArgumentError, match=r"does not fit this env's agents \(6144 flattened observation numbers"):
        load_shared_policy(result.model_path, other)


def test_docs_loading_example_runs(tmp_path, monkeypatch):
    """docs/multiagent.md's loading block, on a model the documented trainer wrote (one house)."""
    import torch

    from navgym.multiagent.training import train_shared_ppo

    doc = (ROOT / "docs" / "multiagent.md").read_text()
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", doc, flags=re.S) if "load_shared_policy(" in b]
    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    try:
        train_shared_ppo("ImageNav-ProcHouseNear-v0", 2, timesteps=128, out="runs/multiagent_ppo", resolution=32, num_scenes=1,
                         episodes_per_scene=3, ppo_kwargs={"n_steps": 64}, split="val")
    finally:
        torch.set_num_threads(threads)
    assert "resolution=32)  # as trained" in block
    namespace = {"__name__": "docs_example"}
    exec(compile(block.replace("resolution=32)", "resolution=32, num_scenes=1, episodes_per_scene=3)"), "multiagent.md", "exec"), namespace)
    assert namespace["par"].agents == [] and set(namespace["infos"]) <= {"habitat_0", "habitat_1"}


def test_a_policy_trained_with_gsde_loads_as_trained(tmp_path):
    """PPO passes use_sde (stored in the zip's data entry) to the policy beside policy_kwargs;
    load_shared_policy left it out and refused such a model as trained on 'other agents'."""
    import torch

    from navgym.multiagent.training import train_shared_ppo

    small = dict(resolution=16, num_scenes=1, max_episode_steps=10, embodiments="jetbot")
    threads = torch.get_num_threads()
    try:
        result = train_shared_ppo("ImageNav-ProcHouseNear-v0", 2, timesteps=64, out=tmp_path / "run",
                                  ppo_kwargs={"n_steps": 32, "batch_size": 32, "use_sde": True}, **small)
    finally:
        torch.set_num_threads(threads)
    policy = load_shared_policy(result.model_path, parallel_env("ImageNav-ProcHouseNear-v0", num_agents=2, **small))
    assert policy.use_sde and "log_std" in policy.state_dict()


def test_training_script_takes_sensors_and_body_and_refuses_text_in_one_line(tmp_path, capsys):
    import runpy

    import torch

    script = runpy.run_path(str(ROOT / "scripts" / "train_multiagent_ppo.py"), run_name="train_multiagent_ppo")
    common = ["--env", "SemanticNav-ProcHouse-v0", "--agents", "2", "--timesteps", "128", "--n-steps", "64", "--num-scenes", "1",
              "--resolution", "16", "--split", "val", "--out", str(tmp_path / "run")]
    threads = torch.get_num_threads()
    try:
        with pytest.raises(SystemExit) as exited:  # SemanticNav's default sensors hold the Text prompt
            script["main"](common)
        assert exited.value.code == 2
        assert "error: sensors ['prompt_text']" in capsys.readouterr().err and not (tmp_path / "run" / "model.zip").exists()
        script["main"]([*common, "--sensors", "rgb,prompt_image", "--embodiment", "h1"])
    finally:
        torch.set_num_threads(threads)
    assert "trained 128 agent steps" in capsys.readouterr().out
    par = parallel_env("SemanticNav-ProcHouse-v0", num_agents=2, sensors=("rgb", "prompt_image"), embodiments="h1", split="val",
                       num_scenes=1, resolution=16)
    assert par.possible_agents == ["h1_0", "h1_1"]
    load_shared_policy(tmp_path / "run" / "model.zip", par)  # trained on the sensors and body asked for


def test_without_tensorboard_training_leaves_no_folder_in_the_temp_dir(tmp_path, monkeypatch):
    """SB3 makes an SB3-<date> folder in the system temp folder for every learn() without a
    TensorBoard folder; train_shared_ppo gives it a logger of its own instead."""
    import tempfile

    import torch
    from stable_baselines3.common import utils as sb3_utils

    from navgym.multiagent.training import train_shared_ppo

    monkeypatch.setattr(sb3_utils, "SummaryWriter", None)  # as without the tensorboard package
    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    threads = torch.get_num_threads()
    try:
        result = train_shared_ppo("ImageNav-ProcHouseNear-v0", 2, timesteps=128, out=tmp_path / "run", ppo_kwargs={"n_steps": 64},
                                  split="val", **SMALL)
    finally:
        torch.set_num_threads(threads)
    assert result.model_path.is_file() and not (tmp_path / "run" / "tb").exists()
    assert list(temp.glob("SB3-*")) == []
