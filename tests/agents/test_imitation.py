"""Imitation before PPO (navgym.training.imitation): oracle demonstrations, behaviour cloning
that fits them (optionally with the auxiliary goal-pose loss), DAgger collection with a learner,
and PPO that starts from the BC weights."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="imitation needs torch (pip install navgym[rl])")
pytest.importorskip("sb3_contrib", reason="imitation needs sb3-contrib (pip install navgym[rl])")

from navgym.training.imitation import (  # noqa: E402
    CollectSpec,
    Demonstrations,
    InterleavedCloning,
    action_agreement,
    augment_images,
    behaviour_cloning,
    collect,
    demonstration_cache_path,
    discounted_returns,
    goal_pose,
)

ENV_ID = "ImageNav-ProcHouseEasy-v0"
TINY_ENV = {"num_scenes": 1, "episodes_per_scene": 4}  # as test_rsrnav.py: one cached house
TINY_MODEL = {"n_steps": 16, "batch_size": 32, "n_epochs": 2}
SPEC = CollectSpec(ENV_ID, "train", env_kwargs=tuple(sorted(TINY_ENV.items())), seed=5)


@pytest.fixture(scope="module")
def demos():
    return collect(SPEC, range(4), progress=False)


def test_env_options_that_are_dicts_reach_the_collecting_env(demos):
    """sim_options is a dict (unhashable): collecting with it once failed with a TypeError."""
    raster = CollectSpec(ENV_ID, "train", env_kwargs=tuple(sorted({**TINY_ENV, "sim_options": {"render_backend": "raster"}}.items())), seed=5)
    again = collect(raster, range(1), progress=False)
    assert again.success == demos.success[:1] and np.array_equal(again.labels[0], demos.labels[0])


def _model(head: str = "dense", seed: int = 0):
    from navgym.agents.rsrnav.model import RSRNavConfig, build_model
    from navgym.training import TrainArgs, make_vec_env

    vec_env = make_vec_env(TrainArgs(env_id=ENV_ID, n_envs=1, env_kwargs=TINY_ENV, model=TINY_MODEL, head=head))
    return build_model(RSRNavConfig(head=head, **TINY_MODEL), vec_env, seed=seed), vec_env


def test_oracle_demonstrations_succeed_and_round_trip(demos, tmp_path):
    assert len(demos) == 4 and demos.steps == sum(len(a) for a in demos.rgb)
    assert all(demos.success)
    for labels, actions, rgb, goal in zip(demos.labels, demos.actions, demos.rgb, demos.goal):
        assert np.array_equal(labels, actions)  # the oracle acted
        assert labels[-1] == 0 and 0 not in labels[:-1]  # it stops once, at the end
        assert rgb.dtype == np.uint8 and rgb.shape[1:] == goal.shape == (128, 128, 3)
    assert demos.episode_index == [0, 1, 2, 3]
    path = demos.save(tmp_path / "demos.npz")
    again = Demonstrations.load(path)
    for name in ("rgb", "goal", "labels", "actions", "rewards", "goal_pose"):
        assert len(getattr(again, name)) == 4, name
        assert all(np.array_equal(a, b) for a, b in zip(getattr(again, name), getattr(demos, name))), name
    assert again.success == demos.success and again.episode_index == demos.episode_index
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="demonstrations=.*cannot be read"):
        Demonstrations.load(tmp_path / "bad.npz")


def test_the_view_teacher_labels_a_walk_on_to_the_goal_photo(demos):
    """bc_teacher="view": the same episodes, labelled by a follower that walks on to within 0.3 m
    of the goal photo's position and turns to its heading before it stops."""
    view = collect(dataclasses.replace(SPEC, teacher="view"), range(4), progress=False)
    assert all(view.success)
    for labels, path_labels, poses in zip(view.labels, demos.labels, view.goal_pose):
        assert labels[-1] == 0 and 0 not in labels[:-1]
        assert len(labels) > len(path_labels)
        assert poses[-1, 0] <= 0.3 + 1e-4  # a straight line, at most the geodesic it stops within
    assert np.mean([p[-1, 0] for p in view.goal_pose]) < np.mean([p[-1, 0] for p in demos.goal_pose])
    with pytest.raises(ValueError, match="teacher='shortest'"):
        collect(dataclasses.replace(SPEC, teacher="shortest"), range(1), progress=False)


def test_the_look_teacher_turns_first_only_where_the_goal_photos_scene_is_out_of_view():
    """bc_teacher="look": the view teacher's episodes, each begun with turns toward the goal
    photo's heading where it is more than half the field of view away; one labeller per
    episode (it remembers its look), so every episode succeeds and ends with one stop."""
    view = collect(dataclasses.replace(SPEC, teacher="view"), range(4), progress=False)
    look = collect(dataclasses.replace(SPEC, teacher="look"), range(4), progress=False)
    assert all(look.success)
    turned = 0
    for labels, view_labels, poses in zip(look.labels, view.labels, look.goal_pose):
        assert labels[-1] == 0 and 0 not in labels[:-1]
        if len(labels) == len(view_labels):
            assert np.array_equal(labels, view_labels)
        else:
            turned += 1
            first_move = int(np.argmax(labels == 1))
            assert set(labels[:first_move].tolist()) <= {2, 3} and first_move > 0
    assert turned > 0  # some of the four start facing away from the photo's heading


