"""Embodiments: the registry, validated variants, the discrete agent and velocity commands in
real envs, and clear errors for settings that do not apply."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import navgym  # noqa: F401
from navgym.core.specs import BodySpec
from navgym.embodiments import EMBODIMENTS, HabitatDiscreteAgent, UnicycleAgent
from navgym.errors import InvalidArgumentError, UnknownNameError

SMALL = {"num_scenes": 1, "episodes_per_scene": 3}


def test_registry_names_and_suggestions():
    assert {"habitat", "unicycle"} <= set(EMBODIMENTS.names())
    with pytest.raises(UnknownNameError, match="Did you mean 'unicycle'"):
        EMBODIMENTS.get("unicylce")


def test_tasks_default_to_habitats_discrete_agent_with_their_camera():
    objectnav = gym.make("ObjectNav-ProcHouse-v0", **SMALL).unwrapped
    assert isinstance(objectnav.embodiment, HabitatDiscreteAgent)
    assert objectnav.actions == ("stop", "move_forward", "turn_left", "turn_right", "look_up", "look_down")
    assert objectnav.embodiment.camera.camera_height == 0.88 and objectnav.embodiment.body.height == 0.88
    imagenav = gym.make("ImageNav-ProcHouse-v0", **SMALL).unwrapped
    assert imagenav.actions == ("stop", "move_forward", "turn_left", "turn_right")
    assert imagenav.embodiment.camera.hfov == 90.0


def test_keyword_arguments_reach_the_embodiment():
    env = gym.make("ImageNav-ProcHouse-v0", resolution=(48, 64), hfov=70, forward_step=0.5, turn_angle=15, **SMALL).unwrapped
    assert (env.embodiment.camera.height, env.embodiment.camera.width, env.embodiment.camera.hfov) == (48, 64, 70.0)
    assert (env.embodiment.forward_step, env.embodiment.turn_angle) == (0.5, 15.0)
    obs, _ = env.reset(seed=0)
    assert obs["rgb"].shape == (48, 64, 3) and obs["imagegoal"].shape == (48, 64, 3)
    start = env.sim.get_agent_state().yaw
    env.step(2)  # turn_left by 15°
    assert math.degrees(env.sim.get_agent_state().yaw - start) == pytest.approx(15.0)


def test_a_velocity_embodiment_runs_in_a_habitat_task():
    env = gym.make("ImageNav-ProcHouse-v0", embodiment="unicycle", **SMALL)
    assert isinstance(env.action_space, gym.spaces.Box) and env.unwrapped.actions == ()
    check_env(env.unwrapped)
    env.reset(seed=1)
    before = env.unwrapped.sim.get_agent_state()
    _, _, terminated, _, info = env.step(np.array([0.4, 0.0, 0.0], dtype=np.float32))
    moved = np.linalg.norm((env.unwrapped.sim.get_agent_state().position - before.position)[[0, 2]])
    assert not terminated and (moved == pytest.approx(0.2, abs=1e-6) or info["collided"])
    _, _, terminated, _, info = env.step(np.array([0.0, 0.0, 1.0], dtype=np.float32))
    assert terminated and info["num_steps"] == 2


def test_velocity_commands_are_clipped_and_must_be_finite():
    from navgym.scenes.builder import SceneBuilder
    from navgym.sims.base import AgentState
    from navgym.sims.embedded.simulator import EmbeddedSimulator

    builder = SceneBuilder("floor")
    paint = builder.material("paint", "paint", (200, 200, 200))
    builder.add_box((0.0, -0.1, 0.0), (6.0, 0.0, 6.0), paint, category="floor")
    builder.add_box((0.0, 2.5, 0.0), (6.0, 2.6, 6.0), paint, category="ceiling")
    sim = EmbeddedSimulator(builder.build())
    sim.set_agent_state(AgentState.from_yaw([3.0, 0.0, 5.0], 0.0))
    agent = UnicycleAgent(max_linear_velocity=0.5, dt=1.0)
    agent.apply(sim, [10.0, 0.0, 0.0])  # clipped to 0.5 m/s
    assert sim.get_agent_state().position[2] == pytest.approx(4.5, abs=1e-6)
    with pytest.raises(InvalidArgumentError, match="finite"):
        agent.apply(sim, [np.nan, 0.0, 0.0])
    with pytest.raises(InvalidArgumentError, match=r"\[linear, angular, stop\]"):
        agent.apply(sim, [1.0, 2.0])


def test_settings_that_do_not_apply_to_an_embodiment_are_named():
    with pytest.raises(InvalidArgumentError, match=r"forward_step=0\.5 does not apply to the 'unicycle' embodiment; leave it out"):
        gym.make("ImageNav-ProcHouse-v0", embodiment="unicycle", forward_step=0.5, **SMALL)
    with pytest.raises(InvalidArgumentError, match=r"turn_angle=10(\.0)? does not apply to the 'h1' embodiment"):
        gym.make("ImageNav-ProcHouse-v0", embodiment="h1", turn_angle=10, **SMALL)  # the value the user gave, not "..."
    with pytest.raises(UnknownNameError, match="embodiment='jetbott'"):
        gym.make("ImageNav-ProcHouse-v0", embodiment="jetbott", **SMALL)
    with pytest.raises(InvalidArgumentError, match="turn_angle"):
        HabitatDiscreteAgent().with_(turn_angle=0.0)
    with pytest.raises(InvalidArgumentError, match="radius"):
        BodySpec(radius=-1.0)
