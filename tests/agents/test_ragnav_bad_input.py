"""Bad input to the RAGNav agents: missing sensors name this agent and all it needs; out-of-range options name the parameter."""

from __future__ import annotations

import gymnasium as gym
import pytest

import navgym  # noqa: F401  (registers the envs)
from navgym.agents import make
from navgym.errors import InvalidArgumentError


@pytest.mark.parametrize("name", ["ragnav", "naive-rag"])
def test_missing_sensors_name_the_agent_and_every_sensor(name):
    env = gym.make("MultiGoalVLN-ProcHouse-v0", split="val", resolution=16)  # default sensors: no gps, compass, semantic
    with pytest.raises(InvalidArgumentError) as info:
        make(name, env=env, inputs="text+location+sensor")
    message = str(info.value)
    assert message.startswith(f"The {name} agent needs the sensors")
    for sensor in ("gps", "compass", "semantic"):
        assert f"'{sensor}'" in message
    assert "frontier agent" not in message and "make it with sensors=(" in message
    env.close()


@pytest.mark.parametrize("option, value", [("omega", 5), ("omega", "x"), ("sigma_forest", 0), ("merge_similarity", 3), ("max_episode_steps", 0)])
def test_out_of_range_options_name_the_parameter(option, value):
    sensors = ("rgb", "depth", "instruction", "gps", "compass", "semantic")
    env = gym.make("MultiGoalVLN-ProcHouse-v0", split="val", resolution=16, sensors=sensors)
    with pytest.raises(InvalidArgumentError, match=rf"^{option}={value!r} .*allowed"):
        make("ragnav", env=env, **{option: value})
    env.close()