def test_demonstration_caches_are_kept_apart_by_teacher():
    from navgym import __version__
    from navgym.core.paths import cache_dir

    path = demonstration_cache_path(SPEC, [0, 1])
    assert demonstration_cache_path(dataclasses.replace(SPEC, teacher="view"), [0, 1]) != path
    assert demonstration_cache_path(dataclasses.replace(SPEC, teacher="look"), [0, 1]) not in (path, demonstration_cache_path(dataclasses.replace(SPEC, teacher="view"), [0, 1]))
    assert demonstration_cache_path(SPEC, [0, 2]) != path
    # The default teacher's key is the one caches had before teachers existed: they still hit.
    key = json.dumps({"format": 2, "navgym": __version__, "spec": [SPEC.env_id, "train", "agent", list(map(list, SPEC.env_kwargs)), 5],
                      "indices": [0, 1]}, sort_keys=True, default=str)
    assert path == cache_dir() / "demonstrations" / f"{SPEC.env_id}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"


def test_goal_pose_is_recorded_for_every_state(demos):
    for poses, labels, success in zip(demos.goal_pose, demos.labels, demos.success):
        assert poses.dtype == np.float32 and poses.shape == (len(labels), 3)
        assert np.allclose(poses[:, 1] ** 2 + poses[:, 2] ** 2, 1.0, atol=1e-5)
        assert np.all(poses[:, 0] >= 0)
        # The oracle walks to the goal: the last state (where it stops) is nearer, and within
        # about the success radius when the episode succeeded.
        assert poses[-1, 0] < poses[0, 0], poses[:, 0]
        if success:
            assert poses[-1, 0] < 1.5, poses[:, 0]


def test_goal_pose_bearing_is_counter_clockwise_from_the_heading():
    from navgym.core.geometry import wrap_angle, yaw_toward
    from navgym.training.imitation import _worker_env

    env = _worker_env(SPEC)
    env.reset(seed=0, options={"episode_index": 0})
    for action in ("turn_left", "move_forward", "turn_left", "turn_left"):  # a few poses, not only the start's
        state = env.unwrapped.sim.get_agent_state()
        goal = np.asarray(env.unwrapped.episode.goals[0].position)
        bearing = wrap_angle(yaw_toward(state.position, goal) - state.yaw)  # yaw is counter-clockwise positive
        distance = math.hypot(goal[0] - state.position[0], goal[2] - state.position[2])
        assert np.allclose(goal_pose(env), [distance, math.sin(bearing), math.cos(bearing)], atol=1e-5)
        env.step(env.unwrapped.actions.index(action))


def test_format_1_demonstrations_still_load(demos, tmp_path):
    path = demos.save(tmp_path / "demos.npz")
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files if name != "goal_pose"}
    np.savez(tmp_path / "v1.npz", **{**arrays, "format": np.array(1)})  # what navgym wrote before goal poses
    old = Demonstrations.load(tmp_path / "v1.npz")
    assert old.goal_pose == [] and not old.has_goal_pose
    assert len(old) == 4 and all(np.array_equal(a, b) for a, b in zip(old.labels, demos.labels))
    with pytest.raises(ValueError, match="aux_coef=0.5 .*lack goal poses"):
        behaviour_cloning(None, old, epochs=1, aux_coef=0.5, progress=False)  # refused before the policy is used
    # Saved again, they stay without goal poses (and so do demonstrations mixing both formats).
    assert Demonstrations.load(old.save(tmp_path / "again.npz")).goal_pose == []
    mixed = Demonstrations().extend(demos).extend(old)
    assert not mixed.has_goal_pose and Demonstrations.load(mixed.save(tmp_path / "mixed.npz")).goal_pose == []
    np.savez(tmp_path / "v99.npz", **{**arrays, "format": np.array(99)})
    with pytest.raises(ValueError, match="have format 99; this navgym reads formats"):
        Demonstrations.load(tmp_path / "v99.npz")


def test_discounted_returns():
    assert np.allclose(discounted_returns(np.array([1.0, 0.0, 2.0]), 0.5), [1.5, 1.0, 2.0])


@pytest.mark.slow  # about a minute on 2 cores
def test_behaviour_cloning_lowers_the_loss_and_imitates_the_oracle(demos):
    torch.set_num_threads(1)
    model, vec_env = _model()
    try:
        before = action_agreement(model.policy, demos)
        # Whole batches of the 4 episodes (62 states), a large step and many passes (measured:
        # loss 1.27 -> 0.54 and agreement 0.23 -> 0.89 in these 60 updates).
        history = behaviour_cloning(model.policy, demos, epochs=60, learning_rate=3e-3, batch_steps=256, progress=False)
        after = action_agreement(model.policy, demos)
    finally:
        vec_env.close()
    assert history[-1]["bc_loss"] < 0.7 * history[0]["bc_loss"], [h["bc_loss"] for h in history]
    assert history[-1]["value_loss"] < history[0]["value_loss"]
    majority = max(np.mean(np.concatenate(demos.labels) == a) for a in range(4))
    assert after > max(before, majority) + 0.2, (before, majority, after)


