"""RSRNav's asymmetric actor-critic (``RSRNavConfig(privileged_critic=True)``): the critic's
observation (:class:`navgym.wrappers.CriticObservation`), a policy whose actor never reads it, a
cloned checkpoint widened into it, and a real BC -> PPO run whose policy then acts without it."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="RSRNav needs torch (pip install navgym[rl])")
pytest.importorskip("sb3_contrib", reason="RSRNav needs sb3-contrib (pip install navgym[rl])")

import navgym  # noqa: E402,F401
from navgym.wrappers import CriticObservation, RSRNavReward  # noqa: E402
from navgym.wrappers.privileged import CRITIC_DISTANCE_SCALE, CRITIC_FEATURES, CRITIC_KEY  # noqa: E402

ENV_ID = "ImageNav-ProcHouseEasy-v0"
TINY_ENV = {"num_scenes": 1, "episodes_per_scene": 4}
TINY_MODEL = {"n_steps": 16, "batch_size": 32, "n_epochs": 2}


def test_the_critic_observation_is_the_distance_path_heading_and_time():
    env = CriticObservation(RSRNavReward(gym.make(ENV_ID, split="val", **TINY_ENV)))
    assert env.max_steps == env.spec.max_episode_steps
    obs, info = env.reset(seed=0)
    assert obs[CRITIC_KEY].shape == (CRITIC_FEATURES,) and obs[CRITIC_KEY].dtype == np.float32
    assert set(obs) == set(env.observation_space.spaces)
    seen = [obs[CRITIC_KEY]]
    for step, action in enumerate([1, 2, 1, 3, 1], start=1):
        obs, _, terminated, truncated, info = env.step(action)
        critic = obs[CRITIC_KEY]
        assert env.observation_space.contains(obs)
        assert critic[0] == pytest.approx(info["distance_to_goal"] / CRITIC_DISTANCE_SCALE, rel=1e-5)
        assert critic[1] ** 2 + critic[2] ** 2 == pytest.approx(1.0, abs=1e-5)
        assert critic[4] == pytest.approx(math.cos(info["angle_to_goal"]), abs=1e-5)  # the goal photo's heading
        assert critic[5] == pytest.approx(step / env.max_steps)
        seen.append(critic)
    assert len({tuple(np.round(c[:5], 4)) for c in seen}) > 2  # it follows the agent
    assert env.reset(seed=1)[0][CRITIC_KEY][5] == 0.0
    with pytest.raises(ValueError, match="already has an observation 'critic'"):
        CriticObservation(env)
    with pytest.raises(ValueError, match="max_steps=0"):
        CriticObservation(gym.make(ENV_ID, **TINY_ENV), max_steps=0)


def _policies():
    from gymnasium import spaces

    from navgym.agents.rsrnav.model import RSRNavConfig

    images = {key: spaces.Box(0, 255, (3, 64, 64), np.uint8) for key in ("rgb", "imagegoal")}
    critic = spaces.Box(-1.0, 4.0, (CRITIC_FEATURES,), np.float32)
    torch.manual_seed(0)
    plain_config = RSRNavConfig(head="dense", n_lstm_layers=1)
    plain = plain_config.policy_class()(spaces.Dict(images), spaces.Discrete(4), lambda _: 1e-3, **plain_config.policy_kwargs())
    config = RSRNavConfig(head="dense", n_lstm_layers=1, privileged_critic=True)
    wide = config.policy_class()(spaces.Dict({**images, CRITIC_KEY: critic}), spaces.Discrete(4), lambda _: 1e-3, **config.policy_kwargs())
    return plain, wide


def _states(policy, n):
    from sb3_contrib.common.recurrent.type_aliases import RNNStates

    def zeros(lstm):
        return (torch.zeros(lstm.num_layers, n, lstm.hidden_size), torch.zeros(lstm.num_layers, n, lstm.hidden_size))

    return RNNStates(zeros(policy.lstm_actor), zeros(policy.lstm_critic))


def test_the_actor_never_reads_the_critic_observation_and_the_critic_does():
    from navgym.agents.rsrnav.training import widen_critic_input

    plain, wide = _policies()
    assert wide.lstm_critic.input_size == wide.lstm_actor.input_size + CRITIC_FEATURES
    assert any(p is wide.lstm_critic.weight_ih_l0 for group in wide.optimizer.param_groups for p in group["params"])
    wide.load_state_dict(widen_critic_input(plain.state_dict(), wide), strict=True)
    assert torch.count_nonzero(wide.lstm_critic.weight_ih_l0[:, -CRITIC_FEATURES:]) == 0
    generator = torch.Generator().manual_seed(0)
    obs = {key: torch.randint(0, 256, (3, 3, 64, 64), generator=generator).float() for key in ("rgb", "imagegoal")}
    starts, actions = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([1, 2, 0])
    with torch.no_grad():
        values, log_prob, _ = plain.evaluate_actions(obs, actions, _states(plain, 1), starts)
        zero = {**obs, CRITIC_KEY: torch.zeros(3, CRITIC_FEATURES)}
        got_values, got_log_prob, _ = wide.evaluate_actions(zero, actions, _states(wide, 1), starts)
        # widened: the same critic and actor as the clone while the new columns are zero
        torch.testing.assert_close(got_values, values)
        torch.testing.assert_close(got_log_prob, log_prob)
        torch.nn.init.normal_(wide.lstm_critic.weight_ih_l0)
        informed = {**obs, CRITIC_KEY: torch.rand(3, CRITIC_FEATURES, generator=generator)}
        new_values, new_log_prob, _ = wide.evaluate_actions(informed, actions, _states(wide, 1), starts)
        torch.testing.assert_close(new_log_prob, log_prob)  # the actor is untouched by obs["critic"]
        assert not torch.allclose(new_values, values)
        one = {key: value[:1] for key, value in informed.items()}
        torch.testing.assert_close(wide.predict_values(one, _states(wide, 1).vf, starts[:1]), new_values[:1])
    # acting without the key (an env without CriticObservation): the actor's action, zeros for the critic
    single = {key: value[0].permute(1, 2, 0).numpy().astype(np.uint8) for key, value in obs.items()}
    action, _ = wide.predict(single, episode_start=np.array([True]), deterministic=True)
    expected, _ = plain.predict(single, episode_start=np.array([True]), deterministic=True)
    assert int(action) == int(expected)


def test_bc_then_ppo_with_a_privileged_critic_acts_without_it(tmp_path):
    """BC without the critic's observation, PPO with it (the training envs get it), and the
    checkpoint then loads and acts in a plain env."""
    from navgym.agents.rsrnav.agent import make_rsrnav_agent
    from navgym.agents.rsrnav.critic import PrivilegedCriticLstmPolicy
    from navgym.agents.rsrnav.model import load_policy, read_state_dicts
    from navgym.training import train

    common = dict(head="dense", env_id=ENV_ID, n_envs=1, env_kwargs=TINY_ENV, progress=False, seed=4, demo_workers=1, eval_episodes=1)
    train(**common, model=TINY_MODEL, out=tmp_path / "bc", timesteps=0, pretrain="bc", demos=2, bc_epochs=1)
    start = read_state_dicts(tmp_path / "bc" / "pretrain.zip")["policy"]
    tuned = {**TINY_MODEL, "privileged_critic": True, "learning_rate": 1e-3}
    result = train(**common, model=tuned, timesteps=32, init_from=tmp_path / "bc" / "pretrain.zip", out=tmp_path / "ppo")
    assert result.num_timesteps == 32 and len(result.evaluations) == 1
    after = read_state_dicts(result.checkpoint)["policy"]
    key = "lstm_critic.weight_ih_l0"
    assert after[key].shape[1] == start[key].shape[1] + CRITIC_FEATURES
    assert torch.count_nonzero(after[key][:, -CRITIC_FEATURES:]) > 0  # the critic learned to read it
    policy, meta = load_policy(result.checkpoint)
    assert isinstance(policy, PrivilegedCriticLstmPolicy) and meta["config"]["privileged_critic"] is True
    env = gym.make(ENV_ID, split="val", **TINY_ENV)
    agent = make_rsrnav_agent(env, checkpoint=result.checkpoint)
    obs, _ = env.reset(seed=0)
    agent.reset()
    assert agent.policy(obs) in range(env.action_space.n)


def test_the_cli_passes_the_setting(tmp_path, train_cli):
    invoke, seen = train_cli
    invoke(["train", "--out", str(tmp_path / "cli"), "--no-progress", "--model-option", "privileged_critic=true"])
    assert seen[-1].config().privileged_critic is True


def test_reward_options_reach_the_training_reward(tmp_path, train_cli):
    from navgym.training import TrainArgs
    from navgym.training.envs import _EnvFactory
    from navgym.wrappers import RSRNavReward

    args = TrainArgs(env_id=ENV_ID, n_envs=1, out=tmp_path / "run", env_kwargs=TINY_ENV, reward_options={"failed_stop_reward": -2.5})
    env = _EnvFactory(args)()
    while not isinstance(env, RSRNavReward):
        env = env.env
    assert env.failed_stop_reward == -2.5
    with pytest.raises(ValueError, match=r"unknown arguments \['stop_penalty'\]"):
        TrainArgs(out=tmp_path / "bad", reward_options={"stop_penalty": -1})
    with pytest.raises(ValueError, match="reward='env'"):
        TrainArgs(out=tmp_path / "bad", reward="env", reward_options={"failed_stop_reward": -1})
    invoke, seen = train_cli
    invoke(["train", "--out", str(tmp_path / "cli"), "--no-progress", "--reward-option", "failed_stop_reward=-2.5"])
    assert seen[-1].reward_options == {"failed_stop_reward": -2.5}
