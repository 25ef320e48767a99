"""RSRNav: encoder heads' sizes, the direction look-up against a loop reference, training with
checkpoints that resume, safe loading as an agent, and learning on a trivial env."""

from __future__ import annotations

import json
import math
import os

import gymnasium as gym
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="RSRNav needs torch (pip install navgym[rl])")
pytest.importorskip("sb3_contrib", reason="RSRNav needs sb3-contrib (pip install navgym[rl])")

import navgym  # noqa: E402,F401
from navgym.agents.rsrnav.encoders import (  # noqa: E402
    HEADS,
    RSRNavEncoder,
    all_pairs_correlation,
    correlation_pyramid,
    direction_correlation,
    direction_lookup,
)

IMAGE_SPACE = gym.spaces.Dict(
    {
        "rgb": gym.spaces.Box(0, 255, (3, 128, 128), dtype=np.uint8),
        "imagegoal": gym.spaces.Box(0, 255, (3, 128, 128), dtype=np.uint8),
    }
)
#: The documented cue sizes at 128x128 with the default trunk (C = 128).
CUE_SIZES = {"baseline": 256, "baseline_map": 512, "minimalist": 2, "dense": 256, "direction": 512}


# -- encoders ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("head", list(HEADS))
def test_head_output_sizes(head):
    torch.manual_seed(0)
    encoder = RSRNavEncoder(IMAGE_SPACE, head=head, features_dim=128)
    observations = {"rgb": torch.rand(3, 3, 128, 128), "imagegoal": torch.rand(3, 3, 128, 128)}
    assert encoder.cue_dim == CUE_SIZES[head]
    assert encoder.cue(observations).shape == (3, CUE_SIZES[head])
    features = encoder(observations)
    assert features.shape == (3, 128) and encoder.features_dim == 128
    features.sum().backward()  # gradients reach the shared trunk
    assert all(p.grad is not None for p in encoder.trunk.parameters())


def test_channel_last_spaces_and_bad_arguments():
    hwc = gym.spaces.Dict({k: gym.spaces.Box(0, 255, (128, 128, 3), dtype=np.uint8) for k in ("rgb", "imagegoal")})
    encoder = RSRNavEncoder(hwc, head="dense")
    assert encoder({"rgb": torch.rand(2, 128, 128, 3), "imagegoal": torch.rand(2, 128, 128, 3)}).shape == (2, 128)
    with pytest.raises(ValueError, match="head='densest'"):
        RSRNavEncoder(IMAGE_SPACE, head="densest")
    with pytest.raises(ValueError, match="imagegoal"):
        RSRNavEncoder(gym.spaces.Dict({"rgb": IMAGE_SPACE["rgb"]}))
    with pytest.raises(ValueError, match="levels=5"):
        RSRNavEncoder(IMAGE_SPACE, head="direction", levels=5)


def test_minimalist_scores_are_cosine_similarities_of_halves():
    head = RSRNavEncoder(IMAGE_SPACE, head="minimalist").head
    observation = torch.zeros(1, 2, 4, 4)
    observation[0, 0, :, :2] = 1.0  # left half: channel 0
    observation[0, 1, :, 2:] = 1.0  # right half: channel 1
    goal = torch.zeros(1, 2, 4, 4)
    goal[0, 0] = 3.0  # both halves: channel 0 (the scale does not matter)
    assert torch.allclose(head(observation, goal), torch.tensor([[1.0, 0.0]]), atol=1e-6)


def test_dense_head_is_the_flattened_all_pairs_correlation():
    torch.manual_seed(1)
    observation, goal = torch.randn(2, 5, 4, 4), torch.randn(2, 5, 4, 4)
    dense = RSRNavEncoder(IMAGE_SPACE, head="dense").head(observation, goal).reshape(2, 4, 4, 4, 4)
    for i, j, k, l in [(0, 0, 0, 0), (1, 2, 3, 0), (3, 3, 1, 2)]:
        expected = (observation[:, :, i, j] * goal[:, :, k, l]).sum(1) / math.sqrt(5)
        assert torch.allclose(dense[:, i, j, k, l], expected, atol=1e-5)