def test_behaviour_cloning_auxiliary_goal_pose_loss(demos):
    torch.set_num_threads(1)
    kwargs = dict(epochs=6, learning_rate=3e-3, batch_steps=64, progress=False)
    weights = {}
    for name, extra in (("default", {}), ("zero", {"aux_coef": 0.0}), ("aux", {"aux_coef": 1.0})):
        model, vec_env = _model()
        try:
            keys = set(model.policy.state_dict())
            history = behaviour_cloning(model.policy, demos, **extra, **kwargs)
            assert set(model.policy.state_dict()) == keys  # the head is not kept in the policy
            weights[name] = {k: v.clone() for k, v in model.policy.state_dict().items()}
        finally:
            vec_env.close()
        if name == "aux":
            losses = [h["aux_loss"] for h in history]
            assert all(np.isfinite(losses)) and losses[-1] < losses[0], losses
        else:
            assert "aux_loss" not in history[-1]
    # aux_coef=0 is training without the auxiliary loss, bit for bit; a positive one changes it.
    assert all(torch.equal(weights["default"][k], weights["zero"][k]) for k in weights["default"])
    assert not all(torch.equal(weights["default"][k], weights["aux"][k]) for k in weights["default"])
    with pytest.raises(ValueError, match="aux_coef=-1.0"):
        behaviour_cloning(None, demos, aux_coef=-1.0, progress=False)


def test_augment_images_shifts_and_rescales_each_image_and_keeps_padding():
    generator = torch.Generator().manual_seed(0)
    rows = torch.arange(32.0)[None, None, :, None].expand(6, 3, 32, 32) * 4 + 50  # a vertical ramp
    images = rows.clone()
    images[3] = 0.0  # padding of a batch of sequences
    out = augment_images(images, generator, max_shift=1 / 8, brightness=0.0, contrast=0.0)
    assert out.shape == images.shape and torch.equal(out[3], images[3])
    # brightness and contrast off: a pure shift of at most 4 rows, edge rows repeated
    for i in (0, 1, 2, 4, 5):
        shift = round(float(out[i, 0, 16, 0] - images[i, 0, 16, 0]) / 4)
        assert abs(shift) <= 4
        expected = torch.roll(images[i], -shift, dims=1)
        inner = slice(4, 28)
        assert torch.equal(out[i, :, inner], expected[:, inner])
    assert len({float(out[i, 0, 16, 0]) for i in (0, 1, 2, 4, 5)}) > 1  # drawn per image
    jittered = augment_images(images, torch.Generator().manual_seed(1), max_shift=0.0)
    assert float(jittered.min()) >= 0.0 and float(jittered.max()) <= 255.0 and not torch.equal(jittered[0], images[0])
    again = augment_images(images, torch.Generator().manual_seed(1), max_shift=0.0)
    assert torch.equal(jittered, again)  # the generator alone decides


def test_behaviour_cloning_augmentation_and_cosine_schedule(demos):
    torch.set_num_threads(1)
    kwargs = dict(epochs=3, learning_rate=3e-3, batch_steps=64, progress=False)
    weights = {}
    for name, extra in (("plain", {}), ("constant", {"lr_schedule": "constant", "augment": False}), ("augment", {"augment": True}),
                        ("cosine", {"lr_schedule": "cosine"})):
        model, vec_env = _model()
        try:
            history = behaviour_cloning(model.policy, demos, **extra, **kwargs)
            weights[name] = {k: v.clone() for k, v in model.policy.state_dict().items()}
        finally:
            vec_env.close()
        assert len(history) == 3 and all(math.isfinite(h["loss"]) for h in history)
    same = lambda a, b: all(torch.equal(weights[a][k], weights[b][k]) for k in weights[a])  # noqa: E731
    assert same("plain", "constant") and not same("plain", "augment") and not same("plain", "cosine")
    with pytest.raises(ValueError, match="lr_schedule='linear'"):
        behaviour_cloning(None, demos, lr_schedule="linear", progress=False)


def test_dagger_collection_runs_the_learner_and_keeps_oracle_labels(tmp_path):
    from navgym.agents.rsrnav.model import RSRNavConfig, save_checkpoint

    model, vec_env = _model(seed=1)
    try:
        checkpoint = tmp_path / "learner.zip"
        save_checkpoint(model, checkpoint, RSRNavConfig(head="dense", **TINY_MODEL))
    finally:
        vec_env.close()
    learner = CollectSpec(SPEC.env_id, SPEC.split, env_kwargs=SPEC.env_kwargs, policy=str(checkpoint), beta=0.0, seed=7)
    one = collect(learner, [0, 1, 2], progress=False)
    assert one.episode_index == [0, 1, 2]
    # The untrained learner acts, not the oracle; every state still carries the oracle's label.
    assert any(not np.array_equal(a, b) for a, b in zip(one.actions, one.labels))
    assert all(set(np.unique(labels)) <= {0, 1, 2, 3} for labels in one.labels)
    # Workers (spawned processes) give the same demonstrations as one process.
    two = collect(learner, [0, 1, 2], workers=2, progress=False)
    for name in ("rgb", "labels", "actions", "rewards", "goal_pose"):
        assert all(np.array_equal(a, b) for a, b in zip(getattr(one, name), getattr(two, name))), name


