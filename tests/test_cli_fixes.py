"""The navgym command: Python-literal option values, and what ``navgym list`` says each id needs."""

from __future__ import annotations

import json
import os

import gymnasium as gym
import numpy as np
import pytest
from typer.testing import CliRunner

import navgym  # noqa: F401  (registers the envs)
from navgym.cli import _parse_options, app
from navgym.envs.registration import env_ids


def test_option_values_may_be_python_literals_and_plain_strings_stay_strings():
    parsed = _parse_options([
        "resolution=(61,97)", "size=(96, 128)", "nested={'a': [1, (2, 3)]}", "count=1_000",
        "json=[61,97]", "flag=true", "body=aliengo", "none=None", "quoted='x'", "call=__import__('os').getcwd()",
        "text=\"(1,2)\"",
    ], "--env-option")
    assert parsed["resolution"] == (61, 97) and parsed["size"] == (96, 128)
    assert parsed["nested"] == {"a": [1, (2, 3)]} and parsed["count"] == 1000
    assert parsed["json"] == [61, 97] and parsed["flag"] is True  # JSON first, as before
    assert parsed["body"] == "aliengo" and parsed["none"] == "None" and parsed["quoted"] == "'x'"
    assert parsed["call"] == "__import__('os').getcwd()"  # parsed, never evaluated: a string
    assert parsed["text"] == "(1,2)"  # a JSON string stays that string
    from navgym.core.options import key_values, option_value  # the scripts' parser: the same values

    assert key_values(["resolution=(61,97)", "body=aliengo"]) == {"resolution": (61, 97), "body": "aliengo"}
    assert option_value("__import__('os').getcwd()") == "__import__('os').getcwd()"


def test_evaluate_takes_the_resolution_its_error_message_shows(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, [
        "evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random", "--episodes", "1", "--out", str(out),
        "--env-option", "resolution=(61,97)", "--env-option", "num_scenes=1", "--env-option", "episodes_per_scene=2",
    ])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["env_kwargs"]["resolution"] == [61, 97]


def test_list_says_an_id_with_another_simulator_needs_it():
    result = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    other = {env_id: gym.spec(env_id).kwargs["sim"] for env_id in env_ids() if gym.spec(env_id).kwargs.get("sim", "embedded") != "embedded"}
    assert "MultiGoalVLN-AirSim-v0" in other
    for env_id, sim in other.items():
        assert "yes" not in lines[env_id] and f"needs sim={sim!r}" in lines[env_id], lines[env_id]
    assert "AirSim server" in lines["MultiGoalVLN-AirSim-v0"] and "navgym airsim-server" in lines["MultiGoalVLN-AirSim-v0"]
    assert "yes (embedded, generated)" in lines["MultiGoalVLN-ProcHouse-v0"]


def test_render_frames_have_a_capped_view_width_and_ordinary_frames_are_unchanged():
    """``--video`` writes render() frames: a (4, 1000) camera gave a 64,260-pixel-wide frame."""
    from PIL import Image

    from navgym.envs.visualize import MAX_VIEW_ASPECT, draw_topdown, side_by_side

    env = gym.make("PointNav-ProcHouse-v0", resolution=(4, 1000), render_mode="rgb_array", num_scenes=1, episodes_per_scene=2)
    try:
        env.reset(seed=0)
        frame = env.render()
        sim = env.unwrapped.sim
        agent = sim.get_agent_state()
        top = draw_topdown(sim.topdown_map(agent.position[1]), [], np.zeros((0, 3)), agent, size=256)
        assert frame.shape == (256, MAX_VIEW_ASPECT * 256 + 4 + top.shape[1], 3)
        rng = np.random.default_rng(0)
        for shape in ((96, 128), (32, 32), (64, 256), (480, 640), (128, 96)):  # up to 4:1: as before
            view = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
            got = side_by_side(view, sim, [], np.zeros((0, 3)), agent)
            width = round(shape[1] * 256 / shape[0])
            before = np.asarray(Image.fromarray(view).resize((width, 256), Image.NEAREST))
            assert got.shape == (256, width + 4 + top.shape[1], 3)
            np.testing.assert_array_equal(got[:, :width], before)
            np.testing.assert_array_equal(got[: top.shape[0], width + 4 :], top)
        for shape in ((4, 1000), (1000, 4), (1, 5000)):  # wider than 4:1 scaled down on both sides
            view = np.zeros((*shape, 3), dtype=np.uint8)
            got = side_by_side(view, sim, [], np.zeros((0, 3)), agent)
            assert got.shape[0] == 256 and got.shape[1] <= MAX_VIEW_ASPECT * 256 + 4 + top.shape[1]
            black = (got[:, : MAX_VIEW_ASPECT * 256] == 0).all(axis=2)
            assert black.any() and black.sum(axis=1).max() <= MAX_VIEW_ASPECT * 256
    finally:
        env.close()


