"""The oracle refuses continuous (``Box``) actions when it is made, naming the agent to use instead."""

from __future__ import annotations

import gymnasium as gym
import pytest

import navgym  # noqa: F401  (registers the envs)
from navgym.agents import AGENTS, make_for_env
from navgym.errors import InvalidArgumentError

SMALL = {"num_scenes": 1, "episodes_per_scene": 2}


@pytest.mark.parametrize("env_id, kwargs", [("SemanticNav-ProcHouse-v0", {}), ("ObjectNav-ProcHouse-v0", {"embodiment": "unicycle"})])
def test_the_oracle_refuses_box_actions_at_construction(env_id, kwargs):
    env = gym.make(env_id, **SMALL, **kwargs)
    try:
        assert isinstance(env.action_space, gym.spaces.Box)
        with pytest.raises(InvalidArgumentError, match=r"needs discrete actions.*Box of shape \(3,\).*'semnav-oracle'"):
            make_for_env("oracle", env)
        assert "semnav-oracle" in AGENTS  # the agent the message names exists and acts in this env
        agent, wrapped = make_for_env("semnav-oracle", env)
        obs, _ = wrapped.reset(seed=0)
        assert wrapped.action_space.contains(agent.policy(obs))
    finally:
        env.close()


def test_the_oracle_still_acts_with_discrete_actions():
    env = gym.make("PointNav-ProcHouse-v0", **SMALL, resolution=32)
    try:
        agent, wrapped = make_for_env("oracle", env)
        obs, _ = wrapped.reset(seed=0)
        assert wrapped.action_space.contains(agent.policy(obs))
    finally:
        env.close()