def test_pretrain_then_ppo_starts_from_the_bc_weights(tmp_path):
    from navgym.agents.rsrnav.model import read_state_dicts
    from navgym.training import train

    common = dict(head="dense", env_id=ENV_ID, n_envs=1, env_kwargs=TINY_ENV, model=TINY_MODEL, progress=False, seed=2, demo_workers=1)
    out = tmp_path / "bc"
    result = train(**common, out=out, timesteps=0, pretrain="dagger", demos=3, bc_epochs=2, dagger_rounds=1, dagger_episodes=2,
                   dagger_epochs=1, eval_episodes=2, eval_env_kwargs={"num_scenes": 1, "episodes_per_scene": 2}, bc_aux_coef=0.5)
    assert result.checkpoint == out / "pretrain.zip" and result.checkpoint.exists() and not (out / "checkpoint.zip").exists()
    records = [json.loads(line) for line in (out / "pretrain.jsonl").read_text().splitlines()]
    assert [r["stage"] for r in records] == ["bc", "dagger1"]
    assert records[0]["episodes"] == 3 and records[1]["episodes"] == 5 and records[1]["beta"] == 0.5
    assert [h["epoch"] for h in records[0]["bc_epochs"]] == [1, 2] and records[0]["bc_epochs"][-1] == records[0]["bc"]
    assert records[1]["val"]["episodes"] == 2 and 0.0 <= records[1]["val"]["success"] <= 1.0
    assert all(math.isfinite(r["bc"]["aux_loss"]) for r in records)  # bc_aux_coef reaches BC and DAgger's BC
    assert (out / "demonstrations" / "dagger1.npz").exists() and not (out / "dagger_learner.zip").exists()

    # PPO from the BC checkpoint: the model it builds holds the BC policy exactly.
    from navgym.agents.rsrnav.training import RSRNavTrainer
    from navgym.agents.rsrnav.model import RSRNavConfig

    model, vec_env = _model(seed=9)
    try:
        RSRNavTrainer.init_weights(model, out / "pretrain.zip", RSRNavConfig(head="dense", **TINY_MODEL))
        saved = read_state_dicts(out / "pretrain.zip")["policy"]
        for key, tensor in saved.items():
            assert torch.equal(model.policy.state_dict()[key], tensor), key
    finally:
        vec_env.close()
    fine = train(**common, out=tmp_path / "ppo", timesteps=16, init_from=out / "pretrain.zip", eval_episodes=0)
    assert fine.num_timesteps == 16 and (tmp_path / "ppo" / "checkpoint.zip").exists()
    # The pretraining folder is reused, not redone, when PPO follows later.
    again = train(**common, out=out, timesteps=16, pretrain="bc", eval_episodes=0)
    assert again.pretrain is None and again.num_timesteps == 16
    # BC from given weights (init_from with pretrain): a vanishing step size keeps them.
    cloned = train(**common, out=tmp_path / "bc_from", timesteps=0, pretrain="bc", demos=2, bc_epochs=1, bc_learning_rate=1e-12,
                   init_from=out / "pretrain.zip", eval_episodes=0)
    after = read_state_dicts(cloned.checkpoint)["policy"]
    assert all(torch.allclose(after[key], tensor, atol=1e-8) for key, tensor in saved.items())
    fresh = read_state_dicts(train(**common, out=tmp_path / "bc_fresh", timesteps=0, pretrain="bc", demos=2, bc_epochs=1,
                                   bc_learning_rate=1e-12, eval_episodes=0).checkpoint)["policy"]
    assert not all(torch.allclose(fresh[key], tensor, atol=1e-8) for key, tensor in saved.items())


def test_interleaved_cloning_steps_the_ppo_optimiser_toward_the_oracle(demos):
    torch.set_num_threads(1)
    model, vec_env = _model(seed=4)
    try:
        for group in model.policy.optimizer.param_groups:
            group["lr"] = 3e-3  # as the BC test's step; PPO's own 2.5e-4 moves slower
        before = action_agreement(model.policy, demos)
        cloning = InterleavedCloning(model.policy, demos, batches=1, batch_steps=256, augment=True, seed=1)
        first = cloning.step(0)
        # The batches come from (seed, num_timesteps): the same step count draws the same ones.
        assert first["steps"] == demos.steps
        parts = [cloning.step(16 * i) for i in range(1, 30)]
        after = action_agreement(model.policy, demos)
        adam_steps = int(next(iter(model.policy.optimizer.state_dict()["state"].values()))["step"])
    finally:
        vec_env.close()
    assert adam_steps == 30  # one optimiser step per minibatch, on PPO's own optimiser
    assert parts[-1]["bc_loss"] < 0.8 * first["bc_loss"], (first, parts[-1])
    assert after > before + 0.1, (before, after)


