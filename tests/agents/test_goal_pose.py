"""Goal-pose pretraining in a training run (``TrainArgs.pose_*``, :mod:`navgym.training.goal_pose`):
the pairs are rendered once and cached, the encoder learns on them before cloning, and cloning
with ``bc_freeze='encoder'`` keeps exactly what it learned."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="RSRNav needs torch (pip install navgym[rl])")
pytest.importorskip("sb3_contrib", reason="RSRNav needs sb3-contrib (pip install navgym[rl])")

ENV_ID = "ImageNav-ProcHouseNear-v0"
TINY_ENV = {"num_scenes": 1, "sim_options": {"render_backend": "raster"}}
TINY_MODEL = {"n_steps": 16, "batch_size": 32, "n_epochs": 2, "n_lstm_layers": 1}
COMMON = dict(head="dense", env_id=ENV_ID, n_envs=1, env_kwargs=TINY_ENV, model=TINY_MODEL, progress=False, seed=4, demo_workers=1,
              eval_episodes=0, timesteps=0, pretrain="bc", demos=2, bc_teacher="view", update_threads=1, torch_threads=1)
POSE = dict(pose_episodes=3, pose_views=3, pose_epochs=2, pose_val_episodes=2, pose_learning_rate=1e-3)


def _encoder(path):
    from navgym.agents.rsrnav.model import read_state_dicts

    state = read_state_dicts(path)["policy"]
    return {k: v for k, v in state.items() if k.startswith("features_extractor.") and v.is_floating_point()}


def _lstm(path):
    from navgym.agents.rsrnav.model import read_state_dicts

    return read_state_dicts(path)["policy"]["lstm_actor.weight_hh_l0"]


def test_pose_pretraining_trains_the_encoder_and_a_frozen_clone_keeps_it(tmp_path):
    from navgym.training import train

    plain = train(**COMMON, out=tmp_path / "plain", bc_epochs=1, bc_freeze="encoder").checkpoint
    posed = train(**COMMON, **POSE, out=tmp_path / "posed", bc_epochs=1, bc_freeze="encoder")
    records = [json.loads(line) for line in (tmp_path / "posed" / "pretrain.jsonl").read_text().splitlines()]
    assert [r["stage"] for r in records] == ["pose", "bc"]
    pose = records[0]["pose"]
    assert pose["train_pairs"] > 3 and pose["val_pairs"] > 2 and [p["pass"] for p in pose["passes"]] == [1, 2]
    assert 0.0 <= pose["passes"][-1]["bearing_median_deg"] <= 180.0 and "start_views" in pose["passes"][-1]
    assert posed.pretrain["records"][0]["stage"] == "pose"
    fresh, trained = _encoder(plain), _encoder(posed.checkpoint)
    assert fresh.keys() == trained.keys()
    assert not all(torch.equal(fresh[k], trained[k]) for k in fresh)  # the pose pretraining moved the encoder
    # More cloning on the same pose-trained encoder: the encoder is bit-identical (frozen), the core is not.
    longer = train(**COMMON, **POSE, out=tmp_path / "longer", bc_epochs=2, bc_freeze="encoder").checkpoint
    again = _encoder(longer)
    assert all(torch.equal(trained[k], again[k]) for k in trained)
    assert not torch.equal(_lstm(posed.checkpoint), _lstm(longer))


def test_pairs_are_cached_and_read_back_the_same(tmp_path):
    from navgym.training.goal_pose import cached_pairs, pairs_cache_path

    logs = []
    first = cached_pairs(ENV_ID, "train", "agent", TINY_ENV, 2, 3, seed=7, log=logs.append)
    assert len(first["goal"]) == 2 and 2 < len(first["rgb"]) <= 6 and "cached in" in logs[-1]
    second = cached_pairs(ENV_ID, "train", "agent", TINY_ENV, 2, 3, seed=7, log=logs.append)
    assert "read from" in logs[-1]
    assert all(np.array_equal(first[k], second[k]) for k in first)
    # another seed, views per goal or env is another file
    path = pairs_cache_path(ENV_ID, "train", "agent", TINY_ENV, list(first["episode_index"]), 3, 7, 3.0)
    assert path.exists()
    assert pairs_cache_path(ENV_ID, "train", "agent", TINY_ENV, list(first["episode_index"]), 4, 7, 3.0) != path
    assert pairs_cache_path(ENV_ID, "train", "agent", {**TINY_ENV, "num_scenes": 2}, list(first["episode_index"]), 3, 7, 3.0) != path
    # a damaged file is rendered again, not trusted
    path.write_bytes(b"not an npz")
    third = cached_pairs(ENV_ID, "train", "agent", TINY_ENV, 2, 3, seed=7, log=logs.append)
    assert any("cannot be read" in line for line in logs) and all(np.array_equal(first[k], third[k]) for k in first)


def test_two_runs_writing_the_same_pairs_both_finish(tmp_path, monkeypatch):
    """Two runs rendering the same pairs at once (seeds side by side on a fresh machine): the one
    that finishes second must not fail because the first renamed a shared temporary file away."""
    from navgym.training import goal_pose

    path = tmp_path / "pose_pairs" / "pairs.npz"
    pairs = {"rgb": np.arange(24, dtype=np.uint8).reshape(2, 3, 4), "goal": np.ones((1, 3, 4), np.uint8)}
    other = {"rgb": pairs["rgb"] + 1, "goal": pairs["goal"]}
    savez, calls = np.savez, []

    def savez_while_another_run_writes(file, **arrays):
        savez(file, **arrays)
        if not calls:  # the other run writes and renames its file while this one is between save and rename
            calls.append(file)
            goal_pose._write_pairs(path, other)

    monkeypatch.setattr(goal_pose.np, "savez", savez_while_another_run_writes)
    goal_pose._write_pairs(path, pairs)
    with np.load(path) as data:
        assert np.array_equal(data["rgb"], pairs["rgb"])  # the last rename wins, whole
    assert sorted(p.name for p in path.parent.iterdir()) == ["pairs.npz"]  # no temporary file left behind


def test_runs_needing_the_same_missing_pairs_render_them_once(monkeypatch):
    """Two runs side by side that both need pairs not yet cached: the second waits for the first
    (``navgym.core.paths.cache_lock``) and reads what it wrote instead of rendering them too."""
    import threading

    from navgym.training import goal_pose

    render, calls, second_waits = goal_pose.collect_pairs, [], threading.Event()

    def collect_once_the_other_run_waits(*args, **kwargs):
        calls.append(threading.current_thread().name)
        assert second_waits.wait(120), "the second run never waited for the first"
        return render(*args, **kwargs)

    monkeypatch.setattr(goal_pose, "collect_pairs", collect_once_the_other_run_waits)
    results, logs = {}, {"first": [], "second": []}

    def run(name):
        def log(line):
            logs[name].append(line)
            if line.startswith("waiting for another process"):
                second_waits.set()
        results[name] = goal_pose.cached_pairs(ENV_ID, "train", "agent", TINY_ENV, 2, 2, seed=11, log=log)

    first = threading.Thread(target=run, args=("first",), name="first")
    first.start()
    while not calls:  # the first run holds the lock and renders
        assert first.is_alive()
        first.join(0.05)
    second = threading.Thread(target=run, args=("second",), name="second")
    second.start()
    first.join(300)
    second.join(300)
    assert calls == ["first"]  # rendered once
    assert any(line.startswith("waiting for another process") for line in logs["second"])
    assert any("read from" in line for line in logs["second"])
    assert all(np.array_equal(results["first"][k], results["second"][k]) for k in results["first"])


def test_pose_arguments_are_checked_and_passed_by_the_cli(tmp_path, train_cli):
    from navgym.training import TrainArgs

    with pytest.raises(ValueError, match="pose_episodes=5 .*pretrain=None.*pretrain='bc'"):
        TrainArgs(pose_episodes=5, out=tmp_path / "bad")
    for bad, message in ((dict(pose_views=0), "pose_views=0 must be an integer >= 1"),
                         (dict(pose_learning_rate=0.0), "pose_learning_rate=0.0 must be a positive"),
                         (dict(pose_max_minutes=-1), "pose_max_minutes=-1 must be a positive number"),
                         (dict(pose_max_cpu_minutes=0), "pose_max_cpu_minutes=0 must be a positive number"),
                         (dict(pose_env_kwargs="num_scenes=240"), "pose_env_kwargs='num_scenes=240' must be a dict"),
                         (dict(pose_episodes=-1), "pose_episodes=-1 must be an integer >= 0"),
                         (dict(pose_group=0), "pose_group=0 must be an integer >= 1")):
        with pytest.raises(ValueError, match=message):
            TrainArgs(pretrain="bc", out=tmp_path / "bad", **bad)
    invoke, seen = train_cli
    common = ["train", "--out", str(tmp_path / "run"), "--timesteps", "64", "--no-progress", "--pretrain", "bc"]
    result = invoke([*common, "--pose-episodes", "600", "--pose-env-option", "num_scenes=240", "--pose-views", "4",
                     "--pose-max-minutes", "2.5", "--pose-val-episodes", "16", "--pose-group", "4", "--bc-freeze", "encoder"])
    assert result.exit_code == 130, result.output
    args = seen[-1]
    assert (args.pose_episodes, args.pose_views, args.pose_env_kwargs, args.pose_max_minutes, args.pose_val_episodes) == (600, 4, {"num_scenes": 240}, 2.5, 16)
    assert args.pose_group == 4 and args.pose_max_cpu_minutes is None
    invoke(common)
    assert seen[-1].pose_episodes == 0 and seen[-1].pose_env_kwargs == {} and seen[-1].pose_group == 1
    assert (seen[-1].pose_max_minutes, seen[-1].pose_max_cpu_minutes) == (15.0, None)  # the wall-clock default
    invoke([*common, "--pose-max-cpu-minutes", "20"])
    assert (seen[-1].pose_max_minutes, seen[-1].pose_max_cpu_minutes) == (None, 20.0)  # the CPU cap replaces the default
    invoke([*common, "--pose-max-cpu-minutes", "20", "--pose-max-minutes", "40"])
    assert (seen[-1].pose_max_minutes, seen[-1].pose_max_cpu_minutes) == (40.0, 20.0)
    result = invoke(["train", "--out", str(tmp_path / "run"), "--timesteps", "64", "--no-progress", "--pose-episodes", "10"])
    assert result.exit_code == 2 and "pose_episodes=10" in result.output and "pretrain=None" in result.output


@pytest.mark.parametrize("group", [1, 3, 8, 20])
def test_minibatch_order_is_a_permutation_grouped_by_goal(group):
    from navgym.training.goal_pose import minibatch_order

    # 40 goal photos with 1-8 views each, rows in goal order as cached_pairs writes them
    views = [1 + (3 * g) % 8 for g in range(40)]
    goal_index = torch.repeat_interleave(torch.arange(40), torch.tensor(views))
    orders = [minibatch_order(goal_index, group, torch.Generator().manual_seed(seed)) for seed in (0, 0, 1)]
    assert torch.equal(orders[0], orders[1]) and not torch.equal(orders[0], orders[2])  # the seed decides
    order = orders[0]
    assert sorted(order.tolist()) == list(range(len(goal_index)))  # every pair once per pass
    goals = goal_index[order]
    if group == 1:
        assert len(torch.unique_consecutive(goals)) > len(goal_index) / 2  # independent draws: neighbours mostly differ
        return
    for g, v in enumerate(views):
        where = torch.nonzero(goals == g).flatten()
        runs = 1 + int((torch.diff(where) != 1).sum())
        assert runs <= -(-v // group)  # a photo's views sit in runs of `group` (two runs may meet by chance)
    minibatches = [goals[i : i + 16] for i in range(0, len(goals) - 15, 16)]
    photos = np.mean([len(torch.unique(b)) for b in minibatches])
    assert photos < (6 if group >= 8 else 9)  # independent pairs would give about 13 photos per 16


def test_grouped_minibatches_encode_fewer_images(tmp_path):
    from gymnasium import spaces

    from navgym.agents.rsrnav import encoders
    from navgym.training.goal_pose import fit_goal_pose

    space = spaces.Dict({k: spaces.Box(0, 255, (3, 64, 64), np.uint8) for k in ("rgb", "imagegoal")})
    pairs = _random_pairs(goals=6, views=4)  # 6 goal photos, 4 views each
    sizes = {}
    original = encoders.ResNet9.forward
    for group in (1, 4):
        torch.manual_seed(0)
        encoder = encoders.RSRNavEncoder(space, head="dense")
        seen = []

        def counting(self, x, seen=seen):
            seen.append(x.shape[0])
            return original(self, x)

        encoders.ResNet9.forward = counting
        try:
            result = fit_goal_pose(encoder, pairs, epochs=2, batch=8, group=group, seed=0, log=lambda _: None)
        finally:
            encoders.ResNet9.forward = original
        assert [p["batches"] for p in result["passes"]] == [3, 3] and all(np.isfinite(p["train_loss"]) for p in result["passes"])
        sizes[group] = seen
    assert all(n == 8 + 2 for n in sizes[4])  # 8 views of two photos: each photo once
    assert sum(sizes[1]) > sum(sizes[4])


def _random_pairs(goals=6, views=4, size=64):
    rng = np.random.default_rng(0)
    labels = np.concatenate([rng.uniform(0.5, 3, (goals * views, 1)), rng.uniform(-1, 1, (goals * views, 5))], axis=1).astype(np.float32)
    return {"rgb": rng.integers(0, 256, (goals * views, size, size, 3), dtype=np.uint8),
            "goal": rng.integers(0, 256, (goals, size, size, 3), dtype=np.uint8),
            "goal_index": np.repeat(np.arange(goals), views), "labels": labels}


def test_the_cpu_cap_ends_fitting_by_cpu_time_not_wall_clock(monkeypatch):
    from gymnasium import spaces

    from navgym.agents.rsrnav import encoders
    from navgym.training import goal_pose

    space = spaces.Dict({k: spaces.Box(0, 255, (3, 64, 64), np.uint8) for k in ("rgb", "imagegoal")})
    pairs = _random_pairs()

    def fit(**caps):
        torch.manual_seed(0)
        return goal_pose.fit_goal_pose(encoders.RSRNavEncoder(space, head="dense"), pairs, epochs=2, batch=8, seed=0, log=lambda _: None, **caps)

    stopped = fit(max_cpu_minutes=1e-9)  # spent after the first minibatch
    assert [(p["pass"], p["batches"]) for p in stopped["passes"]] == [(1, 1)]
    assert stopped["passes"][0]["cpu_minutes"] > 0
    # A wall clock racing ahead (another job holding the cores) ends a wall-capped fit at once, not a CPU-capped one.
    clock = iter(range(0, 10**9, 3600))
    monkeypatch.setattr(goal_pose.time, "time", lambda: float(next(clock)))
    assert [p["batches"] for p in fit(max_minutes=30)["passes"]] == [1]
    whole = fit(max_cpu_minutes=30)
    assert [p["batches"] for p in whole["passes"]] == [3, 3] and whole["passes"][-1]["cpu_minutes"] < 30


def test_init_parts_reaches_train_args_from_the_cli(tmp_path, train_cli):
    invoke, seen = train_cli
    common = ["train", "--out", str(tmp_path / "run"), "--timesteps", "0", "--no-progress", "--pretrain", "bc", "--bc-freeze", "encoder"]
    result = invoke([*common, "--init-from", str(tmp_path / "pretrain.zip"), "--init-parts", "encoder"])
    assert result.exit_code == 130, result.output
    assert seen[-1].init_parts == "encoder" and seen[-1].init_from == tmp_path / "pretrain.zip"
    invoke(common)
    assert seen[-1].init_parts == "all" and seen[-1].init_from is None
    result = invoke([*common, "--init-parts", "encoder"])
    assert result.exit_code != 130 and "init_from=None" in result.output
