"""experiments/device_ppo.py (the driver of the GPU-machine PPO runs, docs/results/rsrnav.md):
on a machine without a GPU a run asked for on CUDA fails and starts again on the CPU, houses that
differ from the manifest make it generate the episodes itself, and each run comes back packed
with its settings and a policy-only checkpoint that loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINTS = ROOT / "docs" / "results" / "rsrnav" / "checkpoints"
START = CHECKPOINTS / "bcn_near_direction_l1_view.zip"


def _driver():
    import importlib.util

    spec = importlib.util.spec_from_file_location("device_ppo", ROOT / "experiments" / "device_ppo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_start_brings_its_own_head_and_network_settings():
    pytest.importorskip("sb3_contrib")
    driver = _driver()
    head, network = driver.start_settings(START)
    assert head == "direction" and network["cue_norm"] is True and network["n_lstm_layers"] == 1
    head, network = driver.start_settings(CHECKPOINTS / "bc_near_dense_l1_view.zip")
    assert head == "dense" and network["cue_norm"] is False
    assert "ent_coef" not in network and "batch_size" not in network  # PPO's own settings are the driver's
    assert driver.run_names(["direction"], [0, 1], 7) == ["ppo_e7_s0", "ppo_e7_s1"]
    assert driver.run_names(["direction", "dense"], [0], 2) == ["ppo_direction_e2_s0", "ppo_dense_e2_s0"]
    with pytest.raises(SystemExit, match="repeat"):
        driver.run_names(["dense", "dense"], [0], 2)


@pytest.mark.slow
def test_device_ppo_falls_back_to_the_cpu_and_packs_the_run(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the CUDA run would not fail")
    manifest = tmp_path / "houses.json"
    manifest.write_text(json.dumps({"0": "not-a-digest"}))
    carried = tmp_path / "cache" / "episodes" / "imagenav" / "g1h1_train_near_s1_carried.json.gz"
    carried.parent.mkdir(parents=True)
    carried.write_bytes(b"episodes made from other houses")
    out = tmp_path / "out"
    # Two rollouts end the run (--timesteps), not the clock: a wall budget tight enough to keep the
    # test short failed on a loaded machine (houses readied in 31 s left under the 0.5 minutes the
    # driver needs), so the budget is only a ceiling here.
    result = subprocess.run(
        [sys.executable, "experiments/device_ppo.py", "--out", str(out), "--work", str(tmp_path / "runs"), "--budget", "400",
         "--timesteps", "256", "--envs", "1", "--seeds", "0", "--device", "cuda", "--num-scenes", "1", "--snapshot-every", "600",
         "--fallback-minutes", "0.2", "--pack-snapshots", "last", "--manifest", str(manifest), "--init-from", str(START)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=400, env={**os.environ, "TQDM_DISABLE": "1", "NAVGYM_CACHE": str(tmp_path / "cache")},
    )
    log = (out / "driver.log").read_text() if (out / "driver.log").exists() else ""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "1 houses differ from" in log and "generating the episodes here" in log and not carried.exists()
    assert "ppo_e1_s0 exited with code 1" in log and "started ppo_e1_s0_cpu on the CPU instead" in log

    assert sorted(path.name for path in out.iterdir()) == ["driver.log", "runs_direction.tar.gz"]  # one archive per start
    with tarfile.open(out / "runs_direction.tar.gz") as tar:
        names = tar.getnames()
        tar.extractall(tmp_path / "unpacked", filter="data")
    assert "sees no GPU" in (tmp_path / "unpacked" / "ppo_e1_s0.log").read_text()  # the CUDA run's own error, kept
    run = tmp_path / "unpacked" / "ppo_e1_s0_cpu"
    assert not any(name.endswith("checkpoint.zip") for name in names)  # the optimiser state stays behind
    settings = json.loads((run / "train_args.json").read_text())
    assert settings["device"] == "cpu" and settings["n_envs"] == 1 and settings["ppo_freeze"] == "encoder"
    assert settings["model"]["batch_size"] == 64 and settings["model"]["ent_coef"] == 0.0
    steps = json.loads((run / "checkpoint.json").read_text())["num_timesteps"]
    assert steps >= 128 and steps % 128 == 0  # whole rollouts of 128 steps
    final = run / "snapshots" / f"policy_{steps:07d}.zip"
    assert [path.name for path in final.parent.iterdir()] == [final.name]  # --pack-snapshots last
    from navgym.agents.rsrnav.model import load_policy

    policy, meta = load_policy(final)
    assert meta["policy_only"] and meta["num_timesteps"] == steps