def test_ppo_with_interleaved_cloning_clones_once_per_update_across_a_resume(tmp_path):
    """n_steps=16 and one env: each update is 2 Adam steps (2 epochs x 1 minibatch); cloning adds
    one step after each update, the last one included, and none again when the run resumes."""
    from navgym.training import train

    common = dict(head="dense", env_id=ENV_ID, n_envs=1, env_kwargs=TINY_ENV, model=TINY_MODEL, progress=False, seed=2, demo_workers=1,
                  eval_episodes=0, demos=3, ppo_bc_batches=1, checkpoint_every=16)
    out = tmp_path / "run"
    train(**common, out=out, timesteps=32)
    assert _adam_steps(out / "checkpoint.zip") == 2 * 2 + 2
    result = train(**common, out=out, timesteps=64, resume=True)
    assert result.start_timesteps == 32 and result.num_timesteps == 64
    assert _adam_steps(out / "checkpoint.zip") == 4 * 2 + 4
    plain = tmp_path / "plain"
    train(**{**common, "ppo_bc_batches": 0}, out=plain, timesteps=32)
    assert _adam_steps(plain / "checkpoint.zip") == 2 * 2


def test_pretraining_and_cloning_during_ppo_read_the_demonstrations_once(tmp_path, monkeypatch):
    import navgym.training.imitation as imitation
    from navgym.training import train

    calls = []
    original = imitation.training_demonstrations

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(imitation, "training_demonstrations", counted)
    result = train(head="dense", env_id=ENV_ID, n_envs=1, env_kwargs=TINY_ENV, model=TINY_MODEL, progress=False, seed=2, demo_workers=1,
                   eval_episodes=0, demos=2, pretrain="bc", bc_epochs=1, ppo_bc_batches=1, timesteps=16, out=tmp_path / "run")
    assert len(calls) == 1 and result.num_timesteps == 16
    assert "demonstrations" not in result.pretrain  # the summary, without the images
    assert _adam_steps(tmp_path / "run" / "checkpoint.zip") == 2 + 1


def _adam_steps(checkpoint) -> int:
    from navgym.agents.rsrnav.model import read_state_dicts

    state = read_state_dicts(checkpoint)["policy.optimizer"]["state"]
    return int(next(iter(state.values()))["step"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"pretrain": "imitate"}, "pretrain='imitate'"),
        ({"pretrain": "bc", "dagger_beta": 1.5}, "dagger_beta=1.5"),
        ({"pretrain": "bc", "demos": 0}, "demos=0"),
        ({"pretrain": "bc", "bc_aux_coef": -0.5}, "bc_aux_coef=-0.5"),
        ({"pretrain": "bc", "bc_aux_coef": float("nan")}, "bc_aux_coef=nan"),
        ({"pretrain": "bc", "bc_lr_schedule": "step"}, "bc_lr_schedule='step'"),
        ({"pretrain": "bc", "bc_augment": "yes"}, "bc_augment='yes'"),
        ({"pretrain": "bc", "bc_teacher": "oracle"}, "bc_teacher='oracle'"),
        ({"ppo_bc_batches": -1}, "ppo_bc_batches=-1"),
        ({"timesteps": 0}, "timesteps=0"),
    ],
)
def test_pretrain_arguments_are_checked(kwargs, message):
    from navgym.training import TrainArgs

    with pytest.raises(ValueError, match=message):
        TrainArgs(**kwargs)


def test_train_cli_passes_the_bc_options(tmp_path, train_cli):
    invoke, seen = train_cli
    common = ["train", "--out", str(tmp_path / "run"), "--pretrain", "bc", "--timesteps", "0", "--no-progress"]
    result = invoke([*common, "--bc-aux-coef", "0.25"])
    assert result.exit_code == 130, result.output
    assert seen[-1].bc_aux_coef == 0.25
    invoke(common)
    assert seen[-1].bc_aux_coef == 0.0 and seen[-1].bc_augment is False and seen[-1].bc_lr_schedule == "constant"
    result = invoke([*common, "--bc-augment", "--bc-lr-schedule", "cosine"])
    assert result.exit_code == 130, result.output
    assert seen[-1].bc_augment is True and seen[-1].bc_lr_schedule == "cosine"
    result = invoke([*common, "--bc-lr-schedule", "step"])
    assert result.exit_code == 2 and "bc_lr_schedule='step'" in result.output
    assert invoke([*common, "--bc-aux-coef", "-1"]).exit_code == 2  # a usage error
    result = invoke([*common, "--bc-learning-rate", "0.0005", "--bc-batch-steps", "128", "--ppo-bc-batches", "3"])
    assert result.exit_code == 130, result.output
    assert (seen[-1].bc_learning_rate, seen[-1].bc_batch_steps, seen[-1].ppo_bc_batches) == (0.0005, 128, 3)
    assert seen[-2].ppo_bc_batches == 0 and seen[-2].bc_batch_steps == 64 and seen[-2].bc_teacher == "path"
    result = invoke([*common, "--bc-teacher", "view"])
    assert result.exit_code == 130 and seen[-1].bc_teacher == "view", result.output
    result = invoke([*common, "--bc-teacher", "goal"])
    assert result.exit_code == 2 and "bc_teacher='goal'" in result.output
    result = invoke([*common, "--env-option", "num_scenes=80", "--eval-env-option", "num_scenes=10",
                                      "--eval-env-option", "sim_options={}"])
    assert result.exit_code == 130, result.output
    assert seen[-1].env_kwargs == {"num_scenes": 80} and seen[-1].eval_env_kwargs == {"num_scenes": 10, "sim_options": {}}
    assert seen[-2].eval_env_kwargs == {}
    result = invoke([*common, "--eval-env-option", "num_scenes"])
    assert result.exit_code == 2 and "--eval-env-option" in result.output and "not key=value" in result.output


