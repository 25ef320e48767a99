"""The documented training example: one shared SB3 PPO policy over the parallel env through
SuperSuit (a few hundred steps: it runs, saves, loads and acts; learning is not asserted)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pettingzoo")
pytest.importorskip("supersuit")
pytest.importorskip("stable_baselines3")

from navgym.errors import InvalidArgumentError  # noqa: E402
from navgym.multiagent import parallel_env  # noqa: E402
from navgym.multiagent.training import FlattenObservations, make_vec_env, shared_policy_actions  # noqa: E402

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


def test_training_script_trains_saves_and_the_model_acts(tmp_path, capsys):
    import runpy

    import torch

    out = tmp_path / "run"
    argv = [
        "--timesteps", "256", "--agents", "2", "--n-steps", "64", "--num-scenes", "1", "--episodes-per-scene", "3", "--resolution", "16",
        "--out", str(out),
    ]
    script = runpy.run_path(str(ROOT / "scripts" / "train_multiagent_ppo.py"), run_name="train_multiagent_ppo")
    threads = torch.get_num_threads()
    try:
        script["main"](argv)  # in this process: a subprocess would import torch again
    finally:
        torch.set_num_threads(threads)
    assert (out / "model.zip").is_file()
    assert "trained 256 agent steps" in capsys.readouterr().out

    from stable_baselines3 import PPO

    model = PPO.load(out / "model.zip", device="cpu")
    par = parallel_env("ImageNav-ProcHouseNear-v0", num_agents=2, **SMALL)
    observations, _ = par.reset(seed=1)
    steps = 0
    while par.agents and steps < 20:
        actions = shared_policy_actions(model, par, observations)
        assert set(actions) == set(par.agents)
        assert all(par.action_space(a).contains(int(x)) for a, x in actions.items())
        observations, *_ = par.step({a: int(x) for a, x in actions.items()})
        steps += 1
    assert steps >= 1
