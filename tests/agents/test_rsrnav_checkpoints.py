"""The committed RSRNav checkpoints reproduce their results rows (issue 15, "Done when").

``docs/results/rsrnav/checkpoints/<name>_eval/`` holds the run folder of the command the results page
shows beside the row (``navgym evaluate --env ImageNav-ProcHouseNear-v0 --agent rsrnav --checkpoint
docs/results/rsrnav/checkpoints/<name>.zip --episodes 63 ...``): every episode's record. Here the
first episodes are played again with the committed policy-only checkpoint and must give the same
records; the page's row must be that folder's summary. The whole 63-episode run is the documented
command (a few minutes), not a CI test.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

import navgym  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINTS = ROOT / "docs" / "results" / "rsrnav" / "checkpoints"
#: The results page and its record (rsrnav_log.md: every run, with its commands); a row may be on either.
PAGES = (ROOT / "docs" / "results" / "rsrnav.md", ROOT / "docs" / "results" / "rsrnav_log.md")


def _page_text() -> str:
    return "\n".join(page.read_text() for page in PAGES)

#: name -> how the page states its agent-matched row.
ROWS = {
    "ppo_near_dense_l1": "agent-matched goal photos: SR {sr} ± {ci}",
    "bc_near_dense_l1": "Its result: SR {sr} ± {ci}",
    "bc_near_dense_l1_view": "bc_near_dense_l1_view agent-matched SR {sr} ± {ci}",
    "bcn_near_direction_l1_view": "bcn_near_direction_l1_view agent-matched SR {sr} ± {ci}",
    "near_direction": "| rsrnav-direction | agent-matched | 13,568 | {sr} ± {ci} |",
}
EPISODES = 3
COMPARED = ("success", "spl", "soft_spl", "distance_to_goal", "num_steps", "collisions", "path_length")


def _records(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "episodes.jsonl").read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("name", sorted(ROWS))
def test_the_results_page_states_the_committed_runs_summary(name):
    folder = CHECKPOINTS / f"{name}_eval"
    run = json.loads((folder / "run.json").read_text())
    assert run["agent"] == "rsrnav" and run["episodes"] == 63 and run["goal_camera"] == "agent"
    assert Path(run["checkpoint"]).name == f"{name}.zip"
    assert run["checkpoint_sha256"] == hashlib.sha256((CHECKPOINTS / f"{name}.zip").read_bytes()).hexdigest()
    summary = json.loads((folder / "summary.json").read_text())
    sr, ci = summary["success"]["mean"], summary["success"]["ci95"]
    assert len(_records(folder)) == 63
    assert ROWS[name].format(sr=f"{sr:.3f}", ci=f"{ci:.3f}") in _page_text()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ROWS))
def test_a_committed_checkpoint_replays_its_first_episodes(name):
    from navgym.evaluation import EvalSpec, evaluate

    folder = CHECKPOINTS / f"{name}_eval"
    run = json.loads((folder / "run.json").read_text())
    expected = _records(folder)[:EPISODES]
    # Built the way `navgym evaluate` builds it (the committed checkpoint, the run's goal camera).
    spec = EvalSpec(run["env_id"], "rsrnav", run["split"], {}, {"checkpoint": str(CHECKPOINTS / f"{name}.zip")}, run["goal_camera"])
    agent, env = spec.build()
    try:
        got = evaluate(env, agent, EPISODES, seed=run["seed"], progress=False).records
    finally:
        env.close()
    for want, have in zip(expected, got, strict=True):
        assert have["episode_id"] == want["episode_id"]
        for key in COMPARED:
            assert have[key] == pytest.approx(want[key], rel=1e-6, abs=1e-6), (want["episode_id"], key)


def test_the_page_names_only_committed_checkpoints():
    named = set(re.findall(r"docs/results/rsrnav/checkpoints/([\w.-]+\.zip)", _page_text()))
    assert named and all((CHECKPOINTS / n).is_file() for n in named), named


#: 256-episode evaluations (docs/results/rsrnav/eval256/<run>) made from a run's full checkpoint
#: whose policy-only export is committed: the export must replay their first episodes, sampled
#: actions included (the evaluation's seed fixes the random stream), and the page must state them.
EVAL256 = ROOT / "docs" / "results" / "rsrnav" / "eval256"
EXPORTED = {
    "ppo_e8_t2_s0_agent": ("ppo_e8_t2_s0", "| 0.285 ± 0.056 | 35 / 39 |"),
    "ppo_e8_t2_s0_agent_sampled": ("ppo_e8_t2_s0", "| **0.348 ± 0.059** |"),
    "ppo_e8_t2_s0_543k_agent_sampled": ("ppo_e8_t2_s0_543k", "| 0.312 ± 0.057 | 48 / 31"),
    # the head table after PPO: the BC starts of the minimalist and baseline heads, and the dense one sampled
    "bc_min_s0_agent": ("bc_near_minimalist_l1_view", "| 0.168 ± 0.046 | | 0.152 ± 0.044 |"),
    "bc_base_s0_agent": ("bc_near_baseline_l1_view", "| 0.238 ± 0.053 | | 0.133 ± 0.042 |"),
    "bc_base_s0_extreme": ("bc_near_baseline_l1_view", "| 0.234 ± 0.052 |"),
    "bc_dense_s0_agent_sampled": ("bc_near_dense_l1_view", "| 0.246 ± 0.053 | | 0.219 ± 0.051 |"),
    "ppo_e8_t2_dense_s0_agent": ("ppo_e8_t2_dense_s0", "| **0.316 ± 0.057** | 47 / 30 (p = 0.07) |"),
    "ppo_e8_t2_dense_s0_extreme": ("ppo_e8_t2_dense_s0", "| 0.086 ± 0.035 |"),
    # PPO on ImageNav-ProcHouseEasy-v0: the Near BC starts, one PPO run per head, and the start cloned on Easy
    "easy_bc_dense_s0_agent": ("bc_near_dense_l1_view", "| 0.160 ± 0.045 | 0.146 |"),
    "easy_bcn_dir_s0_agent": ("bcn_near_direction_l1_view", "| 0.203 ± 0.050 | 0.180 |"),
    "easy_ppo_e8_t2_direction_easy_s1_agent": ("ppo_e8_t2_direction_easy_s1", "| **0.258 ± 0.054** | 0.203 |"),
    "easy_ppo_e8_t2_direction_easy_s1_agent_sampled": ("ppo_e8_t2_direction_easy_s1", "| 0.180 ± 0.047 | 30 / 25 (p = 0.59) |"),
    "easy_ppo_e8_t2_dense_easy_s1_agent_sampled": ("ppo_e8_t2_dense_easy_s1", "| **0.250 ± 0.053** | 46 / 20 (p = 0.002) |"),
    "easy_ppo_e8_t2_baseline_easy_s1_agent": ("ppo_e8_t2_baseline_easy_s1", "| 0.148 ± 0.044 | 0.144 | 23 / 17 (p = 0.43) |"),
    "easy_bc_easy_dense_s0_agent": ("bc_easy_dense_l1_view", "| 0.121 ± 0.040 | 0.101 |"),
    "easy_ppo_e8_t2_dense_easybc_s0_agent": ("ppo_e8_t2_dense_easybc_s0", "| 0.188 ± 0.048 | 0.157 | **33 / 16 (p = 0.021)** |"),
    # cloning on top of an encoder trained on goal poses (experiments/goal_pose_probe.py), with the auxiliary loss
    "bc_near_dense_pose240_aux0.5_agent": ("bc_near_dense_pose240_aux0.5", "| **0.320 ± 0.058** | 0.270 ± 0.055 |"),
    "bc_near_dense_pose240_aux0.5_agent_sampled": ("bc_near_dense_pose240_aux0.5", "| 0.270 ± 0.055 |"),
    # cloning with the pose-trained encoder frozen (bc_freeze='encoder'), two seeds, and PPO after the first
    "bc_near_dense_pose240_frzenc_agent": ("bc_near_dense_pose240_frzenc", "| **0.527 ± 0.062** | 0.477 ± 0.062 |"),
    "bc_near_dense_pose240_frzenc_agent_sampled": ("bc_near_dense_pose240_frzenc", "| 0.477 ± 0.062 |"),
    "bc_near_dense_pose240_frzenc_s1_agent": ("bc_near_dense_pose240_frzenc_s1", "| **0.543 ± 0.061** | 0.449 ± 0.061 |"),
    "bc_near_dense_pose240_frzenc_s1_agent_sampled": ("bc_near_dense_pose240_frzenc_s1", "| 0.449 ± 0.061 |"),
    "ppo_e8_t2_dense_frzenc_s0_agent": ("ppo_e8_t2_dense_frzenc_s0", "| **0.582 ± 0.061** | 0.555 ± 0.061 |"),
    "ppo_e8_t2_dense_frzenc_s0_agent_sampled": ("ppo_e8_t2_dense_frzenc_s0", "| 0.555 ± 0.061 |"),
    "ppo_e8_t2_dense_frzenc_s1_agent": ("ppo_e8_t2_dense_frzenc_s1", "| **0.555 ± 0.061** | **0.582 ± 0.061** |"),
    "ppo_e8_t2_dense_frzenc_s1_agent_sampled": ("ppo_e8_t2_dense_frzenc_s1", "| **0.582 ± 0.061** |"),
    "ppo_e8_t2_dense_pipe_s2_agent": ("ppo_e8_t2_dense_pipe_s2", "| **0.562 ± 0.061** | 0.516 ± 0.062 |"),
    "ppo_e8_t2_dense_pipe_s2_agent_sampled": ("ppo_e8_t2_dense_pipe_s2", "| 0.516 ± 0.062 |"),
    "pipe45_direction_s0_agent": ("pipe45_direction_s0", "| 0.453 ± 0.061 | 0.445 ± 0.061 |"),
    "pipe45_direction_s0_agent_sampled": ("pipe45_direction_s0", "| 0.445 ± 0.061 |"),
    "ppo_e8_t2_direction_pipe45_s0_agent": ("ppo_e8_t2_direction_pipe45_s0", "| **0.527 ± 0.062** | **0.508 ± 0.062** |"),
    "ppo_e8_t2_direction_pipe45_s0_agent_sampled": ("ppo_e8_t2_direction_pipe45_s0", "| **0.508 ± 0.062** |"),
    # the grouped pose recipe for the baseline head, and PPO after it (its best policy)
    "ppo_e8_t1_baseline_pipeg30_half_s0_agent": ("ppo_e8_t1_baseline_pipeg30_half_s0", "| **0.340 ± 0.058** | 0.273 ± 0.055 |"),
    "ppo_e8_t1_baseline_pipeg30_half_s0_agent_sampled": ("ppo_e8_t1_baseline_pipeg30_half_s0", "| 0.273 ± 0.055 |"),
    "easy_ppo_e8_t1_baseline_pipeg30_half_s0_agent": ("ppo_e8_t1_baseline_pipeg30_half_s0", "| 0.242 ± 0.053 | 0.214 |"),
    "easy_bc_near_dense_pose240_frzenc_agent": ("bc_near_dense_pose240_frzenc", "| **0.363 ± 0.059** | 0.320 ± 0.058 |"),
    "easy_ppo_e8_t2_dense_frzenc_easy_s0_agent": ("ppo_e8_t2_dense_frzenc_easy_s0", "| **0.473 ± 0.062** | **0.484 ± 0.062** |"),
    "easy_ppo_e8_t2_dense_frzenc_easy_s0_agent_sampled": ("ppo_e8_t2_dense_frzenc_easy_s0", "| **0.484 ± 0.062** |"),
    "pipeg30_direction_s0_agent": ("pipeg30_direction_s0", "| **0.543 ± 0.061** | 0.469 ± 0.062 |"),
    "pipeg30_direction_s0_agent_sampled": ("pipeg30_direction_s0", "| 0.469 ± 0.062 | 33.8 |"),
    "ppo_e8_t2_direction_pipeg30_half_s0_agent": ("ppo_e8_t2_direction_pipeg30_half_s0", "| **0.559 ± 0.061** | 0.492 ± 0.062 |"),
    "ppo_e8_t2_direction_pipeg30_half_s0_agent_sampled": ("ppo_e8_t2_direction_pipeg30_half_s0", "| 0.492 ± 0.062 | + 16 |"),
    "pipeg30_direction_s1_agent": ("pipeg30_direction_s1", "| 0.383 ± 0.060 | 0.383 ± 0.060 | 49.1"),
    "ppo_e8_t1_direction_pipeg30_half_s1_agent": ("ppo_e8_t1_direction_pipeg30_half_s1", "| **0.520 ± 0.062** | 0.488 ± 0.062 |"),
    "ppo_e8_t1_direction_pipeg30_half_s1_agent_sampled": ("ppo_e8_t1_direction_pipeg30_half_s1", "| 0.488 ± 0.062 | + 15"),
    "easy_pipe45_direction_s0_agent": ("pipe45_direction_s0", "| **0.367 ± 0.059** | 0.297 ± 0.056 |"),
    "easy_ppo_e8_t2_direction_pipe45_easy_s0_agent": ("ppo_e8_t2_direction_pipe45_easy_s0", "| **0.434 ± 0.061** | **0.469 ± 0.062** |"),
    "easy_ppo_e8_t2_direction_pipe45_easy_s0_agent_sampled": ("ppo_e8_t2_direction_pipe45_easy_s0", "| **0.469 ± 0.062** | against its start: 50 / 33 argmax"),
    # the look teacher (--bc-teacher look) on seed 0's grouped-recipe direction encoder, then PPO half as long
    "ppo_e8_t1_direction_look_half_s0_agent": ("ppo_e8_t1_direction_look_half_s0", "| **0.578 ± 0.061** | 0.516 ± 0.062 |"),
    "ppo_e8_t1_direction_look_half_s0_agent_sampled": ("ppo_e8_t1_direction_look_half_s0", "| 0.516 ± 0.062 |"),
    "ppo_e8_t1_direction_look_half_s0_user": ("ppo_e8_t1_direction_look_half_s0", "| 0.289 ± 0.056 (35 / 34"),
    "ppo_e8_t1_direction_look_half_s0_extreme": ("ppo_e8_t1_direction_look_half_s0", "| 0.098 ± 0.037 (15 / 13"),
    # the dense head's pose-trained encoder cloned from the look teacher, then PPO (281,600 steps)
    "ppo_e8_t1_dense_look_s0_agent": ("ppo_e8_t1_dense_look_s0", "| **0.609 ± 0.060** | **0.617 ± 0.060** |"),
    "ppo_e8_t1_dense_look_s0_agent_sampled": ("ppo_e8_t1_dense_look_s0", "| **0.617 ± 0.060** | against its clone 42 / 26"),
    "ppo_e8_t1_dense_look_s0_user": ("ppo_e8_t1_dense_look_s0", "| 0.406 ± 0.061 (34 / 40"),
    "ppo_e8_t1_dense_look_s0_extreme": ("ppo_e8_t1_dense_look_s0", "| 0.160 ± 0.045 (17 / 18"),
    # seed 3's 8-pass pose recipe, PPO with the encoder frozen; seed 0 with the encoder at x0.03 over 281,600 steps
    "ppo_e8_t1_direction_frozen_bf16_1ep_half_s3_agent": ("ppo_e8_t1_direction_frozen_bf16_1ep_half_s3", "| **0.520 ± 0.062** | 0.473 ± 0.062 |"),
    "ppo_e8_t1_direction_frozen_bf16_1ep_half_s3_agent_sampled": ("ppo_e8_t1_direction_frozen_bf16_1ep_half_s3", "| 0.473 ± 0.062 | against its clone 43 / 29"),
    "ppo_e8_t2_direction_e2e_bf16_1ep_enc0.03_full_s0_agent": ("ppo_e8_t2_direction_e2e_bf16_1ep_enc0.03_full_s0", "| **0.555 ± 0.061** | **0.527 ± 0.062** |"),
    "ppo_e8_t2_direction_e2e_bf16_1ep_enc0.03_full_s0_agent_sampled": ("ppo_e8_t2_direction_e2e_bf16_1ep_enc0.03_full_s0", "| **0.527 ± 0.062** | against 140,800 steps 45 / 28"),
    # the two bfloat16 policies evaluated in float32 (--agent-option precision=float32): these replay on any CPU
    "ppo_e8_t1_direction_frozen_bf16_1ep_half_s3_agent_float32": ("ppo_e8_t1_direction_frozen_bf16_1ep_half_s3", "| 0.520 ± 0.062 | 10 / 10 (43) |"),
    "ppo_e8_t2_direction_e2e_bf16_1ep_enc0.03_full_s0_agent_float32": ("ppo_e8_t2_direction_e2e_bf16_1ep_enc0.03_full_s0", "| 0.551 ± 0.061 | 6 / 7 (32) |"),
    # seed 2's bfloat16 clone (rebuilt on an AMD EPYC), PPO with two float32 epochs at the full 281,600 steps (float32: replays anywhere)
    "ppo_e8_t1_direction_frozen_f32_2ep_full_bf16s2_ppo2_agent": ("ppo_e8_t1_direction_frozen_f32_2ep_full_bf16s2_ppo2", "| **0.531 ± 0.062** | **0.523 ± 0.062** | 27 / 16"),
    "ppo_e8_t1_direction_frozen_f32_2ep_full_bf16s2_ppo2_agent_sampled": ("ppo_e8_t1_direction_frozen_f32_2ep_full_bf16s2_ppo2", "| **0.523 ± 0.062** | 27 / 16 (p = 0.126) |"),
    # PPO on the default ImageNav-ProcHouse-v0, from the Easy policy above
    "default_ppo_e8_t2_direction_default_s0_agent_sampled": ("ppo_e8_t2_direction_default_s0", "| **0.062 ± 0.030** | 13 / 3 (p = 0.021) |"),
    "default_ppo_e8_t2_direction_easy_s1_agent": ("ppo_e8_t2_direction_easy_s1", "| 0.051 ± 0.027 | 0.037 | 10 / 5 against the Near BC (p = 0.30) |"),
    "default_ppo_e8_t2_dense_frzenc_easy_s0_agent": ("ppo_e8_t2_dense_frzenc_easy_s0", "| **0.141 ± 0.043** | 0.097 |"),
}
#: evaluations that read the committed file itself (its export, or the committed BC start): their
#: ``run.json`` records that file's SHA-256. The others were made from the run's full checkpoint.
SAME_BYTES = {run for run in EXPORTED if run.startswith(("easy_", "default_")) or run.endswith("_float32")} | {
    "ppo_e8_t1_direction_look_half_s0_user", "ppo_e8_t1_direction_look_half_s0_extreme",
    "ppo_e8_t1_dense_look_s0_user", "ppo_e8_t1_dense_look_s0_extreme"}


@pytest.mark.parametrize("run", sorted(EXPORTED))
def test_the_page_states_the_256_episode_rows_of_an_exported_checkpoint(run):
    folder = EVAL256 / run
    meta = json.loads((folder / "run.json").read_text())
    assert meta["agent"] == "rsrnav" and meta["episodes"] == 256 and meta["env_kwargs"]["num_scenes"] == 40
    assert meta["agent_options"].get("deterministic", True) == (not run.endswith("_sampled"))
    summary = json.loads((folder / "summary.json").read_text())
    assert len(_records(folder)) == 256
    checkpoint, row = EXPORTED[run]
    if run in SAME_BYTES:
        assert meta["checkpoint_sha256"] == hashlib.sha256((CHECKPOINTS / f"{checkpoint}.zip").read_bytes()).hexdigest()
    assert row in _page_text()
    assert row.strip("|* ").startswith(f"{summary['success']['mean']:.3f} ± {summary['success']['ci95']:.3f}")


def _precision(checkpoint: str) -> str:
    """The policy's compute precision, from the checkpoint's JSON settings (nothing unpickled)."""
    from navgym.agents.rsrnav.model import read_checkpoint_meta

    return read_checkpoint_meta(CHECKPOINTS / f"{checkpoint}.zip")["config"].get("precision", "float32")


def _has_amx() -> bool:
    """Whether this CPU has AMX tiles for bfloat16 (Linux /proc/cpuinfo flags; False where unreadable)."""
    try:
        return "amx_bf16" in Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False


#: bfloat16 policies replay step for step only on the kind of CPU their rows were evaluated on (an
#: Intel Xeon with AMX): on an AMD EPYC (AVX-512 BF16) one took another path in 18 of 256 episodes
#: (docs/results/rsrnav.md, "Rebuilding the top rows"); float32 policies replay there exactly.
BFLOAT16_REPLAY_CPU = "an Intel CPU with AMX (amx_bf16)"


@pytest.mark.slow
@pytest.mark.parametrize("run", sorted(EXPORTED))
def test_an_exported_checkpoint_replays_its_256_episode_run(run):
    from navgym.evaluation import EvalSpec, evaluate

    folder = EVAL256 / run
    meta = json.loads((folder / "run.json").read_text())
    checkpoint, _ = EXPORTED[run]
    # an evaluation may override the trained precision (--agent-option precision=float32)
    if (meta["agent_options"].get("precision") or _precision(checkpoint)) == "bfloat16" and not _has_amx():
        pytest.skip(f"{checkpoint} runs in bfloat16 and its rows were evaluated on {BFLOAT16_REPLAY_CPU}; "
                    "bfloat16 kernels of other CPUs round differently, so its actions need not replay here")
    options = {k: v for k, v in meta["env_kwargs"].items() if k not in ("task", "dataset", "difficulty")}
    spec = EvalSpec(meta["env_id"], "rsrnav", meta["split"], options,
                    {**meta["agent_options"], "checkpoint": str(CHECKPOINTS / f"{checkpoint}.zip")}, meta["goal_camera"])
    agent, env = spec.build()
    try:
        got = evaluate(env, agent, EPISODES, seed=meta["seed"], progress=False).records
    finally:
        env.close()
    for want, have in zip(_records(folder)[:EPISODES], got, strict=True):
        assert have["episode_id"] == want["episode_id"]
        for key in COMPARED:
            assert have[key] == pytest.approx(want[key], rel=1e-6, abs=1e-6), (want["episode_id"], key)


def test_a_bfloat16_policy_can_be_evaluated_in_float32():
    """``precision="float32"`` (``--agent-option precision=float32``) runs a bfloat16-trained policy
    in float32, the same weights; a bad value names the parameter; the default keeps bfloat16."""
    import numpy as np
    import torch

    from navgym.agents import make
    from navgym.agents.rsrnav.encoders import RSRNavEncoder
    from navgym.agents.rsrnav.model import load_policy
    from navgym.errors import InvalidArgumentError

    checkpoint = CHECKPOINTS / "ppo_e8_t1_direction_frozen_bf16_1ep_half_s3.zip"
    assert _precision(checkpoint.stem) == "bfloat16"

    def encoders(policy):
        return [m.precision for m in policy.modules() if isinstance(m, RSRNavEncoder)]

    trained, meta = load_policy(checkpoint)
    as32, meta32 = load_policy(checkpoint, precision="float32")
    assert set(encoders(trained)) == {"bfloat16"} and set(encoders(as32)) == {"float32"}
    assert "trained_precision" not in meta
    assert meta32["trained_precision"] == "bfloat16" and meta32["config"]["precision"] == "float32"
    for (name, a), (_, b) in zip(trained.state_dict().items(), as32.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    # the two compute differently (bfloat16 rounds), on the same observation
    rng = np.random.default_rng(0)
    obs = {key: rng.integers(0, 256, size=(1, *shape), dtype=np.uint8) for key, shape in meta["observation_shapes"].items()}
    with torch.no_grad():
        f16 = trained.extract_features(trained.obs_to_tensor(obs)[0], trained.pi_features_extractor)
        f32 = as32.extract_features(as32.obs_to_tensor(obs)[0], as32.pi_features_extractor)
    assert f16.shape == f32.shape and not torch.equal(f16, f32)
    assert torch.allclose(f16.float(), f32, atol=0.1 * float(f32.abs().max()) + 1e-3)
    agent = make("rsrnav", checkpoint=str(checkpoint), precision="float32")
    assert set(encoders(agent.model)) == {"float32"}
    with pytest.raises(InvalidArgumentError, match="precision='half'"):
        make("rsrnav", checkpoint=str(checkpoint), precision="half")
