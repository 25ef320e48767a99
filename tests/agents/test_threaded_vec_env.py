"""Training envs in the learner's process, stepped on threads (``TrainArgs.env_threads``), and the
process-wide caches that make a house's second load cheap (navigation grid, storey heights)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from navgym.errors import InvalidArgumentError
from navgym.sims.base import BodySpec
from navgym.sims.embedded import navgrid
from navgym.sims.embedded.simulator import EmbeddedSimulator
from navgym.training import TrainArgs, make_training_env, make_vec_env
from navgym.training.threaded_vec_env import ThreadedDummyVecEnv

ENV_ID = "ImageNav-ProcHouseEasy-v0"
# Every episode in a new house among three (scene_repeat_episodes=1) and episodes of at most five
# steps: the threads reset envs, and build houses' simulators, at the same time.
KWARGS = {"num_scenes": 3, "episodes_per_scene": 4, "resolution": 32, "max_episode_steps": 5, "scene_repeat_episodes": 1}


def _factories(n: int = 4):
    return [lambda: make_training_env(ENV_ID, "train", monitor=True, **KWARGS) for _ in range(n)]


def _assert_equal(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            if key != "t":  # SB3 Monitor's wall-clock time of an episode
                _assert_equal(a[key], b[key])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_equal(x, y)
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_threaded_steps_equal_dummy_steps_through_resets_and_new_houses():
    navgrid._PROBES.clear()  # the threaded env builds the houses' grids itself, two at a time
    plain = DummyVecEnv(_factories())
    threaded = ThreadedDummyVecEnv(_factories(), threads=2)
    try:
        for venv in (plain, threaded):
            venv.seed(7)
        _assert_equal(threaded.reset(), plain.reset())
        rng = np.random.default_rng(0)
        ended = 0
        for _ in range(24):  # every env ends an episode (and loads a house) at least four times
            actions = rng.integers(0, plain.action_space.n, size=plain.num_envs)
            actions[rng.random(plain.num_envs) < 0.7] = 1  # mostly forward: not every episode ends at once
            plain.step_async(actions)
            threaded.step_async(actions)
            a, b = plain.step_wait(), threaded.step_wait()
            _assert_equal(b[:3], a[:3])
            for x, y in zip(a[3], b[3]):  # infos, the finished episode's last observation included
                _assert_equal(y, x)
            _assert_equal(threaded.reset_infos, plain.reset_infos)
            ended += int(a[2].sum())
        assert ended >= 16
    finally:
        plain.close()
        threaded.close()
    assert threaded._pool is None  # closed


def test_make_vec_env_puts_the_envs_in_this_process_on_threads(tmp_path):
    args = TrainArgs(env_id=ENV_ID, n_envs=2, env_threads=2, env_kwargs=KWARGS, out=tmp_path / "run")
    venv = make_vec_env(args)
    try:
        assert isinstance(venv, ThreadedDummyVecEnv) and venv.num_envs == 2 and venv.threads == 2
        obs = venv.reset()
        assert obs["rgb"].shape[0] == 2
    finally:
        venv.close()
    venv = make_vec_env(TrainArgs(env_id=ENV_ID, n_envs=2, env_kwargs=KWARGS, out=tmp_path / "run2"))
    try:
        assert isinstance(venv, SubprocVecEnv)  # the default: subprocesses
    finally:
        venv.close()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"env_threads": -1}, "env_threads=-1"),
        ({"env_threads": 1.5}, "env_threads=1.5"),
        ({"env_threads": 2, "overlap_rollouts": True}, "env_threads=2 .*overlap_rollouts=True"),
        ({"env_threads": 2, "ray": True}, "env_threads=2 .*ray=True"),
    ],
)
def test_env_threads_bad_values_name_the_parameter(tmp_path, kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match):
        TrainArgs(env_id=ENV_ID, n_envs=2, out=tmp_path / "run", **kwargs)


def test_threaded_vec_env_rejects_a_bad_thread_count():
    with pytest.raises(InvalidArgumentError, match="threads=0"):
        ThreadedDummyVecEnv(_factories(1), threads=0)


def test_a_house_grid_is_cast_once_per_process_and_each_simulator_gets_its_own_copy(monkeypatch):
    from navgym.scenes.sources import load_scene_by_id

    scene = load_scene_by_id("prochouse/5")
    navgrid._PROBES.clear()
    first = EmbeddedSimulator(scene).grid()
    casts = []
    original = navgrid.NavGrid._probe
    monkeypatch.setattr(navgrid.NavGrid, "_probe", lambda self, *a: casts.append(1) or original(self, *a))
    second = EmbeddedSimulator(scene).grid()
    assert casts == []  # from the cache
    for name in ("floor_y", "free", "floor_ok", "navigable", "labels"):
        np.testing.assert_array_equal(getattr(second, name), getattr(first, name))
    second.free[:] = False  # a simulator's grid is its own
    assert first.free.any()
    third = EmbeddedSimulator(scene).grid()
    np.testing.assert_array_equal(third.free, first.free)
    # Another body (a wider agent) is cast anew, and so is a house with other geometry.
    EmbeddedSimulator(scene, body=BodySpec(radius=0.3)).grid()
    EmbeddedSimulator(load_scene_by_id("prochouse/6")).grid()
    assert len(casts) == 2


def test_the_probe_cache_keeps_within_its_byte_budget(monkeypatch):
    from cachetools import LRUCache

    from navgym.scenes.sources import load_scene_by_id

    navgrid._PROBES.clear()
    EmbeddedSimulator(load_scene_by_id("prochouse/5")).grid()
    one = navgrid._PROBES.currsize
    assert one == sum(a.nbytes for v in navgrid._PROBES.values() for a in v) > 0
    budget = int(1.5 * one)
    monkeypatch.setattr(navgrid, "_PROBES", LRUCache(budget, getsizeof=navgrid._probe_bytes))
    keys = {}
    for seed in (5, 6, 7):
        sim = EmbeddedSimulator(load_scene_by_id(f"prochouse/{seed}"))
        sim.grid()
        keys[seed] = sim.caster.geometry_key
    held = sum(a.nbytes for v in navgrid._PROBES.values() for a in v)
    assert 0 < held <= budget and len(navgrid._PROBES) < 3
    cached = {key[0] for key in navgrid._PROBES}
    assert keys[7] in cached and keys[5] not in cached  # the last house built stays; the oldest went first


def test_grids_built_on_threads_at_once_equal_grids_built_alone():
    from navgym.scenes.sources import load_scene_by_id

    scenes = [load_scene_by_id(f"prochouse/{seed}") for seed in (8, 9, 10, 11)]
    navgrid._PROBES.clear()
    alone = [EmbeddedSimulator(scene).grid() for scene in scenes]
    navgrid._PROBES.clear()
    grids: dict[int, object] = {}
    errors: list[BaseException] = []

    def build(index: int) -> None:
        try:
            grids[index] = EmbeddedSimulator(scenes[index % 4]).grid()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(i,)) for i in range(8)]  # each house twice, at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for index, grid in grids.items():
        for name in ("floor_y", "free", "floor_ok", "navigable"):
            np.testing.assert_array_equal(getattr(grid, name), getattr(alone[index % 4], name))


@pytest.mark.slow  # two tiny PPO runs, about a minute on 2 cores
def test_ppo_with_envs_on_threads_trains_the_same_policy_as_with_subprocesses(tmp_path):
    """`navgym train --env-threads 2` and the default subprocess envs, same seed: the checkpoints'
    policy weights and optimiser states are byte-identical (experiments/compare_runs.py says so),
    with every house change on a thread (scene_repeat_episodes=1)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "TQDM_DISABLE": "1", "COLUMNS": "250"}
    common = ["train", "--head", "minimalist", "--timesteps", "64", "--n-envs", "2", "--seed", "3", "--eval-episodes", "0",
              "--env", ENV_ID, "--env-option", "num_scenes=2", "--env-option", "episodes_per_scene=3", "--env-option", "max_episode_steps=6",
              "--env-option", "scene_repeat_episodes=1", "--model-option", "n_steps=16", "--model-option", "batch_size=16", "--no-progress",
              # one thread: a trunk's backward pass on two threads differs in the last bits from run to run
              "--threads", "1", "--update-threads", "1"]
    for threads in (0, 2):
        result = subprocess.run([sys.executable, "-m", "navgym.cli", *common, "--env-threads", str(threads), "--out", str(tmp_path / f"t{threads}")],
                                capture_output=True, text=True, timeout=600, env=env, cwd=root)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = tmp_path / "compare.json"
    result = subprocess.run([sys.executable, "experiments/compare_runs.py", str(tmp_path / "t0"), str(tmp_path / "t2"), "--json", str(report)],
                            capture_output=True, text=True, timeout=300, env=env, cwd=root)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    compared = json.loads(report.read_text())
    assert compared["identical"] == {"policy.pth": True, "policy.optimizer.pth": True}, result.stdout
    assert [row["env_steps"] for row in compared["runs"]] == [64, 64]
    assert all(row["env_steps_per_second"] > 0 for row in compared["runs"])
    missing = subprocess.run([sys.executable, "experiments/compare_runs.py", str(tmp_path / "t0"), str(tmp_path / "nothing")],
                             capture_output=True, text=True, timeout=300, env=env, cwd=root)
    assert missing.returncode != 0 and "no checkpoint.zip" in missing.stderr
