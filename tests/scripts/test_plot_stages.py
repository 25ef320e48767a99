"""experiments/plot_stages.py draws the results page's before/after-PPO picture from committed
evaluation folders, and refuses pairs of other episodes or malformed pairs."""

from __future__ import annotations

from pathlib import Path

import pytest
from _experiments import load

ROOT = Path(__file__).resolve().parents[2]
EVALS = ROOT / "docs" / "results" / "rsrnav" / "eval256"


def _script():
    return load("plot_stages")


def test_success_reads_the_committed_summary():
    mean, ci, meta = _script().success(EVALS, "ppo_e8_t2_dense_frzenc_s0_agent")
    assert f"{mean:.3f} ± {ci:.3f}" == "0.582 ± 0.061" and meta["episodes"] == 256


def test_a_picture_of_committed_pairs(tmp_path):
    pytest.importorskip("matplotlib")
    out = _script().plot(EVALS, ["dense s0=bc_near_dense_pose240_frzenc_agent:ppo_e8_t2_dense_frzenc_s0_agent"],
                         tmp_path / "stages.png", random_run="random_agent", title="t")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_pairs_of_other_episodes_and_malformed_pairs_are_refused(tmp_path):
    pytest.importorskip("matplotlib")
    script = _script()
    with pytest.raises(SystemExit, match="other episodes"):  # a Near clone against an Easy PPO policy
        script.plot(EVALS, ["x=bc_near_dense_pose240_frzenc_agent:easy_ppo_e8_t2_dense_frzenc_easy_s0_agent"], tmp_path / "a.png")
    with pytest.raises(SystemExit, match="LABEL=CLONE_RUN:PPO_RUN"):
        script.plot(EVALS, ["only_one_run"], tmp_path / "b.png")
    with pytest.raises(SystemExit, match="does not exist"):
        script.plot(EVALS, ["x=no_such_run:random_agent"], tmp_path / "c.png")
    assert not any(tmp_path.iterdir())


def test_three_stages_per_line_and_a_line_with_another_count_is_refused(tmp_path):
    pytest.importorskip("matplotlib")
    script = _script()
    stages = ["clone", "PPO 140,800 steps", "PPO 281,600 steps"]
    line = "seed 3=pipeg30_direction_s3_agent:ppo_e8_t1_direction_pipeg30_half_s3_agent:ppo_e8_t1_direction_pipeg30_full_s3_agent"
    out = script.plot(EVALS, [line], tmp_path / "three.png", stages=stages)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SystemExit, match=r"LABEL=RUN:RUN:RUN \(3 evaluation folder names"):  # two runs, three stages
        script.plot(EVALS, ["x=pipeg8p_bf16_direction_s3_agent:ppo_e8_t1_direction_bf16pose_half_s3_agent"], tmp_path / "a.png", stages=stages)
    with pytest.raises(SystemExit, match="at least two stages"):
        script.plot(EVALS, ["x=pipeg8p_bf16_direction_s3_agent"], tmp_path / "b.png", stages=["clone"])
    with pytest.raises(SystemExit, match="other episodes"):  # the third run of other episodes
        script.plot(EVALS, ["x=bc_near_dense_pose240_frzenc_agent:ppo_e8_t2_dense_frzenc_s0_agent:easy_ppo_e8_t2_dense_frzenc_easy_s0_agent"],
                    tmp_path / "c.png", stages=stages)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["three.png"]


def test_the_command_line_names_its_stages(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    script = _script()
    out = tmp_path / "cli.png"
    script.main(["--stage", "clone", "--stage", "half", "--stage", "full", "--out", str(out),
                 "s3=pipeg30_direction_s3_agent:ppo_e8_t1_direction_pipeg30_half_s3_agent:ppo_e8_t1_direction_pipeg30_full_s3_agent"])
    assert out.is_file() and str(out) in capsys.readouterr().out
    with pytest.raises(SystemExit):
        script.main(["--stage", "clone", "--stage", " ", "--out", str(tmp_path / "x.png"), "x=a:b"])
    assert "empty stage name" in capsys.readouterr().err
