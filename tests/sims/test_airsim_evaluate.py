"""``navgym evaluate --env MultiGoalVLN-AirSim-v0`` against a running ``navgym airsim-server`` (issue
12's "works as written"), each in its own process over loopback TCP, and an evaluation whose server
dies mid-run: a clear error naming host and port, exit status 2, the finished episodes kept."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("cosysairsim")


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture()
def server():
    """``navgym airsim-server`` on a free loopback port; yields (process, port)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "navgym.cli", "airsim-server", "--scene", "prochouse:1000000", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
        preexec_fn=_sigint_default,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"on 127\.0\.0\.1:(\d+)", line)
        assert match, line
        yield proc, int(match.group(1))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        proc.stdout.close()


def _evaluate(port: int, agent: str, episodes: int, out, **popen):
    cmd = [sys.executable, "-m", "navgym.cli", "evaluate", "--env", "MultiGoalVLN-AirSim-v0", "--agent", agent,
           "--episodes", str(episodes), "--split", "val", "--no-video", "--no-maps", "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NAVGYM_AIRSIM_PORT": str(port)}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, preexec_fn=_sigint_default, **popen)


def test_ragnav_evaluates_against_a_running_server(server, tmp_path):
    _, port = server
    proc = _evaluate(port, "ragnav", 1, tmp_path / "run")
    output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, output[-2000:]
    (record,) = [json.loads(line) for line in (tmp_path / "run" / "episodes.jsonl").read_text().splitlines()]
    assert record["scene_id"] == "prochouse/1000000" and record["num_steps"] > 50
    assert len(record["agent"]["retrieved"]) == len(record["goal_object_ids"]) >= 2
    assert record["progress"] > 0  # it reaches at least one sub-goal through the AirSim backend
    assert json.loads((tmp_path / "run" / "run.json").read_text())["env_id"] == "MultiGoalVLN-AirSim-v0"


def test_a_server_that_dies_mid_evaluation_keeps_the_finished_episodes(server, tmp_path):
    server_proc, port = server
    records = tmp_path / "run" / "episodes.jsonl"
    proc = _evaluate(port, "multigoal-oracle", 3, tmp_path / "run")
    deadline = time.monotonic() + 300
    while not (records.exists() and records.read_text().strip()) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    server_proc.send_signal(signal.SIGKILL)
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2, output[-2000:]
    assert f"127.0.0.1:{port}" in output and "navgym airsim-server" in output and "Traceback" not in output
    kept = [json.loads(line) for line in records.read_text().splitlines()]
    assert len(kept) >= 1 and kept[0]["episode_index"] == 0 and kept[0]["success"] == 1.0