def test_init_from_reads_checkpoints_that_predate_a_setting_and_may_change_precision(tmp_path):
    """A checkpoint written before cue_norm/precision existed counts them at their defaults; a run
    may start from it in bfloat16 (same weights), not with the cue's LayerNorm (other weights)."""
    import zipfile

    from navgym.agents.rsrnav.model import META_NAME, RSRNavConfig, save_checkpoint
    from navgym.training import train

    model, vec_env = _model()
    try:
        save_checkpoint(model, tmp_path / "new.zip", RSRNavConfig(head="dense", **TINY_MODEL))
    finally:
        vec_env.close()
    with zipfile.ZipFile(tmp_path / "new.zip") as new, zipfile.ZipFile(tmp_path / "old.zip", "w") as old:
        for name in new.namelist():
            data = new.read(name)
            if name == META_NAME:
                meta = json.loads(data)
                for key in ("cue_norm", "precision"):
                    del meta["config"][key]
                data = json.dumps(meta).encode()
            old.writestr(name, data)
    common = dict(head="dense", env_id=ENV_ID, n_envs=1, timesteps=16, init_from=tmp_path / "old.zip", env_kwargs=TINY_ENV,
                  eval_episodes=0, progress=False)
    train(**common, out=tmp_path / "bf16", model={**TINY_MODEL, "precision": "bfloat16"})
    assert (tmp_path / "bf16" / "checkpoint.zip").is_file()
    with pytest.raises(ValueError, match="init_from=.*differs"):
        train(**common, out=tmp_path / "normed", model={**TINY_MODEL, "cue_norm": True})


def test_init_from_must_match_the_head(tmp_path):
    from navgym.agents.rsrnav.model import RSRNavConfig, save_checkpoint
    from navgym.training import train

    model, vec_env = _model()
    try:
        save_checkpoint(model, tmp_path / "dense.zip", RSRNavConfig(head="dense", **TINY_MODEL))
    finally:
        vec_env.close()
    with pytest.raises(ValueError, match="init_from=.*differs"):
        train(head="direction", env_id=ENV_ID, n_envs=1, out=tmp_path / "run", timesteps=16, init_from=tmp_path / "dense.zip",
              env_kwargs=TINY_ENV, model=TINY_MODEL, progress=False)
    assert not (tmp_path / "run").exists()  # refused before anything was written
    with pytest.raises(FileNotFoundError, match="does not exist"):
        train(head="dense", env_id=ENV_ID, n_envs=1, out=tmp_path / "run", timesteps=16, init_from=tmp_path / "none.zip",
              env_kwargs=TINY_ENV, model=TINY_MODEL, progress=False)