def test_evaluating_a_damaged_checkpoint_is_one_line_naming_the_option(tmp_path):
    """A checkpoint whose policy.pth fails its CRC check (a bad copy): before, BadZipFile's traceback."""
    import os
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    pytest.importorskip("sb3_contrib")
    source = Path(__file__).resolve().parents[1] / "docs" / "results" / "rsrnav" / "checkpoints" / "bc_easy_dense_l1_view.zip"
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as archive:
        offset = archive.getinfo("policy.pth").header_offset
    data[offset + 300] ^= 0xFF
    damaged = tmp_path / "checkpoint.zip"
    damaged.write_bytes(bytes(data))
    result = subprocess.run(
        [sys.executable, "-m", "navgym.cli", "evaluate", "--env", "ImageNav-ProcHouseNear-v0", "--agent", "rsrnav", "--checkpoint", str(damaged),
         "--episodes", "1", "--env-option", "num_scenes=1"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "TQDM_DISABLE": "1", "COLUMNS": "250"},
    )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "--checkpoint" in line and "damaged" in line and "policy.pth" in line, line


def test_workers_without_ray_is_refused_and_a_grounding_checkpoint_hint_names_its_script(tmp_path):
    """``--workers 4`` without ``--ray`` was silently ignored (the run was serial); a missing
    ``--checkpoint`` for dual-heatmap pointed to a training run's checkpoint.zip, not the .pt
    that scripts/train_grounding.py writes."""
    runner = CliRunner()
    result = runner.invoke(app, ["evaluate", "--env", "ImageNav-ProcHouse-v0", "--agent", "random", "--workers", "4"], env={"COLUMNS": "250"})
    assert result.exit_code == 2 and "--workers 4" in result.output and "--ray" in result.output, result.output
    missing = tmp_path / "heatmap.pt"
    for agent, hint in (("dual-heatmap", "scripts/train_grounding.py"), ("rsrnav", "checkpoint.zip a training run wrote")):
        result = runner.invoke(app, ["evaluate", "--env", "SemanticNav-ProcHouse-v0", "--agent", agent, "--checkpoint", str(missing)], env={"COLUMNS": "250"})
        assert result.exit_code == 2 and "does not exist" in result.output and hint in result.output, (agent, result.output)


def test_train_prints_an_evaluate_command_with_the_runs_env_options():
    """Old code printed `--env ID --agent rsrnav --checkpoint ...` only: for a run at another
    resolution that command was refused by the agent (the checkpoint's image size)."""
    import shlex
    from pathlib import Path

    from navgym.cli import _evaluate_command

    command = _evaluate_command(
        "ImageNav-ProcHouseNear-v0", Path("/runs/x y/checkpoint.zip"), "user",
        ["resolution=64", "num_scenes=80", 'sim_options={"render_backend": "raster"}'], ["num_scenes=10"],
    )
    words = shlex.split(command)
    assert words[:8] == ["navgym", "evaluate", "--env", "ImageNav-ProcHouseNear-v0", "--agent", "rsrnav", "--checkpoint", "/runs/x y/checkpoint.zip"]
    assert words[8:10] == ["--goal-camera", "user"]
    options = [words[i + 1] for i, word in enumerate(words) if word == "--env-option"]
    assert options == ["resolution=64", "num_scenes=10", 'sim_options={"render_backend": "raster"}']  # the val env's: --eval-env-option wins
    assert "--goal-camera" not in _evaluate_command("ImageNav-ProcHouseNear-v0", Path("c.zip"), "agent", [], [])


