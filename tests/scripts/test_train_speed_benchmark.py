"""benchmarks/train_speed.py runs end to end on a tiny budget and reports one sane row per
configuration, on stdout and in its JSON file (issue 15). Nothing here is about speed."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--rollouts", "1", "--n-steps", "8", "--num-scenes", "1", "--episodes-per-scene", "2", "--update-threads", "1"]
NUMBERS = ("steps_per_second", "rollout_steps_per_second", "update_seconds")
HEADER = ["head", "frozen", "overlap", "envs", "env-threads", "steps/s", "rollout", "steps/s", "update", "s", "samples/update", "episode", "steps"]
CLONE = ROOT / "docs/results/rsrnav/checkpoints/pipeg30_direction_s0.zip"  # a committed direction clone (cue_norm, 1-layer core)


@pytest.mark.parametrize(
    ("heads", "envs", "extra", "frozen", "overlaps", "env_threads"),
    [
        (["direction"], 1, [], ["none"], ["off"], [0]),  # one env in this process, the default 128x128 camera
        (["dense"], 2, ["--size", "64", "--overlap", "off,on"], ["none"], ["off", "on"], [0]),  # two envs in subprocesses, with and without overlap
        # part of the encoder fixed, the rest at a tenth of PPO's step; no overlap with one env
        (["direction"], 1, ["--ppo-freeze", "trunk,encoder", "--overlap", "off,on", "--ppo-encoder-lr-scale", "0.1"], ["trunk", "encoder"], ["off"], [0]),
        (["dense"], 2, ["--size", "64", "--env-threads", "0,2"], ["none"], ["off"], [0, 2]),  # two envs in subprocesses, then in this process on two threads
    ],
    ids=["1-env", "2-envs", "frozen", "env-threads"],
)
def test_train_speed_benchmark_tiny_run(tmp_path, heads, envs, extra, frozen, overlaps, env_threads):
    out = tmp_path / "train_speed.json"
    result = subprocess.run(
        [sys.executable, "benchmarks/train_speed.py", "--heads", ",".join(heads), "--envs", str(envs), *TINY, *extra, "--json", str(out)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "TQDM_DISABLE": "1"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    lines = result.stdout.splitlines()
    assert lines[0].startswith("machine:") and lines[1].split() == HEADER
    rows = [line.split() for line in lines[2:] if line.strip()]
    expected = [(head, part, overlap, envs, threads) for head in heads for part in frozen for overlap in overlaps for threads in env_threads]
    assert [(row[0], row[1], row[2], int(row[3]), int(row[4])) for row in rows] == expected, result.stdout
    for row in rows:
        steps, rollout_steps, update_seconds = map(float, row[5:8])
        assert all(math.isfinite(x) and x > 0 for x in (steps, rollout_steps, update_seconds)), row
        assert int(row[8]) == 8 * envs
        assert math.isnan(float(row[9])) or float(row[9]) >= 1  # mean episode length, when an episode ended

    report = json.loads(out.read_text())
    assert set(report) == {"machine", "options", "results"}
    assert report["options"]["envs"] == str(envs) and report["options"]["n_steps"] == 8
    assert [(r["head"], r["frozen"], "on" if r["overlap"] else "off", r["envs"], r["env_threads"]) for r in report["results"]] == expected
    for r in report["results"]:
        assert set(r) == {"head", "frozen", "overlap", "envs", "env_threads", "encoder_lr_scale", "samples_per_update", "episode_steps", *NUMBERS}
        assert r["encoder_lr_scale"] == (0.1 if "--ppo-encoder-lr-scale" in extra and r["frozen"] != "encoder" else 1.0)
        assert all(math.isfinite(r[key]) and r[key] > 0 for key in NUMBERS), r
        assert r["samples_per_update"] == 8 * envs


def test_train_speed_benchmark_from_a_clone(tmp_path):
    """--init-from: each configuration starts from a checkpoint's policy with its network settings
    (here the committed clone's cue_norm and 1-layer core, which the defaults lack: a fresh model's
    weights would not load); a missing file or another head's checkpoint exits naming --init-from."""
    command = [sys.executable, "benchmarks/train_speed.py", "--heads", "direction", "--envs", "1", *TINY,
               "--init-from", str(CLONE), "--env-id", "ImageNav-ProcHouseNear-v0", "--episodes-per-scene", "8", "--model-option", "n_epochs=1"]
    result = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "TQDM_DISABLE": "1"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[1].split() == HEADER and lines[2].split()[:5] == ["direction", "none", "off", "1", "0"], result.stdout
    (tmp_path / "not_a_checkpoint.zip").write_bytes(b"not a zip")
    for head, checkpoint, expected in (("direction", tmp_path / "missing.zip", "is not a file"), ("dense", CLONE, "'direction' head's checkpoint"),
                                       ("direction", tmp_path / "not_a_checkpoint.zip", "is not an RSRNav checkpoint")):
        bad = subprocess.run([*command[:2], "--heads", head, "--init-from", str(checkpoint)], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert bad.returncode != 0 and "--init-from" in bad.stderr and expected in bad.stderr, bad.stderr[-800:]


def test_encoder_speed_benchmark_tiny_run(tmp_path):
    """benchmarks/encoder_speed.py: one row per (round, head, batch, threads), the second round in
    reversed order, finite positive times, ms per image = ms per batch / batch; bad options exit
    with a message naming them."""
    out = tmp_path / "encoder_speed.json"
    command = [sys.executable, "benchmarks/encoder_speed.py", "--heads", "dense", "--batches", "1,3", "--threads", "1",
               "--size", "64", "--repeats", "1", "--rounds", "2", "--json", str(out)]
    result = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("machine:") and lines[1].split() == ["round", "head", "batch", "threads", "ms/batch", "ms/image"]
    rows = [line.split() for line in lines[2:] if line.strip()]
    assert [(int(r[0]), r[1], int(r[2]), int(r[3])) for r in rows] == [(1, "dense", 1, 1), (1, "dense", 3, 1), (2, "dense", 3, 1), (2, "dense", 1, 1)]
    report = json.loads(out.read_text())["results"]
    assert len(report) == 4
    for r in report:
        assert math.isfinite(r["ms_per_batch"]) and r["ms_per_batch"] > 0
        assert r["ms_per_image"] == pytest.approx(r["ms_per_batch"] / r["batch"])
    bad = subprocess.run([*command[:2], "--batches", "0,2"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "--batches '0,2'" in bad.stderr


def test_pose_speed_benchmark_tiny_run(tmp_path):
    """benchmarks/pose_speed.py: one row per (round, head, group, precision), the second round reversed,
    finite positive times and pairs/s = 64 / s per minibatch; bad options exit naming them."""
    out = tmp_path / "pose_speed.json"
    command = [sys.executable, "benchmarks/pose_speed.py", "--heads", "dense", "--groups", "1,8", "--precisions", "float32,bfloat16", "--size", "64",
               "--batches", "1", "--rounds", "2", "--json", str(out)]
    result = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("machine:") and lines[1].split() == ["round", "head", "group", "precision", "s/minibatch", "pairs/s"]
    rows = [line.split() for line in lines[2:] if line.strip()]
    first = [(1, "dense", 1, "float32"), (1, "dense", 1, "bfloat16"), (1, "dense", 8, "float32"), (1, "dense", 8, "bfloat16")]
    assert [(int(r[0]), r[1], int(r[2]), r[3]) for r in rows] == first + [(2, *row[1:]) for row in first[::-1]]
    report = json.loads(out.read_text())["results"]
    assert len(report) == 8 and [r["precision"] for r in report[:2]] == ["float32", "bfloat16"]
    for r in report:
        assert math.isfinite(r["s_per_minibatch"]) and r["s_per_minibatch"] > 0 and r["minibatches"] == 1
        assert r["pairs_per_s"] == pytest.approx(64 / r["s_per_minibatch"])
    bad = subprocess.run([*command[:2], "--groups", "0,8"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "--groups '0,8'" in bad.stderr
    bad = subprocess.run([*command[:2], "--precisions", "float16"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "--precisions 'float16'" in bad.stderr


def test_train_ceiling_benchmark_tiny_run(tmp_path):
    """benchmarks/train_ceiling.py: one row per (head, trunk width, precision, epochs); the ceiling is the
    cores' milliseconds over each step's parts (env + acting + epochs x training), so it falls
    with more epochs; training an image costs more FLOPs than acting on it, the same count in
    either precision, and a trunk half as wide costs fewer; bad options exit naming them."""
    out = tmp_path / "train_ceiling.json"
    command = [sys.executable, "benchmarks/train_ceiling.py", "--heads", "dense", "--base-channels", "16,8", "--precisions", "float32,bfloat16", "--epochs", "1,2",
               "--num-scenes", "1", "--size", "64", "--act-batch", "2", "--update-batch", "4", "--goal-every", "2",
               "--repeats", "1", "--env-steps", "3", "--cores", "2", "--json", str(out)]
    result = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "TQDM_DISABLE": "1"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("machine:") and "ceiling for 2 cores" in lines[0]
    assert lines[1].split() == ["head", "width", "precision", "act", "ms", "train", "ms", "GFLOP", "fwd", "GFLOP", "f+b", "GFLOP/s", "epochs",
                                "ceiling", "steps/s", "target"]
    rows = [line.split() for line in lines[2:] if line.strip()]
    assert [(r[0], int(r[1]), r[2], int(r[8])) for r in rows] == [
        ("dense", width, precision, epochs) for width in (16, 8) for precision in ("float32", "bfloat16") for epochs in (1, 2)]
    report = json.loads(out.read_text())["results"]
    for r in report:
        for key in ("env_ms", "act_ms", "train_ms", "act_gflop", "train_gflop", "ceiling_steps_per_second"):
            assert math.isfinite(r[key]) and r[key] > 0, (key, r)
        assert r["ceiling_steps_per_second"] == pytest.approx(2000 / (r["env_ms"] + r["act_ms"] + r["epochs"] * r["train_ms"]))
        assert r["train_gflop"] > r["act_gflop"]
    assert report[0]["ceiling_steps_per_second"] > report[1]["ceiling_steps_per_second"]
    assert report[0]["train_gflop"] == pytest.approx(report[2]["train_gflop"])
    assert [r["base_channels"] for r in report] == [16] * 4 + [8] * 4
    assert report[4]["train_gflop"] < report[0]["train_gflop"] / 2
    for option, value in (("--precisions", "float16"), ("--update-batch", "0"), ("--epochs", "0"), ("--base-channels", "6")):
        bad = subprocess.run([*command[:2], option, value], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert bad.returncode != 0 and option in bad.stderr, (option, bad.stderr[-500:])


def test_train_speed_benchmark_refuses_a_bad_encoder_step_scale():
    result = subprocess.run(
        [sys.executable, "benchmarks/train_speed.py", *TINY, "--ppo-encoder-lr-scale", "0"],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2 and "--ppo-encoder-lr-scale 0.0 must be a positive finite number" in result.stderr, result.stderr