def test_actor_warmup_scales_only_the_actors_steps_inside_updates():
    """ActorWarmup on a stand-in policy: scale 0 restores the actor's weights exactly while the
    critic's move; scale 0.5 halves the actor's step; outside an update nothing is scaled."""
    from navgym.training.warmup import ActorWarmup

    class Policy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features_extractor = torch.nn.Linear(3, 3)
            self.value_net = torch.nn.Linear(3, 1)
            self.optimizer = torch.optim.Adam(self.parameters(), lr=0.1)

    def adam_step(policy):
        policy.optimizer.zero_grad()
        policy.value_net(policy.features_extractor(torch.ones(2, 3))).sum().backward()
        policy.optimizer.step()

    torch.manual_seed(0)
    policy, twin = Policy(), Policy()
    twin.load_state_dict(policy.state_dict())
    warmup = ActorWarmup(policy, critic_steps=100, ramp_steps=200)
    assert [warmup.scale(n) for n in (0, 99, 100, 200, 300, 10_000)] == [0.0, 0.0, 0.0, 0.5, 1.0, 1.0]
    before = {k: v.clone() for k, v in policy.state_dict().items()}
    assert warmup.begin_update(50) == 0.0
    adam_step(policy)
    adam_step(twin)
    assert torch.equal(policy.features_extractor.weight, before["features_extractor.weight"])
    assert not torch.equal(policy.value_net.weight, before["value_net.weight"])
    assert torch.equal(policy.value_net.weight, twin.value_net.weight)  # the critic steps as without warm-up
    warmup.end_update()
    policy.load_state_dict(before)
    twin.load_state_dict(before)
    for p in (policy, twin):
        p.optimizer = torch.optim.Adam(p.parameters(), lr=0.1)
    warmup.close()
    warmup = ActorWarmup(policy, critic_steps=100, ramp_steps=200)
    warmup.begin_update(200)
    adam_step(policy)
    adam_step(twin)
    half = policy.features_extractor.weight - before["features_extractor.weight"]
    full = twin.features_extractor.weight - before["features_extractor.weight"]
    assert torch.allclose(half, 0.5 * full, atol=1e-6) and full.abs().max() > 0.01
    warmup.end_update()
    adam_step(policy)  # a step outside an update (behaviour cloning's): not scaled
    assert not torch.allclose(policy.features_extractor.weight - before["features_extractor.weight"], half)
    warmup.close()
    # critic_scale: the critic's step times 3 (its step size, with Adam), the actor's as the ramp says
    for p in (policy, twin):
        p.load_state_dict(before)
        p.optimizer = torch.optim.Adam(p.parameters(), lr=0.1)
    warmup = ActorWarmup(policy, critic_scale=3.0)
    assert warmup.step_scales() == {}  # between updates
    assert warmup.begin_update(0) == 1.0
    assert warmup.step_scales() == {"actor": 1.0, "encoder": 1.0, "critic": 3.0}
    policy.features_extractor.requires_grad_(False)  # a frozen encoder has no step to show
    assert warmup.step_scales() == {"actor": 1.0, "critic": 3.0}
    policy.features_extractor.requires_grad_(True)
    adam_step(policy)
    adam_step(twin)
    for name in ("value_net.weight", "features_extractor.weight"):
        got, expected = (dict(p.named_parameters())[name] - before[name] for p in (policy, twin))
        torch.testing.assert_close(got, (3.0 if name.startswith("value_net") else 1.0) * expected)
    warmup.close()
    # encoder_scale: the encoder's step times the actor's scale times 0.1, the rest of the actor's
    # times the actor's scale, the critic's unscaled
    class ActorPolicy(Policy):
        def __init__(self):
            super().__init__()
            self.action_net = torch.nn.Linear(3, 2)
            self.optimizer = torch.optim.Adam(self.parameters(), lr=0.1)

    def actor_step(policy):
        policy.optimizer.zero_grad()
        features = policy.features_extractor(torch.ones(2, 3))
        (policy.value_net(features).sum() + policy.action_net(features).sum()).backward()
        policy.optimizer.step()

    torch.manual_seed(1)
    policy, twin = ActorPolicy(), ActorPolicy()
    twin.load_state_dict(policy.state_dict())
    before = {k: v.clone() for k, v in policy.state_dict().items()}
    warmup = ActorWarmup(policy, critic_steps=100, ramp_steps=200, encoder_scale=0.1)
    assert warmup.begin_update(200) == 0.5
    assert warmup.step_scales() == {"actor": 0.5, "encoder": 0.05}  # what TensorBoard shows (train/<part>_step_scale)
    actor_step(policy)
    actor_step(twin)
    for name, factor in (("value_net.weight", 1.0), ("action_net.weight", 0.5), ("features_extractor.weight", 0.05)):
        got, expected = (dict(p.named_parameters())[name] - before[name] for p in (policy, twin))
        assert expected.abs().max() > 0.01
        torch.testing.assert_close(got, factor * expected)
    warmup.close()
    # a critic's own features extractor (share_features_extractor=False) is the critic's
    policy.vf_features_extractor = torch.nn.Linear(3, 3)
    warmup = ActorWarmup(policy, encoder_scale=0.1)
    assert {id(p) for p in policy.vf_features_extractor.parameters()} <= {id(p) for p in warmup.critic_params}
    assert {id(p) for p in warmup.encoder_params} == {id(p) for p in policy.features_extractor.parameters()}
    warmup.close()
    from navgym.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="encoder_scale=0.1 .* no parameters named"):
        ActorWarmup(torch.nn.ModuleDict({"action_net": torch.nn.Linear(2, 2), "value_net": torch.nn.Linear(2, 1)}), encoder_scale=0.1)


@pytest.mark.parametrize("value", [True, np.bool_(True), float("nan"), float("inf"), 0, -0.5, "0.1", 10**400, None])
def test_ppo_step_scales_must_be_positive_finite_numbers(value):
    from navgym.errors import InvalidArgumentError
    from navgym.training import TrainArgs

    for name in ("ppo_critic_lr_scale", "ppo_encoder_lr_scale"):
        with pytest.raises(InvalidArgumentError, match=f"{name}=.* must be a positive finite number"):
            TrainArgs(**{name: value})
    args = TrainArgs(ppo_encoder_lr_scale=np.float32(0.25), ppo_critic_lr_scale=np.int64(3))
    assert (args.ppo_encoder_lr_scale, args.ppo_critic_lr_scale) == (0.25, 3.0) and type(args.ppo_encoder_lr_scale) is float


