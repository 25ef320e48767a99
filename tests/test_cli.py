"""The navgym command end to end, in subprocesses, with tiny budgets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

NAVGYM = [sys.executable, "-m", "navgym.cli"]


def run(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*NAVGYM, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, "TQDM_DISABLE": "1", "COLUMNS": "250"})


def test_list_shows_env_ids_and_agents():
    result = run("list")
    assert result.returncode == 0, result.stderr
    assert "ImageNav-ProcHouse-v0" in result.stdout and "yes (embedded" in result.stdout
    assert "ObjectNav-HM3D-v0" in result.stdout and "needs HM3D data" in result.stdout
    for agent in ("random", "oracle", "frontier"):
        assert agent in result.stdout


def test_evaluate_writes_records_summary_video_and_maps(tmp_path):
    out = tmp_path / "run"
    result = run(
        "evaluate", "--env", "ImageNav-ProcHouse-v0", "--agent", "oracle", "--episodes", "2",
        "--out", str(out), "--video", "--maps", "--env-option", "num_scenes=1", "--env-option", "episodes_per_scene=2",
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert [r["episode_index"] for r in records] == [0, 1]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["episodes"]["n"] == 2
    assert "SR" in result.stdout and "SPL" in result.stdout
    assert len(list((out / "videos").glob("episode_*.*"))) == 2
    assert len(list((out / "maps").glob("episode_*.png"))) == 2
    assert "PRIVILEGED" in result.stderr


def test_oracle_on_imagenav_val_has_high_success(tmp_path):
    out = tmp_path / "oracle"
    result = run("evaluate", "--env", "ImageNav-ProcHouse-v0", "--agent", "oracle", "--episodes", "20", "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["success"]["mean"] > 0.95


def test_frontier_beats_random_on_objectnav(tmp_path):
    rates = {}
    for agent in ("random", "frontier"):
        out = tmp_path / agent
        result = run("evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", agent, "--episodes", "30", "--out", str(out))
        assert result.returncode == 0, result.stderr
        rates[agent] = json.loads((out / "summary.json").read_text())["success"]["mean"]
    assert rates["frontier"] >= rates["random"] + 0.4, rates


def test_interrupted_evaluation_resumes_without_repeats_or_losses(tmp_path):
    out = tmp_path / "resume"
    args = ["evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random", "--episodes", "12", "--out", str(out),
            "--env-option", "num_scenes=2", "--env-option", "episodes_per_scene=6"]
    process = subprocess.Popen([*NAVGYM, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "TQDM_DISABLE": "1", "COLUMNS": "250"})
    log = out / "episodes.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 2):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    finished = [json.loads(line)["episode_index"] for line in log.read_text().splitlines() if line.strip()]
    assert process.returncode == 130, stderr
    assert "--resume" in stderr
    assert 2 <= len(finished) < 12
    result = run(*args, "--resume")
    assert result.returncode == 0, result.stderr
    indices = [json.loads(line)["episode_index"] for line in log.read_text().splitlines()]
    assert sorted(indices) == list(range(12))  # nothing repeated, nothing lost
    assert indices[: len(finished)] == finished


@pytest.mark.parametrize(
    "args, message",
    [
        (["evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "fronteir"], "Did you mean 'frontier'"),
        (["evaluate", "--env", "ObjectNav-ProcHous-v0", "--agent", "random"], "Did you mean"),
        (["evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random", "--episodes", "-3"], "episodes"),
        (["evaluate", "--env", "ImageNav-ProcHouse-v0", "--agent", "random", "--goal-camera", "phone"], "'phone'"),
        (["evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random", "--goal-camera", "user"], "ImageNav"),
    ],
)
def test_bad_arguments_exit_with_status_2_and_a_clear_message(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_benchmark_prints_env_and_sim_speed():
    result = run("benchmark", "--steps", "20", "--tasks", "ObjectNav")
    assert result.returncode == 0, result.stderr
    assert "ObjectNav-ProcHouse-v0" in result.stdout and "sim alone" in result.stdout
