"""The agent interface: make() by name, the SB3 adapter, the oracle's privileged requirement."""

from __future__ import annotations

import gymnasium as gym
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