def test_actor_warmup_leaves_parameters_without_gradients_untouched():
    """A frozen part (no gradient: the optimiser skips it) is not written back after a scaled
    step, so its tensors' version counters, which the encoder's frozen-feature cache watches,
    do not change; the trained part is scaled as usual."""
    from navgym.training.warmup import ActorWarmup

    class Policy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features_extractor = torch.nn.Linear(3, 3)
            self.action_net = torch.nn.Linear(3, 2)
            self.value_net = torch.nn.Linear(3, 1)
            self.features_extractor.requires_grad_(False)
            self.optimizer = torch.optim.Adam(self.parameters(), lr=0.1)

    torch.manual_seed(0)
    policy = Policy()
    frozen = [p._version for p in policy.features_extractor.parameters()]
    action_before = policy.action_net.weight.clone()
    warmup = ActorWarmup(policy, critic_steps=100, ramp_steps=200)
    for steps in (0, 200):  # scale 0 (restored) and 0.5 (mixed back)
        warmup.begin_update(steps)
        policy.optimizer.zero_grad()
        features = policy.features_extractor(torch.ones(2, 3))
        (policy.action_net(features).sum() + policy.value_net(features).sum()).backward()
        policy.optimizer.step()
        warmup.end_update()
        if steps == 0:
            assert torch.equal(policy.action_net.weight, action_before)
    assert [p._version for p in policy.features_extractor.parameters()] == frozen
    assert not torch.equal(policy.action_net.weight, action_before)
    warmup.close()


def test_ppo_critic_warmup_keeps_the_cloned_actor_and_trains_the_critic(tmp_path):
    """From a BC start with a changed PPO step size (allowed for init_from), the critic warm-up
    leaves every actor weight as cloned while the critic learns; without it the actor moves."""
    from navgym.agents.rsrnav.model import read_state_dicts
    from navgym.training import train
    from navgym.training.warmup import CRITIC_PREFIXES

    common = dict(head="dense", env_id=ENV_ID, n_envs=1, env_kwargs=TINY_ENV, progress=False, seed=2, demo_workers=1, eval_episodes=0)
    train(**common, model=TINY_MODEL, out=tmp_path / "bc", timesteps=0, pretrain="bc", demos=2, bc_epochs=1)
    start = read_state_dicts(tmp_path / "bc" / "pretrain.zip")["policy"]
    tuned = {**TINY_MODEL, "learning_rate": 1e-3, "ent_coef": 0.0, "clip_range": 0.1}
    ppo = dict(common, model=tuned, timesteps=32, init_from=tmp_path / "bc" / "pretrain.zip")
    train(**ppo, out=tmp_path / "warm", ppo_critic_warmup=64, ppo_actor_warmup=64)
    plain = train(**ppo, out=tmp_path / "plain")
    assert plain.num_timesteps == 32
    for run, actor_kept in (("warm", True), ("plain", False)):
        after = read_state_dicts(tmp_path / run / "checkpoint.zip")["policy"]
        actor = [k for k in start if not k.startswith(CRITIC_PREFIXES) and start[k].is_floating_point()]
        critic = [k for k in start if k.startswith(CRITIC_PREFIXES)]
        assert actor and critic
        assert all(torch.equal(start[k], after[k]) for k in actor) == actor_kept, run
        assert not all(torch.equal(start[k], after[k]) for k in critic), run
    with pytest.raises(ValueError, match="ppo_critic_warmup=-1"):
        train(**ppo, out=tmp_path / "bad", ppo_critic_warmup=-1)
    with pytest.raises(ValueError, match="init_from=.*differs"):  # the network itself may not change
        train(**{**ppo, "model": {**tuned, "lstm_hidden_size": 64}}, out=tmp_path / "bad")


def test_train_cli_passes_the_ppo_warmup_options(tmp_path, train_cli):
    invoke, seen = train_cli
    common = ["train", "--out", str(tmp_path / "run"), "--timesteps", "64", "--no-progress"]
    result = invoke([*common, "--ppo-critic-warmup", "4096", "--ppo-actor-warmup", "8192"])
    assert result.exit_code == 130, result.output
    assert (seen[-1].ppo_critic_warmup, seen[-1].ppo_actor_warmup) == (4096, 8192)
    invoke(common)
    assert (seen[-1].ppo_critic_warmup, seen[-1].ppo_actor_warmup, seen[-1].ppo_critic_lr_scale) == (0, 0, 1.0)
    invoke([*common, "--ppo-critic-lr-scale", "10"])
    assert seen[-1].ppo_critic_lr_scale == 10.0
    result = invoke([*common, "--ppo-critic-lr-scale", "0"])
    assert result.exit_code == 2 and "ppo_critic_lr_scale=0.0" in result.output
    invoke([*common, "--ppo-encoder-lr-scale", "0.1"])
    assert seen[-1].ppo_encoder_lr_scale == 0.1
    result = invoke([*common, "--ppo-encoder-lr-scale", "-1"])
    assert result.exit_code == 2 and "ppo_encoder_lr_scale=-1.0" in result.output
    result = invoke([*common, "--ppo-encoder-lr-scale", "0.1", "--ppo-freeze", "encoder"])
    assert result.exit_code == 2 and "ppo_freeze='encoder' holds the encoder fixed" in result.output
