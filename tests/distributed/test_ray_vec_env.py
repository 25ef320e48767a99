"""RayVecEnv: SB3's VecEnv over Ray actors behaves like DummyVecEnv/SubprocVecEnv (auto-reset,
seeds, attributes), reports a dead actor by env index, trains PPO, and asks for the extra without Ray."""

from __future__ import annotations

import importlib.util
import sys
import time
from functools import partial

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

from stable_baselines3.common.vec_env import DummyVecEnv  # noqa: E402

from navgym.distributed.vec_env import EnvWorkerDiedError, RayVecEnv  # noqa: E402
from navgym.errors import InvalidArgumentError  # noqa: E402

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason='needs Ray: pip install "navgym[ray]"')

# Factories Ray can unpickle in its workers (a test module's own functions are not importable there);
# "navgym:" makes gym.make import navgym (registering its ids) in the worker.
CARTPOLE = partial(gym.make, "CartPole-v1")
POINTNAV = partial(gym.make, "navgym:PointNav-ProcHouseSmall-v0", split="train", sensors=("depth", "pointgoal_with_gps_compass"),
                   resolution=16, num_scenes=1, episodes_per_scene=4, max_episode_steps=15)


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _assert_same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


@needs_ray
@pytest.mark.parametrize("factory, envs_per_actor, compiled", [(CARTPOLE, 1, False), (POINTNAV, 2, False), (POINTNAV, 1, True)],
                         ids=["cartpole", "pointnav-batched", "pointnav-compiled"])
def test_matches_dummy_vec_env(local_ray, factory, envs_per_actor, compiled):
    factory().close()  # navgym: generate and cache the episodes once, here
    ray_env = RayVecEnv([factory, factory], envs_per_actor=envs_per_actor, compiled=compiled)
    dummy = DummyVecEnv([factory, factory])
    try:
        assert len(ray_env.actors) == 2 // envs_per_actor
        ray_env.seed(7)
        dummy.seed(7)
        _assert_same(ray_env.reset(), dummy.reset())
        assert ray_env._seeds == [None, None]  # seeds are used once
        _assert_same(ray_env.reset_infos, dummy.reset_infos)
        rng = np.random.default_rng(0)
        ends = 0
        for _ in range(50):
            actions = np.array([ray_env.action_space.sample() for _ in range(2)]) if factory is POINTNAV else rng.integers(0, 2, 2)
            obs, rewards, dones, infos = ray_env.step(actions)
            obs_d, rewards_d, dones_d, infos_d = dummy.step(actions)
            _assert_same(obs, obs_d)
            # SubprocVecEnv (and RayVecEnv) stack the env's float rewards, DummyVecEnv's buffer is float32
            np.testing.assert_allclose(rewards, rewards_d, rtol=1e-6)
            np.testing.assert_array_equal(dones, dones_d)
            for info, info_d in zip(infos, infos_d):
                assert info.keys() == info_d.keys()
                assert info["TimeLimit.truncated"] == info_d["TimeLimit.truncated"]
                if "terminal_observation" in info:
                    ends += 1
                    _assert_same(info["terminal_observation"], info_d["terminal_observation"])
                    for array in (info["terminal_observation"].values() if isinstance(info["terminal_observation"], dict) else [info["terminal_observation"]]):
                        assert array.flags.writeable
            _assert_same(ray_env.reset_infos, dummy.reset_infos)
        assert ends >= 2  # auto-reset happened
    finally:
        ray_env.close()
        dummy.close()
    assert ray_env.closed and ray_env.actors == []


@needs_ray
def test_attributes_and_methods(local_ray):
    env = RayVecEnv([CARTPOLE] * 3, envs_per_actor=2)
    try:
        assert [spec.id for spec in env.get_attr("spec")] == ["CartPole-v1"] * 3
        env.set_attr("navgym_mark", 5, indices=[1, 2])
        assert env.get_attr("navgym_mark", indices=[2, 1]) == [5, 5]
        assert env.has_attr("spec") and not env.has_attr("navgym_mark")
        with pytest.raises(AttributeError):
            env.get_attr("no_such_attribute")
        assert len(env.env_method("reset", seed=1, indices=[0, 2])) == 2
        assert env.env_is_wrapped(gym.wrappers.TimeLimit) == [True] * 3
        assert env.env_is_wrapped(gym.wrappers.RecordEpisodeStatistics, indices=0) == [False]
        assert env.render_mode is None
        with pytest.warns(UserWarning, match="render mode is None"):
            assert env.get_images() == [None] * 3
        assert len(set(env.worker_pids())) == 2
    finally:
        env.close()


@needs_ray
@pytest.mark.parametrize("compiled", [False, True], ids=["tasks", "compiled"])
def test_killed_actor_names_the_env(local_ray, compiled):
    env = RayVecEnv([CARTPOLE, CARTPOLE], compiled=compiled)
    try:
        env.reset()
        local_ray.kill(env.actors[1])
        # ray.kill is asynchronous: under load the actor may still answer a step or two first.
        deadline = time.monotonic() + 60.0
        with pytest.raises(EnvWorkerDiedError, match=r"env 1 of 2 died.*resume=True"):
            while time.monotonic() < deadline:
                env.step(np.array([0, 1]))
    finally:
        env.close()


@needs_ray
def test_ppo_learns_on_ray(local_ray):
    from stable_baselines3 import PPO

    env = RayVecEnv([CARTPOLE, CARTPOLE])
    try:
        model = PPO("MlpPolicy", env, n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu")
        model.learn(256)
        assert model.num_timesteps == 256
    finally:
        env.close()


@needs_ray
def test_bad_arguments(local_ray):
    with pytest.raises(InvalidArgumentError, match="envs_per_actor"):
        RayVecEnv([CARTPOLE], envs_per_actor=0)
    with pytest.raises(InvalidArgumentError, match="need 3 CPUs but the cluster has 2"):
        RayVecEnv([CARTPOLE] * 3)


def test_missing_ray_names_the_extra(monkeypatch):
    from navgym.training import TrainArgs

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(gym.error.DependencyNotInstalled, match=r'pip install "navgym\[ray\]"'):
        RayVecEnv([CARTPOLE])
    with pytest.raises(gym.error.DependencyNotInstalled, match=r"navgym\[ray\]"):
        TrainArgs(ray=True)


def test_train_args_ray_fields():
    from navgym.training import TrainArgs

    with pytest.raises(InvalidArgumentError, match="ray=False"):
        TrainArgs(ray_address="auto")
    with pytest.raises(InvalidArgumentError, match="ray="):
        TrainArgs(ray="yes")
    with pytest.raises(InvalidArgumentError, match="ray_address"):
        TrainArgs(ray=True, ray_address="")
    with pytest.raises(InvalidArgumentError, match=r"ray_address='headnode' is not a Ray address \(HOST:PORT"):
        TrainArgs(ray=True, ray_address="headnode")  # checked when the args are built, not when Ray starts
    assert TrainArgs(ray=True, ray_address=" ray://head:10001 ").ray_address == "ray://head:10001"
    assert TrainArgs().to_json()["ray"] is False