def test_train_says_when_nothing_was_trained_instead_of_nan_steps_per_second():
    from pathlib import Path

    from navgym.cli import _trained_line
    from navgym.training.args import TrainResult

    def result(start, end, seconds):
        return TrainResult(Path("run"), Path("run/checkpoint.zip"), end, start, 1.0, seconds, [])

    assert _trained_line(result(0, 256, 2.0), 256) == "trained 256 steps (0 -> 256) in 2 s (128.0 steps/s)"
    assert _trained_line(result(0, 0, 0.0), 0) is None  # --pretrain with --timesteps 0: no PPO was asked for
    line = _trained_line(result(384, 384, 0.0), 256)  # --resume with --timesteps below the run's steps
    assert "nan" not in line and "384 steps" in line and "--timesteps is 256" in line


@pytest.mark.parametrize("team", [False, True])
def test_evaluate_no_progress_draws_no_bar(tmp_path, team):
    agent = "random,random" if team else "random"
    args = ["evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", agent, "--episodes", "2", "--env-option", "resolution=32",
            "--env-option", "num_scenes=1", "--env-option", "episodes_per_scene=2"]
    before = os.environ.get("TQDM_DISABLE")
    quiet = CliRunner().invoke(app, [*args, "--no-progress"])
    assert quiet.exit_code == 0, quiet.output
    assert "ep/s" not in quiet.output and "SR" in quiet.output
    assert os.environ.get("TQDM_DISABLE") == before  # --no-progress hid the bars for its own command only
    shown = CliRunner().invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert "ep/s" in shown.output  # the bar is on (CliRunner mixes stderr into output)


def _one_episode_root(tmp_path, mesh_bytes: bytes | None = None, mesh=None, start=(1.0, 0.0, 1.0)):
    """A data root with one Gibson-style scene (the given bytes, or a trimesh mesh written as
    y-up .glb) and one PointNav episode in it."""
    from tests.datasets._episode_files import write_habitat_episodes

    scene = tmp_path / "scene_datasets" / "gibson" / "Tiny.glb"
    scene.parent.mkdir(parents=True)
    if mesh is not None:
        mesh.export(scene)
    else:
        scene.write_bytes(mesh_bytes)
    write_habitat_episodes(tmp_path, "pointnav", "gibson", [{
        "episode_id": "0", "scene_id": "data/scene_datasets/gibson/Tiny.glb", "start_position": list(start),
        "start_rotation": [0, 0, 0, 1], "info": {"geodesic_distance": 1.0}, "goals": [{"position": [2.0, 0.0, 1.0], "radius": None}],
    }])
    return tmp_path


def test_a_scene_that_is_not_a_mesh_or_has_no_floor_is_a_clean_error(tmp_path, capsys):
    """A text file named .glb: one error line naming the file, exit code 2 (was a long traceback).
    Walls without a floor: the episode cannot start, so it is skipped, and an evaluation in which
    every episode was skipped exits 1 saying so (was 0, with 'episodes 0')."""
    import trimesh

    from navgym.cli import main

    def run(root):
        with pytest.raises(SystemExit) as exited:
            main(["evaluate", "--env", "PointNav-Gibson-v0", "--agent", "random", "--episodes", "1", "--no-progress",
                  "--env-option", f"data_dir={root}", "--env-option", 'sim_options={"up_axis": "y"}'])
        captured = capsys.readouterr()
        return exited.value.code, captured.out + captured.err

    code, output = run(_one_episode_root(tmp_path / "text", mesh_bytes=b"not a mesh at all\n"))
    assert code == 2 and "Cannot parse mesh file" in output and "Tiny.glb" in output and "Traceback" not in output, output
    walls = trimesh.util.concatenate([trimesh.creation.box((0.1, 2.5, 4.0), trimesh.transformations.translation_matrix((x, 1.25, 2.0)))
                                      for x in (0.0, 4.0)])
    code, output = run(_one_episode_root(tmp_path / "walls", mesh=walls, start=(2.0, 0.0, 2.0)))
    assert code == 1 and "every episode was skipped" in output and "Traceback" not in output, output
