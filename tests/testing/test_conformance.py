"""The conformance kit (navgym.testing) on navgym's own backend, envs and agents, and on broken
ones it must catch."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import navgym  # noqa: F401 - registers the env ids
from navgym.agents import sensors_for
from navgym.sims.embedded.simulator import EmbeddedSimulator
from navgym.tasks import TASKS
from navgym.testing import ConformanceError, check_agent, check_nav_env, check_simulator

SMALL = {"num_scenes": 2, "episodes_per_scene": 3}


def embedded(scene, body):
    return EmbeddedSimulator(scene, body=body)


# -- simulators -----------------------------------------------------------------------------------
def test_the_embedded_simulator_conforms():
    report = check_simulator(embedded)
    assert report.ok and not report.skipped, report
    for check in ("render.depth_to_wall", "render.analytic_pixels", "move_agent.wall", "move_agent.slide",
                  "geodesic_distance.l_corridor", "agents.add_agent", "pickle"):
        assert check in report.passed


class WallPiercingSimulator(EmbeddedSimulator):
    """Broken on purpose: moves jump to the destination (snapped back onto the floor), never collide."""

    def move_agent(self, displacement, agent_id=0):
        state = self.get_agent_state(agent_id)
        state.position = state.position + np.array([displacement[0], 0.0, displacement[2]])
        self.set_agent_state(state, snap=True, agent_id=agent_id)
        return False


class DepthOffsetSimulator(EmbeddedSimulator):
    """Broken on purpose: depth reads 0.5 m too far."""

    def render(self, requests):
        frames = super().render(requests)
        for frame in frames:
            if "depth" in frame:
                frame["depth"] = frame["depth"] + np.float32(0.5)
        return frames


def test_a_simulator_that_moves_through_obstacles_fails_the_motion_checks():
    with pytest.raises(ConformanceError) as excinfo:
        check_simulator(lambda scene, body: WallPiercingSimulator(scene, body=body))
    error = excinfo.value
    assert "move_agent.wall" in error.failed_checks and "move_agent.slide" in error.failed_checks
    assert not any(name.startswith("render.") for name in error.failed_checks)
    message = str(error)
    assert "one 2 m move toward the table" in message and "collided=False" in message


def test_a_simulator_with_wrong_depth_fails_the_depth_checks_and_runs_the_rest():
    with pytest.raises(ConformanceError) as excinfo:
        check_simulator(lambda scene, body: DepthOffsetSimulator(scene, body=body))
    error = excinfo.value
    assert {"render.depth_to_wall", "render.analytic_pixels", "render.depth_range"} <= set(error.failed_checks)
    assert isinstance(error, AssertionError)
    # Measured vs expected, for every failed check; the other checks still ran and passed.
    assert "depth on the wall 3.0000 m (max error 0.5000); expected 2.5" in str(error)
    assert {"move_agent.wall", "geodesic_distance.l_corridor", "pickle"} <= set(error.report.passed)


# -- envs -------------------------------------------------------------------------------------------
def test_objectnav_conforms_given_a_factory():
    report = check_nav_env(lambda: gym.make("ObjectNav-ProcHouse-v0", **SMALL), check_reseed=False)
    assert {"gymnasium.check_env", "determinism", "pickle", "step.info"} <= set(report.passed)
    assert report.skipped["reseed"] == "check_reseed=False"


def test_imagenav_conforms_given_an_env():
    # A plain env is rebuilt from its spec for the fresh-env checks.
    report = check_nav_env(gym.make("ImageNav-ProcHouse-v0", **SMALL), check_reseed=False)
    assert "determinism" in report.passed


def test_textnav_skips_the_sb3_checker_for_its_text_space():
    pytest.importorskip("stable_baselines3")
    report = check_nav_env(lambda: gym.make("TextNav-ProcHouse-v0", **SMALL), seeds=(0,), steps=3, check_reseed=False)
    assert "Text space" in report.skipped["sb3.check_env"]


def test_without_stable_baselines3_its_checker_is_skipped_with_a_note(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "stable_baselines3" else real(name, *a))
    report = check_nav_env(lambda: gym.make("ImageNav-ProcHouse-v0", **SMALL), seeds=(0,), steps=2, check_reseed=False)
    assert "stable_baselines3 is not installed" in report.skipped["sb3.check_env"]
    assert "gymnasium.check_env" in report.passed


@pytest.mark.parametrize("env_id", ["ObjectNav-ProcHouse-v0", "ImageNav-ProcHouse-v0"])
def test_reset_with_a_seed_on_a_used_env_equals_a_fresh_env(env_id):
    # Issue 19: the scene-repeat counters used to survive reset(seed=...), so a used env drew
    # another episode than a fresh one (8 of 12 cases); this failed before the fix.
    report = check_nav_env(lambda: gym.make(env_id, **SMALL))
    assert "reseed" in report.passed, report


# -- agents -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def objectnav():
    """ObjectNav with the sensors the frontier agent declares (the other baselines need fewer)."""
    env = gym.make("ObjectNav-ProcHouse-v0", **SMALL, sensors=sensors_for("frontier", TASKS.get("ObjectNav")))
    yield env
    env.close()


@pytest.mark.parametrize("name", ["random", "frontier", "oracle"])
def test_baseline_agents_conform(name, objectnav):
    report = check_agent(name, objectnav, episodes=2, max_steps=30)
    assert {"protocol", "actions_in_space", "reset_between_episodes"} <= set(report.passed)
    if name == "frontier":
        assert "needed_sensors" in report.passed
    if name == "oracle":
        assert "PrivilegedObservation" in report.measurements["privileged"]


class OutOfSpaceAgent:
    """Broken on purpose: an action index one past the last."""

    def __init__(self, env):
        self.n = int(env.action_space.n)

    def reset(self):
        pass

    def policy(self, obs):
        return self.n


class UndeclaredSensorAgent:
    """Broken on purpose: reads the semantic sensor but declares only depth."""

    @staticmethod
    def needed_sensors(task):
        return ("depth",)

    def reset(self):
        pass

    def policy(self, obs):
        return 2 if obs["semantic"].any() else 3


def test_an_agent_acting_outside_the_action_space_fails(objectnav):
    with pytest.raises(ConformanceError, match=r"policy returned 6 \(int\), not in Discrete\(6\)") as excinfo:
        check_agent(OutOfSpaceAgent(objectnav), objectnav, max_steps=5)
    assert excinfo.value.failed_checks == ["actions_in_space"]


def test_an_agent_reading_an_undeclared_sensor_fails(objectnav):
    with pytest.raises(ConformanceError, match=r"policy read obs\['semantic'\]") as excinfo:
        check_agent(UndeclaredSensorAgent(), objectnav, max_steps=5)
    assert excinfo.value.failed_checks == ["needed_sensors"]
