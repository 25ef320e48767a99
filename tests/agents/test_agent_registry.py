"""The agent interface: make() by name, the SB3 adapter, the oracle's privileged requirement."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import navgym
from navgym.agents import SB3Agent, make
from navgym.evaluation import evaluate


def test_make_unknown_agent_suggests_the_closest_name():
    with pytest.raises(ValueError, match="Did you mean 'frontier'"):
        make("fronteir")


@pytest.mark.parametrize(("name", "option", "suggested", "listed"), [
    ("vlfm", "initial_spn", "initial_spin", "max_objects"),  # an option of a base class (FrontierAgent) is listed too
    ("random", "stop_prob", "stop_probability", "seed"),
    ("rsrnav", "checkpont", "checkpoint", "deterministic"),  # a factory function
])
def test_an_option_an_agent_does_not_take_names_the_agent_and_its_options(name, option, suggested, listed):
    """Python's TypeError named a base class's __init__ ("FrontierAgent.__init__() got an
    unexpected keyword argument"), even for vlfm; now the agent, the option and what it takes."""
    from navgym.agents.registry import agent_options
    from navgym.errors import InvalidArgumentError

    env = gym.make("ObjectNav-ProcHouse-v0", num_scenes=1, episodes_per_scene=1)
    with pytest.raises(InvalidArgumentError, match=rf"agent '{name}' takes no option {option}=1; did you mean {suggested}\b.*Its options: .*{listed}"):
        make(name, env=env, **{option: 1})
    from navgym.agents.registry import AGENTS

    assert "env" not in agent_options(AGENTS.get(name)) and suggested in agent_options(AGENTS.get(name))


def test_oracle_refuses_to_run_without_the_privileged_wrapper():
    env = gym.make("ImageNav-ProcHouse-v0", num_scenes=1, episodes_per_scene=1)
    obs, _ = env.reset(seed=0)
    with pytest.raises(KeyError, match="PrivilegedObservation"):
        make("oracle", env=env).policy(obs)


@pytest.mark.parametrize("recurrent", [False, True])
def test_a_stable_baselines3_model_acts_as_an_agent(recurrent):
    pytest.importorskip("stable_baselines3")
    env = gym.make("ImageNav-ProcHouse-v0", num_scenes=1, episodes_per_scene=2, resolution=64, max_episode_steps=15)
    if recurrent:
        sb3_contrib = pytest.importorskip("sb3_contrib")
        model = sb3_contrib.RecurrentPPO("MultiInputLstmPolicy", env, n_steps=16, seed=0)
    else:
        from stable_baselines3 import PPO

        model = PPO("MultiInputPolicy", env, n_steps=16, seed=0)
    agent = SB3Agent(model)
    result = evaluate(env, agent, episodes=2, progress=False)
    assert [r["episode_index"] for r in result.records] == [0, 1]
    assert all(1 <= r["num_steps"] <= 15 for r in result.records)


def test_rsrnav_without_the_rl_extra_names_it(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("torch", "sb3_contrib") else real(name, *a))
    from navgym.agents import make

    with pytest.raises(gym.error.DependencyNotInstalled, match=r"navgym\[rl\]"):
        make("rsrnav", checkpoint="runs/x/checkpoint.zip")
    from navgym.training import TrainArgs  # what `navgym train` builds first

    with pytest.raises(gym.error.DependencyNotInstalled, match=r"navgym\[rl\]"):
        TrainArgs(out="runs/x")


def test_a_stable_baselines3_model_with_box_actions_acts_as_an_agent():
    """SB3Agent.policy cast every action to int: a velocity-commanded body's Box action
    (Jetbot, H1, Aliengo, unicycle) failed with 'can only convert an array of size 1'."""
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import PPO

    env = gym.make("PointNav-ProcHouse-v0", embodiment="unicycle", num_scenes=1, episodes_per_scene=2, resolution=40, max_episode_steps=5)
    model = PPO("MultiInputPolicy", env, n_steps=16, batch_size=16, seed=0, device="cpu")
    agent = SB3Agent(model)
    obs, _ = env.reset(seed=0)
    agent.reset()
    action = agent.policy(obs)
    assert action.shape == env.action_space.shape and env.action_space.contains(action.astype(env.action_space.dtype))
    result = evaluate(env, agent, episodes=2, progress=False)
    assert [r["num_steps"] for r in result.records] and all(1 <= r["num_steps"] <= 5 for r in result.records)


def test_sb3_agent_returns_an_int_for_discrete_and_an_array_for_box_actions():
    import numpy as np
    from gymnasium import spaces

    class Model:
        def __init__(self, space, action):
            self.action_space, self.action = space, action

        def predict(self, obs, state=None, episode_start=None, deterministic=True):
            return self.action, state

    discrete = SB3Agent(Model(spaces.Discrete(4), np.array(2))).policy({})
    assert discrete == 2 and type(discrete) is int
    box = SB3Agent(Model(spaces.Box(-1, 1, (3,)), np.array([0.1, -0.2, 0.0], np.float32))).policy({})
    assert isinstance(box, np.ndarray) and box.shape == (3,) and np.allclose(box, [0.1, -0.2, 0.0])


def test_sb3_agent_keeps_torchs_global_generator_and_reproduces_sampled_episodes():
    """A seeded reset drives the agent's own generator state: torch's global generator (a
    training run's, when an evaluation runs inside it) is untouched, and the same seeds give the
    same sampled actions."""
    pytest.importorskip("stable_baselines3")
    import torch
    from stable_baselines3 import PPO

    env = gym.make("ImageNav-ProcHouse-v0", num_scenes=1, episodes_per_scene=2, resolution=64, max_episode_steps=8)
    model = PPO("MultiInputPolicy", env, n_steps=16, seed=0)
    obs, _ = env.reset(seed=0)

    def actions(agent):
        agent.reset(seed=5)
        return [agent.policy(obs) for _ in range(20)]

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = actions(SB3Agent(model, deterministic=False))
    assert torch.equal(torch.rand(3), expected)
    assert actions(SB3Agent(model, deterministic=False)) == first and len(set(first)) > 1
    env.close()


def test_sb3_agent_uses_vecnormalize_statistics_and_explains_a_frame_stack_mismatch():
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecFrameStack, VecNormalize

    from navgym.errors import InvalidArgumentError

    kwargs = dict(num_scenes=1, episodes_per_scene=2, resolution=48, max_episode_steps=8, sensors=("depth", "pointgoal_with_gps_compass"))
    venv = VecNormalize(make_vec_env("PointNav-ProcHouse-v0", n_envs=1, env_kwargs=kwargs), norm_reward=False)
    model = PPO("MultiInputPolicy", venv, n_steps=16, batch_size=16, n_epochs=1, seed=0).learn(32)
    seen = []

    class Recording:
        def normalize_obs(self, obs):
            seen.append(obs)
            return venv.normalize_obs(obs)

    env = gym.make("PointNav-ProcHouse-v0", **kwargs)
    result = evaluate(env, SB3Agent(model, vec_normalize=Recording()), episodes=1, progress=False)
    assert result.records[0]["num_steps"] >= 1 and len(seen) == result.records[0]["num_steps"]
    with pytest.raises(InvalidArgumentError, match="vec_normalize="):
        SB3Agent(model, vec_normalize="stats.pkl")
    stacked = PPO("MultiInputPolicy", VecFrameStack(make_vec_env("PointNav-ProcHouse-v0", n_envs=1, env_kwargs=kwargs), 2),
                  n_steps=16, batch_size=16, n_epochs=1, seed=0)
    agent = SB3Agent(stacked)
    agent.reset()
    obs, _ = env.reset(seed=0)
    with pytest.raises(InvalidArgumentError, match="FrameStackObservation"):
        agent.policy(obs)
    env.close()


def test_stable_baselines3_reads_success_from_navgym_infos(tmp_path):
    """SB3 looks for info['is_success'] at an episode's end (EvalCallback's successes,
    rollout/success_rate): navgym's info carries it beside its own 'success'."""
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import EvalCallback
    from stable_baselines3.common.monitor import Monitor

    kwargs = dict(num_scenes=1, episodes_per_scene=2, resolution=48, max_episode_steps=6, sensors=("depth", "pointgoal_with_gps_compass"))
    env = gym.make("PointNav-ProcHouse-v0", split="train", **kwargs)
    _, info = env.reset(seed=0)
    assert info["is_success"] is False and info["success"] == 0.0
    callback = EvalCallback(Monitor(gym.make("PointNav-ProcHouse-v0", **kwargs)), n_eval_episodes=2, eval_freq=16, log_path=str(tmp_path), verbose=0)
    model = PPO("MultiInputPolicy", env, n_steps=16, batch_size=16, n_epochs=1, seed=0).learn(16, callback=callback)
    assert "successes" in np.load(tmp_path / "evaluations.npz").files
    assert len(model.ep_success_buffer) >= 1
