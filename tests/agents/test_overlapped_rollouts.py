"""Overlapped rollouts (``navgym.agents.rsrnav.rollouts``, ``navgym train --overlap-rollouts``):
the policy acts for one half of the envs while the other half steps, and the rollout buffer
gets what sb3-contrib's sequential collection gives it."""

from __future__ import annotations

import functools

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="RSRNav needs torch (pip install navgym[rl])")
pytest.importorskip("sb3_contrib", reason="RSRNav needs sb3-contrib (pip install navgym[rl])")

from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv  # noqa: E402

from navgym.agents.rsrnav.model import build_model  # noqa: E402
from navgym.agents.rsrnav.rollouts import OverlappingRecurrentPPO, OverlappingSubprocVecEnv  # noqa: E402
from navgym.errors import InvalidArgumentError  # noqa: E402
from navgym.training import TrainArgs, make_vec_env  # noqa: E402

ENV_ID = "ImageNav-ProcHouseEasy-v0"
# time limit 5: time-outs (value bootstrapping from the terminal observation) and resets within a rollout
TINY_ENV = {"num_scenes": 1, "episodes_per_scene": 4, "max_episode_steps": 5}
N_STEPS = 12


def _args(tmp_path, overlap: bool, privileged: bool = False, n_envs: int = 2) -> TrainArgs:
    return TrainArgs(env_id=ENV_ID, n_envs=n_envs, out=tmp_path / "run", env_kwargs=TINY_ENV, overlap_rollouts=overlap,
                     model={"n_steps": N_STEPS, "batch_size": 12, "n_epochs": 1, "privileged_critic": privileged, "base_channels": 8,
                            "initial_stop_probability": 0.05})


def _deterministic(model) -> None:
    """Acting by argmax, so two collections that draw the random stream in different orders
    take the same actions and can be compared row by row."""
    policy = model.policy
    policy.forward = functools.partial(type(policy).forward, policy, deterministic=True)


@pytest.mark.slow
@pytest.mark.parametrize("privileged,n_envs", [(False, 3), (True, 2)])  # 3: halves of 1 and 2 envs
def test_overlapped_rollouts_fill_the_buffer_as_the_sequential_ones(tmp_path, privileged, n_envs):
    torch.set_num_threads(1)
    models = []
    for name, overlap in (("overlap", True), ("sequential", False)):
        args = _args(tmp_path / name, overlap, privileged, n_envs)
        vec_env = make_vec_env(args)
        assert type(vec_env) is (OverlappingSubprocVecEnv if overlap else SubprocVecEnv)
        model = build_model(args.config(), vec_env, seed=5)
        assert isinstance(model, OverlappingRecurrentPPO) and model.overlap_rollouts is None  # overlaps when its env can
        _deterministic(model)
        model.learn(N_STEPS * n_envs * 2)  # two rollouts and their updates
        assert model.overlapped_rollouts == (2 if overlap else 0)
        models.append(model)
        vec_env.close()
    overlapped, sequential = (m.rollout_buffer for m in models)
    assert sequential.episode_starts[1:].sum() >= n_envs, "no episode ended inside the rollout: the test compares no reset"
    for key in overlapped.observations:
        np.testing.assert_array_equal(overlapped.observations[key], sequential.observations[key], err_msg=key)
    np.testing.assert_array_equal(overlapped.actions, sequential.actions)
    np.testing.assert_array_equal(overlapped.episode_starts, sequential.episode_starts)
    for name in ("rewards", "values", "log_probs", "returns", "advantages",
                 "hidden_states_pi", "cell_states_pi", "hidden_states_vf", "cell_states_vf"):
        # float rounding only (the policy runs on batches of one half instead of all envs); a
        # misaligned row or state differs by far more
        np.testing.assert_allclose(getattr(overlapped, name), getattr(sequential, name), rtol=1e-4, atol=1e-4, err_msg=name)
    assert models[0].num_timesteps == models[1].num_timesteps == N_STEPS * n_envs * 2
    for (name, a), b in zip(models[0].policy.named_parameters(), models[1].policy.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4, msg=name)


def test_overlap_needs_two_envs_in_subprocesses(tmp_path):
    with pytest.raises(InvalidArgumentError, match=r"overlap_rollouts=True needs n_envs >= 2.*n_envs=1"):
        _args(tmp_path, True, n_envs=1)
    with pytest.raises(InvalidArgumentError, match="overlap_rollouts='yes' must be True or False"):
        TrainArgs(env_id=ENV_ID, n_envs=2, out=tmp_path / "run", overlap_rollouts="yes")


def test_overlap_refuses_an_env_it_cannot_step_in_halves(tmp_path):
    args = _args(tmp_path, False, n_envs=1)
    vec_env = make_vec_env(args)
    assert isinstance(vec_env, DummyVecEnv)
    model = build_model(args.config(), vec_env, seed=0)
    model.overlap_rollouts = True
    with pytest.raises(TypeError, match="OverlappingSubprocVecEnv.*DummyVecEnv"):
        model.learn(N_STEPS)


def test_a_stop_in_the_middle_of_a_rollout_leaves_no_step_in_flight(tmp_path):
    from stable_baselines3.common.callbacks import BaseCallback

    class StopAtThirdStep(BaseCallback):
        def _on_step(self) -> bool:
            return self.n_calls < 3

    args = _args(tmp_path, True)
    vec_env = make_vec_env(args)
    try:
        model = build_model(args.config(), vec_env, seed=0)
        model.overlap_rollouts = True
        model.learn(N_STEPS * 2, callback=StopAtThirdStep())
        assert model.num_timesteps == 3 * 2
        # the steps under way were waited for: no worker has a result nobody will read
        assert not any(remote.poll(0.5) for remote in vec_env.remotes)
        vec_env.step(np.array([1, 1]))  # and the envs step on as usual
    finally:
        vec_env.close()


def test_an_error_while_collecting_leaves_the_workers_idle(tmp_path):
    args = _args(tmp_path, True)
    vec_env = make_vec_env(args)
    try:
        model = build_model(args.config(), vec_env, seed=0)
        act, calls = model._act, []

        def failing_act(*a, **k):
            calls.append(1)
            if len(calls) == 4:
                raise RuntimeError("policy failed")
            return act(*a, **k)

        model._act = failing_act
        with pytest.raises(RuntimeError, match="policy failed"):
            model.learn(N_STEPS * 2)
        assert not any(remote.poll(0.5) for remote in vec_env.remotes)
        vec_env.step(np.array([1, 1]))
    finally:
        vec_env.close()


def test_train_with_overlapped_rollouts_writes_its_checkpoint(tmp_path):
    import json

    from navgym.training import train

    out = tmp_path / "run"
    result = train(head="dense", env_id=ENV_ID, timesteps=2 * N_STEPS * 2, n_envs=2, out=out, seed=1, overlap_rollouts=True,
                   eval_every=0, eval_episodes=0, checkpoint_every=2 * N_STEPS, env_kwargs=TINY_ENV,
                   model={"n_steps": N_STEPS, "batch_size": 12, "n_epochs": 1, "base_channels": 8}, progress=False)
    meta = json.loads((out / "checkpoint.json").read_text())
    assert result.num_timesteps == meta["num_timesteps"] == 2 * N_STEPS * 2 and meta["n_updates"] == 2  # two rollouts, one epoch each
    assert json.loads((out / "train_args.json").read_text())["overlap_rollouts"] is True