def reference_direction_correlation(observation: torch.Tensor, goal: torch.Tensor, levels: int, radius: int) -> torch.Tensor:
    """Eqs. (1), (3), (4) with Python loops: correlation, 2x2 average pyramid over the goal's dims,
    and a (2r+1)² bilinear look-up (zero outside) centred on (i / 2^k, j / 2^k) at level k."""
    b_size, depth, height, width = observation.shape
    side = 2 * radius + 1
    out = torch.zeros(b_size, levels * side * side, height, width, dtype=torch.float64)
    obs, gl = observation.double(), goal.double()
    for b in range(b_size):
        for i in range(height):
            for j in range(width):
                level = [[sum(float(obs[b, d, i, j] * gl[b, d, k, l]) for d in range(depth)) / math.sqrt(depth) for l in range(width)] for k in range(height)]
                for n in range(levels):
                    if n > 0:
                        level = [
                            [(level[2 * y][2 * x] + level[2 * y][2 * x + 1] + level[2 * y + 1][2 * x] + level[2 * y + 1][2 * x + 1]) / 4 for x in range(len(level[0]) // 2)]
                            for y in range(len(level) // 2)
                        ]
                    for a, dy in enumerate(range(-radius, radius + 1)):
                        for c, dx in enumerate(range(-radius, radius + 1)):
                            y, x = i / 2**n + dy, j / 2**n + dx
                            value = 0.0
                            for yy in (math.floor(y), math.floor(y) + 1):
                                for xx in (math.floor(x), math.floor(x) + 1):
                                    weight = max(0.0, 1 - abs(y - yy)) * max(0.0, 1 - abs(x - xx))
                                    if weight > 0 and 0 <= yy < len(level) and 0 <= xx < len(level[0]):
                                        value += weight * level[yy][xx]
                            out[b, n * side * side + a * side + c, i, j] = value
    return out


@pytest.mark.parametrize("levels, radius", [(1, 1), (3, 1), (2, 2)])
def test_direction_lookup_matches_loop_reference(levels, radius):
    torch.manual_seed(levels * 10 + radius)
    observation, goal = torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)
    fast = direction_correlation(observation, goal, levels=levels, radius=radius)
    assert fast.shape == (2, levels * (2 * radius + 1) ** 2, 8, 8)
    assert torch.allclose(fast.double(), reference_direction_correlation(observation, goal, levels, radius), atol=1e-5)


@pytest.mark.parametrize("height, width, levels, radius", [(16, 16, 3, 1), (6, 10, 2, 2), (4, 4, 1, 0)])
def test_direction_lookup_as_one_matrix_equals_the_pyramid_path_in_values_and_gradients(height, width, levels, radius):
    """direction_correlation's per-point matrix product against the explicit pyramid + grid_sample
    path it replaces, forward and backward."""
    torch.manual_seed(height + width)
    observation = torch.randn(3, 5, height, width, dtype=torch.float64, requires_grad=True)
    goal = torch.randn(3, 5, height, width, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(3, levels * (2 * radius + 1) ** 2, height, width, dtype=torch.float64)
    fast = direction_correlation(observation, goal, levels=levels, radius=radius)
    explicit = direction_lookup(correlation_pyramid(all_pairs_correlation(observation, goal), levels), height, width, radius)
    assert torch.allclose(fast, explicit, atol=1e-6)
    fast_grads = torch.autograd.grad((fast * weights).sum(), (observation, goal))
    explicit_grads = torch.autograd.grad((explicit * weights).sum(), (observation, goal))
    for a, b in zip(fast_grads, explicit_grads):
        assert torch.allclose(a, b, atol=1e-6)


def test_cue_norm_normalises_the_cue_and_bfloat16_stays_close_to_float32():
    torch.manual_seed(0)
    observations = {"rgb": torch.rand(4, 3, 128, 128), "imagegoal": torch.rand(4, 3, 128, 128)}
    plain = RSRNavEncoder(IMAGE_SPACE, head="direction")
    normed = RSRNavEncoder(IMAGE_SPACE, head="direction", cue_norm=True)
    assert isinstance(normed.projection[0], torch.nn.LayerNorm) and isinstance(plain.projection[0], torch.nn.Linear)
    with torch.no_grad():
        normed.load_state_dict({k: v for k, v in plain.state_dict().items() if not k.startswith("projection")}, strict=False)
        cue = normed.projection[0](normed.cue(observations))
    assert torch.allclose(cue.mean(dim=1), torch.zeros(4), atol=1e-4) and torch.allclose(cue.std(dim=1, unbiased=False), torch.ones(4), atol=1e-2)
    half = RSRNavEncoder(IMAGE_SPACE, head="direction", precision="bfloat16")
    half.load_state_dict(plain.state_dict())
    with torch.no_grad():
        exact, approx = plain.cue(observations), half.cue(observations)
    assert approx.dtype == torch.float32
    assert torch.allclose(approx, exact, rtol=0.05, atol=0.05 * float(exact.abs().max()))
    with pytest.raises(ValueError, match="precision='half'"):
        RSRNavEncoder(IMAGE_SPACE, head="dense", precision="half")


def test_direction_lookup_points_at_the_goal_displacement():
    """When the goal shows each observation cell 2 cells further right, the look-up peaks at
    offset (0, +2) for every observation point."""
    size = 8
    observation = torch.eye(size * size).reshape(1, size * size, size, size)  # one-hot feature per cell
    goal = torch.roll(observation, shifts=2, dims=3)  # goal[k, l] = observation[k, l - 2]
    lookup = direction_correlation(observation, goal, levels=1, radius=2)
    best = lookup[0, :, :, : size - 2].argmax(dim=0)  # columns whose match lies inside the goal map
    assert torch.all(best == 2 * 5 + 4)  # row offset 0 (index 2 of 5), column offset +2 (index 4 of 5)


def test_pyramid_levels_pool_the_goal_dims():
    corr = all_pairs_correlation(torch.randn(1, 4, 8, 8), torch.randn(1, 4, 8, 8))
    pyramid = correlation_pyramid(corr, 3)
    assert [tuple(p.shape) for p in pyramid] == [(64, 1, 8, 8), (64, 1, 4, 4), (64, 1, 2, 2)]
    assert torch.allclose(pyramid[2][:, 0, 0, 0], corr[0, :, :, :4, :4].reshape(64, 16).mean(1), atol=1e-5)
    with pytest.raises(ValueError, match="levels=4"):
        correlation_pyramid(corr, 4)


def test_goal_deduplication_and_cache_change_no_value_or_gradient():
    from navgym.agents.rsrnav.encoders import unique_images

    torch.manual_seed(0)
    goals = torch.rand(3, 3, 64, 64)
    batch = goals[torch.tensor([2, 0, 2, 1, 0, 2])]
    unique, inverse = unique_images(batch)
    assert unique.shape[0] == 3 and torch.equal(unique[inverse], batch)
    assert unique_images(goals)[1] is None  # all distinct: nothing to share
    # Images that differ only where the fingerprint does not read stay apart (exact comparison).
    twin = goals[0].clone()
    twin.view(-1)[1] += 0.5  # the fingerprint reads every 3rd value of 12,288
    unique, inverse = unique_images(torch.stack((goals[0], twin, goals[0])))
    assert torch.equal(unique if inverse is None else unique[inverse], torch.stack((goals[0], twin, goals[0])))

    space = gym.spaces.Dict({k: gym.spaces.Box(0, 255, (3, 64, 64), dtype=np.uint8) for k in ("rgb", "imagegoal")})
    encoder = RSRNavEncoder(space, head="dense")
    observations = {"rgb": torch.rand(6, 3, 64, 64), "imagegoal": batch}

    def reference(obs):  # every row's goal through the trunk, no sharing
        features = encoder.trunk(torch.cat((obs["rgb"], obs["imagegoal"])))
        return encoder.projection(encoder.head(features[:6], features[6:]))

    expected = reference(observations)
    expected.square().sum().backward()
    expected_grads = [p.grad.clone() for p in encoder.trunk.parameters()]
    encoder.zero_grad()
    shared = encoder(observations)
    shared.square().sum().backward()
    assert torch.allclose(shared, expected, atol=1e-5)
    for got, want in zip((p.grad for p in encoder.trunk.parameters()), expected_grads):
        assert float((got - want).norm() / want.norm()) < 1e-4  # equal up to float summation order

    with torch.no_grad():  # acting: cached goal features, then a weight change must clear them
        assert torch.allclose(encoder(observations), expected, atol=1e-5)
        assert torch.allclose(encoder(observations), expected, atol=1e-5)
        for p in encoder.trunk.parameters():
            p.add_(0.05 * torch.randn_like(p))
        changed = encoder(observations)
    assert torch.allclose(changed, reference(observations), atol=1e-5)
    assert not torch.allclose(changed, expected, atol=1e-3)


def test_acting_goal_cache_reads_observed_uint8_images_and_converts_only_new_ones(monkeypatch):
    from navgym.agents.rsrnav import encoders as rsrnav_encoders

    torch.manual_seed(0)
    space = gym.spaces.Dict({k: gym.spaces.Box(0, 255, (64, 64, 3), dtype=np.uint8) for k in ("rgb", "imagegoal")})
    encoder = RSRNavEncoder(space, head="direction")  # channels-last observations, as the envs give them
    goals = torch.randint(0, 256, (3, 64, 64, 3), dtype=torch.uint8)
    observations = {"rgb": torch.randint(0, 256, (6, 64, 64, 3), dtype=torch.uint8), "imagegoal": goals[torch.tensor([2, 0, 2, 1, 0, 2])]}
    as_float = {k: v.float() / 255.0 for k, v in observations.items()}  # what SB3 hands over when it converts
    with torch.enable_grad():
        expected = encoder(observations).detach()  # the update's path: no cache
    with torch.no_grad():
        first = encoder(observations)
        assert len(encoder._cache) == 3  # one entry per distinct goal image
        converted = []
        original = rsrnav_encoders._unit
        monkeypatch.setattr(rsrnav_encoders, "_unit", lambda images: converted.append(images.shape[0]) or original(images))
        again = encoder(observations)
        monkeypatch.undo()
        assert converted == [6]  # the observations only: every goal came from the cache
        from_float = encoder(as_float)
    assert torch.allclose(first, expected, atol=1e-5) and torch.equal(again, first)
    assert torch.allclose(from_float, expected, atol=1e-5)
    assert len(encoder._cache) == 6  # float goals are other keys than the same uint8 images


# -- training, checkpoints, the agent ------------------------------------------------------------------------
TINY_ENV = {"num_scenes": 1, "episodes_per_scene": 4}
TINY_MODEL = {"n_steps": 16, "batch_size": 32, "n_epochs": 2}


def _adam_steps(checkpoint) -> int:
    from navgym.agents.rsrnav.model import read_state_dicts

    state = read_state_dicts(checkpoint)["policy.optimizer"]["state"]
    return int(next(iter(state.values()))["step"])


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Two envs in subprocesses, one rollout of 2 x 16 steps, direction head."""
    from navgym.training import train

    out = tmp_path_factory.mktemp("rsrnav_run")
    result = train(
        head="direction", env_id="ImageNav-ProcHouseEasy-v0", timesteps=32, n_envs=2, out=out, seed=3,
        eval_every=32, eval_episodes=2, checkpoint_every=32, env_kwargs=TINY_ENV, model=TINY_MODEL, progress=False,
    )
    return out, result


def test_train_writes_checkpoint_logs_and_evaluations(tiny_run):
    out, result = tiny_run
    meta = json.loads((out / "checkpoint.json").read_text())
    assert result.num_timesteps == meta["num_timesteps"] == 32
    assert meta["n_updates"] == 2 and _adam_steps(out / "checkpoint.zip") == 2  # 2 epochs x 1 minibatch
    assert meta["config"]["head"] == "direction" and meta["observation_shapes"]["rgb"] == [128, 128, 3]
    evaluations = [json.loads(line) for line in (out / "eval.jsonl").read_text().splitlines()]
    assert [e["timesteps"] for e in evaluations] == [32]
    assert evaluations[0]["episodes"] == 2 and 0.0 <= evaluations[0]["success"] <= 1.0 and evaluations[0]["spl"] is not None
    assert list((out / "tb").glob("*/events.out.tfevents.*"))
    assert json.loads((out / "train_args.json").read_text())["head"] == "direction"


def test_resume_continues_from_the_saved_step_and_optimiser_state(tiny_run, tmp_path):
    import shutil

    from navgym.agents.rsrnav.model import RSRNavConfig, build_model, read_state_dicts, restore_training_state
    from navgym.training import TrainArgs, make_vec_env, train

    source, _ = tiny_run
    out = tmp_path / "run"
    shutil.copytree(source, out)
    with pytest.raises(FileExistsError, match="resume"):
        train(head="direction", timesteps=64, n_envs=2, out=out, env_kwargs=TINY_ENV, model=TINY_MODEL, progress=False)
    with pytest.raises(ValueError, match="differs"):
        train(head="dense", timesteps=64, n_envs=2, out=out, resume=True, env_kwargs=TINY_ENV, model=TINY_MODEL, progress=False)

    # What resume loads: the saved weights, Adam moments and step counts, exactly.
    vec_env = make_vec_env(TrainArgs(n_envs=1, env_kwargs=TINY_ENV, model=TINY_MODEL))
    try:
        model = build_model(RSRNavConfig(head="direction", **TINY_MODEL), vec_env, seed=99)
        restore_training_state(model, out / "checkpoint.zip")
        saved = read_state_dicts(out / "checkpoint.zip")
        assert model.num_timesteps == 32 and model._n_updates == 2
        for key, tensor in saved["policy"].items():
            assert torch.equal(model.policy.state_dict()[key], tensor), key
        loaded_state = model.policy.optimizer.state_dict()["state"]
        for index, moments in saved["policy.optimizer"]["state"].items():
            for name, value in moments.items():
                assert torch.equal(torch.as_tensor(loaded_state[index][name]), torch.as_tensor(value)), (index, name)
    finally:
        vec_env.close()

    result = train(
        head="direction", timesteps=64, n_envs=2, out=out, resume=True, seed=3, eval_every=0, eval_episodes=0,
        checkpoint_every=32, env_kwargs=TINY_ENV, model=TINY_MODEL, progress=False, ppo_encoder_lr_scale=0.5,
    )
    meta = json.loads((out / "checkpoint.json").read_text())
    assert result.start_timesteps == 32 and result.num_timesteps == meta["num_timesteps"] == 64
    assert meta["n_updates"] == 4 and _adam_steps(out / "checkpoint.zip") == 4  # continued, not restarted
    # The first part's settings are kept where the resumed run changed what trains (not for the folder it
    # moved to, nor for evaluations, which change what is reported, not what is trained)
    history = [json.loads(line) for line in (out / "train_args_history.jsonl").read_text().splitlines()]
    assert [entry["changed"] for entry in history] == [["ppo_encoder_lr_scale"]]
    assert history[0]["train_args"]["eval_every"] == 32 and history[0]["train_args"]["ppo_encoder_lr_scale"] == 1.0
    assert json.loads((out / "train_args.json").read_text())["eval_every"] == 0


def test_train_arguments_are_checked(tmp_path):
    from navgym.training import TrainArgs

    with pytest.raises(ValueError, match="agent='frontier'"):
        TrainArgs(agent="frontier")
    with pytest.raises(ValueError, match="goal_camera='phone'"):
        TrainArgs(goal_camera="phone")
    with pytest.raises(ValueError, match="head='bogus'"):
        TrainArgs(head="bogus")
    with pytest.raises(ValueError, match="n_envs=0"):
        TrainArgs(n_envs=0)
    with pytest.raises(ValueError, match="Unknown RSRNav settings"):
        TrainArgs(model={"hidden": 3})
    from navgym.training import train

    with pytest.raises(FileNotFoundError, match="resume=True"):
        train(out=tmp_path / "nothing", resume=True, progress=False)


def test_training_device_auto_follows_torch_and_a_missing_gpu_is_named(monkeypatch):
    """--device auto is CUDA when torch sees a GPU, else the CPU; asking for a GPU torch cannot see
    names the device and the fix (the GPU path itself never ran on navgym's machines)."""
    import torch

    from navgym.training import TrainArgs
    from navgym.training.args import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu" and resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match=r"device='cuda'.*sees no GPU.*'auto' or 'cpu'"):
        TrainArgs(device="cuda")
    with pytest.raises(ValueError, match=r"device='tpu'.*'auto', 'cpu', 'cuda' or 'cuda:N'"):
        TrainArgs(device="tpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("auto") == "cuda" and resolve_device("cuda:0") == "cuda:0"
    with pytest.raises(ValueError, match=r"device='cuda:1'.*1 GPU"):
        resolve_device("cuda:1")


@pytest.mark.slow  # about a minute or more on 2 cores
def test_loaded_agent_acts_on_a_real_env_without_unpickling(tiny_run, monkeypatch):
    import pickle

    import cloudpickle

    import navgym.agents.rsrnav  # noqa: F401  (registers "rsrnav")
    from navgym.agents import make
    from navgym.agents.rsrnav.model import export_policy
    from navgym.evaluation import evaluate

    out, _ = tiny_run
    real_load = torch.load

    def checked_load(*args, **kwargs):
        assert kwargs.get("weights_only") is True, "checkpoints must be read with weights_only=True"
        return real_load(*args, **kwargs)

    def no_unpickling(*args, **kwargs):
        raise AssertionError("loading an RSRNav checkpoint must not unpickle")

    monkeypatch.setattr(torch, "load", checked_load)
    monkeypatch.setattr(cloudpickle, "loads", no_unpickling)
    monkeypatch.setattr(pickle, "loads", no_unpickling)
    env = gym.make("ImageNav-ProcHouseEasy-v0", split="val", **TINY_ENV)
    for checkpoint in (out / "checkpoint.zip", export_policy(out / "checkpoint.zip", out / "policy_only.zip")):
        agent = make("rsrnav", env=env, checkpoint=str(checkpoint))
        result = evaluate(env, agent, episodes=1, progress=False)
        record = result.records[0]
        assert 1 <= record["num_steps"] <= 200 and record["success"] in (0.0, 1.0)
    assert (out / "policy_only.zip").stat().st_size < 0.5 * (out / "checkpoint.zip").stat().st_size

    with pytest.raises(ValueError, match="checkpoint="):
        make("rsrnav", env=env)
    small = gym.make("ImageNav-ProcHouseEasy-v0", split="val", resolution=64, **TINY_ENV)
    with pytest.raises(ValueError, match="resolution=128"):
        make("rsrnav", env=small, checkpoint=str(out / "checkpoint.zip"))


# -- threads and progress (issue 19) -------------------------------------------------------------------------
def _untrained_checkpoint(path):
    """A checkpoint of an untrained minimalist model (seconds, no training)."""
    from stable_baselines3.common.vec_env import DummyVecEnv

    from navgym.agents.rsrnav.model import RSRNavConfig, build_model, save_checkpoint

    vec_env = DummyVecEnv([lambda: gym.make("ImageNav-ProcHouseEasy-v0", split="val", **TINY_ENV)])
    try:
        config = RSRNavConfig(head="minimalist", n_steps=16, batch_size=16)
        save_checkpoint(build_model(config, vec_env, seed=0), path, config)
    finally:
        vec_env.close()
    return path


def test_agent_sets_torch_threads_to_one_unless_told(tmp_path):
    """Acting is one observation at a time: torch's default threads only oversubscribe the cores
    (~500 ms a policy call under load against 6-9 ms with one)."""
    from navgym.agents import make

    checkpoint = str(_untrained_checkpoint(tmp_path / "checkpoint.zip"))
    env = gym.make("ImageNav-ProcHouseEasy-v0", split="val", **TINY_ENV)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        make("rsrnav", env=env, checkpoint=checkpoint)
        assert torch.get_num_threads() == 1
        make("rsrnav", env=env, checkpoint=checkpoint, threads=2)
        assert torch.get_num_threads() == 2
        make("rsrnav", env=env, checkpoint=checkpoint, threads=None)
        assert torch.get_num_threads() == 2
        with pytest.raises(ValueError, match="threads=0"):
            make("rsrnav", env=env, checkpoint=checkpoint, threads=0)
    finally:
        torch.set_num_threads(before)


def test_env_worker_processes_use_one_torch_thread():
    from navgym.training import TrainArgs
    from navgym.training.envs import _EnvFactory

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        _EnvFactory(TrainArgs(n_envs=2, env_kwargs=TINY_ENV, model=TINY_MODEL))().close()  # in-process (DummyVecEnv): untouched
        assert torch.get_num_threads() == 2
        _EnvFactory(TrainArgs(n_envs=2, env_kwargs=TINY_ENV, model=TINY_MODEL), worker=True)().close()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_final_evaluation_shows_a_progress_bar(tmp_path, capsys):
    """The final evaluation, after the last update, runs for minutes on real settings: it has a
    progress bar (stderr) of its own."""
    import time

    from navgym.training import TrainArgs, make_callback, make_training_env

    class Policy:  # stops at once: one step per episode
        def predict(self, obs, state=None, episode_start=None, deterministic=True):
            return np.array([0]), None

        def set_training_mode(self, mode):
            pass

    class Logger:
        def record(self, *args, **kwargs):
            pass

    class Model:
        num_timesteps, policy, logger = 16, Policy(), Logger()

    args = TrainArgs(out=tmp_path, eval_every=0, eval_episodes=2, checkpoint_every=0, env_kwargs=TINY_ENV, model=TINY_MODEL, progress=True)
    eval_env = make_training_env(args.env_id, "val", reward="env", **TINY_ENV)
    callback = make_callback(args, args.config(), eval_env, time.time(), 0)
    callback.init_callback(Model())
    callback.save = lambda: None  # no real model to save
    callback.finish()
    err = capsys.readouterr().err
    assert "final evaluation @ 16 steps (val)" in err and "2/2" in err, err
    assert json.loads((tmp_path / "eval.jsonl").read_text())["episodes"] == 2


# -- learning ------------------------------------------------------------------------------------------------
def facing_goal_env(split: str = "val", start_distance: float = 1.4, **kwargs):
    """A trivial ImageNav env: the agent starts 1.4 m from the goal on a free straight line,
    facing it, and the goal photo looks the same way. "Forward 2 to 9 times, then stop" succeeds
    (within 1 m); stopping at once, or never, fails."""
    from navgym.envs.factory import make_nav_env
    from navgym.core.geometry import yaw_to_quaternion

    env = make_nav_env("ImageNav", "ProcHouse", split=split, difficulty="easy", max_goal_distance=2.0, num_scenes=2, episodes_per_scene=20, **kwargs)
    kept = []
    for episode in env.dataset.episodes:
        start, goal = np.array(episode.start_position), np.array(episode.goals[0].position)
        offset = goal - start
        length = math.hypot(offset[0], offset[2])
        if episode.info["geodesic_distance"] > 1.05 * length:  # something in the way
            continue
        episode.start_position = [float(v) for v in goal - offset / length * start_distance]
        facing = [float(v) for v in yaw_to_quaternion(math.atan2(-offset[0], -offset[2]))]
        episode.start_rotation = facing
        episode.info = {**episode.info, "goal_rotation": facing, "geodesic_distance": start_distance}
        kept.append(episode)
    env.dataset.episodes[:] = kept
    return env


@pytest.mark.slow
def test_short_training_beats_random_on_a_trivial_env(tmp_path):
    """~70 s of CPU: PPO on the dense head learns to walk up to a goal it faces and stop.

    The sampled policy is evaluated (early on, the most likely action at the stopping point is
    often still ``move_forward``, so the deterministic policy is not yet reliable).

    With one torch thread, training seeds 0-3 reached SR 0.958, 0.958, 0.958 and 0.917 on
    2026-12-02 (random: 0.075; ``NAVGYM_CONTROL_SEED=s python -m pytest tests/agents/test_rsrnav.py
    -k trivial -s`` prints it; an earlier machine gave 0.00, 1.00, 0.88 and 0.83). The test trains
    seed 1 (override with NAVGYM_CONTROL_SEED): it shows the pipeline can learn and catches changes
    that break learning, not that every seed learns.

    History: on 2026-12-01 it failed on that day's machine with the code of the time too (trained
    SR 0.00 against random 0.12) and was marked xfail; it passed again in every CI run from
    2026-12-02 (abcf0b6, eb17c82, a8545dd) and on all four seeds above, so the mark is gone. Why it
    failed that day was not isolated."""
    from navgym.agents import make
    from navgym.agents.rsrnav import make_rsrnav_agent
    from navgym.evaluation import evaluate
    from navgym.training import train

    if "navgym-test/FacingGoal-v0" not in gym.registry:
        gym.register("navgym-test/FacingGoal-v0", entry_point=facing_goal_env, max_episode_steps=20)
    env = gym.make("navgym-test/FacingGoal-v0", split="val")
    episodes = len(env.unwrapped.dataset.episodes)
    assert episodes >= 5

    def success_rate(make_agent, passes: int) -> float:
        rates = []
        for seed in range(passes):
            torch.manual_seed(seed)
            rates.append(evaluate(env, make_agent(seed), episodes, seed=seed, progress=False).summary()["success"]["mean"])
        return float(np.mean(rates))

    random_rate = success_rate(lambda seed: make("random", env=env, seed=seed), passes=5)
    control_seed = int(os.environ.get("NAVGYM_CONTROL_SEED", "1"))
    train(
        head="dense", env_id="navgym-test/FacingGoal-v0", timesteps=2048, n_envs=1, out=tmp_path, seed=control_seed,
        eval_every=0, eval_episodes=0, checkpoint_every=0, progress=False, torch_threads=1, update_threads=1,  # same sums on any CPU
        model={"n_steps": 64, "batch_size": 64, "n_epochs": 4, "learning_rate": 2.5e-3, "initial_stop_probability": 0.25},
    )
    checkpoint = tmp_path / "checkpoint.zip"
    trained_rate = success_rate(lambda seed: make_rsrnav_agent(env, checkpoint=checkpoint, deterministic=False), passes=3)
    print(f"\nfacing-goal env, seed {control_seed}, {episodes} val episodes: random SR {random_rate:.3f} (5 passes), trained dense head SR {trained_rate:.3f} (3 passes, sampled actions), 2048 training steps")
    assert random_rate < 0.35
    assert trained_rate >= random_rate + 0.3, f"trained SR {trained_rate:.2f} vs random {random_rate:.2f}"


# -- the navgym command ---------------------------------------------------------------------------------------
CLI_TINY = [
    "--env", "ImageNav-ProcHouseEasy-v0", "--env-option", "num_scenes=1", "--env-option", "episodes_per_scene=4",
    "--model-option", "n_steps=16", "--model-option", "batch_size=16", "--no-progress",
]


def navgym_cli(*args: str, timeout: int = 600):
    import os
    import subprocess
    import sys

    env = {**os.environ, "TQDM_DISABLE": "1", "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "navgym.cli", *args], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.slow  # about a minute or more on 2 cores
def test_cli_train_resume_and_evaluate_the_checkpoint(tmp_path):
    out = tmp_path / "run"
    first = navgym_cli("train", "--head", "minimalist", "--timesteps", "32", "--n-envs", "1", "--out", str(out),
                       "--eval-every", "0", "--eval-episodes", "1", *CLI_TINY)
    assert first.returncode == 0, first.stderr
    assert json.loads((out / "checkpoint.json").read_text())["num_timesteps"] == 32
    assert "val @ 32 steps" in first.stdout and "navgym evaluate" in first.stdout
    again = navgym_cli("train", "--head", "minimalist", "--timesteps", "64", "--n-envs", "1", "--out", str(out), *CLI_TINY)
    assert again.returncode == 2 and "--resume" in again.stderr  # never overwrites a run silently
    # A curriculum step: the run continues on another ImageNav id (the last --env wins).
    resumed = navgym_cli("train", "--head", "minimalist", "--timesteps", "64", "--n-envs", "1", "--out", str(out), "--resume",
                         "--eval-episodes", "0", *CLI_TINY, "--env", "ImageNav-ProcHouseNear-v0")
    assert resumed.returncode == 0, resumed.stderr
    assert "(32 -> 64)" in resumed.stdout
    meta = json.loads((out / "checkpoint.json").read_text())
    assert meta["num_timesteps"] == 64 and meta["n_updates"] == 64 // 16 * meta["config"]["n_epochs"]  # 4 rollouts of 16

    evaluated = navgym_cli("evaluate", "--env", "ImageNav-ProcHouseEasy-v0", "--agent", "rsrnav", "--checkpoint", str(out / "checkpoint.zip"),
                           "--episodes", "2", "--out", str(tmp_path / "eval"), "--env-option", "num_scenes=1", "--env-option", "episodes_per_scene=2")
    assert evaluated.returncode == 0, evaluated.stderr
    records = [json.loads(line) for line in (tmp_path / "eval" / "episodes.jsonl").read_text().splitlines()]
    assert len(records) == 2 and all(1 <= r["num_steps"] <= 200 for r in records)


def _sigint_default() -> None:
    """In the child: SIGINT back to its default, so Python raises KeyboardInterrupt on it even when
    the suite runs as a background job (which starts with SIGINT ignored, inherited by children)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow  # about a minute or more on 2 cores
def test_cli_interrupted_training_keeps_a_resumable_checkpoint(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    args = ["train", "--head", "dense", "--timesteps", "100000", "--n-envs", "2", "--out", str(out), "--eval-episodes", "0",
            "--checkpoint-every", "32", *CLI_TINY]
    process = subprocess.Popen([sys.executable, "-m", "navgym.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "TQDM_DISABLE": "1"}, preexec_fn=_sigint_default)
    meta_file = out / "checkpoint.json"
    deadline = time.time() + 300
    while time.time() < deadline and not (meta_file.exists() and json.loads(meta_file.read_text() or "{}").get("num_timesteps", 0) >= 64):
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "--resume" in stderr
    saved = json.loads(meta_file.read_text())
    assert saved["num_timesteps"] >= 64 and saved["num_timesteps"] % 32 == 0  # a rollout boundary (2 envs x 16 steps)
    assert saved["n_updates"] == saved["num_timesteps"] // 32 * saved["config"]["n_epochs"]  # weights match the count

    target = saved["num_timesteps"] + 32
    resumed = navgym_cli(*[a if a != "100000" else str(target) for a in args], "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"({saved['num_timesteps']} -> {target})" in resumed.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--head", "densest"], "head='densest'"),
        (["--env", "ImageNav-ProcHous-v0"], "Did you mean"),
        (["--env", "ObjectNav-ProcHouse-v0"], "imagegoal"),
        (["--goal-camera", "phone"], "goal_camera='phone'"),
        (["--model-option", "hidden=3"], "Unknown RSRNav settings"),
        (["--model-option", "precision=half"], "precision='half' is not one of"),
        (["--model-option", "cue_norm=maybe"], "cue_norm='maybe' must be true or false"),
        (["--pretrain", "imitate"], "pretrain='imitate'"),
        (["--overlap-rollouts"], "overlap_rollouts=True needs n_envs >= 2"),
        (["--env-option", "split=val"], "training fixes the splits"),
    ],
)
def test_cli_train_bad_arguments_exit_2_with_the_fix(tmp_path, args, message):
    result = navgym_cli("train", "--out", str(tmp_path / "x"), "--timesteps", "16", "--n-envs", "1", "--no-progress", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


@pytest.mark.parametrize("damage", ["cut", "crc"])
def test_a_damaged_checkpoint_is_an_error_naming_it_from_python_too(tmp_path, damage):
    """read_state_dicts (what make('rsrnav', checkpoint=...) and resumes read) gave a bare
    zipfile.BadZipFile for a bad copy; now an InvalidArgumentError naming the file."""
    import zipfile

    from navgym.agents.rsrnav.model import read_state_dicts
    from navgym.errors import InvalidArgumentError

    source = _untrained_checkpoint(tmp_path / "intact.zip")
    data = bytearray(source.read_bytes())
    if damage == "cut":
        data = data[: len(data) // 2]
    else:
        with zipfile.ZipFile(source) as archive:
            data[archive.getinfo("policy.pth").header_offset + 300] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    assert read_state_dicts(source)["policy"]
    with pytest.raises(InvalidArgumentError, match=r"checkpoint='.*damaged\.zip' is damaged"):
        read_state_dicts(damaged)
